//! What can be learnt from a client certificate without any network: its names and validity, whether a
//! private key belongs to it, and whether a CA signed it — for a fetched [`crate::ClusterCert`], a cached
//! one, or one in a kubeconfig file. Nothing here ever formats key material.

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

/// Why a certificate, key or CA could not be read. Messages name the part, never its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
#[non_exhaustive]
pub struct CertError(String);

impl CertError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        CertError(message.into())
    }
}

/// A parsed X.509 certificate (the first `CERTIFICATE` block of a PEM text), kept as DER.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der", &format_args!("<{} bytes>", self.der.len()))
            .finish()
    }
}

/// The facts a certificate states about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The subject, e.g. `CN=alice, O=system:masters`.
    pub subject: String,
    /// The issuer's name.
    pub issuer: String,
    /// The serial number, colon-separated hex.
    pub serial: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl Certificate {
    /// Reads the first `CERTIFICATE` block of `pem` (a certificate PEM, perhaps followed by others).
    pub fn from_pem(pem: &[u8]) -> Result<Self, CertError> {
        for block in Pem::iter_from_buffer(pem) {
            let block =
                block.map_err(|e| CertError::new(format!("the certificate is not PEM: {e}")))?;
            if block.label != "CERTIFICATE" {
                continue;
            }
            let certificate = Certificate {
                der: block.contents,
            };
            certificate.parsed()?;
            return Ok(certificate);
        }
        Err(CertError::new(
            "no CERTIFICATE block in the certificate data",
        ))
    }

    fn parsed(&self) -> Result<X509Certificate<'_>, CertError> {
        x509_parser::parse_x509_certificate(&self.der)
            .map(|(_, cert)| cert)
            .map_err(|e| CertError::new(format!("the certificate is not valid X.509: {e}")))
    }

    /// Names, serial and validity.
    pub fn facts(&self) -> Result<CertificateFacts, CertError> {
        let cert = self.parsed()?;
        let validity = cert.validity();
        Ok(CertificateFacts {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial: cert.raw_serial_as_string(),
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
        })
    }

    /// The end of validity.
    pub fn not_after(&self) -> Result<OffsetDateTime, CertError> {
        Ok(self.parsed()?.validity().not_after.to_datetime())
    }

    /// Whether the private key `key_pem` (PKCS#8, SEC1 or PKCS#1 PEM) is the one of this certificate: the
    /// public key derived from it equals the certificate's `SubjectPublicKeyInfo` key.
    pub fn matches_key(&self, key_pem: &str) -> Result<bool, CertError> {
        use rustls::pki_types::PrivateKeyDer;
        use rustls::pki_types::pem::PemObject as _;

        let unreadable = |e: &dyn fmt::Display| {
            CertError::new(format!(
                "the client key is not a private key this tool can read: {e}"
            ))
        };
        let der = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| unreadable(&e))?;
        let key = rustls::crypto::aws_lc_rs::sign::any_supported_type(&der)
            .map_err(|e| unreadable(&e))?;
        let public = key
            .public_key()
            .ok_or_else(|| unreadable(&"its public key cannot be derived"))?;
        // Both sides as SubjectPublicKeyInfo DER: the algorithm with its parameters, and the key bits.
        Ok(public.as_ref() == self.parsed()?.public_key().raw)
    }

    /// Whether one of the certificates in `ca_pem` (a PEM bundle) issued this certificate: its subject is
    /// this certificate's issuer and its key verifies this certificate's signature. Only direct issuance
    /// is checked: a chain through intermediates that are not in the bundle does not verify.
    pub fn verified_by(&self, ca_pem: &[u8]) -> Result<bool, CertError> {
        let cert = self.parsed()?;
        let mut found_any = false;
        for block in Pem::iter_from_buffer(ca_pem) {
            let block =
                block.map_err(|e| CertError::new(format!("the CA data is not PEM: {e}")))?;
            if block.label != "CERTIFICATE" {
                continue;
            }
            found_any = true;
            let (_, ca) = x509_parser::parse_x509_certificate(&block.contents)
                .map_err(|e| CertError::new(format!("a CA certificate is not valid X.509: {e}")))?;
            if ca.subject().as_raw() == cert.issuer().as_raw()
                && cert.verify_signature(Some(ca.public_key())).is_ok()
            {
                return Ok(true);
            }
        }
        if found_any {
            Ok(false)
        } else {
            Err(CertError::new("no CERTIFICATE block in the CA data"))
        }
    }
}

/// RFC 3339 in UTC with whole seconds, e.g. `2025-03-01T12:00:00Z` (what kubectl and `date -u -Iseconds`
/// users expect; certificates carry whole seconds anyway).
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(cn: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn a_key_matches_its_certificate_and_no_other() {
        let (cert_a, key_a) = self_signed("a");
        let (_, key_b) = self_signed("b");
        let cert = Certificate::from_pem(cert_a.as_bytes()).unwrap();
        assert!(cert.matches_key(&key_a).unwrap());
        assert!(!cert.matches_key(&key_b).unwrap());
    }

    #[test]
    fn a_self_signed_certificate_verifies_itself_only() {
        let (cert_a, _) = self_signed("a");
        let (cert_b, _) = self_signed("b");
        let cert = Certificate::from_pem(cert_a.as_bytes()).unwrap();
        assert!(cert.verified_by(cert_a.as_bytes()).unwrap());
        assert!(!cert.verified_by(cert_b.as_bytes()).unwrap());
        let bundle = format!("{cert_b}{cert_a}");
        assert!(cert.verified_by(bundle.as_bytes()).unwrap());
    }

    #[test]
    fn errors_never_quote_the_key() {
        let (cert_a, key_a) = self_signed("a");
        let cert = Certificate::from_pem(cert_a.as_bytes()).unwrap();
        let broken = key_a.replace("PRIVATE KEY", "PRIVATE KEX");
        let err = cert
            .matches_key(&broken[..broken.len() / 2])
            .unwrap_err()
            .to_string();
        let body: String = key_a.lines().nth(1).unwrap().chars().take(16).collect();
        assert!(!err.contains(&body), "{err}");
        assert!(Certificate::from_pem(b"not pem").is_err());
    }

    #[test]
    fn facts_name_subject_and_validity() {
        let (cert_a, _) = self_signed("alice");
        let facts = Certificate::from_pem(cert_a.as_bytes())
            .unwrap()
            .facts()
            .unwrap();
        assert_eq!(facts.subject, "CN=alice");
        assert!(facts.not_before < facts.not_after);
        assert!(rfc3339(facts.not_after).ends_with('Z'));
    }
}

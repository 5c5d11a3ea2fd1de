//! Each cluster's certificate authority: created at start or kept in the state directory, it signs the
//! client certificates the API hands out and the server certificate of the cluster's API-server stub.

use std::fs;
use std::path::Path;

use cce_autopilot_kubeconfig::fs as files;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::error::{EmulatorError, Result};

/// The organisation (Kubernetes group) of every client certificate: the group bound to cluster-admin.
pub(crate) const CLIENT_GROUP: &str = "system:masters";
/// How far client certificates are backdated, for clients whose clock is a little behind.
pub(crate) const BACKDATE: Duration = Duration::minutes(1);
/// DNS names in every API-server certificate besides `127.0.0.1`.
pub(crate) const SERVER_DNS_NAMES: [&str; 5] = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
];
const CA_CERT_FILE: &str = "ca.crt";
const CA_KEY_FILE: &str = "ca.key";

/// A fresh client credential, as PEM text.
pub(crate) struct ClientCredential {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

/// A cluster CA: its signing key and its certificate.
pub(crate) struct ClusterCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
}

fn cert_error(what: impl Into<String>) -> impl FnOnce(rcgen::Error) -> EmulatorError {
    let what = what.into();
    move |source| EmulatorError::Certificate {
        what,
        source: Box::new(source),
    }
}

/// 16 random bytes, positive and never zero, as RFC 5280 asks of serial numbers.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&bytes)
}

/// Five calendar years later, at the same time of day (the model's rule: 29 February becomes 28 February).
pub(crate) fn five_years_after(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_date(cce_autopilot_model::five_years_after(t.date()))
}

impl ClusterCa {
    /// A new CA for `cluster_id`, valid from a day before `now` for ten years.
    pub(crate) fn generate(cluster_id: &str, now: OffsetDateTime) -> Result<Self> {
        let what = format!("the CA of cluster {cluster_id}");
        let key = KeyPair::generate().map_err(cert_error(&what))?;
        let mut params = CertificateParams::default();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3653);
        params.serial_number = Some(random_serial());
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "kubernetes");
        dn.push(DnType::OrganizationName, "cce-autopilot-emulator");
        dn.push(DnType::OrganizationalUnitName, cluster_id);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(cert_error(&what))?;
        Ok(Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA kept in `state_dir` for `cluster_id`, created (and written there) when absent.
    pub(crate) fn load_or_create(
        state_dir: &Path,
        cluster_id: &str,
        now: OffsetDateTime,
    ) -> Result<Self> {
        let dir = state_dir.join("clusters").join(cluster_id);
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => Self::load(&dir, &cert_path, &key_path),
            (false, false) => {
                create_private_dir(&dir)?;
                let ca = Self::generate(cluster_id, now)?;
                write_atomically(&key_path, ca.issuer.key().serialize_pem().as_bytes(), 0o600)?;
                write_atomically(&cert_path, ca.cert_pem.as_bytes(), 0o644)?;
                Ok(ca)
            }
            _ => Err(EmulatorError::CorruptState {
                path: dir,
                reason: format!("only one of {CA_CERT_FILE} and {CA_KEY_FILE} exists"),
            }),
        }
    }

    fn load(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<Self> {
        let read = |path: &Path| {
            fs::read_to_string(path).map_err(|source| EmulatorError::StateDir {
                path: path.to_owned(),
                source,
            })
        };
        let corrupt = |reason: String| EmulatorError::CorruptState {
            path: dir.to_owned(),
            reason,
        };
        let cert_pem = read(cert_path)?;
        let key_pem = read(key_path)?;
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| corrupt(format!("{CA_KEY_FILE} is not a PEM private key: {e}")))?;
        let cert_der = {
            use rustls::pki_types::pem::PemObject as _;
            CertificateDer::from_pem_slice(cert_pem.as_bytes())
                .map_err(|e| corrupt(format!("{CA_CERT_FILE} is not a PEM certificate: {e}")))?
        };
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert_der)
            .map_err(|e| corrupt(format!("{CA_CERT_FILE} does not parse: {e}")))?;
        if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(corrupt(format!(
                "{CA_KEY_FILE} is not the key of {CA_CERT_FILE}"
            )));
        }
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)
            .map_err(|e| corrupt(format!("{CA_CERT_FILE} is not a usable CA: {e}")))?;
        Ok(Self {
            issuer,
            cert_pem,
            cert_der,
        })
    }

    /// The CA certificate, PEM.
    pub(crate) fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub(crate) fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// A new client key and certificate for `common_name`, valid from `not_before` to `not_after`.
    pub(crate) fn issue_client(
        &self,
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<ClientCredential> {
        let what = "a client certificate";
        let key = KeyPair::generate().map_err(cert_error(what))?;
        let mut params = CertificateParams::default();
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(random_serial());
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, CLIENT_GROUP);
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(cert_error(what))?;
        Ok(ClientCredential {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A server certificate for the API-server stub: `127.0.0.1` and the in-cluster names, valid from a
    /// day before `now` for a year. Never the public address, as on the real service.
    pub(crate) fn issue_server(
        &self,
        now: OffsetDateTime,
    ) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
        let what = "the API-server certificate";
        let key = KeyPair::generate().map_err(cert_error(what))?;
        let mut params = CertificateParams::default();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
        params.serial_number = Some(random_serial());
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "kube-apiserver");
        params.distinguished_name = dn;
        params.subject_alt_names = vec![SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into())];
        for name in SERVER_DNS_NAMES {
            let dns = name.try_into().map_err(cert_error(what))?;
            params.subject_alt_names.push(SanType::DnsName(dns));
        }
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(cert_error(what))?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((cert.der().clone(), key_der))
    }
}

fn state_error(path: &Path) -> impl FnOnce(std::io::Error) -> EmulatorError {
    let path = path.to_owned();
    move |source| EmulatorError::StateDir { path, source }
}

/// Creates `dir` and its parents; the directories this creates are private to the user.
fn create_private_dir(dir: &Path) -> Result<()> {
    files::ensure_private_dir(dir).map_err(state_error(dir))
}

/// Writes so that a crash never leaves half a key behind; the file never has a mode wider than `mode`.
fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    files::write_file_atomic(path, contents, mode).map_err(state_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn five_years_counts_calendar_years() {
        assert_eq!(
            five_years_after(datetime!(2026-11-28 12:00 UTC)),
            datetime!(2031-11-28 12:00 UTC)
        );
        assert_eq!(
            five_years_after(datetime!(2028-02-29 00:00 UTC)),
            datetime!(2033-02-28 00:00 UTC)
        );
        let span =
            five_years_after(datetime!(2027-03-01 00:00 UTC)) - datetime!(2027-03-01 00:00 UTC);
        assert_eq!(span.whole_days(), 1827, "2028 and 2032 are leap years");
    }

    #[test]
    fn client_certificates_name_the_user_and_group() {
        let now = OffsetDateTime::now_utc();
        let ca = ClusterCa::generate("c1", now).unwrap();
        let issued = ca
            .issue_client("AK123", now - BACKDATE, now + Duration::days(3))
            .unwrap();
        let der = {
            use rustls::pki_types::pem::PemObject as _;
            CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap()
        };
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let subject = cert.subject().to_string();
        assert!(subject.contains("CN=AK123"), "{subject}");
        assert!(subject.contains("O=system:masters"), "{subject}");
        assert!(issued.key_pem.contains("PRIVATE KEY"));
    }

    #[test]
    fn state_dir_keeps_the_ca_and_protects_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let first = ClusterCa::load_or_create(dir.path(), "c1", now).unwrap();
        let second = ClusterCa::load_or_create(dir.path(), "c1", now).unwrap();
        assert_eq!(first.cert_pem(), second.cert_pem());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let key = dir.path().join("clusters/c1/ca.key");
            let mode = fs::metadata(key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // The reloaded CA signs certificates that chain to the same certificate.
        let issued = second
            .issue_client("u", now - BACKDATE, now + Duration::days(1))
            .unwrap();
        let der = {
            use rustls::pki_types::pem::PemObject as _;
            CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap()
        };
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let (_, ca) = x509_parser::parse_x509_certificate(first.cert_der()).unwrap();
        assert_eq!(cert.issuer(), ca.subject());
    }

    #[test]
    fn a_half_written_state_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let cluster_dir = dir.path().join("clusters/c1");
        fs::create_dir_all(&cluster_dir).unwrap();
        fs::write(cluster_dir.join(CA_CERT_FILE), "x").unwrap();
        let err = ClusterCa::load_or_create(dir.path(), "c1", OffsetDateTime::now_utc())
            .err()
            .unwrap();
        assert!(matches!(err, EmulatorError::CorruptState { .. }), "{err}");
    }
}

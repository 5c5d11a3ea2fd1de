//! Signing (steps 7-9): the string to sign, the HMAC key, and the `Authorization` header.

use std::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{
    HEADER_SDK_DATE, SDK_HMAC_SHA256, SecretKey, SignError, SignableRequest, V11_HMAC_SHA256,
    canonical_request, find_header, parse_sdk_date, signed_header_names,
};

/// The signature algorithm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// `SDK-HMAC-SHA256`: the SK itself is the HMAC key. What CCE uses.
    #[default]
    SdkHmacSha256,
    /// `V11-HMAC-SHA256`: the HMAC key is derived from the SK for one day, region and service.
    V11HmacSha256 {
        /// The region, e.g. `cn-north-4`.
        region: String,
        /// The service, e.g. `cce`.
        service: String,
    },
}

impl Algorithm {
    /// The name that opens the string to sign and the `Authorization` header.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SdkHmacSha256 => SDK_HMAC_SHA256,
            Self::V11HmacSha256 { .. } => V11_HMAC_SHA256,
        }
    }
}

/// Signs requests with one AK/SK pair.
///
/// `Debug` shows the access key and algorithm, never the secret key.
#[derive(Clone)]
pub struct Signer {
    ak: String,
    sk: SecretKey,
    algorithm: Algorithm,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("ak", &self.ak)
            .field("sk", &self.sk)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

/// The result of signing: the header to send, and the intermediate texts for debugging a mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The `Authorization` header value.
    pub authorization: String,
    /// The signed header names joined by `;`.
    pub signed_headers: String,
    /// The canonical request (step 6).
    pub canonical_request: String,
    /// The string to sign (step 7).
    pub string_to_sign: String,
    /// The signature, lower-case hex.
    pub signature: String,
}

impl Signer {
    /// A signer using `SDK-HMAC-SHA256`.
    pub fn new(ak: impl Into<String>, sk: impl Into<SecretKey>) -> Self {
        Self {
            ak: ak.into(),
            sk: sk.into(),
            algorithm: Algorithm::default(),
        }
    }

    /// Uses `algorithm` instead.
    pub fn with_algorithm(self, algorithm: Algorithm) -> Self {
        Self { algorithm, ..self }
    }

    /// The access key (AK).
    pub fn access_key(&self) -> &str {
        &self.ak
    }

    /// The algorithm used.
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }

    /// Signs `req` over all of its headers (see [`signed_header_names`]).
    ///
    /// The `X-Sdk-Date` value (format `YYYYMMDDTHHMMSSZ`) MUST already be among `req.headers`: this
    /// crate has no clock. Send every signed header with exactly the value given here, plus the
    /// returned [`Signature::authorization`] as `Authorization`.
    pub fn sign(&self, req: &SignableRequest<'_>) -> Result<Signature, SignError> {
        let sdk_date = find_header(req.headers, HEADER_SDK_DATE)
            .ok_or(SignError::MissingDate)?
            .trim();
        parse_sdk_date(sdk_date)?;
        check_credential_part("access key", &self.ak)?;
        if let Algorithm::V11HmacSha256 { region, service } = &self.algorithm {
            check_credential_part("region", region)?;
            check_credential_part("service", service)?;
        }

        let names = signed_header_names(req.headers);
        let canonical_request = canonical_request(req, &names);
        let string_to_sign = string_to_sign(&self.algorithm, sdk_date, &canonical_request);
        let signature = crate::hex_text::lower_hex(
            &hmac(
                &self.ak,
                &self.sk,
                &self.algorithm,
                sdk_date,
                &string_to_sign,
            )
            .finalize()
            .into_bytes(),
        );
        let signed_headers = names.join(";");
        let credential = match &self.algorithm {
            Algorithm::SdkHmacSha256 => format!("Access={}", self.ak),
            Algorithm::V11HmacSha256 { region, service } => {
                format!(
                    "Credential={}/{}",
                    self.ak,
                    v11_info(sdk_date, region, service)
                )
            }
        };
        let authorization = format!(
            "{} {credential}, SignedHeaders={signed_headers}, Signature={signature}",
            self.algorithm.name()
        );
        Ok(Signature {
            authorization,
            signed_headers,
            canonical_request,
            string_to_sign,
            signature,
        })
    }
}

/// Rejects values that would make the `Authorization` header ambiguous to parse.
fn check_credential_part(field: &'static str, value: &str) -> Result<(), SignError> {
    let bad = |c: char| c.is_whitespace() || matches!(c, '/' | ',' | '=');
    if value.is_empty() || value.contains(bad) {
        return Err(SignError::InvalidCredential {
            field,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// The V11 credential scope `<YYYYMMDD>/<region>/<service>`; `sdk_date` must be valid.
pub(crate) fn v11_info(sdk_date: &str, region: &str, service: &str) -> String {
    format!("{}/{region}/{service}", &sdk_date[..8])
}

/// The `V11-HMAC-SHA256` HMAC key: lower-case hex of HKDF-SHA256(IKM = SK, salt = AK, `info`,
/// 32 bytes). The hex *text* is the key, so it is returned as a [`SecretKey`].
pub fn derive_v11_key(ak: &str, sk: &SecretKey, info: &str) -> SecretKey {
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(ak.as_bytes()), sk.expose().as_bytes())
        .expand(info.as_bytes(), &mut okm)
        .expect("32 bytes is far below HKDF-SHA256's maximum output of 8160 bytes");
    SecretKey::from(crate::hex_text::lower_hex(&okm))
}

/// Step 7: the string to sign; `sdk_date` must be valid.
pub(crate) fn string_to_sign(algorithm: &Algorithm, sdk_date: &str, canonical: &str) -> String {
    let hash = crate::hex_text::lower_hex(&Sha256::digest(canonical.as_bytes()));
    match algorithm {
        Algorithm::SdkHmacSha256 => format!("{SDK_HMAC_SHA256}\n{sdk_date}\n{hash}"),
        Algorithm::V11HmacSha256 { region, service } => format!(
            "{V11_HMAC_SHA256}\n{sdk_date}\n{}\n{hash}",
            v11_info(sdk_date, region, service)
        ),
    }
}

/// Step 8, up to the final digest: an HMAC over `string_to_sign` keyed for `algorithm`, for the
/// signer to finalize and the verifier to compare in constant time.
pub(crate) fn hmac(
    ak: &str,
    sk: &SecretKey,
    algorithm: &Algorithm,
    sdk_date: &str,
    string_to_sign: &str,
) -> Hmac<Sha256> {
    let derived;
    let key = match algorithm {
        Algorithm::SdkHmacSha256 => sk,
        Algorithm::V11HmacSha256 { region, service } => {
            derived = derive_v11_key(ak, sk, &v11_info(sdk_date, region, service));
            &derived
        }
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(date: &str) -> Vec<(String, String)> {
        vec![
            ("Host".to_owned(), "example.com".to_owned()),
            ("X-Sdk-Date".to_owned(), date.to_owned()),
        ]
    }

    fn request(headers: &[(String, String)]) -> SignableRequest<'_> {
        SignableRequest {
            method: "GET",
            path: "/",
            query: &[],
            headers,
            body: b"",
        }
    }

    #[test]
    fn sign_requires_the_date_header() {
        let headers = [("Host".to_owned(), "example.com".to_owned())];
        let err = Signer::new("ak", "sk")
            .sign(&request(&headers))
            .unwrap_err();
        assert_eq!(err, SignError::MissingDate);
    }

    #[test]
    fn sign_rejects_a_malformed_date() {
        let headers = headers("2026-11-28T12:00:00Z");
        let err = Signer::new("ak", "sk")
            .sign(&request(&headers))
            .unwrap_err();
        assert_eq!(
            err,
            SignError::InvalidDate("2026-11-28T12:00:00Z".to_owned())
        );
    }

    #[test]
    fn sign_rejects_credentials_that_break_the_header() {
        let headers = headers("20261128T120000Z");
        for (signer, field) in [
            (Signer::new("", "sk"), "access key"),
            (Signer::new("a,k", "sk"), "access key"),
            (
                Signer::new("ak", "sk").with_algorithm(Algorithm::V11HmacSha256 {
                    region: "cn/north".to_owned(),
                    service: "cce".to_owned(),
                }),
                "region",
            ),
            (
                Signer::new("ak", "sk").with_algorithm(Algorithm::V11HmacSha256 {
                    region: "cn-north-4".to_owned(),
                    service: "c ce".to_owned(),
                }),
                "service",
            ),
        ] {
            match signer.sign(&request(&headers)) {
                Err(SignError::InvalidCredential { field: got, .. }) => assert_eq!(got, field),
                other => panic!("expected InvalidCredential for {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn sign_uses_the_last_duplicate_header_value() {
        let mut dup = headers("20261128T120000Z");
        dup.insert(0, ("host".to_owned(), "ignored.example".to_owned()));
        let signer = Signer::new("ak", "sk");
        let with_dup = signer.sign(&request(&dup)).unwrap();
        let without = signer.sign(&request(&headers("20261128T120000Z"))).unwrap();
        assert_eq!(with_dup.signature, without.signature);
        assert!(with_dup.canonical_request.contains("host:example.com\n"));
    }

    #[test]
    fn debug_of_signer_redacts_the_secret_key() {
        let signer = Signer::new("my-ak", "my-very-secret-sk");
        let debug = format!("{signer:?}");
        assert!(debug.contains("my-ak"));
        assert!(debug.contains("** redacted **"));
        assert!(!debug.contains("my-very-secret-sk"));
    }
}

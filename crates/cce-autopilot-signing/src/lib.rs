//! Pure AK/SK request signing and verification for the Huawei Cloud API gateway
//! (`SDK-HMAC-SHA256` and `V11-HMAC-SHA256`), byte for byte as the official SDKs do it.
//! No I/O and no clock: the caller supplies the `X-Sdk-Date` header.
//!
//! Signing test vector B of the API notes, then verifying it as the gateway would:
//!
//! ```
//! use cce_autopilot_signing::{SecretKey, SignableRequest, Signer, verify};
//!
//! let mut headers = vec![
//!     ("Content-Type".to_owned(), "application/json".to_owned()),
//!     ("Host".to_owned(), "cce.cn-north-4.myhuaweicloud.com".to_owned()),
//!     ("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned()),
//! ];
//! let path = "/autopilot/v3/projects/0123456789abcdef0123456789abcdef\
//!             /clusters/3f0c9a1e-2b4d-4c6e-8f10-123456789abc/clustercert";
//! let body = br#"{"duration": 30}"#;
//! let request = SignableRequest { method: "POST", path, query: &[], headers: &headers, body };
//!
//! let signer = Signer::new("HPUAEXAMPLEAK00000001", "exampleSecretKey0000000000000000000000000");
//! let signature = signer.sign(&request)?;
//! assert_eq!(
//!     signature.authorization,
//!     "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK00000001, \
//!      SignedHeaders=content-type;host;x-sdk-date, \
//!      Signature=ff61bf33103574a6b644e8738f90a3a469bf7e90b0908f37e96c9173aea25d61"
//! );
//!
//! headers.push(("Authorization".to_owned(), signature.authorization));
//! let sk = SecretKey::from("exampleSecretKey0000000000000000000000000");
//! let request = SignableRequest { method: "POST", path, query: &[], headers: &headers, body };
//! let verified = verify(&request, |ak| (ak == "HPUAEXAMPLEAK00000001").then_some(&sk))?;
//! assert_eq!(verified.sdk_date, "20261128T120000Z");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod canonical;
mod date;
mod error;
mod hex_text;
mod secret;
mod sign;
mod verify;

pub use canonical::{
    SignableRequest, canonical_query, canonical_request, canonical_uri,
    content_type_needs_unsigned_payload, find_header, payload_hash, signed_header_names,
};
pub use date::{format_sdk_date, parse_sdk_date};
pub use error::{SignError, VerifyError};
pub use secret::SecretKey;
pub use sign::{Algorithm, Signature, Signer, derive_v11_key};
pub use verify::{ParsedAuthorization, Verified, parse_authorization, verify};

/// The name of the plain algorithm, where the SK is the HMAC key.
pub const SDK_HMAC_SHA256: &str = "SDK-HMAC-SHA256";
/// The name of the derived-key algorithm.
pub const V11_HMAC_SHA256: &str = "V11-HMAC-SHA256";
/// The payload hash of an empty body: hex SHA-256 of no bytes.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The payload hash, and `X-Sdk-Content-Sha256` value, of a body that is not hashed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The request time, `YYYYMMDDTHHMMSSZ` in UTC.
pub const HEADER_SDK_DATE: &str = "X-Sdk-Date";
/// Carries the signature.
pub const HEADER_AUTHORIZATION: &str = "Authorization";
/// The security token of temporary credentials.
pub const HEADER_SECURITY_TOKEN: &str = "X-Security-Token";
/// The project of project-scoped services such as CCE.
pub const HEADER_PROJECT_ID: &str = "X-Project-Id";
/// `UNSIGNED-PAYLOAD` when the body is not hashed (see [`content_type_needs_unsigned_payload`]).
pub const HEADER_CONTENT_SHA256: &str = "X-Sdk-Content-Sha256";
/// The endpoint's host, with `:port` when the URL has an explicit port.
pub const HEADER_HOST: &str = "Host";
/// The body's media type; the SDKs send `application/json` without a charset.
pub const HEADER_CONTENT_TYPE: &str = "Content-Type";

#[cfg(test)]
mod tests {
    use super::*;

    const SK: &str = "top-secret-sk-value-0123456789";

    /// Every error variant; the exhaustive matches make adding a variant without a test a compile error.
    fn every_error() -> (Vec<SignError>, Vec<VerifyError>) {
        let sign = vec![
            SignError::MissingDate,
            SignError::InvalidDate("x".to_owned()),
            SignError::InvalidCredential {
                field: "region",
                value: "a/b".to_owned(),
            },
        ];
        for err in &sign {
            match err {
                SignError::MissingDate
                | SignError::InvalidDate(_)
                | SignError::InvalidCredential { .. } => {}
            }
        }
        let verify = vec![
            VerifyError::MissingAuthorization,
            VerifyError::MalformedAuthorization("reason".to_owned()),
            VerifyError::UnknownAccessKey("AK".to_owned()),
            VerifyError::MissingDate,
            VerifyError::InvalidDate("x".to_owned()),
            VerifyError::DateNotSigned,
            VerifyError::MissingSignedHeader("host".to_owned()),
            VerifyError::CredentialDateMismatch {
                credential_date: "20261127".to_owned(),
                sdk_date: "20261128T120000Z".to_owned(),
            },
            VerifyError::SignatureMismatch,
        ];
        for err in &verify {
            match err {
                VerifyError::MissingAuthorization
                | VerifyError::MalformedAuthorization(_)
                | VerifyError::UnknownAccessKey(_)
                | VerifyError::MissingDate
                | VerifyError::InvalidDate(_)
                | VerifyError::DateNotSigned
                | VerifyError::MissingSignedHeader(_)
                | VerifyError::CredentialDateMismatch { .. }
                | VerifyError::SignatureMismatch => {}
            }
        }
        (sign, verify)
    }

    /// Errors produced for real, from a request signed with [`SK`].
    fn errors_from_requests() -> Vec<VerifyError> {
        let headers = vec![
            ("Host".to_owned(), "example.com".to_owned()),
            ("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned()),
        ];
        let req = SignableRequest {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
            body: b"",
        };
        let mut signed = headers.clone();
        let signature = Signer::new("AK", SK).sign(&req).unwrap();
        signed.push(("Authorization".to_owned(), signature.authorization));
        let wrong = SecretKey::from("another-secret");
        let right = SecretKey::from(SK);
        let req = SignableRequest {
            headers: &signed,
            ..req
        };
        vec![
            verify(&req, |_| Some(&wrong)).unwrap_err(),
            verify(&req, |_| None).unwrap_err(),
            verify(
                &SignableRequest {
                    method: "PUT",
                    ..req
                },
                |_| Some(&right),
            )
            .unwrap_err(),
            verify(
                &SignableRequest {
                    headers: &signed[1..],
                    ..req
                },
                |_| Some(&right),
            )
            .unwrap_err(),
        ]
    }

    #[test]
    fn no_debug_or_display_output_contains_the_secret_key() {
        let signer = Signer::new("AK", SK).with_algorithm(Algorithm::V11HmacSha256 {
            region: "r".to_owned(),
            service: "s".to_owned(),
        });
        let secret = SecretKey::from(SK);
        let (sign_errors, verify_errors) = every_error();
        let mut outputs = vec![
            format!("{signer:?}"),
            format!("{signer:#?}"),
            format!("{secret:?}"),
            format!("{secret}"),
        ];
        for err in sign_errors {
            outputs.extend([format!("{err}"), format!("{err:?}")]);
        }
        for err in verify_errors.into_iter().chain(errors_from_requests()) {
            outputs.extend([format!("{err}"), format!("{err:?}")]);
        }
        for output in outputs {
            assert!(!output.contains(SK), "{output}");
        }
    }
}

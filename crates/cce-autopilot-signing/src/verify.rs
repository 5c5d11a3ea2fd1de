//! Verification, as the API gateway does it: parse `Authorization`, recompute, compare.

use hmac::Mac;

use crate::sign::{hmac, string_to_sign};
use crate::{
    Algorithm, HEADER_AUTHORIZATION, HEADER_SDK_DATE, SDK_HMAC_SHA256, SecretKey, SignableRequest,
    V11_HMAC_SHA256, VerifyError, canonical_request, find_header, parse_sdk_date,
};

/// An `Authorization` header, parsed but not yet checked against a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The algorithm, with region and service from the credential scope for V11.
    pub algorithm: Algorithm,
    /// The access key (`Access=` or the first part of `Credential=`).
    pub access_key: String,
    /// V11 only: the `YYYYMMDD` of the credential scope.
    pub credential_date: Option<String>,
    /// `SignedHeaders`, split on `;`, as sent.
    pub signed_headers: Vec<String>,
    /// `Signature`: 64 hex digits.
    pub signature: String,
}

/// A request whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Who signed it.
    pub access_key: String,
    /// The (trimmed) `X-Sdk-Date` value, for the caller's clock-skew check (see
    /// [`parse_sdk_date`]).
    pub sdk_date: String,
    /// The header names the signature covers, as listed in `SignedHeaders`.
    pub signed_headers: Vec<String>,
    /// The algorithm used.
    pub algorithm: Algorithm,
}

fn malformed(reason: impl Into<String>) -> VerifyError {
    VerifyError::MalformedAuthorization(reason.into())
}

/// Parses an `Authorization` value of either algorithm:
/// `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b>, Signature=<hex>` or
/// `V11-HMAC-SHA256 Credential=<AK>/<YYYYMMDD>/<region>/<service>, SignedHeaders=..., Signature=...`.
///
/// The SDKs separate parameters with `", "`; white space around parameters is tolerated, and their
/// order is free. Unknown or repeated parameters are rejected.
pub fn parse_authorization(value: &str) -> Result<ParsedAuthorization, VerifyError> {
    let (scheme, params) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| malformed("expected `<algorithm> <parameters>`"))?;

    let (mut access, mut credential, mut signed_headers, mut signature) = (None, None, None, None);
    for param in params.split(',') {
        let param = param.trim();
        let (key, value) = param
            .split_once('=')
            .ok_or_else(|| malformed(format!("parameter `{param}` is not `key=value`")))?;
        let slot = match key {
            "Access" => &mut access,
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(malformed(format!("unknown parameter `{key}`"))),
        };
        if slot.replace(value).is_some() {
            return Err(malformed(format!("parameter `{key}` is repeated")));
        }
    }

    let (algorithm, access_key, credential_date) = match (scheme, access, credential) {
        (SDK_HMAC_SHA256, Some(ak), None) => (Algorithm::SdkHmacSha256, ak, None),
        (V11_HMAC_SHA256, None, Some(credential)) => {
            let (ak, date, region, service) = split_credential(credential)?;
            let algorithm = Algorithm::V11HmacSha256 {
                region: region.to_owned(),
                service: service.to_owned(),
            };
            (algorithm, ak, Some(date.to_owned()))
        }
        (SDK_HMAC_SHA256, ..) => {
            return Err(malformed("expected `Access=` (and no `Credential=`)"));
        }
        (V11_HMAC_SHA256, ..) => {
            return Err(malformed("expected `Credential=` (and no `Access=`)"));
        }
        (other, ..) => {
            return Err(malformed(format!(
                "unsupported algorithm `{other}`: expected {SDK_HMAC_SHA256} or {V11_HMAC_SHA256}"
            )));
        }
    };
    if access_key.is_empty() {
        return Err(malformed("the access key is empty"));
    }

    let signed_headers = signed_headers.ok_or_else(|| malformed("missing `SignedHeaders=`"))?;
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(malformed("`SignedHeaders=` has an empty name"));
    }

    let signature = signature.ok_or_else(|| malformed("missing `Signature=`"))?;
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("`Signature=` is not 64 hex digits"));
    }

    Ok(ParsedAuthorization {
        algorithm,
        access_key: access_key.to_owned(),
        credential_date,
        signed_headers,
        signature: signature.to_owned(),
    })
}

/// Splits `<AK>/<YYYYMMDD>/<region>/<service>`.
fn split_credential(credential: &str) -> Result<(&str, &str, &str, &str), VerifyError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [ak, date, region, service] = parts[..] else {
        return Err(malformed(
            "`Credential=` is not `<AK>/<YYYYMMDD>/<region>/<service>`",
        ));
    };
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!(
            "credential date `{date}` is not YYYYMMDD"
        )));
    }
    if region.is_empty() || service.is_empty() {
        return Err(malformed("the credential region or service is empty"));
    }
    Ok((ak, date, region, service))
}

/// Verifies the signature of `req`, as the API gateway would.
///
/// Parses its `Authorization` header (either algorithm), finds the SK for the AK with `lookup`,
/// and recomputes the signature over exactly the headers `SignedHeaders` lists, in that order, with
/// the values as received (trimmed; the last one wins for a repeated name). Every listed header
/// must be present, `x-sdk-date` must be listed, and the signatures are compared in constant time.
///
/// The clock-skew check is the caller's: compare [`parse_sdk_date`] of [`Verified::sdk_date`] with
/// the current time.
pub fn verify<'k>(
    req: &SignableRequest<'_>,
    lookup: impl Fn(&str) -> Option<&'k SecretKey>,
) -> Result<Verified, VerifyError> {
    let authorization =
        find_header(req.headers, HEADER_AUTHORIZATION).ok_or(VerifyError::MissingAuthorization)?;
    let auth = parse_authorization(authorization)?;
    let sk = lookup(&auth.access_key)
        .ok_or_else(|| VerifyError::UnknownAccessKey(auth.access_key.clone()))?;

    let sdk_date = find_header(req.headers, HEADER_SDK_DATE)
        .ok_or(VerifyError::MissingDate)?
        .trim();
    parse_sdk_date(sdk_date).map_err(|_| VerifyError::InvalidDate(sdk_date.to_owned()))?;
    if !auth
        .signed_headers
        .iter()
        .any(|name| name.eq_ignore_ascii_case(HEADER_SDK_DATE))
    {
        return Err(VerifyError::DateNotSigned);
    }
    if let Some(name) = auth
        .signed_headers
        .iter()
        .find(|name| find_header(req.headers, name).is_none())
    {
        return Err(VerifyError::MissingSignedHeader(name.clone()));
    }
    if let Some(credential_date) = &auth.credential_date
        && !sdk_date.starts_with(credential_date.as_str())
    {
        return Err(VerifyError::CredentialDateMismatch {
            credential_date: credential_date.clone(),
            sdk_date: sdk_date.to_owned(),
        });
    }

    let canonical = canonical_request(req, &auth.signed_headers);
    let string_to_sign = string_to_sign(&auth.algorithm, sdk_date, &canonical);
    let expected =
        hex::decode(&auth.signature).map_err(|_| malformed("`Signature=` is not 64 hex digits"))?;
    // `verify_slice` compares in constant time, so timing does not leak how much matched.
    hmac(
        &auth.access_key,
        sk,
        &auth.algorithm,
        sdk_date,
        &string_to_sign,
    )
    .verify_slice(&expected)
    .map_err(|_| VerifyError::SignatureMismatch)?;

    Ok(Verified {
        access_key: auth.access_key,
        sdk_date: sdk_date.to_owned(),
        signed_headers: auth.signed_headers,
        algorithm: auth.algorithm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signer;

    const SIG: &str = "ff61bf33103574a6b644e8738f90a3a469bf7e90b0908f37e96c9173aea25d61";

    #[test]
    fn parses_sdk_hmac_sha256() {
        let parsed = parse_authorization(&format!(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature={SIG}"
        ))
        .unwrap();
        assert_eq!(
            parsed,
            ParsedAuthorization {
                algorithm: Algorithm::SdkHmacSha256,
                access_key: "AK1".to_owned(),
                credential_date: None,
                signed_headers: vec!["host".to_owned(), "x-sdk-date".to_owned()],
                signature: SIG.to_owned(),
            }
        );
    }

    #[test]
    fn parses_v11_hmac_sha256() {
        let parsed = parse_authorization(&format!(
            "V11-HMAC-SHA256 Credential=AK1/20261128/cn-north-4/cce, SignedHeaders=x-sdk-date, Signature={SIG}"
        ))
        .unwrap();
        assert_eq!(parsed.access_key, "AK1");
        assert_eq!(parsed.credential_date.as_deref(), Some("20261128"));
        assert_eq!(
            parsed.algorithm,
            Algorithm::V11HmacSha256 {
                region: "cn-north-4".to_owned(),
                service: "cce".to_owned()
            }
        );
    }

    #[test]
    fn parse_tolerates_spacing_and_order() {
        let parsed = parse_authorization(&format!(
            "  SDK-HMAC-SHA256 Signature={SIG},SignedHeaders=x-sdk-date ,  Access=AK1 "
        ))
        .unwrap();
        assert_eq!(parsed.access_key, "AK1");
    }

    #[test]
    fn parse_rejects_malformed_headers() {
        let sh = "SignedHeaders=x-sdk-date";
        for bad in [
            String::new(),
            "SDK-HMAC-SHA256".to_owned(),
            format!("HMAC-SHA1 Access=AK, {sh}, Signature={SIG}"),
            format!("SDK-HMAC-SHA256 Credential=AK/20261128/r/s, {sh}, Signature={SIG}"),
            format!("V11-HMAC-SHA256 Access=AK, {sh}, Signature={SIG}"),
            format!("V11-HMAC-SHA256 Credential=AK/20261128/r, {sh}, Signature={SIG}"),
            format!("V11-HMAC-SHA256 Credential=AK/2026112/r/s, {sh}, Signature={SIG}"),
            format!("V11-HMAC-SHA256 Credential=AK/20261128//s, {sh}, Signature={SIG}"),
            format!("SDK-HMAC-SHA256 Access=, {sh}, Signature={SIG}"),
            format!("SDK-HMAC-SHA256 Access=AK, Signature={SIG}"),
            format!("SDK-HMAC-SHA256 Access=AK, {sh}"),
            format!("SDK-HMAC-SHA256 Access=AK, {sh}, Signature=abc"),
            format!(
                "SDK-HMAC-SHA256 Access=AK, {sh}, Signature={}",
                "g".repeat(64)
            ),
            format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;;x-sdk-date, Signature={SIG}"),
            format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=, Signature={SIG}"),
            format!("SDK-HMAC-SHA256 Access=AK, {sh}, {sh}, Signature={SIG}"),
            format!("SDK-HMAC-SHA256 Access=AK, {sh}, Signature={SIG}, Extra=1"),
            format!("SDK-HMAC-SHA256 Access=AK, {sh}, Signature={SIG}, "),
        ] {
            assert!(
                matches!(
                    parse_authorization(&bad),
                    Err(VerifyError::MalformedAuthorization(_))
                ),
                "{bad:?} was accepted"
            );
        }
    }

    fn signed_request_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
        let req = SignableRequest {
            method: "GET",
            path: "/",
            query: &[],
            headers,
            body: b"",
        };
        let signature = Signer::new("AK1", "SK1").sign(&req).unwrap();
        let mut headers = headers.to_vec();
        headers.push(("Authorization".to_owned(), signature.authorization));
        headers
    }

    fn verify_headers(headers: &[(String, String)]) -> Result<Verified, VerifyError> {
        let sk = SecretKey::from("SK1");
        let req = SignableRequest {
            method: "GET",
            path: "/",
            query: &[],
            headers,
            body: b"",
        };
        verify(&req, |ak| (ak == "AK1").then_some(&sk))
    }

    #[test]
    fn verify_requires_authorization() {
        let headers = [("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned())];
        assert_eq!(
            verify_headers(&headers),
            Err(VerifyError::MissingAuthorization)
        );
    }

    #[test]
    fn verify_requires_the_date_to_be_signed() {
        let headers = [
            (
                "Authorization".to_owned(),
                format!("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature={SIG}"),
            ),
            ("Host".to_owned(), "h".to_owned()),
            ("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned()),
        ];
        assert_eq!(verify_headers(&headers), Err(VerifyError::DateNotSigned));
    }

    #[test]
    fn verify_requires_the_date_header() {
        let headers = [(
            "Authorization".to_owned(),
            format!("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature={SIG}"),
        )];
        assert_eq!(verify_headers(&headers), Err(VerifyError::MissingDate));
    }

    #[test]
    fn verify_rejects_an_invalid_date() {
        let headers = [
            (
                "Authorization".to_owned(),
                format!("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature={SIG}"),
            ),
            ("X-Sdk-Date".to_owned(), "yesterday".to_owned()),
        ];
        assert_eq!(
            verify_headers(&headers),
            Err(VerifyError::InvalidDate("yesterday".to_owned()))
        );
    }

    #[test]
    fn verify_rejects_a_credential_date_of_another_day() {
        let headers = [
            (
                "Authorization".to_owned(),
                format!(
                    "V11-HMAC-SHA256 Credential=AK1/20261127/r/s, SignedHeaders=x-sdk-date, Signature={SIG}"
                ),
            ),
            ("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned()),
        ];
        assert!(matches!(
            verify_headers(&headers),
            Err(VerifyError::CredentialDateMismatch { .. })
        ));
    }

    #[test]
    fn verify_matches_header_names_case_insensitively() {
        let headers = signed_request_headers(&[
            ("host".to_owned(), "h".to_owned()),
            ("x-sdk-date".to_owned(), "20261128T120000Z".to_owned()),
        ]);
        let renamed: Vec<_> = headers
            .into_iter()
            .map(|(name, value)| (name.to_ascii_uppercase(), value))
            .collect();
        assert!(verify_headers(&renamed).is_ok());
    }

    #[test]
    fn verify_ignores_unsigned_headers() {
        let mut headers =
            signed_request_headers(&[("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned())]);
        headers.push(("Via".to_owned(), "proxy".to_owned()));
        assert!(verify_headers(&headers).is_ok());
    }

    #[test]
    fn verify_uses_the_last_duplicate_header_value() {
        let mut headers = signed_request_headers(&[
            ("Host".to_owned(), "h".to_owned()),
            ("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned()),
        ]);
        headers.insert(0, ("Host".to_owned(), "earlier".to_owned()));
        assert!(verify_headers(&headers).is_ok());
        headers.push(("Host".to_owned(), "later".to_owned()));
        assert_eq!(
            verify_headers(&headers),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn verify_does_not_honour_an_unsigned_unsigned_payload_header() {
        let headers = [
            ("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned()),
            (
                "X-Sdk-Content-Sha256".to_owned(),
                "UNSIGNED-PAYLOAD".to_owned(),
            ),
        ];
        let req = SignableRequest {
            method: "PUT",
            path: "/",
            query: &[],
            headers: &headers,
            body: b"original",
        };
        let signature = Signer::new("AK1", "SK1").sign(&req).unwrap();
        assert!(signature.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));

        // Signed with UNSIGNED-PAYLOAD: the body may change, that is the point of the header.
        let mut sent = headers.to_vec();
        sent.push(("Authorization".to_owned(), signature.authorization));
        let sk = SecretKey::from("SK1");
        let swapped = SignableRequest {
            headers: &sent,
            body: b"swapped",
            ..req
        };
        assert!(verify(&swapped, |_| Some(&sk)).is_ok());

        // Added in flight to a request that hashed its body: it must not switch hashing off.
        let plain = [("X-Sdk-Date".to_owned(), "20261128T120000Z".to_owned())];
        let signature = Signer::new("AK1", "SK1")
            .sign(&SignableRequest {
                headers: &plain,
                body: b"original",
                ..req
            })
            .unwrap();
        let mut tampered = plain.to_vec();
        tampered.push((
            "X-Sdk-Content-Sha256".to_owned(),
            "UNSIGNED-PAYLOAD".to_owned(),
        ));
        tampered.push(("Authorization".to_owned(), signature.authorization));
        let swapped = SignableRequest {
            headers: &tampered,
            body: b"swapped",
            ..req
        };
        assert_eq!(
            verify(&swapped, |_| Some(&sk)),
            Err(VerifyError::SignatureMismatch)
        );
    }
}

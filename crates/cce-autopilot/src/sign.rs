//! Applies authentication to a `reqwest::Request`: the AK/SK signature or the `X-Auth-Token` header.

use cce_autopilot_signing::{
    HEADER_CONTENT_TYPE, HEADER_HOST, HEADER_PROJECT_ID, HEADER_SDK_DATE, HEADER_SECURITY_TOKEN,
    SignableRequest, Signer, canonical_query, format_sdk_date,
};
use reqwest::header::{HeaderName, HeaderValue};

use crate::credentials::Credentials;
use crate::{Error, Result};

/// Headers this client signs when present, as the official SDKs do (the Python SDK also signs User-Agent;
/// the gateway verifies whatever `SignedHeaders` lists, so leaving it out is equally valid).
const SIGNED: [&str; 5] = [
    HEADER_HOST,
    HEADER_SDK_DATE,
    HEADER_PROJECT_ID,
    HEADER_CONTENT_TYPE,
    HEADER_SECURITY_TOKEN,
];

fn header_value(value: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|_| {
        Error::invalid(
            "header value",
            "contains characters HTTP headers cannot carry",
        )
    })
}

/// `Host` as the gateway sees it: with `:port` when the URL names a non-default port.
pub(crate) fn host_header(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// Checks, before any request is sent, that `credentials` can sign one: the access key fits the
/// `Authorization` header and the security token fits `X-Security-Token`. What passes here cannot fail in
/// [`sign_request`], so the retry loop never has to send a request it could not authenticate.
pub(crate) fn check_credentials(credentials: &Credentials) -> Result<()> {
    let ak = credentials.access_key();
    if ak.is_empty()
        || ak
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | ',' | '='))
    {
        return Err(Error::credentials(format!(
            "the access key {ak:?} from {} cannot sign a request: it must be non-empty, without spaces, '/', ',' or '='",
            credentials.source()
        )));
    }
    if credentials
        .security_token()
        .is_some_and(|t| HeaderValue::from_str(t).is_err())
    {
        return Err(Error::credentials(format!(
            "the security token from {} contains characters HTTP headers cannot carry",
            credentials.source()
        )));
    }
    Ok(())
}

/// Checks that an IAM token can be sent as `X-Auth-Token`.
pub(crate) fn check_token(token: &str) -> Result<()> {
    HeaderValue::from_str(token).map(drop).map_err(|_| {
        Error::credentials("the X-Auth-Token value contains characters HTTP headers cannot carry")
    })
}

/// Signs `request` in place with `credentials` at `unix_seconds`, replacing any earlier signature headers.
///
/// The wire query is rewritten to the canonical query, so what is signed is exactly what is sent.
pub(crate) fn sign_request(
    request: &mut reqwest::Request,
    credentials: &Credentials,
    unix_seconds: i64,
) -> Result<()> {
    let pairs: Vec<(String, String)> = request.url().query_pairs().into_owned().collect();
    if !pairs.is_empty() {
        let canonical = canonical_query(&pairs);
        request.url_mut().set_query(Some(&canonical));
    }

    let host = host_header(request.url())
        .ok_or_else(|| Error::config(format!("endpoint {} has no host", request.url())))?;
    let headers = request.headers_mut();
    headers.insert(reqwest::header::HOST, header_value(&host)?);
    headers.insert(
        HeaderName::from_static("x-sdk-date"),
        header_value(&format_sdk_date(unix_seconds))?,
    );
    match credentials.security_token() {
        Some(token) => {
            headers.insert(
                HeaderName::from_static("x-security-token"),
                header_value(token)?,
            );
        }
        None => {
            headers.remove("x-security-token");
        }
    }
    headers.remove(reqwest::header::AUTHORIZATION);

    let to_sign: Vec<(String, String)> = SIGNED
        .iter()
        .filter_map(|name| {
            let value = request.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect();
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .unwrap_or_default();
    let signable = SignableRequest {
        method: request.method().as_str(),
        path: request.url().path(),
        query: &pairs,
        headers: &to_sign,
        body,
    };
    let signer = Signer::new(credentials.access_key(), credentials.secret_key().clone());
    let signature = signer
        .sign(&signable)
        .map_err(|e| Error::invalid("request", format!("cannot be signed: {e}")))?;
    request.headers_mut().insert(
        HeaderName::from_static("authorization"),
        header_value(&signature.authorization)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_keeps_explicit_ports_only() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            host_header(&u("https://cce.cn-north-4.myhuaweicloud.com/x")).unwrap(),
            "cce.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            host_header(&u("http://127.0.0.1:8080/")).unwrap(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            host_header(&u("https://h:443/")).unwrap(),
            "h",
            "default port is not explicit"
        );
    }

    #[test]
    fn signing_replaces_headers_and_canonicalises_the_query() {
        let mut req = reqwest::Request::new(
            reqwest::Method::GET,
            url::Url::parse("http://127.0.0.1:9/v3/projects?name=cn-north-4&b=a%20b").unwrap(),
        );
        let creds = Credentials::new("AK", "SK").with_security_token("tok");
        sign_request(&mut req, &creds, 1_795_867_200).unwrap();
        sign_request(&mut req, &creds, 1_795_867_260).unwrap();
        assert_eq!(req.url().query(), Some("b=a%20b&name=cn-north-4"));
        assert_eq!(req.headers().get_all("x-sdk-date").iter().count(), 1);
        assert_eq!(req.headers()["x-sdk-date"], "20261128T120100Z");
        assert_eq!(req.headers().get_all("authorization").iter().count(), 1);
        let auth = req.headers()["authorization"].to_str().unwrap();
        assert!(auth.starts_with("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date;x-security-token, Signature="), "{auth}");
    }
}

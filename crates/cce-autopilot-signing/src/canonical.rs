//! The canonical request (steps 1-6 of the algorithm): what both the signer and the verifier hash.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::{HEADER_AUTHORIZATION, HEADER_CONTENT_SHA256, UNSIGNED_PAYLOAD};

/// Everything but `A-Z a-z 0-9 - _ . ~` gets percent-encoded (the crate writes upper-case hex).
const ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A request as the signer (and verifier) sees it.
#[derive(Clone, Copy)]
pub struct SignableRequest<'a> {
    /// The HTTP method, as sent (`POST`).
    pub method: &'a str,
    /// The path as it goes on the wire: already percent-encoded, without the query.
    pub path: &'a str,
    /// The query as (key, value) pairs, percent-*decoded*, in any order.
    pub query: &'a [(String, String)],
    /// The headers as (name, value) pairs, names in any case, in any order. When a name occurs
    /// more than once the last value wins (see [`find_header`]).
    pub headers: &'a [(String, String)],
    /// The exact body bytes sent.
    pub body: &'a [u8],
}

/// Shows header names only: header values may hold tokens (`X-Security-Token`, `X-Auth-Token`).
impl fmt::Debug for SignableRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignableRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field(
                "header_names",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The value of header `name` (compared case-insensitively), untrimmed.
///
/// When the name occurs more than once the *last* value wins: the official Python SDK keeps headers
/// in a dict, so it can only ever sign one value per name, and a later assignment replaces an
/// earlier one. Signing and verification both use this rule.
pub fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .rev()
        .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Percent-encodes a path segment, query key or query value (UTF-8, upper-case hex).
fn encode(text: &str) -> String {
    utf8_percent_encode(text, ENCODE_SET).to_string()
}

/// Step 3: the canonical URI of a wire path; it always ends with `/`.
///
/// The path is percent-decoded first, so `%7E`, `~` and `%7e` are the same, and `%2F` becomes a
/// segment separator. Decoded bytes that are not valid UTF-8 become U+FFFD, as in the official
/// Python SDK (`urllib.parse.unquote`).
pub fn canonical_uri(path: &str) -> String {
    // Fast path for the common case (every API path of this service): nothing to decode or encode.
    if path
        .bytes()
        .all(|b| b == b'/' || b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    {
        let mut uri = String::with_capacity(path.len() + 1);
        uri.push_str(path);
        if !uri.ends_with('/') {
            uri.push('/');
        }
        return uri;
    }
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut uri = decoded.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Step 4: the canonical query string of decoded (key, value) pairs; empty when there are none.
///
/// Pairs are sorted by decoded key, then decoded value, in byte order (what the SDKs do, and not
/// the same as sorting the encoded text). The client sends this very string as the wire query.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Step 5: the payload hash, lower-case hex SHA-256 of `body`, or the literal `UNSIGNED-PAYLOAD`
/// when the headers carry `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`.
///
/// Any other `X-Sdk-Content-Sha256` value is ignored and the body hashed: the body itself is the
/// only thing a verifier can trust.
pub fn payload_hash(headers: &[(String, String)], body: &[u8]) -> String {
    payload_hash_with(find_header(headers, HEADER_CONTENT_SHA256), body)
}

fn payload_hash_with(content_sha256: Option<&str>, body: &[u8]) -> String {
    match content_sha256 {
        Some(value) if value.trim() == UNSIGNED_PAYLOAD => UNSIGNED_PAYLOAD.to_owned(),
        _ => crate::hex_text::lower_hex(&Sha256::digest(body)),
    }
}

/// Step 1: the names a signer signs: lower-cased, sorted by byte value, deduplicated.
///
/// Names containing `_` are skipped (the SDKs do; proxies often drop such headers), and so is
/// `Authorization`, which cannot sign itself (a re-signed retry may still carry the old one).
pub fn signed_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| {
            !name.is_empty()
                && !name.contains('_')
                && !name.eq_ignore_ascii_case(HEADER_AUTHORIZATION)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Step 6: the canonical request over exactly `signed_headers`, in the order given.
///
/// `signed_headers` are used verbatim in the canonical text (a signer passes
/// [`signed_header_names`]; a verifier passes the list from `SignedHeaders`); each value is looked
/// up with [`find_header`] and trimmed. A name missing from `req.headers` gives `name:` (the
/// verifier rejects such requests before getting here).
///
/// `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` is honoured only when that header is among
/// `signed_headers`: otherwise anyone could add it to a request in flight and swap the body. A
/// signer signs every header it sends, so this never differs from [`payload_hash`] on its side.
pub fn canonical_request(req: &SignableRequest<'_>, signed_headers: &[String]) -> String {
    let mut canonical_headers = String::new();
    for name in signed_headers {
        let value = find_header(req.headers, name).unwrap_or_default();
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value.trim());
        canonical_headers.push('\n');
    }
    let content_sha256 = signed_headers
        .iter()
        .any(|name| name.eq_ignore_ascii_case(HEADER_CONTENT_SHA256))
        .then(|| find_header(req.headers, HEADER_CONTENT_SHA256))
        .flatten();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query),
        canonical_headers,
        signed_headers.join(";"),
        payload_hash_with(content_sha256, req.body)
    )
}

/// Whether a body of this `Content-Type` is sent with `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`:
/// true unless it is `application/json*` or `application/bson*` (compared case-insensitively).
pub fn content_type_needs_unsigned_payload(content_type: &str) -> bool {
    let content_type = content_type.trim().as_bytes();
    ![b"application/json".as_slice(), b"application/bson"]
        .iter()
        .any(|prefix| {
            content_type
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EMPTY_PAYLOAD_SHA256;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn uri_of_empty_path_is_slash() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
    }

    #[test]
    fn uri_gets_a_trailing_slash_once() {
        assert_eq!(canonical_uri("/a/b"), "/a/b/");
        assert_eq!(canonical_uri("/a/b/"), "/a/b/");
        assert_eq!(canonical_uri("a"), "a/");
    }

    #[test]
    fn uri_keeps_unreserved_and_encodes_the_rest_in_upper_case_hex() {
        assert_eq!(canonical_uri("/AZaz09-_.~"), "/AZaz09-_.~/");
        assert_eq!(canonical_uri("/a b+c:d@e!"), "/a%20b%2Bc%3Ad%40e%21/");
        assert_eq!(canonical_uri("/é/中"), "/%C3%A9/%E4%B8%AD/");
    }

    #[test]
    fn uri_decodes_before_encoding() {
        assert_eq!(canonical_uri("/a%20b/%7e/%7E/~"), "/a%20b/~/~/~/");
        assert_eq!(canonical_uri("/%c3%a9"), "/%C3%A9/");
        // An encoded slash is a separator once decoded.
        assert_eq!(canonical_uri("/a%2Fb"), "/a/b/");
        // A lone or malformed escape is literal text, so its `%` gets encoded.
        assert_eq!(canonical_uri("/100%/%zz"), "/100%25/%25zz/");
    }

    #[test]
    fn uri_replaces_invalid_utf8_like_python() {
        assert_eq!(canonical_uri("/%FF"), "/%EF%BF%BD/");
    }

    #[test]
    fn uri_keeps_empty_segments() {
        assert_eq!(canonical_uri("//a//"), "//a//");
    }

    #[test]
    fn query_is_empty_without_pairs() {
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn query_sorts_by_key_then_value() {
        let query = pairs(&[("b", "2"), ("a", "z"), ("a", "y"), ("c", "")]);
        assert_eq!(canonical_query(&query), "a=y&a=z&b=2&c=");
    }

    #[test]
    fn query_sorts_decoded_text_not_encoded_text() {
        // '.' (0x2E) sorts before '/' (0x2F), although "%2F" would sort before ".".
        let query = pairs(&[("a/", "1"), ("a.", "2")]);
        assert_eq!(canonical_query(&query), "a.=2&a%2F=1");
    }

    #[test]
    fn query_encodes_keys_and_values_like_path_segments() {
        let query = pairs(&[("k y", "a&b=c/d~é"), ("flag", "true")]);
        assert_eq!(
            canonical_query(&query),
            "flag=true&k%20y=a%26b%3Dc%2Fd~%C3%A9"
        );
    }

    #[test]
    fn payload_hash_of_empty_body() {
        assert_eq!(payload_hash(&[], b""), EMPTY_PAYLOAD_SHA256);
    }

    #[test]
    fn payload_hash_honours_unsigned_payload() {
        let headers = pairs(&[("x-sdk-content-sha256", " UNSIGNED-PAYLOAD ")]);
        assert_eq!(payload_hash(&headers, b"body"), UNSIGNED_PAYLOAD);
    }

    #[test]
    fn payload_hash_ignores_other_content_sha256_values() {
        let headers = pairs(&[("X-Sdk-Content-Sha256", EMPTY_PAYLOAD_SHA256)]);
        assert_eq!(payload_hash(&headers, b"body"), payload_hash(&[], b"body"));
    }

    #[test]
    fn signed_header_names_are_lowercase_sorted_unique_without_underscores() {
        let headers = pairs(&[
            ("X-Sdk-Date", "d"),
            ("Host", "h"),
            ("x_custom", "skipped"),
            ("content-type", "c"),
            ("HOST", "h2"),
            ("Authorization", "old"),
        ]);
        assert_eq!(
            signed_header_names(&headers),
            ["content-type", "host", "x-sdk-date"]
        );
    }

    #[test]
    fn last_duplicate_header_wins() {
        let headers = pairs(&[("Host", "first"), ("host", "second")]);
        assert_eq!(find_header(&headers, "HOST"), Some("second"));
    }

    #[test]
    fn canonical_request_trims_values_but_keeps_inner_spaces() {
        let headers = pairs(&[("Host", " \t a  b \t ")]);
        let req = SignableRequest {
            method: "GET",
            path: "/p",
            query: &[],
            headers: &headers,
            body: b"",
        };
        let canonical = canonical_request(&req, &["host".to_owned()]);
        assert_eq!(
            canonical,
            format!("GET\n/p/\n\nhost:a  b\n\nhost\n{EMPTY_PAYLOAD_SHA256}")
        );
    }

    #[test]
    fn canonical_request_honours_unsigned_payload_only_when_signed() {
        let headers = pairs(&[("Host", "h"), ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")]);
        let req = SignableRequest {
            method: "PUT",
            path: "/",
            query: &[],
            headers: &headers,
            body: b"",
        };
        let signed = canonical_request(&req, &signed_header_names(&headers));
        assert!(signed.ends_with("\nUNSIGNED-PAYLOAD"));
        let unsigned = canonical_request(&req, &["host".to_owned()]);
        assert!(unsigned.ends_with(EMPTY_PAYLOAD_SHA256));
    }

    #[test]
    fn debug_of_request_hides_header_values() {
        let headers = pairs(&[("X-Security-Token", "token-value")]);
        let req = SignableRequest {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
            body: b"",
        };
        let debug = format!("{req:?}");
        assert!(debug.contains("X-Security-Token"));
        assert!(!debug.contains("token-value"));
    }

    #[test]
    fn unsigned_payload_is_for_non_json_bodies() {
        assert!(!content_type_needs_unsigned_payload("application/json"));
        assert!(!content_type_needs_unsigned_payload(
            "Application/JSON; charset=utf-8"
        ));
        assert!(!content_type_needs_unsigned_payload("application/bson"));
        assert!(content_type_needs_unsigned_payload(
            "application/octet-stream"
        ));
        assert!(content_type_needs_unsigned_payload("text/plain"));
    }
}

//! AK/SK signing against verification, on structured requests.
//!
//! - `canonical_uri`, `canonical_query`, `parse_authorization` and `verify` never panic on any text;
//!   `canonical_uri` ends with `/`, is idempotent and uses only unreserved characters and `%XX`.
//! - A request signed by `Signer::sign` verifies (`Ok`, with the signer's AK, date, header list and
//!   algorithm), for both algorithms.
//! - Changing one signed component (method, path, a query pair, a signed header value, the body, the
//!   date, the signature, the header list, the SK) makes verification fail.
//!
//! Header names are HTTP tokens and header values HTTP field values (no CR, LF, NUL or other
//! control character but tab): what an HTTP request can carry, and what the client sends.
#![no_main]

use cce_autopilot_signing::{
    Algorithm, SecretKey, SignError, SignableRequest, Signer, UNSIGNED_PAYLOAD, canonical_query,
    canonical_uri, find_header, format_sdk_date, parse_authorization, parse_sdk_date, payload_hash,
    signed_header_names, verify,
};
use libfuzzer_sys::fuzz_target;

/// The input, split from raw bytes so that seeds can be written by hand (see `fuzz/README.md`):
///
/// ```text
/// byte 0      which component to change after signing (see `Mutation`)
/// byte 1      where (an index, or a byte to flip the body with)
/// byte 2      bit 0: sign with V11-HMAC-SHA256
/// bytes 3..7  seconds after 1970 (u32, little endian) of the date used when the headers carry
///             no valid X-Sdk-Date
/// then, separated by '\n': method, path, query, headers, AK, SK, region, service, raw text,
///             and the body (the rest, any bytes). Query pairs and headers are separated by
///             0x1E, a key from its value by 0x1F.
/// ```
#[derive(Debug)]
struct Input {
    mutation: Mutation,
    v11: bool,
    fallback_date: u32,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    ak: String,
    sk: String,
    region: String,
    service: String,
    /// Text for the no-panic checks of the parsers.
    raw: String,
    body: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    Method,
    Path,
    QueryValue(u8),
    QueryKey(u8),
    QueryAdd,
    QueryRemove(u8),
    HeaderValue(u8),
    HeaderRemove(u8),
    Body(u8),
    Date(u8),
    Signature(u8),
    SignedHeaders(u8),
    SecretKey,
}

impl Input {
    fn split(data: &[u8]) -> Option<Input> {
        let (&[selector, arg, flags, d0, d1, d2, d3], rest) = data.split_first_chunk::<7>()?;
        let mutation = match selector % 13 {
            0 => Mutation::Method,
            1 => Mutation::Path,
            2 => Mutation::QueryValue(arg),
            3 => Mutation::QueryKey(arg),
            4 => Mutation::QueryAdd,
            5 => Mutation::QueryRemove(arg),
            6 => Mutation::HeaderValue(arg),
            7 => Mutation::HeaderRemove(arg),
            8 => Mutation::Body(arg),
            9 => Mutation::Date(arg),
            10 => Mutation::Signature(arg),
            11 => Mutation::SignedHeaders(arg),
            _ => Mutation::SecretKey,
        };
        let mut parts = rest.splitn(10, |b| *b == b'\n');
        let mut text = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        let pairs = |s: String| -> Vec<(String, String)> {
            if s.is_empty() {
                return Vec::new();
            }
            s.split('\u{1e}')
                .map(|pair| match pair.split_once('\u{1f}') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (pair.to_owned(), String::new()),
                })
                .collect()
        };
        let method = text();
        let path = text();
        let query = pairs(text());
        let headers = pairs(text());
        let (ak, sk, region, service, raw) = (text(), text(), text(), text(), text());
        let body = parts.next().unwrap_or_default().to_vec();
        Some(Input {
            mutation,
            v11: flags & 1 == 1,
            fallback_date: u32::from_le_bytes([d0, d1, d2, d3]),
            method,
            path,
            query,
            headers,
            ak,
            sk,
            region,
            service,
            raw,
            body,
        })
    }
}

/// `tchar` of RFC 9110: what a header name may hold.
fn token(text: &str) -> String {
    let name: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(*c))
        .collect();
    if name.is_empty() {
        "x".to_owned()
    } else {
        name
    }
}

/// A field value: no control characters but tab.
fn field_value(text: &str) -> String {
    text.chars()
        .filter(|c| *c == '\t' || !(c.is_control()))
        .collect()
}

/// The crate's documented rule for AK, region and service.
fn credential_ok(value: &str) -> bool {
    !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || "/,=".contains(c))
}

fn check_canonical_uri(path: &str) {
    let uri = canonical_uri(path);
    assert!(uri.ends_with('/'), "{path:?} -> {uri:?}");
    let bytes = uri.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).expect("a full %XX escape");
                assert!(
                    hex.iter()
                        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)),
                    "{path:?} -> {uri:?}"
                );
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) => i += 1,
            _ => panic!("{path:?} -> {uri:?}: byte {i} is neither unreserved nor escaped"),
        }
    }
    assert_eq!(canonical_uri(&uri), uri, "not idempotent for {path:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::split(data) else {
        return;
    };

    // No panics on raw text, whatever it is.
    check_canonical_uri(&input.path);
    check_canonical_uri(&input.raw);
    let _ = canonical_query(&input.query);
    let _ = parse_authorization(&input.raw);
    let _ = parse_sdk_date(&input.raw);
    let sk = SecretKey::from(input.sk.clone());
    {
        let mut raw_headers = input.headers.clone();
        raw_headers.push(("Authorization".to_owned(), input.raw.clone()));
        let req = SignableRequest {
            method: &input.method,
            path: &input.path,
            query: &input.query,
            headers: &raw_headers,
            body: &input.body,
        };
        let _ = verify(&req, |_| Some(&sk));
    }

    // A well-formed request: header names are tokens, values field values.
    let method = input.method.clone();
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(n, v)| (token(n), field_value(v)))
        .collect();
    // The date: the headers' own when valid, else the fallback (after checking the signer's refusal).
    let date = match find_header(&headers, "x-sdk-date").map(str::trim) {
        Some(d) if parse_sdk_date(d).is_ok() => d.to_owned(),
        found => {
            let refusal = Signer::new("AK", "SK").sign(&SignableRequest {
                method: &method,
                path: &input.path,
                query: &input.query,
                headers: &headers,
                body: &input.body,
            });
            match (found, refusal) {
                (None, Err(SignError::MissingDate)) | (Some(_), Err(SignError::InvalidDate(_))) => {
                }
                (found, other) => panic!("date {found:?}: the signer answered {other:?}"),
            }
            let date = format_sdk_date(i64::from(input.fallback_date));
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case("x-sdk-date"));
            headers.push(("X-Sdk-Date".to_owned(), date.clone()));
            date
        }
    };
    let date_seconds = parse_sdk_date(&date).expect("a valid date");

    let mut signer = Signer::new(input.ak.clone(), input.sk.clone());
    let mut creds_ok = credential_ok(&input.ak);
    if input.v11 {
        creds_ok &= credential_ok(&input.region) && credential_ok(&input.service);
        signer = signer.with_algorithm(Algorithm::V11HmacSha256 {
            region: input.region.clone(),
            service: input.service.clone(),
        });
    }
    let req = SignableRequest {
        method: &method,
        path: &input.path,
        query: &input.query,
        headers: &headers,
        body: &input.body,
    };
    let signature = match signer.sign(&req) {
        Ok(s) => {
            assert!(creds_ok, "signed with a credential the rule rejects");
            s
        }
        Err(SignError::InvalidCredential { .. }) => {
            assert!(!creds_ok, "refused a valid credential");
            return;
        }
        Err(e) => panic!("a well-formed request failed to sign: {e}"),
    };
    let names = signed_header_names(&headers);
    assert_eq!(signature.signed_headers, names.join(";"));

    let mut sent = headers.clone();
    sent.push(("Authorization".to_owned(), signature.authorization.clone()));
    let sent_req = SignableRequest {
        headers: &sent,
        ..req
    };
    let lookup_ak = input.ak.clone();
    let lookup = |ak: &str| (ak == lookup_ak).then_some(&sk);
    let verified = match verify(&sent_req, lookup) {
        Ok(v) => v,
        Err(e) => panic!(
            "a signed request failed to verify: {e}\nauthorization: {}\ncanonical:\n{}",
            signature.authorization, signature.canonical_request
        ),
    };
    assert_eq!(verified.access_key, input.ak);
    assert_eq!(verified.sdk_date, date);
    assert_eq!(verified.signed_headers, names);
    assert_eq!(&verified.algorithm, signer.algorithm());

    // One signed component changed: verification must fail.
    let mut m_method = method.clone();
    let mut m_path = input.path.clone();
    let mut m_query = input.query.clone();
    let mut m_headers = sent.clone();
    let mut m_body = input.body.clone();
    let other_sk = SecretKey::from(format!("{}x", input.sk));
    let mut m_sk = &sk;
    let pick = |n: u8, len: usize| usize::from(n) % len;
    match input.mutation {
        Mutation::Method => m_method.push('X'),
        // Not a hex digit: it cannot complete a `%X` escape, so the decoded path gains an `x`.
        Mutation::Path => m_path.push('x'),
        Mutation::QueryValue(n) if !m_query.is_empty() => {
            let i = pick(n, m_query.len());
            m_query[i].1.push('x');
        }
        Mutation::QueryKey(n) if !m_query.is_empty() => {
            let i = pick(n, m_query.len());
            m_query[i].0.push('x');
        }
        Mutation::QueryAdd => m_query.push(("fuzz".to_owned(), "1".to_owned())),
        Mutation::QueryRemove(n) if !m_query.is_empty() => {
            let i = pick(n, m_query.len());
            m_query.remove(i);
        }
        Mutation::HeaderValue(n) => {
            // The value that counts is the last one of the name; a non-space suffix survives trimming.
            let name = &names[pick(n, names.len())];
            let i = m_headers
                .iter()
                .rposition(|(h, _)| h.eq_ignore_ascii_case(name))
                .expect("a signed header is present");
            m_headers[i].1.push('x');
        }
        Mutation::HeaderRemove(n) => {
            let name = names[pick(n, names.len())].clone();
            m_headers.retain(|(h, _)| !h.eq_ignore_ascii_case(&name));
        }
        Mutation::Body(n) => {
            if m_body.is_empty() {
                m_body.push(n);
            } else {
                let i = pick(n, m_body.len());
                m_body[i] ^= 1 | n;
            }
        }
        Mutation::Date(delta) => {
            // A second to a few days later (or earlier at the end of year 9999): another valid date.
            let step = (i64::from(delta) + 1) * 997;
            let shifted = if date_seconds + step < 253_402_300_800 {
                date_seconds + step
            } else {
                date_seconds - step
            };
            let new_date = format_sdk_date(shifted);
            let i = m_headers
                .iter()
                .rposition(|(h, _)| h.eq_ignore_ascii_case("x-sdk-date"))
                .expect("the date header");
            m_headers[i].1 = new_date;
        }
        Mutation::Signature(n) => {
            let auth = m_headers.last_mut().expect("Authorization");
            let i = auth.1.len() - 1 - pick(n, 64);
            let flipped = match auth.1.as_bytes()[i] {
                b'0' => '1',
                _ => '0',
            };
            auth.1.replace_range(i..=i, &flipped.to_string());
        }
        Mutation::SignedHeaders(n) => {
            // Drop one name from the list the signature claims to cover.
            let drop = &names[pick(n, names.len())];
            let kept: Vec<&str> = names
                .iter()
                .filter(|x| *x != drop)
                .map(String::as_str)
                .collect();
            if kept.is_empty() {
                return;
            }
            let auth = m_headers.last_mut().expect("Authorization");
            auth.1 = auth.1.replace(
                &format!("SignedHeaders={}", names.join(";")),
                &format!("SignedHeaders={}", kept.join(";")),
            );
        }
        Mutation::SecretKey => m_sk = &other_sk,
        // Query mutations of a request without a query.
        _ => return,
    }
    if let Mutation::Body(_) = input.mutation {
        // A body sent as UNSIGNED-PAYLOAD is by design not covered by the signature.
        if payload_hash(&headers, &input.body) == UNSIGNED_PAYLOAD
            && find_header(&headers, "x-sdk-content-sha256").is_some()
        {
            return;
        }
    }
    let mutated = SignableRequest {
        method: &m_method,
        path: &m_path,
        query: &m_query,
        headers: &m_headers,
        body: &m_body,
    };
    let lookup_ak = input.ak.clone();
    let result = verify(&mutated, |ak: &str| (ak == lookup_ak).then_some(m_sk));
    assert!(
        result.is_err(),
        "{:?} still verifies\noriginal canonical:\n{}",
        input.mutation,
        signature.canonical_request
    );
});

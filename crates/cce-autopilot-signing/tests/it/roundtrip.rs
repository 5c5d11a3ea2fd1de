//! Properties: whatever we sign verifies, and changing any signed part afterwards breaks it.

use cce_autopilot_signing::{
    Algorithm, SecretKey, SignableRequest, Signer, Verified, VerifyError, format_sdk_date, verify,
};
use proptest::prelude::*;
use proptest::sample::Index;

/// A generated request, owned, as the client would send it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn path(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }

    fn with<T>(&self, f: impl FnOnce(&SignableRequest<'_>) -> T) -> T {
        let path = self.path();
        f(&SignableRequest {
            method: &self.method,
            path: &path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        })
    }
}

/// One change to a signed part of a request.
#[derive(Debug, Clone)]
enum Mutation {
    BodyByte(Index, u8),
    HeaderValue(Index),
    PathSegment(Index),
    QueryValue(Index),
    Method,
}

fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._~-]{0,8}",
        // Reserved and special characters, raw.
        "[ %?#&=+:;@!$'()*,/\\[\\]]{1,4}",
        // Already percent-encoded text, including encoded slashes and invalid UTF-8.
        "(%[0-9A-Fa-f]{2}|[a-z]){1,6}",
        // Arbitrary printable Unicode.
        "\\PC{0,8}",
    ]
}

fn query_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("a".to_owned()),
        "[a-z]{1,2}",
        "[ -~]{0,8}",
        "\\PC{0,8}",
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = "[ -~]{0,24}";
    (
        prop::collection::btree_map("x-h[a-z0-9-]{0,6}", (value, any::<bool>()), 0..5),
        prop::collection::btree_map("x_[a-z]{1,4}", value, 0..2),
        "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        -62_167_219_200i64..=253_402_300_799,
    )
        .prop_map(|(signed, unsigned, host, seconds)| {
            let mut headers: Vec<(String, String)> = signed
                .into_iter()
                .map(|(name, (value, upper))| {
                    let name = if upper {
                        name.to_ascii_uppercase()
                    } else {
                        name
                    };
                    (name, value)
                })
                .collect();
            headers.extend(unsigned);
            headers.push(("Host".to_owned(), host));
            headers.push(("X-Sdk-Date".to_owned(), format_sdk_date(seconds)));
            headers
        })
        .prop_shuffle()
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop_oneof!["GET", "POST", "PUT", "DELETE", "PATCH"],
        prop::collection::vec(path_segment(), 0..6),
        prop::collection::vec((query_text(), query_text()), 0..6),
        headers(),
        prop::collection::vec(any::<u8>(), 0..128),
    )
        .prop_map(|(method, segments, query, headers, body)| Request {
            method,
            segments,
            query,
            headers,
            body,
        })
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::SdkHmacSha256),
        ("[a-z]{2}-[a-z]{1,8}-[0-9]", "[a-z]{1,8}")
            .prop_map(|(region, service)| Algorithm::V11HmacSha256 { region, service }),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1u8..).prop_map(|(at, xor)| Mutation::BodyByte(at, xor)),
        any::<Index>().prop_map(Mutation::HeaderValue),
        any::<Index>().prop_map(Mutation::PathSegment),
        any::<Index>().prop_map(Mutation::QueryValue),
        Just(Mutation::Method),
    ]
}

/// Signs `request`, returning it with its Authorization header added.
fn sign(request: &Request, signer: &Signer) -> Request {
    let signature = request
        .with(|req| signer.sign(req))
        .expect("generated requests are signable");
    let mut sent = request.clone();
    sent.headers
        .push(("Authorization".to_owned(), signature.authorization));
    sent
}

fn check(request: &Request, ak: &str, sk: &SecretKey) -> Result<Verified, VerifyError> {
    request.with(|req| verify(req, |candidate| (candidate == ak).then_some(sk)))
}

/// Changes one signed part so that its canonical form must differ.
fn mutate(request: &mut Request, mutation: Mutation) {
    match mutation {
        Mutation::BodyByte(at, xor) if !request.body.is_empty() => {
            let at = at.index(request.body.len());
            request.body[at] ^= xor;
        }
        Mutation::BodyByte(_, xor) => request.body.push(xor),
        Mutation::HeaderValue(at) => {
            // Values are trimmed, and only the last of a repeated name counts: append to the
            // last occurrence of a signed, non-date header.
            let signed: Vec<usize> = request
                .headers
                .iter()
                .enumerate()
                .filter(|(_, (name, _))| {
                    !name.contains('_')
                        && !name.eq_ignore_ascii_case("x-sdk-date")
                        && !name.eq_ignore_ascii_case("authorization")
                })
                .map(|(i, _)| i)
                .collect();
            request.headers[signed[at.index(signed.len())]].1.push('x');
        }
        // An 'x' is no hex digit, so it cannot complete a percent escape: it lands in the decoded
        // path as it is.
        Mutation::PathSegment(_) if request.segments.is_empty() => {
            request.segments.push("x".to_owned());
        }
        Mutation::PathSegment(at) => {
            let at = at.index(request.segments.len());
            request.segments[at].push('x');
        }
        Mutation::QueryValue(_) if request.query.is_empty() => {
            request.query.push((String::new(), String::new()));
        }
        Mutation::QueryValue(at) => {
            let at = at.index(request.query.len());
            request.query[at].1.push('x');
        }
        Mutation::Method => request.method.push('X'),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn signed_requests_verify(
        request in request(),
        algorithm in algorithm(),
        ak in "[A-Z0-9]{1,24}",
        sk in "\\PC{0,40}",
    ) {
        let signer = Signer::new(ak.clone(), sk.clone()).with_algorithm(algorithm.clone());
        let sent = sign(&request, &signer);
        let verified = check(&sent, &ak, &SecretKey::from(sk));
        let verified = verified.map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(verified.access_key, ak);
        prop_assert_eq!(verified.algorithm, algorithm);
        let expected = request.with(|req| cce_autopilot_signing::signed_header_names(req.headers));
        prop_assert_eq!(verified.signed_headers, expected);
    }

    #[test]
    fn changing_a_signed_part_breaks_the_signature(
        request in request(),
        algorithm in algorithm(),
        sk in "\\PC{0,40}",
        mutation in mutation(),
    ) {
        let signer = Signer::new("AK", sk.clone()).with_algorithm(algorithm);
        let mut sent = sign(&request, &signer);
        mutate(&mut sent, mutation);
        prop_assert_eq!(
            check(&sent, "AK", &SecretKey::from(sk)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn another_secret_key_does_not_verify(
        request in request(),
        algorithm in algorithm(),
        sk in "\\PC{0,40}",
        other in "\\PC{0,40}",
    ) {
        prop_assume!(sk != other);
        let signer = Signer::new("AK", sk).with_algorithm(algorithm);
        let sent = sign(&request, &signer);
        prop_assert_eq!(
            check(&sent, "AK", &SecretKey::from(other)),
            Err(VerifyError::SignatureMismatch)
        );
    }
}

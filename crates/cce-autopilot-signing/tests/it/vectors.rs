//! The official test vectors of `shared/api/signing.md` (produced by the Python SDK 3.1.219),
//! built from the document's inputs, reproduced byte for byte, and verified as the gateway would.

use cce_autopilot_signing::{
    Algorithm, SecretKey, SignableRequest, Signer, VerifyError, derive_v11_key, payload_hash,
    verify,
};
use sha2::{Digest, Sha256};

const AK: &str = "HPUAEXAMPLEAK00000001";
const SK: &str = "exampleSecretKey0000000000000000000000000";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const CLUSTER: &str = "3f0c9a1e-2b4d-4c6e-8f10-123456789abc";
const HOST: &str = "cce.cn-north-4.myhuaweicloud.com";
const SDK_DATE: &str = "20261128T120000Z";
const BODY: &[u8] = br#"{"duration": 30}"#;

/// A test vector's inputs and the expected Authorization header.
struct Vector {
    name: &'static str,
    headers: Vec<(String, String)>,
    algorithm: Algorithm,
    authorization: &'static str,
}

fn path() -> String {
    format!("/autopilot/v3/projects/{PROJECT}/clusters/{CLUSTER}/clustercert")
}

fn header(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

fn minimal_headers() -> Vec<(String, String)> {
    vec![
        header("Content-Type", "application/json"),
        header("Host", HOST),
        header("X-Sdk-Date", SDK_DATE),
    ]
}

fn v11() -> Algorithm {
    Algorithm::V11HmacSha256 {
        region: "cn-north-4".to_owned(),
        service: "cce".to_owned(),
    }
}

fn vector_a() -> Vector {
    Vector {
        name: "A",
        headers: vec![
            header("Content-Type", "application/json"),
            header("Host", HOST),
            header("User-Agent", "huaweicloud-usdk-python/3.0; golden-test"),
            header("X-Project-Id", PROJECT),
            header("X-Sdk-Date", SDK_DATE),
        ],
        algorithm: Algorithm::SdkHmacSha256,
        authorization: "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK00000001, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature=a0cf8b23e1be5d464c1905e297aba46daaa72879018fd53781b1104117f55ed6",
    }
}

fn vector_b() -> Vector {
    Vector {
        name: "B",
        headers: minimal_headers(),
        algorithm: Algorithm::SdkHmacSha256,
        authorization: "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK00000001, SignedHeaders=content-type;host;x-sdk-date, Signature=ff61bf33103574a6b644e8738f90a3a469bf7e90b0908f37e96c9173aea25d61",
    }
}

fn vector_c() -> Vector {
    Vector {
        name: "C",
        headers: minimal_headers(),
        algorithm: v11(),
        authorization: "V11-HMAC-SHA256 Credential=HPUAEXAMPLEAK00000001/20261128/cn-north-4/cce, SignedHeaders=content-type;host;x-sdk-date, Signature=d1bd4a4020e3627222fb1e3f097d6c2712c1d07d89ed9979cab897c0bac15c56",
    }
}

fn vectors() -> [Vector; 3] {
    [vector_a(), vector_b(), vector_c()]
}

fn sign(vector: &Vector) -> cce_autopilot_signing::Signature {
    let path = path();
    let req = SignableRequest {
        method: "POST",
        path: &path,
        query: &[],
        headers: &vector.headers,
        body: BODY,
    };
    Signer::new(AK, SK)
        .with_algorithm(vector.algorithm.clone())
        .sign(&req)
        .expect("the vectors are signable")
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[test]
fn body_hash_matches_the_document() {
    assert_eq!(BODY.len(), 16);
    assert_eq!(
        payload_hash(&[], BODY),
        "1153665e1414437e01eaf817dcb5277c4e96eec7081f77a5c5c5d7eb376110f8"
    );
}

#[test]
fn vector_a_canonical_request() {
    let expected = "POST
/autopilot/v3/projects/0123456789abcdef0123456789abcdef/clusters/3f0c9a1e-2b4d-4c6e-8f10-123456789abc/clustercert/

content-type:application/json
host:cce.cn-north-4.myhuaweicloud.com
user-agent:huaweicloud-usdk-python/3.0; golden-test
x-project-id:0123456789abcdef0123456789abcdef
x-sdk-date:20261128T120000Z

content-type;host;user-agent;x-project-id;x-sdk-date
1153665e1414437e01eaf817dcb5277c4e96eec7081f77a5c5c5d7eb376110f8";
    assert_eq!(sign(&vector_a()).canonical_request, expected);
}

#[test]
fn vector_a_string_to_sign() {
    assert_eq!(
        sign(&vector_a()).string_to_sign,
        "SDK-HMAC-SHA256\n20261128T120000Z\n48bfdcec101577b561d61bf3933191c34873820f800bc8cf725a5022c3807d62"
    );
}

#[test]
fn vector_a_authorization() {
    let vector = vector_a();
    let signature = sign(&vector);
    assert_eq!(signature.authorization, vector.authorization);
    assert_eq!(
        signature.signed_headers,
        "content-type;host;user-agent;x-project-id;x-sdk-date"
    );
}

#[test]
fn vector_b_canonical_request_hash() {
    assert_eq!(
        sha256_hex(&sign(&vector_b()).canonical_request),
        "e61e6d08686734e62d22d974586647f41ded1020622ae4af3fd4dec16f8c79cd"
    );
}

#[test]
fn vector_b_string_to_sign() {
    assert_eq!(
        sign(&vector_b()).string_to_sign,
        "SDK-HMAC-SHA256\n20261128T120000Z\ne61e6d08686734e62d22d974586647f41ded1020622ae4af3fd4dec16f8c79cd"
    );
}

#[test]
fn vector_b_authorization() {
    let vector = vector_b();
    assert_eq!(sign(&vector).authorization, vector.authorization);
}

#[test]
fn vector_c_derived_key() {
    let key = derive_v11_key(AK, &SecretKey::from(SK), "20261128/cn-north-4/cce");
    assert_eq!(
        key.expose(),
        "b81cf6dc5b2d1d1aec3ab71d5a7d24aead5dc636170f0d508d623d43cf31c7e9"
    );
}

#[test]
fn vector_c_string_to_sign() {
    assert_eq!(
        sign(&vector_c()).string_to_sign,
        "V11-HMAC-SHA256\n20261128T120000Z\n20261128/cn-north-4/cce\ne61e6d08686734e62d22d974586647f41ded1020622ae4af3fd4dec16f8c79cd"
    );
}

#[test]
fn vector_c_authorization() {
    let vector = vector_c();
    assert_eq!(sign(&vector).authorization, vector.authorization);
}

#[test]
fn vector_c_canonical_request_is_vector_b_s() {
    assert_eq!(
        sign(&vector_c()).canonical_request,
        sign(&vector_b()).canonical_request
    );
}

/// The parts of a vector's request as received by the gateway; tests change one part at a time.
struct Received {
    method: &'static str,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn of(vector: &Vector) -> Self {
        let mut headers = vector.headers.clone();
        headers.push(header("Authorization", vector.authorization));
        Self {
            method: "POST",
            path: path(),
            query: Vec::new(),
            headers,
            body: BODY.to_vec(),
        }
    }

    fn verify_with(
        &self,
        lookup: impl Fn(&str) -> Option<&'static SecretKey>,
    ) -> Result<cce_autopilot_signing::Verified, VerifyError> {
        let req = SignableRequest {
            method: self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        };
        verify(&req, lookup)
    }

    fn verify(&self) -> Result<cce_autopilot_signing::Verified, VerifyError> {
        self.verify_with(known_key)
    }

    fn set_header(&mut self, name: &str, value: &str) {
        let slot = self
            .headers
            .iter_mut()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .expect("the header is present");
        slot.1 = value.to_owned();
    }
}

fn known_key(ak: &str) -> Option<&'static SecretKey> {
    static KEY: std::sync::LazyLock<SecretKey> = std::sync::LazyLock::new(|| SecretKey::from(SK));
    (ak == AK).then(|| &*KEY)
}

fn wrong_key(_: &str) -> Option<&'static SecretKey> {
    static KEY: std::sync::LazyLock<SecretKey> =
        std::sync::LazyLock::new(|| SecretKey::from("exampleSecretKey0000000000000000000000001"));
    Some(&*KEY)
}

#[test]
fn verify_accepts_the_vectors() {
    for vector in vectors() {
        let verified = Received::of(&vector)
            .verify()
            .unwrap_or_else(|err| panic!("vector {}: {err}", vector.name));
        assert_eq!(verified.access_key, AK);
        assert_eq!(verified.sdk_date, SDK_DATE);
        assert_eq!(verified.algorithm, vector.algorithm);
        assert_eq!(
            verified.signed_headers.join(";"),
            sign(&vector).signed_headers
        );
    }
}

#[test]
fn verify_accepts_values_with_surrounding_white_space() {
    for vector in vectors() {
        let mut received = Received::of(&vector);
        received.set_header("Host", &format!("  {HOST}\t"));
        assert!(received.verify().is_ok(), "vector {}", vector.name);
    }
}

#[test]
fn verify_rejects_a_wrong_secret_key() {
    for vector in vectors() {
        assert_eq!(
            Received::of(&vector).verify_with(wrong_key),
            Err(VerifyError::SignatureMismatch),
            "vector {}",
            vector.name
        );
    }
}

#[test]
fn verify_rejects_an_unknown_access_key() {
    for vector in vectors() {
        assert_eq!(
            Received::of(&vector).verify_with(|_| None),
            Err(VerifyError::UnknownAccessKey(AK.to_owned())),
            "vector {}",
            vector.name
        );
    }
}

#[test]
fn verify_rejects_a_changed_body() {
    for vector in vectors() {
        let mut received = Received::of(&vector);
        received.body = br#"{"duration": 31}"#.to_vec();
        assert_eq!(
            received.verify(),
            Err(VerifyError::SignatureMismatch),
            "vector {}",
            vector.name
        );
    }
}

#[test]
fn verify_rejects_a_changed_signed_header_value() {
    for vector in vectors() {
        for (name, value) in [
            ("Host", "cce.cn-north-1.myhuaweicloud.com"),
            ("Content-Type", "application/json;charset=UTF-8"),
            ("X-Sdk-Date", "20261128T120001Z"),
        ] {
            let mut received = Received::of(&vector);
            received.set_header(name, value);
            assert_eq!(
                received.verify(),
                Err(VerifyError::SignatureMismatch),
                "vector {} header {name}",
                vector.name
            );
        }
    }
    let mut received = Received::of(&vector_a());
    received.set_header("X-Project-Id", "fedcba9876543210fedcba9876543210");
    assert_eq!(received.verify(), Err(VerifyError::SignatureMismatch));
}

#[test]
fn verify_rejects_a_missing_signed_header() {
    for vector in vectors() {
        let mut received = Received::of(&vector);
        received
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("Host"));
        assert_eq!(
            received.verify(),
            Err(VerifyError::MissingSignedHeader("host".to_owned())),
            "vector {}",
            vector.name
        );
    }
}

#[test]
fn verify_rejects_a_changed_path() {
    for vector in vectors() {
        let mut received = Received::of(&vector);
        received.path = received
            .path
            .replace(CLUSTER, "3f0c9a1e-2b4d-4c6e-8f10-123456789abd");
        assert_eq!(
            received.verify(),
            Err(VerifyError::SignatureMismatch),
            "vector {}",
            vector.name
        );
    }
}

#[test]
fn verify_rejects_a_changed_query() {
    for vector in vectors() {
        let mut received = Received::of(&vector);
        received
            .query
            .push(("duration".to_owned(), "30".to_owned()));
        assert_eq!(
            received.verify(),
            Err(VerifyError::SignatureMismatch),
            "vector {}",
            vector.name
        );
    }
}

#[test]
fn verify_rejects_a_changed_method() {
    for vector in vectors() {
        let mut received = Received::of(&vector);
        received.method = "PUT";
        assert_eq!(
            received.verify(),
            Err(VerifyError::SignatureMismatch),
            "vector {}",
            vector.name
        );
    }
}

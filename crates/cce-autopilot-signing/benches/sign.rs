//! Signing one request (vector A of signing.md): canonical request, hashes, HMAC, header.
#![allow(missing_docs)]

use cce_autopilot_signing::{SignableRequest, Signer, verify};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn headers() -> Vec<(String, String)> {
    [
        ("Content-Type", "application/json"),
        ("Host", "cce.cn-north-4.myhuaweicloud.com"),
        ("User-Agent", "huaweicloud-usdk-python/3.0; golden-test"),
        ("X-Project-Id", "0123456789abcdef0123456789abcdef"),
        ("X-Sdk-Date", "20261128T120000Z"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

const PATH: &str = "/autopilot/v3/projects/0123456789abcdef0123456789abcdef/clusters/3f0c9a1e-2b4d-4c6e-8f10-123456789abc/clustercert";

fn bench(c: &mut Criterion) {
    let signer = Signer::new(
        "HPUAEXAMPLEAK00000001",
        "exampleSecretKey0000000000000000000000000",
    );
    let headers = headers();
    let req = SignableRequest {
        method: "POST",
        path: PATH,
        query: &[],
        headers: &headers,
        body: br#"{"duration": 30}"#,
    };
    c.bench_function("sign/vector_a", |b| {
        b.iter(|| signer.sign(black_box(&req)).expect("signs"))
    });

    let mut signed = headers.clone();
    signed.push((
        "Authorization".into(),
        signer.sign(&req).expect("signs").authorization,
    ));
    let verified = SignableRequest {
        headers: &signed,
        ..req
    };
    let sk = cce_autopilot_signing::SecretKey::from("exampleSecretKey0000000000000000000000000");
    c.bench_function("verify/vector_a", |b| {
        b.iter(|| verify(black_box(&verified), |_| Some(&sk)).expect("verifies"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

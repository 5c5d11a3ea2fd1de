//! The client's overhead: one call (build, sign, send, parse) against an in-process fixed-response server,
//! next to a raw reqwest baseline that sends identical bytes and only reads the body; and parsing a ~6 KB
//! kubeconfig. `scripts/bench-report.sh` prints the ratio.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use cce_autopilot::{CertDuration, Client, Credentials, Environment, Kubeconfig, RetryConfig};
use criterion::{Criterion, criterion_group, criterion_main};

const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const CLUSTER: &str = "3f0c9a1e-2b4d-4c6e-8f10-123456789abc";

fn bench(c: &mut Criterion) {
    let body = cce_autopilot_tests::kubeconfig_fixture(6 * 1024);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(async {
        let body = body.clone();
        let app = Router::new().route(
            "/autopilot/v3/projects/{project}/clusters/{cluster}/clustercert",
            post(move || {
                let body = body.clone();
                async move {
                    (
                        [
                            ("content-type", "application/json"),
                            ("x-request-id", "0123456789abcdef0123456789abcdef"),
                        ],
                        body,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    });

    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(&url)
        .project_id(PROJECT)
        .credentials(Credentials::new(
            "HPUAEXAMPLEAK00000001",
            "exampleSecretKey0000000000000000000000000",
        ))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let duration = CertDuration::days(30).unwrap();

    // The baseline sends the bytes our client sends (captured headers would differ only in date and signature).
    let raw = reqwest::Client::builder().no_proxy().build().unwrap();
    let cert_url = format!("{url}/autopilot/v3/projects/{PROJECT}/clusters/{CLUSTER}/clustercert");
    let host = url.trim_start_matches("http://").to_owned();

    let mut group = c.benchmark_group("call");
    group.bench_function("cce_autopilot_client", |b| {
        b.to_async(&rt).iter(|| async {
            let cert = client
                .cluster_cert(CLUSTER)
                .duration(duration)
                .send()
                .await
                .unwrap();
            black_box(cert)
        })
    });
    // The same bytes, with and without the per-request time-out the client always sets: a tokio timer per
    // request is a measurable share of a loopback call, so the fair comparison is the second one.
    let raw_call = |timeout: Option<Duration>| {
        let mut request = raw
            .post(&cert_url)
            .header("accept", "application/json")
            .header("content-type", "application/json")
            .header("host", &host)
            .header("user-agent", "cce-autopilot-rust/0.1.0")
            .header("x-project-id", PROJECT)
            .header("x-sdk-date", "20261128T120000Z")
            .header(
                "authorization",
                "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK00000001, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=a0cf8b23e1be5d464c1905e297aba46daaa72879018fd53781b1104117f55ed6",
            )
            .body(r#"{"duration":30}"#);
        if let Some(t) = timeout {
            request = request.timeout(t);
        }
        async move { black_box(request.send().await.unwrap().bytes().await.unwrap()) }
    };
    group.bench_function("raw_reqwest_baseline", |b| {
        b.to_async(&rt).iter(|| raw_call(None))
    });
    group.bench_function("raw_reqwest_baseline_with_timeout", |b| {
        b.to_async(&rt)
            .iter(|| raw_call(Some(Duration::from_secs(30))))
    });
    group.finish();

    c.bench_function("parse/kubeconfig_6kb", |b| {
        b.iter(|| serde_json::from_str::<Kubeconfig>(black_box(&body)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

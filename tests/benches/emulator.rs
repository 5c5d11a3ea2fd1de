//! The emulator: certificates issued per second over loopback (signed calls, fresh key and certificate each),
//! and the latency distribution of one call (p50, p99), measured over a fixed number of sequential calls.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use cce_autopilot::{CertDuration, Client, Credentials, Environment, RetryConfig};
use cce_autopilot_emulator::Emulator;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt
        .block_on(Emulator::builder().cluster("bench").start())
        .unwrap();
    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .project_id(emu.project_id())
        .credentials(Credentials::new(emu.access_key(), emu.secret_key()))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let duration = CertDuration::days(1).unwrap();

    // Latency percentiles: criterion reports means and medians, so the tail is measured here directly.
    let mut samples: Vec<Duration> = rt.block_on(async {
        let mut out = Vec::with_capacity(500);
        for _ in 0..500 {
            let started = Instant::now();
            client
                .cluster_cert("bench")
                .duration(duration)
                .send()
                .await
                .unwrap();
            out.push(started.elapsed());
        }
        out
    });
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "emulator/loopback_call latency over {} calls: p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1]
    );

    let mut group = c.benchmark_group("emulator");
    group.throughput(Throughput::Elements(1));
    group.bench_function("issue_certificate_over_loopback", |b| {
        b.to_async(&rt).iter(|| async {
            client
                .cluster_cert("bench")
                .duration(duration)
                .send()
                .await
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! N sequential `cluster_cert(..).send()` calls with one `cce_autopilot::Client`, after a warm-up; prints
//! one line of `key=value` results for scripts/bench-vs-official-sdk.sh.
//!
//! Usage: cce-autopilot-bench-rust-loop URL PROJECT_ID CLUSTER_ID DURATION_DAYS CALLS WARMUP
//! (AK/SK from HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK).

use std::time::{Duration, Instant};

use cce_autopilot::{CertDuration, Client, Credentials, Environment, RetryConfig};

type BoxError = Box<dyn std::error::Error>;

// One thread, like the official Python SDK's synchronous client: the comparison is per call, not per core.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, project_id, cluster_id, days, calls, warmup] = args.as_slice() else {
        return Err("usage: URL PROJECT_ID CLUSTER_ID DURATION_DAYS CALLS WARMUP".into());
    };
    let duration = CertDuration::days(days.parse()?)?;
    let (calls, warmup): (usize, usize) = (calls.parse()?, warmup.parse()?);
    if calls == 0 {
        return Err("CALLS must be at least 1".into());
    }
    let ak = std::env::var("HUAWEICLOUD_SDK_AK")?;
    let sk = std::env::var("HUAWEICLOUD_SDK_SK")?;

    // Nothing from this machine's environment or ~/.huaweicloud; no retries (the SDK loop has none either).
    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(url)
        .project_id(project_id)
        .credentials(Credentials::new(ak, sk))
        .retry(RetryConfig::disabled())
        .timeout(Duration::from_secs(30))
        .build()?;

    let call = || async {
        let cert = client
            .cluster_cert(cluster_id.as_str())
            .duration(duration)
            .send()
            .await?;
        if cert.port_id.is_none() || cert.kubeconfig.users.is_empty() {
            return Err::<(), BoxError>("a response without Port-ID or users".into());
        }
        Ok(())
    };
    for _ in 0..warmup {
        call().await?;
    }
    let mut latencies = Vec::with_capacity(calls);
    let start = Instant::now();
    for _ in 0..calls {
        let t = Instant::now();
        call().await?;
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    let pick = |q: f64| latencies[((q * calls as f64).ceil() as usize).clamp(1, calls) - 1];
    println!(
        "calls={calls} seconds={:.6} calls_per_s={:.2} p50_ms={:.3} p90_ms={:.3}",
        total.as_secs_f64(),
        calls as f64 / total.as_secs_f64(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.9).as_secs_f64() * 1e3,
    );
    Ok(())
}

//! A `kube::Client` that outlives its certificates: `RenewingKubeClient` renews a one-day certificate before
//! it expires and swaps the client, while the program keeps calling the cluster. Against the embedded
//! emulator, whose clock is set 23 hours back so that renewals come every two seconds instead of every 16
//! hours.
//!
//! `cargo run -p cce-autopilot --features kube --example kube_renewing`

use std::time::Duration;

use cce_autopilot::{Access, CertDuration, Client, Credentials, RenewOptions, RenewingKubeClient};
use cce_autopilot_emulator::Emulator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder().start().await?;
    emulator.set_clock_offset_secs(-23 * 3600);
    let client = Client::builder()
        .endpoint(emulator.url())
        .project_id(emulator.project_id())
        .credentials(Credentials::new(
            emulator.access_key(),
            emulator.secret_key(),
        ))
        .build()?;
    let cluster = emulator.cluster_ids()[0].clone();

    // In a real program: RenewingKubeClient::start(client, id, Access::Internal, CertDuration::days(1)?).
    let options = RenewOptions::default().with_min_interval(Duration::from_secs(2));
    let kube = RenewingKubeClient::start_with(
        client,
        &cluster,
        Access::Internal,
        CertDuration::days(1)?,
        options,
    )
    .await?;
    for _ in 0..4 {
        // Take the client for each piece of work.
        let version = kube.client().apiserver_version().await?;
        println!(
            "API server {}; certificate expires {}; {} renewals so far",
            version.git_version,
            kube.expires_at(),
            kube.renewals()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    drop(kube);
    emulator.shutdown().await;
    Ok(())
}

//! From cluster id to `kube::Client`: fetch a certificate from the embedded emulator and ask its API-server
//! stub for `/version` through kube-rs.
//!
//! `cargo run -p cce-autopilot --features kube --example kube_version`

use cce_autopilot::{Access, CertDuration, Client, Credentials};
use cce_autopilot_emulator::Emulator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder().start().await?;
    let client = Client::builder()
        .endpoint(emulator.url())
        .project_id(emulator.project_id())
        .credentials(Credentials::new(
            emulator.access_key(),
            emulator.secret_key(),
        ))
        .build()?;
    let cluster = &emulator.cluster_ids()[0];

    // The three lines:
    let cert = client
        .cluster_cert(cluster)
        .duration(CertDuration::days(1)?)
        .send()
        .await?;
    let kube = kube::Client::try_from(cert.kube_config(Access::Internal).await?)?;
    let version = kube.apiserver_version().await?;

    println!(
        "cluster {cluster}: API server {} ({})",
        version.git_version, version.platform
    );
    emulator.shutdown().await;
    Ok(())
}

//! `kubeconfig get`: the kubeconfig as the service returns it.

use crate::cli::{Format, GetArgs, GlobalArgs};
use crate::exit;

use super::common::{build_client, write_private_file};

/// Fetches and prints (or saves) one kubeconfig.
pub async fn run(global: &GlobalArgs, args: GetArgs) -> anyhow::Result<u8> {
    let client = build_client(global)?;
    let cert = client.cluster_cert(&args.cluster_id).duration(args.duration).send().await?;
    tracing::info!(request_id = cert.request_id.as_deref(), port_id = cert.port_id.as_deref(), "fetched");
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&cert.kubeconfig)? + "\n",
        Format::Yaml => serde_saphyr::to_string(&cert.kubeconfig)?,
    };
    match &args.output {
        Some(path) => {
            write_private_file(path, text.as_bytes())?;
            eprintln!("wrote {} (request id {})", path.display(), cert.request_id.as_deref().unwrap_or("-"));
        }
        None => print!("{text}"),
    }
    Ok(exit::OK)
}

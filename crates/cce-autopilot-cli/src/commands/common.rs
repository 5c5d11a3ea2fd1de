//! What several commands share: building the client from the global options, writing private files.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use cce_autopilot::{Client, RetryConfig};
use cce_autopilot_kubeconfig::fs;

use crate::cli::GlobalArgs;
use crate::exit::CliError;

/// The client the global options describe; credentials come from the official SDKs' sources.
pub fn build_client(global: &GlobalArgs) -> anyhow::Result<Client> {
    let mut builder =
        Client::builder().retry(RetryConfig::default().with_max_elapsed(global.timeout));
    if let Some(region) = &global.region {
        builder = builder.region(region);
    }
    if let Some(project) = &global.project_id {
        builder = builder.project_id(project);
    }
    if let Some(endpoint) = &global.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let Some(iam) = &global.iam_endpoint {
        builder = builder.iam_endpoint(iam);
    }
    Ok(builder.timeout(global.timeout).build()?)
}

/// Writes `contents` to `path` atomically, mode 0600, creating its directory (0700) when missing.
pub fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::ensure_private_dir(dir)
        .map_err(|e| CliError::file(format!("cannot create directory {}: {e}", dir.display())))?;
    fs::write_file_atomic(path, contents, fs::PRIVATE)
        .map_err(|e| CliError::file(format!("cannot write {}: {e}", path.display())).into())
}

/// Writes `text` to stdout. A closed pipe (`… | head`) ends the output quietly instead of panicking as
/// `print!` would.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other.context("cannot write to stdout")?),
    }
}

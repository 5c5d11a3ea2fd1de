//! `kubeconfig get`: the kubeconfig as the service returns it — of one cluster to stdout or a file, or
//! of several clusters to one file each in a directory.

use std::path::{Path, PathBuf};

use cce_autopilot::ClusterCert;

use crate::args::GlobalArgs;
use crate::exit::{self, CliError};

use super::common::{build_client, write_private_file};
use super::update::fetch;
use crate::args::{ClusterArgs, parse_cert_duration};
use cce_autopilot::CertDuration;
use clap::{Args, ValueEnum};

/// How many kubeconfigs `get` fetches at once.
const IN_FLIGHT: usize = 4;

/// `kubeconfig get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The clusters (several need -o DIR).
    #[command(flatten)]
    pub clusters: ClusterArgs,
    /// Certificate validity: days (1-1827, at most five years from today), -1 or max for five years.
    #[arg(long, default_value = "30", allow_hyphen_values = true, value_parser = parse_cert_duration)]
    pub duration: CertDuration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Write to this file (0600, atomically, through a symlink) instead of stdout; `-` and /dev/stdout
    /// are stdout, and a device or pipe is written in place. With several clusters, or when it is an
    /// existing directory (or ends with /), a directory: one DIR/<cluster-id>.yaml (.json) per cluster.
    #[arg(short = 'o', long, value_name = "FILE|DIR")]
    pub output: Option<PathBuf>,
}

/// Output formats of `kubeconfig get`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// kubectl's YAML layout.
    Yaml,
    /// The service's JSON.
    Json,
}

/// Fetches and prints (or saves) the kubeconfigs; 8 when some clusters failed and the others were saved.
pub async fn run(global: &GlobalArgs, args: GetArgs) -> anyhow::Result<crate::exit::Exit> {
    let several = args
        .clusters
        .cluster
        .iter()
        .any(|c| c != &args.clusters.cluster[0]);
    let dir = match &args.output {
        Some(out) if several || is_dir_like(out) => Some(out.clone()),
        None if several => {
            return Err(CliError::usage(
                "several --cluster need -o DIR: one file per cluster is written there",
            )
            .into());
        }
        _ => None,
    };
    let client = build_client(global, global.timeout_or(crate::args::DEFAULT_TIMEOUT))?;
    let resolution = super::resolve::resolve_ids(&client, &args.clusters.cluster).await?;
    if let Some(note) = &resolution.note {
        say!("{note}");
    }
    let ids: Vec<String> = resolution.clusters.iter().map(|c| c.id.clone()).collect();
    let Some(dir) = dir else {
        let id = &ids[0];
        let cert = client
            .cluster_cert(id)
            .duration(args.duration)
            .send()
            .await?;
        tracing::info!(
            request_id = cert.request_id.as_deref(),
            port_id = cert.port_id.as_deref(),
            "fetched"
        );
        super::expiry::check_fresh_answer(&cert.kubeconfig, id, time::OffsetDateTime::now_utc())?;
        let text = render(&cert, args.format)?;
        // `-` and `/dev/stdout` are stdout itself, whatever it is connected to.
        let to_stdout = |p: &&Path| *p == Path::new("-") || *p == Path::new("/dev/stdout");
        match args.output.as_deref().filter(|p| !to_stdout(p)) {
            Some(path) => {
                let how = write_output(path, text.as_bytes())?;
                say!(
                    "wrote {}{how} (request id {})",
                    path.display(),
                    cert.request_id.as_deref().unwrap_or("-")
                );
            }
            None => super::common::print_stdout(&text)?,
        }
        return Ok(exit::OK);
    };

    let extension = match args.format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    let mut failures = Vec::new();
    let mut written = 0usize;
    let runner = crate::commands::fleet::Runner::new(IN_FLIGHT, ids.len() > 1);
    let calls: Vec<_> = ids.iter().map(|id| (client.clone(), id.clone())).collect();
    let fetched_all = fetch::fetch_all(&runner, &calls, args.duration).await;
    runner.finish();
    for fetched in fetched_all {
        let id = fetched.cluster_id;
        let saved = fetched.result.and_then(|cert| {
            super::expiry::check_fresh_answer(
                &cert.kubeconfig,
                &id,
                time::OffsetDateTime::now_utc(),
            )?;
            let path = file_for(&dir, &id, extension)?;
            write_private_file(&path, render(&cert, args.format)?.as_bytes())?;
            say!(
                "wrote {} (request id {})",
                path.display(),
                cert.request_id.as_deref().unwrap_or("-")
            );
            Ok(())
        });
        match saved {
            Ok(()) => written += 1,
            Err(err) => failures.push((id, err)),
        }
    }
    if written == 0 && failures.len() == 1 {
        let (id, err) = failures.remove(0);
        return Err(CliError {
            code: exit::code_for(&err),
            message: fetch::failure_line(&id, &err),
        }
        .into());
    }
    for (id, err) in &failures {
        say!("error: {}", fetch::failure_line(id, err));
    }
    if written == 0 {
        let code = failures
            .first()
            .map_or(exit::FAILURE, |(_, e)| exit::code_for(e));
        return Err(CliError {
            code,
            message: format!(
                "none of the {} clusters could be saved (see above)",
                failures.len()
            ),
        }
        .into());
    }
    Ok(if failures.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    })
}

fn render(cert: &ClusterCert, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(&cert.kubeconfig)? + "\n",
        Format::Yaml => serde_saphyr::to_string(&cert.kubeconfig)?,
    })
}

/// Writes `-o PATH`. A regular file (or a new one) is replaced atomically, 0600, through any symlink (the
/// link stays a link); anything else that can be opened for writing — `/dev/stdout`, a terminal, a pipe, a
/// device — is written in place, as a shell's `>` would, never renamed over. Returns how, for the message.
pub(crate) fn write_output(path: &Path, contents: &[u8]) -> anyhow::Result<&'static str> {
    use std::io::Write as _;
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() && !meta.is_dir() => {
            let kind = cce_autopilot_kubeconfig::fs::file_type_name(&meta);
            if cce_autopilot_kubeconfig::fs::is_socket(&meta) {
                return Err(CliError::file(format!(
                    "cannot write to {}: it is a socket",
                    path.display()
                ))
                .into());
            }
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| {
                    CliError::file(format!("cannot open {} ({kind}): {e}", path.display()))
                })?;
            out.write_all(contents)
                .and_then(|()| out.flush())
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::BrokenPipe => CliError::output_closed(),
                    _ => {
                        CliError::file(format!("cannot write to {} ({kind}): {e}", path.display()))
                    }
                })?;
            Ok(" in place (not a regular file)")
        }
        _ => {
            let real = cce_autopilot_kubeconfig::fs::resolve_target(path)
                .map_err(|e| CliError::file(format!("cannot resolve {}: {e}", path.display())))?;
            write_private_file(&real, contents)?;
            Ok("")
        }
    }
}

/// `-o` names a directory when it is one, or ends with a slash.
fn is_dir_like(path: &Path) -> bool {
    path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/')
}

/// `DIR/<cluster-id>.<ext>`; an id that is not a plain file name is refused.
fn file_for(dir: &Path, id: &str, extension: &str) -> anyhow::Result<PathBuf> {
    if id.is_empty() || id.starts_with('.') || id.contains(['/', '\\']) {
        return Err(CliError::usage(format!(
            "cluster id {id:?} cannot name a file in {}",
            dir.display()
        ))
        .into());
    }
    Ok(dir.join(format!("{id}.{extension}")))
}

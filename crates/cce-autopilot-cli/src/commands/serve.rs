//! `emulator serve`: the local emulator until SIGINT or SIGTERM.

use anyhow::Context as _;
use cce_autopilot_emulator::{Emulator, Faults, demo_banner};

use crate::args::GlobalArgs;
use crate::args::{parse_offset, parse_timeout};
use crate::exit;
use clap::Args;
use std::path::PathBuf;

/// `emulator serve`. The project id and region served are the global `--project-id` and `--region`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Access key to accept (with --sk).
    #[arg(long, requires = "sk")]
    pub ak: Option<String>,
    /// Secret key of --ak.
    #[arg(long, requires = "ak")]
    pub sk: Option<String>,
    /// A cluster without a public IP, NAME=ID, or a bare ID that gets a generated name (repeatable).
    #[arg(long = "cluster", value_name = "NAME=ID")]
    pub clusters: Vec<String>,
    /// A cluster with a public IP, NAME=ID or ID (repeatable).
    #[arg(long = "public-cluster", value_name = "NAME=ID")]
    pub public_clusters: Vec<String>,
    /// An X-Auth-Token to accept (repeatable).
    #[arg(long = "token", value_name = "T")]
    pub tokens: Vec<String>,
    /// Keep the cluster CAs here so they survive restarts.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Run the emulator's clock this far ahead (e.g. 20m) or behind (-20m), so that clients look skewed.
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true, value_parser = parse_offset)]
    pub clock_offset: Option<i64>,
    /// Inject a fault (repeatable, combined): latency=200ms, 503=first:3, 429=25%, drop=first:1,
    /// truncate=always, retry-after=2s, seed=N, scope=certificate|gateway|all, metadata=rotate.
    #[arg(long = "fault", value_name = "KEY=VALUE")]
    pub faults: Vec<String>,
    /// Close a connection whose request head, body or TLS handshake has not arrived within this.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub read_timeout: std::time::Duration,
    /// Serve at most this many connections at once; more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// The identity world (YAML): users, identity providers (JWKS), agencies, who the ECS metadata
    /// service and pod identity act as. Serves IAM's and STS's identity calls; see the emulator's README.
    #[arg(long, value_name = "FILE")]
    pub identity_file: Option<PathBuf>,
    /// Serve PUT /_emulator/clock-offset (body: whole seconds), to move the clock while running.
    #[arg(long)]
    pub admin: bool,
    /// Serve a fleet instead of the demo clusters, RxPxC: the first R regions of the SDK's table, P
    /// projects in each (<region>, <region>_p2, …) and C private clusters app-1 … app-C in every project.
    #[arg(long, value_name = "RxPxC", conflicts_with_all = ["clusters", "public_clusters"])]
    pub fleet: Option<cce_autopilot_emulator::FleetSize>,
}

/// Starts the emulator, prints the banner (first line: the base URL), serves until a signal arrives.
pub async fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<crate::exit::Exit> {
    let mut builder = Emulator::builder().listen(args.listen).admin(args.admin);
    if let Some(file) = &args.identity_file {
        builder = builder.identity_file(file);
    }
    if let (Some(ak), Some(sk)) = (&args.ak, &args.sk) {
        builder = builder.credentials(ak, sk);
    }
    if let Some(project) = &global.project_id {
        builder = builder.project_id(project);
    }
    if let Some(region) = &global.region {
        builder = builder.region(region);
    }
    for (public, spec) in args
        .clusters
        .iter()
        .map(|c| (false, c))
        .chain(args.public_clusters.iter().map(|c| (true, c)))
    {
        builder = match (spec.split_once('='), public) {
            (Some((name, id)), false) => builder.named_cluster(name, id),
            (Some((name, id)), true) => builder.named_public_cluster(name, id),
            (None, false) => builder.cluster(spec),
            (None, true) => builder.public_cluster(spec),
        };
    }
    if let Some(size) = args.fleet {
        if global.region.is_some() || global.project_id.is_some() {
            say!(
                "note: --fleet serves its own regions and projects; the region and project id given are not used"
            );
        }
        builder = builder.fleet(size)?;
    }
    for token in &args.tokens {
        builder = builder.token(token);
    }
    if let Some(dir) = &args.state_dir {
        builder = builder.state_dir(dir);
    }
    if let Some(offset) = args.clock_offset {
        builder = builder.clock_offset_secs(offset);
    }
    let mut faults = Faults::none();
    for item in &args.faults {
        faults = faults
            .with_spec(item)
            .map_err(|e| crate::exit::CliError::usage(format!("--fault: {e}")))?;
    }
    builder = builder
        .faults(faults)
        .read_timeout(args.read_timeout)
        .max_connections(usize::try_from(args.max_connections).unwrap_or(usize::MAX));
    // Signals are taken before the banner says we are up: a SIGTERM right after it is a clean stop.
    let stop = stop_signal()?;
    let emulator = builder.start().await.context("cannot start the emulator")?;
    // With stdout closed the emulator serves all the same: whoever started it chose not to read the banner.
    let _ = super::common::print_stdout(&demo_banner(&emulator));

    stop.await?;
    say!("stopping");
    emulator.shutdown().await;
    Ok(exit::OK)
}

/// SIGINT or SIGTERM, registered now, awaited later.
#[cfg(unix)]
fn stop_signal() -> anyhow::Result<impl Future<Output = anyhow::Result<()>>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
        Ok(())
    })
}

/// Ctrl-C (Windows has no SIGTERM).
#[cfg(not(unix))]
fn stop_signal() -> anyhow::Result<impl Future<Output = anyhow::Result<()>>> {
    Ok(async {
        tokio::signal::ctrl_c().await?;
        Ok(())
    })
}

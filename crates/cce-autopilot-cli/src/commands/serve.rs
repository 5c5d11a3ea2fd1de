//! `emulator serve`: the local emulator until SIGINT or SIGTERM.

use anyhow::Context as _;
use cce_autopilot_emulator::{Emulator, Faults, demo_banner};

use crate::cli::{GlobalArgs, ServeArgs};
use crate::exit;

/// Starts the emulator, prints the banner (first line: the base URL), serves until a signal arrives.
pub async fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<crate::exit::Exit> {
    let mut builder = Emulator::builder().listen(args.listen);
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

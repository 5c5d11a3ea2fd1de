//! One module per command; each is a thin layer over the client, the emulator and the kubeconfig files.

mod cache;
mod clusters;
mod common;
pub mod credential;
#[cfg(feature = "emulator")]
pub mod demo;
pub mod expiry;
mod get;
pub mod inspect;
pub mod json;
mod prune;
mod refresh;
mod remove;
mod report;
mod resolve;
#[cfg(feature = "emulator")]
mod serve;
mod update;

pub use common::{build_client, write_private_file};

#[cfg(feature = "emulator")]
use crate::cli::EmulatorCommand;
use crate::cli::{Cli, Command, KubeconfigCommand};

/// Runs a parsed command line; returns the exit code of a command that did not fail outright.
pub async fn run(cli: Cli) -> anyhow::Result<crate::exit::Exit> {
    match cli.command {
        Command::Kubeconfig(KubeconfigCommand::Get(args)) => get::run(&cli.global, args).await,
        Command::Kubeconfig(KubeconfigCommand::Update(args)) => {
            update::run(&cli.global, args).await
        }
        Command::Kubeconfig(KubeconfigCommand::Inspect(args)) => inspect::run(args),
        Command::Kubeconfig(KubeconfigCommand::Remove(args)) => {
            remove::run(&cli.global, args).await
        }
        Command::Kubeconfig(KubeconfigCommand::Prune(args)) => prune::run(&cli.global, args).await,
        Command::Kubeconfig(KubeconfigCommand::Refresh(args)) => {
            refresh::run(&cli.global, args).await
        }
        Command::Clusters(crate::cli::ClustersCommand::List(args)) => {
            clusters::run(&cli.global, args).await
        }
        Command::Cache(crate::cli::CacheCommand::Clear(args)) => cache::clear(args),
        Command::Credential(args) => credential::run(&cli.global, args).await,
        #[cfg(feature = "emulator")]
        Command::Emulator(EmulatorCommand::Serve(args)) => serve::run(&cli.global, args).await,
        #[cfg(feature = "emulator")]
        Command::Demo(args) => demo::run(args).await,
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "cce-autopilot", &mut script);
            common::print_stdout(&String::from_utf8_lossy(&script))?;
            Ok(crate::exit::OK)
        }
        Command::Man => {
            common::print_stdout(&String::from_utf8_lossy(&man_page()?))?;
            Ok(crate::exit::OK)
        }
    }
}

/// The man page of the whole command, in roff (also written to `docs/man/` by `cargo xtask codegen`).
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
    Ok(out)
}

//! One module per command; each is a thin layer over the client, the emulator and the kubeconfig files.

mod common;
pub mod credential;
pub mod demo;
mod get;
pub mod inspect;
mod serve;
mod update;

pub use common::{build_client, write_private_file};

use crate::cli::{Cli, Command, EmulatorCommand, KubeconfigCommand};

/// Runs a parsed command line; returns the exit code of a command that did not fail outright.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Kubeconfig(KubeconfigCommand::Get(args)) => get::run(&cli.global, args).await,
        Command::Kubeconfig(KubeconfigCommand::Update(args)) => {
            update::run(&cli.global, args).await
        }
        Command::Kubeconfig(KubeconfigCommand::Inspect(args)) => inspect::run(args),
        Command::Credential(args) => credential::run(&cli.global, args).await,
        Command::Emulator(EmulatorCommand::Serve(args)) => serve::run(&cli.global, args).await,
        Command::Demo(args) => demo::run(args).await,
    }
}

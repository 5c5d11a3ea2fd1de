//! The command line as clap sees it — the tree of commands — and its dispatch. Each command's arguments and
//! run live in its module under `commands/`; the arguments several commands share, in `args`.

use clap::{Parser, Subcommand};

use crate::args::GlobalArgs;
use crate::commands;
use crate::exit::{self, Exit};

/// Kubeconfigs for Huawei Cloud CCE Autopilot clusters: fetched, merged safely, kept fresh.
///
/// Credentials come from the official SDK's chain, in its order: OIDC via STS (HUAWEICLOUD_OIDC_*), the
/// environment (HUAWEICLOUD_SDK_IDP_ID + HUAWEICLOUD_SDK_ID_TOKEN_FILE, else HUAWEICLOUD_SDK_AK /
/// HUAWEICLOUD_SDK_SK), ~/.huaweicloud/credentials, the ECS metadata service (CCE_AUTOPILOT_METADATA_DISABLED=1
/// turns it off), pod identity (HC_CONTAINER_CREDENTIALS_FULL_URI).
#[derive(Debug, Parser)]
#[command(
    name = "cce-autopilot",
    version,
    about,
    long_about,
    propagate_version = true
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch, merge, inspect, remove, prune and refresh kubeconfigs.
    #[command(subcommand)]
    Kubeconfig(KubeconfigCommand),
    /// The clusters of the project.
    #[command(subcommand)]
    Clusters(ClustersCommand),
    /// Run the local emulator of the service.
    #[cfg(feature = "emulator")]
    #[command(subcommand)]
    Emulator(EmulatorCommand),
    /// Start the embedded emulator, fetch a kubeconfig with the real client, and use it over mTLS.
    #[cfg(feature = "emulator")]
    Demo(commands::demo::DemoArgs),
    /// kubectl exec credential plugin: print a client certificate of a cluster, cached on disk.
    #[command(long_about = commands::credential::LONG_ABOUT)]
    Credential(commands::credential::CredentialArgs),
    /// The credential plugin's cache.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Who the credentials sign as (STS caller identity), and where they came from.
    Whoami(commands::whoami::WhoamiArgs),
    /// Print a shell completion script, e.g. `cce-autopilot completions bash > /etc/bash_completion.d/cce-autopilot`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `cce-autopilot man > cce-autopilot.1`.
    Man,
}

/// `emulator …`
#[cfg(feature = "emulator")]
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator until SIGINT/SIGTERM. First stdout line: the base URL.
    Serve(commands::serve::ServeArgs),
}

/// `cache …`
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Empty the credential plugin's cache: every entry, or those of one cluster.
    Clear(commands::cache::CacheClearArgs),
}

/// `kubeconfig …`
#[derive(Debug, Subcommand)]
pub enum KubeconfigCommand {
    /// Print (or save) the kubeconfig of a cluster as the service returns it.
    Get(commands::get::GetArgs),
    /// Fetch clusters' kubeconfigs and merge them into your kubeconfig, named per cluster.
    Update(commands::update::UpdateArgs),
    /// Check the client certificates of your kubeconfig: validity, key, CA (never prints keys).
    #[command(long_about = commands::inspect::LONG_ABOUT)]
    Inspect(commands::inspect::InspectArgs),
    /// Remove a cluster's entries from your kubeconfig (only those cce-autopilot wrote).
    Remove(commands::remove::RemoveArgs),
    /// Remove the entries of clusters the service no longer has.
    Prune(commands::prune::PruneArgs),
    /// Renew the static entries whose client certificate expires soon.
    Refresh(commands::refresh::RefreshArgs),
    /// Write one Kubernetes Secret per cluster for Argo CD, Flux or Cluster API.
    Export(commands::export::ExportArgs),
}

/// `clusters …`
#[derive(Debug, Subcommand)]
pub enum ClustersCommand {
    /// List the clusters of the project: name, id, phase, version, endpoints.
    List(commands::clusters::ListArgs),
}

impl Cli {
    /// Runs the command; returns the exit code of a command that did not fail outright.
    pub async fn run(self) -> anyhow::Result<Exit> {
        let global = &self.global;
        match self.command {
            Command::Kubeconfig(command) => match command {
                KubeconfigCommand::Get(args) => commands::get::run(global, args).await,
                KubeconfigCommand::Update(args) => commands::update::run(global, args).await,
                KubeconfigCommand::Inspect(args) => commands::inspect::run(args),
                KubeconfigCommand::Remove(args) => commands::remove::run(global, args).await,
                KubeconfigCommand::Prune(args) => commands::prune::run(global, args).await,
                KubeconfigCommand::Refresh(args) => commands::refresh::run(global, args).await,
                KubeconfigCommand::Export(args) => commands::export::run(global, args).await,
            },
            Command::Clusters(ClustersCommand::List(args)) => {
                commands::clusters::run(global, args).await
            }
            Command::Cache(CacheCommand::Clear(args)) => commands::cache::clear(args),
            Command::Credential(args) => commands::credential::run(global, args).await,
            Command::Whoami(args) => commands::whoami::run(global, args).await,
            #[cfg(feature = "emulator")]
            Command::Emulator(EmulatorCommand::Serve(args)) => {
                commands::serve::run(global, args).await
            }
            #[cfg(feature = "emulator")]
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Completions { shell } => {
                let mut command = <Cli as clap::CommandFactory>::command();
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut command, "cce-autopilot", &mut script);
                commands::print_stdout(&String::from_utf8_lossy(&script))?;
                Ok(exit::OK)
            }
            Command::Man => {
                commands::print_stdout(&String::from_utf8_lossy(&man_page()?))?;
                Ok(exit::OK)
            }
        }
    }
}

/// The man page of the whole command, in roff (also written to `docs/man/` by `cargo xtask codegen`).
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

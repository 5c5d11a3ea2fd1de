//! The command line, as clap sees it.

mod clusters;
mod kubeconfig;
mod values;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub use clusters::{ClustersCommand, ListArgs, ListFormat};
pub use kubeconfig::{
    FileArgs, Format, GetArgs, KubeconfigCommand, PruneArgs, RefreshArgs, RemoveArgs, ReportFormat,
    UpdateAccess, UpdateArgs,
};
pub use values::{
    DEFAULT_TIMEOUT, parse_cert_duration, parse_duration, parse_offset, parse_timeout,
};

/// Kubeconfigs for Huawei Cloud CCE Autopilot clusters: fetched, merged safely, kept fresh.
///
/// Credentials come from the same places as the official SDKs: HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK
/// (or CLOUD_SDK_AK / CLOUD_SDK_SK), then ~/.huaweicloud/credentials.
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

/// Options shared by every command.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Region id, e.g. cn-north-4 (selects the endpoint and the project).
    #[arg(long, global = true, env = "HUAWEICLOUD_SDK_REGION")]
    pub region: Option<String>,
    /// Project id (default: looked up from IAM for the region).
    #[arg(long, global = true, env = "HUAWEICLOUD_SDK_PROJECT_ID")]
    pub project_id: Option<String>,
    /// Service URL; overrides the region's endpoint (http:// allowed for local emulators).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// IAM URL for the project lookup (default: the region's).
    #[arg(long, global = true, value_name = "URL", hide = true)]
    pub iam_endpoint: Option<String>,
    /// Time budget of one API call, retries included, e.g. 30s, 2m [default: 60s; 15s for `credential`,
    /// which kubectl waits for].
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Authenticate with the IAM token in this file (X-Auth-Token) instead of AK/SK; CCE_AUTOPILOT_TOKEN
    /// may hold the token itself. Never on the command line: every user of the machine can read that.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Log what happens to stderr (-v: info, -vv: debug, -vvv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
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
    Demo(DemoArgs),
    /// kubectl exec credential plugin: print a client certificate of a cluster, cached on disk.
    #[command(long_about = crate::commands::credential::LONG_ABOUT)]
    Credential(crate::commands::credential::CredentialArgs),
    /// The credential plugin's cache.
    #[command(subcommand)]
    Cache(CacheCommand),
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
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator until SIGINT/SIGTERM. First stdout line: the base URL.
    Serve(ServeArgs),
}

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
    /// truncate=always, retry-after=2s, seed=N, scope=certificate|gateway|all.
    #[arg(long = "fault", value_name = "KEY=VALUE")]
    pub faults: Vec<String>,
    /// Close a connection whose request head, body or TLS handshake has not arrived within this.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub read_timeout: std::time::Duration,
    /// Serve at most this many connections at once; more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
}

/// `cache …`
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Empty the credential plugin's cache: every entry, or those of one cluster.
    Clear(CacheClearArgs),
}

/// `cache clear`
#[derive(Debug, Args)]
pub struct CacheClearArgs {
    /// Only this cluster's entries (its id, or a name the cache recorded).
    #[arg(long, visible_alias = "cluster-id", value_name = "NAME|ID")]
    pub cluster: Option<String>,
    /// The cache directory (default: CCE_AUTOPILOT_CACHE_DIR, else $XDG_CACHE_HOME/cce-autopilot/credentials,
    /// else ~/.cache/cce-autopilot/credentials; on Windows %LOCALAPPDATA%\cce-autopilot\credentials).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// `demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the kubeconfig the demo writes in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
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

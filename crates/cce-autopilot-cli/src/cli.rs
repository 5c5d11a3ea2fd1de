//! The command line, as clap sees it.

use std::path::PathBuf;
use std::time::Duration;

use cce_autopilot::CertDuration;
use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Fetch, merge and inspect kubeconfigs.
    #[command(subcommand)]
    Kubeconfig(KubeconfigCommand),
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
    /// Print a shell completion script, e.g. `cce-autopilot completions bash > /etc/bash_completion.d/cce-autopilot`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `cce-autopilot man > cce-autopilot.1`.
    Man,
}

/// `kubeconfig …`
#[derive(Debug, Subcommand)]
pub enum KubeconfigCommand {
    /// Print (or save) the kubeconfig as the service returns it.
    Get(GetArgs),
    /// Fetch clusters' kubeconfigs and merge them into your kubeconfig, renamed per cluster.
    Update(UpdateArgs),
    /// Check the client certificates of your kubeconfig: validity, key, CA (never prints keys).
    #[command(long_about = crate::commands::inspect::LONG_ABOUT)]
    Inspect(crate::commands::inspect::InspectArgs),
}

/// Output formats of `kubeconfig get`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// kubectl's YAML layout.
    Yaml,
    /// The service's JSON.
    Json,
}

/// `kubeconfig get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The cluster's id (repeatable: several clusters need -o DIR).
    #[arg(long, value_name = "ID", required = true)]
    pub cluster_id: Vec<String>,
    /// Certificate validity: days (1-1827), -1 or max for five years.
    #[arg(long, default_value = "30", allow_hyphen_values = true, value_parser = parse_cert_duration)]
    pub duration: CertDuration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Write to this file (0600, atomically) instead of stdout. With several --cluster-id, or when
    /// it is an existing directory (or ends with /), a directory: one DIR/<cluster-id>.yaml (.json)
    /// per cluster.
    #[arg(short = 'o', long, value_name = "FILE|DIR")]
    pub output: Option<PathBuf>,
}

/// Which endpoints `kubeconfig update` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum UpdateAccess {
    /// The private (VPC) endpoint.
    Internal,
    /// The public endpoint (the cluster needs an elastic IP).
    External,
    /// Both, as two contexts.
    Both,
}

/// `kubeconfig update`
///
/// Fetches the kubeconfig of each cluster and merges it into your kubeconfig the way kubectl reads
/// it: --kubeconfig FILE, else every file of KUBECONFIG (client-go's rules: an entry stays in the
/// file it comes from, new ones go to the first existing file), else ~/.kube/config. Files are
/// locked (<file>.lock), replaced atomically with mode 0600, and their previous version is kept as
/// <file>.bak; a file that does not parse is refused and left untouched.
///
/// Entries are renamed per cluster. SCOPE is --region, else the --endpoint host, else "custom":
/// cluster and context cce_<SCOPE>_<CLUSTER-ID>_<internal|external>, user cce_<SCOPE>_<CLUSTER-ID>_user.
/// An update replaces its own earlier entries of the same names in place; a name held by an entry
/// it did not write for this cluster is an error (exit 6) unless --force.
///
/// Exit codes: 0 done; 2 bad flags, or an access the cluster lacks; 3 credentials; 4 service;
/// 5 network; 6 kubeconfig file (unparsable, locked, name collision); 8 some clusters failed
/// (one line each on stderr), the others were merged.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The cluster's id (repeatable; fetched 4 at a time).
    #[arg(long, value_name = "ID", required = true)]
    pub cluster_id: Vec<String>,
    /// The one kubeconfig file to update (default: KUBECONFIG's files, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Endpoints to write [default: external when the cluster has a public endpoint, else internal].
    #[arg(long, value_enum, value_name = "ACCESS")]
    pub access: Option<UpdateAccess>,
    /// Name of the cluster and context entries instead of cce_<SCOPE>_<ID>_<access>
    /// (NAME-internal and NAME-external with --access both). One cluster only.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub alias: Option<String>,
    /// Name of the user entry instead of cce_<SCOPE>_<ID>_user. One cluster only.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub user_alias: Option<String>,
    /// Make the (primary) context current [default: true for one cluster, false for several;
    /// true with several makes the first merged cluster's context current].
    #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    pub set_current_context: Option<bool>,
    /// Certificate validity: days (1-1827), -1 or max for five years (with --exec: what the plugin asks for).
    #[arg(long, value_name = "DAYS", default_value = "30", allow_hyphen_values = true, value_parser = parse_cert_duration)]
    pub duration: CertDuration,
    /// Verify the external endpoint with the cluster CA, expecting this name in its certificate
    /// (e.g. kubernetes), instead of writing it with insecure-skip-tls-verify as the service does.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub tls_server_name: Option<String>,
    /// Write a user that runs `cce-autopilot credential` (exec plugin) instead of embedding the key.
    #[arg(long)]
    pub exec: bool,
    /// Print the entries that would be added or changed (keys redacted) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Remove a stale lock left by a crashed update (never one of a running process).
    #[arg(long)]
    pub force_unlock: bool,
    /// Replace entries of the same names that were not written by cce-autopilot for this cluster.
    #[arg(long)]
    pub force: bool,
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
    /// A cluster without a public IP (repeatable).
    #[arg(long = "cluster", value_name = "ID")]
    pub clusters: Vec<String>,
    /// A cluster with a public IP (repeatable).
    #[arg(long = "public-cluster", value_name = "ID")]
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
}

/// `demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the kubeconfig the demo writes in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// Parses `30`, `-1` or `max`.
pub fn parse_cert_duration(s: &str) -> Result<CertDuration, String> {
    s.parse()
        .map_err(|e: cce_autopilot::InvalidDuration| e.to_string())
}

/// Parses `90` (seconds), `90s`, `15m`, `2h`, `1d`, `1h30m` (humantime's units).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(seconds) = s.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("invalid duration {s:?}: {e}; e.g. 30s, 15m, 2h, 7d"))
}

/// A time-out: a duration longer than zero.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!(
            "invalid time-out {s:?}: it must be longer than zero, e.g. 30s"
        )),
        d => Ok(d),
    }
}

/// A signed duration, e.g. `20m` or `-20m`.
pub fn parse_offset(s: &str) -> Result<i64, String> {
    let (sign, rest) = match s.trim().strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.trim().trim_start_matches('+')),
    };
    let secs = i64::try_from(parse_duration(rest)?.as_secs())
        .map_err(|_| format!("invalid offset {s:?}: too large"))?;
    Ok(sign * secs)
}

impl GlobalArgs {
    /// `--timeout`, else `default`.
    pub fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }
}

/// The time-out of commands that do not say otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 fortnights").is_err());
        let huge = parse_duration("99999999999999999999d").unwrap_err();
        assert!(huge.contains("invalid duration"), "{huge}");
        assert!(parse_timeout("0").unwrap_err().contains("longer than zero"));
        assert!(parse_timeout("0s").is_err());
        assert_eq!(parse_offset("-20m").unwrap(), -1200);
        assert_eq!(parse_offset("20m").unwrap(), 1200);
        assert_eq!(parse_cert_duration("max").unwrap(), CertDuration::MAX);
        assert!(parse_cert_duration("0").unwrap_err().contains("1 to 1827"));
    }
}

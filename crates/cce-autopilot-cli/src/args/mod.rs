//! Arguments that more than one command takes — the global options, `--cluster`, `--access`, the options of
//! the commands that edit kubeconfig files — and the parsers of values. Each command's own arguments live in
//! its module under `commands/`.

mod agency;
mod fleet;
mod values;

use std::path::PathBuf;
use std::time::Duration;

use cce_autopilot::Access;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
use clap::{Args, ValueEnum};

pub use agency::{AgencyArg, agencies_in, identity_of};
pub use fleet::{DEFAULT_CONCURRENCY, FleetArgs};
pub use values::{
    DEFAULT_TIMEOUT, MAX_HORIZON, MAX_TIMEOUT, parse_cert_duration, parse_duration,
    parse_namespace, parse_offset, parse_timeout,
};

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
    /// Sign with this profile of KooCLI's ~/.hcloud/config.json (HUAWEICLOUD_CONFIG_FILE) instead of the SDK's
    /// credential chain: AKSK, ecsAgency, SSO or AssumeRole mode.
    #[arg(long, global = true, env = "HUAWEICLOUD_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Assume this agency with the credentials found (repeatable: each is assumed with the previous one's
    /// credentials); the --agency-* options that follow an --agency are its own.
    #[arg(long = "agency", global = true, value_name = "NAME")]
    pub agency_names: Vec<String>,
    /// The account id of the --agency before it (assumed through STS).
    #[arg(long = "agency-domain-id", global = true, value_name = "ID")]
    pub agency_domain_ids: Vec<String>,
    /// The account name of the --agency before it (assumed through IAM).
    #[arg(long = "agency-domain-name", global = true, value_name = "NAME")]
    pub agency_domain_names: Vec<String>,
    /// How long the --agency before it is assumed for, e.g. 1h [default: 1h].
    #[arg(long = "agency-duration", global = true, value_name = "DURATION")]
    pub agency_durations: Vec<String>,
    /// The session name of the --agency before it, which the principal carries [default: cce-autopilot].
    #[arg(long = "agency-session-name", global = true, value_name = "NAME")]
    pub agency_session_names: Vec<String>,
    /// The agencies of the command line, grouped in order ([`agencies_in`]; set by `main`).
    #[arg(skip)]
    pub agencies: Vec<AgencyArg>,
    /// Log what happens to stderr (-v: info, -vv: debug, -vvv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// The identity of `--profile` and the agencies, as owner marks record it (`None`: the default chain).
    pub fn identity(&self) -> Option<cce_autopilot_kubeconfig::managed::IdentityMark> {
        identity_of(self.profile.as_ref(), &self.agencies)
    }

    /// `--timeout`, else `default`.
    pub fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }
}

/// `--cluster` of the commands that act on one or more named clusters (`kubeconfig get`, `remove`).
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The cluster: its name, alias or id (repeatable).
    #[arg(
        long,
        visible_alias = "cluster-id",
        value_name = "NAME|ID",
        required = true
    )]
    pub cluster: Vec<String>,
}

/// `--access`: which endpoints of a cluster (its contexts) a command writes or removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccessArg {
    /// The private (VPC) endpoint.
    Internal,
    /// The public endpoint (the cluster needs an elastic IP).
    External,
    /// Both, as two contexts.
    Both,
}

impl AccessArg {
    /// The contexts this names.
    pub fn contexts(self) -> &'static [Access] {
        match self {
            AccessArg::Internal => &[Access::Internal],
            AccessArg::External => &[Access::External],
            AccessArg::Both => &[Access::Internal, Access::External],
        }
    }
}

/// The parser of an `--access` that names one context (`credential`: a certificate comes from one context),
/// with [`AccessArg`]'s words.
pub fn one_access() -> impl clap::builder::TypedValueParser<Value = Access> {
    PossibleValuesParser::new([
        PossibleValue::new("internal").help("The `internal` context (VPC address)"),
        PossibleValue::new("external").help("The `external` context (public IP)"),
    ])
    .map(|s| {
        if s == "external" {
            Access::External
        } else {
            Access::Internal
        }
    })
}

/// How `update`, `remove`, `prune` and `refresh` report what they did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Lines for people, on stderr.
    #[default]
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// Where `update`, `remove`, `prune` and `refresh` write, and how they report.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// The one kubeconfig file to edit (default: KUBECONFIG's files, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Show what would change (keys redacted) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Remove a lock left by a crashed cce-autopilot: one it wrote for a process of this host that no
    /// longer runs (never one of a running process, nor one whose holder cannot be told).
    #[arg(long)]
    pub force_unlock: bool,
    /// With --force-unlock: you checked that no kubectl or other tool is editing the kubeconfig, so a
    /// lock whose holder cannot be told (kubectl leaves its locks empty) is removed after the wait too.
    #[arg(long, requires = "force_unlock")]
    pub no_kubectl_running: bool,
    /// How long to wait for a lock another process holds.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub lock_timeout: Duration,
    /// Replace a kubeconfig that is read-only or has other hard links (the link is broken); with
    /// update, also replace entries of the same names that cce-autopilot did not write for this cluster.
    #[arg(long)]
    pub force: bool,
    /// How to report what was done.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

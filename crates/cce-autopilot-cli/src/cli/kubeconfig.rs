//! `kubeconfig get|update|inspect|remove|prune|refresh`, as clap sees them.

use std::path::PathBuf;
use std::time::Duration;

use cce_autopilot::CertDuration;
use clap::{Args, Subcommand, ValueEnum};

use super::values::{parse_cert_duration, parse_duration, parse_timeout};

/// `kubeconfig …`
#[derive(Debug, Subcommand)]
pub enum KubeconfigCommand {
    /// Print (or save) the kubeconfig of a cluster as the service returns it.
    Get(GetArgs),
    /// Fetch clusters' kubeconfigs and merge them into your kubeconfig, named per cluster.
    Update(UpdateArgs),
    /// Check the client certificates of your kubeconfig: validity, key, CA (never prints keys).
    #[command(long_about = crate::commands::inspect::LONG_ABOUT)]
    Inspect(crate::commands::inspect::InspectArgs),
    /// Remove a cluster's entries from your kubeconfig (only those cce-autopilot wrote).
    Remove(RemoveArgs),
    /// Remove the entries of clusters the service no longer has.
    Prune(PruneArgs),
    /// Renew the static entries whose client certificate expires soon.
    Refresh(RefreshArgs),
}

/// Output formats of `kubeconfig get`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// kubectl's YAML layout.
    Yaml,
    /// The service's JSON.
    Json,
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

/// `kubeconfig get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The cluster: its name, alias or id (repeatable: several clusters need -o DIR).
    #[arg(
        long,
        visible_alias = "cluster-id",
        value_name = "NAME|ID",
        required = true
    )]
    pub cluster: Vec<String>,
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

/// `kubeconfig update`
///
/// Fetches the kubeconfig of each cluster and merges it into your kubeconfig the way kubectl reads
/// it: --kubeconfig FILE, else every file of KUBECONFIG (client-go's rules: an entry stays in the
/// file it comes from, new ones go to the first existing file), else ~/.kube/config. Files are
/// locked (<file>.lock), replaced atomically with mode 0600, and their previous version is kept as
/// <file>.bak; a file that does not parse is refused and left untouched.
///
/// Entries are named per cluster. SCOPE is --region, else the --endpoint host, else "custom":
/// cluster and context cce_<SCOPE>_<NAME>_<internal|external>, user cce_<SCOPE>_<NAME>_user, with
/// the cluster's id where its name cannot be had. A re-merge updates only the fields cce-autopilot
/// owns (server, CA, TLS settings, the certificate and key or the exec block, the context's cluster
/// and user): a namespace, a proxy-url or any field you added stays. Entries it wrote earlier for the
/// same cluster under other names (another --alias, an id) are renamed, not duplicated. A name held
/// by an entry it did not write for this cluster is an error (exit 6) unless --force.
///
/// Exit codes: 0 done; 2 bad flags, an unknown or ambiguous cluster name, or an access the cluster
/// lacks; 3 credentials; 4 service; 5 network; 6 kubeconfig file (unparsable, locked, name
/// collision); 8 some clusters failed (one line each on stderr), the others were merged.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The cluster: its name, alias or id (repeatable; fetched 4 at a time).
    #[arg(
        long,
        visible_alias = "cluster-id",
        value_name = "NAME|ID",
        required_unless_present = "all"
    )]
    pub cluster: Vec<String>,
    /// Every cluster of the project (only those in --status).
    #[arg(long, conflicts_with_all = ["cluster", "alias", "user_alias"])]
    pub all: bool,
    /// With --all: the phase of the clusters to merge; the others are skipped with a note.
    #[arg(
        long,
        value_name = "PHASE",
        default_value = "Available",
        requires = "all"
    )]
    pub status: String,
    /// Endpoints to write [default: external when the cluster has a public endpoint, else internal].
    #[arg(long, value_enum, value_name = "ACCESS")]
    pub access: Option<UpdateAccess>,
    /// Name of the cluster and context entries instead of cce_<SCOPE>_<NAME>_<access>
    /// (NAME-internal and NAME-external with --access both). One cluster only.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub alias: Option<String>,
    /// Name of the user entry instead of cce_<SCOPE>_<NAME>_user. One cluster only.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub user_alias: Option<String>,
    /// Make the (primary) context current [default: true for one cluster, false for several;
    /// true with several makes the first merged cluster's context current].
    #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    pub set_current_context: Option<bool>,
    /// Certificate validity: days (1-1827, at most five years from today), -1 or max for five years
    /// (with --exec: what the plugin asks for).
    #[arg(long, value_name = "DAYS", default_value = "30", allow_hyphen_values = true, value_parser = parse_cert_duration)]
    pub duration: CertDuration,
    /// Verify the external endpoint with the cluster CA, expecting this name in its certificate
    /// (e.g. kubernetes), instead of writing it with insecure-skip-tls-verify as the service does.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub tls_server_name: Option<String>,
    /// Write a user that runs `cce-autopilot credential` (exec plugin) instead of embedding the key.
    #[arg(long)]
    pub exec: bool,
    /// The file, dry run, lock and report options.
    #[command(flatten)]
    pub file: FileArgs,
}

/// `kubeconfig remove`
///
/// Removes the entries cce-autopilot wrote for the cluster (only those: a foreign entry is never
/// touched), unsets current-context if it named one of them, and empties the cluster's entries of the
/// credential plugin's cache. NAME is looked up in the owner marks of the kubeconfig first, so that a
/// cluster the service no longer has can still be removed by name.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The cluster: its name or id (repeatable).
    #[arg(
        long,
        visible_alias = "cluster-id",
        value_name = "NAME|ID",
        required = true
    )]
    pub cluster: Vec<String>,
    /// Only these entries (the user goes when no context of the cluster uses it any more).
    #[arg(long, value_enum, value_name = "ACCESS")]
    pub access: Option<UpdateAccess>,
    /// The credential plugin's cache directory to empty of the cluster's entries.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The file, dry run, lock and report options.
    #[command(flatten)]
    pub file: FileArgs,
}

/// `kubeconfig prune`
///
/// Asks the service about every cluster cce-autopilot wrote entries for — in the project and at the
/// endpoint each entry's owner mark names, never another — and removes the entries of those it answers
/// 404 for. Entries of an earlier version, which record no project, are left alone with a note.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The file, dry run, lock and report options.
    #[command(flatten)]
    pub file: FileArgs,
}

/// `kubeconfig refresh`
///
/// Renews every static entry of cce-autopilot (one with an embedded certificate) whose certificate
/// expires within --within: one fetch per cluster, with the validity its owner mark recorded unless
/// --duration is given, merged like `update` (names kept). For a cron line that keeps a kubeconfig fresh.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Renew the certificates that expire within this, e.g. 7d, 40d, 12h.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    pub within: Duration,
    /// Certificate validity of the renewed certificates [default: what each entry was fetched with].
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true, value_parser = parse_cert_duration)]
    pub duration: Option<CertDuration>,
    /// The file, dry run, lock and report options.
    #[command(flatten)]
    pub file: FileArgs,
}

//! `kubeconfig refresh`: renews our static entries whose certificate expires within the window — one fetch
//! per cluster, at the service and with the validity the owner mark recorded, merged like `update` with
//! the names kept.

use std::collections::BTreeMap;

use cce_autopilot::{Access, CertDuration};
use cce_autopilot_kubeconfig::managed::{
    self, AccessChoice, ClusterEntries, EntryOptions, MergeRequest, Naming, OwnerMark, Target,
};
use cce_autopilot_kubeconfig::{KubeconfigSet, NamedCluster};
use time::OffsetDateTime;

use crate::args::{DEFAULT_TIMEOUT, GlobalArgs};
use crate::exit;

use super::fleet::{self, MarkClients, Runner};
use super::json::{FailureJson, RefreshDetails, RefreshPlan};
use super::update::{file_error, kubeconfig_paths, update_options};
use super::{expiry, report};
use crate::args::{FileArgs, FleetArgs, parse_cert_duration, parse_duration};
use clap::Args;
use std::time::Duration;

/// `kubeconfig refresh`
///
/// Renews every static entry of cce-autopilot (one with an embedded certificate) whose certificate
/// expires within --within: one fetch per cluster, with the validity its owner mark recorded unless
/// --duration is given, merged like `update` (names kept). For a cron line that keeps a kubeconfig fresh.
/// The certificates are fetched concurrently (--concurrency); --regions renews only the entries of those
/// regions.
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
    // Last: its help heading would take the options that follow it.
    /// Which regions' entries, and the calls in flight.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Refreshes; 0 when done (or nothing was due), 8 when some clusters could not be renewed.
pub async fn run(global: &GlobalArgs, args: RefreshArgs) -> anyhow::Result<crate::exit::Exit> {
    let paths = kubeconfig_paths(&args.file)?;
    let set = KubeconfigSet::load(&paths).map_err(file_error)?;
    let now = OffsetDateTime::now_utc();
    // One fetch per cluster and identity, however many of its users are due.
    let mut due: BTreeMap<(String, String), OwnerMark> = BTreeMap::new();
    for entry in expiry::expiring(&set, args.within, now)
        .into_iter()
        .filter(|e| fleet::covers(&args.fleet, &e.mark))
    {
        let identity = serde_json::to_string(&entry.mark.identity).unwrap_or_default();
        due.entry((entry.mark.cluster_id.clone(), identity))
            .or_insert(entry.mark);
    }
    if due.is_empty() {
        if args.file.format == crate::args::ReportFormat::Text {
            say!(
                "nothing to refresh: no static entry of cce-autopilot expires within {}",
                humantime::format_duration(args.within)
            );
        } else {
            report::print(
                &Default::default(),
                &paths,
                args.file.format,
                RefreshDetails {
                    refreshed: Vec::new(),
                    failures: Vec::new(),
                },
            )?;
        }
        return Ok(exit::OK);
    }
    if args.file.dry_run {
        // Nothing is fetched: say what a real run would renew.
        if args.file.format == crate::args::ReportFormat::Text {
            for ((id, _), mark) in &due {
                say!(
                    "dry run: would renew the certificate of cluster {}; nothing was fetched or written",
                    mark.cluster_name.as_deref().unwrap_or(id)
                );
            }
        } else {
            let mut report = cce_autopilot_kubeconfig::MergeReport::default();
            report.dry_run = true;
            let plan = RefreshPlan {
                would_refresh: due.keys().map(|(id, _)| id.clone()).collect(),
            };
            report::print(&report, &paths, args.file.format, plan)?;
        }
        return Ok(exit::OK);
    }
    // The file, its directory and its lock are checked before any certificate is asked for.
    // It may wait up to --lock-timeout for a lock.
    tokio::task::block_in_place(|| {
        cce_autopilot_kubeconfig::preflight(&set, &update_options(&args.file))
    })
    .map_err(file_error)?;
    let merged = set.merged();
    // Every certificate at once, within --concurrency; the clients of one service share their back-off.
    let mut clients = MarkClients::new(global, global.timeout_or(DEFAULT_TIMEOUT));
    let runner = Runner::new(args.fleet.concurrency, due.len() > 1);
    runner.expect(due.len(), "renewing certificates");
    let mut tasks = tokio::task::JoinSet::new();
    let mut failures = Vec::new();
    for (index, ((id, _), mark)) in due.iter().enumerate() {
        let duration = match (args.duration, mark.duration) {
            (Some(d), _) => Ok(d),
            (None, Some(days)) => CertDuration::try_from(days).map_err(anyhow::Error::from),
            (None, None) => CertDuration::days(30).map_err(anyhow::Error::from),
        };
        let client = duration.and_then(|d| Ok((clients.client_for(mark)?, d)));
        let (client, duration) = match client {
            Ok(pair) => pair,
            Err(e) => {
                failures.push((id.clone(), e));
                continue;
            }
        };
        let (id, runner) = (id.clone(), runner.clone());
        tasks.spawn(async move {
            let cert = runner
                .call(client.cluster_cert(&id).duration(duration).send())
                .await;
            (index, duration, client.endpoint().to_owned(), cert)
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        answers.push(joined?);
    }
    runner.finish();
    answers.sort_by_key(|(index, ..)| *index);
    let due: Vec<_> = due.into_iter().collect();
    let mut entries = Vec::new();
    for (index, duration, endpoint, cert) in answers {
        let ((id, _), mark) = &due[index];
        let built = cert.map_err(anyhow::Error::new).and_then(|cert| {
            expiry::check_fresh_answer(&cert.kubeconfig, id, OffsetDateTime::now_utc())?;
            let ours = |access: Access| {
                merged.clusters.iter().find(|c: &&NamedCluster| {
                    c.owner_mark()
                        .and_then(OwnerMark::from_value)
                        .is_some_and(|m| m.same_owner(mark) && m.access == access.context_name())
                })
            };
            let access = match (
                ours(Access::Internal).is_some(),
                ours(Access::External).is_some(),
            ) {
                (true, true) => AccessChoice::Both,
                (false, true) => AccessChoice::External,
                _ => AccessChoice::Internal,
            };
            let mut opts = EntryOptions::default();
            opts.access = access;
            opts.duration = Some(duration.get());
            // A verified external entry stays verified.
            opts.tls_server_name =
                ours(Access::External).and_then(|c| c.cluster.tls_server_name.clone());
            let target = Target::new(id)
                .with_name(mark.cluster_name.clone())
                .with_service(
                    mark.project_id.clone().unwrap_or_default(),
                    mark.endpoint.clone().unwrap_or(endpoint),
                    mark.region.clone(),
                )
                .with_identity(mark.identity.clone());
            ClusterEntries::build(target, &cert.kubeconfig, &opts).map_err(anyhow::Error::new)
        });
        match built {
            Ok(e) => entries.push(e),
            Err(e) => failures.push((id.clone(), e)),
        }
    }
    let throttling = clients.throttling();
    if throttling.throttled_answers > 0 {
        say!(
            "note: the service throttled {} (waited {:.1}s in all)",
            super::report::plural(
                usize::try_from(throttling.throttled_answers).unwrap_or(usize::MAX),
                "call"
            ),
            throttling.paused.as_secs_f64()
        );
    }
    for (id, e) in &failures {
        say!("error: {}", super::update::fetch::failure_line(id, e));
    }
    if entries.is_empty() {
        return Ok(exit::code_for(&failures.remove(0).1));
    }
    let mut naming = Naming::new("refresh");
    naming.keep_names = true;
    let request = MergeRequest::new(entries, naming);
    let opts = update_options(&args.file);
    let refresh_paths = paths.clone();
    let outcome =
        tokio::task::spawn_blocking(move || managed::merge(&refresh_paths, &request, &opts))
            .await?
            .map_err(file_error)?;
    let details = RefreshDetails {
        refreshed: outcome
            .merged
            .iter()
            .map(|m| m.cluster_id.clone())
            .collect(),
        failures: failures
            .iter()
            .map(|(id, e)| FailureJson::new(id, e))
            .collect(),
    };
    report::print(&outcome.report, &paths, args.file.format, details)?;
    Ok(if failures.is_empty() && outcome.failures.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    })
}

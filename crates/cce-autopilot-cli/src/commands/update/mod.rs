//! `kubeconfig update`: resolves the clusters (by name, alias or id, or `--all`), fetches their kubeconfigs,
//! and merges them into the user's kubeconfig files with the kubeconfig crate's managed merge, which
//! names entries per cluster, keeps what the user added, renames instead of duplicating, locks, and
//! writes atomically (0600, `.bak`).

pub(crate) mod exec;
pub(crate) mod fetch;
mod preview;
mod prior;
pub(crate) mod select;

use prior::Prior;

use cce_autopilot::model::Kubeconfig;
use cce_autopilot::{Access, CertDuration};
use cce_autopilot_kubeconfig::managed::{
    self, AccessChoice, ClusterEntries, EntryOptions, MergeRequest, NameTemplate, Naming, Target,
};
use cce_autopilot_kubeconfig::{self as kubefile, KubeconfigPaths, KubeconfigSet, UpdateOptions};
use time::OffsetDateTime;

use crate::args::{DEFAULT_TIMEOUT, FileArgs, FleetArgs, GlobalArgs};
use crate::exit::{self, CliError};

use super::common::build_client;
use super::fleet::report::{FleetReport, Outcome};
use super::fleet::{self as fleets, Runner};
use super::json::{FailureJson, UpdateDetails};
use super::resolve::Resolved;
use super::{expiry, report};
use crate::args::{AccessArg, parse_cert_duration};
use clap::Args;
use select::Planned;

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
/// same cluster under other names (another --alias, an id) are renamed, not duplicated. With the fleet
/// options (--all with --regions, --all-regions, --all-projects) SCOPE is each project's name (the region's
/// for its default project, e.g. cn-north-4_dev for another), and --name-template names every entry. A name held
/// by an entry it did not write for this cluster is an error (exit 6) unless --force. Under --profile or
/// --agency the names carry the identity (cce_<SCOPE>_<NAME>_<IDENTITY>_…, e.g. agency-ops), so that
/// one identity's entries of a cluster sit beside another's: each is renamed, refreshed (as its own
/// identity) and removed (remove with the same --profile/--agency) apart from the others.
///
/// Exit codes: 0 done; 2 bad flags, an unknown or ambiguous cluster name, or an access the cluster
/// lacks; 3 credentials; 4 service; 5 network; 6 kubeconfig file (unparsable, locked, name
/// collision); 8 some clusters failed (one line each on stderr), the others were merged.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The cluster: its name, alias or id (repeatable; fetched --concurrency at a time).
    #[arg(
        long,
        visible_alias = "cluster-id",
        value_name = "NAME|ID",
        required_unless_present = "all"
    )]
    pub cluster: Vec<String>,
    /// Every cluster of the project, or of every project the fleet options select (only those in --status).
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
    pub access: Option<AccessArg>,
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
    /// Name the entries from this template instead of cce_<SCOPE>_<NAME>_<access>: {region}, {project},
    /// {name}, {id}, {access} (`user` for the user entry) and {identity}, e.g. {project}.{name}. The names
    /// must differ between the clusters of the run, which is checked before anything is fetched.
    #[arg(long, value_name = "TEMPLATE", conflicts_with_all = ["alias", "user_alias"])]
    pub name_template: Option<NameTemplate>,
    /// The namespace of the contexts written (replacing the one they have).
    #[arg(long, value_name = "NAMESPACE", value_parser = crate::args::parse_namespace)]
    pub context_namespace: Option<String>,
    /// The file, dry run, lock and report options.
    #[command(flatten)]
    pub file: FileArgs,
    // Last: its help heading would take the options that follow it.
    /// The regions and projects of --all, and the calls in flight.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Resolves, fetches, merges; returns 0, or 8 when some clusters failed and others were merged.
pub async fn run(global: &GlobalArgs, args: UpdateArgs) -> anyhow::Result<crate::exit::Exit> {
    if args.cluster.len() > 1 && (args.alias.is_some() || args.user_alias.is_some()) {
        return Err(CliError::usage(
            "--alias and --user-alias name the entries of one cluster; with several clusters the default \
             names (which include each cluster's name) keep them apart",
        )
        .into());
    }
    fleets::check(global, &args.fleet)?;
    if args.fleet.is_fleet() && !args.all {
        return Err(CliError::usage(
            "--regions, --all-regions and --all-projects select the clusters of --all: add --all",
        )
        .into());
    }
    if let Some(template) = &args.name_template
        && args.access == Some(AccessArg::Both)
        && !template.has_access()
    {
        return Err(CliError::usage(
            "with --access both, the --name-template needs {access}: the two contexts of a cluster need two names",
        )
        .into());
    }
    let paths = kubeconfig_paths(&args.file)?;
    // Everything local that can refuse the update (a file that does not parse or cannot be replaced, its
    // directory, its lock) is checked before the service is asked for anything: a refused update never
    // costs a certificate. The merge checks it all again under the locks.
    let set = KubeconfigSet::load(&paths).map_err(file_error)?;
    if !args.file.dry_run {
        // It may wait up to --lock-timeout for a lock.
        tokio::task::block_in_place(|| kubefile::preflight(&set, &update_options(&args.file)))
            .map_err(file_error)?;
    }
    if args.exec {
        // A secret the entry would have to carry is refused before anything is fetched.
        exec::check_sources(global)?;
    }

    let client = build_client(
        &fleets::base(global, &args.fleet),
        global.timeout_or(DEFAULT_TIMEOUT),
    )?;
    let mut notes = Vec::new();
    let (targets, skipped_regions) = fleets::targets(global, &args.fleet, &client).await?;
    let mut fleet = args.fleet.is_fleet().then(|| FleetReport {
        skipped_regions,
        ..FleetReport::default()
    });
    let runner = Runner::new(
        args.fleet.concurrency,
        fleet.is_some() || args.all || args.cluster.len() > 1,
    );
    let all = args.all.then_some(args.status.as_str());
    let planned: Vec<Planned> = select::clusters(
        &targets,
        all,
        &args.cluster,
        &runner,
        fleet.as_mut(),
        &mut notes,
    )
    .await?;
    for note in &notes {
        say!("{note}");
    }
    if planned.is_empty() {
        runner.finish();
        say!("no cluster to merge");
        if let Some(report) = &fleet {
            say!("{}", report.text("merged").trim_end());
            if report.failed() {
                return Ok(exit::PARTIAL);
            }
        }
        return Ok(exit::OK);
    }
    // What the entries say now; the files are read again under their locks by the merge.
    let priors: Vec<Prior> = planned
        .iter()
        .map(|p| Prior::of(&set, &p.resolved.id))
        .collect();
    drop(set);

    if args.exec {
        // The plugin asks for --duration each time it runs; refuse now what it would be refused then.
        args.duration
            .check_on(time::OffsetDateTime::now_utc().date())
            .map_err(cce_autopilot::Error::from)?;
    }
    // Each project's id (a fleet's are known; one project's may be looked up from IAM, once).
    let mut project_ids = Vec::with_capacity(targets.len());
    for (index, target) in targets.iter().enumerate() {
        project_ids.push(match planned.iter().any(|p| p.target == index) {
            true => Some(target.client.project_id().await?),
            false => None,
        });
    }
    let target_of = |p: &Planned| {
        let t = &targets[p.target];
        let target = Target::new(&p.resolved.id)
            .with_name(p.resolved.name.clone())
            .with_service(
                project_ids[p.target].clone().unwrap_or_default(),
                t.client.endpoint(),
                t.region.clone(),
            )
            .with_identity(global.identity());
        match &t.project {
            Some(project) => target.in_fleet_project(project),
            None => target,
        }
    };
    if let Some(template) = &args.name_template {
        check_unique_names(template, planned.iter().map(&target_of))?;
    }
    let ids: Vec<String> = planned.iter().map(|p| p.resolved.id.clone()).collect();
    // With --exec only the cluster entries (server, CA) are kept: ask for the shortest certificate, which
    // is thrown away; the plugin asks for --duration each time it runs.
    let fetch_duration = if args.exec {
        CertDuration::days(1)?
    } else {
        args.duration
    };
    // A dry run asks for no certificate: it merges an answer shaped from the cluster list.
    let fetched: Vec<(String, anyhow::Result<Kubeconfig>)> = if args.file.dry_run {
        say!("dry run: no certificate is requested; data fields are placeholders");
        planned
            .iter()
            .map(|p| {
                (
                    p.resolved.id.clone(),
                    Ok(preview::answer(&p.resolved, args.access)),
                )
            })
            .collect()
    } else {
        let calls: Vec<_> = planned
            .iter()
            .map(|p| (targets[p.target].client.clone(), p.resolved.id.clone()))
            .collect();
        fetch::fetch_all(&runner, &calls, fetch_duration)
            .await
            .into_iter()
            .map(|f| {
                let id = f.cluster_id;
                let answer = f.result.and_then(|cert| {
                    tracing::info!(cluster_id = %id, request_id = cert.request_id.as_deref(), "fetched");
                    if !args.exec {
                        expiry::check_fresh_answer(&cert.kubeconfig, &id, OffsetDateTime::now_utc())?;
                    }
                    Ok(cert.kubeconfig)
                });
                (id, answer)
            })
            .collect()
    };

    runner.finish();
    let choice = match args.access {
        None => AccessChoice::Default,
        Some(AccessArg::Internal) => AccessChoice::Internal,
        Some(AccessArg::External) => AccessChoice::External,
        Some(AccessArg::Both) => AccessChoice::Both,
    };
    let mut failures: Vec<(String, anyhow::Error)> = Vec::new();
    let mut entries = Vec::new();
    for (((cluster_id, answer), plan), prior) in fetched.into_iter().zip(&planned).zip(&priors) {
        let resolved = &plan.resolved;
        let built = answer.and_then(|kubeconfig| {
            let target = target_of(plan);
            let exec = match args.exec {
                true => {
                    let primary = managed::select_access(&kubeconfig, choice)
                        .map_err(entry_error)?
                        .first()
                        .copied()
                        .unwrap_or(Access::Internal);
                    // The plugin asks where this cluster is: a fleet's clusters are in many projects.
                    let mut at = global.clone();
                    let t = &targets[plan.target];
                    if t.project.is_some() {
                        at.region.clone_from(&t.region);
                        at.project_id.clone_from(&project_ids[plan.target]);
                    }
                    Some(exec::config(&at, &resolved.id, primary, args.duration)?)
                }
                false => None,
            };
            let mut opts = EntryOptions::default();
            opts.access = choice;
            // A verified external endpoint stays verified on a plain re-run.
            opts.tls_server_name = args
                .tls_server_name
                .clone()
                .or_else(|| prior.tls_server_name.clone());
            opts.exec = exec;
            opts.duration = Some(args.duration.get());
            opts.namespace.clone_from(&args.context_namespace);
            ClusterEntries::build(target, &kubeconfig, &opts).map_err(entry_error)
        });
        match built {
            Ok(e) => entries.push(e),
            Err(err) => failures.push((cluster_id, err)),
        }
    }
    for warning in entries.iter().flat_map(|e| &e.warnings) {
        say!("warning: {warning}");
    }
    if entries.is_empty() {
        if let Some(report) = &mut fleet {
            for (id, e) in &failures {
                if let Some(plan) = planned.iter().find(|p| &p.resolved.id == id) {
                    let name = plan.resolved.name.as_deref();
                    let detail = Some(format!("{e:#}"));
                    report.push(&targets[plan.target], id, name, Outcome::Failed, detail);
                }
            }
            say!("{}", report.text("merged").trim_end());
        }
        return Err(all_failed(failures));
    }

    let mut naming = Naming::new(managed::name_scope(
        global.region.as_deref(),
        global.endpoint.as_deref(),
    ));
    naming.alias.clone_from(&args.alias);
    naming.user_alias.clone_from(&args.user_alias);
    naming.template.clone_from(&args.name_template);
    let mut request = MergeRequest::new(entries, naming);
    request.set_current = args.set_current_context.unwrap_or(planned.len() == 1);
    let set_current = request.set_current;
    request.force = args.file.force;
    let opts = update_options(&args.file);
    let merge_paths = paths.clone();
    // On this thread, not on a blocking one of its own: a fleet's merge then reuses the memory that
    // building its entries freed, instead of growing another allocator arena (64 MiB of RSS for 1,000
    // clusters, against 82 MiB).
    let outcome = tokio::task::block_in_place(|| managed::merge(&merge_paths, &request, &opts))
        .map_err(file_error)?;
    for (id, err) in outcome.failures {
        failures.push((
            id,
            anyhow::Error::new(CliError::file(exit::kubeconfig_message(&err))),
        ));
    }
    failures.sort_by_key(|(id, _)| ids.iter().position(|c| c == id));
    if outcome.merged.is_empty() {
        return Err(all_failed(failures));
    }
    for (id, err) in &failures {
        say!("error: {}", fetch::failure_line(id, err));
    }
    let insecure: Vec<&str> = outcome
        .merged
        .iter()
        .flat_map(|m| m.insecure_contexts.iter().map(String::as_str))
        .collect();
    if let Some(warning) = insecure_warning(&insecure) {
        say!("{warning}");
    }
    if let Some(report) = &mut fleet {
        for plan in &planned {
            let id = &plan.resolved.id;
            let failure = failures.iter().find(|(f, _)| f == id);
            let (result, detail) = match failure {
                Some((_, e)) => (Outcome::Failed, Some(format!("{e:#}"))),
                None => (Outcome::Ok, None),
            };
            let name = plan.resolved.name.as_deref();
            report.push(&targets[plan.target], id, name, result, detail);
        }
        report.throttling = Some(client.throttling().into());
    }
    let partial = !failures.is_empty() || fleet.as_ref().is_some_and(FleetReport::failed);
    let fleet_text = fleet.as_ref().map(|r| r.text("merged"));
    let details = UpdateDetails {
        failures: failures
            .iter()
            .map(|(id, e)| FailureJson::new(id, e))
            .collect(),
        notes_before: notes,
        fleet,
    };
    report::print(&outcome.report, &paths, args.file.format, details)?;
    if let Some(text) = fleet_text.filter(|_| args.file.format == crate::args::ReportFormat::Text) {
        say!("{}", text.trim_end());
    }
    if !set_current
        && args.file.format == crate::args::ReportFormat::Text
        && let Some((_, first)) = outcome.merged.first().and_then(|m| m.contexts.first())
    {
        say!("current context left as it was; switch with: kubectl config use-context {first}");
    }
    if !outcome.report.dry_run {
        // An entry that left the plugin leaves no certificate in its cache.
        let merged: std::collections::HashSet<&str> = outcome
            .merged
            .iter()
            .map(|m| m.cluster_id.as_str())
            .collect();
        let left_the_plugin: Vec<String> = planned
            .iter()
            .zip(&priors)
            .filter(|(p, prior)| {
                !args.exec && prior.runs_the_plugin && merged.contains(p.resolved.id.as_str())
            })
            .map(|(p, _)| p.resolved.id.clone())
            .collect();
        // What the run holds is no longer needed: the warning below reads the files again, and a fleet's
        // entries would otherwise be in memory twice over.
        drop(merged);
        drop((outcome.report, outcome.merged, planned, priors));
        expiry::warn_expiring(&paths);
        for id in &left_the_plugin {
            exec::clear_cache(id);
        }
    }
    Ok(if partial { exit::PARTIAL } else { exit::OK })
}

/// Refuses a `--name-template` that gives two clusters of the run the same names, naming both.
fn check_unique_names(
    template: &NameTemplate,
    targets: impl Iterator<Item = Target>,
) -> anyhow::Result<()> {
    let mut seen: std::collections::HashMap<String, Target> = std::collections::HashMap::new();
    for target in targets {
        let name = template.expand(&target, None);
        if let Some(other) = seen.get(&name) {
            let who = |t: &Target| {
                format!(
                    "{} ({}{})",
                    t.cluster_name.as_deref().unwrap_or(&t.cluster_id),
                    t.project_name.as_deref().unwrap_or("this project"),
                    t.region
                        .as_deref()
                        .map(|r| format!(", {r}"))
                        .unwrap_or_default()
                )
            };
            return Err(CliError::usage(format!(
                "--name-template gives clusters {} and {} the same name {}: add {{project}}, {{region}} or {{id}}",
                crate::text::field(&who(other)),
                crate::text::field(&who(&target)),
                crate::text::field(&name)
            ))
            .into());
        }
        seen.insert(name, target);
    }
    Ok(())
}

/// The kubeconfig files of `--kubeconfig`, `KUBECONFIG`, or `~/.kube/config`.
pub(crate) fn kubeconfig_paths(file: &FileArgs) -> anyhow::Result<KubeconfigPaths> {
    KubeconfigPaths::resolve(
        file.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG").as_deref(),
        cce_autopilot_kubeconfig::platform::process_home().as_deref(),
    )
    .map_err(file_error)
}

/// The lock and dry-run options of `file`.
pub(crate) fn update_options(file: &FileArgs) -> UpdateOptions {
    UpdateOptions::default()
        .with_dry_run(file.dry_run)
        .with_force_unlock(file.force_unlock)
        .with_force_unlock_unknown(file.no_kubectl_running)
        .with_force_write(file.force)
        .with_lock_timeout(file.lock_timeout)
}

/// An entry the answer cannot make: an access the cluster lacks is a usage error, anything else a service one.
fn entry_error(e: kubefile::Error) -> anyhow::Error {
    let code = match e {
        kubefile::Error::NoAccess { .. } => exit::USAGE,
        _ => exit::SERVICE,
    };
    CliError {
        code,
        message: exit::kubeconfig_message(&e),
    }
    .into()
}

/// One error for a run in which no cluster could be merged: with one cluster, its own error (and
/// exit code); with several, the first one's exit code after one line per cluster.
fn all_failed(mut failures: Vec<(String, anyhow::Error)>) -> anyhow::Error {
    if failures.len() == 1 {
        let (id, err) = failures.remove(0);
        return CliError {
            code: exit::code_for(&err),
            message: fetch::failure_line(&id, &err),
        }
        .into();
    }
    for (id, err) in &failures {
        say!("error: {}", fetch::failure_line(id, err));
    }
    let code = failures
        .first()
        .map_or(exit::FAILURE, |(_, e)| exit::code_for(e));
    CliError {
        code,
        message: format!(
            "none of the {} clusters could be merged (see above); the kubeconfig was not changed",
            failures.len()
        ),
    }
    .into()
}

/// A file-layer error as one line with exit code 6, its remedy in this command's flags.
pub(crate) fn file_error(e: kubefile::Error) -> anyhow::Error {
    CliError::file(exit::kubeconfig_message(&e)).into()
}

/// One warning for every context written with `insecure-skip-tls-verify`.
fn insecure_warning(contexts: &[&str]) -> Option<String> {
    let advice = "(insecure-skip-tls-verify, as the service returns it); rerun with --tls-server-name kubernetes (a name in the API server's certificate) to verify it with the cluster CA";
    match contexts {
        [] => None,
        [one] => Some(format!(
            "warning: context {one} skips TLS verification of the external endpoint {advice}"
        )),
        many => Some(format!(
            "warning: {} skip TLS verification of their external endpoints {advice}: {}",
            report::plural(many.len(), "context"),
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_insecure_warning_names_every_context() {
        assert_eq!(insecure_warning(&[]), None);
        let one = insecure_warning(&["a"]).unwrap();
        assert!(one.starts_with("warning: context a skips"), "{one}");
        let two = insecure_warning(&["a", "b"]).unwrap();
        assert!(two.starts_with("warning: 2 contexts skip"), "{two}");
        assert!(two.ends_with(": a, b"), "{two}");
    }
}

//! `kubeconfig update`: fetches the kubeconfigs of one or more clusters and merges them into the
//! user's kubeconfig files, renamed per cluster, through the kubeconfig crate ([`cce_autopilot_kubeconfig`]), which
//! locks, writes atomically (0600, `.bak`) and follows client-go's rules for several files.

pub(crate) mod entries;
pub(crate) mod fetch;

use std::collections::HashSet;
use std::path::Path;

use cce_autopilot::CertDuration;
use serde_json::Value;

use crate::cli::{GlobalArgs, UpdateArgs};
use crate::exit::{self, CliError};
use cce_autopilot_kubeconfig::{
    self as kubefile, ChangeAction, EntryKind, Error, KubeconfigPaths, KubeconfigSet, MergeReport,
    UpdateOptions, Upsert, backup_path_for,
};

use super::common::build_client;
use entries::{ClusterEntries, EntryOptions, ExecPlugin};

/// Fetches, renames and merges; returns 0, or 8 when some clusters failed and others were merged.
pub async fn run(global: &GlobalArgs, args: UpdateArgs) -> anyhow::Result<u8> {
    let cluster_ids = unique(&args.cluster_id);
    if cluster_ids.len() > 1 && (args.alias.is_some() || args.user_alias.is_some()) {
        return Err(CliError::usage(
            "--alias and --user-alias name the entries of one cluster; with several --cluster-id the default names (which include the cluster id) keep them apart",
        )
        .into());
    }
    let paths = KubeconfigPaths::resolve(
        args.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::var_os("HOME").as_deref().map(Path::new),
    )
    .map_err(file_error)?;
    // Refuse unreadable or unparsable files before asking the service for certificates.
    KubeconfigSet::load(&paths).map_err(file_error)?;

    let exec = if args.exec {
        let exe = std::env::current_exe().map_err(|e| CliError {
            code: exit::FAILURE,
            message: format!("--exec: cannot tell the path of this program to record it: {e}"),
        })?;
        Some(ExecPlugin {
            command: exe.to_string_lossy().into_owned(),
            duration: args.duration,
            global_args: plugin_global_args(global),
        })
    } else {
        None
    };
    let options = EntryOptions {
        scope: entries::name_scope(global.region.as_deref(), global.endpoint.as_deref()),
        alias: args.alias.clone(),
        user_alias: args.user_alias.clone(),
        access: args.access,
        tls_server_name: args.tls_server_name.clone(),
        exec,
    };

    let client = build_client(global, global.timeout_or(crate::cli::DEFAULT_TIMEOUT))?;
    // With --exec, only the cluster entries (server, CA) are kept: ask for the shortest certificate,
    // which is thrown away; the plugin asks for --duration each time it runs.
    let duration = if args.exec {
        CertDuration::days(1)?
    } else {
        args.duration
    };
    let fetched = fetch::fetch_all(&client, &cluster_ids, duration).await;

    let mut failures: Vec<(String, anyhow::Error)> = Vec::new();
    let mut merged: Vec<ClusterEntries> = Vec::new();
    for f in fetched {
        let built = f.result.and_then(|cert| {
            tracing::info!(
                cluster_id = %f.cluster_id,
                request_id = cert.request_id.as_deref(),
                port_id = cert.port_id.as_deref(),
                "fetched"
            );
            entries::build(&f.cluster_id, &cert.kubeconfig, &options).map_err(anyhow::Error::new)
        });
        match built {
            Ok(e) => merged.push(e),
            Err(err) => failures.push((f.cluster_id, err)),
        }
    }

    // Names held by foreign entries or by another cluster's: that cluster is not merged (the file
    // layer checks foreign entries again under the lock).
    let set = KubeconfigSet::load(&paths).map_err(file_error)?;
    let mut accepted = Vec::with_capacity(merged.len());
    for e in merged {
        match check_names(&set, &e, args.force) {
            Ok(()) => accepted.push(e),
            Err(err) => failures.push((e.cluster_id.clone(), err.into())),
        }
    }
    failures.sort_by_key(|(id, _)| cluster_ids.iter().position(|c| c == id));

    if accepted.is_empty() {
        return Err(all_failed(failures));
    }
    for (id, err) in &failures {
        eprintln!("error: {}", fetch::failure_line(id, err));
    }
    for warning in accepted.iter().flat_map(|e| &e.warnings) {
        eprintln!("{warning}");
    }
    let insecure: Vec<&str> = accepted
        .iter()
        .flat_map(|e| e.insecure_contexts.iter().map(String::as_str))
        .collect();
    if let Some(warning) = insecure_warning(&insecure) {
        eprintln!("{warning}");
    }

    let mut upsert = Upsert::default();
    for e in &accepted {
        e.add_to(&mut upsert);
    }
    let set_current = args.set_current_context.unwrap_or(cluster_ids.len() == 1);
    if set_current {
        upsert.current_context = Some(accepted[0].primary_context().to_owned());
    }
    let opts = UpdateOptions::default()
        .with_dry_run(args.dry_run)
        .with_force_unlock(args.force_unlock)
        .with_force_replace(args.force)
        .with_lock_timeout(kubefile::DEFAULT_LOCK_TIMEOUT);
    let update_paths = paths.clone();
    let report =
        tokio::task::spawn_blocking(move || kubefile::update(&update_paths, upsert, &opts))
            .await?
            .map_err(file_error)?;

    if args.dry_run {
        super::common::print_stdout(&report.render_redacted())?;
    }
    eprint!("{}", summary(&report, &paths, set_current));
    for note in earlier_names(&set, &accepted) {
        eprintln!("{note}");
    }
    Ok(if failures.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    })
}

/// The cluster ids in the order given, each once.
fn unique(ids: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect()
}

/// The global options the `credential` plugin needs to reach the same service and project, in the
/// order `--endpoint`, `--region`, `--project-id`, `--iam-endpoint`: values from flags or their
/// environment variables alike, so that the entry keeps working in another shell. Never keys.
fn plugin_global_args(global: &GlobalArgs) -> Vec<String> {
    let mut args = Vec::new();
    for (flag, value) in [
        ("--endpoint", &global.endpoint),
        ("--region", &global.region),
        ("--project-id", &global.project_id),
        ("--iam-endpoint", &global.iam_endpoint),
    ] {
        if let Some(value) = value {
            args.push(flag.to_owned());
            args.push(value.clone());
        }
    }
    args
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
        eprintln!("error: {}", fetch::failure_line(id, err));
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

/// Refuses names held by an entry that is foreign (no owner mark) or that belongs to another
/// cluster, unless `force`.
fn check_names(set: &KubeconfigSet, e: &ClusterEntries, force: bool) -> Result<(), CliError> {
    if force {
        return Ok(());
    }
    let names = e
        .clusters
        .iter()
        .map(|c| (EntryKind::Cluster, c.name.as_str()))
        .chain([(EntryKind::User, e.user.name.as_str())])
        .chain(
            e.contexts
                .iter()
                .map(|c| (EntryKind::Context, c.name.as_str())),
        );
    for (kind, name) in names {
        let Some(index) = set.origin(kind, name) else {
            continue;
        };
        let file = &set.files()[index];
        let owner = owner_mark(file.config(), kind, name);
        let owner_cluster = owner
            .and_then(|m| m.get("cluster-id"))
            .and_then(Value::as_str);
        if owner_cluster == Some(e.cluster_id.as_str()) {
            continue;
        }
        let whose = match (owner, owner_cluster) {
            (None, _) => "was not written by cce-autopilot".to_owned(),
            (Some(_), Some(other)) => format!("belongs to cluster {other}"),
            (Some(_), None) => "was written by cce-autopilot for something else".to_owned(),
        };
        return Err(CliError::file(format!(
            "{kind} {name:?} already exists in {} and {whose}; choose other names with --alias/--user-alias, or pass --force to replace it (this cluster was not merged)",
            file.path().display()
        )));
    }
    Ok(())
}

fn owner_mark<'a>(
    config: &'a kubefile::KubeconfigFile,
    kind: EntryKind,
    name: &str,
) -> Option<&'a Value> {
    match kind {
        EntryKind::Cluster => config
            .clusters
            .iter()
            .find(|c| c.name == name)?
            .owner_mark(),
        EntryKind::User => config.users.iter().find(|u| u.name == name)?.owner_mark(),
        EntryKind::Context => config
            .contexts
            .iter()
            .find(|c| c.name == name)?
            .owner_mark(),
    }
}

/// A file-layer error as one line with exit code 6; a name collision found under the lock speaks
/// of this command's flags.
fn file_error(e: Error) -> anyhow::Error {
    let message = match e {
        Error::Collision { kind, name, path } => format!(
            "{kind} {name:?} already exists in {} and was not written by cce-autopilot; choose other names with --alias/--user-alias, or pass --force to replace it (nothing was written)",
            path.display()
        ),
        other => one_line(&other.to_string()),
    };
    CliError::file(message).into()
}

/// `text` on one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What was done, for stderr: the files written, one line per entry changed, the current context.
/// Names and paths only, never key material.
fn summary(report: &MergeReport, paths: &KubeconfigPaths, set_current: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let several_files = paths.files().len() > 1;
    if report.dry_run {
        let _ = writeln!(
            out,
            "dry run: nothing was written; the changes are on stdout"
        );
    } else if report.written.is_empty() {
        let _ = writeln!(out, "no change: the kubeconfig already holds these entries");
    }
    for path in &report.written {
        let backup = backup_path_for(path);
        if backup.exists() {
            let _ = writeln!(
                out,
                "updated {} (previous version in {})",
                path.display(),
                backup.display()
            );
        } else {
            let _ = writeln!(out, "created {}", path.display());
        }
    }
    let verb = |a: ChangeAction| match (a, report.dry_run) {
        (ChangeAction::Added, false) => "added",
        (ChangeAction::Added, true) => "would add",
        (ChangeAction::Replaced | ChangeAction::ReplacedForeign, false) => "replaced",
        (ChangeAction::Replaced | ChangeAction::ReplacedForeign, true) => "would replace",
        (ChangeAction::Unchanged, _) => "unchanged",
    };
    let effective: Vec<_> = report.effective_changes().collect();
    if effective.len() <= ENTRY_LINES {
        for change in &effective {
            let foreign = if change.action == ChangeAction::ReplacedForeign {
                " (--force)"
            } else {
                ""
            };
            let _ = write!(
                out,
                "  {} {} {}{foreign}",
                verb(change.action),
                change.kind,
                change.name
            );
            if several_files {
                let _ = write!(out, " in {}", change.file.display());
            }
            out.push('\n');
        }
    } else {
        // Many clusters: counts, then the contexts, which are what users select.
        let mut counts: Vec<((&str, EntryKind), usize)> = Vec::new();
        for change in &effective {
            let key = (verb(change.action), change.kind);
            match counts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => counts.push((key, 1)),
            }
        }
        let parts: Vec<String> = counts
            .iter()
            .map(|((verb, kind), n)| format!("{verb} {}", plural(*n, kind.as_str())))
            .collect();
        let _ = writeln!(out, "  {}; contexts:", parts.join(", "));
        for change in effective.iter().filter(|c| c.kind == EntryKind::Context) {
            let _ = writeln!(out, "    {}", change.name);
        }
    }
    let unchanged = report.changes.len() - effective.len();
    if unchanged > 0 {
        let _ = writeln!(out, "  {} unchanged", plural(unchanged, "entry"));
    }
    match &report.current_context {
        Some(cc) if cc.changed => {
            let was = cc.previous.as_deref().unwrap_or("none");
            let verb = if report.dry_run {
                "would become"
            } else {
                "is now"
            };
            let _ = writeln!(out, "current context {verb} {} (was {was})", cc.new);
        }
        Some(cc) => {
            let _ = writeln!(out, "current context: {} (unchanged)", cc.new);
        }
        None if !set_current => {
            let contexts: Vec<&str> = report
                .changes
                .iter()
                .filter(|c| c.kind == EntryKind::Context)
                .map(|c| c.name.as_str())
                .collect();
            if let Some(first) = contexts.first() {
                let _ = writeln!(
                    out,
                    "current context left as it was; switch with: kubectl config use-context {first}"
                );
            }
        }
        None => {}
    }
    out
}

/// Up to this many changed entries are listed one per line (one cluster with both accesses).
const ENTRY_LINES: usize = 5;

/// `1 entry`, `2 entries`, `3 contexts`.
fn plural(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {noun}s"),
    }
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
            plural(many.len(), "context"),
            many.join(", ")
        )),
    }
}

/// Notes about contexts written for the same cluster and access by an earlier update under other
/// names (another --alias): they are left alone.
fn earlier_names(set: &KubeconfigSet, merged: &[ClusterEntries]) -> Vec<String> {
    let mut notes = Vec::new();
    let written: HashSet<&str> = merged
        .iter()
        .flat_map(|e| e.contexts.iter().map(|c| c.name.as_str()))
        .collect();
    for e in merged {
        for access in &e.accesses {
            let mark = entries::owner_mark(&e.cluster_id, access.context_name());
            for file in set.files() {
                for ctx in &file.config().contexts {
                    if ctx.owner_mark() == Some(&mark) && !written.contains(ctx.name.as_str()) {
                        notes.push(format!(
                            "note: context {:?} in {} was written for the same cluster and access by an earlier update and is left as it was; remove it with `kubectl config delete-context {}` if it is no longer needed",
                            ctx.name,
                            file.path().display(),
                            ctx.name
                        ));
                    }
                }
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_keeps_the_first_of_each_id_in_order() {
        let ids: Vec<String> = ["b", "a", "b", "c", "a"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(unique(&ids), ["b", "a", "c"]);
    }

    #[test]
    fn plurals_and_the_insecure_warning() {
        assert_eq!(plural(1, "entry"), "1 entry");
        assert_eq!(plural(2, "entry"), "2 entries");
        assert_eq!(plural(3, "context"), "3 contexts");
        assert_eq!(insecure_warning(&[]), None);
        let one = insecure_warning(&["a"]).unwrap();
        assert!(one.starts_with("warning: context a skips"), "{one}");
        let two = insecure_warning(&["a", "b"]).unwrap();
        assert!(two.starts_with("warning: 2 contexts skip"), "{two}");
        assert!(two.ends_with(": a, b"), "{two}");
    }

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\n  b\r\n\nc"), "a b c");
    }

    #[test]
    fn plugin_args_repeat_the_service_settings_but_no_keys() {
        use clap::Parser as _;
        let cli = crate::cli::Cli::try_parse_from([
            "cce-autopilot",
            "kubeconfig",
            "update",
            "--cluster-id",
            "c",
            "--region",
            "cn-north-4",
            "--project-id",
            "p",
            "--endpoint",
            "http://127.0.0.1:1",
        ])
        .unwrap();
        assert_eq!(
            plugin_global_args(&cli.global),
            [
                "--endpoint",
                "http://127.0.0.1:1",
                "--region",
                "cn-north-4",
                "--project-id",
                "p"
            ]
        );
    }
}

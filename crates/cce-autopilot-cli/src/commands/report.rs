//! How `update`, `remove`, `prune` and `refresh` say what they did: lines on stderr for people, or one JSON
//! document on stdout (`--format json`); `--dry-run` adds the redacted entries on stdout. Names and paths
//! only, never key material.

use std::fmt::Write as _;

use cce_autopilot_kubeconfig::{
    ChangeAction, EntryKind, KubeconfigPaths, MergeReport, backup_path_for,
};
use serde::Serialize;

use crate::args::ReportFormat;

use super::common::print_stdout;

/// Up to this many changed entries are listed one per line (one cluster with both accesses).
const ENTRY_LINES: usize = 6;

/// Prints `report`: the redacted dry run or the JSON document ([`super::json::EditJson`]) on stdout, the
/// summary on stderr. `details` are what only this command reports (failures, skipped clusters, …).
pub fn print<D: Serialize>(
    report: &MergeReport,
    paths: &KubeconfigPaths,
    format: ReportFormat,
    details: D,
) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => {
            let doc = super::json::EditJson::new(report, details);
            print_stdout(&(serde_json::to_string_pretty(&doc)? + "\n"))?;
        }
        ReportFormat::Text => {
            if report.dry_run {
                print_stdout(&report.render_redacted())?;
            }
            say!("{}", summary(report, paths).trim_end_matches('\n'));
        }
    }
    Ok(())
}

/// `1 entry`, `2 entries`, `3 contexts`.
pub fn plural(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {noun}s"),
    }
}

fn verb(action: ChangeAction, dry_run: bool) -> &'static str {
    match (action, dry_run) {
        (ChangeAction::Added, false) => "added",
        (ChangeAction::Added, true) => "would add",
        (ChangeAction::Replaced | ChangeAction::ReplacedForeign, false) => "replaced",
        (ChangeAction::Replaced | ChangeAction::ReplacedForeign, true) => "would replace",
        (ChangeAction::Updated, false) => "updated",
        (ChangeAction::Updated, true) => "would update",
        (ChangeAction::Renamed, false) => "renamed",
        (ChangeAction::Renamed, true) => "would rename",
        (ChangeAction::Removed, false) => "removed",
        (ChangeAction::Removed, true) => "would remove",
        _ => "unchanged",
    }
}

/// What was done, for stderr: the files written, one line per entry changed (with the fields that changed),
/// the current context, the notes.
pub fn summary(report: &MergeReport, paths: &KubeconfigPaths) -> String {
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
        if report.created.contains(path) {
            let _ = writeln!(out, "created {}", path.display());
        } else if report.backups.contains(&backup) {
            let _ = writeln!(
                out,
                "updated {} (previous version in {})",
                path.display(),
                backup.display()
            );
        } else {
            let _ = writeln!(out, "updated {} (no backup kept)", path.display());
        }
    }
    let effective: Vec<_> = report.effective_changes().collect();
    if effective.len() <= ENTRY_LINES {
        for change in &effective {
            let _ = write!(
                out,
                "  {} {} {}",
                verb(change.action, report.dry_run),
                change.kind,
                change.name
            );
            if let Some(from) = &change.from {
                let _ = write!(out, " (was {from})");
            }
            if change.action == ChangeAction::ReplacedForeign {
                out.push_str(" (--force)");
            }
            if change.action == ChangeAction::Updated && !change.fields.is_empty() {
                let _ = write!(out, ": {}", change.fields.join(", "));
            }
            if several_files {
                let _ = write!(out, " in {}", change.file.display());
            }
            out.push('\n');
        }
    } else {
        // Many clusters: counts, then the contexts, which are what users select.
        let mut counts: Vec<((&str, EntryKind), usize)> = Vec::new();
        for change in &effective {
            let key = (verb(change.action, report.dry_run), change.kind);
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
    if let Some(cc) = &report.current_context {
        let was = cc.previous.as_deref().unwrap_or("none");
        match (&cc.new, cc.changed, report.dry_run) {
            (Some(new), true, false) => {
                let _ = writeln!(out, "current context is now {new} (was {was})");
            }
            (Some(new), true, true) => {
                let _ = writeln!(out, "current context would become {new} (was {was})");
            }
            (Some(new), false, _) => {
                let _ = writeln!(out, "current context: {new} (unchanged)");
            }
            (None, _, false) => {
                let _ = writeln!(
                    out,
                    "current context unset (it was {was}, which was removed)"
                );
            }
            (None, _, true) => {
                let _ = writeln!(out, "current context would be unset (it is {was})");
            }
        }
    }
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "entry"), "1 entry");
        assert_eq!(plural(2, "entry"), "2 entries");
        assert_eq!(plural(3, "context"), "3 contexts");
    }
}

//! What an edit of the kubeconfig files does, entry by entry, and its renderings: redacted YAML for
//! `--dry-run`, JSON for scripts. Neither ever holds key material.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::error::EntryKind;
use crate::model::KubeconfigFile;
use crate::model::redact::redact_file;

/// What happens to one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeAction {
    /// No entry of that name existed: the entry is appended to the default file.
    Added,
    /// An entry of ours with that name is replaced in place, whole.
    Replaced,
    /// An entry of that name that was not ours is replaced in place (`force_replace`).
    ReplacedForeign,
    /// Our entry is updated in place, field by field: only the fields listed in [`EntryChange::fields`]
    /// change; what the user added stays.
    Updated,
    /// Our entry gets a new name (and perhaps new field values), in place; [`EntryChange::from`] is the
    /// old name.
    Renamed,
    /// Our entry is removed.
    Removed,
    /// Our entry already holds exactly this content: nothing to write.
    Unchanged,
}

impl ChangeAction {
    /// `added`, `replaced`, `replaced-foreign`, `updated`, `renamed`, `removed` or `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Added => "added",
            ChangeAction::Replaced => "replaced",
            ChangeAction::ReplacedForeign => "replaced-foreign",
            ChangeAction::Updated => "updated",
            ChangeAction::Renamed => "renamed",
            ChangeAction::Removed => "removed",
            ChangeAction::Unchanged => "unchanged",
        }
    }
}

/// The fate of one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntryChange {
    /// Which list.
    pub kind: EntryKind,
    /// The entry's name (the new one for a rename).
    pub name: String,
    /// What happens.
    pub action: ChangeAction,
    /// The file the entry is (or stays, or was) in.
    pub file: PathBuf,
    /// The fields that change, for an update or a rename (`server`, `client-key-data`, …).
    pub fields: Vec<String>,
    /// The old name of a renamed entry.
    pub from: Option<String>,
}

impl EntryChange {
    /// A change of `action` to entry `name` of `kind` in `file`.
    pub fn new(
        kind: EntryKind,
        name: impl Into<String>,
        action: ChangeAction,
        file: PathBuf,
    ) -> Self {
        EntryChange {
            kind,
            name: name.into(),
            action,
            file,
            fields: Vec::new(),
            from: None,
        }
    }
}

/// The fate of the `current-context`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CurrentContextChange {
    /// The merged `current-context` before the edit.
    pub previous: Option<String>,
    /// The one after it; `None` when it is unset (its context was removed).
    pub new: Option<String>,
    /// Where it is written (client-go's default file), or where it already is when unchanged.
    pub file: PathBuf,
    /// Whether it differs from `previous`.
    pub changed: bool,
}

/// What an edit does (or, in a dry run, would do), entry by entry.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MergeReport {
    /// One line per entry looked at, in the order of the edit.
    pub changes: Vec<EntryChange>,
    /// The `current-context`, if the edit set or unset it.
    pub current_context: Option<CurrentContextChange>,
    /// What else the user should know (one sentence each): names given a project suffix, entries of an
    /// earlier version moved, a foreign entry a removal uncovered in a later file, …
    pub notes: Vec<String>,
    /// The files rewritten (sorted); empty in a dry run or when nothing changes.
    pub written: Vec<PathBuf>,
    /// Whether this report comes from a dry run (nothing was written).
    pub dry_run: bool,
    /// The `<file>.bak` backups written (see [`crate::fs::BACKUP_HEADER`]).
    pub backups: Vec<PathBuf>,
    /// The files of `written` that did not exist before.
    pub created: Vec<PathBuf>,
    /// The added or changed entries as they will be, for [`MergeReport::render_redacted`].
    pub(crate) pending: KubeconfigFile,
}

impl MergeReport {
    /// Whether the edit changes nothing on disk.
    pub fn is_noop(&self) -> bool {
        self.changes
            .iter()
            .all(|c| c.action == ChangeAction::Unchanged)
            && self.current_context.as_ref().is_none_or(|c| !c.changed)
    }

    /// The changes that are not [`ChangeAction::Unchanged`].
    pub fn effective_changes(&self) -> impl Iterator<Item = &EntryChange> {
        self.changes
            .iter()
            .filter(|c| c.action != ChangeAction::Unchanged)
    }

    /// The added or changed entries (with secrets), in the order of the edit — of a dry run; an edit that
    /// was written keeps none (the files hold them).
    pub fn pending(&self) -> &KubeconfigFile {
        &self.pending
    }

    pub(crate) fn into_written(mut self, dry_run: bool, written: Vec<PathBuf>) -> Self {
        self.dry_run = dry_run;
        self.written = written;
        self
    }

    /// The report as a JSON document for scripts (`--format json`): the changes with their fields and
    /// files, the current context, the notes and the files written. Names and paths only, no entry
    /// content.
    pub fn to_json(&self) -> Value {
        let changes: Vec<Value> = self
            .changes
            .iter()
            .map(|c| {
                let mut change = json!({
                    "kind": c.kind.as_str(),
                    "name": c.name,
                    "action": c.action.as_str(),
                    "file": c.file.display().to_string(),
                });
                if !c.fields.is_empty() {
                    change["fields"] = json!(c.fields);
                }
                if let Some(from) = &c.from {
                    change["from"] = json!(from);
                }
                change
            })
            .collect();
        let mut doc = json!({
            "dry-run": self.dry_run,
            "changes": changes,
            "written": self.written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        if let Some(cc) = &self.current_context {
            doc["current-context"] = json!({
                "from": cc.previous,
                "to": cc.new,
                "changed": cc.changed,
                "file": cc.file.display().to_string(),
            });
        }
        if !self.notes.is_empty() {
            doc["notes"] = json!(self.notes);
        }
        doc
    }

    /// Renders what the edit does as YAML, for `--dry-run` and for logs: only the entries added or
    /// changed (unchanged ones are only counted), each with the file it goes to and the fields that
    /// change, then those entries as they will be.
    ///
    /// Key material is replaced by `REDACTED (<n> bytes)` and certificates by `DATA+OMITTED (<n> bytes)`,
    /// by the crate's one redaction rule (the same as `Debug`'s).
    pub fn render_redacted(&self) -> String {
        let mut doc = Map::new();
        doc.insert("dry-run".to_owned(), Value::Bool(self.dry_run));
        if !self.written.is_empty() {
            doc.insert("written".to_owned(), self.to_json()["written"].clone());
        }
        let changes: Vec<Value> = self.to_json()["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["action"] != "unchanged")
            .cloned()
            .collect();
        doc.insert("changes".to_owned(), Value::Array(changes));
        let unchanged = self.changes.len() - self.effective_changes().count();
        doc.insert("unchanged-entries".to_owned(), json!(unchanged));
        if let Some(cc) = self.current_context.as_ref().filter(|c| c.changed) {
            doc.insert(
                "current-context".to_owned(),
                json!({
                    "from": cc.previous,
                    "to": cc.new,
                    "file": cc.file.display().to_string(),
                }),
            );
        }
        if !self.notes.is_empty() {
            doc.insert("notes".to_owned(), json!(self.notes));
        }
        let mut entries = serde_json::to_value(&self.pending).unwrap_or(Value::Null);
        redact_file(&mut entries);
        for list in ["clusters", "users", "contexts"] {
            if let Some(Value::Array(items)) = entries.get(list)
                && !items.is_empty()
            {
                doc.insert(list.to_owned(), Value::Array(items.clone()));
            }
        }
        let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
        serde_saphyr::to_string_with_options(&Value::Object(doc), options)
            .unwrap_or_else(|e| format!("# cannot render the report: {e}\n"))
    }
}

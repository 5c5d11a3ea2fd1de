//! What a merge does, entry by entry, and its rendering for `--dry-run` with secrets redacted.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::error::EntryKind;
use crate::model::KubeconfigFile;
use crate::model::redact::redact_file;

/// What happens to one upserted entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeAction {
    /// No entry of that name existed: the entry is appended to the default file.
    Added,
    /// An entry of ours with that name is replaced in place.
    Replaced,
    /// An entry of that name that was not ours is replaced in place (`force_replace`).
    ReplacedForeign,
    /// Our entry already holds exactly this content: nothing to write.
    Unchanged,
}

impl ChangeAction {
    /// `added`, `replaced`, `replaced-foreign` or `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Added => "added",
            ChangeAction::Replaced => "replaced",
            ChangeAction::ReplacedForeign => "replaced-foreign",
            ChangeAction::Unchanged => "unchanged",
        }
    }
}

/// The fate of one upserted entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryChange {
    /// Which list.
    pub kind: EntryKind,
    /// The entry's name.
    pub name: String,
    /// What happens.
    pub action: ChangeAction,
    /// The file the entry is (or stays) in.
    pub file: PathBuf,
}

/// The fate of the requested `current-context`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentContextChange {
    /// The merged `current-context` before the update.
    pub previous: Option<String>,
    /// The requested one.
    pub new: String,
    /// Where it is written (client-go's default file), or where it already is when unchanged.
    pub file: PathBuf,
    /// Whether it differs from `previous`.
    pub changed: bool,
}

/// What an update does (or, in a dry run, would do), entry by entry.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct MergeReport {
    /// One line per upserted entry, clusters first, then users, then contexts.
    pub changes: Vec<EntryChange>,
    /// The requested `current-context`, if any.
    pub current_context: Option<CurrentContextChange>,
    /// The files rewritten (sorted); empty in a dry run or when nothing changes.
    pub written: Vec<PathBuf>,
    /// Whether this report comes from a dry run (nothing was written).
    pub dry_run: bool,
    /// The added or replaced entries, for [`MergeReport::render_redacted`].
    pub(crate) pending: KubeconfigFile,
}

impl MergeReport {
    /// Whether the update changes nothing on disk.
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

    /// The added or replaced entries (with secrets), in the order of the update.
    pub fn pending(&self) -> &KubeconfigFile {
        &self.pending
    }

    pub(crate) fn into_written(mut self, dry_run: bool, written: Vec<PathBuf>) -> Self {
        self.dry_run = dry_run;
        self.written = written;
        self
    }

    /// Renders what the update does as YAML, for `--dry-run` and for logs: only the entries
    /// added or changed (unchanged ones are only counted), each with the file it goes to.
    ///
    /// Key material is replaced by `REDACTED (<n> bytes)`: `client-key-data` (n = decoded
    /// bytes), `token`, `password`, exec `env` values and every user field this model does not
    /// know (`auth-provider`, ...). Certificates are not secret but are long:
    /// `certificate-authority-data` and `client-certificate-data` become
    /// `DATA+OMITTED (<n> bytes)`, as in `kubectl config view`.
    pub fn render_redacted(&self) -> String {
        let mut doc = Map::new();
        doc.insert("dry-run".to_owned(), Value::Bool(self.dry_run));
        if !self.written.is_empty() {
            let written: Vec<Value> = self
                .written
                .iter()
                .map(|p| Value::String(p.display().to_string()))
                .collect();
            doc.insert("written".to_owned(), Value::Array(written));
        }
        let changes: Vec<Value> = self
            .effective_changes()
            .map(|c| {
                json!({
                    "kind": c.kind.as_str(),
                    "name": c.name,
                    "action": c.action.as_str(),
                    "file": c.file.display().to_string(),
                })
            })
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

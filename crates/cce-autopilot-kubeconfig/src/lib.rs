//! Kubeconfig files: parse, merge, lock and write them safely, by client-go's rules.
//!
//! ```
//! use cce_autopilot_kubeconfig::{
//!     self as kubeconfig, Cluster, Context, KubeconfigPaths, NamedCluster, NamedContext, NamedUser, Upsert,
//!     UpdateOptions, User,
//! };
//! use serde_json::json;
//!
//! let home = tempfile::tempdir()?;
//! // In the command: KubeconfigPaths::resolve(flag, env::var_os("KUBECONFIG"), env::home_dir())
//! let paths = KubeconfigPaths::resolve(None, None, Some(home.path()))?;
//! let mark = json!({"cluster-id": "0d2f", "access": "internal"});
//! let upsert = Upsert {
//!     clusters: vec![NamedCluster::new("dev", Cluster {
//!         server: Some("https://192.168.1.7:5443".into()),
//!         ..Cluster::default()
//!     }).with_owner_mark(mark.clone())],
//!     users: vec![NamedUser::new("dev", User::default()).with_owner_mark(mark.clone())],
//!     contexts: vec![NamedContext::new("dev", Context {
//!         cluster: Some("dev".into()),
//!         user: Some("dev".into()),
//!         ..Context::default()
//!     }).with_owner_mark(mark)],
//!     current_context: Some("dev".into()),
//! };
//! let report = kubeconfig::update(&paths, upsert, &UpdateOptions::default())?;
//! assert_eq!(report.written, [home.path().join(".kube/config")]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pieces, in the order [`update`] uses them: [`KubeconfigPaths`] (which files),
//! [`KubeconfigSet`] (read and merged view), [`Upsert`] (the generic merge and its
//! [`MergeReport`]), [`FileLock`] (`<file>.lock`), [`write_atomic`] (crash-safe replacement; the [`fs`] module has
//! the helpers for other private files).

mod convert;
mod error;
pub mod fs;
mod load;
mod lock;
mod merge;
mod model;
mod paths;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use error::{EntryKind, Error, HolderLiveness, LockHolder, Result};
pub use fs::{backup_path_for, write_atomic};
pub use load::{KubeconfigSet, LoadedFile};
pub use lock::{DEFAULT_LOCK_TIMEOUT, FileLock, inspect_lock, lock_path_for, process_liveness};
pub use merge::{ChangeAction, CurrentContextChange, EntryChange, MergeReport, Upsert};
pub use model::{
    Cluster, Context, ExecConfig, ExecEnvVar, KubeconfigFile, NamedCluster, NamedContext,
    NamedExtension, NamedUser, OWNER_EXTENSION, UnknownFields, User,
};
pub use paths::{KubeconfigPaths, PathSource};

/// How [`update`] behaves.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateOptions {
    /// Compute the report without locking or writing anything.
    pub dry_run: bool,
    /// How long to wait, in all, for locks held by other processes.
    pub lock_timeout: Duration,
    /// Remove a stale lock (its holder no longer runs) at once, and a lock whose holder cannot be
    /// checked once `lock_timeout` has passed. A lock held by a running process is never broken.
    pub force_unlock: bool,
    /// Replace existing entries of the same name even when they were not written by this tool.
    pub force_replace: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            dry_run: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            force_unlock: false,
            force_replace: false,
        }
    }
}

impl UpdateOptions {
    /// Sets [`UpdateOptions::dry_run`].
    #[must_use]
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Sets [`UpdateOptions::lock_timeout`].
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Sets [`UpdateOptions::force_unlock`].
    #[must_use]
    pub fn with_force_unlock(mut self, force_unlock: bool) -> Self {
        self.force_unlock = force_unlock;
        self
    }

    /// Sets [`UpdateOptions::force_replace`].
    #[must_use]
    pub fn with_force_replace(mut self, force_replace: bool) -> Self {
        self.force_replace = force_replace;
        self
    }
}

/// Merges `upsert` into the kubeconfig files of `paths` and writes the files that change.
///
/// Client-go's rules decide where things go: an existing entry stays in (and is rewritten in)
/// the file it comes from — the first file that defines its name; a new entry, and a changed
/// `current-context`, go to the default file — the first file of the list that exists, else the
/// last one (with `--kubeconfig` or `$HOME/.kube/config`, the only file).
///
/// Concurrent updates do not lose each other's entries: the files to write are locked
/// (`<file>.lock`, in sorted order so that two updates cannot deadlock), every file is read
/// again under the locks, the merge is recomputed on that read, and the changed files are
/// replaced atomically ([`write_atomic`]). Should the re-read show that more files must be
/// written, the locks are released and the whole set is locked again.
///
/// Nothing is written when any file does not parse, repeats a name, or holds a foreign entry
/// of a name to write (unless `force_replace`), nor when nothing changes. With `dry_run`, no
/// lock is taken and nothing is written; [`MergeReport::render_redacted`] shows what would be.
pub fn update(
    paths: &KubeconfigPaths,
    upsert: Upsert,
    opts: &UpdateOptions,
) -> Result<MergeReport> {
    upsert.validate()?;
    if opts.dry_run {
        let set = KubeconfigSet::load(paths)?;
        let plan = merge::plan(&set, &upsert, opts.force_replace)?;
        return Ok(plan.report.into_written(true, Vec::new()));
    }

    let deadline = Instant::now() + opts.lock_timeout;
    let mut to_lock: BTreeSet<PathBuf> = BTreeSet::new();
    let mut locks: Vec<FileLock> = Vec::new();
    loop {
        // Read (under the locks from the second round on) and merge.
        let set = KubeconfigSet::load(paths)?;
        let plan = merge::plan(&set, &upsert, opts.force_replace)?;
        let targets: BTreeSet<PathBuf> = plan
            .files
            .keys()
            .map(|i| set.files()[*i].path().to_path_buf())
            .collect();
        if targets.is_empty() {
            return Ok(plan.report.into_written(false, Vec::new()));
        }
        if !locks.is_empty() && targets.is_subset(&to_lock) {
            let mut written = Vec::with_capacity(plan.files.len());
            for (index, config) in &plan.files {
                let file = &set.files()[*index];
                let yaml = config.to_yaml().map_err(|message| Error::Serialize {
                    path: file.path().to_path_buf(),
                    message,
                })?;
                write_atomic(file.path(), yaml.as_bytes(), file.original())?;
                written.push(file.path().to_path_buf());
            }
            written.sort();
            drop(locks);
            return Ok(plan.report.into_written(false, written));
        }
        // (Re)lock everything needed so far, in sorted order, holding nothing meanwhile.
        locks.clear();
        to_lock.extend(targets);
        for path in &to_lock {
            let dir = parent_dir(path);
            fs::ensure_private_dir(dir).map_err(|source| Error::Write {
                path: path.clone(),
                step: "creating the directory",
                source,
            })?;
            locks.push(FileLock::acquire(path, deadline, opts.force_unlock)?);
        }
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

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
mod edit;
mod error;
pub mod fs;
mod load;
mod lock;
pub mod managed;
mod merge;
mod model;
mod paths;

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

pub use edit::UpdateOptions;

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
    edit::apply(paths, opts, |set| {
        merge::plan(set, &upsert, opts.force_replace)
    })
}

//! Kubeconfig files: parse, merge, lock and write them safely, by client-go's rules — and the entries of
//! CCE Autopilot clusters, merged so that what the user added to them survives.
//!
//! Merging a fetched certificate into `~/.kube/config` (here a temporary home):
//!
//! ```
//! use cce_autopilot_kubeconfig::managed::{self, ClusterEntries, EntryOptions, MergeRequest, Naming, Target};
//! use cce_autopilot_kubeconfig::{KubeconfigFile, KubeconfigPaths, UpdateOptions};
//! use cce_autopilot_model::Kubeconfig;
//!
//! // What `client.cluster_cert(id).send().await?.kubeconfig` holds: the service's answer (shortened).
//! let fetched: Kubeconfig = serde_json::from_value(serde_json::json!({
//!     "kind": "Config", "apiVersion": "v1",
//!     "clusters": [{"name": "internalCluster", "cluster": {"server": "https://192.168.0.10:5443"}}],
//!     "users": [{"name": "user", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}}],
//!     "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user"}}],
//!     "current-context": "internal"
//! }))?;
//!
//! let home = tempfile::tempdir()?;
//! // In a command: KubeconfigPaths::resolve(flag, env::var_os("KUBECONFIG"), env::home_dir())
//! let paths = KubeconfigPaths::resolve(None, None, Some(home.path()))?;
//! let target = Target::new("3f0c9a1e-2b4d-4c6e-8f10-123456789abc")
//!     .with_name(Some("prod".into()))
//!     .with_service("0123456789abcdef0123456789abcdef", "https://cce.cn-north-4.myhuaweicloud.com", None);
//! let merge = |fetched: &Kubeconfig| -> Result<_, Box<dyn std::error::Error>> {
//!     let entries = ClusterEntries::build(target.clone(), fetched, &EntryOptions::default())?;
//!     let mut request = MergeRequest::new(vec![entries], Naming::new("cn-north-4"));
//!     request.set_current = true;
//!     Ok(managed::merge(&paths, &request, &UpdateOptions::default())?)
//! };
//! let outcome = merge(&fetched)?;
//! assert_eq!(outcome.merged[0].contexts[0].1, "cce_cn-north-4_prod_internal");
//!
//! // The user sets a namespace on our context (as `kubectl config set-context --namespace` would) …
//! let file = home.path().join(".kube/config");
//! let mut edited = KubeconfigFile::parse(&std::fs::read_to_string(&file)?, &file)?;
//! edited.contexts[0].context.namespace = Some("team-a".into());
//! std::fs::write(&file, edited.to_yaml()?)?;
//! // … and a re-merge with a new certificate replaces only the fields we own.
//! merge(&fetched)?;
//! let after = KubeconfigFile::parse(&std::fs::read_to_string(&file)?, &file)?;
//! assert_eq!(after.contexts[0].context.namespace.as_deref(), Some("team-a"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pieces: [`KubeconfigPaths`] (which files), [`KubeconfigSet`] (read and merged view), [`managed`]
//! (our entries: built from the service's answer, named, marked, merged field by field, renamed, removed),
//! [`update`] and [`Upsert`] (the generic merge of named entries and its [`MergeReport`]), [`FileLock`]
//! (`<file>.lock`), [`write_atomic`] (crash-safe replacement; the [`fs`] module has the helpers for other
//! private files).

mod convert;
mod edit;
mod error;
pub mod exec_credential;
pub mod fs;
mod load;
mod lock;
pub mod managed;
mod merge;
mod model;
mod paths;
pub mod platform;

pub use error::{EntryKind, Error, HolderLiveness, LockHolder, Remedy, Result};
pub use fs::{backup_path_for, write_atomic};
pub use load::{KubeconfigSet, LoadedFile};
pub use lock::{
    DEFAULT_LOCK_TIMEOUT, FileLock, Unlock, inspect_lock, lock_path_for, process_liveness,
};
pub use merge::{ChangeAction, CurrentContextChange, EntryChange, MergeReport, Upsert};
pub use model::{
    Cluster, Context, ExecConfig, ExecEnvVar, KubeconfigFile, NamedCluster, NamedContext,
    NamedExtension, NamedUser, OWNER_EXTENSION, UnknownFields, User,
};
pub use paths::{KubeconfigPaths, PathSource};

pub use edit::{UpdateOptions, preflight};

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

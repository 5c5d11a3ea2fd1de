//! Every edit of the kubeconfig files takes this one path: read, plan, lock what the plan touches, read
//! again and plan again under the locks, write atomically. The plans (the generic upsert, the managed
//! merge, removal) only compute new file contents from a read of the files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::fs::{self, Backup, write_with_backup};
use crate::load::KubeconfigSet;
use crate::lock::{DEFAULT_LOCK_TIMEOUT, FileLock, Unlock};
use crate::merge::{MergeReport, Plan};
use crate::model::KubeconfigFile;
use crate::paths::KubeconfigPaths;

/// How [`update`] behaves.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateOptions {
    /// Compute the report without locking or writing anything.
    pub dry_run: bool,
    /// How long to wait, in all, for locks held by other processes.
    pub lock_timeout: Duration,
    /// Remove a stale lock at once: one this tool wrote for a process of this host that no longer runs.
    /// A lock held by a running process is never broken.
    pub force_unlock: bool,
    /// With `force_unlock`: also remove, once `lock_timeout` has passed, a lock whose holder cannot be
    /// known (kubectl's empty locks, another host's), on the caller's word that nothing else edits the file.
    pub force_unlock_unknown: bool,
    /// Replace existing entries of the same name even when they were not written by this tool.
    pub force_replace: bool,
    /// Replace a kubeconfig file that has other hard links or is read-only (see [`crate::write_atomic`]).
    pub force_write: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            dry_run: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            force_unlock: false,
            force_unlock_unknown: false,
            force_replace: false,
            force_write: false,
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

    /// Sets [`UpdateOptions::force_unlock_unknown`].
    #[must_use]
    pub fn with_force_unlock_unknown(mut self, force_unlock_unknown: bool) -> Self {
        self.force_unlock_unknown = force_unlock_unknown;
        self
    }

    /// Sets [`UpdateOptions::force_replace`].
    #[must_use]
    pub fn with_force_replace(mut self, force_replace: bool) -> Self {
        self.force_replace = force_replace;
        self
    }

    /// Sets [`UpdateOptions::force_write`].
    #[must_use]
    pub fn with_force_write(mut self, force_write: bool) -> Self {
        self.force_write = force_write;
        self
    }
}

/// Checks, before anything costly (a certificate) is asked for, what would make an edit of the files of
/// `set` (as read by the caller: they parse) fail on this machine: the default file (where new entries go)
/// must be replaceable (its type, hard links, mode, and no link another user planted in a shared
/// directory), its directory creatable and writable, and its lock obtainable within `opts.lock_timeout`
/// (taken and released at once). The edit itself checks all of it again under the lock.
pub fn preflight(set: &KubeconfigSet, opts: &UpdateOptions) -> Result<()> {
    let target = set.files()[set.default_file()].path().to_path_buf();
    fs::check_replaceable(&target, opts.force_write)?;
    let real = fs::resolve_target(&target).map_err(|source| Error::Write {
        path: target.clone(),
        step: "resolving symbolic links",
        source,
    })?;
    let dir = parent_dir(&real);
    let fail = |step: &'static str| {
        let path = target.clone();
        move |source| Error::Write { path, step, source }
    };
    fs::ensure_private_dir(dir).map_err(fail("creating the directory"))?;
    tempfile::Builder::new()
        .prefix(".cce-autopilot-probe.")
        .tempfile_in(dir)
        .map_err(fail("creating a file in its directory"))?;
    drop(FileLock::acquire(
        &target,
        lock_deadline(opts),
        unlock_of(opts),
    )?);
    Ok(())
}

/// When waiting for locks ends; a wait the clock cannot add (`Duration::MAX`) lasts a century, never
/// panics.
fn lock_deadline(opts: &UpdateOptions) -> Instant {
    const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let now = Instant::now();
    now.checked_add(opts.lock_timeout)
        .unwrap_or_else(|| now + FOREVER)
}

fn unlock_of(opts: &UpdateOptions) -> Unlock {
    match (opts.force_unlock, opts.force_unlock_unknown) {
        (false, _) => Unlock::Never,
        (true, false) => Unlock::Stale,
        (true, true) => Unlock::StaleOrUnknown,
    }
}

/// Plans with `plan` on a read of the files of `paths` and writes the files that change.
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
/// Nothing is written when any file does not parse, repeats a name, holds a foreign entry
/// of a name to write (unless `force_replace`), or cannot be replaced (not a regular file; hard-linked or
/// read-only unless `force_write`), nor when nothing changes. With `dry_run`, no
/// lock is taken and nothing is written; [`MergeReport::render_redacted`] shows what would be.
pub(crate) fn apply(
    paths: &KubeconfigPaths,
    opts: &UpdateOptions,
    plan: impl Fn(&KubeconfigSet) -> Result<Plan>,
) -> Result<MergeReport> {
    if opts.dry_run {
        let set = KubeconfigSet::load(paths)?;
        let plan = checked(&set, plan(&set)?)?;
        // Say now what the real run would refuse.
        for index in plan.files.keys() {
            fs::check_replaceable(set.files()[*index].path(), opts.force_write)?;
        }
        return Ok(plan.report.into_written(true, Vec::new()));
    }

    let deadline = lock_deadline(opts);
    let mut to_lock: BTreeSet<PathBuf> = BTreeSet::new();
    let mut locks: Vec<FileLock> = Vec::new();
    loop {
        // Read (under the locks from the second round on) and merge.
        let set = KubeconfigSet::load(paths)?;
        let plan = checked(&set, plan(&set)?)?;
        let targets: BTreeSet<PathBuf> = plan
            .files
            .keys()
            .map(|i| set.files()[*i].path().to_path_buf())
            .collect();
        if targets.is_empty() {
            return Ok(plan.report.into_written(false, Vec::new()));
        }
        if !locks.is_empty() && targets.is_subset(&to_lock) {
            // Every file must be replaceable before any is written: all of the edit, or none of it.
            for path in &targets {
                fs::check_replaceable(path, opts.force_write)?;
            }
            let mut report = plan.report;
            // The entries are in the files now: a fleet's copy of them would only double the memory held
            // while the files are written.
            report.pending = crate::model::KubeconfigFile::default();
            let mut written = Vec::with_capacity(plan.files.len());
            for (index, config) in &plan.files {
                let file = &set.files()[*index];
                let yaml = config.to_yaml().map_err(|message| Error::Serialize {
                    path: file.path().to_path_buf(),
                    message,
                })?;
                let removed = removed_keys(file.config(), config);
                let backup = match file.original() {
                    _ if !removed.is_empty() => Backup::Forget(&removed),
                    Some(previous) => Backup::Keep(previous),
                    None => Backup::None,
                };
                let (notes, kept) =
                    write_with_backup(file.path(), yaml.as_bytes(), backup, opts.force_write)?;
                report.notes.extend(notes);
                if kept {
                    report.backups.push(fs::backup_path_for(file.path()));
                }
                if file.original().is_none() {
                    report.created.push(file.path().to_path_buf());
                }
                written.push(file.path().to_path_buf());
            }
            written.sort();
            drop(locks);
            return Ok(report.into_written(false, written));
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
            locks.push(FileLock::acquire(path, deadline, unlock_of(opts))?);
        }
    }
}

/// The client keys of `old` that `new` no longer holds, where their user entry is gone (a removal, not a
/// renewal, which writes a new key into the same entry and keeps the backup).
fn removed_keys(old: &KubeconfigFile, new: &KubeconfigFile) -> Vec<String> {
    let kept: BTreeSet<&str> = new
        .users
        .iter()
        .filter_map(|u| u.user.client_key_data.as_deref())
        .collect();
    let names: BTreeSet<&str> = new.users.iter().map(|u| u.name.as_str()).collect();
    old.users
        .iter()
        .filter(|u| !names.contains(u.name.as_str()))
        .filter_map(|u| u.user.client_key_data.clone())
        .filter(|key| !kept.contains(key.as_str()))
        .collect()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The plan, unless it would leave a file kubectl refuses (a name twice in one list).
fn checked(set: &KubeconfigSet, plan: Plan) -> Result<Plan> {
    for (i, file) in &plan.files {
        if let Some((kind, name)) = file.duplicate_name() {
            return Err(Error::DuplicateName {
                path: set.files()[*i].path().to_path_buf(),
                kind,
                name: name.to_owned(),
            });
        }
    }
    Ok(plan)
}

//! `<file>.lock` files, compatible with client-go's (created with `O_CREAT|O_EXCL`), except that
//! we wait for a held lock instead of failing, record who holds ours, and recognise stale ones.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, HolderLiveness, LockHolder, Result};

/// How long [`super::update`] waits for a held lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// First line of the lock files we write.
const MAGIC: &str = "cce-autopilot kubeconfig lock";
/// Last line: a lock whose content lacks it is still being written.
const END: &str = "end";

const MIN_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// The lock file client-go uses for `target`: the same path with `.lock` appended.
pub fn lock_path_for(target: &Path) -> PathBuf {
    let mut name = OsString::from(target.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

/// Which locks of other processes [`FileLock::acquire`] may remove.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unlock {
    /// None: a lock in the way is waited for, then reported.
    #[default]
    Never,
    /// Only a provably stale one: written by this tool (its complete format) for a process of this host
    /// that no longer runs (`--force-unlock`).
    Stale,
    /// Also, once the wait is over, one whose holder cannot be known — kubectl's empty locks, another
    /// host's, another tool's — on the user's word that nothing else edits the file
    /// (`--force-unlock --no-kubectl-running`).
    StaleOrUnknown,
}

/// A held `<file>.lock`; dropping it removes the lock file (on every path, errors included).
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
    token: String,
}

impl FileLock {
    /// Takes the lock of `target`, waiting (with a small backoff) until `deadline` while another
    /// process holds it.
    ///
    /// A lock recorded by a process of this host that no longer runs is stale: with [`Unlock::Never`]
    /// this fails at once with [`Error::StaleLock`]; otherwise the stale lock is removed and taken. With
    /// [`Unlock::StaleOrUnknown`], a lock whose holder cannot be checked (an empty kubectl lock, another
    /// host, another format) is removed once the deadline has passed. A lock held by a running process is
    /// never broken: the result is [`Error::LockTimeout`].
    ///
    /// The directory of `target` must exist.
    pub fn acquire(target: &Path, deadline: Instant, unlock: Unlock) -> Result<FileLock> {
        let path = lock_path_for(target);
        let started = Instant::now();
        let mut backoff = MIN_BACKOFF;
        // A lock of unknown holder is broken at most once: if such locks keep coming back,
        // someone (kubectl?) is actively using the file.
        let mut broke_unknown = false;
        loop {
            let token = new_token();
            match create_with_content(&path, lock_content(&token).as_bytes()) {
                Ok(()) => return Ok(FileLock { path, token }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(Error::Lock { path, source }),
            }

            let Some((holder, raw)) = inspect(&path).map_err(|source| Error::Lock {
                path: path.clone(),
                source,
            })?
            else {
                continue; // released between our attempt and our look: try again at once
            };
            if holder.liveness == HolderLiveness::Dead {
                // The holder may have released the lock and exited between our read of the file
                // and our look at its pid: only a lock still there, unchanged, is stale.
                if fs::read(&path).ok().as_deref() != Some(raw.as_slice()) {
                    continue;
                }
                if unlock != Unlock::Never {
                    remove_if_unchanged(&path, &raw)?;
                    continue;
                }
                return Err(Error::StaleLock { path, holder });
            }
            let now = Instant::now();
            if now >= deadline {
                if unlock == Unlock::StaleOrUnknown
                    && holder.liveness == HolderLiveness::Unknown
                    && !broke_unknown
                {
                    broke_unknown = true;
                    remove_if_unchanged(&path, &raw)?;
                    continue;
                }
                return Err(Error::LockTimeout {
                    path,
                    holder,
                    waited: now.duration_since(started),
                });
            }
            std::thread::sleep(jittered(backoff).min(deadline - now));
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What a lock file says: who holds it since when, and the token by which the holder knows its own lock.
fn lock_content(token: &str) -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let host = hostname().unwrap_or_default();
    format!(
        "{MAGIC}\npid: {}\nhost: {host}\nsince: {since:.3}\ntoken: {token}\n{END}\n",
        std::process::id()
    )
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Remove the lock only if it is still ours: someone may have broken it with
        // --force-unlock and taken it since.
        let ours = fs::read_to_string(&self.path)
            .map(|c| {
                c.lines()
                    .any(|l| l.strip_prefix("token: ") == Some(self.token.as_str()))
            })
            .unwrap_or(false);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Creates `path` with `content` in one step: the content goes to a private temporary file that is then
/// hard-linked to `path` (which fails if `path` exists). A process killed at any moment leaves either no
/// lock or a complete one, never an empty lock whose holder nobody can tell.
fn create_with_content(path: &Path, content: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut staged = tempfile::Builder::new().prefix(".lock-").tempfile_in(dir)?;
    staged.write_all(content)?;
    staged.as_file().sync_all()?;
    crate::fs::set_private(staged.as_file())?;
    fs::hard_link(staged.path(), path)
    // `staged` is removed on drop; the lock keeps the content through its own link.
}

/// Who holds the lock file at `path`, and its raw content; `None` if there is no lock file.
pub fn inspect_lock(path: &Path) -> io::Result<Option<LockHolder>> {
    Ok(inspect(path)?.map(|(holder, _)| holder))
}

fn inspect(path: &Path) -> io::Result<Option<(LockHolder, Vec<u8>)>> {
    let raw = match fs::read(path) {
        Ok(raw) => raw,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mtime_age = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok());
    let text = String::from_utf8_lossy(&raw);
    let complete = text.starts_with(MAGIC) && text.lines().any(|l| l == END);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(": ")))
            .map(str::trim)
    };
    let (pid, host, since) = if complete {
        (
            field("pid").and_then(|p| p.parse::<u32>().ok()),
            field("host").filter(|h| !h.is_empty()).map(str::to_owned),
            field("since").and_then(|s| s.parse::<f64>().ok()),
        )
    } else {
        (None, None, None)
    };
    let age = since
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .and_then(|s| SystemTime::now().duration_since(UNIX_EPOCH + s).ok())
        .or(mtime_age);
    let liveness = match pid {
        None => HolderLiveness::Unknown,
        Some(_) if host.is_some() && host != hostname() => HolderLiveness::Unknown,
        Some(pid) => process_liveness(pid),
    };
    Ok(Some((
        LockHolder {
            pid,
            host,
            age,
            liveness,
        },
        raw,
    )))
}

/// Whether `pid` runs on this host. Linux: from `/proc` (a zombie counts as dead; with `/proc` mounted
/// `hidepid`, another user's process looks dead — kubeconfig locks are per user anyway). Other Unix
/// (macOS): `kill(pid, 0)`, which tells a live process (of any user) from none. Elsewhere (Windows):
/// unknown, so a lock is only ever broken by `--force-unlock --no-kubectl-running`.
pub fn process_liveness(pid: u32) -> HolderLiveness {
    if pid == std::process::id() {
        return HolderLiveness::Alive;
    }
    liveness_of(pid)
}

#[cfg(target_os = "linux")]
fn liveness_of(pid: u32) -> HolderLiveness {
    if !Path::new("/proc/self/stat").exists() {
        return HolderLiveness::Unknown;
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // "pid (comm) S ...": the state follows the last ')', since comm may hold one.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            match state {
                Some('Z' | 'X' | 'x') => HolderLiveness::Dead,
                _ => HolderLiveness::Alive,
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => HolderLiveness::Dead,
        Err(_) => HolderLiveness::Unknown,
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
fn liveness_of(pid: u32) -> HolderLiveness {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return HolderLiveness::Unknown;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) | Err(rustix::io::Errno::PERM) => HolderLiveness::Alive,
        Err(rustix::io::Errno::SRCH) => HolderLiveness::Dead,
        Err(_) => HolderLiveness::Unknown,
    }
}

#[cfg(not(unix))]
fn liveness_of(_pid: u32) -> HolderLiveness {
    HolderLiveness::Unknown
}

/// Removes a lock we judged breakable, unless it changed since we read it (another process may
/// have broken it and taken it in the meantime).
fn remove_if_unchanged(path: &Path, judged: &[u8]) -> Result<()> {
    match fs::read(path) {
        Ok(now) if now == judged => match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::Lock {
                path: path.to_path_buf(),
                source,
            }),
        },
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Lock {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn hostname() -> Option<String> {
    // Linux, then most other Unix; Windows names its host in COMPUTERNAME.
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .or_else(|_| std::env::var("COMPUTERNAME").map_err(io::Error::other))
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// A value unique to one acquisition, so that a lock is only ever removed by its own guard.
fn new_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `base` plus up to half of it, so that waiters do not poll in lockstep.
fn jittered(base: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let max_extra = u32::try_from(base.as_micros() / 2)
        .unwrap_or(u32::MAX)
        .max(1);
    base + Duration::from_micros(u64::from(nanos % max_extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    #[test]
    fn lock_is_created_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        let lock = FileLock::acquire(&target, soon(100), Unlock::Never).unwrap();
        assert_eq!(lock.path(), dir.path().join("config.lock"));
        let holder = inspect_lock(lock.path()).unwrap().unwrap();
        assert_eq!(holder.pid, Some(std::process::id()));
        assert_eq!(holder.liveness, HolderLiveness::Alive);
        drop(lock);
        assert!(!dir.path().join("config.lock").exists());
    }

    #[test]
    fn a_held_lock_times_out_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        let _held = FileLock::acquire(&target, soon(100), Unlock::Never).unwrap();
        let err = FileLock::acquire(&target, soon(50), Unlock::Never).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::LockTimeout { .. }), "{msg}");
        assert!(
            msg.contains(&format!("process {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("still running"), "{msg}");
        // Nothing ever breaks a lock whose holder runs.
        assert!(FileLock::acquire(&target, soon(30), Unlock::Stale).is_err());
        assert!(FileLock::acquire(&target, soon(30), Unlock::StaleOrUnknown).is_err());
    }

    #[test]
    fn an_empty_lock_is_of_unknown_holder_and_only_the_user_s_word_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        fs::write(lock_path_for(&target), "").unwrap();
        let err = FileLock::acquire(&target, soon(30), Unlock::Never)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown process"), "{err}");
        // Not provably stale: removing stale locks alone leaves it.
        let err = FileLock::acquire(&target, soon(30), Unlock::Stale).unwrap_err();
        assert_eq!(
            err.remedy(),
            Some(crate::Remedy::RemoveUnknownLock),
            "{err}"
        );
        assert!(matches!(err, Error::LockTimeout { .. }), "{err}");
        assert!(lock_path_for(&target).exists());
        let lock = FileLock::acquire(&target, soon(30), Unlock::StaleOrUnknown).unwrap();
        assert_eq!(
            inspect_lock(lock.path()).unwrap().unwrap().pid,
            Some(std::process::id())
        );
    }

    #[test]
    fn a_guard_never_removes_a_lock_that_is_no_longer_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        let lock = FileLock::acquire(&target, soon(100), Unlock::Never).unwrap();
        fs::write(lock.path(), "someone else\n").unwrap();
        let path = lock.path().to_path_buf();
        drop(lock);
        assert!(path.exists());
    }

    #[test]
    fn a_lock_in_another_format_naming_a_live_pid_is_not_ours_to_judge() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        fs::write(lock_path_for(&target), "pid: 1\n").unwrap();
        let err = FileLock::acquire(&target, soon(30), Unlock::Stale).unwrap_err();
        assert!(matches!(err, Error::LockTimeout { .. }), "{err}");
        assert!(lock_path_for(&target).exists());
    }

    #[test]
    fn liveness_of_this_process_and_of_a_reaped_child() {
        assert_eq!(process_liveness(std::process::id()), HolderLiveness::Alive);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert_eq!(process_liveness(pid), HolderLiveness::Dead);
    }
}

//! Private files written so that a crash never leaves half of one: the one atomic-write helper
//! ([`write_file_atomic`]: temp file in the same directory, fsync, rename, fsync of the directory) and the
//! one private-directory helper ([`ensure_private_dir`]) of the workspace, and on top of them the
//! kubeconfig replacement [`write_atomic`], which keeps the previous version as `<file>.bak`.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

mod backup;
mod platform;
mod target;

pub(crate) use backup::Backup;
pub use backup::{BACKUP_HEADER, backup_is_ours};
pub use platform::{file_type_name, is_socket};
pub use target::Existing;

/// `<file>.bak`, where the previous version of a rewritten file is kept.
pub fn backup_path_for(target: &Path) -> PathBuf {
    let mut name = OsString::from(target.as_os_str());
    name.push(".bak");
    PathBuf::from(name)
}

/// Creates `dir` and its missing parents with mode 0700. An existing directory is left as it is: it may be
/// one the user chose and shares on purpose; the files written in it are private either way.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    platform::create_private_dir_all(dir)?;
    // Make the new directory's entry durable too.
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = File::open(parent).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// The file a write to `target` must replace: `target` itself, or what it links to when it is
/// a symlink (renaming over the link would turn it into a regular file).
///
/// Links are followed as the kernel's `protected_symlinks` rule allows, never further: a link in a
/// sticky, world-writable directory (`/tmp`) is followed only when it belongs to the caller or to the
/// directory's owner; another's is refused with [`io::ErrorKind::PermissionDenied`]. Resolving links in
/// user space would otherwise let another user of the machine point our write at any file we may write.
pub fn resolve_target(target: &Path) -> io::Result<PathBuf> {
    let mut current = target.to_path_buf();
    // A bounded walk, like the kernel's limit on nested links.
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                platform::check_link_may_be_followed(&current, &meta)?;
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Replaces `target` with `contents` so that a crash at any moment leaves either the old or the
/// new file, never a partial one, and returns what the user should be told:
///
/// 1. the parent directory is created (0700) if missing;
/// 2. an existing target must be a regular file; unless `force`, one with other hard links or without its
///    owner's write permission is refused ([`Error::HardLinked`], [`Error::ReadOnly`]);
/// 3. `previous` (the bytes read under the lock), if any, is written to `<file>.bak` the same
///    atomic way, after a header line that marks it as ours; a `.bak` without that header is the user's
///    and is left alone (no backup is kept, a note says so);
/// 4. `contents` goes to a temp file in the same directory, which is fsynced and renamed over the target;
///    then the directory is fsynced.
///
/// The target and its `.bak` end with mode 0600 (a note says so when that tightens the mode) and the
/// owner and group the target had (root rewriting a user's file gives it back). A symlinked target is
/// written through: the file it points to is replaced, the link stays.
pub fn write_atomic(
    target: &Path,
    contents: &[u8],
    previous: Option<&[u8]>,
    force: bool,
) -> Result<Vec<String>> {
    let backup = previous.map_or(Backup::None, Backup::Keep);
    write_with_backup(target, contents, backup, force).map(|(notes, _)| notes)
}

/// [`write_atomic`] with a [`Backup`] rule; also says whether a backup was written.
pub(crate) fn write_with_backup(
    target: &Path,
    contents: &[u8],
    backup: Backup<'_>,
    force: bool,
) -> Result<(Vec<String>, bool)> {
    let fail = |step: &'static str| {
        let path = target.to_path_buf();
        move |source: io::Error| Error::Write { path, step, source }
    };
    let real = resolve_target(target).map_err(fail("resolving symbolic links"))?;
    let (existing, mut notes) = target::check(&real, target, force)?;
    let dir = match real.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    ensure_private_dir(&dir).map_err(fail("creating the directory"))?;
    let owner = existing.map(|e| (e.uid, e.gid));
    let kept = backup::apply(&real, backup, owner, &mut notes)
        .map_err(fail("keeping the previous version as .bak"))?;
    replace_file(&real, contents, PRIVATE, owner, &mut notes)
        .map_err(fail("replacing the file"))?;
    notes.dedup();
    Ok((notes, kept))
}

/// Checks, without writing, that [`write_atomic`] would replace `target` (see its step 2).
pub fn check_replaceable(target: &Path, force: bool) -> Result<()> {
    let real = resolve_target(target).map_err(|source| Error::Write {
        path: target.to_path_buf(),
        step: "resolving symbolic links",
        source,
    })?;
    target::check(&real, target, force).map(|_| ())
}

/// Owner read and write only: every file this workspace writes may hold a key.
pub const PRIVATE: u32 = 0o600;

/// Makes an open file [`PRIVATE`] where the platform has modes (see the platform notes of this module).
pub fn set_private(file: &File) -> io::Result<()> {
    platform::set_mode(file, PRIVATE)
}

/// Replaces `path` with `contents` and `mode` so that a crash at any moment leaves the old file or the new
/// one, never part of either: a temporary file in the same directory (created with `mode`, whatever the
/// umask), fsynced, renamed over `path`, then the directory fsynced. The directory must exist.
pub fn write_file_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    replace_file(path, contents, mode, None, &mut Vec::new())
}

/// [`write_file_atomic`], the new file given `owner` (uid, gid) before it takes the place of the old one.
/// Only root may give a file away: otherwise the owner stays ours, and a note says so.
fn replace_file(
    path: &Path,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
    notes: &mut Vec<String>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!(
        ".{}.",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    platform::with_mode(&mut builder, mode);
    let mut tmp = builder.tempfile_in(dir)?;
    // Whatever the umask did.
    platform::set_mode(tmp.as_file(), mode)?;
    platform::give_to(tmp.as_file(), path, owner, notes)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    platform::persist(tmp, path)?;
    sync_dir(dir)
}

/// Makes a rename in `dir` durable: fsync of the directory (Unix). Windows cannot open a directory as a
/// file; its rename (MoveFileEx) is journalled by NTFS.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    return File::open(dir).and_then(|d| d.sync_all());
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs::Permissions;
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_file_in_new_directory_is_0600_in_0700() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/config");
        write_atomic(&target, b"kind: Config\n", None, false).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"kind: Config\n");
        assert_eq!(mode(&target), 0o600);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        assert!(!backup_path_for(&target).exists());
    }

    #[test]
    fn existing_0644_file_becomes_0600_and_its_previous_version_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, Permissions::from_mode(0o644)).unwrap();
        write_atomic(&target, b"new", Some(b"old"), false).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(mode(&target), 0o600);
        let bak = backup_path_for(&target);
        assert_eq!(
            fs::read(&bak).unwrap(),
            [BACKUP_HEADER.as_bytes(), b"old"].concat()
        );
        assert_eq!(mode(&bak), 0o600);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_backup_the_user_made_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        fs::write(&target, b"old").unwrap();
        fs::write(backup_path_for(&target), b"the user's own copy").unwrap();
        let notes = write_atomic(&target, b"new", Some(b"old"), false).unwrap();
        assert_eq!(
            fs::read(backup_path_for(&target)).unwrap(),
            b"the user's own copy"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("not written by cce-autopilot")),
            "{notes:?}"
        );
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_backup_path_that_is_a_fifo_is_left_alone_and_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        fs::write(&target, b"key: S0VZ").unwrap();
        let bak = backup_path_for(&target);
        let made = std::process::Command::new("mkfifo")
            .arg(&bak)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo");
        // Opening a FIFO for reading would wait for a writer: these return at once.
        let notes = write_atomic(&target, b"new", Some(b"key: S0VZ"), false).unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("not written by cce-autopilot")),
            "{notes:?}"
        );
        let keys = vec!["S0VZ".to_owned()];
        write_with_backup(&target, b"newer", Backup::Forget(&keys), false).unwrap();
        assert!(fs::symlink_metadata(&bak).unwrap().file_type().is_fifo());
        assert_eq!(fs::read(&target).unwrap(), b"newer");
    }

    #[test]
    fn a_removed_key_leaves_no_backup_of_ours_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        fs::write(&target, b"key: S0VZ").unwrap();
        write_atomic(&target, b"key: S0VZ\nmore", Some(b"key: S0VZ"), false).unwrap();
        let bak = backup_path_for(&target);
        assert_eq!(backup_is_ours(&bak).unwrap(), Some(true));
        let keys = vec!["S0VZ".to_owned()];
        let (notes, kept) =
            write_with_backup(&target, b"nothing", Backup::Forget(&keys), false).unwrap();
        assert!(!kept && !bak.exists(), "{notes:?}");
        // A .bak of the user's that holds it is named, not deleted.
        fs::write(&bak, b"key: S0VZ").unwrap();
        let (notes, _) =
            write_with_backup(&target, b"nothing", Backup::Forget(&keys), false).unwrap();
        assert!(bak.exists());
        assert!(
            notes.iter().any(|n| n.contains("delete it yourself")),
            "{notes:?}"
        );
    }

    #[test]
    fn a_link_planted_by_another_user_in_a_sticky_directory_is_not_followed() {
        use std::os::unix::fs::MetadataExt as _;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, Permissions::from_mode(0o1777)).unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let link = shared.join("out.yaml");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let me = rustix::process::geteuid().as_raw();
        if fs::symlink_metadata(&link).unwrap().uid() == me && me == 0 {
            // Root can give the link away (lchown), as another user would have made it.
            let changed = std::process::Command::new("chown")
                .args(["-h", "65534"])
                .arg(&link)
                .status()
                .is_ok_and(|s| s.success());
            if changed {
                let err = resolve_target(&link).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
                assert!(err.to_string().contains("protected_symlinks"), "{err}");
                assert!(write_atomic(&link, b"x", None, false).is_err());
                assert_eq!(fs::read(&victim).unwrap(), b"precious");
            }
        }
        // The caller's own link there is followed.
        let own = shared.join("mine.yaml");
        std::os::unix::fs::symlink(&victim, &own).unwrap();
        assert_eq!(resolve_target(&own).unwrap(), victim);
    }

    #[test]
    fn a_symlinked_target_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::write(&real, b"old").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink("real", &link).unwrap();
        write_atomic(&link, b"new", Some(b"old"), false).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(
            fs::read(backup_path_for(&real)).unwrap(),
            [BACKUP_HEADER.as_bytes(), b"old"].concat()
        );
    }
}

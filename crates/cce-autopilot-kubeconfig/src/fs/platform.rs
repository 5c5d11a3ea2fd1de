//! What writing private files means on each platform. On Unix: modes (0600 files, 0700 directories), owners
//! kept when root rewrites a user's file, hard-link counts, special files. Windows has none of these in
//! `std`: files get the ACL their directory gives (under `%USERPROFILE%`, the user's alone by default), no
//! mode is set or reported, hard links are not counted, and a file is read-only by its read-only attribute.
//! The README's platform section says so; nothing here claims a guarantee it cannot give.

use std::fs::{self, File, Metadata};
use std::io;
use std::path::Path;

/// The facts of an existing file that a replacement keeps or reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Facts {
    /// Owner and group (Unix); `None` where there are none to keep.
    pub(crate) owner: Option<(u32, u32)>,
    /// Permission bits (Unix); `None` where there are none.
    pub(crate) mode: Option<u32>,
    /// Hard links; `None` where they cannot be counted.
    pub(crate) links: Option<u64>,
    /// Whether the owner may not write it.
    pub(crate) read_only: bool,
}

/// A name for a file type that is not a regular file, for messages.
pub fn file_type_name(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_char_device() {
            return "a character device";
        } else if t.is_block_device() {
            return "a block device";
        } else if t.is_fifo() {
            return "a named pipe (FIFO)";
        } else if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Whether `meta` is a socket (Unix); nothing is one elsewhere.
pub fn is_socket(meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        meta.file_type().is_socket()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

#[cfg(unix)]
pub(crate) fn facts(meta: &Metadata) -> Facts {
    use std::os::unix::fs::MetadataExt as _;
    let mode = meta.mode() & 0o7777;
    Facts {
        owner: Some((meta.uid(), meta.gid())),
        mode: Some(mode),
        links: Some(meta.nlink()),
        read_only: mode & 0o200 == 0,
    }
}

#[cfg(not(unix))]
pub(crate) fn facts(meta: &Metadata) -> Facts {
    Facts {
        owner: None,
        mode: None,
        links: None,
        read_only: meta.permissions().readonly(),
    }
}

/// Creates `dir` and its missing parents, private to the user where the platform has modes (0700).
pub(crate) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// A temporary-file builder whose files are created with `mode` where the platform has modes.
pub(crate) fn with_mode(builder: &mut tempfile::Builder<'_, '_>, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (builder, mode);
}

/// Sets `mode` on an open file, whatever the umask did (Unix; nothing to set elsewhere).
pub(crate) fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
        Ok(())
    }
}

/// Gives `file` to `owner` (uid, gid) unless it has it; a note when only root could (Unix only).
pub(crate) fn give_to(
    file: &File,
    path: &Path,
    owner: Option<(u32, u32)>,
    notes: &mut Vec<String>,
) -> io::Result<()> {
    #[cfg(unix)]
    if let Some((uid, gid)) = owner {
        use std::os::unix::fs::MetadataExt as _;
        let made = file.metadata()?;
        if (made.uid(), made.gid()) != (uid, gid) {
            match std::os::unix::fs::fchown(file, Some(uid), Some(gid)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => notes.push(format!(
                    "{}: owner {uid}:{gid} could not be kept ({e}); it is now {}:{}",
                    path.display(),
                    made.uid(),
                    made.gid()
                )),
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (file, path, owner, notes);
    Ok(())
}

/// Renames `tmp` over `path` atomically. On Windows the rename (`MoveFileEx`) is refused while another
/// process has `path` open without sharing deletion — Go programs such as kubectl open files that way — so
/// a refused rename is tried again for up to two seconds, as long as such a read lasts.
pub(crate) fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> io::Result<()> {
    #[cfg(windows)]
    {
        let mut tmp = tmp;
        for _ in 0..40 {
            match tmp.persist(path) {
                Ok(_) => return Ok(()),
                Err(e) if e.error.kind() == io::ErrorKind::PermissionDenied => {
                    tmp = e.file;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(e.error),
            }
        }
        tmp.persist(path).map(|_| ()).map_err(|e| e.error)
    }
    #[cfg(not(windows))]
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

/// The kernel's `protected_symlinks` rule for the link at `path` (Unix): a link in a sticky,
/// world-writable directory is followed only when it belongs to the caller or to the directory's owner.
#[cfg(unix)]
pub(crate) fn check_link_may_be_followed(path: &Path, link: &Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir_meta = fs::metadata(dir)?;
    let sticky_world_writable = dir_meta.mode() & 0o1002 == 0o1002;
    let follower = rustix::process::geteuid().as_raw();
    if sticky_world_writable && link.uid() != follower && link.uid() != dir_meta.uid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "refusing to follow the symbolic link {}: it belongs to uid {}, neither you nor the owner \
                 of the sticky, world-writable directory it is in (the kernel's protected_symlinks rule)",
                path.display(),
                link.uid()
            ),
        ));
    }
    Ok(())
}

/// Windows has no sticky directories: only an administrator or a user granted the right makes links.
#[cfg(not(unix))]
pub(crate) fn check_link_may_be_followed(_path: &Path, _link: &Metadata) -> io::Result<()> {
    Ok(())
}

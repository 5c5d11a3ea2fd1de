//! What a rewrite of an existing kubeconfig must respect: its type (only regular files are replaced), its
//! hard links and a read-only mode (both refused unless forced), its owner and group (kept), its mode
//! (tightened to 0600, with a note).

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::Path;

use crate::error::{Error, Result};

/// The facts of an existing file that its replacement keeps or reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Existing {
    /// Owner and group.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Permission bits.
    pub mode: u32,
}

/// A name for a file type that is not a regular file, for messages.
pub fn file_type_name(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Checks that `real` (a resolved, non-link path) may be replaced, and returns what the replacement must
/// keep (`None` for a file that does not exist yet) and what to tell the user. `shown` names the file in
/// messages. Refused: anything but a regular file; unless `force`, a file with other hard links (they would
/// keep the old content) or without its owner's write permission (the user made it read-only).
pub fn check(real: &Path, shown: &Path, force: bool) -> Result<(Option<Existing>, Vec<String>)> {
    let meta = match fs::symlink_metadata(real) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((None, Vec::new())),
        Err(source) => {
            return Err(Error::Write {
                path: shown.to_path_buf(),
                step: "looking at the file",
                source,
            });
        }
    };
    if !meta.is_file() {
        return Err(Error::NotRegularFile {
            path: shown.to_path_buf(),
            what: file_type_name(&meta),
        });
    }
    let mut notes = Vec::new();
    let mode = meta.mode() & 0o7777;
    if meta.nlink() > 1 {
        if !force {
            return Err(Error::HardLinked {
                path: shown.to_path_buf(),
                links: meta.nlink(),
            });
        }
        notes.push(format!(
            "{} had {} hard links: it was replaced, and the other names keep the previous content",
            shown.display(),
            meta.nlink()
        ));
    }
    if mode & 0o200 == 0 {
        if !force {
            return Err(Error::ReadOnly {
                path: shown.to_path_buf(),
                mode,
            });
        }
        notes.push(format!(
            "{} was read-only ({mode:04o}): replaced as asked (--force)",
            shown.display()
        ));
    }
    if mode & 0o7177 != 0 {
        notes.push(format!(
            "{}: mode tightened from {mode:04o} to 0600 (it holds a private key)",
            shown.display()
        ));
    }
    Ok((
        Some(Existing {
            uid: meta.uid(),
            gid: meta.gid(),
            mode,
        }),
        notes,
    ))
}

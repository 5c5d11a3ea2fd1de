//! `<file>.bak`: the previous version of a kubeconfig, kept by each rewrite — when it is ours to keep.
//!
//! A backup this crate writes starts with [`BACKUP_HEADER`] (a YAML comment: the file still loads with
//! kubectl, so `mv config.bak config` restores it). A `.bak` without it is the user's, and is never
//! overwritten or deleted: the rewrite keeps no backup and says so. A rewrite that removes a client key
//! (`remove`, `prune`) keeps no backup either, and deletes a backup of ours that still holds the key: no
//! copy of a removed key stays anywhere this crate writes.

use std::fs;
use std::io::{self, Read as _};
use std::path::Path;

use super::{PRIVATE, backup_path_for, replace_file};

/// The first line of every backup this crate writes.
pub const BACKUP_HEADER: &str =
    "# cce-autopilot: the previous version of this kubeconfig, kept by its last rewrite\n";

/// What a rewrite does with `<file>.bak`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Backup<'a> {
    /// Keep these bytes (the file as read under the lock) as the backup.
    Keep(&'a [u8]),
    /// The rewrite removes these client keys (base64, as in the file): keep no backup, and delete a
    /// backup of ours that holds one.
    Forget(&'a [String]),
    /// Nothing to back up (a new file).
    None,
}

/// Whether the backup at `bak` was written by this crate; `None` when there is none. Anything but a regular
/// file (a FIFO, a device, a link) is the user's, and is never opened: opening a FIFO would wait for a writer.
pub fn backup_is_ours(bak: &Path) -> io::Result<Option<bool>> {
    if !is_regular(bak)? {
        return Ok(exists(bak)?.then_some(false));
    }
    let mut head = vec![0u8; BACKUP_HEADER.len()];
    let mut file = fs::File::open(bak)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(Some(head[..read] == *BACKUP_HEADER.as_bytes()))
}

/// Whether `path` is a regular file (not following a link); `false` when absent.
fn is_regular(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(meta.is_file()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether anything (a link included) is at `path`.
fn exists(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Applies `backup` for the file at `real` (resolved); returns whether a backup was written.
pub(crate) fn apply(
    real: &Path,
    backup: Backup<'_>,
    owner: Option<(u32, u32)>,
    notes: &mut Vec<String>,
) -> io::Result<bool> {
    let bak = backup_path_for(real);
    match backup {
        Backup::None => Ok(false),
        Backup::Keep(previous) => match backup_is_ours(&bak)? {
            Some(false) => {
                notes.push(format!(
                    "{} was not written by cce-autopilot: it was left as it is, and no backup was kept \
                     (move it away to have backups again)",
                    bak.display()
                ));
                Ok(false)
            }
            None | Some(true) => {
                let mut contents = Vec::with_capacity(BACKUP_HEADER.len() + previous.len());
                contents.extend_from_slice(BACKUP_HEADER.as_bytes());
                contents.extend_from_slice(previous);
                replace_file(&bak, &contents, PRIVATE, owner, notes)?;
                Ok(true)
            }
        },
        Backup::Forget(keys) => {
            // Only a regular file can hold a key we wrote; it is read once, as text (kubeconfigs are).
            if !is_regular(&bak)? {
                return Ok(false);
            }
            let bytes = fs::read(&bak)?;
            let text = String::from_utf8_lossy(&bytes);
            if !keys
                .iter()
                .any(|k| !k.is_empty() && text.contains(k.as_str()))
            {
                return Ok(false);
            }
            if text.starts_with(BACKUP_HEADER) {
                fs::remove_file(&bak)?;
                notes.push(format!(
                    "{} held the removed client key: deleted, and no backup was kept",
                    bak.display()
                ));
            } else {
                notes.push(format!(
                    "{} (not written by cce-autopilot) still holds the removed client key: delete it \
                     yourself",
                    bak.display()
                ));
            }
            Ok(false)
        }
    }
}

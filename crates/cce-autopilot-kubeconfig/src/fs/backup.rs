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

/// Whether the backup at `bak` was written by this crate; `None` when there is none.
pub fn backup_is_ours(bak: &Path) -> io::Result<Option<bool>> {
    let mut head = vec![0u8; BACKUP_HEADER.len()];
    let mut file = match fs::File::open(bak) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(Some(
        fs::symlink_metadata(bak)?.is_file() && head[..read] == *BACKUP_HEADER.as_bytes(),
    ))
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
            let holds = |text: &[u8]| {
                keys.iter()
                    .any(|k| !k.is_empty() && text.windows(k.len()).any(|w| w == k.as_bytes()))
            };
            match backup_is_ours(&bak)? {
                None => {}
                Some(ours) => {
                    let text = fs::read(&bak)?;
                    if holds(&text) && ours {
                        fs::remove_file(&bak)?;
                        notes.push(format!(
                            "{} held the removed client key: deleted, and no backup was kept",
                            bak.display()
                        ));
                    } else if holds(&text) {
                        notes.push(format!(
                            "{} (not written by cce-autopilot) still holds the removed client key: delete \
                             it yourself",
                            bak.display()
                        ));
                    }
                }
            }
            Ok(false)
        }
    }
}

//! What a rewrite of an existing kubeconfig must respect: its type (only regular files are replaced), its
//! hard links and a read-only mode (both refused unless forced), its owner and group (kept), its mode
//! (tightened to 0600, with a note).

use std::fs;
use std::io;
use std::path::Path;

use super::platform::{self, file_type_name};
use crate::error::{Error, Result};

/// The facts of an existing file that its replacement keeps or reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Existing {
    /// Owner (Unix; 0 where there is none).
    pub uid: u32,
    /// Group (Unix; 0 where there is none).
    pub gid: u32,
    /// Permission bits (Unix; elsewhere 0444 for a read-only file, else 0644).
    pub mode: u32,
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
    let facts = platform::facts(&meta);
    if let Some(links) = facts.links.filter(|&n| n > 1) {
        if !force {
            return Err(Error::HardLinked {
                path: shown.to_path_buf(),
                links,
            });
        }
        notes.push(format!(
            "{} had {links} hard links: it was replaced, and the other names keep the previous content",
            shown.display(),
        ));
    }
    // Where there are no modes (Windows), the read-only attribute is shown as 0444.
    let mode = facts
        .mode
        .unwrap_or(if facts.read_only { 0o444 } else { 0o644 });
    if facts.read_only {
        if !force {
            return Err(Error::ReadOnly {
                path: shown.to_path_buf(),
                mode,
            });
        }
        notes.push(format!(
            "{} was read-only ({mode:04o}): replaced, as the write was forced",
            shown.display()
        ));
    }
    if facts.mode.is_some_and(|m| m & 0o7177 != 0) {
        notes.push(format!(
            "{}: mode tightened from {mode:04o} to 0600 (it holds a private key)",
            shown.display()
        ));
    }
    let (uid, gid) = facts.owner.unwrap_or_default();
    Ok((Some(Existing { uid, gid, mode }), notes))
}

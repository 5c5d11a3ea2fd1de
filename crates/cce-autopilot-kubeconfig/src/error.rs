//! The one error type of the kubeconfig file layer: each message says what failed, on which file or
//! entry, and what to do next — and never contains key material.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Which list of a kubeconfig file an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EntryKind {
    /// An entry of `clusters`.
    Cluster,
    /// An entry of `users` (client-go's `AuthInfo`).
    User,
    /// An entry of `contexts`.
    Context,
}

impl EntryKind {
    /// The singular noun kubectl uses for this kind of entry (`cluster`, `user`, `context`).
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Cluster => "cluster",
            EntryKind::User => "user",
            EntryKind::Context => "context",
        }
    }

    /// The name of the list in a kubeconfig file (`clusters`, `users`, `contexts`).
    pub fn list_name(self) -> &'static str {
        match self {
            EntryKind::Cluster => "clusters",
            EntryKind::User => "users",
            EntryKind::Context => "contexts",
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the process named in a lock file still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HolderLiveness {
    /// `/proc/<pid>` exists (and is not a zombie) on this host.
    Alive,
    /// The pid was recorded on this host and no such process runs any more: the lock is stale.
    Dead,
    /// Unknown: no pid was recorded (kubectl leaves lock files empty), the lock was taken on
    /// another host, or `/proc` is not available.
    Unknown,
}

/// What could be learnt about the holder of a lock file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockHolder {
    /// The pid written in the lock file, if any.
    pub pid: Option<u32>,
    /// The host name written in the lock file, if any.
    pub host: Option<String>,
    /// How long ago the lock was taken (from the recorded timestamp, else the file's mtime).
    pub age: Option<Duration>,
    /// Whether the holder still runs.
    pub liveness: HolderLiveness,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "process {pid}")?,
            None => f.write_str(
                "an unknown process (no pid recorded; kubectl leaves its lock files empty)",
            )?,
        }
        if let Some(host) = &self.host {
            write!(f, " on host {host:?}")?;
        }
        match self.liveness {
            HolderLiveness::Alive => f.write_str(", which is still running")?,
            HolderLiveness::Dead => f.write_str(", which is no longer running")?,
            HolderLiveness::Unknown if self.pid.is_some() => {
                f.write_str(", whose liveness cannot be checked from here")?;
            }
            HolderLiveness::Unknown => {}
        }
        if let Some(age) = self.age {
            write!(f, ", taken {}s ago", age.as_secs())?;
        }
        Ok(())
    }
}

/// Everything that can go wrong while reading, merging, locking or writing kubeconfig files.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No kubeconfig path could be determined.
    #[error(
        "cannot tell which kubeconfig file to use: no explicit path, KUBECONFIG names no file and HOME is not set; name a file, set KUBECONFIG or set HOME"
    )]
    NoPath,

    /// A kubeconfig file could not be read.
    #[error("cannot read kubeconfig file {path:?}: {source}; check that it is a readable file")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    /// A kubeconfig file is not valid YAML/JSON or does not have the shape of a kubeconfig.
    #[error(
        "cannot parse kubeconfig file {path:?}{}: {message}; fix the file or move it aside — it was left untouched",
        location_suffix(*line, *column)
    )]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// 1-based column of the problem, when known.
        column: Option<usize>,
        /// What is wrong (quoted values longer than a few characters are elided, so that no key
        /// material reaches a terminal or a log).
        message: String,
    },

    /// A file that is not a kubeconfig: another `kind` or `apiVersion` (a manifest given by mistake).
    #[error(
        "{path:?} is not a kubeconfig: it is kind {kind:?}, apiVersion {api_version:?}, and a kubeconfig is kind \"Config\", apiVersion \"v1\"; kubectl refuses it too (no kind {kind:?} is registered for version {api_version:?}); name your kubeconfig file instead (the file was left untouched)"
    )]
    NotAKubeconfig {
        /// The file.
        path: PathBuf,
        /// Its `kind`.
        kind: String,
        /// Its `apiVersion`.
        api_version: String,
    },

    /// A kubeconfig path that is not a regular file (a device, a FIFO, a socket, a directory): it is never
    /// read as a kubeconfig nor replaced by one.
    #[error(
        "{path:?} is {what}, not a kubeconfig file: it is neither read nor replaced (renaming a file over it would destroy it); name a regular file instead"
    )]
    NotRegularFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },

    /// A kubeconfig with other hard links: replacing it would leave them with the old content.
    #[error(
        "{path:?} has {links} hard links: replacing it would leave the other names with the old content (nothing was written); the write can be forced, which breaks the link"
    )]
    HardLinked {
        /// The file.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },

    /// A kubeconfig without its owner's write permission: the user made it read-only.
    #[error(
        "{path:?} is read-only (mode {mode:04o}): nothing was written; make it writable, or force the write"
    )]
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// `KUBECONFIG` is set but names no file (`":"`).
    #[error(
        "KUBECONFIG is {value:?}, which names no file: kubectl then reads no kubeconfig and cannot write one; set it to a file, or unset it to use ~/.kube/config (nothing was read or written)"
    )]
    NoFileInKubeconfigEnv {
        /// The variable's value.
        value: String,
    },

    /// A kubeconfig file names two entries of one list alike; kubectl refuses such a file too.
    #[error(
        "kubeconfig file {path:?} has more than one entry named {name:?} in `{}`; kubectl cannot read it either — remove or rename the duplicate (nothing was written)",
        kind.list_name()
    )]
    DuplicateName {
        /// The file.
        path: PathBuf,
        /// The list.
        kind: EntryKind,
        /// The repeated name.
        name: String,
    },

    /// An entry to write has the name of an existing entry that this tool did not write.
    #[error(
        "{kind} {name:?} already exists in {path:?} and was not written by cce-autopilot; choose other names for the new entries, or replace the existing one (nothing was written)"
    )]
    Collision {
        /// The list.
        kind: EntryKind,
        /// The entry's name.
        name: String,
        /// The file the existing entry comes from.
        path: PathBuf,
    },

    /// An entry to write has the name of an entry of ours for another cluster.
    #[error(
        "{kind} {name:?} already exists in {path:?} and belongs to cluster {cluster}; choose other names for the new entries, or replace the existing ones"
    )]
    OwnedByAnotherCluster {
        /// The list.
        kind: EntryKind,
        /// The entry's name.
        name: String,
        /// The file the existing entry comes from.
        path: PathBuf,
        /// The other cluster's name, else its id.
        cluster: String,
    },

    /// A cluster entry would carry a CA together with `insecure-skip-tls-verify: true`.
    #[error(
        "cluster {name:?} sets {ca_field} together with insecure-skip-tls-verify: true, which kubectl rejects (\"specifying a root certificates file with the insecure flag is not allowed\"); keep the CA (and set tls-server-name if the address is not in the server certificate) or drop it and keep insecure-skip-tls-verify"
    )]
    InsecureWithCa {
        /// The cluster entry's name.
        name: String,
        /// `certificate-authority-data` or `certificate-authority`.
        ca_field: &'static str,
    },

    /// The cluster has no endpoint of the access asked for.
    #[error("{}", no_access_message(*access, offered))]
    NoAccess {
        /// The access asked for.
        access: cce_autopilot_model::Access,
        /// The contexts the service's answer has.
        offered: Vec<String>,
    },

    /// The service's answer does not fit a kubeconfig entry.
    #[error("the service's {what} entry does not fit a kubeconfig: {reason}")]
    InvalidAnswer {
        /// Which entry (`cluster`, `user`, `context`).
        what: &'static str,
        /// What is wrong, quoting no value.
        reason: String,
    },

    /// The entries to write are inconsistent (empty or repeated names, dangling references).
    #[error("invalid kubeconfig update: {reason}")]
    InvalidUpsert {
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// A lock file could not be created, inspected or removed.
    #[error("cannot lock {path:?}: {source}; check the directory's permissions")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    /// Another process held the lock for longer than the timeout.
    #[error(
        "timed out after {}s waiting for lock {path:?}, held by {holder}; {}",
        waited.as_secs_f32().round(),
        lock_timeout_advice(holder)
    )]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// Who holds it.
        holder: LockHolder,
        /// How long we waited.
        waited: Duration,
    },

    /// The lock file names a process of this host that no longer runs.
    #[error(
        "stale lock {path:?}: held by {holder}; it can be removed if no other kubeconfig update is running"
    )]
    StaleLock {
        /// The lock file.
        path: PathBuf,
        /// Who held it.
        holder: LockHolder,
    },

    /// A step of the atomic write failed; the target file still holds its previous content.
    #[error(
        "cannot write kubeconfig file {path:?} ({step}): {source}; the file still holds its previous content — check free space and the directory's permissions"
    )]
    Write {
        /// The target file.
        path: PathBuf,
        /// The step that failed.
        step: &'static str,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    /// The merged configuration could not be rendered as YAML.
    #[error(
        "cannot render kubeconfig for {path:?} as YAML: {message}; this is a bug, please report it"
    )]
    Serialize {
        /// The target file.
        path: PathBuf,
        /// The serializer's message.
        message: String,
    },
}

/// What the caller can do about an [`Error`]: a library user sets an option, a command line names its own
/// flag (the messages of [`Error`] name none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remedy {
    /// Name the kubeconfig file explicitly ([`crate::KubeconfigPaths::explicit`]).
    NameAFile,
    /// Replace a hard-linked or read-only file anyway ([`crate::UpdateOptions::force_write`]).
    ForceWrite,
    /// Replace entries this crate did not write, or another cluster's ([`crate::UpdateOptions::force_replace`],
    /// `managed::MergeRequest::force`) — or choose other names (`managed::Naming::alias`).
    ReplaceOrRename,
    /// Remove a lock whose holder no longer runs ([`crate::UpdateOptions::force_unlock`]).
    RemoveStaleLock,
    /// Remove a lock whose holder cannot be told, on the caller's word that nothing else edits the file
    /// ([`crate::UpdateOptions::force_unlock_unknown`]).
    RemoveUnknownLock,
    /// Ask for the internal access (`managed::AccessChoice::Internal`).
    InternalAccess,
}

impl Error {
    /// What the caller can do about this error, when an option of this crate is the remedy.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::NoPath | Error::NotAKubeconfig { .. } | Error::NotRegularFile { .. } => {
                Some(Remedy::NameAFile)
            }
            Error::HardLinked { .. } | Error::ReadOnly { .. } => Some(Remedy::ForceWrite),
            Error::Collision { .. } | Error::OwnedByAnotherCluster { .. } => {
                Some(Remedy::ReplaceOrRename)
            }
            Error::StaleLock { .. } => Some(Remedy::RemoveStaleLock),
            Error::LockTimeout { holder, .. } => match holder.liveness {
                HolderLiveness::Dead => Some(Remedy::RemoveStaleLock),
                HolderLiveness::Unknown => Some(Remedy::RemoveUnknownLock),
                HolderLiveness::Alive => None,
            },
            Error::NoAccess {
                access: cce_autopilot_model::Access::External,
                ..
            } => Some(Remedy::InternalAccess),
            _ => None,
        }
    }
}

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn no_access_message(access: cce_autopilot_model::Access, offered: &[String]) -> String {
    let offered = if offered.is_empty() {
        "none".to_owned()
    } else {
        offered.join(", ")
    };
    match access {
        cce_autopilot_model::Access::External => format!(
            "the cluster has no public endpoint (the service returned the contexts: {offered}); ask for the \
             internal access, or bind an elastic IP to the cluster first"
        ),
        other => format!(
            "the service returned no usable {other} context (contexts: {offered}); this answer cannot be merged"
        ),
    }
}

/// What to do about a lock that outlasted the wait, by what is known of its holder.
fn lock_timeout_advice(holder: &LockHolder) -> &'static str {
    match holder.liveness {
        HolderLiveness::Alive => {
            "wait for it to finish and retry (a lock whose holder runs is never removed)"
        }
        HolderLiveness::Dead => "it can be removed: its holder no longer runs",
        HolderLiveness::Unknown => {
            "wait and retry; if you are sure no kubectl or other tool is editing this kubeconfig, it can be removed"
        }
    }
}

fn location_suffix(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// Elides every double- or back-quoted value longer than `MAX_QUOTED` characters from a parser
/// message: serde's "invalid type" messages quote the offending value, which could be a key.
pub(crate) fn sanitize_message(message: &str) -> String {
    const MAX_QUOTED: usize = 32;
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=start]);
        let after = &rest[start + 1..];
        match after.find(quote) {
            Some(end) => {
                let inner = &after[..end];
                if inner.chars().count() > MAX_QUOTED {
                    out.push_str(&format!("<{} characters elided>", inner.chars().count()));
                } else {
                    out.push_str(inner);
                }
                out.push(quote);
                rest = &after[end + 1..];
            }
            None => {
                // An unterminated quote: elide the tail if it is long.
                if after.chars().count() > MAX_QUOTED {
                    out.push_str("<elided>");
                } else {
                    out.push_str(after);
                }
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_elides_long_quoted_values_only() {
        let key = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Foa2lHOXcw";
        let msg = format!("invalid type: string \"{key}\", expected a boolean for `insecure`");
        let out = sanitize_message(&msg);
        assert!(!out.contains(key), "{out}");
        assert!(out.contains("`insecure`"), "{out}");
        assert!(out.contains("characters elided"), "{out}");
        assert_eq!(sanitize_message("plain"), "plain");
        let unterminated = format!("oops \"{key}");
        assert!(!sanitize_message(&unterminated).contains(key));
    }

    #[test]
    fn lock_holder_display_mentions_pid_liveness_and_age() {
        let h = LockHolder {
            pid: Some(42),
            host: None,
            age: Some(Duration::from_secs(7)),
            liveness: HolderLiveness::Dead,
        };
        let s = h.to_string();
        assert!(
            s.contains("process 42") && s.contains("no longer running") && s.contains("7s ago")
        );
    }
}

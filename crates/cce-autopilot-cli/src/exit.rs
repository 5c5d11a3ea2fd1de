//! Exit codes: distinct per class of failure, so scripts can tell "fix your credentials" from "try again".
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | unexpected failure |
//! | 2 | usage error (bad flags or values; clap's own code) |
//! | 3 | credentials or authentication (none found, rejected with 401/403) |
//! | 4 | service error (any other error answer, or an answer that cannot be decoded) |
//! | 5 | network (cannot connect, time-out) |
//! | 6 | file (a kubeconfig or cache that cannot be read, parsed, locked or written) |
//! | 7 | a certificate has expired (`kubeconfig inspect`) |
//! | 8 | partial failure: some clusters failed, others succeeded |
//! | 141 | stdout was closed before all output was written (`… \| head`): whatever the command writes to files is done, whole; nothing is printed about it (141 is what shells report for a command that a closed pipe ended) |
//!
//! A closed stderr never changes the exit code: the lines meant for it are lost, nothing else.

use std::process::ExitCode;

use cce_autopilot::ErrorKind;
use cce_autopilot_kubeconfig::Remedy;

/// How the command ended: the process exit status, one variant per row of the table above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// Unexpected failure.
    Failure = 1,
    /// Bad flags or values.
    Usage = 2,
    /// Credentials or authentication.
    Auth = 3,
    /// A service error.
    Service = 4,
    /// A network failure.
    Network = 5,
    /// A file error.
    File = 6,
    /// An expired certificate.
    Expired = 7,
    /// Some clusters failed.
    Partial = 8,
    /// Stdout was closed before all output was written.
    OutputClosed = 141,
}

impl Exit {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

/// Success.
pub const OK: Exit = Exit::Ok;
/// Unexpected failure.
pub const FAILURE: Exit = Exit::Failure;
/// Bad flags or values.
pub const USAGE: Exit = Exit::Usage;
/// Credentials or authentication.
pub const AUTH: Exit = Exit::Auth;
/// A service error.
pub const SERVICE: Exit = Exit::Service;
/// A network failure.
pub const NETWORK: Exit = Exit::Network;
/// A file error.
pub const FILE: Exit = Exit::File;
/// An expired certificate.
pub const EXPIRED: Exit = Exit::Expired;
/// Some clusters failed.
pub const PARTIAL: Exit = Exit::Partial;
/// Stdout was closed before all output was written.
pub const OUTPUT_CLOSED: Exit = Exit::OutputClosed;

/// An error that knows its exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// The exit status.
    pub code: Exit,
    /// The one-line message.
    pub message: String,
}

impl CliError {
    /// Stdout was closed under us: the command ends quietly with [`OUTPUT_CLOSED`].
    pub fn output_closed() -> Self {
        CliError {
            code: OUTPUT_CLOSED,
            message: "stdout was closed before all output was written".to_owned(),
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: USAGE,
            message: message.into(),
        }
    }

    /// An answer of the service that cannot be used.
    pub fn service(message: impl Into<String>) -> Self {
        CliError {
            code: SERVICE,
            message: message.into(),
        }
    }

    /// A file error.
    pub fn file(message: impl Into<String>) -> Self {
        CliError {
            code: FILE,
            message: message.into(),
        }
    }
}

/// A kubeconfig-file error as one line of this command line: the library's message (which names no
/// flag), then its remedy in this command's flags — the one place where a [`Remedy`] becomes a flag.
pub fn kubeconfig_message(e: &cce_autopilot_kubeconfig::Error) -> String {
    let message = crate::text::one_line(&e.to_string());
    match e.remedy().and_then(flags_for) {
        Some(flags) => format!("{message} ({flags})"),
        None => message,
    }
}

fn flags_for(remedy: Remedy) -> Option<&'static str> {
    Some(match remedy {
        Remedy::NameAFile => "name the file with --kubeconfig FILE",
        Remedy::ForceWrite => "rerun with --force to replace it anyway",
        Remedy::ReplaceOrRename => {
            "choose other names with --alias/--user-alias, or pass --force to replace it"
        }
        Remedy::RemoveStaleLock => "rerun with --force-unlock to remove it",
        Remedy::RemoveUnknownLock => {
            "if no kubectl or other tool is editing it, rerun with --force-unlock --no-kubectl-running"
        }
        Remedy::InternalAccess => "use --access internal",
        _ => return None,
    })
}

/// What `main` prints for an error: [`kubeconfig_message`] for a kubeconfig-file error, else the chain.
pub fn describe(error: &anyhow::Error) -> String {
    if let Some(e) = error.downcast_ref::<cce_autopilot_kubeconfig::Error>() {
        return kubeconfig_message(e);
    }
    let text = format!("{error:#}");
    match error.downcast_ref::<cce_autopilot::Error>() {
        Some(cce_autopilot::Error::UnknownCluster { nearest, .. }) if nearest.is_empty() => {
            format!("{text} (`cce-autopilot clusters list`)")
        }
        _ => text,
    }
}

/// The exit code for an error chain.
pub fn code_for(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return e.code;
        }
        if let Some(e) = cause.downcast_ref::<cce_autopilot::Error>() {
            return match e.kind() {
                ErrorKind::InvalidInput => USAGE,
                ErrorKind::Credentials | ErrorKind::Auth => AUTH,
                ErrorKind::Config => USAGE,
                ErrorKind::Network => NETWORK,
                _ => SERVICE,
            };
        }
        if cause
            .downcast_ref::<cce_autopilot_kubeconfig::Error>()
            .is_some()
            || cause.downcast_ref::<std::io::Error>().is_some()
        {
            return FILE;
        }
    }
    FAILURE
}

/// The process exit code of `exit`.
pub fn exit_code(exit: Exit) -> ExitCode {
    ExitCode::from(exit.code())
}

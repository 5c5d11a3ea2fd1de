//! The one error type of the library: what can go wrong while starting an emulator.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A boxed cause, so that no dependency's error type leaks into this crate's API.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why [`EmulatorBuilder::start`](crate::EmulatorBuilder::start) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The builder was given a value the emulator cannot serve.
    #[error("invalid emulator configuration: {reason}")]
    InvalidConfig {
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A listener could not be bound.
    #[error(
        "cannot listen on {addr}: {source}; pick another address or port (port 0 picks a free one)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The state directory (or a file in it) could not be created, read or written.
    #[error("state directory: cannot use {path}: {source}")]
    StateDir {
        /// The file or directory concerned.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A CA kept in the state directory could not be loaded.
    #[error(
        "state directory: the CA in {path} is unusable ({reason}); delete that directory to create a new CA"
    )]
    CorruptState {
        /// The cluster's directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A key or certificate could not be generated.
    #[error("cannot generate {what}: {source}")]
    Certificate {
        /// Which key or certificate.
        what: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// The background runtime of [`EmulatorBuilder::start_background`](crate::EmulatorBuilder::start_background)
    /// could not be created.
    #[error("cannot start the emulator's background runtime: {source}")]
    Runtime {
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The TLS configuration of an API-server stub could not be built.
    #[error("cannot configure TLS for the API-server stub of cluster {cluster_id}: {source}")]
    Tls {
        /// The cluster concerned.
        cluster_id: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

/// `Result` with [`EmulatorError`].
pub type Result<T, E = EmulatorError> = std::result::Result<T, E>;

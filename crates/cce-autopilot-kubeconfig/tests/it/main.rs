//! The kubeconfig crate's integration tests: files, what merges keep, locks, the merge itself.
//!
//! One binary for the crate (linking one per file was most of the test build on a small machine); each
//! file is a module, the shared helpers are `support`.
#![allow(missing_docs)]

mod files;
mod keeps;
mod lock;
mod merge;
#[cfg(unix)]
mod support;

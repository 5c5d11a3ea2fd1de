//! The emulator's integration tests: certificates, clusters, errors, faults, IAM and metadata, limits, state, the API-server stub.
//!
//! One binary for the crate (linking one per file was most of the test build on a small machine); each
//! file is a module, the shared helpers are `common`.
#![allow(missing_docs)]

mod background;
mod certificate;
mod clusters;
mod common;
mod errors;
mod faults;
mod iam_metadata;
mod identity;
mod limits;
mod state_dir;
mod stub;

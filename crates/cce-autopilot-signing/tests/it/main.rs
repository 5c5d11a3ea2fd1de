//! The signing crate's integration tests: the official SDK's vectors and sign/verify round trips.
//!
//! One binary for the crate (linking one per file was most of the test build on a small machine); each
//! file is a module.
#![allow(missing_docs)]

mod roundtrip;
mod vectors;

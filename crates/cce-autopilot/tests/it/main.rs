//! The client's configuration from the outside: credentials, the ECS metadata source, the project lookup, regions.
//!
//! One binary for the crate (linking one per file was most of the test build on a small machine); each
//! file is a module, the shared helpers are `config_support`.
#![allow(missing_docs)]

mod config_credentials;
mod config_metadata;
mod config_project;
mod config_region;
mod config_support;

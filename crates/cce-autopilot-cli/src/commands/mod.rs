//! One module per command, owning its arguments (`…Args`, as clap sees them) and its `run`; each is a thin
//! layer over the client, the emulator and the kubeconfig files. [`crate::cli`] dispatches to them.

pub mod cache;
pub mod clusters;
mod common;
pub mod credential;
#[cfg(feature = "emulator")]
pub mod demo;
pub mod expiry;
pub mod export;
pub(crate) mod fleet;
pub mod get;
pub mod inspect;
pub mod json;
pub mod prune;
pub mod refresh;
pub mod remove;
mod report;
mod resolve;
#[cfg(feature = "emulator")]
pub mod serve;
pub mod update;
pub mod whoami;

pub use common::{build_client, print_stdout, write_private_file};

//! The `cce-autopilot` command end to end: the binary run against the embedded emulator (and hostile
//! servers), with kubectl, kube-rs and the files it writes as judges.
//!
//! One binary (linking one per file was most of the test build on a small machine); each file is a
//! module; `plugin_support` and `cli_update_support` hold the shared helpers.
#![allow(missing_docs)]

#[cfg(unix)]
mod cli_update_support;
mod plugin_support;

mod cli_commands;
mod cli_credential;
mod cli_credential_kubectl;
mod cli_export;
mod cli_fail_closed;
mod cli_faults;
#[cfg(unix)]
mod cli_fleet;
mod cli_hostile;
mod cli_identity;
mod cli_inspect;
mod cli_json;
mod cli_lifecycle;
mod cli_names;
mod cli_pipes;
mod cli_single_flight;
mod cli_untrusted;
mod cli_update;
mod cli_update_many;

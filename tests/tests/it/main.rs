//! The contract tests of the workspace: the spec, the wire format (wiremock and insta), the model's
//! invariants (proptest), the client against the emulator, TLS, retries, logs and secrets, untrusted
//! endpoints, kube-rs.
//!
//! One binary (linking one per file was most of the test build on a small machine); each file is a module.
#![allow(missing_docs)]

mod log_capture;

mod emulator;
mod fleet;
mod identity_chain;
mod identity_secrets;
mod kube_rs;
mod logs;
mod model_props;
mod resilience;
mod secrets;
mod spec;
mod transport;
mod untrusted;
mod wire;

//! The `cce-autopilot` command's building blocks, kept in a library so that tests and benchmarks can call them.

pub mod cli;
pub mod commands;
pub mod exit;

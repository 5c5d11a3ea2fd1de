//! The `cce-autopilot` command's building blocks, kept in a library so that tests and benchmarks can call them.

/// `say!` that never panics: with stderr closed (`… 2>&1 | true`) the line is lost and the command
/// goes on, its exit code unchanged.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod cli;
pub mod commands;
pub mod exit;

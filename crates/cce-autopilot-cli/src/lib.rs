//! The `cce-autopilot` command's building blocks, kept in a library so that tests and benchmarks can call them.

/// `say!` that never panics: with stderr closed (`… 2>&1 | true`) the line is lost and the command
/// goes on, its exit code unchanged. Control characters (in text the service sent) are escaped.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let _ = writeln!(std::io::stderr(), "{}", $crate::text::lines(&line));
    }};
}

pub mod args;
pub mod cli;
pub mod commands;
pub mod exit;
pub mod text;

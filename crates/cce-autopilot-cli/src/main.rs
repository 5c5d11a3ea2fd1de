//! `cce-autopilot`: kubeconfigs for CCE Autopilot clusters. See `cce-autopilot --help`.

use std::process::ExitCode;

use cce_autopilot_cli::cli::{Cli, Command};
use cce_autopilot_cli::{commands, exit};
use clap::Parser;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    init_tracing(cli.global.verbose);
    // clap accepts the --agency* options (and keeps the values of one level only, with global options given
    // before and after the subcommand); their grouping by --agency comes from the command line's order.
    match cce_autopilot_cli::args::agencies_in(std::env::args_os()) {
        Ok(agencies) => cli.global.agencies = agencies,
        Err(message) => {
            say(&format!("error: {message}"));
            return exit::exit_code(exit::USAGE);
        }
    }
    // kubectl runs the plugin on every call: a cache hit answers before any runtime or client exists.
    if let Command::Credential(args) = &cli.command {
        match commands::credential::answer_from_cache(&cli.global, args) {
            Ok(Some(code)) => return exit::exit_code(code),
            Ok(None) => {}
            Err(error) => return fail(&error),
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(&format!("error: cannot start the async runtime: {e}"));
            return exit::exit_code(exit::FAILURE);
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(code) => exit::exit_code(code),
        Err(error) => fail(&error),
    }
}

/// Reports `error` (unless stdout was closed, which ends quietly) and returns its exit code.
fn fail(error: &anyhow::Error) -> ExitCode {
    let code = exit::code_for(error);
    if code != exit::OUTPUT_CLOSED {
        say(&format!("error: {}", exit::describe(error)));
    }
    exit::exit_code(code)
}

/// A line on stderr, lost (never a panic) when stderr is closed; control characters escaped.
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        cce_autopilot_cli::text::lines(line)
    );
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CCE_AUTOPILOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Its default reports a failed write with `eprintln!`, which panics when stderr is closed.
        .log_internal_errors(false)
        .init();
}

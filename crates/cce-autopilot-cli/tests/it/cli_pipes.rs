//! Closed pipes (`… | head`, `… 2>&1 | true`): a closed stdout ends a command quietly with exit 141 once
//! its files are written whole; a closed stderr changes nothing; neither is ever a panic (101).
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::cli_update_support;

use std::process::{Output, Stdio};

use cce_autopilot_cli::exit;
use cli_update_support::*;

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

/// Runs with stdout closed and stderr captured.
fn stdout_closed(world: &World, args: &[&str]) -> Output {
    world
        .command(args)
        .stdout(Stdio::from(closed_pipe()))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// Runs with stderr closed and stdout captured.
fn stderr_closed(world: &World, args: &[&str]) -> Output {
    world
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(closed_pipe()))
        .output()
        .unwrap()
}

/// Runs with both closed, as `… 2>&1 | true` does.
fn both_closed(world: &World, args: &[&str]) -> Output {
    let pipe = closed_pipe();
    world
        .command(args)
        .stdout(Stdio::from(pipe.try_clone().unwrap()))
        .stderr(Stdio::from(pipe))
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_ends_quietly_with_141_after_the_file_is_written() {
    let world = World::new();
    let out = stdout_closed(&world, &["kubeconfig", "get", "--cluster", PRIVATE]);
    assert_eq!(
        out.status.code(),
        Some(i32::from(exit::OUTPUT_CLOSED.code()))
    );
    assert!(
        out.stderr.is_empty(),
        "quiet: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let file = world.path("json.yaml");
    let out = stdout_closed(
        &world,
        &[
            "kubeconfig",
            "update",
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster",
            PRIVATE,
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(i32::from(exit::OUTPUT_CLOSED.code()))
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The file was committed before the report was printed.
    assert!(!world.kubectl_contexts(&file).is_empty());

    let out = stdout_closed(&world, &["clusters", "list"]);
    assert_eq!(
        out.status.code(),
        Some(i32::from(exit::OUTPUT_CLOSED.code()))
    );
    let out = stdout_closed(&world, &["credential", "--cluster", PRIVATE]);
    assert_eq!(
        out.status.code(),
        Some(i32::from(exit::OUTPUT_CLOSED.code()))
    );
}

#[test]
fn a_closed_stderr_changes_no_exit_code() {
    let world = World::new();
    let file = world.path("text.yaml");
    let file_arg = file.to_str().unwrap();
    // Text reports and -vvv logs go to stderr.
    for args in [
        &[
            "kubeconfig",
            "update",
            "--kubeconfig",
            file_arg,
            "--cluster",
            PRIVATE,
        ][..],
        &[
            "-vvv",
            "kubeconfig",
            "update",
            "--kubeconfig",
            file_arg,
            "--cluster",
            PRIVATE,
            "--cluster",
            PUBLIC,
        ],
        &[
            "kubeconfig",
            "refresh",
            "--kubeconfig",
            file_arg,
            "--within",
            "40d",
        ],
        &[
            "kubeconfig",
            "remove",
            "--kubeconfig",
            file_arg,
            "--cluster",
            PUBLIC,
        ],
    ] {
        let out = stderr_closed(&world, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
    assert_eq!(
        world.kubectl_contexts(&file).len(),
        1,
        "only the private cluster's context is left"
    );
    // A failure keeps its own code.
    let out = stderr_closed(&world, &["kubeconfig", "get", "--cluster", "no-such-name"]);
    assert_eq!(out.status.code(), Some(i32::from(exit::USAGE.code())));
    // `get` prints to stdout, which is open: the kubeconfig arrives whole.
    let out = stderr_closed(&world, &["-v", "kubeconfig", "get", "--cluster", PRIVATE]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kind: Config"));
}

#[test]
fn both_closed_as_with_2_and_1_into_true_is_never_a_panic() {
    let world = World::new();
    let file = world.path("both.yaml");
    let out = both_closed(
        &world,
        &[
            "kubeconfig",
            "update",
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster",
            PRIVATE,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the update's report is lost, the update is not"
    );
    assert!(!world.kubectl_contexts(&file).is_empty());
    let out = both_closed(&world, &["kubeconfig", "get", "--cluster", PRIVATE]);
    assert_eq!(
        out.status.code(),
        Some(i32::from(exit::OUTPUT_CLOSED.code()))
    );
}

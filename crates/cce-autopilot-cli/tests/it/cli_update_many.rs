//! Many clusters and many processes: `--cluster-id` repeated (with failures), `kubeconfig get -o DIR`,
//! concurrent updates of one file, and updates killed with SIGKILL half-way.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::cli_update_support;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use cce_autopilot_emulator::{Emulator, demo};
use cce_autopilot_kubeconfig::{KubeconfigFile, lock_path_for};
use cli_update_support::*;

#[test]
fn an_unknown_name_fails_before_any_certificate_is_asked_for_naming_the_nearest() {
    let world = World::new();
    let file = world.path("typo.yaml");
    let run = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster",
        demo::PRIVATE_CLUSTER_NAME,
        "--cluster",
        "demo-pubilc",
    ]);
    run.code(2, "unknown name");
    assert!(
        run.stderr.contains("no cluster named \"demo-pubilc\"")
            && run
                .stderr
                .contains(&format!("did you mean {}", demo::PUBLIC_CLUSTER_NAME)),
        "{}",
        run.stderr
    );
    assert_eq!(
        world.emu.issued(PRIVATE),
        0,
        "refused before any certificate"
    );
    assert!(!file.exists());
}

/// Credentials that may not list clusters: the values are taken as ids, one of which does not exist.
#[test]
fn several_clusters_with_one_unknown_exit_8_and_merge_the_others() {
    let world = World::with(Emulator::builder().deny_cluster_listing());
    let file = world.path("many.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    let run = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster-id",
        PRIVATE,
        "--cluster-id",
        "no-such-cluster",
        "--cluster-id",
        PUBLIC,
    ]);
    run.code(8, "partial failure");
    let failures: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(failures.len(), 1, "{}", run.stderr);
    let line = failures[0];
    assert!(
        line.starts_with("error: cluster no-such-cluster: "),
        "{line}"
    );
    assert!(line.contains("CCE.01404001"), "{line}");
    assert!(line.contains("request id "), "{line}");

    assert!(
        run.stderr.contains("may not list clusters"),
        "one note: {}",
        run.stderr
    );
    let written = parse(&file);
    let (_, _, contexts) = names_of(&written);
    assert_eq!(
        contexts,
        [
            "theirs".to_owned(),
            ctx_by_id(PRIVATE, "internal"),
            ctx_by_id(PUBLIC, "external")
        ]
    );
    assert_eq!(
        written.current_context(),
        Some("theirs"),
        "several clusters leave the current context alone by default"
    );
    assert!(
        run.stderr.contains("kubectl config use-context"),
        "{}",
        run.stderr
    );
    for context in &contexts {
        world.kubectl_accepts(&file, context);
    }

    // --set-current-context (no value: true) picks the first cluster given.
    world
        .update(&[
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster-id",
            PUBLIC,
            "--cluster-id",
            PRIVATE,
            "--set-current-context",
        ])
        .success("--set-current-context");
    let again = parse(&file);
    assert_eq!(
        again.current_context(),
        Some(ctx_by_id(PUBLIC, "external").as_str())
    );
    assert_eq!(names_of(&again), names_of(&written), "replaced in place");
}

#[test]
fn several_clusters_all_failing_write_nothing() {
    let world = World::with(Emulator::builder().deny_cluster_listing());
    let file = world.path("none.yaml");
    let run = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster-id",
        "nope-1",
        "--cluster-id",
        "nope-2",
    ]);
    run.code(4, "all failed: the service's exit code");
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("error: cluster nope-"))
            .count(),
        2,
        "{}",
        run.stderr
    );
    assert!(!file.exists());
}

#[test]
fn aliases_are_refused_with_several_clusters() {
    let world = World::new();
    let run = world.update(&[
        "--cluster-id",
        PRIVATE,
        "--cluster-id",
        PUBLIC,
        "--alias",
        "x",
    ]);
    run.code(2, "alias with several clusters");
    assert!(!world.default_config().exists());
    assert_eq!(world.emu.issued(PRIVATE), 0);
}

#[test]
fn get_with_two_clusters_writes_one_private_file_each() {
    let world = World::new();
    let dir = world.path("out");
    let run = world.run([
        "kubeconfig",
        "get",
        "--cluster-id",
        PRIVATE,
        "--cluster-id",
        PUBLIC,
        "-o",
        dir.to_str().unwrap(),
    ]);
    run.success("get -o DIR");
    for id in [PRIVATE, PUBLIC] {
        let path = dir.join(format!("{id}.yaml"));
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        // The service's own names, as `get` does not rename.
        world.kubectl_accepts(&path, "internal");
    }
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);

    // With one unknown cluster id: exit 8, the good file is written.
    let missing = "00000000-0000-4000-8000-000000000000";
    let dir2 = world.path("out2");
    let run = world.run([
        "kubeconfig",
        "get",
        "--cluster-id",
        missing,
        "--cluster-id",
        PRIVATE,
        "-o",
        dir2.to_str().unwrap(),
        "--format",
        "json",
    ]);
    run.code(8, "get with one unknown cluster");
    assert!(
        run.stderr.contains(&format!("error: cluster {missing}: ")),
        "{}",
        run.stderr
    );
    assert!(dir2.join(format!("{PRIVATE}.json")).exists());
    assert!(!dir2.join(format!("{missing}.json")).exists());

    // One cluster and an existing directory: DIR/<id>.yaml.
    world
        .run([
            "kubeconfig",
            "get",
            "--cluster-id",
            PUBLIC,
            "-o",
            dir2.to_str().unwrap(),
        ])
        .success("get -o existing DIR");
    assert_eq!(mode(&dir2.join(format!("{PUBLIC}.yaml"))), 0o600);

    // Several clusters need a directory.
    let run = world.run([
        "kubeconfig",
        "get",
        "--cluster-id",
        PRIVATE,
        "--cluster-id",
        PUBLIC,
    ]);
    run.code(2, "several clusters to stdout");
}

#[test]
fn sixteen_concurrent_updates_of_one_file_lose_no_entry() {
    let ids: Vec<String> = (0..16).map(|i| format!("c{i:02}-0000-cluster")).collect();
    let mut builder = Emulator::builder();
    for (i, id) in ids.iter().enumerate() {
        builder = if i % 2 == 0 {
            builder.cluster(id)
        } else {
            builder.public_cluster(id)
        };
    }
    let world = World::with(builder);
    let file = world.path("shared.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    let children: Vec<_> = ids
        .iter()
        .map(|id| {
            world
                .command([
                    "kubeconfig",
                    "update",
                    "--kubeconfig",
                    file.to_str().unwrap(),
                    "--cluster-id",
                    id,
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for (id, child) in ids.iter().zip(children) {
        let run = Run::from(child.wait_with_output().unwrap());
        run.success(&format!("update of {id}"));
    }
    let contexts = world.kubectl_contexts(&file);
    assert_eq!(contexts.len(), 17, "{contexts:?}");
    for (i, id) in ids.iter().enumerate() {
        let access = if i % 2 == 0 { "internal" } else { "external" };
        let name = ctx(id, access);
        assert!(contexts.contains(&name), "{name} missing: {contexts:?}");
        world.kubectl_accepts(&file, &name);
    }
    assert!(!lock_path_for(&file).exists());
    let written = parse(&file);
    assert_eq!(written.clusters.len(), 17);
    assert_eq!(written.users.len(), 17);
}

#[test]
fn sigkill_during_updates_leaves_the_old_or_a_new_file_and_force_unlock_clears_a_stale_lock() {
    let world = World::new();
    let file = world.path("killed.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    let path = file.to_str().unwrap();
    let args = [
        "kubeconfig",
        "update",
        "--kubeconfig",
        path,
        "--force-unlock",
        "--cluster-id",
    ];

    // How long one update takes here, to spread the kills over its whole run.
    let started = Instant::now();
    Run::from(
        world
            .command(args.iter().chain(&[PRIVATE]))
            .output()
            .unwrap(),
    )
    .success("timing run");
    let full = started.elapsed();

    // Kills from 30% to 125% of a run's length: most land late, around the write.
    const ROUNDS: u32 = 20;
    let mut killed = 0;
    let mut left_locks = 0;
    let lock = lock_path_for(&file);
    for round in 0..ROUNDS {
        let old = fs::read(&file).unwrap();
        let id = if round % 2 == 0 { PUBLIC } else { PRIVATE };
        let mut child = world
            .command(args.iter().chain(&[id]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full * (6 + round) / 20);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        let status = child.wait().unwrap();
        let now = fs::read(&file).unwrap();
        if now != old {
            // A new file: complete, and acceptable to kubectl.
            let parsed = KubeconfigFile::from_bytes(&now, &file).expect("never a torn file");
            assert!(parsed.contexts.iter().any(|c| c.name == "theirs"));
            world.kubectl_contexts(&file);
        } else {
            // Every completed update changes the file (a new certificate at least).
            assert!(
                !status.success(),
                "a completed update left the file as it was"
            );
        }
        // A killed update may leave its lock behind, but always a complete one that names the dead
        // holder (the lock is created with its content in one step), so it is reported as stale, never
        // mistaken for kubectl's anonymous lock. Remove it as --force-unlock would, so that the next
        // rounds exercise real writes.
        if let Ok(content) = fs::read_to_string(&lock) {
            assert!(
                content.ends_with("end\n"),
                "an incomplete lock: {content:?}"
            );
            fs::remove_file(&lock).unwrap();
            left_locks += 1;
        }
    }
    eprintln!(
        "{killed} of {ROUNDS} updates killed (one update takes {full:?}); {left_locks} stale lock(s) removed"
    );

    // A stale lock (as a killed update leaves it): refused without --force-unlock, removed with it.
    let _ = fs::remove_file(&lock);
    write_stale_lock(&lock);
    let before = fs::read(&file).unwrap();
    let run = world.update(&["--kubeconfig", path, "--cluster-id", PRIVATE]);
    run.code(6, "stale lock");
    assert!(run.stderr.contains("stale lock"), "{}", run.stderr);
    assert!(run.stderr.contains("--force-unlock"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(fs::read(&file).unwrap(), before);
    world
        .update(&[
            "--kubeconfig",
            path,
            "--cluster-id",
            PRIVATE,
            "--force-unlock",
        ])
        .success("--force-unlock");
    assert!(!lock.exists());
    world.kubectl_accepts(&file, &ctx(PRIVATE, "internal"));
    world.kubectl_accepts(&file, "theirs");
}

/// A lock file in the file layer's format, held by a process that has exited.
fn write_stale_lock(lock: &Path) {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    fs::write(
        lock,
        format!("cce-autopilot kubeconfig lock\npid: {pid}\nhost: \nsince: 0\ntoken: stale\nend\n"),
    )
    .unwrap();
}

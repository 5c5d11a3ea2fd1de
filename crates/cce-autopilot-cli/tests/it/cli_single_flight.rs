//! One certificate for many plugin runs: simultaneous cold runs fetch once and all print it; a hit never
//! waits for a lock, a miss for one cluster never waits for another's, and a waiter gives up at the
//! plugin's time-out with a clear error instead of hanging kubectl.

use crate::plugin_support as support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cce_autopilot_emulator::{Emulator, FaultScope, Faults};
use support::*;

/// The plugin as kubectl would start it, for `cluster`, sharing `cache`.
fn plugin_cmd(emu: &support::Emu, home: &Path, cache: &Path, cluster: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HUAWEICLOUD_SDK_AK", emu.access_key())
        .env("HUAWEICLOUD_SDK_SK", emu.secret_key())
        .env("KUBERNETES_EXEC_INFO", EXEC_V1)
        .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
        .args(["credential", "--cluster", cluster, "--cache-dir"])
        .arg(cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn cold_start(n: usize) {
    // Latency on the certificate call keeps the first fetch in flight while the others start.
    let emu = start(
        Emulator::builder().faults(
            Faults::none()
                .with_latency(Duration::from_millis(400))
                .with_scope(FaultScope::Certificate),
        ),
    );
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let children: Vec<_> = (0..n)
        .map(|_| {
            plugin_cmd(&emu, home.path(), &cache, PRIVATE_CLUSTER_ID)
                .spawn()
                .expect("plugin starts")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("plugin ends"))
        .collect();
    let mut certificates = Vec::new();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answer: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("ExecCredential");
        certificates.push(
            answer["status"]["clientCertificateData"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        emu.issued(PRIVATE_CLUSTER_ID),
        1,
        "{n} cold runs, one certificate"
    );
    certificates.dedup();
    assert_eq!(certificates.len(), 1, "all {n} print the one certificate");
    assert_eq!(cache_entries(&cache).len(), 1);
}

#[test]
fn eight_simultaneous_cold_runs_fetch_one_certificate() {
    cold_start(8);
}

#[test]
fn thirty_two_simultaneous_cold_runs_fetch_one_certificate() {
    cold_start(32);
}

/// The lock file of the only cache entry in `cache`.
fn the_lock(cache: &Path) -> PathBuf {
    let [lock] = files_in(cache)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "lock"))
        .collect::<Vec<_>>()
        .try_into()
        .expect("one lock file");
    lock
}

#[test]
fn a_hit_never_waits_a_miss_waits_until_the_time_out_and_other_clusters_go_on() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let run = |cluster: &str, extra: &[&str]| {
        let mut cmd = plugin_cmd(&emu, home.path(), &cache, cluster);
        cmd.args(extra);
        let started = Instant::now();
        let out = cmd.output().expect("plugin runs");
        (out, started.elapsed())
    };
    let (first, _) = run(PRIVATE_CLUSTER_ID, &[]);
    assert!(first.status.success());
    // Another process holds the entry's lock, as a plugin in the middle of a fetch would.
    let held = File::open(the_lock(&cache)).unwrap();
    held.lock().unwrap();

    let (hit, _) = run(PRIVATE_CLUSTER_ID, &[]);
    assert!(hit.status.success(), "a hit takes no lock");
    assert_eq!(hit.stdout, first.stdout);

    let (other, took) = run(PUBLIC_CLUSTER_ID, &[]);
    assert!(
        other.status.success(),
        "another cluster's entry has its own lock"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    // Make the held entry a miss: the run waits for the lock, then gives up at its time-out.
    for entry in cache_entries(&cache) {
        let text = std::fs::read_to_string(&entry).unwrap();
        if text.contains(PRIVATE_CLUSTER_ID) {
            std::fs::remove_file(entry).unwrap();
        }
    }
    let issued = emu.issued(PRIVATE_CLUSTER_ID);
    let (waiter, took) = run(PRIVATE_CLUSTER_ID, &["--timeout", "1s"]);
    assert!(!waiter.status.success());
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "{took:?}"
    );
    let stderr = String::from_utf8_lossy(&waiter.stderr);
    assert!(
        stderr.contains("another `cce-autopilot credential`"),
        "{stderr}"
    );
    assert!(waiter.stdout.is_empty());
    assert_eq!(
        emu.issued(PRIVATE_CLUSTER_ID),
        issued,
        "the waiter fetched nothing"
    );

    // Once the holder is gone (its lock goes with it), the next run fetches.
    drop(held);
    let (after, _) = run(PRIVATE_CLUSTER_ID, &[]);
    assert!(after.status.success());
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), issued + 1);
}

#[test]
fn cache_clear_empties_one_cluster_or_all() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    for cluster in [PRIVATE_CLUSTER_ID, PUBLIC_CLUSTER_ID] {
        assert!(
            plugin_cmd(&emu, home.path(), &cache, cluster)
                .output()
                .unwrap()
                .status
                .success()
        );
    }
    assert_eq!(cache_entries(&cache).len(), 2);
    let clear = |args: &[&str]| {
        let out = cli(home.path())
            .env("CCE_AUTOPILOT_CACHE_DIR", &cache)
            .args(["cache", "clear"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = clear(&["--cluster", PRIVATE_CLUSTER_ID]);
    assert!(said.contains("removed 1 cached certificate"), "{said}");
    assert_eq!(cache_entries(&cache).len(), 1);
    let said = clear(&[]);
    assert!(said.contains("removed 1 cached certificate"), "{said}");
    assert!(cache_entries(&cache).is_empty());
}

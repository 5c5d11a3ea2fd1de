//! `<file>.lock`: held locks are waited for, stale ones recognised, concurrent updates serialised
//! without losing entries.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::support;

use std::fs;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cce_autopilot_kubeconfig::{
    self as kubefile, Error, HolderLiveness, KubeconfigPaths, UpdateOptions, lock_path_for,
};
use support::*;

/// Writes a lock file in our format, as if `pid` of this host held it.
fn plant_lock(target: &Path, pid: u32, age: Duration) {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() - age;
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    fs::write(
        lock_path_for(target),
        format!(
            "cce-autopilot kubeconfig lock\npid: {pid}\nhost: {}\nsince: {:.3}\ntoken: planted\nend\n",
            host.trim(),
            since.as_secs_f64()
        ),
    )
    .unwrap();
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn base_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config");
    fs::write(&file, FOREIGN_YAML).unwrap();
    (home, file)
}

#[test]
fn a_lock_held_by_a_live_process_is_waited_for_then_reported() {
    let (_home, file) = base_file();
    let holder = KillOnDrop(Command::new("sleep").arg("30").spawn().unwrap());
    let pid = holder.0.id();
    plant_lock(&file, pid, Duration::from_secs(3));
    let before = fs::read(&file).unwrap();

    let opts = UpdateOptions::default()
        .with_lock_timeout(Duration::from_millis(300))
        .with_force_unlock(true); // never breaks a live holder's lock
    let started = Instant::now();
    let err = kubefile::update(
        &KubeconfigPaths::explicit(&file),
        upsert_for("m", "https://m"),
        &opts,
    )
    .unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "did not wait"
    );
    let Error::LockTimeout {
        holder: h, path, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(path, &lock_path_for(&file));
    assert_eq!((h.pid, h.liveness), (Some(pid), HolderLiveness::Alive));
    assert!(h.age.unwrap() >= Duration::from_secs(2));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("process {pid}"))
            && msg.contains("still running")
            && msg.contains("s ago"),
        "{msg}"
    );
    assert!(msg.contains("config.lock"), "{msg}");
    assert_eq!(fs::read(&file).unwrap(), before);
    assert!(
        lock_path_for(&file).exists(),
        "someone else's lock must stay"
    );
}

#[test]
fn a_lock_released_while_waiting_is_taken() {
    let (home, file) = base_file();
    let holder = KillOnDrop(Command::new("sleep").arg("30").spawn().unwrap());
    plant_lock(&file, holder.0.id(), Duration::ZERO);
    let lock = lock_path_for(&file);
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        fs::remove_file(lock).unwrap();
    });
    let opts = UpdateOptions::default().with_lock_timeout(Duration::from_secs(20));
    kubefile::update(
        &KubeconfigPaths::explicit(&file),
        upsert_for("m", "https://m"),
        &opts,
    )
    .unwrap();
    releaser.join().unwrap();
    assert!(!lock_path_for(&file).exists());
    kubectl_minify(home.path(), Source::File(&file), "m");
}

#[test]
fn a_stale_lock_is_reported_and_force_unlock_proceeds() {
    let (home, file) = base_file();
    let mut child = Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    plant_lock(&file, dead_pid, Duration::from_secs(60));
    let before = fs::read(&file).unwrap();

    let opts = UpdateOptions::default().with_lock_timeout(Duration::from_secs(5));
    let started = Instant::now();
    let err = kubefile::update(
        &KubeconfigPaths::explicit(&file),
        upsert_for("m", "https://m"),
        &opts,
    )
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "a stale lock needs no waiting"
    );
    let msg = err.to_string();
    assert!(matches!(err, Error::StaleLock { .. }), "{msg}");
    assert!(
        msg.contains("stale")
            && msg.contains(&format!("process {dead_pid}"))
            && msg.contains("no longer running"),
        "{msg}"
    );
    assert_eq!(
        err.remedy(),
        Some(kubefile::Remedy::RemoveStaleLock),
        "{msg}"
    );
    assert_eq!(fs::read(&file).unwrap(), before);

    let report = kubefile::update(
        &KubeconfigPaths::explicit(&file),
        upsert_for("m", "https://m"),
        &opts.with_force_unlock(true),
    )
    .unwrap();
    assert_eq!(report.written, [file.as_path()]);
    assert!(!lock_path_for(&file).exists());
    kubectl_minify(home.path(), Source::File(&file), "m");
}

#[test]
fn sixteen_concurrent_updates_of_one_file_all_land() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config");
    // Shared cluster and user, then 16 writers each adding its own context.
    kubefile::update(
        &KubeconfigPaths::explicit(&file),
        upsert_for("base", "https://b"),
        &UpdateOptions::default(),
    )
    .unwrap();
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let file = file.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let opts = UpdateOptions::default().with_lock_timeout(Duration::from_secs(120));
                kubefile::update(
                    &KubeconfigPaths::explicit(&file),
                    context_only(&format!("ctx-{i:02}"), "base", "base"),
                    &opts,
                )
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let view = kubectl_view(home.path(), Source::File(&file));
    let mut contexts = names(&view, "contexts");
    contexts.retain(|n| n.starts_with("ctx-"));
    assert_eq!(contexts.len(), 16, "{contexts:?}");
    assert!(!lock_path_for(&file).exists());
    assert_eq!(dir_entries(home.path()), ["config", "config.bak"]);
    kubectl_minify(home.path(), Source::File(&file), "ctx-07");
}

const WORKER_FILE: &str = "KUBEFILE_TEST_WORKER_FILE";
const WORKER_CONTEXT: &str = "KUBEFILE_TEST_WORKER_CONTEXT";

/// Runs only inside the child processes of `sixteen_processes_updating_one_file_all_land`
/// (this test binary re-executed with the worker variables set); a no-op otherwise.
#[test]
fn worker_entry() {
    let (Some(file), Some(context)) = (
        std::env::var_os(WORKER_FILE),
        std::env::var(WORKER_CONTEXT).ok(),
    ) else {
        return;
    };
    let opts = UpdateOptions::default().with_lock_timeout(Duration::from_secs(120));
    kubefile::update(
        &KubeconfigPaths::explicit(Path::new(&file)),
        context_only(&context, "base", "base"),
        &opts,
    )
    .unwrap();
}

#[test]
fn sixteen_processes_updating_one_file_all_land() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config");
    kubefile::update(
        &KubeconfigPaths::explicit(&file),
        upsert_for("base", "https://b"),
        &UpdateOptions::default(),
    )
    .unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<KillOnDrop> = (0..16)
        .map(|i| {
            KillOnDrop(
                Command::new(&exe)
                    .args(["lock::worker_entry", "--exact", "--test-threads=1", "-q"])
                    .env(WORKER_FILE, &file)
                    .env(WORKER_CONTEXT, format!("proc-{i:02}"))
                    .env("HOME", home.path())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    for mut child in children {
        let status = child.0.wait().unwrap();
        assert!(status.success(), "a worker failed: {status}");
    }
    let view = kubectl_view(home.path(), Source::File(&file));
    let contexts: Vec<String> = names(&view, "contexts")
        .into_iter()
        .filter(|n| n.starts_with("proc-"))
        .collect();
    assert_eq!(contexts.len(), 16, "{contexts:?}");
    assert!(!lock_path_for(&file).exists());
    assert_eq!(mode(&file), 0o600);
}

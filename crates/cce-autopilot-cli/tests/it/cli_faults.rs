//! Under the emulator's injected faults (dropped connections, truncated bodies, 503/429 bursts) the CLI
//! retries within its bounds, then fails with one clear line, and never leaves a partial or corrupt
//! kubeconfig, output file or cache file behind.

use crate::plugin_support as support;

use std::time::Duration;

use cce_autopilot_emulator::{Emulator, FaultScope, Faults, RejectStatus, Trigger, demo};
use support::{cache_entries, cli, files_in, start};

const EXISTING: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: theirs\n  cluster:\n    server: https://10.0.0.1:6443\ncontexts:\n- name: theirs\n  context:\n    cluster: theirs\n    user: theirs\nusers:\n- name: theirs\n  user:\n    token: t0ken\ncurrent-context: theirs\n";

fn faulty(faults: Faults) -> support::Emu {
    start(Emulator::builder().faults(faults.with_scope(FaultScope::Certificate)))
}

fn base(emu: &support::Emu, home: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = cli(home);
    cmd.env("HUAWEICLOUD_SDK_AK", emu.access_key())
        .env("HUAWEICLOUD_SDK_SK", emu.secret_key())
        .args([
            "--endpoint",
            emu.url(),
            "--project-id",
            emu.project_id(),
            "--timeout",
            "5s",
        ])
        .timeout(Duration::from_secs(60));
    cmd
}

fn faults() -> Vec<(&'static str, Faults)> {
    vec![
        (
            "dropped connections",
            Faults::none().with_drop_connection(Trigger::Always),
        ),
        (
            "truncated bodies",
            Faults::none().with_truncate_body(Trigger::Always),
        ),
        (
            "503 with Retry-After",
            Faults::none()
                .with_reject(Trigger::Always, RejectStatus::ServiceUnavailable)
                .with_retry_after(Duration::from_millis(10)),
        ),
    ]
}

#[test]
fn a_failed_update_leaves_the_kubeconfig_untouched() {
    for (name, faults) in faults() {
        let emu = faulty(faults);
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("config");
        std::fs::write(&file, EXISTING).unwrap();
        let out = base(&emu, home.path())
            .args([
                "kubeconfig",
                "update",
                "--cluster-id",
                demo::PRIVATE_CLUSTER_ID,
                "--kubeconfig",
            ])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(4 | 5)),
            "{name}: {:?} {stderr}",
            out.status.code()
        );
        assert!(
            stderr.lines().any(|l| l.starts_with("error: ")),
            "{name}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            EXISTING,
            "{name}: file changed"
        );
        let names: Vec<String> = files_in(home.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["config"],
            "{name}: no lock, backup or temporary file left"
        );
        assert!(emu.requests().len() > 1, "{name}: retried");
    }
}

#[test]
fn a_failed_get_writes_no_output_file() {
    for (name, faults) in faults() {
        let emu = faulty(faults);
        let home = tempfile::tempdir().unwrap();
        let out_dir = home.path().join("out");
        std::fs::create_dir(&out_dir).unwrap();
        let out = base(&emu, home.path())
            .args([
                "kubeconfig",
                "get",
                "--cluster-id",
                demo::PRIVATE_CLUSTER_ID,
                "-o",
            ])
            .arg(out_dir.join("k.yaml"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}");
        assert!(
            files_in(&out_dir).is_empty(),
            "{name}: {:?}",
            files_in(&out_dir)
        );
    }
}

#[test]
fn a_failed_plugin_run_leaves_no_cache_entry_and_prints_nothing() {
    for (name, faults) in faults() {
        let emu = faulty(faults);
        let home = tempfile::tempdir().unwrap();
        let cache = home.path().join("cache");
        let out = base(&emu, home.path())
            .args([
                "credential",
                "--cluster-id",
                demo::PRIVATE_CLUSTER_ID,
                "--cache-dir",
            ])
            .arg(&cache)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}");
        assert!(
            out.stdout.is_empty(),
            "{name}: kubectl must not get a half credential"
        );
        let entries = if cache.exists() {
            cache_entries(&cache)
        } else {
            Vec::new()
        };
        assert!(entries.is_empty(), "{name}: {entries:?}");
    }
}

#[test]
fn a_short_burst_of_throttling_is_absorbed_by_retries() {
    let emu = faulty(
        Faults::none()
            .with_reject(Trigger::First(2), RejectStatus::TooManyRequests)
            .with_retry_after(Duration::from_millis(10)),
    );
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config");
    std::fs::write(&file, EXISTING).unwrap();
    let out = base(&emu, home.path())
        .args([
            "kubeconfig",
            "update",
            "--cluster-id",
            demo::PRIVATE_CLUSTER_ID,
            "--kubeconfig",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(emu.issued(demo::PRIVATE_CLUSTER_ID), 1);
    assert!(std::fs::read_to_string(&file).unwrap().contains("theirs"));
}

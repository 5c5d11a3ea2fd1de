//! The commands not covered elsewhere, as a user runs them: `kubeconfig get`, `demo`, `emulator serve`,
//! `completions`, `man`, the top-level help, and the documented exit codes.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]

use crate::plugin_support as support;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use cce_autopilot::Kubeconfig;
use cce_autopilot_emulator::demo;
use support::{BIN, cli, emulator, mode};

fn get(emu: &support::Emu, home: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = cli(home);
    cmd.env("HUAWEICLOUD_SDK_AK", emu.access_key())
        .env("HUAWEICLOUD_SDK_SK", emu.secret_key())
        .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
        .args(["kubeconfig", "get"]);
    cmd
}

#[test]
fn get_prints_yaml_that_kubectl_reads() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let out = get(&emu, home.path())
        .args(["--cluster-id", demo::PUBLIC_CLUSTER_ID])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    let parsed: Kubeconfig = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(parsed.current_context.as_deref(), Some("external"));
    let path = home.path().join("k.yaml");
    std::fs::write(&path, &yaml).unwrap();
    let view = Command::new("kubectl")
        .args([
            "config",
            "view",
            "--minify",
            "--context",
            "internal",
            "--kubeconfig",
        ])
        .arg(&path)
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        view.status.success(),
        "{}",
        String::from_utf8_lossy(&view.stderr)
    );
    assert_eq!(emu.issued(demo::PUBLIC_CLUSTER_ID), 1);
}

#[test]
fn get_json_is_the_services_form_and_files_are_private() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("out").join("cluster.json");
    let out = get(&emu, home.path())
        .args([
            "--cluster-id",
            demo::PRIVATE_CLUSTER_ID,
            "--format",
            "json",
            "--duration",
            "max",
            "-o",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "the kubeconfig goes to the file only"
    );
    assert_eq!(mode(&file), 0o600);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["kind"], "Config");
    assert_eq!(json["contexts"][0]["name"], "internal");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("PRIVATE KEY") && !stderr.contains("LS0tLS1CRUdJTi"),
        "{stderr}"
    );
}

#[test]
fn exit_codes_tell_usage_auth_service_and_network_apart() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    // 2: invalid duration, rejected before any request.
    let out = get(&emu, home.path())
        .args(["--cluster-id", "x", "--duration", "0"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 to 1827"));
    // 3: wrong secret key.
    let out = get(&emu, home.path())
        .env("HUAWEICLOUD_SDK_SK", "wrong")
        .args(["--cluster-id", demo::PRIVATE_CLUSTER_ID])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    assert!(
        stderr.contains("APIGW.0301") && stderr.contains("request id"),
        "{stderr}"
    );
    // 3: no credentials at all.
    let out = cli(home.path())
        .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
        .args(["kubeconfig", "get", "--cluster-id", "c"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 2: an unknown name, before any certificate is asked for.
    let out = get(&emu, home.path())
        .args(["--cluster", "no-such-cluster"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cluster named"));
    // 4: an unknown id: the service's 404.
    let out = get(&emu, home.path())
        .args(["--cluster-id", "00000000-0000-4000-8000-000000000000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CCE.01404001"));
    // 5: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = cli(home.path())
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .args([
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--project-id",
            "p",
            "--timeout",
            "2s",
        ])
        .args([
            "kubeconfig",
            "get",
            "--cluster-id",
            demo::PRIVATE_CLUSTER_ID,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn demo_runs_the_whole_journey() {
    let home = tempfile::tempdir().unwrap();
    let out = cli(home.path())
        .arg("demo")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "looked up from IAM",
        "request id",
        "Port-ID",
        "contexts      internal, external",
        "over mTLS",
        "200 v1.",
        "auth whoami   user HPUAEXAMPLEAK00000001, groups system:masters, system:authenticated",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("PRIVATE KEY") && !text.contains("LS0tLS1CRUdJTi"));
    let redacted: String = text
        .lines()
        .map(|line| {
            let key = line.split_whitespace().next().unwrap_or("");
            format!("{key} …\n")
        })
        .collect();
    insta::assert_snapshot!("demo_output_shape", redacted);
}

#[test]
fn emulator_serve_prints_its_url_first_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args([
            "emulator",
            "serve",
            "--cluster",
            "one",
            "--public-cluster",
            "two",
            "--token",
            "tok",
        ])
        .env_clear()
        .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let banner: Vec<String> = lines.by_ref().take(12).map(Result::unwrap).collect();
    let banner = banner.join("\n");
    assert!(
        banner.contains("one") && banner.contains("two") && banner.contains("tok"),
        "{banner}"
    );

    // It really serves: an unauthenticated call gets the gateway's 401 with a request id.
    let response = std::net::TcpStream::connect(url.trim_start_matches("http://")).map(|mut s| {
        use std::io::{Read as _, Write as _};
        s.write_all(b"POST /autopilot/v3/projects/p/clusters/one/clustercert HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    });
    let response = response.unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.to_ascii_lowercase().contains("x-request-id"));

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a clean stop on SIGTERM");
}

#[test]
fn completions_and_man_page_are_generated() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = cli(home.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("kubeconfig"),
            "{shell}"
        );
    }
    let out = cli(home.path()).arg("man").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(".ie"));
}

#[test]
fn help_texts() {
    let home = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("help_top", &["--help"][..]),
        ("help_get", &["kubeconfig", "get", "--help"][..]),
        ("help_serve", &["emulator", "serve", "--help"][..]),
        ("help_demo", &["demo", "--help"][..]),
    ] {
        let out = cli(home.path()).args(args).output().unwrap();
        assert!(out.status.success());
        insta::assert_snapshot!(name, String::from_utf8(out.stdout).unwrap());
    }
}

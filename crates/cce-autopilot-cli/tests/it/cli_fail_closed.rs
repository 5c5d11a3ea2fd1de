//! What the command refuses before any request, what it never prints, and the token it reads from a file
//! or the environment (never from a flag).

use crate::plugin_support as support;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::{PRIVATE_CLUSTER_ID, cli, emulator};

/// A one-shot HTTP server on loopback that answers every request with `status` and `body`; counts them.
fn answering(status: u16, body: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nX-Request-Id: rid-7\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

/// Shaped like a cluster id, so `get` asks for its certificate without a list call first.
const CLUSTER: &str = "3f0c9a1e-2b4d-4c6e-8f10-123456789abc";

const KEY_B64: &str =
    "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUJhc2U2NEtleU1hdGVyaWFsCg";

#[test]
fn a_malformed_200_carrying_key_material_exits_4_and_shows_none_of_it() {
    // A kubeconfig whose client-key-data sits where a boolean belongs: serde would quote it.
    let body: &'static str = Box::leak(
        format!(
            r#"{{"kind":"Config","clusters":[{{"name":"internalCluster","cluster":{{"server":"https://x","insecure-skip-tls-verify":"{KEY_B64}"}}}}],"users":[{{"name":"user","user":{{"client-key-data":"{KEY_B64}"}}}}]}}"#
        )
        .into_boxed_str(),
    );
    let (url, _) = answering(200, body);
    let home = tempfile::tempdir().unwrap();
    for verbose in [None, Some("-vvv")] {
        let mut cmd = cli(home.path());
        cmd.env("HUAWEICLOUD_SDK_AK", "AK")
            .env("HUAWEICLOUD_SDK_SK", "SK")
            .args(["--endpoint", &url, "--project-id", "p"]);
        if let Some(flag) = verbose {
            cmd.arg(flag);
        }
        let out = cmd
            .args(["kubeconfig", "get", "--cluster-id", CLUSTER])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{verbose:?}: {stderr}");
        for piece in [KEY_B64, &KEY_B64[..24]] {
            assert!(
                !stdout.contains(piece) && !stderr.contains(piece),
                "{verbose:?}: key material shown: {stderr}"
            );
        }
        assert!(
            stderr.contains("rid-7"),
            "the request id is named: {stderr}"
        );
    }
}

#[test]
fn a_duration_past_five_years_from_today_is_refused_before_any_request() {
    let (url, seen) = answering(500, "{}");
    let home = tempfile::tempdir().unwrap();
    let today_max =
        cce_autopilot::CertDuration::max_days_on(time::OffsetDateTime::now_utc().date());
    let too_long = (today_max + 1).to_string();
    let out = cli(home.path())
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .args(["--endpoint", &url, "--project-id", "p"])
        .args(["kubeconfig", "get", "--cluster", CLUSTER, "--duration"])
        .arg(&too_long)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if today_max == 1827 {
        // Five years from today hold two leap days: 1828 is refused by the contract's own range.
        assert_eq!(out.status.code(), Some(2), "{stderr}");
    } else {
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("{today_max} days")) && stderr.contains("-1"),
            "names today's maximum and -1: {stderr}"
        );
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0, "nothing was sent");
}

#[test]
fn dot_ids_are_refused_before_any_request() {
    let (url, seen) = answering(500, "{}");
    let home = tempfile::tempdir().unwrap();
    for (cluster, project) in [(".", "p"), ("..", "p"), (CLUSTER, ".."), ("c1", ".")] {
        let out = cli(home.path())
            .env("HUAWEICLOUD_SDK_AK", "AK")
            .env("HUAWEICLOUD_SDK_SK", "SK")
            .args(["--endpoint", &url, "--project-id", project])
            .args(["kubeconfig", "get", "--cluster-id", cluster])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cluster} {project}: {stderr}");
        assert!(
            stderr.contains("\"..\"") || stderr.contains("\".\""),
            "{stderr}"
        );
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0, "nothing was sent");
}

#[test]
fn a_zero_timeout_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = cli(home.path())
        .args(["--timeout", "0", "kubeconfig", "get", "--cluster-id", "c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than zero"));
}

#[test]
fn the_iam_token_comes_from_a_file_or_the_environment() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    std::fs::write(
        &token_file,
        format!("{}\n", cce_autopilot_emulator::demo::TOKEN),
    )
    .unwrap();
    let get = |cmd: &mut assert_cmd::Command| {
        cmd.args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
            .args(["kubeconfig", "get", "--cluster-id", PRIVATE_CLUSTER_ID])
            .output()
            .unwrap()
    };
    // No AK/SK anywhere: only the token authenticates.
    let from_file = get(cli(home.path()).arg("--token-file").arg(&token_file));
    assert!(
        from_file.status.success(),
        "{}",
        String::from_utf8_lossy(&from_file.stderr)
    );
    let from_env =
        get(cli(home.path()).env("CCE_AUTOPILOT_TOKEN", cce_autopilot_emulator::demo::TOKEN));
    assert!(from_env.status.success());
    let wrong = get(cli(home.path()).env("CCE_AUTOPILOT_TOKEN", "not-the-token"));
    assert_eq!(wrong.status.code(), Some(3));
    assert!(
        !String::from_utf8_lossy(&wrong.stderr).contains("not-the-token"),
        "the token is never echoed"
    );
    let empty = home.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let none = get(cli(home.path()).arg("--token-file").arg(&empty));
    assert_eq!(none.status.code(), Some(2));
    // A token given as a flag value is not an option at all.
    let flag = cli(home.path())
        .args(["--token", "x", "kubeconfig", "get", "--cluster-id", "c"])
        .output()
        .unwrap();
    assert_eq!(flag.status.code(), Some(2));
}

//! `cce-autopilot credential`, the kubectl exec credential plugin, as kubectl runs it: a subprocess with
//! `KUBERNETES_EXEC_INFO`, its answer on stdout, its certificates cached on disk.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]

use crate::plugin_support as support;

use std::path::Path;

use cce_autopilot::certificate::Certificate;
use serde_json::Value;
use support::*;

/// Runs the plugin and returns the ExecCredential it printed; stderr must be empty (no -v).
fn run_ok(mut cmd: assert_cmd::Command) -> Value {
    let output = cmd.output().expect("runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");
    assert!(
        output.status.success(),
        "exit {:?}: {stderr}",
        output.status
    );
    assert_eq!(stderr, "", "stderr must stay quiet without -v");
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON document and nothing else: {stdout}"
    );
    serde_json::from_str(&stdout).expect("stdout is JSON")
}

fn cert_of(answer: &Value) -> &str {
    answer["status"]["clientCertificateData"]
        .as_str()
        .expect("clientCertificateData")
}

fn cache_dir(home: &Path) -> std::path::PathBuf {
    home.join("cache")
}

#[test]
fn answers_an_exec_credential_v1_with_pem_and_the_certificates_expiry() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
    cmd.env("KUBERNETES_EXEC_INFO", EXEC_V1)
        .arg("--cache-dir")
        .arg(cache_dir(home.path()));
    let answer = run_ok(cmd);

    assert_eq!(answer["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(answer["kind"], "ExecCredential");
    let status = answer["status"].as_object().unwrap();
    let mut keys: Vec<&str> = status.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "clientCertificateData",
            "clientKeyData",
            "expirationTimestamp"
        ]
    );
    let cert = cert_of(&answer);
    let key = status["clientKeyData"].as_str().unwrap();
    assert!(
        cert.starts_with("-----BEGIN CERTIFICATE-----\n"),
        "PEM, not base64"
    );
    assert!(
        key.contains("-----BEGIN") && key.contains("PRIVATE KEY-----"),
        "PEM key"
    );
    assert_eq!(
        status["expirationTimestamp"].as_str().unwrap(),
        not_after(cert)
    );
    let parsed = Certificate::from_pem(cert.as_bytes()).unwrap();
    assert!(parsed.matches_key(key).unwrap());
    let ca = emu.cluster_ca_pem(PRIVATE_CLUSTER_ID).unwrap();
    assert!(parsed.verified_by(ca.as_bytes()).unwrap());
    // Default duration: one day.
    let facts = parsed.facts().unwrap();
    assert_eq!(facts.not_after - facts.not_before, time::Duration::days(1));
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 1);
}

#[test]
fn answers_v1beta1_when_kubectl_asks_for_it() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = plugin(&emu, home.path(), PUBLIC_CLUSTER_ID);
    cmd.env("KUBERNETES_EXEC_INFO", EXEC_V1BETA1)
        .arg("--cache-dir")
        .arg(cache_dir(home.path()));
    let answer = run_ok(cmd);
    assert_eq!(answer["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert_eq!(answer["kind"], "ExecCredential");
    let cert = cert_of(&answer);
    assert_eq!(
        answer["status"]["expirationTimestamp"].as_str().unwrap(),
        not_after(cert)
    );
}

#[test]
fn answers_v1_when_run_by_hand_without_exec_info() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
    cmd.arg("--cache-dir").arg(cache_dir(home.path()));
    assert_eq!(run_ok(cmd)["apiVersion"], "client.authentication.k8s.io/v1");
}

#[test]
fn an_unknown_api_version_is_a_usage_error_before_any_call() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let output = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID)
        .env(
            "KUBERNETES_EXEC_INFO",
            r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1","kind":"ExecCredential"}"#,
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("v1alpha1") && stderr.contains("client.authentication.k8s.io/v1"),
        "{stderr}"
    );
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn the_second_run_is_served_from_the_cache() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let run = || {
        let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
        cmd.env("KUBERNETES_EXEC_INFO", EXEC_V1)
            .arg("--cache-dir")
            .arg(cache_dir(home.path()));
        run_ok(cmd)
    };
    let first = run();
    let second = run();
    assert_eq!(first, second);
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 1);
    assert_eq!(cache_entries(&cache_dir(home.path())).len(), 1);
}

/// A cache entry others may read is never handed out: a warning, a new certificate, a private entry.
#[test]
fn a_cache_entry_readable_by_others_is_refused_with_a_warning_and_replaced() {
    use std::os::unix::fs::PermissionsExt as _;
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let run = || {
        let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
        cmd.env("KUBERNETES_EXEC_INFO", EXEC_V1)
            .arg("--cache-dir")
            .arg(cache_dir(home.path()));
        cmd.output().unwrap()
    };
    assert!(run().status.success());
    let entry = cache_entries(&cache_dir(home.path())).remove(0);
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
    let second = run();
    assert!(second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.starts_with("warning: ") && stderr.contains("not used"),
        "{stderr}"
    );
    assert_eq!(
        emu.issued(PRIVATE_CLUSTER_ID),
        2,
        "not served from the open entry"
    );
    assert_eq!(mode(&entry), 0o600, "replaced by a private one");
}

/// An endpoint that accepts and never answers: the plugin gives up within its time-out (here 2 s; 15 s
/// by default), with exit 5 and a message, rather than holding kubectl.
#[test]
fn a_silent_endpoint_makes_the_plugin_give_up_within_its_time_out() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = cli(home.path())
        .env("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLEAK00000001")
        .env(
            "HUAWEICLOUD_SDK_SK",
            "exampleSecretKey0000000000000000000000000",
        )
        .env("KUBERNETES_EXEC_INFO", EXEC_V1)
        .args(["credential", "--cluster", PRIVATE_CLUSTER_ID, "--cache-dir"])
        .arg(cache_dir(home.path()))
        .args([
            "--endpoint",
            &url,
            "--project-id",
            "0123456789abcdef0123456789abcdef",
        ])
        .args(["--timeout", "2s"])
        .output()
        .unwrap();
    let waited = started.elapsed();
    drop(silent);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("time"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        waited < std::time::Duration::from_secs(8),
        "gave up after {waited:?}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn verbose_runs_log_the_cache_on_stderr_only() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    for expected in ["fetched a new certificate", "using the cached certificate"] {
        let output = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID)
            .arg("-v")
            .arg("--cache-dir")
            .arg(cache_dir(home.path()))
            .output()
            .unwrap();
        assert!(output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        let stdout: Value = serde_json::from_slice(&output.stdout).expect("stdout is only JSON");
        assert_eq!(stdout["kind"], "ExecCredential");
    }
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 1);
}

#[test]
fn another_duration_gets_its_own_entry() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let run = |days: &str| {
        let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
        cmd.args(["--duration", days])
            .arg("--cache-dir")
            .arg(cache_dir(home.path()));
        run_ok(cmd)
    };
    let one = run("1");
    let two = run("2");
    assert_ne!(cert_of(&one), cert_of(&two));
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
    assert_eq!(run("1"), one);
    assert_eq!(run("2"), two);
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
    assert_eq!(cache_entries(&cache_dir(home.path())).len(), 2);
}

#[test]
fn another_access_key_gets_its_own_entry() {
    let emu = start(
        Emulator::builder()
            .credentials(
                "AKALICE0000000000001",
                "alice-secret-key-0000000000000000000000",
            )
            .credentials(
                "AKBOB000000000000002",
                "bob-secret-key-00000000000000000000000000",
            ),
    );
    let home = tempfile::tempdir().unwrap();
    let run = |ak: &str, sk: &str| {
        let mut cmd = plugin_as(&emu, home.path(), PRIVATE_CLUSTER_ID, ak, sk);
        cmd.arg("--cache-dir").arg(cache_dir(home.path()));
        run_ok(cmd)
    };
    let alice = run(
        "AKALICE0000000000001",
        "alice-secret-key-0000000000000000000000",
    );
    let bob = run(
        "AKBOB000000000000002",
        "bob-secret-key-00000000000000000000000000",
    );
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
    let subject = |answer: &Value| {
        Certificate::from_pem(cert_of(answer).as_bytes())
            .unwrap()
            .facts()
            .unwrap()
            .subject
    };
    assert!(subject(&alice).contains("AKALICE"), "{}", subject(&alice));
    assert!(subject(&bob).contains("AKBOB"), "{}", subject(&bob));
    assert_eq!(
        run(
            "AKALICE0000000000001",
            "alice-secret-key-0000000000000000000000"
        ),
        alice
    );
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
    let files = cache_entries(&cache_dir(home.path()));
    assert_eq!(files.len(), 2);
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            !text.contains("secret-key"),
            "the cache never holds a secret key"
        );
    }
}

#[test]
fn renew_before_beyond_the_remaining_validity_fetches_a_new_certificate() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let run = |renew_before: &str| {
        let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
        cmd.args(["--renew-before", renew_before])
            .arg("--cache-dir")
            .arg(cache_dir(home.path()));
        run_ok(cmd)
    };
    let first = run("10m");
    let renewed = run("2d");
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
    assert_ne!(cert_of(&first), cert_of(&renewed));
    // The renewed certificate replaced the old one in the cache.
    assert_eq!(run("10m"), renewed);
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
    assert_eq!(cache_entries(&cache_dir(home.path())).len(), 1);
}

#[test]
fn a_corrupt_cache_file_is_ignored_and_replaced() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let dir = cache_dir(home.path());
    let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
    cmd.arg("--cache-dir").arg(&dir);
    run_ok(cmd);
    let [file] = cache_entries(&dir).try_into().expect("one cache file");
    std::fs::write(&file, "{\"version\": 1, \"key\": {\"endpoint\": tr").unwrap();

    let output = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID)
        .arg("-v")
        .arg("--cache-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ignoring an unusable cache entry"),
        "{stderr}"
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        stored["client_certificate_pem"],
        answer["status"]["clientCertificateData"]
    );
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
}

#[test]
fn a_cache_entry_that_cannot_be_read_or_written_does_not_stop_kubectl() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let dir = cache_dir(home.path());
    let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
    cmd.arg("--cache-dir").arg(&dir);
    run_ok(cmd);
    let [file] = cache_entries(&dir).try_into().expect("one cache file");
    // A directory where the entry should be: reading fails, and so does replacing it.
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    std::fs::write(file.join("keep"), "x").unwrap();

    let output = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID)
        .arg("--cache-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["kind"], "ExecCredential");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot cache the certificate"), "{stderr}");
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
}

#[cfg(unix)]
#[test]
fn the_default_cache_is_under_home_0700_with_0600_files() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    run_ok(plugin(&emu, home.path(), PRIVATE_CLUSTER_ID));
    let dir = home.path().join(".cache/cce-autopilot/credentials");
    assert_eq!(mode(&dir), 0o700);
    let files = cache_entries(&dir);
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0]), 0o600);
    assert!(files[0].extension().is_some_and(|e| e == "json"));
    // No temporary files left behind.
    run_ok(plugin(&emu, home.path(), PRIVATE_CLUSTER_ID));
    assert_eq!(cache_entries(&dir).len(), 1);
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 1);
}

#[cfg(unix)]
#[test]
fn xdg_cache_home_moves_the_cache_and_cache_dir_wins_over_it() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let xdg = home.path().join("xdg");
    let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
    cmd.env("XDG_CACHE_HOME", &xdg);
    run_ok(cmd);
    let dir = xdg.join("cce-autopilot/credentials");
    assert_eq!(cache_entries(&dir).len(), 1);
    assert_eq!(mode(&dir), 0o700);
    assert!(!home.path().join(".cache").exists());

    let explicit = home.path().join("explicit/deeper");
    let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
    cmd.env("XDG_CACHE_HOME", &xdg)
        .arg("--cache-dir")
        .arg(&explicit);
    run_ok(cmd);
    assert_eq!(cache_entries(&explicit).len(), 1);
    assert_eq!(mode(&explicit), 0o700);
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 2);
}

#[test]
fn the_cache_file_holds_the_key_fields_and_no_secret_key() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let dir = cache_dir(home.path());
    let mut cmd = plugin(&emu, home.path(), PUBLIC_CLUSTER_ID);
    cmd.args(["--access", "internal", "--duration", "3"])
        .arg("--cache-dir")
        .arg(&dir);
    let answer = run_ok(cmd);
    let [file] = cache_entries(&dir).try_into().expect("one cache file");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(emu.secret_key()));
    let stored: Value = serde_json::from_str(&text).unwrap();
    let mut fields: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "ca_sha256",
            "checksum",
            "client_certificate_pem",
            "client_key_pem",
            "cluster_id",
            "cluster_name",
            "key",
            "not_after",
            "version"
        ]
    );
    assert_eq!(stored["version"], 2);
    assert_eq!(stored["not_after"], answer["status"]["expirationTimestamp"]);
    assert_eq!(stored["cluster_id"], PUBLIC_CLUSTER_ID);
    let ca = emu.cluster_ca_pem(PUBLIC_CLUSTER_ID).unwrap();
    assert_eq!(
        stored["ca_sha256"],
        cce_autopilot_cli::commands::credential::ca_fingerprint(ca.as_bytes()),
        "the CA the certificate was issued under"
    );
    let key = &stored["key"];
    assert_eq!(key["cluster"], PUBLIC_CLUSTER_ID);
    assert_eq!(key["project"], emu.project_id());
    assert_eq!(key["access"], "internal");
    assert_eq!(key["identity"], format!("ak:{}", emu.access_key()));
    assert_eq!(key["duration"], 3);
    assert!(key["endpoint"].as_str().unwrap().starts_with(emu.url()));
}

#[test]
fn external_access_of_a_private_cluster_is_a_usage_error() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let output = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID)
        .args(["--access", "external"])
        .arg("--cache-dir")
        .arg(cache_dir(home.path()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--access internal"), "{stderr}");
    assert!(cache_entries(&cache_dir(home.path())).is_empty());
}

#[test]
fn wrong_credentials_exit_3_and_print_nothing_on_stdout() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let output = plugin_as(
        &emu,
        home.path(),
        PRIVATE_CLUSTER_ID,
        emu.access_key(),
        "not-the-secret-key-000000000000000",
    )
    .arg("--cache-dir")
    .arg(cache_dir(home.path()))
    .output()
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 0);
}

#[test]
fn help_documents_the_plugin() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path())
        .args(["credential", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!("credential_help", String::from_utf8(output.stdout).unwrap());
}

/// A cache hit, traced with `strace -f`: no socket, no file under /etc/ssl, no thread — the hit path
/// reads the environment and one cache entry and prints. `.ci/run` installs strace and sets
/// CCE_AUTOPILOT_REQUIRE_STRACE=1, so there a missing strace fails instead of skipping.
#[test]
fn a_cache_hit_opens_no_socket_and_no_tls_roots() {
    let strace = std::process::Command::new("strace").arg("-V").output();
    if !strace.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CCE_AUTOPILOT_REQUIRE_STRACE").is_none(),
            "strace is required here (apt-get install strace)"
        );
        eprintln!("SKIPPED a_cache_hit_opens_no_socket_and_no_tls_roots: strace is not installed");
        return;
    }
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let warm = || {
        let mut cmd = plugin(&emu, home.path(), PRIVATE_CLUSTER_ID);
        cmd.env("KUBERNETES_EXEC_INFO", EXEC_V1)
            .arg("--cache-dir")
            .arg(cache_dir(home.path()));
        cmd
    };
    run_ok(warm());
    let trace = home.path().join("trace");
    let cmd = warm();
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let envs: Vec<_> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let out = std::process::Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=%network,openat,open,clone,clone3,fork,vfork",
            "-o",
        ])
        .arg(&trace)
        .arg(program)
        .args(args)
        .env_clear()
        .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
        .envs(envs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("clientCertificateData"),
        "answered from the cache"
    );
    assert_eq!(emu.issued(PRIVATE_CLUSTER_ID), 1, "no fetch");
    let calls = std::fs::read_to_string(&trace).unwrap();
    let opened: Vec<&str> = calls.lines().filter(|l| l.contains("open")).collect();
    assert!(!opened.is_empty(), "the trace saw the process: {calls}");
    for forbidden in ["socket(", "connect(", "/etc/ssl", "clone(", "clone3("] {
        let hits: Vec<&str> = calls.lines().filter(|l| l.contains(forbidden)).collect();
        assert!(hits.is_empty(), "{forbidden} on a cache hit: {hits:#?}");
    }
}

//! `cce-autopilot kubeconfig inspect` on kubeconfigs fetched from the emulator, altered the ways they go
//! wrong in practice: another fetch's key, another cluster's CA, an expired or expiring certificate.

use crate::plugin_support as support;

use std::path::{Path, PathBuf};
use std::process::Output;

use cce_autopilot::Kubeconfig;
use serde_json::{Value, json};
use support::*;

/// Writes `config` (JSON, which kubectl and this tool both read) to `<dir>/name`.
fn write(dir: &Path, name: &str, config: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(config).unwrap()).unwrap();
    path
}

fn as_value(kubeconfig: &Kubeconfig) -> Value {
    serde_json::to_value(kubeconfig).unwrap()
}

fn inspect(home: &Path, config: &Path, args: &[&str]) -> Output {
    cli(home)
        .args(["kubeconfig", "inspect", "--kubeconfig"])
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("JSON report")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8(output.stdout.clone()).unwrap(),
        String::from_utf8(output.stderr.clone()).unwrap(),
    )
}

/// The text report with what changes from run to run (addresses, dates, serials, days left) replaced,
/// using the values of the JSON report of the same file.
fn stable_text(out: &str, report: &Value) -> String {
    let mut out = out.to_owned();
    for context in report["contexts"].as_array().unwrap() {
        if let Some(server) = context["server"].as_str() {
            out = out.replace(server, "[server]");
        }
        let cert = &context["certificate"];
        if cert.is_null() {
            continue;
        }
        for (field, placeholder) in [
            ("not_before", "[date]"),
            ("not_after", "[date]"),
            ("serial", "[serial]"),
        ] {
            out = out.replace(cert[field].as_str().unwrap(), placeholder);
        }
        let days = cert["days_left"].as_i64().unwrap();
        out = out.replace(&format!("({days} days left)"), "([n] days left)");
    }
    out
}

#[test]
fn a_fetched_kubeconfig_checks_out_as_text_and_json() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let fetched = emu.fetch(PUBLIC_CLUSTER_ID, 30);
    let config = write(home.path(), "config", &as_value(&fetched));

    let output = inspect(home.path(), &config, &["--format", "json"]);
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    // The one warning: the external endpoint as served skips TLS verification.
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("\"externalCluster\" skips TLS verification"),
        "{stderr}"
    );
    let report = json_report(&output);
    assert_eq!(report["contexts"][1]["insecure"], true);
    assert_eq!(report["contexts"][0]["insecure"], false);
    let internal = &report["contexts"][0];
    assert_eq!(internal["name"], "internal");
    assert_eq!(internal["key_matches"], true);
    assert_eq!(internal["ca_verifies"], true);
    assert_eq!(internal["certificate"]["days_left"], 29);
    // The external cluster comes with insecure-skip-tls-verify and no CA: nothing to verify with.
    assert_eq!(report["contexts"][1]["ca_verifies"], Value::Null);
    insta::assert_json_snapshot!("inspect_fetched_json", report, {
        ".contexts[].server" => "[server]",
        ".contexts[].certificate.serial" => "[serial]",
        ".contexts[].certificate.not_before" => "[date]",
        ".contexts[].certificate.not_after" => "[date]",
    });

    let output = inspect(home.path(), &config, &[]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert_no_key_material(&stdout, &fetched, &emu);
    insta::assert_snapshot!("inspect_fetched_text", stable_text(&stdout, &report));
}

#[test]
fn the_key_of_another_fetch_does_not_match() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let fetched = emu.fetch(PRIVATE_CLUSTER_ID, 30);
    let other = emu.fetch(PRIVATE_CLUSTER_ID, 30);
    let mut config = as_value(&fetched);
    config["users"][0]["user"]["client-key-data"] = json!(other.users[0].user.client_key_data);
    let path = write(home.path(), "config", &config);

    let output = inspect(home.path(), &path, &["--format", "json"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report = json_report(&output);
    assert_eq!(report["contexts"][0]["key_matches"], false);
    assert_eq!(report["contexts"][0]["ca_verifies"], true);
    assert!(stderr.contains("does not belong"), "{stderr}");
    assert_no_key_material(&format!("{stdout}{stderr}"), &other, &emu);
    assert_no_key_material(&format!("{stdout}{stderr}"), &fetched, &emu);

    let (stdout, _) = text(&inspect(home.path(), &path, &[]));
    assert!(stdout.contains("DOES NOT match"), "{stdout}");
}

#[test]
fn another_clusters_ca_does_not_verify() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let fetched = emu.fetch(PRIVATE_CLUSTER_ID, 30);
    let mut config = as_value(&fetched);
    let foreign_ca = emu.cluster_ca_pem(PUBLIC_CLUSTER_ID).unwrap();
    config["clusters"][0]["cluster"]["certificate-authority-data"] = json!(b64(foreign_ca));
    let path = write(home.path(), "config", &config);

    let output = inspect(home.path(), &path, &["--format", "json"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report = json_report(&output);
    assert_eq!(report["contexts"][0]["ca_verifies"], false);
    assert_eq!(report["contexts"][0]["key_matches"], true);
    assert!(stderr.contains("did not sign"), "{stderr}");
}

#[test]
fn an_expired_certificate_exits_7() {
    // The emulator's clock runs three days behind: a one-day certificate it issues is already over.
    let emu = start(Emulator::builder().clock_offset_secs(-3 * 86_400));
    let home = tempfile::tempdir().unwrap();
    let fetched = emu.fetch(PRIVATE_CLUSTER_ID, 1);
    let path = write(home.path(), "config", &as_value(&fetched));

    let output = inspect(home.path(), &path, &["--format", "json"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(7), "{stderr}");
    let report = json_report(&output);
    assert_eq!(report["contexts"][0]["certificate"]["status"], "expired");
    assert!(
        report["contexts"][0]["certificate"]["days_left"]
            .as_i64()
            .unwrap()
            < 0
    );
    assert!(stderr.contains("expired"), "{stderr}");
    assert_no_key_material(&format!("{stdout}{stderr}"), &fetched, &emu);

    let output = inspect(home.path(), &path, &[]);
    assert_eq!(output.status.code(), Some(7));
    assert!(text(&output).0.contains("EXPIRED"));
}

#[test]
fn a_certificate_expiring_within_a_week_warns_on_stderr() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let fetched = emu.fetch(PRIVATE_CLUSTER_ID, 3);
    let path = write(home.path(), "config", &as_value(&fetched));

    let output = inspect(home.path(), &path, &[]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.starts_with("warning: context \"internal\": the client certificate expires"),
        "{stderr}"
    );
    assert!(stderr.contains("2 days left"), "{stderr}");
    assert!(stdout.contains("expiring soon"), "{stdout}");
    assert_no_key_material(&format!("{stdout}{stderr}"), &fetched, &emu);

    // 30 days: no warning at all.
    let fresh = emu.fetch(PRIVATE_CLUSTER_ID, 30);
    let path = write(home.path(), "fresh", &as_value(&fresh));
    assert_eq!(text(&inspect(home.path(), &path, &[])).1, "");
}

#[test]
fn exec_users_are_reported_without_a_certificate() {
    let home = tempfile::tempdir().unwrap();
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "cce-autopilot",
            "args": ["credential", "--cluster-id", "x", "--secret-looking-arg", "s3cr3t-arg-value"],
            "env": [{"name": "HUAWEICLOUD_SDK_SK", "value": "s3cr3t-env-value"}],
            "interactiveMode": "Never"
        }}}],
        "contexts": [{"name": "plugin", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "plugin"
    });
    let path = write(home.path(), "config", &config);

    let output = inspect(home.path(), &path, &["--format", "json"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr, "");
    let report = json_report(&output);
    let context = &report["contexts"][0];
    assert_eq!(context["credential"], "exec");
    assert_eq!(context["exec"]["command"], "cce-autopilot");
    assert_eq!(
        context["exec"]["api_version"],
        "client.authentication.k8s.io/v1"
    );
    assert_eq!(context["certificate"], Value::Null);
    assert_eq!(context["current"], true);
    assert!(!stdout.contains("s3cr3t"), "{stdout}");

    let (stdout, _) = text(&inspect(home.path(), &path, &[]));
    assert!(stdout.contains("exec plugin cce-autopilot"), "{stdout}");
    assert!(stdout.contains("no embedded certificate"), "{stdout}");
    assert!(!stdout.contains("s3cr3t"), "{stdout}");
}

#[test]
fn context_selects_one_and_an_unknown_one_is_a_usage_error() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let fetched = emu.fetch(PUBLIC_CLUSTER_ID, 30);
    let path = write(home.path(), "config", &as_value(&fetched));

    let report = json_report(&inspect(
        home.path(),
        &path,
        &["--context", "external", "--format", "json"],
    ));
    let names: Vec<&str> = report["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["external"]);

    let output = inspect(home.path(), &path, &["--context", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output).1;
    assert!(
        stderr.contains("\"nope\"") && stderr.contains("internal, external"),
        "{stderr}"
    );
}

#[test]
fn the_kubeconfig_list_and_home_are_read_like_kubectl_reads_them() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let private = emu.fetch(PRIVATE_CLUSTER_ID, 30);
    let mut renamed = as_value(&emu.fetch(PUBLIC_CLUSTER_ID, 30));
    renamed["contexts"] =
        json!([{"name": "public", "context": {"cluster": "externalCluster", "user": "user"}}]);
    renamed["current-context"] = json!("public");
    let a = write(home.path(), "a", &as_value(&private));
    let b = write(home.path(), "b", &renamed);

    // KUBECONFIG=a:b — the first file wins the user name "user" and the current context.
    let output = cli(home.path())
        .env("KUBECONFIG", std::env::join_paths([&a, &b]).unwrap())
        .args(["kubeconfig", "inspect", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output).1);
    let report = json_report(&output);
    let contexts = report["contexts"].as_array().unwrap();
    assert_eq!(contexts.len(), 2);
    assert_eq!(contexts[0]["name"], "internal");
    assert_eq!(contexts[0]["current"], true);
    assert_eq!(contexts[1]["name"], "public");
    // "public" uses the merged "user" — the private cluster's, from file a.
    assert_eq!(
        contexts[1]["certificate"]["serial"],
        contexts[0]["certificate"]["serial"]
    );

    // ~/.kube/config when neither --kubeconfig nor KUBECONFIG is given.
    std::fs::create_dir_all(home.path().join(".kube")).unwrap();
    std::fs::copy(&a, home.path().join(".kube/config")).unwrap();
    let output = cli(home.path())
        .args(["kubeconfig", "inspect", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json_report(&output)["contexts"][0]["key_matches"], true);
}

#[test]
fn an_unparsable_or_missing_kubeconfig_is_a_file_error() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("config");
    let output = inspect(home.path(), &path, &[]);
    assert_eq!(output.status.code(), Some(6));
    assert!(text(&output).1.contains("does not exist"));
    std::fs::write(&path, "clusters: [\n").unwrap();
    let output = inspect(home.path(), &path, &[]);
    assert_eq!(output.status.code(), Some(6));
    // Without --kubeconfig, a missing ~/.kube/config is an empty one, as for kubectl.
    let output = cli(home.path())
        .args(["kubeconfig", "inspect"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output).0, "no contexts\n");
}

#[test]
fn help_documents_inspect() {
    let home = tempfile::tempdir().unwrap();
    let output = cli(home.path())
        .args(["kubeconfig", "inspect", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!("inspect_help", String::from_utf8(output.stdout).unwrap());
}

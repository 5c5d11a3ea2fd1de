//! Helpers shared by the integration tests of the crate: sample
//! entries, and kubectl as the judge of every file written. kubectl always runs with a
//! temporary HOME and an explicit `--kubeconfig` or `KUBECONFIG`, never the real `~/.kube`.
#![allow(dead_code, missing_docs)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cce_autopilot_kubeconfig::{
    Cluster, Context, KubeconfigFile, NamedCluster, NamedContext, NamedUser, Upsert, User,
};
use serde_json::{Value, json};

pub const KUBECTL: &str = "/usr/bin/kubectl";

/// A (fake) EC private key in PEM, and its base64 as a kubeconfig carries it.
pub const KEY_PEM: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBnotarealkeyjustbytesfortestingonly0123456789oAoGCCqGSM49\nAwEHoUQDQgAEnotarealkeyjustbytesfortestingonly0123456789abcdefghij\n-----END EC PRIVATE KEY-----\n";
pub const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBnotarealcertificatejustbytesfortesting\n-----END CERTIFICATE-----\n";
pub const TOKEN: &str = "tok3n-that-must-never-be-printed-0123456789";

pub fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub fn key_b64() -> String {
    b64(KEY_PEM)
}

/// A file with foreign entries, unknown fields at every level and a JSON-ish flow style.
pub const FOREIGN_YAML: &str = r#"# a hand-written kubeconfig
apiVersion: v1
kind: Config
preferences: {colors: true}
clusters:
- name: theirs
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: Q0EK
    disable-compression: true
    extensions:
    - name: vendor.example/thing
      extension: {setting: 1}
  vendor-entry-field: keep-me
- name: other
  cluster: {server: https://10.0.0.2:6443, insecure-skip-tls-verify: true}
users:
- name: u0
  user:
    token: tok-of-someone-else
    as: impersonated
contexts:
- name: c0
  context: {cluster: theirs, user: u0, namespace: team-a, vendor-context-field: v}
current-context: c0
x-top-level: {nested: [1, two, {three: 3}]}
"#;

pub fn mark(cluster_id: &str, access: &str) -> Value {
    json!({"cluster-id": cluster_id, "access": access})
}

/// Cluster + user + context named `name`, marked as ours.
pub fn upsert_for(name: &str, server: &str) -> Upsert {
    let m = mark(&format!("id-{name}"), "internal");
    Upsert {
        clusters: vec![
            NamedCluster::new(
                name,
                Cluster {
                    server: Some(server.to_owned()),
                    certificate_authority_data: Some(b64(CERT_PEM)),
                    ..Cluster::default()
                },
            )
            .with_owner_mark(m.clone()),
        ],
        users: vec![
            NamedUser::new(
                name,
                User {
                    client_certificate_data: Some(b64(CERT_PEM)),
                    client_key_data: Some(key_b64()),
                    ..User::default()
                },
            )
            .with_owner_mark(m.clone()),
        ],
        contexts: vec![
            NamedContext::new(
                name,
                Context {
                    cluster: Some(name.to_owned()),
                    user: Some(name.to_owned()),
                    ..Context::default()
                },
            )
            .with_owner_mark(m),
        ],
        current_context: None,
    }
}

/// Only a context (for tests that add many).
pub fn context_only(name: &str, cluster: &str, user: &str) -> Upsert {
    Upsert {
        contexts: vec![NamedContext::new(
            name,
            Context {
                cluster: Some(cluster.to_owned()),
                user: Some(user.to_owned()),
                ..Context::default()
            },
        )],
        ..Upsert::default()
    }
}

pub fn parse_file(path: &Path) -> KubeconfigFile {
    let bytes = std::fs::read(path).unwrap();
    KubeconfigFile::from_bytes(&bytes, path).unwrap()
}

/// Where kubectl should read from.
pub enum Source<'a> {
    /// `--kubeconfig <file>`.
    File(&'a Path),
    /// `KUBECONFIG=<list>`.
    Env(&'a [PathBuf]),
}

/// Runs kubectl with a clean environment, HOME set to `home`.
pub fn kubectl(home: &Path, source: Source<'_>, args: &[&str]) -> Output {
    let mut cmd = Command::new(KUBECTL);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .args(args);
    match source {
        Source::File(f) => {
            cmd.arg("--kubeconfig").arg(f);
        }
        Source::Env(list) => {
            cmd.env("KUBECONFIG", std::env::join_paths(list).unwrap());
        }
    }
    cmd.output().expect("run /usr/bin/kubectl")
}

/// `kubectl config view --raw -o json`, which must succeed.
pub fn kubectl_view(home: &Path, source: Source<'_>) -> Value {
    let out = kubectl(home, source, &["config", "view", "--raw", "-o", "json"]);
    assert!(
        out.status.success(),
        "kubectl config view failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `kubectl config view --minify --context <ctx>`, which must succeed (the context's cluster and
/// user exist).
pub fn kubectl_minify(home: &Path, source: Source<'_>, context: &str) -> Value {
    let out = kubectl(
        home,
        source,
        &[
            "config",
            "view",
            "--minify",
            "--raw",
            "-o",
            "json",
            "--context",
            context,
        ],
    );
    assert!(
        out.status.success(),
        "kubectl config view --minify --context {context} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn names(view: &Value, list: &str) -> Vec<String> {
    view[list]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub fn env_list(paths: &[PathBuf]) -> std::ffi::OsString {
    std::env::join_paths(paths).unwrap()
}

pub fn as_os(s: &std::ffi::OsString) -> &OsStr {
    s.as_os_str()
}

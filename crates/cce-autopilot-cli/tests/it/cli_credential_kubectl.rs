//! kubectl itself runs `cce-autopilot credential` as the exec plugin of a hand-written kubeconfig and
//! talks mTLS to the emulator's API-server stub with the certificate it answers — twice, with one
//! certificate issued: the disk cache is what spares the second one.

use crate::plugin_support as support;

use std::path::Path;
use std::process::Output;

use cce_autopilot::Access;
use cce_autopilot_kubeconfig::{
    Cluster, Context, ExecConfig, ExecEnvVar, KubeconfigFile, NamedCluster, NamedContext,
    NamedUser, User,
};
use support::*;

/// A kubeconfig whose only user runs this binary as an exec plugin (the AK/SK travel in `env`, as
/// only a test would do it).
fn kubeconfig(emu: &Emu, cluster: &str, api_version: &str, cache_dir: &Path) -> String {
    let server = emu
        .api_server_url(cluster, Access::Internal)
        .expect("internal server");
    let ca = emu.cluster_ca_pem(cluster).expect("cluster CA");
    let env = |name: &str, value: &str| ExecEnvVar {
        name: name.to_owned(),
        value: value.to_owned(),
        unknown: Default::default(),
    };
    let exec = ExecConfig {
        api_version: Some(api_version.to_owned()),
        command: BIN.to_owned(),
        args: Some(
            [
                "credential",
                "--cluster-id",
                cluster,
                "--endpoint",
                emu.url(),
                "--project-id",
                emu.project_id(),
                "--cache-dir",
                cache_dir.to_str().expect("UTF-8 path"),
            ]
            .map(str::to_owned)
            .to_vec(),
        ),
        env: Some(vec![
            env("HUAWEICLOUD_SDK_AK", emu.access_key()),
            env("HUAWEICLOUD_SDK_SK", emu.secret_key()),
        ]),
        install_hint: Some("cargo install cce-autopilot-cli".to_owned()),
        provide_cluster_info: Some(false),
        interactive_mode: Some("Never".to_owned()),
        unknown: Default::default(),
    };
    let file = KubeconfigFile {
        clusters: vec![NamedCluster::new(
            "emulated",
            Cluster {
                server: Some(server),
                certificate_authority_data: Some(b64(ca)),
                ..Cluster::default()
            },
        )],
        users: vec![NamedUser::new(
            "plugin",
            User {
                exec: Some(exec),
                ..User::default()
            },
        )],
        contexts: vec![NamedContext::new(
            "emulated",
            Context {
                cluster: Some("emulated".to_owned()),
                user: Some("plugin".to_owned()),
                ..Context::default()
            },
        )],
        current_context: Some("emulated".to_owned()),
        ..KubeconfigFile::default()
    };
    file.to_yaml().expect("YAML")
}

fn kubectl(home: &Path, config: &Path, args: &[&str]) -> Output {
    std::process::Command::new(KUBECTL)
        .env_clear()
        .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("--kubeconfig")
        .arg(config)
        .args(args)
        .output()
        .expect("kubectl runs")
}

fn kubectl_version_twice_issues_one_certificate(api_version: &str) {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("credentials");
    let config = home.path().join("config");
    std::fs::write(
        &config,
        kubeconfig(&emu, PRIVATE_CLUSTER_ID, api_version, &cache),
    )
    .unwrap();

    for run in 1..=2 {
        let output = kubectl(home.path(), &config, &["get", "--raw", "/version"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "kubectl run {run}: {stderr}");
        let version: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(
            version["gitVersion"],
            cce_autopilot_emulator::demo::KUBERNETES_VERSION,
            "run {run}"
        );
    }
    assert_eq!(
        emu.issued(PRIVATE_CLUSTER_ID),
        1,
        "the second kubectl run used the cached certificate"
    );
    let accepted = emu.accepted_clients(PRIVATE_CLUSTER_ID);
    assert!(!accepted.is_empty());
    assert!(
        accepted.iter().all(|cn| cn == emu.access_key()),
        "{accepted:?}"
    );
    assert_eq!(cache_entries(&cache).len(), 1);
}

#[test]
fn kubectl_runs_the_plugin_twice_and_the_emulator_issues_one_certificate() {
    kubectl_version_twice_issues_one_certificate("client.authentication.k8s.io/v1");
}

#[test]
fn kubectl_speaks_v1beta1_with_the_plugin_too() {
    kubectl_version_twice_issues_one_certificate("client.authentication.k8s.io/v1beta1");
}

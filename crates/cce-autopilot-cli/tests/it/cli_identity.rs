//! The CLI on workload identities: the whole credential chain by default (the ECS metadata service
//! included), a plugin cache keyed by who signs rather than by temporary keys, and one error that lists
//! every source tried.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cce_autopilot_emulator::{Faults, demo};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

use crate::plugin_support::{EXEC_V1, Emulator, PRIVATE_CLUSTER_ID, cli, start};

const ACCOUNT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../cce-autopilot-emulator/tests/fixtures/identity")
        .join(name)
}

fn id_token(key: &str, changes: serde_json::Value) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({"iss": "https://ci.example.test", "aud": "cce-autopilot",
        "sub": "repo:demo:ref:main", "iat": now, "nbf": now - 5, "exp": now + 600});
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("ci-key-1".to_owned());
    let pem = std::fs::read(fixture(key)).unwrap();
    encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

/// `cli` with the metadata source on, at `url`.
fn with_metadata(home: &Path, url: &str) -> assert_cmd::Command {
    let mut cmd = cli(home);
    cmd.env_remove("CCE_AUTOPILOT_METADATA_DISABLED")
        .env("CCE_AUTOPILOT_METADATA_ENDPOINT", url);
    cmd
}

#[test]
fn twenty_plugin_runs_on_rotating_metadata_credentials_fetch_one_certificate() {
    let emu =
        start(Emulator::builder().faults(Faults::none().with_spec("metadata=rotate").unwrap()));
    let home = tempfile::tempdir().unwrap();
    for run in 0..20 {
        let out = with_metadata(home.path(), emu.url())
            .env("KUBERNETES_EXEC_INFO", EXEC_V1)
            .args(["credential", "--cluster-id", PRIVATE_CLUSTER_ID])
            .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        emu.issued(PRIVATE_CLUSTER_ID),
        1,
        "one certificate for twenty runs"
    );
}

#[test]
fn oidc_credentials_work_from_the_cli_and_a_refused_token_exits_3_with_the_reason() {
    let emu = start(Emulator::builder().identity_file(fixture("world.yaml")));
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("token");
    let run = |token_text: &str| {
        std::fs::write(&token, token_text).unwrap();
        cli(home.path())
            .env(
                "HUAWEICLOUD_OIDC_PROVIDER_URN",
                format!("iam::{ACCOUNT}:identity-provider:ci"),
            )
            .env(
                "HUAWEICLOUD_OIDC_AGENCY_URN",
                format!("iam::{ACCOUNT}:agency:ci-deployer"),
            )
            .env("HUAWEICLOUD_OIDC_TOKEN_FILE", &token)
            .env("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url())
            .args([
                "kubeconfig",
                "get",
                "--cluster",
                demo::PRIVATE_CLUSTER_ID,
                "--duration",
                "1",
            ])
            .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
            .output()
            .unwrap()
    };
    let out = run(&id_token("ci-signing-key.pem", json!({})));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("client-certificate-data"));
    let bad = id_token("ci-signing-key.pem", json!({"aud": "someone-else"}));
    let out = run(&bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("audience"), "{stderr}");
    assert!(!stderr.contains(&bad), "the token leaked: {stderr}");
}

#[test]
fn with_no_source_the_error_lists_all_five_and_a_silent_metadata_service_ends_its_probe() {
    // A listener that accepts and never answers, as a non-ECS network may.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = with_metadata(home.path(), &url)
        .args([
            "kubeconfig",
            "get",
            "--cluster",
            "c1",
            "--endpoint",
            "http://127.0.0.1:9",
        ])
        .args(["--project-id", "0123456789abcdef0123456789abcdef"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    for source in [
        "OIDC via STS",
        "the environment",
        "the profile file",
        "ECS metadata",
        "pod identity",
    ] {
        assert!(stderr.contains(source), "{source:?} missing from: {stderr}");
    }
    // Reported, not asserted: the time is measured by scripts/metadata-probe.sh.
    eprintln!("no-source run took {:?}", started.elapsed());
    drop(silent);
}

#[test]
fn an_exec_entry_under_oidc_carries_no_token_and_the_plugin_finds_the_source_in_its_environment() {
    let emu = start(Emulator::builder().identity_file(fixture("world.yaml")));
    let home = tempfile::tempdir().unwrap();
    let token = id_token("ci-signing-key.pem", json!({}));
    let kubeconfig = home.path().join("config");
    let oidc = |cmd: &mut assert_cmd::Command| {
        cmd.env(
            "HUAWEICLOUD_OIDC_PROVIDER_URN",
            format!("iam::{ACCOUNT}:identity-provider:ci"),
        )
        .env(
            "HUAWEICLOUD_OIDC_AGENCY_URN",
            format!("iam::{ACCOUNT}:agency:ci-deployer"),
        )
        .env("HUAWEICLOUD_OIDC_ID_TOKEN", &token)
        .env("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url())
        .env("KUBECONFIG", &kubeconfig);
    };
    let mut update = cli(home.path());
    oidc(&mut update);
    let out = update
        .args([
            "kubeconfig",
            "update",
            "--exec",
            "--cluster",
            PRIVATE_CLUSTER_ID,
        ])
        .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("HUAWEICLOUD_OIDC_TOKEN_FILE"),
        "no warning: {stderr}"
    );
    assert!(!stderr.contains(&token), "the token leaked: {stderr}");
    let written = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(
        !written.contains(&token) && !written.contains("eyJ"),
        "{written}"
    );
    // kubectl runs the entry's command with its own environment: here the same OIDC variables.
    let config: serde_json::Value = serde_saphyr::from_str(&written).unwrap();
    let exec = &config["users"][0]["user"]["exec"];
    let args: Vec<String> = serde_json::from_value(exec["args"].clone()).unwrap();
    let mut plugin = cli(home.path());
    oidc(&mut plugin);
    let out = plugin
        .env("KUBERNETES_EXEC_INFO", EXEC_V1)
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(credential["status"]["clientCertificateData"].is_string());
}

#[test]
fn whoami_names_the_agency_session_of_an_oidc_identity_and_when_it_expires() {
    let emu = start(Emulator::builder().identity_file(fixture("world.yaml")));
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("token");
    std::fs::write(&token, id_token("ci-signing-key.pem", json!({}))).unwrap();
    let out = cli(home.path())
        .env(
            "HUAWEICLOUD_OIDC_PROVIDER_URN",
            format!("iam::{ACCOUNT}:identity-provider:ci"),
        )
        .env(
            "HUAWEICLOUD_OIDC_AGENCY_URN",
            format!("iam::{ACCOUNT}:agency:ci-deployer"),
        )
        .env("HUAWEICLOUD_OIDC_TOKEN_FILE", &token)
        .env("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url())
        .args(["whoami", "--format", "json", "--endpoint", emu.url()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["source"], "oidc-sts");
    assert_eq!(me["account_id"], ACCOUNT);
    assert_eq!(
        me["principal_urn"],
        format!("sts::{ACCOUNT}:assumed-agency:ci-deployer/oidc-sts-session").as_str()
    );
    assert_eq!(
        me["principal_id"],
        "5f4e3d2c1b0a49382716f5e4d3c2b1a0:oidc-sts-session"
    );
    assert!(me["expires_at"].as_str().unwrap().ends_with('Z'), "{me}");
    assert_eq!(me["agencies"], json!([]));
}

#[test]
fn agencies_on_the_command_line_are_assumed_in_order_and_an_untrusted_one_exits_3() {
    let emu = start(Emulator::builder().identity_file(fixture("world.yaml")));
    let home = tempfile::tempdir().unwrap();
    let run = |ak: &str, sk: &str, args: &[&str]| {
        cli(home.path())
            .env("HUAWEICLOUD_SDK_AK", ak)
            .env("HUAWEICLOUD_SDK_SK", sk)
            .env("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url())
            .env("KUBECONFIG", home.path().join("config"))
            .args(args)
            .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
            .output()
            .unwrap()
    };
    let alice = (demo::ACCESS_KEY, demo::SECRET_KEY);
    let out = run(
        alice.0,
        alice.1,
        &[
            "--agency",
            "ci-deployer",
            "--agency-domain-id",
            ACCOUNT,
            "whoami",
            "--format",
            "json",
            "--agency",
            "auditor",
            "--agency-domain-id",
            ACCOUNT,
            "--agency-session-name",
            "audit-1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        me["principal_urn"],
        format!("sts::{ACCOUNT}:assumed-agency:auditor/audit-1").as_str()
    );
    assert_eq!(
        me["agencies"],
        json!([
            format!("iam::{ACCOUNT}:agency:ci-deployer"),
            format!("iam::{ACCOUNT}:agency:auditor")
        ])
    );
    // An exec entry carries the agencies, in order, so that kubectl's plugin signs as the same identity.
    let out = run(
        alice.0,
        alice.1,
        &[
            "kubeconfig",
            "update",
            "--exec",
            "--cluster",
            PRIVATE_CLUSTER_ID,
            "--agency",
            "ci-deployer",
            "--agency-domain-id",
            ACCOUNT,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(home.path().join("config")).unwrap();
    assert!(
        written.contains("--agency-domain-id") && written.contains("ci-deployer"),
        "{written}"
    );
    // mallory is trusted by no agency: exit 3 with the service's code, and nothing written.
    let before = std::fs::read(home.path().join("config")).unwrap();
    let out = run(
        "HPUAMALLORYAK0000001",
        "mallorySecretKey000000000000000000000000",
        &[
            "kubeconfig",
            "update",
            "--cluster",
            PRIVATE_CLUSTER_ID,
            "--alias",
            "mallory",
            "--agency",
            "ci-deployer",
            "--agency-domain-id",
            ACCOUNT,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("PAP5.0001"), "{stderr}");
    assert_eq!(std::fs::read(home.path().join("config")).unwrap(), before);
    // An option before its --agency is a usage error.
    let out = run(
        alice.0,
        alice.1,
        &["--agency-domain-id", ACCOUNT, "--agency", "x", "whoami"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn koocli_profiles_sign_as_their_keys_or_their_agency_and_encrypted_ones_say_how_to_fix() {
    let emu = start(Emulator::builder().identity_file(fixture("world.yaml")));
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("hcloud.json");
    std::fs::write(
        &config,
        json!({"current": "admin", "profiles": [
            {"name": "admin", "mode": "AKSK", "accessKeyId": demo::ACCESS_KEY,
             "secretAccessKey": demo::SECRET_KEY, "region": "cn-north-4"},
            {"name": "deployer", "mode": "AssumeRole", "accessKeyId": demo::ACCESS_KEY,
             "secretAccessKey": demo::SECRET_KEY, "agencyName": "ci-deployer", "agencyDomainId": ACCOUNT},
            {"name": "sso", "mode": "SSO", "ssoAuth": {"stsToken": {"accessKeyId": "SSOSTALEAK0000000001",
             "secretAccessKey": "stale-secret", "securityToken": "stale-token"}}},
            {"name": "locked", "mode": "AKSK", "accessKeyId": "dGhpcyBpcyBlbmNyeXB0ZWQ=",
             "secretAccessKey": "c2VjcmV0"}
        ]})
        .to_string(),
    )
    .unwrap();
    let whoami = |profile: &str| {
        cli(home.path())
            .env("HUAWEICLOUD_CONFIG_FILE", &config)
            .env("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url())
            .args([
                "--profile",
                profile,
                "whoami",
                "--format",
                "json",
                "--endpoint",
                emu.url(),
            ])
            .output()
            .unwrap()
    };
    let out = whoami("admin");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        me["principal_urn"],
        format!("iam::{ACCOUNT}:user:alice").as_str()
    );
    assert_eq!(me["source"], "koocli:AKSK");
    let out = whoami("deployer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        me["principal_urn"],
        format!("sts::{ACCOUNT}:assumed-agency:ci-deployer/cce-autopilot").as_str()
    );
    assert_eq!(
        me["agencies"],
        json!([format!("iam::{ACCOUNT}:agency:ci-deployer")])
    );
    let out = whoami("locked");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("--cli-auth-encrypt=false"), "{stderr}");
    // SSO credentials carry no expiry: refused, they say how to renew them.
    let out = cli(home.path())
        .env("HUAWEICLOUD_CONFIG_FILE", &config)
        .args([
            "--profile",
            "sso",
            "kubeconfig",
            "get",
            "--cluster",
            PRIVATE_CLUSTER_ID,
        ])
        .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("hcloud configure sso"), "{stderr}");
    assert!(
        !stderr.contains("stale-secret") && !stderr.contains("stale-token"),
        "{stderr}"
    );
    let out = whoami("nobody");
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin, deployer, sso, locked"));
}

/// `kubectl auth whoami` through `context` of `config`: the user name the API server sees.
fn kubectl_whoami(home: &Path, config: &Path, context: &str) -> Result<String, String> {
    let out = std::process::Command::new(crate::plugin_support::KUBECTL)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
        .args(["--kubeconfig"])
        .arg(config)
        .args([
            "--context",
            context,
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn an_admin_entry_and_an_agency_entry_of_one_cluster_live_side_by_side() {
    let emu = start(Emulator::builder().identity_file(fixture("world.yaml")));
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let agency = ["--agency", "ci-deployer", "--agency-domain-id", ACCOUNT];
    let run = |extra: &[&str], args: &[&str]| {
        let out = cli(home.path())
            .env("HUAWEICLOUD_SDK_AK", demo::ACCESS_KEY)
            .env("HUAWEICLOUD_SDK_SK", demo::SECRET_KEY)
            .env("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url())
            .env("KUBECONFIG", &config)
            .args(args)
            .args(extra)
            .args(["--endpoint", emu.url(), "--project-id", emu.project_id()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let update = [
        "kubeconfig",
        "update",
        "--cluster",
        "demo-private",
        "--set-current-context=false",
    ];
    run(&[], &update);
    run(&agency, &update);
    let admin = "cce_127.0.0.1_demo-private_internal";
    // The agency's names carry its label: agency-<name> and a digest of who signs.
    let names: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let named = |list: &str, suffix: &str| {
        names[list]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["name"].as_str())
            .find(|n| {
                n.starts_with("cce_127.0.0.1_demo-private_agency-ci-deployer.")
                    && n.ends_with(suffix)
            })
            .unwrap_or_else(|| panic!("no {list} entry of the agency"))
            .to_owned()
    };
    let deployer_context = named("contexts", "_internal");
    let deployer = deployer_context.as_str();
    let alice = kubectl_whoami(home.path(), &config, admin).unwrap();
    let session = kubectl_whoami(home.path(), &config, deployer).unwrap();
    assert_eq!(session, "5f4e3d2c1b0a49382716f5e4d3c2b1a0:cce-autopilot");
    assert_ne!(alice, session);
    // Re-running either update leaves the other's entries as they were.
    let entry = |name: &str| {
        let doc: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        doc["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == name)
            .cloned()
    };
    let deployer_user_name = named("users", "_user");
    let deployer_user = deployer_user_name.as_str();
    let before = entry(deployer_user).expect("the agency's user entry");
    run(&[], &update);
    assert_eq!(entry(deployer_user), Some(before));
    let admin_before = entry("cce_127.0.0.1_demo-private_user").expect("the admin's user entry");
    run(&agency, &update);
    assert_eq!(entry("cce_127.0.0.1_demo-private_user"), Some(admin_before));
    // A refresh renews each entry as the identity it was written for, whatever the command line says.
    let cert_of = |name: &str| entry(name).unwrap()["user"]["client-certificate-data"].clone();
    let admin_user = "cce_127.0.0.1_demo-private_user";
    let (old_admin, old_deployer) = (cert_of(admin_user), cert_of(deployer_user));
    run(&[], &["kubeconfig", "refresh", "--within", "3650d"]);
    assert_ne!(cert_of(admin_user), old_admin);
    assert_ne!(cert_of(deployer_user), old_deployer);
    assert_eq!(kubectl_whoami(home.path(), &config, admin).unwrap(), alice);
    assert_eq!(
        kubectl_whoami(home.path(), &config, deployer).unwrap(),
        session
    );
    // Removing the agency's entries leaves the admin's working.
    run(
        &agency,
        &["kubeconfig", "remove", "--cluster", "demo-private"],
    );
    assert_eq!(entry(deployer_user), None);
    assert!(kubectl_whoami(home.path(), &config, deployer).is_err());
    assert_eq!(kubectl_whoami(home.path(), &config, admin).unwrap(), alice);
}

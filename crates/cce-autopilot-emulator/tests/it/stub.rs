//! The per-cluster API-server stubs: mutual TLS with the certificates the API hands out.

use crate::common;

use std::time::Duration;

use cce_autopilot_emulator::{Emulator, EmulatorHandle, demo};
use cce_autopilot_model::{Access, Kubeconfig};
use common::{client_pems, fetch_kubeconfig};
use serde_json::Value;

fn identity(config: &Kubeconfig) -> reqwest::Identity {
    let (cert, key) = client_pems(config);
    reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).expect("identity from PEM")
}

/// A client that trusts only the cluster CA and presents `config`'s certificate, if any.
fn mtls_client(
    emu: &EmulatorHandle,
    cluster_id: &str,
    config: Option<&Kubeconfig>,
) -> reqwest::Client {
    let ca =
        reqwest::Certificate::from_pem(emu.cluster_ca_pem(cluster_id).unwrap().as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .tls_certs_only([ca]);
    if let Some(config) = config {
        builder = builder.identity(identity(config));
    }
    builder.build().unwrap()
}

async fn wait_for(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

#[tokio::test]
async fn stub_accepts_the_fetched_certificate_and_answers_version() {
    let emu = Emulator::builder().start().await.unwrap();
    let config = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, 1).await;
    let server = config.internal().unwrap().cluster.cluster.server.clone();
    let client = mtls_client(&emu, demo::PRIVATE_CLUSTER_ID, Some(&config));

    let version: Value = client
        .get(format!("{server}/version"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["major"], "1");
    assert_eq!(version["minor"], "31");
    assert_eq!(version["gitVersion"], demo::KUBERNETES_VERSION);
    assert!(
        version["gitVersion"]
            .as_str()
            .unwrap()
            .starts_with("v1.31.")
    );
    assert_eq!(version["platform"], "linux/amd64");

    let health = client
        .get(format!("{server}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let api: Value = client
        .get(format!("{server}/api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"][0], "v1");

    let missing = client
        .get(format!("{server}/api/v1/pods"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    assert!(
        emu.accepted_clients(demo::PRIVATE_CLUSTER_ID)
            .iter()
            .all(|cn| cn == emu.access_key())
    );
    assert!(!emu.accepted_clients(demo::PRIVATE_CLUSTER_ID).is_empty());
    assert_eq!(emu.rejected_handshakes(demo::PRIVATE_CLUSTER_ID), 0);
}

#[tokio::test]
async fn stub_rejects_a_certificate_of_another_cluster() {
    let emu = Emulator::builder().start().await.unwrap();
    let foreign = fetch_kubeconfig(&emu, demo::PUBLIC_CLUSTER_ID, 1).await;
    let server = emu
        .api_server_url(demo::PRIVATE_CLUSTER_ID, Access::Internal)
        .unwrap();
    let client = mtls_client(&emu, demo::PRIVATE_CLUSTER_ID, Some(&foreign));
    let result = client.get(format!("{server}/version")).send().await;
    assert!(result.is_err(), "{result:?}");
    assert!(wait_for(|| emu.rejected_handshakes(demo::PRIVATE_CLUSTER_ID) >= 1).await);
    assert!(emu.accepted_clients(demo::PRIVATE_CLUSTER_ID).is_empty());
}

#[tokio::test]
async fn stub_rejects_a_client_without_certificate() {
    let emu = Emulator::builder().start().await.unwrap();
    let server = emu
        .api_server_url(demo::PRIVATE_CLUSTER_ID, Access::Internal)
        .unwrap();
    let client = mtls_client(&emu, demo::PRIVATE_CLUSTER_ID, None);
    let result = client.get(format!("{server}/version")).send().await;
    assert!(result.is_err(), "{result:?}");
    assert!(wait_for(|| emu.rejected_handshakes(demo::PRIVATE_CLUSTER_ID) >= 1).await);
    assert!(emu.accepted_clients(demo::PRIVATE_CLUSTER_ID).is_empty());
}

#[tokio::test]
async fn stub_rejects_a_certificate_not_yet_valid_on_the_emulator_clock() {
    // Issued while the emulator's clock ran an hour ahead, presented once it is back: not valid yet.
    let emu = Emulator::builder()
        .clock_offset_secs(3600)
        .start()
        .await
        .unwrap();
    let response = common::Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 1)
        .header("X-Sdk-Date", common::sdk_date(3600))
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let config: Kubeconfig = response.json().await.unwrap();
    let server = config.internal().unwrap().cluster.cluster.server.clone();
    let client = mtls_client(&emu, demo::PRIVATE_CLUSTER_ID, Some(&config));
    let ok = client
        .get(format!("{server}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "valid on the emulator's own clock");

    emu.set_clock_offset_secs(0);
    let client = mtls_client(&emu, demo::PRIVATE_CLUSTER_ID, Some(&config));
    let result = client.get(format!("{server}/healthz")).send().await;
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn external_address_serves_the_same_stub_under_a_name_the_certificate_lacks() {
    let emu = Emulator::builder().start().await.unwrap();
    let config = fetch_kubeconfig(&emu, demo::PUBLIC_CLUSTER_ID, 1).await;
    let external = config.external().unwrap().cluster.cluster.server.clone();
    let internal = config.internal().unwrap().cluster.cluster.server.clone();
    assert_ne!(external, internal);

    // As kubectl does with insecure-skip-tls-verify: no server check, but still the client certificate.
    let insecure = reqwest::Client::builder()
        .no_proxy()
        .tls_danger_accept_invalid_certs(true)
        .identity(identity(&config))
        .build()
        .unwrap();
    let version: Value = insecure
        .get(format!("{external}/version"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["gitVersion"], demo::KUBERNETES_VERSION);

    if external.starts_with("https://127.0.0.2:") {
        // Verifying the server with the CA fails: the certificate names 127.0.0.1, not 127.0.0.2.
        let verifying = mtls_client(&emu, demo::PUBLIC_CLUSTER_ID, Some(&config));
        let result = verifying.get(format!("{external}/version")).send().await;
        assert!(result.is_err(), "{result:?}");
    }

    // The client certificate is still required on the public address.
    let anonymous = reqwest::Client::builder()
        .no_proxy()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    assert!(
        anonymous
            .get(format!("{external}/version"))
            .send()
            .await
            .is_err()
    );
}

fn kubectl_available() -> bool {
    std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `kubectl --kubeconfig <file> --context <context> get --raw /version` with HOME in a temporary
/// directory, and returns its output.
async fn kubectl_version(config: &Kubeconfig, context: &str) -> std::process::Output {
    kubectl(config, context, &["get", "--raw", "/version"]).await
}

/// Runs `kubectl --kubeconfig <file> --context <context> ARGS` with HOME in a temporary directory.
pub(crate) async fn kubectl(
    config: &Kubeconfig,
    context: &str,
    args: &[&str],
) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(config).unwrap()).unwrap();
    let context = context.to_owned();
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&path)
            .args(["--context", &context, "--request-timeout", "20s"])
            .args(&args)
            .env("HOME", home.path())
            .env_remove("KUBECONFIG")
            .env("NO_PROXY", "127.0.0.1,127.0.0.2,localhost")
            .env("no_proxy", "127.0.0.1,127.0.0.2,localhost")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .unwrap();
        drop(home);
        output
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn kubectl_reaches_the_stub_with_the_fetched_kubeconfig() {
    // kubectl is the judge; .ci/run installs it. A missing kubectl fails here rather than passing silently.
    assert!(
        kubectl_available(),
        "kubectl is required for this test (apt-get install kubectl)"
    );
    let emu = Emulator::builder().start().await.unwrap();
    let config = fetch_kubeconfig(&emu, demo::PUBLIC_CLUSTER_ID, 1).await;
    for context in ["internal", "external"] {
        let output = kubectl_version(&config, context).await;
        assert!(
            output.status.success(),
            "kubectl --context {context} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let version: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(version["gitVersion"], demo::KUBERNETES_VERSION);
    }
    assert!(emu.accepted_clients(demo::PUBLIC_CLUSTER_ID).len() >= 2);
}

#[tokio::test]
async fn kubectl_auth_whoami_names_the_certificate_s_user_and_groups() {
    assert!(
        kubectl_available(),
        "kubectl is required for this test (apt-get install kubectl)"
    );
    let emu = Emulator::builder().start().await.unwrap();
    let config = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, 1).await;
    let output = kubectl(&config, "internal", &["auth", "whoami", "-o", "json"]).await;
    assert!(
        output.status.success(),
        "kubectl auth whoami failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let review: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(review["kind"], "SelfSubjectReview");
    let user = &review["status"]["userInfo"];
    assert_eq!(user["username"], emu.access_key(), "{review}");
    assert_eq!(
        user["groups"],
        serde_json::json!(["system:masters", "system:authenticated"]),
        "{review}"
    );
}

/// What clients ask for first, answered as an API server does: `/version/` (the Python client's path),
/// plain-text health, discovery that lists `authentication.k8s.io`, a review for any body (kubectl may
/// send protobuf), and `Status` JSON for unknown paths and methods.
#[tokio::test]
async fn the_stub_answers_discovery_health_reviews_and_statuses_like_an_api_server() {
    let emu = Emulator::builder().start().await.unwrap();
    let config = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, 1).await;
    let server = config.internal().unwrap().cluster.cluster.server.clone();
    let client = mtls_client(&emu, demo::PRIVATE_CLUSTER_ID, Some(&config));
    let get = |path: &str| client.get(format!("{server}{path}")).send();

    let slash: Value = get("/version/").await.unwrap().json().await.unwrap();
    assert_eq!(slash["gitVersion"], demo::KUBERNETES_VERSION);
    for path in ["/healthz", "/livez", "/readyz"] {
        let health = get(path).await.unwrap();
        assert_eq!(health.status(), 200, "{path}");
        assert!(
            health.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain"),
            "{path}"
        );
        assert_eq!(health.text().await.unwrap(), "ok", "{path}");
    }
    let core: Value = get("/api/v1").await.unwrap().json().await.unwrap();
    assert_eq!(
        (core["kind"].as_str(), core["groupVersion"].as_str()),
        (Some("APIResourceList"), Some("v1"))
    );
    let groups: Value = get("/apis").await.unwrap().json().await.unwrap();
    assert_eq!(groups["groups"][0]["name"], "authentication.k8s.io");
    let resources: Value = get("/apis/authentication.k8s.io/v1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resources["resources"][0]["name"], "selfsubjectreviews");
    assert_eq!(resources["resources"][0]["verbs"][0], "create");

    let review = client
        .post(format!(
            "{server}/apis/authentication.k8s.io/v1/selfsubjectreviews"
        ))
        .header("content-type", "application/vnd.kubernetes.protobuf")
        .body(b"k8s\x00\n\x1f\n\x19authentication.k8s.io/v1".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), 201);
    let review: Value = review.json().await.unwrap();
    assert_eq!(review["apiVersion"], "authentication.k8s.io/v1");
    assert_eq!(review["status"]["userInfo"]["username"], emu.access_key());

    let missing = get("/api/v1/pods").await.unwrap();
    assert_eq!(missing.status(), 404);
    let status: Value = missing.json().await.unwrap();
    assert_eq!(
        (
            status["kind"].as_str(),
            status["reason"].as_str(),
            status["code"].as_u64()
        ),
        (Some("Status"), Some("NotFound"), Some(404))
    );
    let wrong_method = client
        .delete(format!("{server}/version"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    let status: Value = wrong_method.json().await.unwrap();
    assert_eq!(status["reason"], "MethodNotAllowed");
}

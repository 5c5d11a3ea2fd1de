//! The real client against the emulator: every scenario of the emulator's contract, end to end, with real
//! certificates checked by x509-parser and used over mTLS.

use std::time::Duration;

use cce_autopilot::{
    Access, CertDuration, Client, ClientBuilder, Credentials, Environment, Error, Kubeconfig,
    RetryConfig,
};
use cce_autopilot_emulator::{
    Emulator, EmulatorHandle, FaultScope, Faults, RejectStatus, Trigger, demo,
};
use x509_parser::prelude::{FromDer, X509Certificate};

fn client(emu: &EmulatorHandle) -> ClientBuilder {
    Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .project_id(emu.project_id())
        .credentials(Credentials::new(emu.access_key(), emu.secret_key()))
        .retry(RetryConfig::disabled())
}

async fn fetch(
    client: &Client,
    cluster: &str,
    duration: CertDuration,
) -> Result<cce_autopilot::ClusterCert, Error> {
    client.cluster_cert(cluster).duration(duration).send().await
}

fn der(pem: &[u8]) -> Vec<u8> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).expect("PEM");
    pem.contents
}

fn client_certificate_der(k: &Kubeconfig) -> Vec<u8> {
    der(&k
        .internal()
        .unwrap()
        .user
        .user
        .client_certificate_pem()
        .unwrap()
        .unwrap())
}

fn validity_seconds(cert_der: &[u8]) -> i64 {
    let (_, cert) = X509Certificate::from_der(cert_der).unwrap();
    cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp()
}

/// The longest validity for a certificate that starts when this one does: five calendar years.
fn five_years_from_start(cert_der: &[u8]) -> i64 {
    let (_, cert) = X509Certificate::from_der(cert_der).unwrap();
    let start = cert.validity().not_before.to_datetime().date();
    i64::from(CertDuration::max_days_on(start)) * 86_400
}

#[tokio::test]
async fn a_private_cluster_answers_internal_only() {
    let emu = Emulator::builder().cluster("priv-1").start().await.unwrap();
    let cert = fetch(
        &client(&emu).build().unwrap(),
        "priv-1",
        CertDuration::days(30).unwrap(),
    )
    .await
    .unwrap();
    let k = &cert.kubeconfig;
    assert_eq!(k.current_context.as_deref(), Some("internal"));
    assert_eq!(
        k.clusters
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["internalCluster"]
    );
    assert!(k.external().is_none());
    assert_eq!(cert.port_id, emu.port_id("priv-1"));
    assert_eq!(cert.request_id.as_deref().map(str::len), Some(32));
    assert_eq!(emu.issued("priv-1"), 1);
}

#[tokio::test]
async fn a_public_cluster_adds_an_insecure_external_entry() {
    let emu = Emulator::builder()
        .public_cluster("pub-1")
        .start()
        .await
        .unwrap();
    let cert = fetch(&client(&emu).build().unwrap(), "pub-1", CertDuration::MAX)
        .await
        .unwrap();
    let k = &cert.kubeconfig;
    assert_eq!(k.current_context.as_deref(), Some("external"));
    let ext = k.external().unwrap();
    assert_eq!(ext.cluster.name, "externalCluster");
    assert_eq!(ext.cluster.cluster.insecure_skip_tls_verify, Some(true));
    assert!(ext.cluster.cluster.certificate_authority_data.is_none());
    assert_ne!(
        ext.cluster.cluster.server,
        k.internal().unwrap().cluster.cluster.server
    );
}

#[tokio::test]
async fn certificate_validity_equals_the_requested_duration() {
    let emu = Emulator::builder().cluster("c").start().await.unwrap();
    let client = client(&emu).build().unwrap();
    let today_max = CertDuration::max_days_on(time::OffsetDateTime::now_utc().date());
    for days in [1, 30, today_max] {
        let cert = fetch(&client, "c", CertDuration::days(days).unwrap())
            .await
            .unwrap();
        assert_eq!(
            validity_seconds(&client_certificate_der(&cert.kubeconfig)),
            i64::from(days) * 86_400,
            "{days} days"
        );
    }
    let max = fetch(&client, "c", CertDuration::MAX).await.unwrap();
    let der = client_certificate_der(&max.kubeconfig);
    assert_eq!(
        validity_seconds(&der),
        five_years_from_start(&der),
        "-1 gives exactly five calendar years"
    );
    assert_eq!(emu.issued("c"), 4, "a fresh certificate per call");
}

#[tokio::test]
async fn the_client_certificate_chains_to_its_own_cluster_ca_only() {
    let emu = Emulator::builder()
        .cluster("a")
        .cluster("b")
        .start()
        .await
        .unwrap();
    let cert = fetch(
        &client(&emu).build().unwrap(),
        "a",
        CertDuration::days(2).unwrap(),
    )
    .await
    .unwrap();
    let leaf_der = client_certificate_der(&cert.kubeconfig);
    let (_, leaf) = X509Certificate::from_der(&leaf_der).unwrap();
    let ca_a = der(emu.cluster_ca_pem("a").unwrap().as_bytes());
    let ca_b = der(emu.cluster_ca_pem("b").unwrap().as_bytes());
    let (_, ca_a) = X509Certificate::from_der(&ca_a).unwrap();
    let (_, ca_b) = X509Certificate::from_der(&ca_b).unwrap();
    assert!(leaf.verify_signature(Some(ca_a.public_key())).is_ok());
    assert!(leaf.verify_signature(Some(ca_b.public_key())).is_err());
    // The kubeconfig's CA data is that same CA.
    let in_kubeconfig = cert
        .kubeconfig
        .internal()
        .unwrap()
        .cluster
        .cluster
        .certificate_authority_pem()
        .unwrap()
        .unwrap();
    assert_eq!(
        String::from_utf8(in_kubeconfig).unwrap(),
        emu.cluster_ca_pem("a").unwrap()
    );
}

fn mtls_client(ca_pem: &[u8], cert_pem: &[u8], key_pem: &[u8]) -> reqwest::Client {
    let mut identity = cert_pem.to_vec();
    identity.extend_from_slice(key_pem);
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem).unwrap()])
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_fetched_certificate_authenticates_to_its_api_server_and_not_to_another() {
    let emu = Emulator::builder()
        .cluster("a")
        .cluster("b")
        .start()
        .await
        .unwrap();
    let client = client(&emu).build().unwrap();
    let a = fetch(&client, "a", CertDuration::days(1).unwrap())
        .await
        .unwrap()
        .kubeconfig;
    let b = fetch(&client, "b", CertDuration::days(1).unwrap())
        .await
        .unwrap()
        .kubeconfig;
    let pems = |k: &Kubeconfig| {
        let e = k.internal().unwrap();
        (
            e.cluster
                .cluster
                .certificate_authority_pem()
                .unwrap()
                .unwrap(),
            e.user.user.client_certificate_pem().unwrap().unwrap(),
            e.user.user.client_key_pem().unwrap().unwrap(),
        )
    };
    let (ca_a, cert_a, key_a) = pems(&a);
    let (_, cert_b, key_b) = pems(&b);
    let server_a = &a.internal().unwrap().cluster.cluster.server;

    let version: serde_json::Value = mtls_client(&ca_a, &cert_a, &key_a)
        .get(format!("{server_a}/version"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["gitVersion"], demo::KUBERNETES_VERSION);
    assert!(
        emu.accepted_clients("a")
            .iter()
            .any(|cn| cn.contains(emu.access_key()))
    );

    let foreign = mtls_client(&ca_a, &cert_b, &key_b)
        .get(format!("{server_a}/version"))
        .send()
        .await;
    assert!(
        foreign.is_err(),
        "cluster b's certificate is refused by cluster a"
    );
    assert!(emu.rejected_handshakes("a") >= 1);
}

#[tokio::test]
async fn errors_from_the_emulator_keep_code_and_request_id() {
    let emu = Emulator::builder().cluster("c").start().await.unwrap();
    let unknown = fetch(
        &client(&emu).build().unwrap(),
        "nope",
        CertDuration::days(1).unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(unknown.status(), Some(404));
    assert_eq!(unknown.code(), Some("CCE.01404001"));
    assert_eq!(unknown.request_id().map(str::len), Some(32));

    let wrong_project = client(&emu)
        .project_id("ffffffffffffffffffffffffffffffff")
        .build()
        .unwrap();
    let err = fetch(&wrong_project, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(403), Some("CCE.01403001"))
    );

    let bad_sk = client(&emu)
        .credentials(Credentials::new(emu.access_key(), "wrong-secret"))
        .build()
        .unwrap();
    let err = fetch(&bad_sk, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(401), Some("APIGW.0301")));
    assert_eq!(err.kind(), cce_autopilot::ErrorKind::Auth);
    assert!(!format!("{err:?}{err}").contains("wrong-secret"));

    let bad_token = Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .project_id(emu.project_id())
        .token("not-a-token")
        .build()
        .unwrap();
    let err = fetch(&bad_token, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(401), Some("APIGW.0307")));
}

#[tokio::test]
async fn token_authentication_is_accepted() {
    let emu = Emulator::builder()
        .cluster("c")
        .token("tok-123")
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .project_id(emu.project_id())
        .token("tok-123")
        .build()
        .unwrap();
    fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_project_id_is_resolved_through_iam() {
    let emu = Emulator::builder().cluster("c").start().await.unwrap();
    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .iam_endpoint(emu.url())
        .region(emu.region())
        .credentials(Credentials::new(emu.access_key(), emu.secret_key()))
        .build()
        .unwrap();
    assert_eq!(client.project_id().await.unwrap(), emu.project_id());
    fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn temporary_credentials_from_the_metadata_service_work() {
    let emu = Emulator::builder().cluster("c").start().await.unwrap();
    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .project_id(emu.project_id())
        .metadata_credentials(emu.url())
        .build()
        .unwrap();
    fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap();
    let paths: Vec<String> = emu.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().any(|p| p == "/openstack/latest/securitykey"),
        "{paths:?}"
    );
}

#[tokio::test]
async fn a_skewed_clock_is_corrected_against_the_emulator() {
    let emu = Emulator::builder()
        .cluster("c")
        .clock_offset_secs(2 * 3600)
        .start()
        .await
        .unwrap();
    let client = client(&emu).build().unwrap();
    fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .expect("re-signed with the emulator's time");
    fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap();
    let statuses: Vec<Option<u16>> = emu.requests().into_iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(401), Some(200), Some(200)]);
}

#[tokio::test]
async fn throttling_bursts_are_retried_within_bounds() {
    let faults = Faults::none()
        .with_reject(Trigger::First(2), RejectStatus::ServiceUnavailable)
        .with_retry_after(Duration::ZERO)
        .with_scope(FaultScope::Certificate);
    let emu = Emulator::builder()
        .cluster("c")
        .faults(faults)
        .start()
        .await
        .unwrap();
    let retry = RetryConfig::default()
        .with_max_attempts(3)
        .with_base_delay(Duration::from_millis(5));
    let client = client(&emu).retry(retry).build().unwrap();
    fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .expect("third attempt succeeds");
    assert_eq!(emu.request_count(), 3);

    emu.set_faults(
        Faults::none()
            .with_reject(Trigger::Always, RejectStatus::TooManyRequests)
            .with_retry_after(Duration::ZERO),
    );
    let err = fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.as_service().unwrap().attempts(), 3);
}

#[tokio::test]
async fn dropped_connections_and_truncated_bodies_fail_clearly_after_retries() {
    let emu = Emulator::builder()
        .cluster("c")
        .faults(Faults::none().with_drop_connection(Trigger::Always))
        .start()
        .await
        .unwrap();
    let retry = RetryConfig::default()
        .with_max_attempts(2)
        .with_base_delay(Duration::from_millis(5));
    let client = client(&emu).retry(retry).build().unwrap();
    let err = fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("2 attempt(s)"), "{err}");

    emu.set_faults(Faults::none().with_truncate_body(Trigger::Always));
    let before = emu.request_count();
    let err = fetch(&client, "c", CertDuration::days(1).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { .. }),
        "a cut body is a transport failure: {err:?}"
    );
    assert_eq!(emu.request_count() - before, 2, "and it is retried");
}

#[tokio::test]
async fn kubectl_reaches_the_api_server_stub_through_a_fetched_kubeconfig() {
    let emu = Emulator::builder().cluster("c").start().await.unwrap();
    let cert = fetch(
        &client(&emu).build().unwrap(),
        "c",
        CertDuration::days(1).unwrap(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, serde_json::to_vec(&cert.kubeconfig).unwrap()).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("kubectl")
            .args(["--kubeconfig"])
            .arg(&path)
            .args([
                "--context",
                Access::Internal.context_name(),
                "get",
                "--raw",
                "/version",
            ])
            .env("HOME", dir.path())
            .env_remove("KUBECONFIG")
            .output()
            .expect("kubectl is installed (.ci/run installs it)")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(version["gitVersion"], demo::KUBERNETES_VERSION);
}

/// A client that looks its project up from the emulator's IAM.
fn looking_up(emu: &EmulatorHandle, retry: RetryConfig) -> Client {
    Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .iam_endpoint(emu.url())
        .region(emu.region())
        .credentials(Credentials::new(emu.access_key(), emu.secret_key()))
        .retry(retry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_project_lookup_recovers_from_a_20_minute_clock_skew() {
    // The emulator's clock runs 20 minutes ahead: ours looks 20 minutes behind to its gateway.
    let emu = Emulator::builder()
        .clock_offset(Duration::from_secs(20 * 60))
        .start()
        .await
        .unwrap();
    let client = looking_up(&emu, RetryConfig::disabled());
    assert_eq!(client.project_id().await.unwrap(), emu.project_id());
    let iam: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v3/projects")
        .map(|r| r.status)
        .collect();
    assert_eq!(iam, [Some(401), Some(200)], "refused once, then re-signed");
    // The learnt offset serves the certificate call at once.
    fetch(
        &client,
        demo::PRIVATE_CLUSTER_ID,
        CertDuration::days(1).unwrap(),
    )
    .await
    .unwrap();
    let cert_statuses: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/clustercert"))
        .map(|r| r.status)
        .collect();
    assert_eq!(cert_statuses, [Some(200)]);
}

#[tokio::test]
async fn the_project_lookup_is_retried_on_503() {
    let emu = Emulator::builder()
        .faults(
            Faults::none()
                .with_reject(Trigger::First(2), RejectStatus::ServiceUnavailable)
                .with_retry_after(Duration::from_millis(5))
                .with_scope(FaultScope::Gateway),
        )
        .start()
        .await
        .unwrap();
    let retry = RetryConfig::default()
        .with_base_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(20));
    let client = looking_up(&emu, retry);
    assert_eq!(client.project_id().await.unwrap(), emu.project_id());
    let iam: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v3/projects")
        .map(|r| r.status)
        .collect();
    assert_eq!(iam, [Some(503), Some(503), Some(200)]);
}

#[tokio::test]
async fn the_client_lists_shows_and_finds_the_emulator_s_clusters() {
    let emu = Emulator::builder()
        .named_cluster("prod", "id-prod")
        .with_alias("production")
        .named_public_cluster("edge", "id-edge")
        .with_version("v1.32")
        .named_cluster("fresh", "id-fresh")
        .with_phase("Creating")
        .start()
        .await
        .unwrap();
    let client = client(&emu).build().unwrap();
    let all = client.clusters().send().await.unwrap();
    let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["prod", "edge", "fresh"]);
    assert_eq!(all[0].alias.as_deref(), Some("production"));
    assert_eq!(all[2].phase, cce_autopilot::ClusterPhase::Creating);
    assert!(all[1].is_public() && !all[0].is_public());
    assert_eq!(
        all[1]
            .endpoints
            .iter()
            .find(|e| e.access == Some(Access::Internal))
            .unwrap()
            .url,
        emu.api_server_url("id-edge", Access::Internal).unwrap()
    );
    let available = client
        .clusters()
        .status(cce_autopilot::ClusterPhase::Available)
        .version("v1.32")
        .send()
        .await
        .unwrap();
    assert_eq!(
        available
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["edge"]
    );
    assert_eq!(client.cluster("id-prod").send().await.unwrap().name, "prod");
    for query in ["prod", "production", "id-prod"] {
        assert_eq!(
            client.find_cluster(query).await.unwrap().id,
            "id-prod",
            "{query}"
        );
    }
    match client.find_cluster("prdo").await.unwrap_err() {
        Error::UnknownCluster {
            nearest,
            project_id,
            ..
        } => {
            assert_eq!(nearest.first().map(String::as_str), Some("prod"));
            assert_eq!(project_id, emu.project_id());
        }
        other => panic!("{other:?}"),
    }
    let err = client.cluster("no-such").send().await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(404), Some("CCE.01404001"))
    );
}

#[tokio::test]
async fn credentials_that_may_not_list_get_the_403_and_certificates_by_id() {
    let emu = Emulator::builder()
        .deny_cluster_listing()
        .start()
        .await
        .unwrap();
    let client = client(&emu).build().unwrap();
    let err = client.clusters().send().await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.kind(), cce_autopilot::ErrorKind::Auth);
    fetch(
        &client,
        demo::PRIVATE_CLUSTER_ID,
        CertDuration::days(1).unwrap(),
    )
    .await
    .unwrap();
}

//! kube-rs programs: a fetched certificate becomes a `kube::Client` that talks to the cluster's API server.

use cce_autopilot::{Access, CertDuration, Client, Credentials, Environment};
use cce_autopilot_emulator::{Emulator, demo};

/// A client of `emu` with its key pair, nothing from the environment.
fn client_for(emu: &cce_autopilot_emulator::EmulatorHandle) -> Client {
    Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .project_id(emu.project_id())
        .credentials(Credentials::new(emu.access_key(), emu.secret_key()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_fetched_certificate_drives_a_kube_client_over_mtls() {
    let emu = Emulator::builder()
        .public_cluster("pub")
        .start()
        .await
        .unwrap();
    let client = client_for(&emu);
    let cert = client
        .cluster_cert("pub")
        .duration(CertDuration::days(1).unwrap())
        .send()
        .await
        .unwrap();
    for access in [Access::Internal, Access::External] {
        let kube = kube::Client::try_from(cert.kube_config(access).await.unwrap()).unwrap();
        let version = kube.apiserver_version().await.unwrap();
        assert_eq!(version.git_version, demo::KUBERNETES_VERSION, "{access}");
    }
    assert!(emu.accepted_clients("pub").len() >= 2);
}

#[tokio::test]
async fn asking_for_a_context_the_answer_lacks_is_a_clear_error() {
    let emu = Emulator::builder().cluster("priv").start().await.unwrap();
    let client = client_for(&emu);
    let cert = client
        .cluster_cert("priv")
        .duration(CertDuration::days(1).unwrap())
        .send()
        .await
        .unwrap();
    let err = cert.kube_config(Access::External).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no external context (it offers: internal)"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewing_client_swaps_certificates_and_lets_requests_in_flight_finish() {
    use cce_autopilot::{RenewOptions, RenewingKubeClient};
    use std::time::Duration;

    let emu = Emulator::builder().cluster("priv").start().await.unwrap();
    let client = client_for(&emu);
    // The emulator's clock 23 hours behind: each one-day certificate it issues is past two thirds of its
    // life on ours, so every renewal is due at once and the least interval paces them.
    emu.set_clock_offset_secs(-23 * 3600);
    let options = RenewOptions::default().with_min_interval(Duration::from_millis(300));
    let renewing = RenewingKubeClient::start_with(
        client,
        "priv",
        Access::Internal,
        CertDuration::days(1).unwrap(),
        options,
    )
    .await
    .unwrap();
    // A request that takes 1.5 s, started on the first client.
    let first = renewing.client();
    let renewals_before = renewing.renewals();
    let slow = tokio::spawn(async move {
        let request = http::Request::get("/_emulator/hold?ms=1500")
            .body(Vec::new())
            .unwrap();
        first.request_text(request).await
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while renewing.renewals() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "three renewals within 20 s"
        );
        let version = renewing.client().apiserver_version().await.unwrap();
        assert_eq!(version.git_version, demo::KUBERNETES_VERSION);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    renewing.client().apiserver_version().await.unwrap();
    let answer = slow
        .await
        .unwrap()
        .expect("the request in flight finished on its client");
    assert_eq!(answer, "ok");
    assert!(
        renewing.renewals() > renewals_before,
        "it was in flight across a swap"
    );
    let mut serials = emu.accepted_serials("priv");
    serials.sort();
    serials.dedup();
    assert!(
        serials.len() >= 3,
        "distinct client certificates at the stub: {serials:?}"
    );
}

//! `state_dir`: each cluster's CA survives a restart, so earlier certificates keep working.

use crate::common;

use std::time::Duration;

use cce_autopilot_emulator::{Emulator, EmulatorError, demo};
use common::{client_pems, fetch_kubeconfig};

#[tokio::test]
async fn the_ca_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = Emulator::builder()
        .state_dir(dir.path())
        .start()
        .await
        .unwrap();
    let ca_before = first.cluster_ca_pem(demo::PRIVATE_CLUSTER_ID).unwrap();
    let other_before = first.cluster_ca_pem(demo::PUBLIC_CLUSTER_ID).unwrap();
    assert_ne!(ca_before, other_before, "one CA per cluster");
    let old_config = fetch_kubeconfig(&first, demo::PRIVATE_CLUSTER_ID, 1).await;
    first.shutdown().await;

    let second = Emulator::builder()
        .state_dir(dir.path())
        .start()
        .await
        .unwrap();
    assert_eq!(
        second.cluster_ca_pem(demo::PRIVATE_CLUSTER_ID).unwrap(),
        ca_before
    );
    assert_eq!(
        second.cluster_ca_pem(demo::PUBLIC_CLUSTER_ID).unwrap(),
        other_before
    );

    // A certificate from before the restart opens the restarted stub.
    let (cert, key) = client_pems(&old_config);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .tls_certs_only([reqwest::Certificate::from_pem(ca_before.as_bytes()).unwrap()])
        .identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap())
        .build()
        .unwrap();
    let server = second
        .api_server_url(
            demo::PRIVATE_CLUSTER_ID,
            cce_autopilot_model::Access::Internal,
        )
        .unwrap();
    let response = client
        .get(format!("{server}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn without_state_dir_every_start_has_new_cas() {
    let first = Emulator::builder().start().await.unwrap();
    let second = Emulator::builder().start().await.unwrap();
    assert_ne!(
        first.cluster_ca_pem(demo::PRIVATE_CLUSTER_ID),
        second.cluster_ca_pem(demo::PRIVATE_CLUSTER_ID)
    );
}

#[cfg(unix)]
#[tokio::test]
async fn ca_keys_are_private_files() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .state_dir(dir.path())
        .start()
        .await
        .unwrap();
    for id in emu.cluster_ids() {
        let cluster_dir = dir.path().join("clusters").join(id);
        let key_mode = std::fs::metadata(cluster_dir.join("ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(key_mode & 0o777, 0o600, "{id}");
        let dir_mode = std::fs::metadata(&cluster_dir)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o077, 0, "{id}: the directory is private too");
        let cert = std::fs::read_to_string(cluster_dir.join("ca.crt")).unwrap();
        assert_eq!(Some(cert), emu.cluster_ca_pem(id));
    }
}

#[tokio::test]
async fn a_damaged_state_dir_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cluster_dir = dir.path().join("clusters").join("c1");
    std::fs::create_dir_all(&cluster_dir).unwrap();
    std::fs::write(cluster_dir.join("ca.crt"), "not a certificate").unwrap();
    std::fs::write(cluster_dir.join("ca.key"), "not a key").unwrap();
    let err = Emulator::builder()
        .cluster("c1")
        .state_dir(dir.path())
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, EmulatorError::CorruptState { .. }), "{err}");
    assert!(err.to_string().contains("delete"), "says what to do: {err}");
}

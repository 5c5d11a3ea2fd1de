//! kube-rs programs: a fetched certificate becomes a `kube::Client` that talks to the cluster's API server.

use cce_autopilot::{Access, CertDuration, Client, Credentials, Environment};
use cce_autopilot_emulator::{Emulator, demo};

#[tokio::test]
async fn a_fetched_certificate_drives_a_kube_client_over_mtls() {
    let emu = Emulator::builder()
        .public_cluster("pub")
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .project_id(emu.project_id())
        .credentials(Credentials::new(emu.access_key(), emu.secret_key()))
        .build()
        .unwrap();
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
    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(emu.url())
        .project_id(emu.project_id())
        .credentials(Credentials::new(emu.access_key(), emu.secret_key()))
        .build()
        .unwrap();
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

//! The cluster list and show routes: names, phases, versions and endpoints; filters; the CCE 404 and the
//! 403 for credentials that may not list; authentication like the certificate route.

use crate::common;

use cce_autopilot_emulator::{Emulator, EmulatorHandle, demo};
use cce_autopilot_model::{Access, AutopilotCluster, AutopilotClusterList, ClusterPhase};
use common::{Call, expect_error, request_id};

fn list_url(emu: &EmulatorHandle, query: &str) -> String {
    format!(
        "{}/autopilot/v3/projects/{}/clusters{query}",
        emu.url(),
        emu.project_id()
    )
}

fn show_url(emu: &EmulatorHandle, id: &str) -> String {
    format!(
        "{}/autopilot/v3/projects/{}/clusters/{id}",
        emu.url(),
        emu.project_id()
    )
}

/// A GET as the official SDK sends it: Content-Type and X-Project-Id signed.
fn get(emu: &EmulatorHandle, url: String) -> Call {
    Call::new("GET", url)
        .header("Content-Type", "application/json")
        .header("X-Project-Id", emu.project_id())
        .signed_by(emu.access_key(), emu.secret_key())
}

async fn list(emu: &EmulatorHandle, query: &str) -> AutopilotClusterList {
    let response = get(emu, list_url(emu, query)).send().await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    request_id(&response);
    response.json().await.expect("a cluster list")
}

#[tokio::test]
async fn the_demo_clusters_are_listed_with_names_phases_versions_and_endpoints() {
    let emu = Emulator::builder().start().await.unwrap();
    let list = list(&emu, "").await;
    assert_eq!(list.kind.as_deref(), Some("List"));
    let names: Vec<(&str, &str)> = list
        .items
        .iter()
        .map(|c| (c.metadata.name.as_str(), c.id().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            (demo::PRIVATE_CLUSTER_NAME, demo::PRIVATE_CLUSTER_ID),
            (demo::PUBLIC_CLUSTER_NAME, demo::PUBLIC_CLUSTER_ID)
        ]
    );
    for cluster in &list.items {
        assert_eq!(cluster.phase(), Some(&ClusterPhase::Available));
        assert_eq!(cluster.spec.version.as_deref(), Some(demo::CLUSTER_VERSION));
        assert_eq!(
            cluster.metadata.alias.as_deref(),
            Some(cluster.metadata.name.as_str())
        );
        assert!(
            cluster.spec.extra.contains_key("hostNetwork"),
            "the SDK's required fields"
        );
    }
    let internal = |c: &AutopilotCluster, kind: &str| {
        c.endpoints()
            .iter()
            .find(|e| e.endpoint_type.as_deref() == Some(kind))
            .map(|e| e.url.clone())
    };
    let private = &list.items[0];
    assert_eq!(
        internal(private, "Internal"),
        emu.api_server_url(demo::PRIVATE_CLUSTER_ID, Access::Internal)
    );
    assert_eq!(internal(private, "External"), None);
    let public = &list.items[1];
    assert_eq!(
        internal(public, "External"),
        emu.api_server_url(demo::PUBLIC_CLUSTER_ID, Access::External)
    );
}

#[tokio::test]
async fn show_answers_one_cluster_and_the_cce_404_for_an_unknown_id() {
    let emu = Emulator::builder().start().await.unwrap();
    let response = get(&emu, show_url(&emu, demo::PUBLIC_CLUSTER_ID))
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let cluster: AutopilotCluster = response.json().await.unwrap();
    assert_eq!(cluster.metadata.name, demo::PUBLIC_CLUSTER_NAME);
    let response = get(&emu, show_url(&emu, "no-such-cluster")).send().await;
    let message = expect_error(response, 404, "CCE.01404001").await;
    assert!(message.contains("no-such-cluster"), "{message}");
}

#[tokio::test]
async fn filters_select_by_phase_version_and_type() {
    let emu = Emulator::builder()
        .named_cluster("prod", "id-prod")
        .named_cluster("next", "id-next")
        .with_version("v1.32")
        .named_cluster("fresh", "id-fresh")
        .with_phase("Creating")
        .start()
        .await
        .unwrap();
    let names = |list: AutopilotClusterList| -> Vec<String> {
        list.items.into_iter().map(|c| c.metadata.name).collect()
    };
    assert_eq!(names(list(&emu, "").await), ["prod", "next", "fresh"]);
    assert_eq!(
        names(list(&emu, "?status=Available").await),
        ["prod", "next"]
    );
    assert_eq!(names(list(&emu, "?status=Creating").await), ["fresh"]);
    assert_eq!(names(list(&emu, "?version=v1.32").await), ["next"]);
    assert_eq!(
        names(list(&emu, "?status=Available&version=v1.31").await),
        ["prod"]
    );
    assert!(names(list(&emu, "?type=BareMetal").await).is_empty());
    assert_eq!(
        names(list(&emu, "?type=VirtualMachine&detail=true").await).len(),
        3
    );
    let creating = list(&emu, "?status=Creating").await;
    assert!(creating.items[0].status.as_ref().unwrap().reason.is_some());
}

#[tokio::test]
async fn removed_clusters_are_gone_and_phases_change_at_run_time() {
    let emu = Emulator::builder().start().await.unwrap();
    assert!(emu.remove_cluster(demo::PRIVATE_CLUSTER_ID));
    assert!(emu.set_cluster_phase(demo::PUBLIC_CLUSTER_ID, "Upgrading"));
    let list = list(&emu, "").await;
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].phase(), Some(&ClusterPhase::Upgrading));
    let response = get(&emu, show_url(&emu, demo::PRIVATE_CLUSTER_ID))
        .send()
        .await;
    expect_error(response, 404, "CCE.01404001").await;
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 1).send().await;
    expect_error(response, 404, "CCE.01404001").await;
}

#[tokio::test]
async fn listing_authenticates_like_the_certificate_route() {
    let emu = Emulator::builder().start().await.unwrap();
    let unsigned = Call::new("GET", list_url(&emu, "")).send().await;
    expect_error(unsigned, 401, "APIGW.0301").await;
    let wrong_sk = Call::new("GET", list_url(&emu, ""))
        .signed_by(emu.access_key(), "not-the-secret-key")
        .send()
        .await;
    expect_error(wrong_sk, 401, "APIGW.0301").await;
    let token = Call::new("GET", list_url(&emu, ""))
        .header("X-Auth-Token", demo::TOKEN)
        .send()
        .await;
    assert_eq!(token.status(), 200);
    let other_project = get(
        &emu,
        format!("{}/autopilot/v3/projects/another/clusters", emu.url()),
    )
    .send()
    .await;
    expect_error(other_project, 403, "CCE.01403001").await;
}

#[tokio::test]
async fn credentials_that_may_not_list_get_a_403_but_still_get_certificates() {
    let emu = Emulator::builder()
        .deny_cluster_listing()
        .start()
        .await
        .unwrap();
    let response = get(&emu, list_url(&emu, "")).send().await;
    expect_error(response, 403, "CCE.01403002").await;
    let response = get(&emu, show_url(&emu, demo::PRIVATE_CLUSTER_ID))
        .send()
        .await;
    expect_error(response, 403, "CCE.01403002").await;
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 1).send().await;
    assert_eq!(response.status(), 200);
}

//! The cluster-certificate route: layout of the kubeconfig, headers, and the certificates it carries.

use crate::common;

use cce_autopilot_emulator::{Emulator, EmulatorHandle, demo};
use cce_autopilot_model::Access;
use common::{Call, client_pems, decode, fetch_kubeconfig, pem_to_der, request_id};
use x509_parser::prelude::*;

async fn demo_emulator() -> EmulatorHandle {
    Emulator::builder().start().await.expect("emulator starts")
}

#[tokio::test]
async fn private_cluster_gets_internal_entries_only() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 30).send().await;
    assert_eq!(response.status(), 200);
    request_id(&response);
    let port_id = response
        .headers()
        .get("port-id")
        .expect("Port-ID")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(Some(port_id), emu.port_id(demo::PRIVATE_CLUSTER_ID));
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );

    let config: cce_autopilot_model::Kubeconfig = response.json().await.unwrap();
    assert_eq!(config.kind.as_deref(), Some("Config"));
    assert_eq!(config.api_version.as_deref(), Some("v1"));
    assert_eq!(config.preferences, Some(serde_json::Map::new()));
    let names = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        config
            .clusters
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
        names(vec!["internalCluster"])
    );
    assert_eq!(
        config
            .contexts
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
        names(vec!["internal"])
    );
    assert_eq!(config.users.len(), 1);
    assert_eq!(config.users[0].name, "user");
    assert_eq!(config.current_context.as_deref(), Some("internal"));

    let internal = config.internal().expect("internal context resolves");
    assert_eq!(
        Some(internal.cluster.cluster.server.clone()),
        emu.api_server_url(demo::PRIVATE_CLUSTER_ID, Access::Internal)
    );
    assert!(
        internal
            .cluster
            .cluster
            .server
            .starts_with("https://127.0.0.1:")
    );
    assert_eq!(internal.cluster.cluster.insecure_skip_tls_verify, None);
    assert_eq!(
        Some(decode(
            internal.cluster.cluster.certificate_authority_data.as_ref()
        )),
        emu.cluster_ca_pem(demo::PRIVATE_CLUSTER_ID)
    );
    let (cert, key) = client_pems(&config);
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(emu.issued(demo::PRIVATE_CLUSTER_ID), 1);
    assert_eq!(emu.issued(demo::PUBLIC_CLUSTER_ID), 0);
}

#[tokio::test]
async fn public_cluster_adds_an_unverified_external_entry_and_makes_it_current() {
    let emu = demo_emulator().await;
    let config = fetch_kubeconfig(&emu, demo::PUBLIC_CLUSTER_ID, 30).await;
    let cluster_names: Vec<&str> = config.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cluster_names, ["internalCluster", "externalCluster"]);
    let context_names: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(context_names, ["internal", "external"]);
    assert_eq!(config.current_context.as_deref(), Some("external"));
    assert_eq!(config.users.len(), 1);

    let external = config.external().expect("external context resolves");
    assert_eq!(
        external.cluster.cluster.insecure_skip_tls_verify,
        Some(true)
    );
    assert_eq!(external.cluster.cluster.certificate_authority_data, None);
    assert_eq!(external.user.name, "user");
    let internal = config.internal().expect("internal context resolves");
    assert_ne!(
        internal.cluster.cluster.server,
        external.cluster.cluster.server
    );
    assert_eq!(
        Some(external.cluster.cluster.server.clone()),
        emu.api_server_url(demo::PUBLIC_CLUSTER_ID, Access::External)
    );
    assert_eq!(
        emu.api_server_url(demo::PRIVATE_CLUSTER_ID, Access::External),
        None
    );
}

#[tokio::test]
async fn answer_is_laid_out_like_the_vendor_example() {
    let emu = demo_emulator().await;
    let text = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 30)
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("{\n  \"kind\" : \"Config\",\n  \"apiVersion\" : \"v1\",\n  \"preferences\" : { },\n  \"clusters\" : [ {\n    \"name\" : \"internalCluster\",\n"), "{text}");
    assert!(
        text.ends_with("  } ],\n  \"current-context\" : \"internal\"\n}"),
        "{text}"
    );
    let keys: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
            .unwrap()
            .keys()
            .cloned()
            .collect();
    assert_eq!(
        keys,
        [
            "kind",
            "apiVersion",
            "preferences",
            "clusters",
            "users",
            "contexts",
            "current-context"
        ]
    );
}

fn validity_days(cert_pem: &str) -> (i64, i64) {
    let der = pem_to_der(cert_pem);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let not_before = cert.validity().not_before.timestamp();
    let not_after = cert.validity().not_after.timestamp();
    (not_after - not_before, not_before)
}

#[tokio::test]
async fn certificate_validity_is_the_requested_number_of_days() {
    let emu = demo_emulator().await;
    let today_max =
        cce_autopilot_model::CertDuration::max_days_on(::time::OffsetDateTime::now_utc().date());
    for days in [1_i64, 30, i64::from(today_max)] {
        let config = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, days).await;
        let (span, not_before) = validity_days(&client_pems(&config).0);
        assert_eq!(span, days * 86_400, "duration {days}");
        let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(
            (now - 120..=now).contains(&not_before),
            "backdated by about a minute"
        );
    }
}

#[tokio::test]
async fn duration_minus_one_gives_five_calendar_years() {
    let emu = demo_emulator().await;
    let config = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, -1).await;
    let (span, not_before) = validity_days(&client_pems(&config).0);
    let start = ::time::OffsetDateTime::from_unix_timestamp(not_before).unwrap();
    let end = ::time::OffsetDateTime::from_unix_timestamp(not_before + span).unwrap();
    assert_eq!(
        end.date(),
        cce_autopilot_model::five_years_after(start.date()),
        "the same date five years on"
    );
    assert_eq!(end.time(), start.time());
    assert_eq!(
        span / 86_400,
        i64::from(cce_autopilot_model::CertDuration::max_days_on(start.date()))
    );
}

#[tokio::test]
async fn more_days_than_five_years_from_today_are_refused_with_the_cce_400() {
    // The emulator's clock on 2026-12-01, whose next five years hold one leap day: 1826 days at most.
    let target = ::time::macros::datetime!(2026-12-01 12:00 UTC).unix_timestamp();
    let offset = target - ::time::OffsetDateTime::now_utc().unix_timestamp();
    let emu = Emulator::builder()
        .clock_offset_secs(offset)
        .start()
        .await
        .expect("emulator starts");
    let at = |days: i64| {
        Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, days)
            .header("X-Sdk-Date", common::sdk_date(offset))
    };
    let message = common::expect_error(at(1827).send().await, 400, "CCE.01400001").await;
    assert!(
        message.contains("1826") && message.contains("2031-12-01"),
        "{message}"
    );
    assert_eq!(at(1826).send().await.status(), 200);
    assert_eq!(at(-1).send().await.status(), 200);
}

#[tokio::test]
async fn client_certificate_chains_to_its_cluster_ca_only() {
    let emu = demo_emulator().await;
    let config = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, 30).await;
    let cert_der = pem_to_der(&client_pems(&config).0);
    let (_, cert) = X509Certificate::from_der(&cert_der).unwrap();

    let own_der = pem_to_der(&emu.cluster_ca_pem(demo::PRIVATE_CLUSTER_ID).unwrap());
    let (_, own_ca) = X509Certificate::from_der(&own_der).unwrap();
    cert.verify_signature(Some(own_ca.public_key()))
        .expect("signed by its cluster CA");
    assert_eq!(cert.issuer(), own_ca.subject());

    let other_der = pem_to_der(&emu.cluster_ca_pem(demo::PUBLIC_CLUSTER_ID).unwrap());
    let (_, other_ca) = X509Certificate::from_der(&other_der).unwrap();
    assert!(cert.verify_signature(Some(other_ca.public_key())).is_err());
}

#[tokio::test]
async fn certificate_names_the_caller_and_the_admin_group() {
    let emu = demo_emulator().await;
    let config = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, 30).await;
    let der = pem_to_der(&client_pems(&config).0);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap();
    assert_eq!(cn, emu.access_key());
    let org = cert
        .subject()
        .iter_organization()
        .next()
        .unwrap()
        .as_str()
        .unwrap();
    assert_eq!(org, "system:masters");
    let eku = cert.extended_key_usage().unwrap().unwrap();
    assert!(eku.value.client_auth);
}

#[tokio::test]
async fn every_call_issues_a_new_key() {
    let emu = demo_emulator().await;
    let a = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, 30).await;
    let b = fetch_kubeconfig(&emu, demo::PRIVATE_CLUSTER_ID, 30).await;
    assert_ne!(client_pems(&a).1, client_pems(&b).1);
    assert_eq!(emu.issued(demo::PRIVATE_CLUSTER_ID), 2);
    // The server side is the same cluster: same CA, same address, same Port-ID.
    assert_eq!(a.clusters, b.clusters);
}

#[tokio::test]
async fn token_authentication_is_accepted() {
    let emu = Emulator::builder().token("my-token").start().await.unwrap();
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 30)
        .unsigned()
        .header("X-Auth-Token", "my-token")
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let config: cce_autopilot_model::Kubeconfig = response.json().await.unwrap();
    let der = pem_to_der(&client_pems(&config).0);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cn, "token-user-1");
    assert!(!cn.contains("my-token"));
}

#[tokio::test]
async fn v11_signatures_for_the_emulator_region_are_accepted() {
    let emu = demo_emulator().await;
    let signer = cce_autopilot_signing::Signer::new(emu.access_key(), emu.secret_key())
        .with_algorithm(cce_autopilot_signing::Algorithm::V11HmacSha256 {
            region: emu.region().to_owned(),
            service: "cce".to_owned(),
        });
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 30)
        .with_signer(signer)
        .send()
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn go_sdk_style_minimal_signed_headers_are_accepted() {
    // The Go SDK signs neither Content-Type nor User-Agent: only what it lists counts.
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 30)
        .without_header("Content-Type")
        .without_header("User-Agent")
        .unsigned_header("Content-Type", "application/json;charset=UTF-8")
        .unsigned_header("User-Agent", "huaweicloud-usdk-go/3.0")
        .send()
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn custom_clusters_replace_the_demo_ones() {
    let emu = Emulator::builder()
        .credentials("AK-1", "SK-1")
        .credentials("AK-2", "SK-2")
        .cluster("alpha")
        .public_cluster("beta")
        .start()
        .await
        .unwrap();
    assert_eq!(emu.cluster_ids(), ["alpha", "beta"]);
    assert_eq!(emu.access_key(), "AK-1");
    assert_eq!(emu.is_public("beta"), Some(true));
    let response = Call::cert(&emu, "beta", 7)
        .signed_by("AK-2", "SK-2")
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 7).send().await;
    assert_eq!(response.status(), 404);
    emu.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_the_api() {
    let emu = demo_emulator().await;
    let url = emu.url().to_owned();
    emu.shutdown().await;
    let result = common::http_client()
        .get(format!("{url}/v3/projects"))
        .send()
        .await;
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn debug_output_hides_the_secret_key() {
    let emu = Emulator::builder()
        .credentials("AK-shown", "SK-never-shown")
        .token("token-never-shown")
        .start()
        .await
        .unwrap();
    let debug = format!("{emu:?} {emu:#?}");
    assert!(debug.contains("AK-shown"));
    assert!(!debug.contains("SK-never-shown"), "{debug}");
    assert!(!debug.contains("token-never-shown"), "{debug}");
}

#[tokio::test]
async fn banner_starts_with_the_url_and_lists_what_to_use() {
    let emu = demo_emulator().await;
    let banner = cce_autopilot_emulator::demo_banner(&emu);
    assert_eq!(banner.lines().next(), Some(emu.url()));
    for needle in [
        emu.region(),
        emu.project_id(),
        emu.access_key(),
        emu.secret_key(),
        demo::PRIVATE_CLUSTER_ID,
        demo::PUBLIC_CLUSTER_ID,
    ] {
        assert!(banner.contains(needle), "{needle} missing from\n{banner}");
    }
    let external = emu
        .api_server_url(demo::PUBLIC_CLUSTER_ID, Access::External)
        .unwrap();
    assert!(banner.contains(&external));
}

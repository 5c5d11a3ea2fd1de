//! The ECS metadata credential source, served on loopback: session token, securitykey in both shapes,
//! the one retry after a 401, refresh when fewer than 40 minutes remain, and off unless enabled.
#![allow(missing_docs)]

use crate::config_support;

use cce_autopilot::{Client, ErrorKind};
use config_support::{PROJECT, TempHome, builder, cce_signed_by, fetch};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN_PATH: &str = "/meta-data/latest/api/token";
const KEY_PATH: &str = "/openstack/latest/securitykey";

/// An RFC 3339 time `minutes` from now, as the metadata service writes it.
fn in_minutes(minutes: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}

fn credential(ak: &str, token: &str, expires_at: &str) -> serde_json::Value {
    json!({"credential": {
        "access": ak,
        "secret": "metadata-secret",
        "securitytoken": token,
        "expires_at": expires_at,
    }})
}

/// The token service: a PUT with the SDK's TTL header answered with `token`.
fn token_service(token: &str) -> Mock {
    Mock::given(method("PUT"))
        .and(path(TOKEN_PATH))
        .and(header("x-metadata-token-ttl-seconds", "21600"))
        .respond_with(ResponseTemplate::new(200).set_body_string(token))
}

/// The securitykey document, for requests carrying `X-Metadata-Token: token`.
fn security_key(token: &str, body: serde_json::Value) -> Mock {
    Mock::given(method("GET"))
        .and(path(KEY_PATH))
        .and(header("x-metadata-token", token))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
}

fn metadata_client(server: &MockServer, home: &TempHome) -> Client {
    builder(server, home.env())
        .metadata_credentials(server.uri())
        .build()
        .unwrap()
}

#[tokio::test]
async fn token_then_securitykey_then_a_signed_call_with_the_security_token() {
    let server = MockServer::start().await;
    token_service("MDTOKEN1").expect(1).mount(&server).await;
    security_key(
        "MDTOKEN1",
        credential("METAAK1", "META-TOKEN-1", &in_minutes(180)),
    )
    .expect(1)
    .mount(&server)
    .await;
    cce_signed_by(PROJECT, "METAAK1", Some("META-TOKEN-1"))
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    fetch(&metadata_client(&server, &home)).await.unwrap();
}

#[tokio::test]
async fn alternate_field_names_are_read() {
    let server = MockServer::start().await;
    token_service("MDTOKEN2").mount(&server).await;
    security_key(
        "MDTOKEN2",
        json!({"credentials": {
            "accessKeyId": "METAAK2",
            "secretAccessKey": "metadata-secret",
            "securityToken": "META-TOKEN-2",
            "expiration": in_minutes(180),
        }}),
    )
    .expect(1)
    .mount(&server)
    .await;
    cce_signed_by(PROJECT, "METAAK2", Some("META-TOKEN-2"))
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    fetch(&metadata_client(&server, &home)).await.unwrap();
}

#[tokio::test]
async fn without_a_token_service_the_securitykey_is_asked_without_a_token() {
    for status in [404, 405, 503] {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path(TOKEN_PATH))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(KEY_PATH))
            .and(|request: &Request| !request.headers.contains_key("x-metadata-token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(credential(
                "METAAK3",
                "META-TOKEN-3",
                &in_minutes(180),
            )))
            .expect(1)
            .mount(&server)
            .await;
        cce_signed_by(PROJECT, "METAAK3", Some("META-TOKEN-3"))
            .expect(1)
            .mount(&server)
            .await;
        let home = TempHome::new();
        fetch(&metadata_client(&server, &home))
            .await
            .unwrap_or_else(|e| panic!("token service answering {status}: {e}"));
    }
}

#[tokio::test]
async fn a_401_fetches_a_new_token_and_retries_once() {
    let server = MockServer::start().await;
    token_service("OLDTOKEN")
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    token_service("NEWTOKEN").expect(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path(KEY_PATH))
        .and(header("x-metadata-token", "OLDTOKEN"))
        .respond_with(ResponseTemplate::new(401).set_body_string("token expired"))
        .expect(1)
        .mount(&server)
        .await;
    security_key(
        "NEWTOKEN",
        credential("METAAK4", "META-TOKEN-4", &in_minutes(180)),
    )
    .expect(1)
    .mount(&server)
    .await;
    cce_signed_by(PROJECT, "METAAK4", Some("META-TOKEN-4"))
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    fetch(&metadata_client(&server, &home)).await.unwrap();
}

#[tokio::test]
async fn a_second_401_is_an_error_after_exactly_one_retry() {
    let server = MockServer::start().await;
    token_service("MDTOKEN5").expect(2).mount(&server).await;
    Mock::given(method("GET"))
        .and(path(KEY_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_string("token expired"))
        .expect(2)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let err = fetch(&metadata_client(&server, &home)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    let text = err.to_string();
    assert!(
        text.contains("ECS metadata") && text.contains("401"),
        "{text}"
    );
}

#[tokio::test]
async fn a_401_for_a_server_without_agency_is_not_retried() {
    let server = MockServer::start().await;
    token_service("MDTOKEN6").expect(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path(KEY_PATH))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string(r#"{"error":"Please configure Cloud Service Agency first"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let err = fetch(&metadata_client(&server, &home)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert!(err.to_string().contains("agency"), "{err}");
}

#[tokio::test]
async fn credentials_with_less_than_40_minutes_left_are_fetched_again() {
    let server = MockServer::start().await;
    token_service("MDTOKEN7").mount(&server).await;
    security_key(
        "MDTOKEN7",
        credential("METAAK7", "META-TOKEN-7", &in_minutes(30)),
    )
    .expect(2)
    .mount(&server)
    .await;
    cce_signed_by(PROJECT, "METAAK7", Some("META-TOKEN-7"))
        .expect(2)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let client = metadata_client(&server, &home);
    fetch(&client).await.unwrap();
    fetch(&client).await.unwrap();
}

#[tokio::test]
async fn credentials_valid_for_hours_are_fetched_once_for_two_calls() {
    let server = MockServer::start().await;
    token_service("MDTOKEN8").expect(1).mount(&server).await;
    security_key(
        "MDTOKEN8",
        credential("METAAK8", "META-TOKEN-8", &in_minutes(180)),
    )
    .expect(1)
    .mount(&server)
    .await;
    cce_signed_by(PROJECT, "METAAK8", Some("META-TOKEN-8"))
        .expect(2)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let client = metadata_client(&server, &home);
    fetch(&client).await.unwrap();
    fetch(&client).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_fetch() {
    let server = MockServer::start().await;
    token_service("MDTOKEN9").expect(1).mount(&server).await;
    security_key(
        "MDTOKEN9",
        credential("METAAK9", "META-TOKEN-9", &in_minutes(180)),
    )
    .expect(1)
    .mount(&server)
    .await;
    cce_signed_by(PROJECT, "METAAK9", Some("META-TOKEN-9"))
        .expect(6)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let client = metadata_client(&server, &home);
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { fetch(&client).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn metadata_is_not_asked_unless_enabled() {
    let server = MockServer::start().await;
    Mock::given(path_regex("^/(meta-data|openstack)/"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    cce_signed_by(PROJECT, "ENVAK10", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let with_env = home
        .env()
        .var("HUAWEICLOUD_SDK_AK", "ENVAK10")
        .var("HUAWEICLOUD_SDK_SK", "env-secret");
    fetch(&builder(&server, with_env).build().unwrap())
        .await
        .unwrap();
    let err = builder(&server, home.env()).build().unwrap_err();
    assert!(err.to_string().contains("(disabled)"), "{err}");
}

#[tokio::test]
async fn an_unreachable_metadata_service_is_a_credentials_error() {
    let server = MockServer::start().await;
    let home = TempHome::new();
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let client = builder(&server, home.env())
        .metadata_credentials("http://127.0.0.1:1")
        .build()
        .unwrap();
    let err = fetch(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert!(err.to_string().contains("http://127.0.0.1:1/"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_securitykey_without_expiry_is_an_error_that_does_not_quote_it() {
    let server = MockServer::start().await;
    token_service("MDTOKEN11").mount(&server).await;
    security_key(
        "MDTOKEN11",
        json!({"credential": {"access": "METAAK11", "secret": "SECRET-11", "securitytoken": "TOKEN-11"}}),
    )
    .mount(&server)
    .await;
    let home = TempHome::new();
    let err = fetch(&metadata_client(&server, &home)).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("expires_at"), "{text}");
    assert!(
        !text.contains("SECRET-11") && !text.contains("TOKEN-11"),
        "{text}"
    );
}

//! The side services: IAM project lookup and ECS metadata temporary credentials.

use crate::common;

use std::time::Duration;

use cce_autopilot_emulator::{Emulator, EmulatorHandle, codes, demo};
use common::{Call, expect_error, http_client, request_id};
use serde_json::Value;

async fn projects(emu: &EmulatorHandle, name: &str) -> reqwest::Response {
    Call::new("GET", format!("{}/v3/projects?name={name}", emu.url()))
        .header("Content-Type", "application/json")
        .signed_by(emu.access_key(), emu.secret_key())
        .send()
        .await
}

fn project_ids(body: &Value) -> Vec<String> {
    body["projects"]
        .as_array()
        .expect("projects list")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn iam_lists_the_project_of_the_region() {
    let emu = Emulator::builder().start().await.unwrap();
    let response = projects(&emu, "cn-north-4").await;
    assert_eq!(response.status(), 200);
    request_id(&response);
    assert!(response.headers().contains_key("x-iam-trace-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(project_ids(&body), [demo::PROJECT_ID]);
    let project = &body["projects"][0];
    assert_eq!(project["name"], "cn-north-4");
    assert_eq!(project["enabled"], true);
    assert_eq!(project["is_domain"], false);
    assert!(project["domain_id"].as_str().is_some_and(|d| d.len() == 32));
    assert!(
        body["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with("/v3/projects?name=cn-north-4")
    );
}

#[tokio::test]
async fn iam_lists_nothing_for_another_region() {
    let emu = Emulator::builder().start().await.unwrap();
    let body: Value = projects(&emu, "ap-southeast-1").await.json().await.unwrap();
    assert!(project_ids(&body).is_empty());
}

#[tokio::test]
async fn iam_can_be_made_ambiguous() {
    let emu = Emulator::builder()
        .iam_project("cn-north-4", "fedcba9876543210fedcba9876543210")
        .iam_project("cn-north-4_sub", "11111111111111111111111111111111")
        .start()
        .await
        .unwrap();
    let body: Value = projects(&emu, "cn-north-4").await.json().await.unwrap();
    assert_eq!(
        project_ids(&body),
        [demo::PROJECT_ID, "fedcba9876543210fedcba9876543210"]
    );
}

#[tokio::test]
async fn iam_requires_authentication() {
    let emu = Emulator::builder().start().await.unwrap();
    let response = Call::new("GET", format!("{}/v3/projects?name=cn-north-4", emu.url()))
        .send()
        .await;
    expect_error(response, 401, codes::AUTH_FAILED).await;
    let response = Call::new("GET", format!("{}/v3/projects?name=cn-north-4", emu.url()))
        .signed_by(emu.access_key(), "wrong")
        .send()
        .await;
    expect_error(response, 401, codes::AUTH_FAILED).await;
    let response = Call::new("GET", format!("{}/v3/projects?name=cn-north-4", emu.url()))
        .header("X-Auth-Token", demo::TOKEN)
        .send()
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn iam_signature_covers_the_query() {
    let emu = Emulator::builder().start().await.unwrap();
    // Signed for one query, sent with another.
    let signer = cce_autopilot_signing::Signer::new(emu.access_key(), emu.secret_key());
    let host = emu.url().trim_start_matches("http://").to_owned();
    let headers = vec![
        ("Host".to_owned(), host),
        ("X-Sdk-Date".to_owned(), common::sdk_date(0)),
    ];
    let signature = signer
        .sign(&cce_autopilot_signing::SignableRequest {
            method: "GET",
            path: "/v3/projects",
            query: &[("name".to_owned(), "cn-north-4".to_owned())],
            headers: &headers,
            body: b"",
        })
        .unwrap();
    let mut request = http_client().get(format!("{}/v3/projects?name=eu-west-0", emu.url()));
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let response = request
        .header("Authorization", signature.authorization)
        .send()
        .await
        .unwrap();
    expect_error(response, 401, codes::AUTH_FAILED).await;
}

/// The metadata session token, as the SDK asks for it.
async fn metadata_token(emu: &EmulatorHandle) -> String {
    let response = http_client()
        .put(format!("{}/meta-data/latest/api/token", emu.url()))
        .header("X-Metadata-Token-Ttl-Seconds", "21600")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

struct TemporaryCredentials {
    access: String,
    secret: String,
    token: String,
    expires_at: String,
}

async fn security_key(emu: &EmulatorHandle, metadata_token: Option<&str>) -> reqwest::Response {
    let mut request = http_client().get(format!("{}/openstack/latest/securitykey", emu.url()));
    if let Some(token) = metadata_token {
        request = request.header("X-Metadata-Token", token);
    }
    request.send().await.unwrap()
}

async fn temporary_credentials(emu: &EmulatorHandle) -> TemporaryCredentials {
    let token = metadata_token(emu).await;
    let response = security_key(emu, Some(&token)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let credential = &body["credential"];
    let field = |name: &str| credential[name].as_str().expect(name).to_owned();
    TemporaryCredentials {
        access: field("access"),
        secret: field("secret"),
        token: field("securitytoken"),
        expires_at: field("expires_at"),
    }
}

fn signed_with_temporary(emu: &EmulatorHandle, creds: &TemporaryCredentials) -> Call {
    Call::cert(emu, demo::PRIVATE_CLUSTER_ID, 30)
        .header("X-Security-Token", creds.token.clone())
        .signed_by(&creds.access, &creds.secret)
}

#[tokio::test]
async fn temporary_credentials_from_the_metadata_service_work() {
    let emu = Emulator::builder().start().await.unwrap();
    let creds = temporary_credentials(&emu).await;
    assert_eq!(creds.expires_at.len(), "2026-11-28T18:00:00.000000Z".len());
    assert!(
        creds.expires_at.ends_with(".000000Z"),
        "{}",
        creds.expires_at
    );
    let response = signed_with_temporary(&emu, &creds).send().await;
    assert_eq!(response.status(), 200);
    let config: cce_autopilot_model::Kubeconfig = response.json().await.unwrap();
    let (cert, _) = common::client_pems(&config);
    let der = common::pem_to_der(&cert);
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
    let cn = parsed
        .subject()
        .iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cn, creds.access);
}

#[tokio::test]
async fn temporary_credentials_need_their_security_token() {
    let emu = Emulator::builder().start().await.unwrap();
    let creds = temporary_credentials(&emu).await;
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 30)
        .signed_by(&creds.access, &creds.secret)
        .send()
        .await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("X-Security-Token"), "{message}");

    let response = signed_with_temporary(&emu, &creds)
        .header("X-Security-Token", "a-wrong-token")
        .send()
        .await;
    expect_error(response, 401, codes::AUTH_FAILED).await;

    // The server hands out the same credentials until they age; rotation gives another set.
    emu.set_faults(
        cce_autopilot_emulator::Faults::none()
            .with_spec("metadata=rotate")
            .unwrap(),
    );
    let other = temporary_credentials(&emu).await;
    assert_ne!(other.access, creds.access);
    let response = signed_with_temporary(&emu, &creds)
        .header("X-Security-Token", other.token.clone())
        .send()
        .await;
    expect_error(response, 401, codes::AUTH_FAILED).await;
}

#[tokio::test]
async fn security_token_must_be_signed() {
    let emu = Emulator::builder().start().await.unwrap();
    let creds = temporary_credentials(&emu).await;
    let response = Call::cert(&emu, demo::PRIVATE_CLUSTER_ID, 30)
        .signed_by(&creds.access, &creds.secret)
        .unsigned_header("X-Security-Token", creds.token.clone())
        .send()
        .await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("SignedHeaders"), "{message}");
}

#[tokio::test]
async fn temporary_credentials_expire() {
    let emu = Emulator::builder()
        .temporary_credentials_ttl(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    let creds = temporary_credentials(&emu).await;
    // Ten minutes later by the emulator's clock; the request is dated by that clock too.
    emu.set_clock_offset_secs(601);
    let response = signed_with_temporary(&emu, &creds)
        .header("X-Sdk-Date", common::sdk_date(601))
        .send()
        .await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test]
async fn security_key_needs_a_valid_metadata_token() {
    let emu = Emulator::builder().start().await.unwrap();
    let response = security_key(&emu, None).await;
    let message = expect_error(response, 401, codes::METADATA_UNAUTHORIZED).await;
    assert!(!message.contains("Please configure Cloud Service Agency first"));
    let response = security_key(&emu, Some("made-up")).await;
    expect_error(response, 401, codes::METADATA_UNAUTHORIZED).await;
}

#[tokio::test]
async fn metadata_token_needs_a_ttl() {
    let emu = Emulator::builder().start().await.unwrap();
    for ttl in [None, Some("0"), Some("21601"), Some("six hours")] {
        let mut request = http_client().put(format!("{}/meta-data/latest/api/token", emu.url()));
        if let Some(ttl) = ttl {
            request = request.header("X-Metadata-Token-Ttl-Seconds", ttl);
        }
        let response = request.send().await.unwrap();
        expect_error(response, 400, codes::METADATA_BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn metadata_tokens_expire() {
    let emu = Emulator::builder().start().await.unwrap();
    let response = http_client()
        .put(format!("{}/meta-data/latest/api/token", emu.url()))
        .header("X-Metadata-Token-Ttl-Seconds", "60")
        .send()
        .await
        .unwrap();
    let token = response.text().await.unwrap();
    assert_eq!(security_key(&emu, Some(&token)).await.status(), 200);
    emu.set_clock_offset_secs(61);
    let response = security_key(&emu, Some(&token)).await;
    expect_error(response, 401, codes::METADATA_UNAUTHORIZED).await;
}

#[tokio::test]
async fn server_without_agency_says_so() {
    let emu = Emulator::builder()
        .metadata_agency(false)
        .start()
        .await
        .unwrap();
    let token = metadata_token(&emu).await;
    let response = security_key(&emu, Some(&token)).await;
    let message = expect_error(response, 401, codes::METADATA_UNAUTHORIZED).await;
    assert_eq!(message, "Please configure Cloud Service Agency first");
}

#[tokio::test]
async fn server_without_token_service_hands_out_credentials_directly() {
    let emu = Emulator::builder()
        .metadata_token_service(false)
        .start()
        .await
        .unwrap();
    let response = http_client()
        .put(format!("{}/meta-data/latest/api/token", emu.url()))
        .header("X-Metadata-Token-Ttl-Seconds", "21600")
        .send()
        .await
        .unwrap();
    expect_error(response, 404, codes::METADATA_NOT_FOUND).await;
    let response = security_key(&emu, None).await;
    assert_eq!(response.status(), 200);
}

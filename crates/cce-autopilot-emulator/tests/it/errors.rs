//! Every refusal of the gateway and the service, with its status and code.

use crate::common;

use cce_autopilot_emulator::{Emulator, EmulatorHandle, codes, demo};
use common::{Call, error_of, expect_error, request_id, sdk_date};

async fn demo_emulator() -> EmulatorHandle {
    Emulator::builder().start().await.expect("emulator starts")
}

const CLUSTER: &str = demo::PRIVATE_CLUSTER_ID;

#[tokio::test]
async fn missing_authentication_is_refused() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30).unsigned().send().await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(
        message.starts_with("Incorrect IAM authentication information: "),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_access_key_is_refused() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30)
        .signed_by("NOSUCHAK", "whatever")
        .send()
        .await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("NOSUCHAK"), "{message}");
}

#[tokio::test]
async fn wrong_secret_key_is_refused() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30)
        .signed_by(emu.access_key(), "not-the-secret")
        .send()
        .await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("verify aksk signature fail"), "{message}");
}

#[tokio::test]
async fn body_changed_after_signing_is_refused() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30)
        .send_body_instead(r#"{"duration": 1827}"#)
        .send()
        .await;
    expect_error(response, 401, codes::AUTH_FAILED).await;
}

#[tokio::test]
async fn signature_covers_the_host_as_received() {
    let emu = demo_emulator().await;
    let local_host = emu.url().trim_start_matches("http://").to_owned();
    // Signed for the real endpoint's host and sent with it: what counts is the Host received.
    let response = Call::cert(&emu, CLUSTER, 30)
        .header("Host", "cce.cn-north-4.myhuaweicloud.com")
        .send()
        .await;
    assert_eq!(response.status(), 200);
    // Signed for one host, received with another (a proxy rewrote it): refused.
    let response = Call::cert(&emu, CLUSTER, 30)
        .header("Host", "cce.cn-north-4.myhuaweicloud.com")
        .after_signing("Host", local_host)
        .send()
        .await;
    expect_error(response, 401, codes::AUTH_FAILED).await;
}

#[tokio::test]
async fn signed_header_missing_from_the_request_is_refused() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30)
        .header("X-Custom", "signed")
        .after_signing("X-Custom", "changed")
        .send()
        .await;
    expect_error(response, 401, codes::AUTH_FAILED).await;
}

#[tokio::test]
async fn malformed_authorization_is_refused() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30)
        .unsigned()
        .header("X-Sdk-Date", sdk_date(0))
        .unsigned_header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await;
    expect_error(response, 401, codes::AUTH_FAILED).await;
}

#[tokio::test]
async fn skewed_client_clock_is_refused_with_a_date_header() {
    let emu = demo_emulator().await;
    for offset in [-16 * 60, 16 * 60] {
        let response = Call::cert(&emu, CLUSTER, 30)
            .header("X-Sdk-Date", sdk_date(offset))
            .send()
            .await;
        let date = response
            .headers()
            .get("date")
            .expect("Date header")
            .to_str()
            .unwrap()
            .to_owned();
        let server_time = httpdate::parse_http_date(&date).expect("RFC 7231 date");
        let drift = server_time
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_else(|e| e.duration());
        assert!(drift.as_secs() < 5, "{date}");
        let message = expect_error(response, 401, codes::AUTH_FAILED).await;
        assert!(message.contains("signature expired"), "{message}");
    }
}

#[tokio::test]
async fn skew_within_fifteen_minutes_is_accepted() {
    let emu = demo_emulator().await;
    for offset in [-14 * 60, 14 * 60] {
        let response = Call::cert(&emu, CLUSTER, 30)
            .header("X-Sdk-Date", sdk_date(offset))
            .send()
            .await;
        assert_eq!(response.status(), 200, "offset {offset}");
    }
}

#[tokio::test]
async fn emulator_clock_offset_simulates_a_client_behind() {
    let emu = Emulator::builder()
        .clock_offset_secs(3600)
        .start()
        .await
        .unwrap();
    let response = Call::cert(&emu, CLUSTER, 30).send().await;
    let date = response
        .headers()
        .get("date")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let server_time = httpdate::parse_http_date(&date).unwrap();
    let ahead = server_time
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!((3590..=3610).contains(&ahead.as_secs()), "{date}");
    expect_error(response, 401, codes::AUTH_FAILED).await;

    emu.set_clock_offset_secs(0);
    let response = Call::cert(&emu, CLUSTER, 30).send().await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn unsigned_sdk_date_is_refused() {
    let emu = demo_emulator().await;
    // SignedHeaders leaves x-sdk-date out, so the date (and the expiry check) would be unprotected.
    let authorization = format!(
        "SDK-HMAC-SHA256 Access={}, SignedHeaders=content-type;host, Signature={}",
        emu.access_key(),
        "0".repeat(64)
    );
    let response = Call::cert(&emu, CLUSTER, 30)
        .unsigned()
        .header("X-Sdk-Date", sdk_date(0))
        .header("Authorization", authorization)
        .send()
        .await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("x-sdk-date"), "{message}");
}

#[tokio::test]
async fn missing_sdk_date_is_refused() {
    let emu = demo_emulator().await;
    let authorization = format!(
        "SDK-HMAC-SHA256 Access={}, SignedHeaders=content-type;host;x-sdk-date, Signature={}",
        emu.access_key(),
        "0".repeat(64)
    );
    let response = Call::cert(&emu, CLUSTER, 30)
        .unsigned()
        .header("Authorization", authorization)
        .send()
        .await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("X-Sdk-Date"), "{message}");
}

#[tokio::test]
async fn v11_signature_for_another_region_is_refused() {
    let emu = demo_emulator().await;
    let signer = cce_autopilot_signing::Signer::new(emu.access_key(), emu.secret_key())
        .with_algorithm(cce_autopilot_signing::Algorithm::V11HmacSha256 {
            region: "ap-southeast-1".to_owned(),
            service: "cce".to_owned(),
        });
    let response = Call::cert(&emu, CLUSTER, 30)
        .with_signer(signer)
        .send()
        .await;
    let message = expect_error(response, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("ap-southeast-1"), "{message}");
}

#[tokio::test]
async fn unknown_token_is_refused() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30)
        .unsigned()
        .header("X-Auth-Token", "not-a-configured-token")
        .send()
        .await;
    let message = expect_error(response, 401, codes::TOKEN_INVALID).await;
    assert_eq!(message, "The token must be updated.");
}

#[tokio::test]
async fn unknown_project_in_the_path_is_forbidden() {
    let emu = demo_emulator().await;
    let response = Call::cert_in(&emu, "ffffffffffffffffffffffffffffffff", CLUSTER)
        .body(r#"{"duration": 30}"#)
        .send()
        .await;
    let message = expect_error(response, 403, codes::PROJECT_FORBIDDEN).await;
    assert!(
        message.contains("ffffffffffffffffffffffffffffffff"),
        "{message}"
    );
}

#[tokio::test]
async fn project_header_differing_from_the_path_is_forbidden() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30)
        .header("X-Project-Id", "ffffffffffffffffffffffffffffffff")
        .send()
        .await;
    let message = expect_error(response, 403, codes::PROJECT_FORBIDDEN).await;
    assert!(message.contains("X-Project-Id"), "{message}");
}

#[tokio::test]
async fn project_header_is_optional() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, CLUSTER, 30)
        .without_header("X-Project-Id")
        .send()
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn unknown_cluster_is_not_found() {
    let emu = demo_emulator().await;
    let response = Call::cert(&emu, "no-such-cluster", 30).send().await;
    let message = expect_error(response, 404, codes::CLUSTER_NOT_FOUND).await;
    assert!(message.contains("no-such-cluster"), "{message}");
}

#[tokio::test]
async fn durations_out_of_range_are_invalid() {
    let emu = demo_emulator().await;
    for duration in [0, -2, 1828, 100_000, i64::MIN] {
        let response = Call::cert(&emu, CLUSTER, duration).send().await;
        expect_error(response, 400, codes::INVALID_REQUEST).await;
    }
    assert_eq!(emu.issued(CLUSTER), 0);
}

#[tokio::test]
async fn bodies_without_an_integer_duration_are_invalid() {
    let emu = demo_emulator().await;
    for body in [
        r#"{"duration": "30"}"#,
        r#"{"duration": 30.5}"#,
        r#"{"duration": null}"#,
        r#"{"duration": true}"#,
        r#"{}"#,
        r#"{"days": 30}"#,
        r#"[{"duration": 30}]"#,
        "30",
    ] {
        let response = Call::cert_in(&emu, emu.project_id(), CLUSTER)
            .body(body)
            .send()
            .await;
        expect_error(response, 400, codes::INVALID_REQUEST).await;
    }
}

#[tokio::test]
async fn malformed_json_is_invalid() {
    let emu = demo_emulator().await;
    for body in [
        r#"{"duration": 30"#,
        "",
        "duration=30",
        "{\"duration\": 3\u{0}0}",
    ] {
        let response = Call::cert_in(&emu, emu.project_id(), CLUSTER)
            .body(body)
            .send()
            .await;
        let message = expect_error(response, 400, codes::INVALID_REQUEST).await;
        assert!(message.contains("JSON"), "{message}");
    }
}

#[tokio::test]
async fn undocumented_content_types_are_refused() {
    let emu = demo_emulator().await;
    for content_type in [
        "text/plain",
        "application/xml",
        "application/json;charset=iso-8859-1",
        "multipart/form-data; boundary=x",
    ] {
        let response = Call::cert(&emu, CLUSTER, 30)
            .header("Content-Type", content_type)
            .send()
            .await;
        expect_error(response, 400, codes::UNSUPPORTED_CONTENT_TYPE).await;
    }
    let response = Call::cert(&emu, CLUSTER, 30)
        .without_header("Content-Type")
        .send()
        .await;
    expect_error(response, 400, codes::UNSUPPORTED_CONTENT_TYPE).await;
}

#[tokio::test]
async fn documented_content_types_are_accepted_in_any_case_and_spacing() {
    let emu = demo_emulator().await;
    for content_type in [
        "application/json",
        "application/json;charset=utf-8",
        "application/json; charset=UTF-8",
        "APPLICATION/JSON ;CHARSET=utf-8",
        "application/x-pem-file",
    ] {
        let response = Call::cert(&emu, CLUSTER, 30)
            .header("Content-Type", content_type)
            .send()
            .await;
        assert_eq!(response.status(), 200, "{content_type}");
    }
}

#[tokio::test]
async fn unknown_routes_get_a_gateway_404_with_a_request_id() {
    let emu = demo_emulator().await;
    for (method, path) in [
        ("GET", "/nowhere"),
        ("GET", "/autopilot/v3/projects/p/clusters/c/clustercert"),
        ("POST", "/api/v3/projects/p/clusters/c/clustercert"),
        ("DELETE", "/v3/projects"),
    ] {
        let response = Call::new(method, format!("{}{path}", emu.url()))
            .send()
            .await;
        expect_error(response, 404, codes::API_NOT_FOUND).await;
    }
}

#[tokio::test]
async fn request_ids_are_fresh_on_every_answer() {
    let emu = demo_emulator().await;
    let a = Call::cert(&emu, CLUSTER, 30).send().await;
    let b = Call::cert(&emu, CLUSTER, 0).send().await;
    let c = Call::new("GET", format!("{}/x", emu.url())).send().await;
    let ids = [request_id(&a), request_id(&b), request_id(&c)];
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    let (_, body) = error_of(b).await;
    assert_eq!(body.request_id.as_deref(), Some(ids[1].as_str()));
    let log = emu.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(
        log.iter().map(|r| r.status).collect::<Vec<_>>(),
        [Some(200), Some(400), Some(404)]
    );
    assert_eq!(log[1].request_id, ids[1]);
}

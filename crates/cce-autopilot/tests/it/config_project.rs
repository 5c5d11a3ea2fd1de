//! The project id through the public API: explicit > environment > profile file > IAM lookup, the signed IAM
//! request (`GET /v3/projects?name=<region>`, no `X-Project-Id`), its process-wide cache, and its errors.
#![allow(missing_docs)]

use crate::config_support;

use cce_autopilot::{Client, ClientBuilder, Credentials, Environment, ErrorKind, RetryConfig};
use cce_autopilot_signing::{SecretKey, SignableRequest, verify};
use config_support::{TempHome, cce_signed_by, fetch};
use serde_json::json;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

const REGION: &str = "cn-north-4";
const IAM_PROJECT: &str = "feedfacefeedfacefeedfacefeedface";

/// Whether `request` carries a valid AK/SK signature by `ak`/`sk`, checked as the gateway would.
fn signed_with(request: &Request, ak: &str, sk: &str) -> bool {
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    let signable = SignableRequest {
        method: request.method.as_str(),
        path: request.url.path(),
        query: &query,
        headers: &headers,
        body: &request.body,
    };
    let key = SecretKey::from(sk);
    verify(&signable, |candidate| (candidate == ak).then_some(&key)).is_ok()
}

/// A request for `REGION`'s projects signed by `ak`/`sk`, without `X-Project-Id`.
fn iam_lookup(ak: &'static str, sk: &'static str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path("/v3/projects"))
        .and(query_param("name", REGION))
        .and(header_exists("x-sdk-date"))
        .and(|request: &Request| !request.headers.contains_key("x-project-id"))
        .and(move |request: &Request| signed_with(request, ak, sk))
}

/// IAM's answer listing `ids` as projects named `REGION`.
fn iam_answer(ids: &[&str]) -> ResponseTemplate {
    let projects: Vec<_> = ids
        .iter()
        .map(|id| json!({"id": id, "name": REGION, "domain_id": "d0", "enabled": true, "is_domain": false}))
        .collect();
    ResponseTemplate::new(200)
        .insert_header("x-iam-trace-id", "trace-42")
        .set_body_json(json!({"projects": projects, "links": {"self": "https://iam/v3/projects"}}))
}

/// IAM's project list for `REGION`, answering only a request signed by `ak`/`sk` without `X-Project-Id`.
fn iam_projects(ak: &'static str, sk: &'static str, ids: &[&str]) -> Mock {
    iam_lookup(ak, sk).respond_with(iam_answer(ids))
}

/// A client for `REGION` without a project id, both endpoints on `server`.
fn looking_up(server: &MockServer, env: Environment) -> ClientBuilder {
    Client::builder()
        .region(REGION)
        .endpoint(server.uri())
        .iam_endpoint(server.uri())
        .environment(env)
        .retry(RetryConfig::disabled())
}

#[tokio::test]
async fn the_project_id_is_looked_up_from_iam_and_used() {
    let server = MockServer::start().await;
    iam_projects("IAMAK1", "iam-secret-1", &[IAM_PROJECT])
        .expect(1)
        .mount(&server)
        .await;
    cce_signed_by(IAM_PROJECT, "IAMAK1", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let client = looking_up(&server, home.env())
        .credentials(Credentials::new("IAMAK1", "iam-secret-1"))
        .build()
        .unwrap();
    fetch(&client).await.unwrap();
    assert_eq!(client.project_id().await.unwrap(), IAM_PROJECT);
}

#[tokio::test]
async fn the_lookup_is_cached_per_access_key_and_region_across_clients() {
    let server = MockServer::start().await;
    iam_projects("IAMAK2", "iam-secret-2", &[IAM_PROJECT])
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    for _ in 0..2 {
        let client = looking_up(&server, home.env())
            .credentials(Credentials::new("IAMAK2", "iam-secret-2"))
            .build()
            .unwrap();
        assert_eq!(client.project_id().await.unwrap(), IAM_PROJECT);
        assert_eq!(client.project_id().await.unwrap(), IAM_PROJECT);
    }
}

#[tokio::test]
async fn another_access_key_asks_iam_again() {
    let server = MockServer::start().await;
    iam_projects("IAMAK3", "iam-secret-3", &[IAM_PROJECT])
        .expect(1)
        .mount(&server)
        .await;
    iam_projects("IAMAK4", "iam-secret-4", &[IAM_PROJECT])
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    for (ak, sk) in [("IAMAK3", "iam-secret-3"), ("IAMAK4", "iam-secret-4")] {
        let client = looking_up(&server, home.env())
            .credentials(Credentials::new(ak, sk))
            .build()
            .unwrap();
        assert_eq!(client.project_id().await.unwrap(), IAM_PROJECT);
    }
}

#[tokio::test]
async fn no_project_for_the_region_is_an_error_with_the_trace_id() {
    let server = MockServer::start().await;
    iam_projects("IAMAK5", "iam-secret-5", &[])
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let client = looking_up(&server, home.env())
        .credentials(Credentials::new("IAMAK5", "iam-secret-5"))
        .build()
        .unwrap();
    let err = fetch(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(
        text.contains("no project named \"cn-north-4\"") && text.contains("trace-42"),
        "{text}"
    );
    assert!(text.contains("project_id"), "says how to fix it: {text}");
}

#[tokio::test]
async fn several_projects_is_an_error_naming_them() {
    let server = MockServer::start().await;
    iam_projects("IAMAK6", "iam-secret-6", &["aaaa", "bbbb"])
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let client = looking_up(&server, home.env())
        .credentials(Credentials::new("IAMAK6", "iam-secret-6"))
        .build()
        .unwrap();
    let err = client.project_id().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(
        text.contains("aaaa, bbbb") && text.contains("trace-42"),
        "{text}"
    );
}

#[tokio::test]
async fn an_iam_error_status_is_a_service_error_with_its_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/projects"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-iam-trace-id", "trace-403")
                .set_body_json(json!({"error": {"code": "IAM.0002", "message": "Forbidden", "title": "Forbidden"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let client = looking_up(&server, home.env())
        .credentials(Credentials::new("IAMAK7", "iam-secret-7"))
        .build()
        .unwrap();
    let err = fetch(&client).await.unwrap_err();
    let service = err.as_service().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(service.status(), 403);
    assert_eq!(service.code(), Some("IAM.0002"));
    assert_eq!(service.message(), Some("Forbidden"));
    assert_eq!(service.request_id(), Some("trace-403"));
}

#[tokio::test]
async fn explicit_project_wins_over_environment_and_profile_and_iam() {
    let server = MockServer::start().await;
    Mock::given(path("/v3/projects"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let home = TempHome::new();
    home.write_profile("[basic]\nak = PROFAK\nsk = profile-secret\nproject_id = from-profile\n");
    let env = home.env().var("HUAWEICLOUD_SDK_PROJECT_ID", "from-env");
    let client = looking_up(&server, env.clone())
        .project_id("explicit")
        .build()
        .unwrap();
    assert_eq!(client.project_id().await.unwrap(), "explicit");
    let client = looking_up(&server, env).build().unwrap();
    assert_eq!(client.project_id().await.unwrap(), "from-env");
    let client = looking_up(&server, home.env()).build().unwrap();
    assert_eq!(client.project_id().await.unwrap(), "from-profile");
}

#[tokio::test]
async fn the_profile_iam_endpoint_is_used_for_the_lookup() {
    let server = MockServer::start().await;
    iam_projects("PROFIAMAK", "profile-secret", &[IAM_PROJECT])
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    home.write_profile(&format!(
        "[basic]\nak = PROFIAMAK\nsk = profile-secret\niam_endpoint = {}\n",
        server.uri()
    ));
    // The environment's IAM endpoint comes after the profile's: pointing it elsewhere changes nothing.
    let env = home
        .env()
        .var("HUAWEICLOUD_SDK_IAM_ENDPOINT", "http://127.0.0.1:9");
    let client = Client::builder()
        .region(REGION)
        .endpoint(server.uri())
        .environment(env)
        .build()
        .unwrap();
    assert_eq!(client.project_id().await.unwrap(), IAM_PROJECT);
}

#[tokio::test]
async fn the_environment_iam_endpoint_is_used_for_the_lookup() {
    let server = MockServer::start().await;
    iam_projects("ENVIAMAK", "env-secret", &[IAM_PROJECT])
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let env = home
        .env()
        .var("HUAWEICLOUD_SDK_AK", "ENVIAMAK")
        .var("HUAWEICLOUD_SDK_SK", "env-secret")
        .var("HUAWEICLOUD_SDK_IAM_ENDPOINT", server.uri());
    let client = Client::builder()
        .region(REGION)
        .endpoint(server.uri())
        .environment(env)
        .build()
        .unwrap();
    assert_eq!(client.project_id().await.unwrap(), IAM_PROJECT);
}

#[tokio::test]
async fn temporary_credentials_sign_the_lookup_with_their_security_token() {
    let server = MockServer::start().await;
    iam_lookup("TEMPAK", "temp-secret")
        .and(header("x-security-token", "TEMP-TOKEN"))
        .respond_with(iam_answer(&[IAM_PROJECT]))
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let client = looking_up(&server, home.env())
        .credentials(Credentials::new("TEMPAK", "temp-secret").with_security_token("TEMP-TOKEN"))
        .build()
        .unwrap();
    assert_eq!(client.project_id().await.unwrap(), IAM_PROJECT);
}

/// A client without a project id still builds (`caller_identity` needs none); a call that needs one fails
/// before anything is sent.
async fn first_project_call(builder: cce_autopilot::ClientBuilder) -> cce_autopilot::Error {
    let client = builder
        .build()
        .expect("a client without a project id builds");
    client
        .cluster_cert("3f0c9a1e-2b4d-4c6e-8f10-123456789abc")
        .duration(cce_autopilot::CertDuration::days(1).unwrap())
        .send()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn token_authentication_without_a_project_id_is_a_config_error() {
    let home = TempHome::new();
    let err = first_project_call(
        Client::builder()
            .endpoint("http://127.0.0.1:9")
            .region(REGION)
            .token("iam-token")
            .environment(home.env()),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("token"), "{err}");
    assert!(!err.to_string().contains("iam-token"), "{err}");
}

#[tokio::test]
async fn no_region_and_no_project_id_is_a_config_error() {
    let home = TempHome::new();
    let err = first_project_call(
        Client::builder()
            .endpoint("http://127.0.0.1:9")
            .credentials(Credentials::new("AK", "SK"))
            .environment(home.env()),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(
        text.contains("project id") && text.contains("region"),
        "{text}"
    );
}

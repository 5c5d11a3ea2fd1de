//! Retries, backoff bounds, Retry-After, clock-skew recovery, token authentication and proxies, on the wire.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cce_autopilot::{
    CertDuration, Client, ClientBuilder, Credentials, Environment, Error, RetryConfig,
};
use cce_autopilot_signing::parse_sdk_date;
use serde_json::json;
use wiremock::matchers::{header, header_exists, method};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const PROJECT: &str = "0123456789abcdef0123456789abcdef";

fn ok_body() -> serde_json::Value {
    json!({"kind": "Config", "apiVersion": "v1", "clusters": [], "users": [], "contexts": []})
}

fn builder(endpoint: &str) -> ClientBuilder {
    Client::builder()
        .environment(Environment::empty())
        .endpoint(endpoint)
        .project_id(PROJECT)
        .credentials(Credentials::new("AK", "SK-secret-value"))
}

fn fast_retries(attempts: u32) -> RetryConfig {
    RetryConfig::default()
        .with_max_attempts(attempts)
        .with_base_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(20))
}

async fn call(client: &Client) -> Result<cce_autopilot::ClusterCert, Error> {
    client
        .cluster_cert("c1")
        .duration(CertDuration::days(1).unwrap())
        .send()
        .await
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

#[tokio::test]
async fn throttling_and_unavailability_are_retried_until_success() {
    let server = MockServer::start().await;
    for status in [429, 503, 502] {
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry(fast_retries(4))
        .build()
        .unwrap();
    call(&client).await.expect("success on the fourth attempt");
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 4);
    let dates: Vec<_> = seen
        .iter()
        .map(|r| r.headers.get_all("x-sdk-date").iter().count())
        .collect();
    assert_eq!(
        dates,
        [1, 1, 1, 1],
        "each attempt carries one, replaced, X-Sdk-Date"
    );
}

#[tokio::test]
async fn retries_stop_at_max_attempts_with_the_last_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(json!({"error_code": "APIGW.0503", "error_msg": "busy"})),
        )
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let err = call(&client).await.unwrap_err();
    assert_eq!(requests(&server).await.len(), 3);
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.as_service().unwrap().attempts(), 3);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error_code": "CCE.01400001", "error_msg": "bad"})),
        )
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry(fast_retries(5))
        .build()
        .unwrap();
    call(&client).await.unwrap_err();
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .mount(&server)
        .await;
    let retry = fast_retries(2).with_max_delay(Duration::from_secs(5));
    let client = builder(&server.uri()).retry(retry).build().unwrap();
    let started = Instant::now();
    call(&client).await.expect("success after waiting");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_time_budget_bounds_the_whole_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "3"))
        .mount(&server)
        .await;
    let retry = fast_retries(10)
        .with_max_delay(Duration::from_secs(5))
        .with_max_elapsed(Duration::from_millis(500));
    let client = builder(&server.uri()).retry(retry).build().unwrap();
    let started = Instant::now();
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        requests(&server).await.len(),
        1,
        "a 3 s wait does not fit a 0.5 s budget"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = builder(&format!("http://127.0.0.1:{port}"))
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let err = call(&client).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("3 attempt(s)"), "{err}");
    assert!(err.is_retryable());
}

/// Answers like the gateway: 401 with its Date header unless X-Sdk-Date is within 15 minutes of its clock.
struct GatewayClock {
    skew: i64,
    fresh: bool,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Match for GatewayClock {
    fn matches(&self, request: &Request) -> bool {
        let date = request
            .headers
            .get("x-sdk-date")
            .and_then(|v| v.to_str().ok());
        let within = date
            .and_then(|d| parse_sdk_date(d).ok())
            .is_some_and(|t| (t - (unix_now() + self.skew)).abs() <= 15 * 60);
        within == self.fresh
    }
}

#[tokio::test]
async fn clock_skew_is_corrected_once_and_remembered() {
    let skew = 3600; // the gateway's clock is an hour ahead of ours
    let server = MockServer::start().await;
    let server_date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(skew as u64));
    Mock::given(method("POST"))
        .and(GatewayClock { skew, fresh: false })
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("Date", server_date.as_str())
                .set_body_json(json!({"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: signature expired"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(GatewayClock { skew, fresh: true })
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    call(&client)
        .await
        .expect("re-signed with the gateway's time");
    assert_eq!(requests(&server).await.len(), 2);
    call(&client).await.expect("the offset is kept");
    assert_eq!(
        requests(&server).await.len(),
        3,
        "no second 401 for the next call"
    );
}

#[tokio::test]
async fn a_401_without_skew_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("Date", httpdate::fmt_http_date(SystemTime::now()).as_str())
                .set_body_json(
                    json!({"error_code": "APIGW.0301", "error_msg": "verify aksk signature fail"}),
                ),
        )
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.code(), Some("APIGW.0301"));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn token_authentication_replaces_the_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-auth-token", "MIIT-token-value"))
        .and(header("x-project-id", PROJECT))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .project_id(PROJECT)
        .token("MIIT-token-value")
        .build()
        .unwrap();
    call(&client).await.expect("token accepted");
    let req = &requests(&server).await[0];
    assert!(req.headers.get("authorization").is_none());
    assert!(req.headers.get("x-sdk-date").is_none());
    assert!(!format!("{client:?}").contains("MIIT-token-value"));
}

#[tokio::test]
async fn http_proxy_from_the_environment_is_used() {
    let proxy = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .expect(1)
        .mount(&proxy)
        .await;
    // The target host is never resolved: the client hands the whole URL to the proxy on loopback.
    let client = Client::builder()
        .environment(Environment::empty().var("HTTP_PROXY", proxy.uri()))
        .endpoint("http://cce.example.invalid")
        .project_id(PROJECT)
        .credentials(Credentials::new("AK", "SK"))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    call(&client).await.expect("through the proxy");
    let req = &requests(&proxy).await[0];
    assert_eq!(
        req.headers.get("host").unwrap(),
        "cce.example.invalid",
        "signed for the target, not the proxy"
    );
}

#[tokio::test]
async fn no_proxy_bypasses_the_proxy() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .expect(1)
        .mount(&server)
        .await;
    let dead_proxy = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    let client = Client::builder()
        .environment(
            Environment::empty()
                .var("HTTP_PROXY", dead_proxy)
                .var("NO_PROXY", "127.0.0.1,localhost"),
        )
        .endpoint(server.uri())
        .project_id(PROJECT)
        .credentials(Credentials::new("AK", "SK"))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    call(&client)
        .await
        .expect("direct, not through the dead proxy");
}

#[tokio::test]
async fn concurrent_calls_share_one_client() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let done = Arc::new(AtomicI64::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, done) = (client.clone(), done.clone());
            tokio::spawn(async move {
                call(&client).await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), 8);
}

#[tokio::test]
async fn secrets_never_reach_debug_or_display() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"error_code": "APIGW.0302", "error_msg": "denied"})),
        )
        .mount(&server)
        .await;
    let credentials =
        Credentials::new("AK", "SK-secret-value").with_security_token("SECURITY-TOKEN-value");
    let builder = Client::builder()
        .environment(Environment::empty().var("HUAWEICLOUD_SDK_SK", "SK-secret-value"))
        .endpoint(server.uri())
        .project_id(PROJECT)
        .credentials(credentials.clone());
    let builder_debug = format!("{builder:?}");
    let client = builder.retry(RetryConfig::disabled()).build().unwrap();
    let err = call(&client).await.unwrap_err();
    let everything = format!("{builder_debug} {client:?} {credentials:?} {err:?} {err}");
    for secret in ["SK-secret-value", "SECURITY-TOKEN-value"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    // The security token is sent, signed.
    let req = &requests(&server).await[0];
    assert_eq!(
        req.headers.get("x-security-token").unwrap(),
        "SECURITY-TOKEN-value"
    );
    let auth = req.headers.get("authorization").unwrap().to_str().unwrap();
    assert!(auth.contains("x-security-token"), "{auth}");
}

#[tokio::test]
async fn credentials_that_cannot_sign_are_refused_before_any_request() {
    let server = MockServer::start().await;
    let bad_ak = Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .project_id(PROJECT)
        .credentials(Credentials::new("AK with spaces", "SK"))
        .build()
        .unwrap();
    let err = call(&bad_ak).await.unwrap_err();
    assert!(matches!(err, Error::Credentials { .. }), "{err:?}");
    let bad_token = Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .project_id(PROJECT)
        .credentials(Credentials::new("AK", "SK").with_security_token("line\nbreak"))
        .build()
        .unwrap();
    let err = call(&bad_token).await.unwrap_err();
    assert!(matches!(err, Error::Credentials { .. }), "{err:?}");
    let err = Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .project_id(PROJECT)
        .token("tok\r\nen")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Credentials { .. }), "{err:?}");
    assert!(requests(&server).await.is_empty(), "nothing was sent");
}

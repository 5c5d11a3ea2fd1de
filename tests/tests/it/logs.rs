//! No secret ever reaches the logs, at the most verbose level (the binary's one subscriber,
//! [`crate::log_capture`], sees every event of the process).

use cce_autopilot::{CertDuration, Client, Credentials, Environment, RetryConfig};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn trace_logs_never_contain_secrets() {
    crate::log_capture::install();

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"kind": "Config", "clusters": [], "users": [], "contexts": []}),
        ))
        .mount(&server)
        .await;
    let retry = RetryConfig::default().with_base_delay(std::time::Duration::from_millis(1));
    let signed = Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .project_id("0123456789abcdef0123456789abcdef")
        .credentials(
            Credentials::new("AK", "SK-never-logged").with_security_token("TOKEN-never-logged"),
        )
        .retry(retry.clone())
        .build()
        .unwrap();
    let with_token = Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .project_id("0123456789abcdef0123456789abcdef")
        .token("X-AUTH-TOKEN-never-logged")
        .retry(retry)
        .build()
        .unwrap();
    for client in [&signed, &with_token] {
        client
            .cluster_cert("c")
            .duration(CertDuration::days(1).unwrap())
            .send()
            .await
            .unwrap();
    }

    let logs = crate::log_capture::logs();
    assert!(
        logs.contains("attempt finished") && logs.contains("retrying"),
        "tracing is on: {logs}"
    );
    for secret in [
        "SK-never-logged",
        "TOKEN-never-logged",
        "X-AUTH-TOKEN-never-logged",
    ] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
}

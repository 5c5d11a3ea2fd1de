//! Fleets on the wire: IAM's project list (`GET /v3/auth/projects`, signed, no `X-Project-Id`), clients per
//! project that share one back-off, and what the list may not make us do.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cce_autopilot::{CertDuration, Client, Credentials, Environment, ErrorKind, RetryConfig};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn client(server: &MockServer) -> Client {
    Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .iam_endpoint(server.uri())
        .project_id("0123456789abcdef0123456789abcdef")
        .credentials(Credentials::new("AK", "SK-secret-value"))
        .retry(RetryConfig::default().with_max_delay(Duration::from_secs(2)))
        .build()
        .unwrap()
}

fn kubeconfig() -> serde_json::Value {
    json!({"kind": "Config", "apiVersion": "v1", "clusters": [], "users": [], "contexts": []})
}

#[tokio::test]
async fn the_project_list_is_signed_without_a_project_and_unusable_ids_are_left_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/auth/projects"))
        .and(|r: &Request| {
            r.headers.contains_key("authorization") && !r.headers.contains_key("x-project-id")
        })
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"projects": [
            {"id": "aaaa", "name": "cn-north-4", "enabled": true},
            {"id": "bbbb", "name": "cn-north-4_dev", "enabled": false},
            {"id": "../escape", "name": "cn-north-4_evil", "enabled": true},
            {"id": "cccc", "name": "MOS"}
        ], "links": {}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let projects = client(&server).projects().await.unwrap();
    let seen: Vec<(&str, &str, bool)> = projects
        .iter()
        .map(|p| (p.id.as_str(), p.region(), p.enabled))
        .collect();
    assert_eq!(
        seen,
        [
            ("aaaa", "cn-north-4", true),
            ("bbbb", "cn-north-4", false),
            ("cccc", "MOS", true)
        ]
    );
}

#[tokio::test]
async fn a_client_per_project_calls_that_project_and_refuses_an_id_that_is_no_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/autopilot/v3/projects/feed/clusters/c1/clustercert"))
        .and(|r: &Request| r.headers.get("x-project-id").is_some_and(|v| v == "feed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(kubeconfig()))
        .expect(1)
        .mount(&server)
        .await;
    let base = client(&server);
    let in_feed = base.in_project("cn-north-4", "feed").unwrap();
    assert_eq!(in_feed.project_id().await.unwrap(), "feed");
    in_feed
        .cluster_cert("c1")
        .duration(CertDuration::days(1).unwrap())
        .send()
        .await
        .unwrap();
    let err = base.in_project("cn-north-4", "../x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    // Without a configured endpoint, the region must be one the client can reach.
    let regional = Client::builder()
        .environment(Environment::empty())
        .region("cn-north-4")
        .project_id("p")
        .credentials(Credentials::new("AK", "SK"))
        .build()
        .unwrap();
    let err = regional.in_project("xx-nowhere-1", "feed").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    let other = regional.in_project("ap-southeast-1", "feed").unwrap();
    assert!(
        other.endpoint().contains("ap-southeast-1"),
        "{}",
        other.endpoint()
    );
}

/// Answers 429 + `Retry-After: 1` to the first call, 200 to the others, noting when each arrived.
struct ThrottleFirst {
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl Respond for ThrottleFirst {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut arrivals = self.arrivals.lock().unwrap();
        arrivals.push(Instant::now());
        if arrivals.len() == 1 {
            ResponseTemplate::new(429).insert_header("retry-after", "1")
        } else {
            ResponseTemplate::new(200).set_body_json(kubeconfig())
        }
    }
}

#[tokio::test]
async fn one_throttled_call_holds_every_client_of_the_fleet() {
    let server = MockServer::start().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .respond_with(ThrottleFirst {
            arrivals: arrivals.clone(),
        })
        .mount(&server)
        .await;
    let base = client(&server);
    let (a, b) = (
        base.in_project("r", "pa").unwrap(),
        base.in_project("r", "pb").unwrap(),
    );
    let call = |c: Client| async move {
        c.cluster_cert("c1")
            .duration(CertDuration::days(1).unwrap())
            .send()
            .await
    };
    // The first call is refused; the second, from another project's client, starts after the refusal.
    let first = tokio::spawn(call(a));
    while arrivals.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = call(b).await;
    assert!(second.is_ok() && first.await.unwrap().is_ok());
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(
        arrivals.len(),
        3,
        "the refused call, its retry, the other project's call"
    );
    // Neither the retry nor the other client's call went out before the pause was over.
    for later in &arrivals[1..] {
        assert!(
            later.duration_since(arrivals[0]) >= Duration::from_millis(900),
            "{:?}",
            later.duration_since(arrivals[0])
        );
    }
    let throttling = base.throttling();
    assert_eq!(throttling.throttled_answers, 1);
    assert!(
        throttling.paused >= Duration::from_millis(900),
        "{throttling:?}"
    );
}

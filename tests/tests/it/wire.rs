//! The wire contract, pinned with wiremock and insta: the exact request the client sends, and how every kind
//! of answer becomes a value or an error.

use cce_autopilot::{CertDuration, Client, Credentials, Environment, Error, RetryConfig};
use cce_autopilot_signing::{SecretKey, SignableRequest, verify};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const AK: &str = "HPUAEXAMPLEAK00000001";
const SK: &str = "exampleSecretKey0000000000000000000000000";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const CLUSTER: &str = "3f0c9a1e-2b4d-4c6e-8f10-123456789abc";
const CERT_PATH: &str = "/autopilot/v3/projects/0123456789abcdef0123456789abcdef/clusters/3f0c9a1e-2b4d-4c6e-8f10-123456789abc/clustercert";

fn kubeconfig_json() -> Value {
    json!({
        "kind": "Config", "apiVersion": "v1", "preferences": {},
        "clusters": [{"name": "internalCluster", "cluster": {"server": "https://192.168.1.7:5443",
                      "certificate-authority-data": "Q0EtUEVN"}}],
        "users": [{"name": "user", "user": {"client-certificate-data": "Q0VSVC1QRU0=",
                   "client-key-data": "S0VZLVBFTQ=="}}],
        "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user"}}],
        "current-context": "internal"
    })
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .project_id(PROJECT)
        .credentials(Credentials::new(AK, SK))
        .retry(RetryConfig::disabled())
        .build()
        .expect("client")
}

async fn fetch(server: &MockServer) -> Result<cce_autopilot::ClusterCert, Error> {
    client(server)
        .cluster_cert(CLUSTER)
        .duration(CertDuration::days(30).unwrap())
        .send()
        .await
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The request as sent, with the two values that change every second (date and signature) masked.
fn request_snapshot(req: &Request, port: u16) -> Value {
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| {
            let value = v.to_str().unwrap_or("<binary>").to_owned();
            let value = match k.as_str() {
                "x-sdk-date" => "<YYYYMMDDTHHMMSSZ>".to_owned(),
                "authorization" => value
                    .rsplit_once("Signature=")
                    .map(|(head, _)| format!("{head}Signature=<64 hex>"))
                    .unwrap_or(value),
                "host" => value.replace(&port.to_string(), "<port>"),
                _ => value,
            };
            (k.to_string(), value)
        })
        .collect();
    headers.sort();
    json!({
        "method": req.method.as_str(),
        "path": req.url.path(),
        "query": req.url.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(&req.body),
    })
}

#[tokio::test]
async fn the_request_on_the_wire_is_exactly_the_documented_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CERT_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(kubeconfig_json()))
        .expect(1)
        .mount(&server)
        .await;
    fetch(&server).await.expect("200");

    let requests = server.received_requests().await.unwrap();
    let req = &requests[0];
    assert_eq!(req.body, br#"{"duration":30}"#);
    assert_eq!(
        header(req, "content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(header(req, "x-project-id").as_deref(), Some(PROJECT));
    assert!(
        header(req, "api-version").is_none(),
        "progenitor's api-version header is not sent"
    );
    assert!(
        !req.url.path().ends_with('/'),
        "the canonical trailing slash stays off the wire"
    );
    insta::assert_json_snapshot!(
        "request_as_sent",
        request_snapshot(req, server.address().port())
    );

    // The signature verifies over exactly what arrived.
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    let sk = SecretKey::from(SK);
    let verified = verify(
        &SignableRequest {
            method: "POST",
            path: req.url.path(),
            query: &[],
            headers: &headers,
            body: &req.body,
        },
        |ak| (ak == AK).then_some(&sk),
    )
    .expect("the signature verifies");
    assert_eq!(
        verified.signed_headers,
        ["content-type", "host", "x-project-id", "x-sdk-date"]
    );
}

#[tokio::test]
async fn ids_are_percent_escaped_in_the_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(kubeconfig_json()))
        .mount(&server)
        .await;
    client(&server)
        .cluster_cert("ünï:1")
        .duration(CertDuration::MAX)
        .send()
        .await
        .expect("200");
    let req = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        req.url.path(),
        format!("/autopilot/v3/projects/{PROJECT}/clusters/%C3%BCn%C3%AF:1/clustercert")
    );
    assert_eq!(req.body, br#"{"duration":-1}"#);
}

#[tokio::test]
async fn a_200_is_parsed_with_port_id_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Port-ID", "8a3b7c4e-port")
                .insert_header("X-Request-Id", "req-0001")
                .set_body_json(kubeconfig_json()),
        )
        .mount(&server)
        .await;
    let cert = fetch(&server).await.expect("200");
    assert_eq!(cert.port_id.as_deref(), Some("8a3b7c4e-port"));
    assert_eq!(cert.request_id.as_deref(), Some("req-0001"));
    // Every field of the document survives; `preferences` (always empty) is the one dropped.
    let mut expected = kubeconfig_json();
    expected.as_object_mut().unwrap().remove("preferences");
    assert_eq!(serde_json::to_value(&cert.kubeconfig).unwrap(), expected);
    let debug = format!("{cert:?}");
    assert!(
        !debug.contains("S0VZLVBFTQ=="),
        "the client key never shows in Debug"
    );
    insta::assert_debug_snapshot!("parsed_response", cert);
}

async fn error_for(template: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    fetch(&server).await.expect_err("an error status")
}

#[tokio::test]
async fn every_error_shape_keeps_status_code_message_and_request_id() {
    let shapes = [
        (
            401,
            json!({"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: verify aksk signature fail", "request_id": "body-rid"}),
        ),
        (
            400,
            json!({"errorCode": "CCE.01400001", "errorMessage": "Invalid request body"}),
        ),
        (
            404,
            json!({"code": "CCE.01404001", "message": "Cluster not found"}),
        ),
        (
            403,
            json!({"error": {"code": "IAM.0002", "message": "Policy doesn't allow cce:cluster:get", "encoded_authorization_message": "enc-123"}}),
        ),
        (
            500,
            json!({"error_code": "CCE.01500001", "error_msg": "Internal server error", "extra": [1]}),
        ),
    ];
    let mut rendered = Vec::new();
    for (status, body) in shapes {
        let err = error_for(
            ResponseTemplate::new(status)
                .insert_header("X-Request-Id", format!("hdr-rid-{status}"))
                .set_body_json(body),
        )
        .await;
        assert_eq!(err.status(), Some(status));
        assert!(err.code().is_some(), "{err}");
        assert!(err.message().is_some(), "{err}");
        assert_eq!(
            err.request_id(),
            Some(format!("hdr-rid-{status}").as_str()),
            "the header wins"
        );
        rendered.push(json!({ "display": err.to_string(), "service": format!("{:?}", err.as_service().unwrap()) }));
    }
    insta::assert_json_snapshot!("error_values", rendered);
}

#[tokio::test]
async fn the_bodys_request_id_is_used_without_the_header() {
    let err = error_for(ResponseTemplate::new(401).set_body_json(
        json!({"error_code": "APIGW.0301", "error_msg": "x", "request_id": "body-rid"}),
    ))
    .await;
    assert_eq!(err.request_id(), Some("body-rid"));
}

#[tokio::test]
async fn an_html_502_keeps_its_status_and_an_excerpt() {
    let err = error_for(
        ResponseTemplate::new(502)
            .insert_header("X-Request-Id", "gw-502")
            .set_body_raw(
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
                "text/html",
            ),
    )
    .await;
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.request_id(), Some("gw-502"));
    let service = err.as_service().expect("a service error");
    assert!(service.body_excerpt().unwrap().contains("502 Bad Gateway"));
    assert!(err.is_retryable());
    insta::assert_snapshot!("html_502", err.to_string());
}

#[tokio::test]
async fn a_200_that_is_not_a_kubeconfig_is_a_decode_error_that_quotes_nothing_of_it() {
    let err = error_for(
        ResponseTemplate::new(200)
            .insert_header("X-Request-Id", "odd-200")
            .set_body_raw("<html>maintenance</html>", "text/html"),
    )
    .await;
    match &err {
        Error::Decode {
            status,
            request_id,
            reason,
        } => {
            assert_eq!(*status, 200);
            assert_eq!(request_id.as_deref(), Some("odd-200"));
            assert!(reason.contains("line 1, column 1"), "{reason}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("maintenance"),
        "a 2xx body is never quoted: {shown}"
    );
    insta::assert_snapshot!("decode_error", err.to_string());
}

#[tokio::test]
async fn invalid_input_is_rejected_before_any_request() {
    let server = MockServer::start().await;
    let client = client(&server);
    let no_duration = client.cluster_cert(CLUSTER).send().await.unwrap_err();
    assert!(
        matches!(
            no_duration,
            Error::InvalidInput {
                what: "duration",
                ..
            }
        ),
        "{no_duration}"
    );
    for bad in ["", "a/b", " x"] {
        let err = client
            .cluster_cert(bad)
            .duration(CertDuration::MAX)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    what: "cluster id",
                    ..
                }
            ),
            "{err}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// One cluster as the service shows it, with fields this client does not type.
fn cluster_json(name: &str, id: &str) -> Value {
    json!({
        "kind": "Cluster", "apiVersion": "v3",
        "metadata": {"name": name, "uid": id, "alias": name,
                     "creationTimestamp": "2026-11-28 12:00:00.000000 +0000 UTC"},
        "spec": {"type": "VirtualMachine", "flavor": "cce.autopilot.cluster", "version": "v1.31",
                 "platformVersion": "cce.1.0", "hostNetwork": {"vpc": "vpc-1", "subnet": "subnet-1"},
                 "containerNetwork": {"mode": "eni"}, "eniNetwork": {"subnets": [{"subnetID": "s-1"}]}},
        "status": {"phase": "Available", "jobID": "job-1",
                   "endpoints": [{"url": "https://192.168.0.10:5443", "type": "Internal"},
                                 {"url": "https://1.2.3.4:5443", "type": "External"}]}
    })
}

const CLUSTERS_PATH: &str = "/autopilot/v3/projects/0123456789abcdef0123456789abcdef/clusters";

#[tokio::test]
async fn the_list_request_and_its_parsed_answer_are_pinned() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(CLUSTERS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "List", "apiVersion": "v3",
            "items": [cluster_json("prod", CLUSTER), cluster_json("staging", "7b2e4d6a")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let clusters = client(&server)
        .clusters()
        .status(cce_autopilot::ClusterPhase::Available)
        .version("v1.31")
        .send()
        .await
        .expect("200");
    let requests = server.received_requests().await.unwrap();
    let req = &requests[0];
    assert_eq!(req.url.query(), Some("status=Available&version=v1.31"));
    assert!(req.body.is_empty(), "no body on a GET");
    insta::assert_json_snapshot!(
        "list_request_as_sent",
        request_snapshot(req, server.address().port())
    );
    let typed: Vec<Value> = clusters
        .iter()
        .map(|c| {
            json!({
                "id": c.id, "name": c.name, "alias": c.alias, "phase": c.phase.to_string(),
                "version": c.version,
                "endpoints": c.endpoints.iter().map(|e| json!({"url": e.url, "access": e.access.map(|a| a.to_string())})).collect::<Vec<_>>(),
                "kept": c.details.spec.extra.keys().collect::<Vec<_>>(),
            })
        })
        .collect();
    insta::assert_json_snapshot!("list_parsed", typed);
}

#[tokio::test]
async fn the_show_request_and_its_parsed_answer_are_pinned() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{CLUSTERS_PATH}/{CLUSTER}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(cluster_json("prod", CLUSTER)))
        .expect(1)
        .mount(&server)
        .await;
    let cluster = client(&server).cluster(CLUSTER).send().await.expect("200");
    let requests = server.received_requests().await.unwrap();
    insta::assert_json_snapshot!(
        "show_request_as_sent",
        request_snapshot(&requests[0], server.address().port())
    );
    assert_eq!(cluster.name, "prod");
    assert_eq!(
        serde_json::to_value(&cluster.details).unwrap(),
        cluster_json("prod", CLUSTER),
        "the whole answer is kept"
    );
}

#[tokio::test]
async fn an_unknown_cluster_is_the_service_404_with_its_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("X-Request-Id", "rid-404")
                .set_body_json(
                    json!({"error_code": "CCE.01404001", "error_msg": "cluster not found"}),
                ),
        )
        .mount(&server)
        .await;
    let err = client(&server).cluster("nope").send().await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("CCE.01404001"));
    assert_eq!(err.request_id(), Some("rid-404"));
}

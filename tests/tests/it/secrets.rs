//! Answers with secrets planted in them, at random: no error's `Display` or `Debug`, and no log line at
//! the most verbose level, ever shows one — whatever the status, the body's shape, and whether the answer
//! came to the certificate call, the IAM project lookup or the ECS metadata service.
//!
//! The binary's one subscriber ([`crate::log_capture`]) sees every event of the process.

use std::sync::LazyLock;

use base64::Engine as _;
use cce_autopilot::{CertDuration, Client, Credentials, Environment, RetryConfig};
use proptest::prelude::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::log_capture::logs;

/// Where a secret stands in a body: the shapes an error answer (or a broken success) takes.
#[derive(Clone, Debug)]
enum Shape {
    /// A kubeconfig-like JSON whose `client-key-data` holds the secret, broken so that it does not decode.
    BrokenKubeconfig,
    /// A JSON error object whose message quotes the secret after `sk=`.
    ErrorMessage,
    /// An HTML page with the secret after `token:`.
    Html,
    /// Plain text echoing a request's `Authorization` header.
    EchoedAuthorization,
    /// A PEM private key in plain text.
    Pem,
    /// The secret alone, as a 40-character secret key.
    Bare,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::BrokenKubeconfig),
        Just(Shape::ErrorMessage),
        Just(Shape::Html),
        Just(Shape::EchoedAuthorization),
        Just(Shape::Pem),
        Just(Shape::Bare),
    ]
}

/// A secret and the body it is planted in.
fn body(shape: &Shape, secret: &str, filler: &str) -> (String, &'static str) {
    match shape {
        Shape::BrokenKubeconfig => (
            format!(
                r#"{{"kind":"Config","users":[{{"name":"user","user":{{"client-key-data":"{secret}","client-certificate-data":7}}}}],"x":"{filler}"}}"#
            ),
            "application/json",
        ),
        Shape::ErrorMessage => (
            format!(
                r#"{{"error_code":"APIGW.0301","error_msg":"{filler} verify failed for sk={secret}"}}"#
            ),
            "application/json",
        ),
        Shape::Html => (
            format!("<html><body><h1>{filler}</h1><p>token: {secret}</p></body></html>"),
            "text/html",
        ),
        Shape::EchoedAuthorization => (
            format!(
                "{filler}\nAuthorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature={secret}\n"
            ),
            "text/plain",
        ),
        Shape::Pem => (
            format!("{filler}\n-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n"),
            "text/plain",
        ),
        Shape::Bare => (format!("{filler} {secret} {filler}"), "text/plain"),
    }
}

/// A secret of the kind that shape carries: short values after a telling name, long opaque ones anywhere.
fn secret(shape: &Shape, bytes: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    match shape {
        Shape::Bare => b64
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .chain("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH".chars())
            .take(40)
            .collect(),
        Shape::ErrorMessage | Shape::Html | Shape::EchoedAuthorization => {
            b64.chars()
                .filter(char::is_ascii_alphanumeric)
                .take(12)
                .collect::<String>()
                + "Zq7"
        }
        Shape::BrokenKubeconfig | Shape::Pem => b64,
    }
}

/// Which call meets the answer.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Certificate,
    ProjectLookup,
    Metadata,
}

fn caller() -> impl Strategy<Value = Caller> {
    prop_oneof![
        Just(Caller::Certificate),
        Just(Caller::ProjectLookup),
        Just(Caller::Metadata)
    ]
}

/// The error the call ends with; `None` when the answer is a success after all (a 2xx JSON object is a
/// kubeconfig with unknown fields).
async fn run(
    caller: Caller,
    status: u16,
    body: String,
    content_type: &str,
) -> Option<cce_autopilot::Error> {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(status)
        .insert_header("X-Request-Id", "req-1")
        .set_body_raw(body, content_type);
    let fast = RetryConfig::default()
        .with_max_attempts(2)
        .with_base_delay(std::time::Duration::from_millis(1))
        .with_max_delay(std::time::Duration::from_millis(2));
    let builder = Client::builder()
        .environment(Environment::empty())
        .endpoint(server.uri())
        .retry(fast);
    let client = match caller {
        Caller::Certificate => {
            Mock::given(method("POST"))
                .respond_with(answer)
                .mount(&server)
                .await;
            builder
                .project_id("p")
                .credentials(Credentials::new("AK", "SK-0"))
                .build()
        }
        Caller::ProjectLookup => {
            Mock::given(path("/v3/projects"))
                .respond_with(answer)
                .mount(&server)
                .await;
            builder
                .region("cn-north-4")
                .iam_endpoint(server.uri())
                .credentials(Credentials::new("AK", "SK-0"))
                .build()
        }
        Caller::Metadata => {
            Mock::given(method("PUT"))
                .respond_with(ResponseTemplate::new(200).set_body_string("session-token"))
                .mount(&server)
                .await;
            Mock::given(path("/openstack/latest/securitykey"))
                .respond_with(answer)
                .mount(&server)
                .await;
            builder
                .project_id("p")
                .metadata_credentials(server.uri())
                .build()
        }
    }
    .expect("the client builds");
    client
        .cluster_cert("3f0c9a1e")
        .duration(CertDuration::days(1).unwrap())
        .send()
        .await
        .err()
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    });
    &RUNTIME
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn planted_secrets_never_reach_errors_or_logs(
        caller in caller(),
        shape in shape(),
        status in prop::sample::select(vec![200u16, 201, 302, 400, 401, 403, 404, 429, 500, 502, 503]),
        bytes in prop::collection::vec(any::<u8>(), 24..120),
        filler in "[a-z ]{0,24}",
    ) {
        crate::log_capture::install();
        let secret = secret(&shape, &bytes);
        let (body, content_type) = body(&shape, &secret, &filler);
        if let Some(error) = runtime().block_on(run(caller, status, body, content_type)) {
            let shown = format!("{error} | {error:?} | {error:#?} | {}", anyhow_chain(&error));
            prop_assert!(!shown.contains(&secret), "{caller:?} {status} {shape:?}: {shown}");
        }
        let logs = logs();
        prop_assert!(!logs.contains(&secret), "{caller:?} {status} {shape:?} in the logs");
    }
}

/// The whole source chain on one line, as the CLI prints it.
fn anyhow_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}

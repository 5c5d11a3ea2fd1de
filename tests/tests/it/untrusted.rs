//! The endpoint is untrusted input. A hostile server on loopback, started by each test, plants fields in a
//! certificate answer, redirects to a second local port that records what reaches it, declares or streams
//! bodies of gigabytes, and puts escape bytes in its messages; the client keeps none of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cce_autopilot::model::Kubeconfig;
use cce_autopilot::{
    CertDuration, Client, ClientBuilder, Credentials, Environment, Error, RetryConfig,
};
use cce_autopilot_kubeconfig::KubeconfigFile;
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// What the hostile server answers.
#[derive(Clone)]
enum Answer {
    /// Head and body as given.
    Raw(Vec<u8>),
    /// A 200 declaring `declared` bytes of body, then zeros until the client hangs up.
    Declared(u64),
    /// A 200 with a chunked body of zeros, `total` bytes at most, until the client hangs up.
    Chunked(u64),
}

/// A server on loopback answering every request with `answer`; counts the body bytes the client took
/// before it hung up (for the streamed answers).
async fn hostile(answer: Answer) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let answer = answer.clone();
            let counter = counter.clone();
            tokio::spawn(async move { serve_one(socket, answer, counter).await });
        }
    });
    (url, sent)
}

async fn read_request(socket: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    seen
}

async fn serve_one(mut socket: TcpStream, answer: Answer, sent: Arc<AtomicUsize>) {
    read_request(&mut socket).await;
    let zeros = vec![b'0'; 64 * 1024];
    match answer {
        Answer::Raw(bytes) => {
            let _ = socket.write_all(&bytes).await;
        }
        Answer::Declared(declared) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
            );
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut left = declared;
            while left > 0 {
                let n = zeros.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                if socket.write_all(&zeros[..n]).await.is_err() {
                    return;
                }
                sent.fetch_add(n, Ordering::SeqCst);
                left -= n as u64;
            }
        }
        Answer::Chunked(total) => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut left = total;
            while left > 0 {
                let chunk = format!("{:x}\r\n", zeros.len());
                let failed = socket.write_all(chunk.as_bytes()).await.is_err()
                    || socket.write_all(&zeros).await.is_err()
                    || socket.write_all(b"\r\n").await.is_err();
                if failed {
                    return;
                }
                sent.fetch_add(zeros.len(), Ordering::SeqCst);
                left = left.saturating_sub(zeros.len() as u64);
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        }
    }
    let _ = socket.shutdown().await;
}

fn http_answer(status: &str, headers: &str, body: &str) -> Answer {
    Answer::Raw(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A listener that records every byte any connection sends it.
async fn recorder() -> (String, Arc<std::sync::Mutex<Vec<u8>>>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let (bytes, count) = (seen.clone(), connections.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let request = read_request(&mut socket).await;
            bytes.lock().unwrap().extend_from_slice(&request);
            let body = planted_answer().to_string();
            let _ = socket
                .write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                )
                .await;
        }
    });
    (url, seen, connections)
}

fn builder(endpoint: &str) -> ClientBuilder {
    Client::builder()
        .environment(Environment::empty())
        .endpoint(endpoint)
        .project_id(PROJECT)
        .retry(RetryConfig::disabled())
        .timeout(Duration::from_secs(20))
}

fn signed(endpoint: &str) -> Client {
    builder(endpoint)
        .credentials(Credentials::new("AK", "SK-never-sent-elsewhere"))
        .build()
        .unwrap()
}

async fn fetch(client: &Client) -> Result<cce_autopilot::ClusterCert, Error> {
    client
        .cluster_cert("c1")
        .duration(CertDuration::days(1).unwrap())
        .send()
        .await
}

/// A certificate answer with, beside the document's fields, everything a compromised endpoint would plant.
fn planted_answer() -> Value {
    json!({
        "kind": "Config", "apiVersion": "v1", "preferences": {"planted-preference": 1},
        "clusters": [
            {"name": "internalCluster", "cluster": {"server": "https://192.168.0.7:5443",
                "certificate-authority-data": "Q0EK", "proxy-url": "http://127.0.0.66:1",
                "tls-server-name": "planted.example", "planted-cluster-field": true}},
            {"name": "planted-cluster", "cluster": {"server": "https://127.0.0.66"}}],
        "users": [{"name": "user", "user": {
            "client-certificate-data": "Q0VSVAo=", "client-key-data": "S0VZCg==",
            "exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "touch", "args": ["/tmp/planted-marker"]},
            "token": "planted-token", "tokenFile": "/planted/token", "as": "system:admin",
            "auth-provider": {"name": "planted-provider"}, "username": "planted-user", "password": "planted-password"}},
            {"name": "planted-user-entry", "user": {"token": "planted-token"}}],
        "contexts": [
            {"name": "internal", "context": {"cluster": "internalCluster", "user": "user", "namespace": "planted-ns"}},
            {"name": "planted-context", "context": {"cluster": "planted-cluster", "user": "planted-user-entry"}}],
        "current-context": "planted-context",
        "planted-top": {"x": 1}
    })
}

const PLANTED: [&str; 10] = [
    "planted",
    "touch",
    "127.0.0.66",
    "system:admin",
    "tokenFile",
    "proxy-url",
    "tls-server-name",
    "exec",
    "password",
    "namespace",
];

fn assert_clean(text: &str) {
    for word in PLANTED {
        assert!(!text.contains(word), "{word:?} passed into {text}");
    }
}

#[tokio::test]
async fn a_certificate_answer_keeps_only_the_document_fields() {
    let body = planted_answer().to_string();
    let (url, _) = hostile(http_answer("200 OK", "", &body)).await;
    let cert = fetch(&signed(&url)).await.unwrap();
    let k = &cert.kubeconfig;
    assert_clean(&serde_json::to_string(k).unwrap());
    assert_eq!(k.clusters.len(), 1);
    assert_eq!(k.users.len(), 1);
    assert_eq!(k.contexts.len(), 1);
    assert_eq!(k.current_context, None, "it named a planted context");
    assert_eq!(
        k.internal().unwrap().cluster.cluster.server,
        "https://192.168.0.7:5443"
    );
    assert_eq!(k.kind.as_deref(), Some("Config"));
}

#[tokio::test]
async fn a_redirect_is_never_followed_and_no_header_goes_elsewhere() {
    let (elsewhere, seen, connections) = recorder().await;
    // hyper refuses control bytes in a header value but for a tab; a right-to-left override is obs-text.
    let location = format!("{elsewhere}/steal\t\u{202e}");
    for token in [false, true] {
        let (url, _) = hostile(http_answer(
            "307 Temporary Redirect",
            &format!("location: {location}\r\n"),
            "",
        ))
        .await;
        let client = if token {
            builder(&url).token("X-AUTH-TOKEN-SECRET").build().unwrap()
        } else {
            signed(&url)
        };
        let err = fetch(&client).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                Error::AnswerRefused {
                    status: Some(307),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            text.contains("307") && text.contains("never followed"),
            "{text}"
        );
        assert!(
            text.contains(&format!("{elsewhere}/steal\\t\\u{{202e}}")),
            "{text}"
        );
        assert!(
            !text.contains('\t') && !text.contains('\u{202e}'),
            "escaped: {text:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing reached the other origin"
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn iam_and_the_metadata_service_are_not_followed_elsewhere_either() {
    let (elsewhere, _, connections) = recorder().await;
    let redirect = || {
        http_answer(
            "302 Found",
            &format!("location: {elsewhere}/v3/projects\r\n"),
            "",
        )
    };
    // IAM's project lookup (no project id given).
    let (iam, _) = hostile(redirect()).await;
    let client = Client::builder()
        .environment(Environment::empty())
        .region("cn-north-4")
        .endpoint("http://127.0.0.1:9")
        .iam_endpoint(&iam)
        .credentials(Credentials::new("AK", "SK"))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let err = fetch(&client).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::AnswerRefused {
                status: Some(302),
                ..
            }
        ),
        "{err:?}"
    );
    // The ECS metadata service.
    let (metadata, _) = hostile(redirect()).await;
    let client = builder("http://127.0.0.1:9")
        .metadata_credentials(&metadata)
        .build()
        .unwrap();
    let err = fetch(&client).await.unwrap_err().to_string();
    assert!(
        err.contains("302") && err.contains("never followed"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing reached the other origin"
    );
}

#[tokio::test]
async fn a_body_declared_past_the_limit_is_refused_before_it_is_read() {
    let (url, sent) = hostile(Answer::Declared(2 << 30)).await;
    let err = fetch(&signed(&url)).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::AnswerRefused { .. }), "{err:?}");
    assert!(
        text.contains("Content-Length 2147483648") && text.contains("256 KiB"),
        "{text}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The server writes into the socket buffers until the client hangs up: a few MB at most.
    assert!(
        sent.load(Ordering::SeqCst) < 64 << 20,
        "{}",
        sent.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn a_chunked_body_past_the_limit_is_refused_as_it_grows() {
    let (url, sent) = hostile(Answer::Chunked(2 << 30)).await;
    let err = fetch(&signed(&url)).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::AnswerRefused {
                status: Some(200),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(text.contains("longer than the 256 KiB"), "{text}");
    assert!(!text.contains("Content-Length"), "{text}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        sent.load(Ordering::SeqCst) < 64 << 20,
        "{}",
        sent.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn a_cluster_list_may_be_larger_than_a_certificate() {
    // 1 MiB of clusters is past a certificate's limit but a list's is 16 MiB.
    let item = json!({"kind": "Cluster", "metadata": {"name": "n", "uid": "u"}, "spec": {}, "status": {"phase": "Available"}, "pad": "x".repeat(1000)});
    let items: Vec<Value> = (0..1000).map(|_| item.clone()).collect();
    let body = json!({"kind": "List", "items": items}).to_string();
    assert!(body.len() > 1 << 20);
    let (url, _) = hostile(http_answer("200 OK", "", &body)).await;
    let list = signed(&url)
        .clusters()
        .send()
        .await
        .expect("a 1 MiB list is accepted");
    assert_eq!(list.len(), 1000);
}

#[test]
fn an_endpoint_with_a_user_or_password_is_refused_without_quoting_it() {
    for endpoint in [
        "http://user:s3cret-pass@127.0.0.1:1",
        "http://user@127.0.0.1:1",
    ] {
        let err = Client::builder()
            .environment(Environment::empty())
            .endpoint(endpoint)
            .project_id(PROJECT)
            .credentials(Credentials::new("AK", "SK"))
            .build()
            .unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("user name or password"), "{text}");
        assert!(
            !text.contains("s3cret-pass") && !text.contains("user@"),
            "{text}"
        );
    }
}

/// Where arbitrary extra fields go in an answer.
#[derive(Clone, Copy, Debug)]
enum Level {
    Top,
    Cluster,
    ClusterEntry,
    User,
    UserEntry,
    Context,
    ContextEntry,
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![
        Just(Level::Top),
        Just(Level::Cluster),
        Just(Level::ClusterEntry),
        Just(Level::User),
        Just(Level::UserEntry),
        Just(Level::Context),
        Just(Level::ContextEntry),
    ]
}

fn plant(answer: &mut Value, level: Level, key: &str, value: Value) {
    let target = match level {
        Level::Top => answer,
        Level::Cluster => &mut answer["clusters"][0]["cluster"],
        Level::ClusterEntry => &mut answer["clusters"][0],
        Level::User => &mut answer["users"][0]["user"],
        Level::UserEntry => &mut answer["users"][0],
        Level::Context => &mut answer["contexts"][0]["context"],
        Level::ContextEntry => &mut answer["contexts"][0],
    };
    target
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// For any answer with arbitrary extra fields, what is kept (the typed model, and the file made of it)
    /// holds none of them.
    #[test]
    fn no_extra_field_survives_the_reduction(
        extras in proptest::collection::vec((level(), "[a-z-]{1,12}", "[a-zA-Z0-9 ]{0,16}"), 1..8),
    ) {
        let mut answer = json!({
            "kind": "Config", "apiVersion": "v1",
            "clusters": [{"name": "internalCluster", "cluster": {"server": "https://10.0.0.1:5443", "certificate-authority-data": "Q0EK"}}],
            "users": [{"name": "user", "user": {"client-certificate-data": "Q0VSVAo=", "client-key-data": "S0VZCg=="}}],
            "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user"}}],
            "current-context": "internal"
        });
        let document = ["kind", "apiVersion", "clusters", "users", "contexts", "current-context", "name",
            "cluster", "user", "context", "server", "certificate-authority-data", "insecure-skip-tls-verify",
            "client-certificate-data", "client-key-data", "preferences"];
        let mut markers = Vec::new();
        for (i, (level, key, value)) in extras.iter().enumerate() {
            if document.contains(&key.as_str()) {
                continue;
            }
            let marker = format!("MARK{i}X{value}");
            plant(&mut answer, *level, &format!("x{key}"), json!(marker));
            markers.push(marker);
        }
        let parsed: Kubeconfig = serde_json::from_value(answer).unwrap();
        let file = KubeconfigFile::from(&parsed);
        let mut reduced = parsed;
        let dropped = reduced.retain_document_fields();
        // Two extras of one key at one level are one field.
        prop_assert!(dropped.len() <= markers.len() && (markers.is_empty() || !dropped.is_empty()));
        let texts = [serde_json::to_string(&reduced).unwrap(), serde_json::to_string(&file).unwrap()];
        for text in &texts {
            for marker in &markers {
                prop_assert!(!text.contains(marker.as_str()), "{} in {}", marker, text);
            }
            prop_assert!(text.contains("S0VZCg=="), "the key stays: {}", text);
        }
    }
}

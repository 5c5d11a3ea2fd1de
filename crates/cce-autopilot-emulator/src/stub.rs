//! The API-server stub of each cluster: HTTPS on loopback with a server certificate from the cluster CA,
//! a client certificate from the same CA required, answering `/version`, `/healthz` and `/api`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::clock::Clock;
use crate::error::{EmulatorError, Result};
use crate::serve::serve_connection;
use crate::state::{Cluster, lock};

/// The Kubernetes version the stubs claim.
pub(crate) const GIT_VERSION: &str = "v1.31.4-cce-autopilot-emulator";
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS 1.2/1.3 with aws-lc-rs; client certificates required and checked against the cluster CA on the
/// emulator's clock.
pub(crate) fn tls_acceptor(
    cluster_id: &str,
    ca: &crate::pki::ClusterCa,
    clock: &Clock,
) -> Result<TlsAcceptor> {
    let tls_error = |source: Box<dyn std::error::Error + Send + Sync>| EmulatorError::Tls {
        cluster_id: cluster_id.to_owned(),
        source,
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(ca.cert_der().clone())
        .map_err(|e| tls_error(Box::new(e)))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| tls_error(Box::new(e)))?;
    let (cert, key) = ca.issue_server(clock.now())?;
    let mut config = rustls::ServerConfig::builder_with_details(provider, Arc::new(clock.clone()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(Box::new(e)))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert, ca.cert_der().clone()], key)
        .map_err(|e| tls_error(Box::new(e)))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    if let Ok(value) = "application/json".parse() {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

fn router(address: String) -> Router {
    let minor = GIT_VERSION.split('.').nth(1).unwrap_or("31").to_owned();
    let version = json!({
        "major": "1",
        "minor": minor,
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.22.10",
        "compiler": "gc",
        "platform": "linux/amd64",
    });
    let api = json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    });
    let apis = json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []});
    let ok = || async { "ok" };
    Router::new()
        .route(
            "/version",
            get(move || async move { json(StatusCode::OK, version) }),
        )
        .route(
            "/api",
            get(move || async move { json(StatusCode::OK, api) }),
        )
        .route(
            "/apis",
            get(move || async move { json(StatusCode::OK, apis) }),
        )
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .fallback(|| async {
            json(
                StatusCode::NOT_FOUND,
                json!({
                    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "the server could not find the requested resource",
                    "reason": "NotFound", "details": {}, "code": 404,
                }),
            )
        })
}

/// The subject common name of a DER certificate, if it has one.
fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    Some(cn)
}

/// Accepts TLS connections forever, recording the CN of each accepted client and counting rejected
/// handshakes. Dropping (aborting) this future aborts every connection.
pub(crate) async fn serve_stub(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    cluster: Arc<Cluster>,
) {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let router = router(address);
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, cluster, router) = (acceptor.clone(), cluster.clone(), router.clone());
        connections.spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let cn = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .and_then(|cert| common_name(cert))
                        .unwrap_or_default();
                    tracing::debug!(cluster = %cluster.id, client = %cn, "API-server stub accepted a client");
                    lock(&cluster.accepted_clients).push(cn);
                    serve_connection(tls, router).await;
                }
                Ok(Err(err)) => {
                    tracing::debug!(cluster = %cluster.id, error = %err, "API-server stub rejected a handshake");
                    cluster
                        .rejected_handshakes
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(_) => {
                    cluster
                        .rejected_handshakes
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
    }
}

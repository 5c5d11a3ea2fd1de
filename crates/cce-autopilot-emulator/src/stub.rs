//! The API-server stub of each cluster: HTTPS on loopback with a server certificate from the cluster CA,
//! a client certificate from the same CA required; what it answers is in [`crate::stub_api`].

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::clock::Clock;
use crate::error::{EmulatorError, Result};
use crate::serve::{Limits, serve_connection};
use crate::state::{Cluster, lock};
use crate::stub_api::{Peer, router};

pub(crate) use crate::stub_api::GIT_VERSION;

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

/// Accepts TLS connections forever, recording the CN of each accepted client and counting rejected
/// handshakes. Dropping (aborting) this future aborts every connection.
pub(crate) async fn serve_stub(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    cluster: Arc<Cluster>,
    limits: Limits,
) {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let router = router(&address);
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
        let slot = limits.slot().await;
        let read_timeout = limits.read_timeout;
        connections.spawn(async move {
            let _slot = slot;
            // The handshake is read under the same time-out as a request head.
            match tokio::time::timeout(read_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let peer = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .map(|cert| Peer::from_der(cert))
                        .unwrap_or_default();
                    tracing::debug!(cluster = %cluster.id, client = %peer.user, "API-server stub accepted a client");
                    lock(&cluster.accepted_clients).push(peer.user.clone());
                    lock(&cluster.accepted_serials).push(peer.serial.clone());
                    serve_connection(tls, router.layer(Extension(peer)), read_timeout).await;
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

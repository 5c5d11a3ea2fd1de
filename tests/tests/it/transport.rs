//! TLS: certificate verification is on by default, a custom CA bundle makes a private endpoint trusted, and
//! the loudly named opt-out works.

use std::sync::Arc;

use cce_autopilot::{
    CertDuration, Client, ClientBuilder, Credentials, Environment, Error, RetryConfig,
};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

const BODY: &str = r#"{"kind":"Config","apiVersion":"v1","clusters":[],"users":[],"contexts":[]}"#;

/// An HTTPS server on loopback with a certificate from a private CA; answers every request with a kubeconfig.
async fn https_server() -> (String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca_pem = ca_cert.pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf_params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 16 * 1024];
                let _ = tls.read(&mut buf).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
                    BODY.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, ca_pem)
}

fn builder(url: &str) -> ClientBuilder {
    Client::builder()
        .environment(Environment::empty())
        .endpoint(url)
        .project_id("0123456789abcdef0123456789abcdef")
        .credentials(
            Credentials::new("AK", "SK-never-logged").with_security_token("TOKEN-never-logged"),
        )
        .retry(RetryConfig::disabled())
}

async fn call(client: &Client) -> Result<cce_autopilot::ClusterCert, Error> {
    client
        .cluster_cert("c")
        .duration(CertDuration::days(1).unwrap())
        .send()
        .await
}

#[tokio::test]
async fn an_unknown_ca_is_refused_by_default() {
    let (url, _) = https_server().await;
    let err = call(&builder(&url).build().unwrap()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn a_custom_ca_bundle_makes_the_endpoint_trusted() {
    let (url, ca_pem) = https_server().await;
    let client = builder(&url)
        .add_root_certificate_pem(ca_pem)
        .build()
        .unwrap();
    call(&client).await.expect("verified with the custom CA");
}

#[tokio::test]
async fn the_opt_out_skips_verification() {
    let (url, _) = https_server().await;
    let client = builder(&url)
        .danger_accept_invalid_certs_for_testing_only(true)
        .build()
        .unwrap();
    call(&client).await.expect("accepted without verification");
}

#[tokio::test]
async fn an_invalid_ca_bundle_is_a_config_error() {
    let err = builder("https://127.0.0.1:1")
        .add_root_certificate_pem("not a pem")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}

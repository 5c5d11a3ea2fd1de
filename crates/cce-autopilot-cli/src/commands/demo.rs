//! `demo`: the whole journey on one machine, no cloud account. Starts the embedded emulator, fetches a
//! kubeconfig with the real client (AK/SK-signed, project id looked up from IAM), writes it privately, and
//! calls the cluster's API-server stub over mutual TLS with the fetched certificate: `/version`, and the
//! review `kubectl auth whoami` asks for.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use cce_autopilot::{Access, CertDuration, Client, Credentials, Kubeconfig, RetryConfig};
use cce_autopilot_emulator::Emulator;

use crate::exit;

use super::common::write_private_file;
use clap::Args;

/// `demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the kubeconfig the demo writes in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// Runs the demo and prints what happened.
pub async fn run(args: DemoArgs) -> anyhow::Result<crate::exit::Exit> {
    let report = run_demo(args.keep).await?;
    super::common::print_stdout(&report)?;
    Ok(exit::OK)
}

/// The demo's steps; returns the report it prints.
pub async fn run_demo(keep: Option<PathBuf>) -> anyhow::Result<String> {
    let emulator = Emulator::builder()
        .start()
        .await
        .context("cannot start the embedded emulator")?;
    let mut out = String::new();
    writeln!(
        out,
        "emulator      {} (region {})",
        emulator.url(),
        emulator.region()
    )?;

    // The client as a user would configure it, but pointed at the emulator for both CCE and IAM.
    let client = Client::builder()
        .environment(cce_autopilot::Environment::empty())
        .endpoint(emulator.url())
        .iam_endpoint(emulator.url())
        .region(emulator.region())
        .credentials(Credentials::new(
            emulator.access_key(),
            emulator.secret_key(),
        ))
        .retry(RetryConfig::default())
        .build()?;
    let project = client.project_id().await.context("project id lookup")?;
    writeln!(out, "project id    {project} (looked up from IAM)")?;

    let clusters = client
        .clusters()
        .send()
        .await
        .context("listing the clusters")?;
    let names: Vec<String> = clusters
        .iter()
        .map(|c| format!("{} ({})", c.name, c.phase))
        .collect();
    writeln!(out, "clusters      {}", names.join(", "))?;
    // By name, as a user would ask for it.
    let wanted = clusters
        .iter()
        .find(|c| c.is_public())
        .or_else(|| clusters.first())
        .context("the emulator has no cluster")?
        .name
        .clone();
    let found = cce_autopilot::find_cluster(&clusters, &wanted, &project)?;
    let cluster = found.id.clone();
    let duration = CertDuration::days(30)?;
    let cert = client
        .cluster_cert(&cluster)
        .duration(duration)
        .send()
        .await?;
    writeln!(out, "cluster       {wanted} (id {cluster}, found by name)")?;
    writeln!(
        out,
        "request id    {}",
        cert.request_id.as_deref().unwrap_or("-")
    )?;
    writeln!(
        out,
        "Port-ID       {}",
        cert.port_id.as_deref().unwrap_or("-")
    )?;
    let contexts: Vec<&str> = cert
        .kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    writeln!(
        out,
        "contexts      {} (current: {})",
        contexts.join(", "),
        cert.kubeconfig.current_context.as_deref().unwrap_or("-")
    )?;

    let (not_after, subject) = certificate_facts(&cert.kubeconfig)?;
    writeln!(
        out,
        "certificate   {subject}, valid until {not_after} ({duration})"
    )?;

    let (dir, _temp) = match keep {
        Some(dir) => (dir, None),
        None => {
            let temp = tempfile::tempdir()?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let path = dir.join("kubeconfig");
    write_private_file(&path, serde_saphyr::to_string(&cert.kubeconfig)?.as_bytes())?;
    writeln!(out, "kubeconfig    {} (0600)", path.display())?;

    let version = call_api_server(&cert.kubeconfig).await?;
    writeln!(
        out,
        "API server    {} over mTLS (internal context): {version}",
        server(&cert.kubeconfig)?
    )?;
    writeln!(
        out,
        "auth whoami   {} (a SelfSubjectReview, as `kubectl auth whoami` asks)",
        who_am_i(&cert.kubeconfig).await?
    )?;
    writeln!(
        out,
        "issued        {} certificate(s) for {wanted}",
        emulator.issued(&cluster)
    )?;
    emulator.shutdown().await;
    Ok(out)
}

fn server(kubeconfig: &Kubeconfig) -> anyhow::Result<String> {
    let entry = kubeconfig
        .access(Access::Internal)
        .context("no internal context")?;
    Ok(entry.cluster.cluster.server.clone())
}

fn certificate_facts(kubeconfig: &Kubeconfig) -> anyhow::Result<(String, String)> {
    let entry = kubeconfig
        .access(Access::Internal)
        .context("no internal context")?;
    let pem = entry
        .user
        .user
        .client_certificate_pem()?
        .context("no client certificate")?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem)
        .map_err(|e| anyhow::anyhow!("client certificate PEM: {e}"))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| anyhow::anyhow!("client certificate: {e}"))?;
    Ok((
        cert.validity().not_after.to_string(),
        cert.subject().to_string(),
    ))
}

/// An HTTP client for the internal endpoint, authenticated by the fetched client certificate and trusting
/// only the cluster CA from the same kubeconfig; and that endpoint.
fn api_server_client(kubeconfig: &Kubeconfig) -> anyhow::Result<(reqwest::Client, String)> {
    let entry = kubeconfig
        .access(Access::Internal)
        .context("no internal context")?;
    let ca = entry
        .cluster
        .cluster
        .certificate_authority_pem()?
        .context("no cluster CA")?;
    let mut identity = entry
        .user
        .user
        .client_certificate_pem()?
        .context("no client certificate")?;
    identity.extend(entry.user.user.client_key_pem()?.context("no client key")?);
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
        .identity(reqwest::Identity::from_pem(&identity)?)
        .no_proxy()
        .build()?;
    let server = entry
        .cluster
        .cluster
        .server
        .trim_end_matches('/')
        .to_owned();
    Ok((http, server))
}

/// `GET /version` on the internal endpoint.
async fn call_api_server(kubeconfig: &Kubeconfig) -> anyhow::Result<String> {
    let (http, server) = api_server_client(kubeconfig)?;
    let url = format!("{server}/version");
    let response = http
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "GET {url}: {status}");
    Ok(format!(
        "{} {} ({})",
        status.as_u16(),
        body["gitVersion"].as_str().unwrap_or("?"),
        body["platform"].as_str().unwrap_or("?")
    ))
}

/// What `kubectl auth whoami` asks: a `SelfSubjectReview`, answered from the client certificate.
async fn who_am_i(kubeconfig: &Kubeconfig) -> anyhow::Result<String> {
    let (http, server) = api_server_client(kubeconfig)?;
    let url = format!("{server}/apis/authentication.k8s.io/v1/selfsubjectreviews");
    let review = serde_json::json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
    });
    let response = http
        .post(&url)
        .json(&review)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "POST {url}: {status}");
    let user = &body["status"]["userInfo"];
    let groups: Vec<&str> = user["groups"]
        .as_array()
        .map(|g| g.iter().filter_map(|g| g.as_str()).collect())
        .unwrap_or_default();
    Ok(format!(
        "user {}, groups {}",
        user["username"].as_str().unwrap_or("?"),
        groups.join(", ")
    ))
}

//! Helpers shared by the `config_*` integration tests (included with `mod config_support;`): a temporary
//! home directory, and a CCE answer that only matches a request signed by given credentials. Every test
//! builds its `Environment` by hand and talks to a wiremock server on 127.0.0.1 only.
#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use cce_autopilot::{CertDuration, Client, ClientBuilder, ClusterCert, Environment, RetryConfig};
use serde_json::json;
use wiremock::matchers::{header_regex, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const CLUSTER: &str = "3f0c9a1e-2b4d-4c6e-8f10-123456789abc";

/// A directory under the system temp dir, removed on drop; stands in for `$HOME`.
pub struct TempHome {
    path: PathBuf,
}

impl TempHome {
    pub fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "cce-autopilot-config-test-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp home");
        TempHome { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `text` at `relative` (parents created) and returns the full path.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let file = self.path.join(relative);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&file, text).expect("write file");
        file
    }

    /// Writes `~/.huaweicloud/credentials`.
    pub fn write_profile(&self, text: &str) -> PathBuf {
        self.write(".huaweicloud/credentials", text)
    }

    /// An environment with no variables and this home directory.
    pub fn env(&self) -> Environment {
        Environment::empty().home(&self.path)
    }
}

impl Default for TempHome {
    fn default() -> Self {
        TempHome::new()
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub fn cce_path(project: &str) -> String {
    format!("/autopilot/v3/projects/{project}/clusters/{CLUSTER}/clustercert")
}

pub fn kubeconfig() -> serde_json::Value {
    json!({
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": [{"name": "internalCluster", "cluster": {"server": "https://192.168.0.10:5443"}}],
        "users": [{"name": "user", "user": {}}],
        "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user"}}],
        "current-context": "internal"
    })
}

/// The CCE call's answer, matching only a request for `project` signed with access key `ak`, carrying
/// `X-Security-Token: token` when `token` is `Some`, and no such header when it is `None`. Test access keys
/// are plain `[A-Za-z0-9_]` so they can go into the regex as they are.
pub fn cce_signed_by(project: &str, ak: &str, token: Option<&str>) -> Mock {
    assert!(
        ak.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "test access keys are used in a regex"
    );
    let expected_token = token.map(str::to_owned);
    Mock::given(method("POST"))
        .and(path(cce_path(project)))
        .and(header_regex(
            "authorization",
            &format!("^SDK-HMAC-SHA256 Access={ak}, "),
        ))
        .and(move |request: &Request| {
            let sent = request
                .headers
                .get("x-security-token")
                .and_then(|v| v.to_str().ok());
            sent == expected_token.as_deref()
        })
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "req-1")
                .set_body_json(kubeconfig()),
        )
}

/// A builder aimed at `server` for the fixed test project, with `env` and no retries.
pub fn builder(server: &MockServer, env: Environment) -> ClientBuilder {
    Client::builder()
        .endpoint(server.uri())
        .project_id(PROJECT)
        .environment(env)
        .retry(RetryConfig::disabled())
}

/// One "get cluster certificate" call.
pub async fn fetch(client: &Client) -> cce_autopilot::Result<ClusterCert> {
    client
        .cluster_cert(CLUSTER)
        .duration(CertDuration::days(1).expect("valid duration"))
        .send()
        .await
}

/// The request paths the server received, in order.
pub async fn received_paths(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect()
}

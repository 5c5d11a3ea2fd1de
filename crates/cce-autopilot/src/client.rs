//! The hand-written public API: [`Client`], its builder, and the cluster-certificate call.

use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cce_autopilot_model::{CertDuration, ErrorBody, Kubeconfig};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret as _, SecretString};

use crate::credentials::{Credentials, ProvideCredentials};
use crate::env::Environment;
use crate::error::{ServiceError, excerpt};
use crate::generated::Client as Generated;
use crate::hooks::{AuthMode, CALL, CallContext, Inner, Outcome, Shared, lock};
use crate::project::ProjectResolver;
use crate::retry::RetryConfig;
use crate::{Error, Result, credentials_chain, region};

/// A client of the CCE Autopilot cluster-certificate API. Cheap to clone; share one per process.
#[derive(Clone, Debug)]
pub struct Client {
    generated: Generated,
    shared: Arc<Shared>,
    project: Arc<ProjectResolver>,
    endpoint: url::Url,
}

/// Configures a [`Client`]. Unset values come from the [`Environment`] as the official SDKs read them.
#[derive(Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    endpoint: Option<String>,
    region: Option<String>,
    project_id: Option<String>,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    token: Option<SecretString>,
    environment: Environment,
    metadata_endpoint: Option<String>,
    iam_endpoint: Option<String>,
    retry: Option<RetryConfig>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    proxy: Option<String>,
    no_proxy: Option<String>,
    root_certificates: Vec<Vec<u8>>,
    danger_accept_invalid_certs: bool,
    user_agent: Option<String>,
}

impl ClientBuilder {
    /// The service's base URL, e.g. `https://cce.cn-north-4.myhuaweicloud.com` or a local emulator's
    /// `http://127.0.0.1:PORT`. Wins over the region's endpoint.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The region id, e.g. `cn-north-4`: selects the endpoint and the project.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The project id; without it the client asks IAM for the region's project.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// Fixed AK/SK credentials (first in the chain).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(Arc::new(credentials));
        self
    }

    /// A custom credentials source.
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Authenticate with an IAM token in `X-Auth-Token` instead of signing.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// Where environment variables and the home directory come from (default: this process).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Enables the ECS metadata credential source (last in the chain), at `base_url`
    /// (on a cloud server `http://169.254.169.254`).
    pub fn metadata_credentials(mut self, base_url: impl Into<String>) -> Self {
        self.metadata_endpoint = Some(base_url.into());
        self
    }

    /// The IAM endpoint used to look up the project id (default: per region, see [`crate::region`]).
    pub fn iam_endpoint(mut self, url: impl Into<String>) -> Self {
        self.iam_endpoint = Some(url.into());
        self
    }

    /// The retry policy ([`RetryConfig::disabled`] for none).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The longest wait to connect (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The longest wait for one attempt (default 30 s); the whole call is bounded by the retry policy.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// An HTTP(S) proxy for every request (default: `HTTPS_PROXY`/`HTTP_PROXY` of the environment).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Hosts that bypass the proxy, comma-separated as in `NO_PROXY` (default: the environment's).
    pub fn no_proxy(mut self, hosts: impl Into<String>) -> Self {
        self.no_proxy = Some(hosts.into());
        self
    }

    /// Trusts an extra CA (PEM) besides the system's roots, e.g. a corporate proxy's.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Turns off TLS certificate verification. Only for self-signed test endpoints: anyone on the path can
    /// then read and alter the traffic, credentials included.
    pub fn danger_accept_invalid_certs_for_testing_only(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// The `User-Agent` header (default `cce-autopilot-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Checks the configuration and builds the client. Credentials and the project id are resolved on the
    /// first call, so building never touches the network.
    pub fn build(self) -> Result<Client> {
        let env = &self.environment;
        let region = self
            .region
            .clone()
            .or_else(|| env.get("HUAWEICLOUD_SDK_REGION"));
        let endpoint = match (&self.endpoint, &region) {
            (Some(url), _) => parse_url("endpoint", url)?,
            (None, Some(region)) => region::cce_endpoint(region, env)?,
            (None, None) => {
                return Err(Error::config(
                    "no endpoint: set a region (e.g. cn-north-4, or HUAWEICLOUD_SDK_REGION) or an endpoint URL",
                ));
            }
        };

        let http = self.http_client()?;
        // The profile file is read only when something may come from it: credentials, the project id, or
        // the IAM endpoint used to look the project id up.
        let explicit_auth = self.token.is_some() || self.credentials.is_some();
        let explicit_project =
            self.project_id.is_some() || env.get("HUAWEICLOUD_SDK_PROJECT_ID").is_some();
        let profile = if explicit_auth && explicit_project {
            None
        } else {
            credentials_chain::Profile::load(env)?
        };
        let auth = match (&self.token, &self.credentials) {
            (Some(token), _) => {
                crate::sign::check_token(token.expose_secret())?;
                AuthMode::Token(token.clone())
            }
            (None, Some(provider)) => AuthMode::Signature(provider.clone()),
            (None, None) => {
                let metadata = self
                    .metadata_endpoint
                    .as_deref()
                    .map(|url| parse_url("metadata endpoint", url))
                    .transpose()?;
                AuthMode::Signature(credentials_chain::default_chain(
                    env,
                    profile.as_ref(),
                    metadata,
                )?)
            }
        };
        let project = ProjectResolver::new(
            self.project_id.clone(),
            region.clone(),
            self.iam_endpoint.clone(),
            profile.as_ref(),
            env,
            &auth,
            http.clone(),
        )?;

        let user_agent = self
            .user_agent
            .clone()
            .unwrap_or_else(|| crate::hooks::DEFAULT_USER_AGENT.to_owned());
        let shared = Arc::new(Shared {
            auth,
            retry: self.retry.clone().unwrap_or_default(),
            clock_offset: Arc::new(AtomicI64::new(0)),
            user_agent: HeaderValue::from_str(&user_agent).map_err(|_| {
                Error::invalid(
                    "user agent",
                    "contains characters HTTP headers cannot carry",
                )
            })?,
            attempt_timeout: Some(self.timeout.unwrap_or(Duration::from_secs(30))),
        });
        let base = endpoint.as_str().trim_end_matches('/').to_owned();
        Ok(Client {
            generated: Generated::new_with_client(&base, http, Inner(shared.clone())),
            shared,
            project: Arc::new(project),
            endpoint,
        })
    }

    fn http_client(&self) -> Result<reqwest::Client> {
        let env = &self.environment;
        // Proxies come from our Environment, not from reqwest's own reading of the process environment,
        // so that an injected environment is the whole truth.
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
            .danger_accept_invalid_certs(self.danger_accept_invalid_certs);
        let no_proxy = self
            .no_proxy
            .clone()
            .or_else(|| env.get("NO_PROXY"))
            .or_else(|| env.get("no_proxy"));
        let proxies = [
            (
                self.proxy
                    .clone()
                    .or_else(|| env.get("HTTPS_PROXY"))
                    .or_else(|| env.get("https_proxy")),
                true,
            ),
            (
                self.proxy
                    .clone()
                    .or_else(|| env.get("HTTP_PROXY"))
                    .or_else(|| env.get("http_proxy")),
                false,
            ),
        ];
        for (url, https) in proxies {
            let Some(url) = url else { continue };
            let proxy = if https {
                reqwest::Proxy::https(&url)
            } else {
                reqwest::Proxy::http(&url)
            };
            let proxy = proxy.map_err(|e| Error::Config {
                message: format!("invalid proxy URL {url:?}"),
                source: Some(Box::new(e)),
            })?;
            builder = builder
                .proxy(proxy.no_proxy(no_proxy.as_deref().and_then(reqwest::NoProxy::from_string)));
        }
        for pem in &self.root_certificates {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| Error::Config {
                message: "the custom CA bundle is not valid PEM".into(),
                source: Some(Box::new(e)),
            })?;
            if certs.is_empty() {
                return Err(Error::config(
                    "the custom CA bundle holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder.build().map_err(|e| Error::Config {
            message: "cannot set up the HTTP client".into(),
            source: Some(Box::new(e)),
        })
    }
}

fn parse_url(what: &str, text: &str) -> Result<url::Url> {
    let url = url::Url::parse(text)
        .map_err(|e| Error::config(format!("invalid {what} URL {text:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::config(format!(
            "invalid {what} URL {text:?}: expected http(s)://host[:port]"
        )));
    }
    Ok(url)
}

/// Ids go into the URL path. Real ones are UUID-like; whatever cannot be a path segment (empty, white space,
/// control characters, `/ ? # %`) is a mistake worth catching before a request. Other characters are sent
/// percent-encoded.
pub(crate) fn check_id(what: &'static str, id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(what, "must not be empty"));
    }
    if id.len() > 128 {
        return Err(Error::invalid(
            what,
            format!("is {} bytes long; at most 128", id.len()),
        ));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '%'))
    {
        return Err(Error::invalid(
            what,
            format!(
                "{id:?} contains {bad:?}, which cannot be part of an id; check for a copy-and-paste slip"
            ),
        ));
    }
    Ok(())
}

impl Client {
    /// A builder with nothing set: values not set come from the process environment.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured entirely from the process environment and `~/.huaweicloud`, like the official SDKs.
    pub fn from_env() -> Result<Client> {
        Client::builder().build()
    }

    /// The base URL requests go to.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Starts a "get cluster certificate" call for `cluster_id`.
    pub fn cluster_cert(&self, cluster_id: impl Into<String>) -> ClusterCertRequest<'_> {
        ClusterCertRequest {
            client: self,
            cluster_id: cluster_id.into(),
            duration: None,
        }
    }

    /// The project id this client uses, looked up from IAM on first use when it was not configured.
    pub async fn project_id(&self) -> Result<String> {
        self.project.project_id().await
    }

    /// The access key the next call will sign with, as the credential chain resolves it now; `None` with
    /// token authentication. Never the secret key. Useful to key caches by identity.
    pub async fn access_key_id(&self) -> Result<Option<String>> {
        match &self.shared.auth {
            AuthMode::Signature(provider) => Ok(Some(
                provider
                    .provide_credentials()
                    .await?
                    .access_key()
                    .to_owned(),
            )),
            AuthMode::Token(_) => Ok(None),
        }
    }

    async fn call_context(&self) -> Result<CallContext> {
        let credentials = match &self.shared.auth {
            AuthMode::Signature(provider) => {
                let credentials = provider.provide_credentials().await?;
                crate::sign::check_credentials(&credentials)?;
                Some(credentials)
            }
            AuthMode::Token(_) => None,
        };
        let project_id = self.project.project_id().await?;
        Ok(CallContext {
            credentials,
            project_id,
            outcome: Arc::new(Mutex::new(Outcome::default())),
        })
    }
}

/// A "get cluster certificate" call being configured; finish with [`ClusterCertRequest::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct ClusterCertRequest<'a> {
    client: &'a Client,
    cluster_id: String,
    duration: Option<CertDuration>,
}

/// A fetched kubeconfig with the response metadata.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClusterCert {
    /// The kubeconfig (its `Debug` redacts the client key).
    pub kubeconfig: Kubeconfig,
    /// The `Port-ID` response header: the port of the cluster's control-plane node.
    pub port_id: Option<String>,
    /// The `X-Request-Id` response header.
    pub request_id: Option<String>,
}

impl ClusterCertRequest<'_> {
    /// How long the client certificate is valid (required).
    pub fn duration(mut self, duration: CertDuration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// Sends the call, retrying and re-signing as configured.
    pub async fn send(self) -> Result<ClusterCert> {
        check_id("cluster id", &self.cluster_id)?;
        let duration = self.duration.ok_or_else(|| {
            Error::invalid(
                "duration",
                "is required: call .duration(CertDuration::days(n)?) or .duration(CertDuration::MAX)",
            )
        })?;
        let client = self.client;
        let ctx = client.call_context().await?;
        check_id("project id", &ctx.project_id)?;
        let span = tracing::info_span!("cluster_cert", cluster_id = %self.cluster_id, duration = duration.get());
        let outcome = ctx.outcome.clone();
        let call = client
            .generated
            .create_autopilot_kubernetes_cluster_cert()
            .project_id(ctx.project_id.clone())
            .cluster_id(self.cluster_id.clone())
            .body(duration)
            .send();
        let result = tracing::Instrument::instrument(CALL.scope(ctx, call), span).await;
        let outcome = std::mem::take(&mut *lock(&outcome));
        match result {
            Ok(response) => {
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let port_id = header("port-id");
                let request_id = header("x-request-id");
                Ok(ClusterCert {
                    kubeconfig: response.into_inner(),
                    port_id,
                    request_id,
                })
            }
            Err(e) => Err(map_error(e, outcome, &client.endpoint).await),
        }
    }
}

fn endpoint_label(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

async fn map_error(
    error: progenitor_client::Error<ErrorBody>,
    outcome: Outcome,
    endpoint: &url::Url,
) -> Error {
    use progenitor_client::Error as P;

    if let Some(message) = outcome.auth_error {
        return Error::credentials(format!("cannot authenticate the request: {message}"));
    }
    let attempts = outcome.attempts.max(1);
    let service =
        |status: u16, body: ErrorBody, request_id: Option<String>, body_excerpt: Option<String>| {
            Error::Service(Box::new(ServiceError {
                status,
                code: body.code,
                message: body.message,
                request_id: request_id.or(body.request_id),
                encoded_authorization_message: body.encoded_authorization_message,
                body_excerpt,
                attempts,
            }))
        };
    match error {
        P::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let request_id = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response.into_inner();
            let excerpt = body
                .is_empty()
                .then(|| serde_json::to_string(&body).unwrap_or_default());
            service(status, body, request_id, excerpt)
        }
        P::InvalidResponsePayload(bytes, e) => {
            let status = outcome.status.unwrap_or(0);
            if (200..300).contains(&status) {
                Error::Decode {
                    status,
                    request_id: outcome.request_id,
                    reason: format!("the body is not a kubeconfig ({e})"),
                    excerpt: excerpt(&bytes),
                }
            } else {
                service(
                    status,
                    ErrorBody::default(),
                    outcome.request_id,
                    Some(excerpt(&bytes)),
                )
            }
        }
        P::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let request_id = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = response.bytes().await.unwrap_or_default();
            let body = ErrorBody::from_slice(&bytes).unwrap_or_default();
            let text = body.is_empty().then(|| excerpt(&bytes));
            service(status, body, request_id, text)
        }
        P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
            if e.is_timeout() || outcome.timed_out {
                Error::Timeout {
                    endpoint: endpoint_label(endpoint),
                    elapsed_ms: outcome.elapsed.as_millis(),
                    attempts,
                }
            } else {
                Error::Transport {
                    endpoint: endpoint_label(endpoint),
                    message: format!(
                        "{} ({attempts} attempt(s))",
                        if e.is_connect() {
                            "cannot connect"
                        } else if e.is_decode() || e.is_body() {
                            "the response was cut short"
                        } else {
                            "the connection failed"
                        }
                    ),
                    source: Some(Box::new(e)),
                }
            }
        }
        P::InvalidRequest(message) => Error::invalid("request", message),
        P::Custom(message) => Error::config(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_before_any_request() {
        assert!(check_id("cluster id", "3f0c9a1e-2b4d-4c6e-8f10-123456789abc").is_ok());
        assert!(
            check_id("cluster id", "ünï:1").is_ok(),
            "sent percent-encoded"
        );
        for bad in ["", "a/b", "a b", "x?y", "a%2F", "tab\t", &"a".repeat(129)] {
            let err = check_id("cluster id", bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidInput {
                        what: "cluster id",
                        ..
                    }
                ),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn endpoint_or_region_is_required() {
        let err = Client::builder()
            .environment(Environment::empty())
            .credentials(Credentials::new("AK", "SK"))
            .project_id("p")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("no endpoint"), "{err}");
        let err = Client::builder()
            .environment(Environment::empty())
            .endpoint("ftp://x")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("expected http(s)"), "{err}");
    }
}

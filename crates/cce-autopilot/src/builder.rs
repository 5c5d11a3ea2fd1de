//! [`ClientBuilder`]: what a [`Client`] is configured from, the official SDKs' sources for what is not set.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::answer::escaped;
use crate::clients::HttpClients;
use secrecy::{ExposeSecret as _, SecretString};

use crate::client::Client;
use crate::credentials::{Credentials, ProvideCredentials};
use crate::env::Environment;
use crate::generated::Client as Generated;
use crate::hooks::{Inner, Shared};
use crate::pipeline::{AuthMode, DEFAULT_USER_AGENT, Transport};
use crate::project::ProjectResolver;
use crate::retry::RetryConfig;
use crate::{Error, Result, chain, region};

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
    sts_endpoint: Option<String>,
    agencies: Vec<chain::Agency>,
    koocli_profile: Option<String>,
    /// `HUAWEICLOUD_PROFILE` is not read (the caller resolved it, or wants the default chain).
    no_profile_var: bool,
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

    /// The STS endpoint for OIDC credentials and `caller_identity` (default: `HUAWEICLOUD_SDK_STS_ENDPOINT`,
    /// else the region's in the official SDK's table, else `https://sts.cn-north-4.myhuaweicloud.com`).
    pub fn sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(url.into());
        self
    }

    /// Signs with the named profile of KooCLI's `~/.hcloud/config.json` (`HUAWEICLOUD_CONFIG_FILE`) instead of
    /// the SDK's chain; without it, `HUAWEICLOUD_PROFILE` names one. Explicit credentials and a token win.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.koocli_profile = Some(name.into());
        self
    }

    /// Ignores `HUAWEICLOUD_PROFILE`: the default chain (or [`ClientBuilder::profile`]) decides, whatever the
    /// environment names — for a caller that resolved the variable itself.
    pub fn ignore_profile_variable(mut self) -> Self {
        self.no_profile_var = true;
        self
    }

    /// Assumes this agency with the credentials found so far; called again, chains: each agency is assumed
    /// with the previous one's credentials. Needs AK/SK credentials (not an IAM token).
    pub fn agency(mut self, agency: chain::Agency) -> Self {
        self.agencies.push(agency);
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
        let metadata = self
            .metadata_endpoint
            .as_deref()
            .map(|url| parse_url("metadata endpoint", url))
            .transpose()?;
        // A KooCLI profile replaces the SDK's chain (a token or explicit credentials win over it).
        let koocli = match (&self.token, &self.credentials) {
            (None, None) => self
                .koocli_profile
                .clone()
                .or_else(|| {
                    (!self.no_profile_var)
                        .then(|| env.get(chain::koocli::PROFILE_VAR))
                        .flatten()
                })
                .map(|name| chain::koocli::select(&name, env, metadata.clone()))
                .transpose()?,
            _ => None,
        };
        let region = self
            .region
            .clone()
            .or_else(|| env.get("HUAWEICLOUD_SDK_REGION"))
            .or_else(|| koocli.as_ref().and_then(|k| k.region.clone()));
        let endpoint = match (&self.endpoint, &region) {
            (Some(url), _) => parse_url("endpoint", url)?,
            (None, Some(region)) => region::cce_endpoint(region, env)?,
            (None, None) => {
                return Err(Error::config(
                    "no endpoint: set a region (e.g. cn-north-4, or HUAWEICLOUD_SDK_REGION) or an endpoint URL",
                ));
            }
        };

        let http = self.http_clients()?;
        // The profile file is read only when something may come from it: credentials, the project id, or
        // the IAM endpoint used to look the project id up.
        // A KooCLI profile replaces the SDK's sources, its file included.
        let explicit_auth = self.token.is_some() || self.credentials.is_some() || koocli.is_some();
        let explicit_project =
            self.project_id.is_some() || env.get("HUAWEICLOUD_SDK_PROJECT_ID").is_some();
        let profile = if explicit_auth && explicit_project {
            None
        } else {
            chain::Profile::load(env)?
        };
        let sts = match &self.sts_endpoint {
            Some(url) => parse_url("STS endpoint", url)?,
            None => region::sts_endpoint(region.as_deref(), env)?,
        };
        let mut agencies: Vec<chain::Agency> = Vec::new();
        let auth = match (&self.token, &self.credentials, &koocli) {
            (Some(token), _, _) => {
                crate::sign::check_token(token.expose_secret())?;
                AuthMode::Token(token.clone())
            }
            (None, Some(provider), _) => AuthMode::Signature(provider.clone()),
            (None, None, Some(selected)) => {
                agencies.extend(selected.agency.clone());
                AuthMode::Signature(selected.provider.clone())
            }
            (None, None, None) => {
                let config = chain::ChainConfig {
                    env,
                    profile: profile.as_ref(),
                    metadata,
                    iam: chain::federation_iam(
                        self.iam_endpoint.as_deref(),
                        region.as_deref(),
                        profile.as_ref(),
                        env,
                    )?,
                    sts: sts.clone(),
                };
                AuthMode::Signature(chain::default_chain(&config)?)
            }
        };
        agencies.extend(self.agencies.iter().cloned());
        let auth = with_agencies(
            auth,
            &agencies,
            chain::federation_iam(
                self.iam_endpoint.as_deref(),
                region.as_deref(),
                profile.as_ref(),
                env,
            )?,
            &sts,
        )?;
        let user_agent = self
            .user_agent
            .clone()
            .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned());
        let shared = Arc::new(Shared {
            auth,
            transport: Transport {
                http: http.clone(),
                retry: self.retry.clone().unwrap_or_default(),
                retry_statuses: true,
                attempt_timeout: Some(self.timeout.unwrap_or(Duration::from_secs(30))),
                user_agent: HeaderValue::from_str(&user_agent).map_err(|_| {
                    Error::invalid(
                        "user agent",
                        "contains characters HTTP headers cannot carry",
                    )
                })?,
                clock_offset: Arc::new(AtomicI64::new(0)),
                backoff: Arc::default(),
            },
        });
        // The project: the builder's, else HUAWEICLOUD_SDK_PROJECT_ID, else a KooCLI profile's, else the SDK
        // profile file's or IAM's (see ProjectResolver).
        // With agencies, the project is the agency account's: configured ones (the variable, the profile
        // files) are the caller's, so only the builder's counts; else IAM is asked with the agency's keys.
        let (explicit_project, project_profile, project_env) = if agencies.is_empty() {
            let configured = self
                .project_id
                .clone()
                .or_else(|| env.get("HUAWEICLOUD_SDK_PROJECT_ID"))
                .or_else(|| koocli.as_ref().and_then(|k| k.project_id.clone()));
            (configured, profile.as_ref(), env.clone())
        } else {
            (
                self.project_id.clone(),
                None,
                env.without("HUAWEICLOUD_SDK_PROJECT_ID"),
            )
        };
        let project = ProjectResolver::new(
            explicit_project,
            region.clone(),
            self.iam_endpoint.clone(),
            project_profile,
            &project_env,
            shared.clone(),
        )?;
        // The IAM that lists the identity's projects: the builder's, the profile file's, the variable's, the
        // region's, else the global one.
        let profile_label = profile
            .as_ref()
            .map(|p| format!("the profile file {}", p.path().display()));
        let explicit_iam = match (&self.iam_endpoint, &profile) {
            (Some(url), _) => Some((url.as_str(), "the builder's iam_endpoint")),
            (None, Some(p)) => p.iam_endpoint.as_deref().zip(profile_label.as_deref()),
            (None, None) => None,
        };
        let fleet = Arc::new(crate::fleet::FleetBase {
            explicit_endpoint: self.endpoint.is_some(),
            env: env.clone(),
            iam: region::iam_endpoint(region.as_deref().unwrap_or_default(), explicit_iam, env)?,
            http: http.clone(),
        });
        let base = endpoint.as_str().trim_end_matches('/').to_owned();
        Ok(Client {
            generated: Generated::new_with_client(
                &base,
                http.builder_client(),
                Inner(shared.clone()),
            ),
            shared,
            project: Arc::new(project),
            endpoint,
            sts,
            agencies: agencies.iter().map(chain::Agency::urn).collect(),
            fleet,
        })
    }

    /// The client's HTTP clients (see [`HttpClients`]): proxies, time-outs and custom roots as configured;
    /// the system's TLS roots are loaded only for the first `https://` request.
    fn http_clients(&self) -> Result<HttpClients> {
        let env = &self.environment;
        // Proxies come from our Environment, not from reqwest's own reading of the process environment,
        // so that an injected environment is the whole truth.
        let no_proxy = self
            .no_proxy
            .clone()
            .or_else(|| env.get("NO_PROXY"))
            .or_else(|| env.get("no_proxy"));
        let mut proxies = Vec::new();
        for (url, https) in [
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
        ] {
            let Some(url) = url else { continue };
            let proxy = if https {
                reqwest::Proxy::https(&url)
            } else {
                reqwest::Proxy::http(&url)
            };
            let proxy =
                proxy.map_err(|e| Error::config_caused(format!("invalid proxy URL {url:?}"), e))?;
            proxies
                .push(proxy.no_proxy(no_proxy.as_deref().and_then(reqwest::NoProxy::from_string)));
        }
        let mut roots = Vec::new();
        for pem in &self.root_certificates {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::config_caused("the custom CA bundle is not valid PEM", e))?;
            if certs.is_empty() {
                return Err(Error::config(
                    "the custom CA bundle holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                ));
            }
            roots.extend(certs);
        }
        let connect_timeout = self.connect_timeout.unwrap_or(Duration::from_secs(10));
        let accept_invalid = self.danger_accept_invalid_certs;
        HttpClients::new(move |tls| {
            let mut builder = reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(connect_timeout)
                .danger_accept_invalid_certs(accept_invalid);
            for proxy in &proxies {
                builder = builder.proxy(proxy.clone());
            }
            if !tls {
                builder = builder.tls_certs_only(std::iter::empty());
            }
            for cert in &roots {
                builder = builder.add_root_certificate(cert.clone());
            }
            builder
        })
        .map_err(|e| Error::config_caused("cannot set up the HTTP client", e))
    }
}

/// `auth` with `agencies` assumed in order (none: unchanged); federated by `iam` and `sts`.
fn with_agencies(
    auth: AuthMode,
    agencies: &[chain::Agency],
    iam: url::Url,
    sts: &url::Url,
) -> Result<AuthMode> {
    if agencies.is_empty() {
        return Ok(auth);
    }
    let AuthMode::Signature(mut provider) = auth else {
        return Err(Error::config(
            "an agency is assumed with AK/SK credentials (signed), not with an IAM token",
        ));
    };
    for agency in agencies {
        agency.check()?;
        let label = match agency.domain {
            chain::AgencyDomain::Id(_) => {
                chain::temporary::check_token_url(sts, "the STS endpoint")?;
                "agency (STS assume)"
            }
            _ => {
                chain::temporary::check_token_url(&iam, "the IAM endpoint")?;
                "agency (IAM assume_role)"
            }
        };
        provider = Arc::new(chain::Renewing::new(chain::AssumeAgency {
            agency: agency.clone(),
            base: provider,
            sts: sts.clone(),
            iam: iam.clone(),
            http: chain::SourceHttp::new(label, true),
        }));
    }
    Ok(AuthMode::Signature(provider))
}

pub(crate) fn parse_url(what: &str, text: &str) -> Result<url::Url> {
    let url = url::Url::parse(text).map_err(|e| {
        // The text is not quoted when it may hold a password (`user:pass@`).
        let shown = if text.contains('@') {
            String::from("(not shown: it has an '@')")
        } else {
            format!("{text:?}")
        };
        Error::config(format!("invalid {what} URL {shown}: {e}"))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        // A password here would be stored in kubeconfig exec args (visible to `ps`) and in logs.
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(Error::config(format!(
            "invalid {what} URL {}: a user name or password in the URL is refused (it would be \
             stored and shown); give credentials the usual ways",
            escaped(shown.as_str(), 200)
        )));
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::config(format!(
            "invalid {what} URL {text:?}: expected http(s)://host[:port]"
        )));
    }
    Ok(url)
}

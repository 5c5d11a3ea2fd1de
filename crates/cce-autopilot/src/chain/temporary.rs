//! What every source of temporary credentials shares: the answer's shapes, the renewal rule, token files,
//! where a token may be sent, and one way to call IAM, STS and the pod-identity agent through the pipeline.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use crate::clients::HttpClients;
use crate::credentials::{BoxFuture, Credentials, ProvideCredentials};
use crate::pipeline::{CallAuth, DEFAULT_USER_AGENT, Failure, Outcome, Transport, UnsignedCall};
use crate::redact::excerpt;
use crate::retry::RetryConfig;
use crate::{Error, Result};

/// Temporary credentials are renewed when fewer than this remain (the SDK's rule), or half their
/// lifetime, whichever comes first.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(40 * 60);
/// After a failed renewal, cached credentials still valid for this long are used rather than failing.
const GRACE_AFTER_FAILED_RENEWAL: Duration = Duration::from_secs(60);
/// How long a failed fetch is remembered: callers queued behind it get its error at once.
const FAILURE_MEMORY: Duration = Duration::from_secs(5);
/// Credentials refused although not expired are fetched again only when at least this old.
const REFUSED_REFETCH_AFTER: Duration = Duration::from_secs(30);
/// The longest wait for one call to IAM, STS or the pod-identity agent.
const SOURCE_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest token file read (ID tokens are a few KiB).
const TOKEN_FILE_LIMIT: u64 = 64 * 1024;

/// One fetch of new temporary credentials from a source.
pub(crate) trait Fetch: fmt::Debug + Send + Sync {
    /// New credentials, with their expiry.
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>>;
}

/// A source's credentials, fetched once and renewed at min(40 minutes, half their lifetime) before they
/// expire. Concurrent calls wait for one renewal and share it; a failed fetch is remembered for a few
/// seconds, so that callers queued behind it fail at once instead of each waiting out its own.
#[derive(Debug)]
pub(crate) struct Renewing<F> {
    fetcher: F,
    state: tokio::sync::Mutex<RenewState>,
}

#[derive(Debug, Default)]
struct RenewState {
    /// The credentials and when they were fetched.
    current: Option<(Credentials, SystemTime)>,
    /// The last failed fetch: when, and its error's text.
    failed: Option<(std::time::Instant, String)>,
}

impl<F: Fetch> Renewing<F> {
    pub(crate) fn new(fetcher: F) -> Self {
        Renewing {
            fetcher,
            state: tokio::sync::Mutex::new(RenewState::default()),
        }
    }
}

/// How long before expiry credentials fetched at `fetched` and expiring at `expires` are renewed.
pub(crate) fn renewal_margin(fetched: SystemTime, expires: SystemTime) -> Duration {
    let lifetime = expires.duration_since(fetched).unwrap_or_default();
    RENEW_BEFORE_EXPIRY.min(lifetime / 2)
}

/// Whether `credentials` stay valid for at least `margin` after `now`.
pub(crate) fn fresh(credentials: &Credentials, now: SystemTime, margin: Duration) -> bool {
    credentials
        .expires_at()
        .and_then(|at| at.duration_since(now).ok())
        .is_some_and(|left| left >= margin)
}

impl<F: Fetch> ProvideCredentials for Renewing<F> {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            let now = SystemTime::now();
            if let Some((credentials, fetched)) = &state.current
                && let Some(expires) = credentials.expires_at()
                && fresh(credentials, now, renewal_margin(*fetched, expires))
            {
                return Ok(credentials.clone());
            }
            let usable = |state: &RenewState, now| {
                state
                    .current
                    .as_ref()
                    .filter(|(c, _)| fresh(c, now, GRACE_AFTER_FAILED_RENEWAL))
                    .map(|(c, _)| c.clone())
            };
            if let Some((at, message)) = &state.failed
                && at.elapsed() < FAILURE_MEMORY
            {
                return match usable(&state, now) {
                    Some(credentials) => Ok(credentials),
                    None => Err(Error::credentials(message.clone())),
                };
            }
            match self.fetcher.fetch().await {
                Ok(credentials) => {
                    crate::sign::check_credentials(&credentials)?;
                    tracing::debug!(
                        source = credentials.source(),
                        access_key = credentials.access_key(),
                        expires_at = ?credentials.expires_at(),
                        "fetched temporary credentials"
                    );
                    state.current = Some((credentials.clone(), now));
                    state.failed = None;
                    Ok(credentials)
                }
                Err(error) => {
                    state.failed = Some((std::time::Instant::now(), error.to_string()));
                    // The fetch may have taken a while: what is left of the cached ones counts from now.
                    match usable(&state, SystemTime::now()) {
                        Some(credentials) => {
                            tracing::warn!(%error, "renewing temporary credentials failed; using the cached ones until they expire");
                            Ok(credentials)
                        }
                        None => Err(error),
                    }
                }
            }
        })
    }

    fn expired(&self, rejected: &Credentials) -> BoxFuture<'_, ()> {
        self.forget(rejected, Duration::ZERO)
    }

    /// Not expired, yet refused (revoked, rotated): fetched again, but not more than once in a while, so
    /// that a gateway refusing every call does not cost a fetch per call.
    fn refused(&self, rejected: &Credentials) -> BoxFuture<'_, ()> {
        self.forget(rejected, REFUSED_REFETCH_AFTER)
    }
}

impl<F: Fetch> Renewing<F> {
    /// Drops the cached credentials when they are `rejected`'s and at least `min_age` old, so that the next
    /// call fetches new ones.
    fn forget(&self, rejected: &Credentials, min_age: Duration) -> BoxFuture<'_, ()> {
        let access_key = rejected.access_key().to_owned();
        Box::pin(async move {
            let mut state = self.state.lock().await;
            let stale = state.current.as_ref().is_some_and(|(c, fetched)| {
                c.access_key() == access_key
                    && SystemTime::now()
                        .duration_since(*fetched)
                        .is_ok_and(|age| age >= min_age)
            });
            if stale {
                state.current = None;
                state.failed = None;
            }
        })
    }
}

/// Reads any shape of a temporary-credential answer: an outer `credential` or `credentials` object with
/// `access`|`accessKeyId`|`access_key_id`, `secret`|`secretAccessKey`|`secret_access_key`,
/// `securitytoken`|`securityToken`|`security_token`, `expires_at`|`expiration` (any RFC 3339 time).
/// Reasons never quote the secret key or the token.
pub(crate) fn parse_temporary(
    body: &[u8],
    source: &'static str,
) -> std::result::Result<Credentials, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_owned())?;
    let inner = document
        .get("credential")
        .or_else(|| document.get("credentials"))
        .filter(|v| v.is_object())
        .ok_or_else(|| "the answer has no `credential` (or `credentials`) object".to_owned())?;
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| inner.get(*name).and_then(Value::as_str))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("the answer has no `{}` text", names.join("` / `")))
    };
    let access = field(&["access", "accessKeyId", "access_key_id"])?;
    let secret = field(&["secret", "secretAccessKey", "secret_access_key"])?;
    let token = field(&["securitytoken", "securityToken", "security_token"])?;
    let expires = field(&["expires_at", "expiration"])?;
    let expires_at =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .map_err(|e| format!("the expiry time {expires:?} is not an RFC 3339 time ({e})"))?;
    Ok(Credentials::new(access, secret)
        .with_security_token(token)
        .with_expiry(SystemTime::from(expires_at))
        .with_source(source))
}

/// A token file's contents, trimmed, read again on every renewal (projected tokens rotate).
pub(crate) fn read_token_file(path: &Path, what: &str) -> Result<SecretString> {
    use std::io::Read as _;
    // A FIFO or a device would block or never end: tokens are regular files (or links to them).
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(Error::credentials(format!(
                "the {what} file {} is not a regular file",
                path.display()
            )));
        }
        _ => {}
    }
    let file = std::fs::File::open(path).map_err(|e| Error::Credentials {
        message: format!("cannot read the {what} file {}", path.display()),
        source: Some(Box::new(e)),
    })?;
    let mut text = String::new();
    file.take(TOKEN_FILE_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::Credentials {
            message: format!("cannot read the {what} file {} as text", path.display()),
            source: Some(Box::new(e)),
        })?;
    if text.len() as u64 > TOKEN_FILE_LIMIT {
        return Err(Error::credentials(format!(
            "the {what} file {} is larger than {TOKEN_FILE_LIMIT} bytes: not a token",
            path.display()
        )));
    }
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::credentials(format!(
            "the {what} file {} is empty",
            path.display()
        )));
    }
    Ok(SecretString::from(token.to_owned()))
}

/// Where a token comes from: a file read at each fetch, or a value given once.
#[derive(Clone)]
pub(crate) enum TokenSource {
    File(PathBuf),
    Value(SecretString),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::File(path) => f.debug_tuple("File").field(path).finish(),
            TokenSource::Value(_) => f.write_str("Value(** redacted **)"),
        }
    }
}

impl TokenSource {
    pub(crate) fn read(&self, what: &str) -> Result<SecretString> {
        match self {
            TokenSource::File(path) => read_token_file(path, what),
            TokenSource::Value(token) => Ok(token.clone()),
        }
    }
}

/// Tokens (ID tokens, pod tokens) go only over https, or plain http to a loopback or link-local address.
pub(crate) fn check_token_url(url: &Url, what: &str) -> Result<()> {
    let local = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() == "https" || (url.scheme() == "http" && local) {
        Ok(())
    } else {
        Err(Error::config(format!(
            "{what} {url} would carry a token in the clear: use https (plain http only to a loopback or \
             link-local address)"
        )))
    }
}

/// The pipeline of a credential source: its own clients (`proxy`: whether `HTTP(S)_PROXY` applies), `timeout`
/// for connecting, for each read and for each attempt, `attempts` tries of a failed connection, statuses
/// never retried (they are answers).
pub(crate) fn source_transport(timeout: Duration, proxy: bool, attempts: u32) -> Result<Transport> {
    let http = HttpClients::new(move |tls| {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout);
        if !proxy {
            builder = builder.no_proxy();
        }
        if tls {
            builder
        } else {
            builder.tls_certs_only(std::iter::empty())
        }
    })
    .map_err(|e| Error::config_caused("cannot set up the HTTP client of a credential source", e))?;
    Ok(Transport {
        http,
        retry: RetryConfig::default()
            .with_max_attempts(attempts)
            .with_base_delay(Duration::from_millis(100))
            .with_max_elapsed(timeout * (attempts + 1)),
        retry_statuses: false,
        attempt_timeout: Some(timeout * 2),
        user_agent: reqwest::header::HeaderValue::from_static(DEFAULT_USER_AGENT),
        clock_offset: std::sync::Arc::default(),
        backoff: std::sync::Arc::default(),
    })
}

/// An error answer as errors quote it: shortened and redacted, and without the secrets the request carried
/// (`sent`), whatever their shape, should the answer echo them.
pub(crate) fn quoted(body: &[u8], sent: &[&SecretString]) -> String {
    use secrecy::ExposeSecret as _;
    // Scrubbed before the excerpt is cut, so that no cut leaves a piece of a secret behind.
    let mut text = String::from_utf8_lossy(body).into_owned();
    for secret in sent {
        let secret = secret.expose_secret();
        if secret.len() >= 4 {
            text = text.replace(secret, "REDACTED");
        }
    }
    excerpt(text.as_bytes())
}

/// One source's calls: the pipeline's, unsigned as the SDK sends them, short time-outs. The HTTP clients are
/// made at the first call, so that reading the chain's configuration (the plugin's cache hit path) makes none.
#[derive(Debug)]
pub(crate) struct SourceHttp {
    transport: std::sync::OnceLock<Transport>,
    /// Whether `HTTP(S)_PROXY` applies (IAM and STS are public; the pod agent is local).
    proxy: bool,
    /// Names the source in errors, e.g. "OIDC via STS (assume-with-oidc)".
    label: &'static str,
}

impl SourceHttp {
    pub(crate) fn new(label: &'static str, proxy: bool) -> Self {
        SourceHttp {
            transport: std::sync::OnceLock::new(),
            proxy,
            label,
        }
    }

    fn transport(&self) -> Result<&Transport> {
        if let Some(transport) = self.transport.get() {
            return Ok(transport);
        }
        let made = source_transport(SOURCE_TIMEOUT, self.proxy, 2)?;
        Ok(self.transport.get_or_init(|| made))
    }

    pub(crate) fn failed(&self, what: impl fmt::Display) -> Error {
        Error::credentials(format!("{}: {what}", self.label))
    }

    /// Sends a JSON `body` to `url` unsigned, as the SDK sends `call`; the answer's headers and body. Error
    /// answers are quoted shortened and redacted, without the header values sent nor `secrets` (what the body
    /// carries), should they echo them.
    pub(crate) async fn post_json(
        &self,
        url: Url,
        headers: &[(&'static str, &SecretString)],
        body: &Value,
        secrets: &[&SecretString],
        call: UnsignedCall,
    ) -> Result<(reqwest::header::HeaderMap, bytes::Bytes)> {
        let sent = Sent {
            headers,
            body,
            secrets,
            content_type: call.content_type(),
        };
        self.send(url, sent, CallAuth::Unsigned(call), call.operation())
            .await
    }

    /// Sends a JSON `body` to `url` signed with `credentials` (from `renewer`), as IAM and STS calls made
    /// as the caller are (assuming an agency); like [`SourceHttp::post_json`] otherwise.
    pub(crate) async fn post_signed(
        &self,
        url: Url,
        body: &Value,
        credentials: Credentials,
        renewer: std::sync::Arc<dyn ProvideCredentials>,
        operation: &'static str,
    ) -> Result<(reqwest::header::HeaderMap, bytes::Bytes)> {
        // The security token travels as a header the pipeline adds: scrubbed from quoted answers too.
        let token = credentials
            .security_token()
            .map(|t| SecretString::from(t.to_owned()));
        let secrets: Vec<&SecretString> = token.iter().collect();
        let sent = Sent {
            headers: &[],
            body,
            secrets: &secrets,
            content_type: "application/json;charset=UTF-8",
        };
        let auth = CallAuth::Signed {
            credentials,
            project_id: None,
            renewer: Some(renewer),
        };
        self.send(url, sent, auth, operation).await
    }

    async fn send(
        &self,
        url: Url,
        sent: Sent<'_>,
        auth: CallAuth,
        operation: &'static str,
    ) -> Result<(reqwest::header::HeaderMap, bytes::Bytes)> {
        use secrecy::ExposeSecret as _;
        let mut request = reqwest::Request::new(reqwest::Method::POST, url);
        let head = request.headers_mut();
        head.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static(sent.content_type),
        );
        for (name, value) in sent.headers {
            let mut value = reqwest::header::HeaderValue::from_str(value.expose_secret())
                .map_err(|_| self.failed(format_args!("the {name} value is not a valid header")))?;
            value.set_sensitive(true);
            head.insert(*name, value);
        }
        *request.body_mut() = Some(sent.body.to_string().into());
        let mut outcome = Outcome::default();
        let response = match self
            .transport()?
            .send(request, &auth, operation, &mut outcome)
            .await
        {
            Ok(response) => response,
            Err(Failure::Refused(reason)) => return Err(self.failed(reason)),
            Err(Failure::Rejected(rejected)) => return Err(self.failed(rejected)),
            Err(Failure::Transport(error)) => {
                return Err(Error::Credentials {
                    message: format!("{}: cannot connect or no answer", self.label),
                    source: Some(Box::new(error)),
                });
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            let secrets: Vec<&SecretString> = sent
                .headers
                .iter()
                .map(|(_, v)| *v)
                .chain(sent.secrets.iter().copied())
                .collect();
            return Err(self.failed(format_args!(
                "answered {status}: {}",
                quoted(&body, &secrets)
            )));
        }
        Ok((headers, body))
    }
}

/// What one call sends besides its URL and authentication.
struct Sent<'a> {
    headers: &'a [(&'static str, &'a SecretString)],
    body: &'a Value,
    /// Secrets the body carries, scrubbed from quoted error answers.
    secrets: &'a [&'a SecretString],
    content_type: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_of_temporary_credentials_is_read_and_secrets_stay_out_of_reasons() {
        for body in [
            &br#"{"credential":{"access":"A","secret":"S","securitytoken":"T","expires_at":"2026-11-28T18:00:00.000000Z"}}"#[..],
            br#"{"credentials":{"access_key_id":"A","secret_access_key":"S","security_token":"T","expiration":"2026-11-28T18:00:00Z"}}"#,
            br#"{"credentials":{"accessKeyId":"A","secretAccessKey":"S","securityToken":"T","expiration":"2026-11-28T20:00:00+02:00"}}"#,
        ] {
            let c = parse_temporary(body, "test").unwrap();
            assert_eq!((c.access_key(), c.security_token()), ("A", Some("T")));
            let at = c.expires_at().unwrap().duration_since(SystemTime::UNIX_EPOCH).unwrap();
            assert_eq!(at.as_secs(), 1_795_888_800);
        }
        for body in [
            &br#"{"credential":{"access":"A","secret":"SECRET-1","securitytoken":"TOKEN-1"}}"#[..],
            br#"{"credentials":{"access_key_id":"A","secret_access_key":"SECRET-1","security_token":"TOKEN-1","expiration":"soon"}}"#,
            b"SECRET-1 TOKEN-1",
        ] {
            let reason = parse_temporary(body, "test").unwrap_err();
            assert!(!reason.contains("SECRET-1") && !reason.contains("TOKEN-1"), "{reason}");
        }
    }

    #[test]
    fn renewal_comes_at_forty_minutes_or_half_the_lifetime() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hours = |h: u64| t0 + Duration::from_secs(h * 3600);
        assert_eq!(renewal_margin(t0, hours(6)), Duration::from_secs(40 * 60));
        assert_eq!(
            renewal_margin(t0, t0 + Duration::from_secs(900)),
            Duration::from_secs(450)
        );
        assert_eq!(
            renewal_margin(t0, t0 - Duration::from_secs(1)),
            Duration::ZERO
        );
    }

    #[test]
    fn tokens_travel_only_over_https_or_to_local_addresses() {
        for ok in [
            "https://sts.example.com",
            "http://127.0.0.1:8080/x",
            "http://169.254.170.2/v1",
            "http://localhost:1",
        ] {
            assert!(
                check_token_url(&Url::parse(ok).unwrap(), "endpoint").is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://sts.example.com",
            "http://10.0.0.1/v1",
            "ftp://127.0.0.1/",
        ] {
            assert!(
                check_token_url(&Url::parse(bad).unwrap(), "endpoint").is_err(),
                "{bad}"
            );
        }
    }
}

//! Temporary credentials from the ECS metadata service of a Huawei Cloud server, asked through the
//! client's one request path (anonymous: the service is link-local and checks its own session token).

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::temporary::{fresh, quoted, source_transport};
use crate::credentials::{BoxFuture, Credentials, ProvideCredentials};
use crate::pipeline::{CallAuth, Failure, Outcome, Transport, UnsignedCall};
use crate::redact::excerpt;
use crate::{Error, Result};

/// How long each step of a metadata request may take (the SDK's 3 s connect and 3 s read time-outs).
const METADATA_TIMEOUT: Duration = Duration::from_secs(3);
/// Validity requested for a metadata session token (the SDK's value).
const METADATA_TOKEN_TTL: Duration = Duration::from_secs(21_600);
/// A metadata token is renewed this long before its TTL runs out.
const METADATA_TOKEN_MARGIN: Duration = Duration::from_secs(600);
/// Temporary credentials are refreshed when fewer than this remain (the SDK's rule).
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(40 * 60);
/// After a failed refresh, cached credentials still valid for this long are used rather than failing the call.
const GRACE_AFTER_FAILED_REFRESH: Duration = Duration::from_secs(60);
/// The body of a 401 that means "this server has no agency", which a new token cannot fix.
const NO_AGENCY: &str = "Please configure Cloud Service Agency first";

/// Temporary credentials from the ECS metadata service of a Huawei Cloud server.
///
/// Refreshed when fewer than 40 minutes of validity remain; concurrent calls wait for one refresh.
pub(crate) struct MetadataCredentials {
    base: Url,
    transport: Transport,
    state: tokio::sync::Mutex<MetadataState>,
}

#[derive(Default)]
struct MetadataState {
    /// The session token and when it was issued.
    token: Option<(SecretString, Instant)>,
    credentials: Option<Credentials>,
}

impl fmt::Debug for MetadataCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataCredentials")
            .field("endpoint", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl MetadataCredentials {
    /// A source asking the metadata service at `base` (on a cloud server `http://169.254.169.254`).
    pub(crate) fn new(mut base: Url) -> Result<Self> {
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        // A client of its own: the link-local service is never reached through a proxy, and its time-outs
        // are the SDK's short ones, not the API's. One attempt: on a machine that is no ECS server, the
        // first failed call ends this source at once rather than after retries.
        let transport = source_transport(METADATA_TIMEOUT, false, 1)?;
        Ok(MetadataCredentials {
            base,
            transport,
            state: tokio::sync::Mutex::new(MetadataState::default()),
        })
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::config(format!("invalid ECS metadata URL {}: {e}", self.base)))
    }

    fn failed(&self, what: impl fmt::Display) -> Error {
        Error::credentials(format!(
            "cannot get credentials from the ECS metadata service at {}: {what}",
            self.base
        ))
    }

    /// Sends one request to the service; the status and the body, read in full.
    async fn call(
        &self,
        request: reqwest::Request,
        call: UnsignedCall,
    ) -> Result<(u16, bytes::Bytes)> {
        let mut outcome = Outcome::default();
        match self
            .transport
            .send(
                request,
                &CallAuth::Unsigned(call),
                call.operation(),
                &mut outcome,
            )
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                Ok((status, response.bytes().await.unwrap_or_default()))
            }
            Err(Failure::Refused(reason)) => Err(self.failed(reason)),
            Err(Failure::Rejected(rejected)) => Err(self.failed(rejected)),
            Err(Failure::Transport(error)) => {
                let what = if error.is_timeout() {
                    "no answer within the SDK's 3 s time-outs"
                } else {
                    "cannot connect"
                };
                Err(Error::Credentials {
                    message: format!(
                        "cannot get credentials from the ECS metadata service at {}: {what} ({} attempt(s); is \
                         this a Huawei Cloud server? elsewhere, configure credentials in the environment or \
                         the profile file)",
                        self.base,
                        outcome.attempts.max(1)
                    ),
                    source: Some(Box::new(error)),
                })
            }
        }
    }

    /// A session token: the cached one unless `renew`, else a new one; `None` when the server has no
    /// token service (404, 405, 503).
    async fn token(&self, state: &mut MetadataState, renew: bool) -> Result<Option<SecretString>> {
        if let Some((token, issued)) = &state.token
            && !renew
            && issued.elapsed() + METADATA_TOKEN_MARGIN < METADATA_TOKEN_TTL
        {
            return Ok(Some(token.clone()));
        }
        state.token = None;
        let mut request = reqwest::Request::new(
            reqwest::Method::PUT,
            self.url("meta-data/latest/api/token")?,
        );
        request.headers_mut().insert(
            "x-metadata-token-ttl-seconds",
            reqwest::header::HeaderValue::from(METADATA_TOKEN_TTL.as_secs()),
        );
        let (status, body) = self.call(request, UnsignedCall::MetadataToken).await?;
        if matches!(status, 404 | 405 | 503) {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            return Err(self.failed(format_args!(
                "the token request answered {status}: {:?}",
                excerpt(&body)
            )));
        }
        let token = String::from_utf8_lossy(&body).trim().to_owned();
        if token.is_empty() {
            return Err(self.failed("the token request answered with an empty token"));
        }
        let token = SecretString::from(token);
        state.token = Some((token.clone(), Instant::now()));
        Ok(Some(token))
    }

    /// `GET openstack/latest/securitykey`: the status and body.
    async fn security_key(&self, token: Option<&SecretString>) -> Result<(u16, bytes::Bytes)> {
        let mut request = reqwest::Request::new(
            reqwest::Method::GET,
            self.url("openstack/latest/securitykey")?,
        );
        if let Some(token) = token {
            let mut value = reqwest::header::HeaderValue::from_str(token.expose_secret())
                .map_err(|_| self.failed("the metadata token is not a valid header value"))?;
            value.set_sensitive(true);
            request.headers_mut().insert("x-metadata-token", value);
        }
        self.call(request, UnsignedCall::MetadataSecurityKey).await
    }

    async fn fetch(&self, state: &mut MetadataState) -> Result<Credentials> {
        let mut token = self.token(state, false).await?;
        let (mut status, mut body) = self.security_key(token.as_ref()).await?;
        let no_agency = |body: &[u8]| String::from_utf8_lossy(body).contains(NO_AGENCY);
        if status == 401 && !no_agency(&body) {
            // The session token expired or was refused: one more try with a new one.
            token = self.token(state, true).await?;
            (status, body) = self.security_key(token.as_ref()).await?;
        }
        if status == 401 && no_agency(&body) {
            return Err(self.failed(
                "the server has no agency (\"Please configure Cloud Service Agency first\"): attach an IAM \
                 agency to this ECS server, or configure credentials in the environment or the profile file",
            ));
        }
        if !(200..300).contains(&status) {
            // Error bodies carry no credentials, so they may be quoted (without the session token, should
            // they echo it); success bodies never are.
            return Err(self.failed(format_args!(
                "the securitykey request answered {status}: {:?}",
                quoted(&body, &token.iter().collect::<Vec<_>>())
            )));
        }
        parse_security_key(&body).map_err(|reason| self.failed(reason))
    }
}

impl ProvideCredentials for MetadataCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            // Held across the refresh, so that concurrent calls wait for one refresh and then share it.
            let mut state = self.state.lock().await;
            if let Some(cached) = &state.credentials
                && fresh(cached, SystemTime::now(), REFRESH_BEFORE_EXPIRY)
            {
                return Ok(cached.clone());
            }
            match self.fetch(&mut state).await {
                Ok(credentials) => {
                    tracing::debug!(
                        access_key = credentials.access_key(),
                        expires_at = ?credentials.expires_at(),
                        "fetched temporary credentials from the ECS metadata service"
                    );
                    state.credentials = Some(credentials.clone());
                    Ok(credentials)
                }
                Err(error) => match &state.credentials {
                    Some(cached)
                        if fresh(cached, SystemTime::now(), GRACE_AFTER_FAILED_REFRESH) =>
                    {
                        tracing::warn!(%error, "refreshing the ECS metadata credentials failed; using the cached ones until they expire");
                        Ok(cached.clone())
                    }
                    _ => Err(error),
                },
            }
        })
    }

    /// The service is local and cheap to ask: refused credentials are fetched again like expired ones.
    fn refused(&self, rejected: &Credentials) -> BoxFuture<'_, ()> {
        self.expired(rejected)
    }

    fn expired(&self, rejected: &Credentials) -> BoxFuture<'_, ()> {
        let access_key = rejected.access_key().to_owned();
        Box::pin(async move {
            let mut state = self.state.lock().await;
            if state
                .credentials
                .as_ref()
                .is_some_and(|c| c.access_key() == access_key)
            {
                state.credentials = None;
            }
        })
    }
}

/// Reads either shape of the securitykey document. Reasons never quote the secret key or the token.
fn parse_security_key(body: &[u8]) -> std::result::Result<Credentials, String> {
    let document: Value = serde_json::from_slice(body)
        .map_err(|_| "the securitykey answer is not JSON".to_owned())?;
    let inner = document
        .get("credential")
        .or_else(|| document.get("credentials"))
        .filter(|v| v.is_object())
        .ok_or_else(|| {
            "the securitykey answer has no `credential` (or `credentials`) object".to_owned()
        })?;
    let field = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|name| inner.get(*name).and_then(Value::as_str))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!(
                    "the securitykey answer has no `{}` (or `{}`) text",
                    names[0], names[1]
                )
            })
    };
    let access = field(["access", "accessKeyId"])?;
    let secret = field(["secret", "secretAccessKey"])?;
    let token = field(["securitytoken", "securityToken"])?;
    let expires = field(["expires_at", "expiration"])?;
    let expires_at =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .map_err(|e| format!("the expiry time {expires:?} is not an RFC 3339 time ({e})"))?;
    Ok(Credentials::new(access, secret)
        .with_security_token(token)
        .with_expiry(SystemTime::from(expires_at))
        .with_source("metadata"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_key_reads_both_shapes() {
        let a = parse_security_key(
            br#"{"credential":{"access":"A1","secret":"S1","securitytoken":"T1","expires_at":"2026-11-28T18:00:00.000000Z"}}"#,
        )
        .unwrap();
        assert_eq!(a.access_key(), "A1");
        assert_eq!(a.security_token(), Some("T1"));
        assert_eq!(a.source(), "metadata");
        let b = parse_security_key(
            br#"{"credentials":{"accessKeyId":"A2","secretAccessKey":"S2","securityToken":"T2","expiration":"2026-11-28T18:00:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(b.access_key(), "A2");
        assert_eq!(a.expires_at(), b.expires_at());
        assert_eq!(
            b.expires_at()
                .unwrap()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_795_888_800
        );
    }

    #[test]
    fn security_key_errors_never_quote_secrets() {
        for body in [
            &br#"{"credential":{"access":"A","secret":"SECRET-1","securitytoken":"TOKEN-1"}}"#[..],
            br#"{"credential":{"access":"A","secret":"SECRET-1","securitytoken":"TOKEN-1","expires_at":"soon"}}"#,
            br#"{"credential":{"access":"A","secret":["SECRET-1"],"securitytoken":"TOKEN-1","expires_at":"soon"}}"#,
            br#"{"other":{"secret":"SECRET-1"}}"#,
            b"SECRET-1 TOKEN-1",
        ] {
            let reason = parse_security_key(body).unwrap_err();
            assert!(
                !reason.contains("SECRET-1") && !reason.contains("TOKEN-1"),
                "{reason}"
            );
        }
    }

    #[test]
    fn freshness_keeps_the_refresh_margin() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |mins: u64| {
            Credentials::new("A", "S").with_expiry(now + Duration::from_secs(mins * 60))
        };
        assert!(!fresh(&at(30), now, REFRESH_BEFORE_EXPIRY));
        assert!(fresh(&at(41), now, REFRESH_BEFORE_EXPIRY));
        assert!(!fresh(
            &Credentials::new("A", "S"),
            now,
            REFRESH_BEFORE_EXPIRY
        ));
        assert!(!fresh(
            &Credentials::new("A", "S").with_expiry(now - Duration::from_secs(1)),
            now,
            REFRESH_BEFORE_EXPIRY
        ));
    }
}

//! The one path every HTTP call of the client takes — the generated operations, the IAM project lookup
//! and the ECS metadata service alike: authentication on every attempt (the AK/SK signature on the clock
//! the gateway taught us, or the token), attempts and waits inside one time budget, bodies read in full (and
//! never past their limit) so that a cut-short answer is retried, no redirect followed, clock-skew
//! recovery, one trace line per attempt.
//!
//! It fails closed: a request whose body cannot be replayed, or that cannot be signed, is refused before
//! anything is sent ([`Failure::Refused`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret as _, SecretString};

use crate::answer::{self, ReadError, Rejected};
use crate::backoff::Backoff;
use crate::clients::HttpClients;
use crate::credentials::{Credentials, ProvideCredentials};
use crate::retry::{RetryConfig, is_retryable_status, parse_retry_after};
use crate::sign::sign_request;

/// `User-Agent` of every request the client sends, unless the user sets another.
pub(crate) const DEFAULT_USER_AGENT: &str =
    concat!("cce-autopilot-rust/", env!("CARGO_PKG_VERSION"));

/// A skew below this is not worth a re-signed attempt: the gateway tolerates 15 minutes.
const SKEW_THRESHOLD_SECS: i64 = 5 * 60;

/// A deadline that never comes (a century), for budgets the clock cannot add.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// How a client authenticates its calls.
#[derive(Clone, Debug)]
pub(crate) enum AuthMode {
    /// AK/SK signature with credentials from a provider.
    Signature(Arc<dyn ProvideCredentials>),
    /// An IAM token in `X-Auth-Token`.
    Token(SecretString),
}

/// The authentication of one call, resolved once before its first attempt.
#[derive(Clone, Debug)]
pub(crate) enum CallAuth {
    /// Signed with these credentials, with `X-Project-Id` when a project is given. `renewer`: where they
    /// came from, asked once for new ones when the gateway refuses temporary credentials as expired.
    Signed {
        credentials: Credentials,
        project_id: Option<String>,
        renewer: Option<Arc<dyn ProvideCredentials>>,
    },
    /// `X-Auth-Token`, with `X-Project-Id`.
    Token {
        token: SecretString,
        project_id: Option<String>,
    },
    /// Nothing added, for exactly the calls the official SDK sends unsigned: each carries its own proof
    /// (an ID token, an IAM token, a metadata or pod token). Every other call is signed or refused.
    Unsigned(UnsignedCall),
}

/// The calls that go unsigned, as the official SDK sends them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnsignedCall {
    /// IAM `POST /v3.0/OS-AUTH/id-token/tokens`: an ID token for an unscoped IAM token.
    IdTokenTokens,
    /// IAM `POST /v3.0/OS-CREDENTIAL/securitytokens`, method `token`: that IAM token in the body.
    SecurityTokensByToken,
    /// STS `POST /v5/agencies/assume-with-oidc`: the ID token in the body.
    AssumeWithOidc,
    /// The ECS metadata service (session token, then `securitykey`): link-local, its own session token.
    MetadataToken,
    /// The ECS metadata service's `securitykey`.
    MetadataSecurityKey,
    /// The pod-identity agent: the pod's token in `Authorization`.
    PodIdentity,
}

impl UnsignedCall {
    /// The `Content-Type` of its JSON body, as the SDK sends it: IAM and STS with `charset=UTF-8`, the pod
    /// agent plain (the SDK posts it with `requests`' `json=`).
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            UnsignedCall::PodIdentity => "application/json",
            _ => "application/json;charset=UTF-8",
        }
    }

    /// The operation name in logs and errors (and its body limit: 1 MiB, like any non-API answer).
    pub(crate) fn operation(self) -> &'static str {
        match self {
            UnsignedCall::IdTokenTokens => "create_token_with_id_token",
            UnsignedCall::SecurityTokensByToken => "create_temporary_access_key_by_token",
            UnsignedCall::AssumeWithOidc => "assume_agency_with_oidc",
            UnsignedCall::MetadataToken => "metadata_token",
            UnsignedCall::MetadataSecurityKey => "metadata_securitykey",
            UnsignedCall::PodIdentity => "pod_identity_credentials",
        }
    }
}

/// What the attempts of one call saw, for the errors made from it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) attempts: u32,
    pub(crate) status: Option<u16>,
    pub(crate) request_id: Option<String>,
    pub(crate) timed_out: bool,
    pub(crate) elapsed: Duration,
    /// Why the call was refused before anything was sent.
    pub(crate) refused: Option<String>,
    /// Why the answer was not used (a redirect, a body past its limit).
    pub(crate) rejected: Option<Rejected>,
}

/// Why a call has no answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Nothing was sent: the request could not be authenticated.
    Refused(String),
    /// The last attempt failed on the network (or timed out).
    Transport(reqwest::Error),
    /// The answer is not one the client uses (see [`crate::answer`]); not retried.
    Rejected(Rejected),
}

/// An HTTP client with the policy its calls run under.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: HttpClients,
    pub(crate) retry: RetryConfig,
    /// Whether throttling and gateway statuses (429, 502, 503, 504) are retried, not only connection
    /// failures. The metadata service answers 503 to mean "no token service here".
    pub(crate) retry_statuses: bool,
    /// The longest wait for one attempt.
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) user_agent: HeaderValue,
    /// Server clock minus local clock, learnt from a "signature expired" answer.
    pub(crate) clock_offset: Arc<AtomicI64>,
    /// The pause every call honours after the service throttled one of them.
    pub(crate) backoff: Arc<Backoff>,
}

impl Transport {
    /// Now, corrected by the clock offset learnt from the gateway.
    pub(crate) fn now_unix(&self) -> i64 {
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        local.saturating_add(self.clock_offset.load(Ordering::Relaxed))
    }

    /// Today's date in UTC on the corrected clock.
    pub(crate) fn today_utc(&self) -> time::Date {
        time::OffsetDateTime::from_unix_timestamp(self.now_unix())
            .map_or_else(|_| time::OffsetDateTime::now_utc().date(), |t| t.date())
    }

    /// Sends `request` under `auth`, retrying as the policy allows, and returns the last answer with its
    /// body read in full. `outcome` records what the attempts saw.
    pub(crate) async fn send(
        &self,
        request: reqwest::Request,
        auth: &CallAuth,
        operation: &'static str,
        outcome: &mut Outcome,
    ) -> Result<reqwest::Response, Failure> {
        let started = Instant::now();
        // A budget too large for the clock (a library caller's Duration::MAX) is as good as none.
        let deadline = started
            .checked_add(self.retry.max_elapsed)
            .unwrap_or_else(|| started + FOREVER);
        let mut skew_corrected = false;
        let mut renewed = false;
        let mut auth = auth.clone();
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        loop {
            attempt += 1;
            // The service throttled a call of this client: all of them hold off together.
            self.backoff.wait(deadline).await;
            // Every attempt is signed anew (a fresh X-Sdk-Date), so the body must be replayable.
            let Some(mut this_try) = request.try_clone() else {
                return Err(self.refuse(
                    outcome,
                    "the request body cannot be replayed, so it cannot be signed for each attempt",
                ));
            };
            if let Err(reason) = self.authenticate(&mut this_try, &auth) {
                return Err(self.refuse(outcome, &reason));
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let per_try = self.attempt_timeout.map_or(remaining, |t| t.min(remaining));
            *this_try.timeout_mut() = Some(per_try.max(Duration::from_millis(1)));

            let attempt_started = Instant::now();
            let client = match self.http.for_url(this_try.url()) {
                Ok(client) => client,
                Err(e) => return Err(Failure::Transport(e)),
            };
            let result = match client.execute(this_try).await {
                Ok(response) => self.receive(response, operation, attempt, outcome).await?,
                Err(e) => Err(e),
            };
            let status = result.as_ref().ok().map(|r| r.status().as_u16());
            let request_id = result.as_ref().ok().and_then(request_id);
            tracing::debug!(
                operation,
                method = %request.method(),
                path = request.url().path(),
                attempt,
                status,
                request_id = request_id.as_deref(),
                elapsed_ms = millis(attempt_started.elapsed()),
                error = result.as_ref().err().map(|e| e.to_string()),
                "attempt finished"
            );
            outcome.attempts = attempt;
            outcome.status = status;
            outcome.request_id = request_id;
            outcome.timed_out = matches!(&result, Err(e) if e.is_timeout());
            outcome.elapsed = started.elapsed();

            // Temporary credentials that have expired on the gateway's clock (its Date header), whatever ours
            // says: learn the clock's offset too, ask their source once for new ones, and re-sign.
            if let Ok(response) = &result
                && !renewed
                && response.status() == reqwest::StatusCode::UNAUTHORIZED
                && let CallAuth::Signed {
                    credentials,
                    renewer: Some(renewer),
                    ..
                } = &mut auth
                && let (Some(expires), Some(server)) =
                    (credentials.expires_at(), server_time(response))
                && server >= expires
            {
                renewed = true;
                if !skew_corrected && let Some(offset) = self.skew_from(response) {
                    self.clock_offset.fetch_add(offset, Ordering::Relaxed);
                    skew_corrected = true;
                }
                if renew(renewer, credentials, true).await {
                    attempt -= 1;
                    continue;
                }
            }

            // Clock skew: the gateway refuses an X-Sdk-Date more than 15 minutes off its clock. Learn the
            // offset from its Date header, keep it for later calls, and re-sign once.
            if let Ok(response) = &result
                && matches!(auth, CallAuth::Signed { .. })
                && !skew_corrected
                && response.status() == reqwest::StatusCode::UNAUTHORIZED
                && let Some(offset) = self.skew_from(response)
            {
                tracing::warn!(
                    offset_seconds = offset,
                    "local clock is off; re-signing with the gateway's time"
                );
                self.clock_offset.fetch_add(offset, Ordering::Relaxed);
                skew_corrected = true;
                attempt -= 1; // the corrected attempt does not count against the retry budget
                continue;
            }

            // Temporary credentials the gateway refuses although they have not expired on its clock (revoked,
            // rotated under us): ask their source once for new ones and re-sign.
            if let Ok(response) = &result
                && !renewed
                && response.status() == reqwest::StatusCode::UNAUTHORIZED
                && let CallAuth::Signed {
                    credentials,
                    renewer: Some(renewer),
                    ..
                } = &mut auth
                && credentials.security_token().is_some()
            {
                renewed = true;
                if renew(renewer, credentials, false).await {
                    attempt -= 1;
                    continue;
                }
            }

            let retry_after = match &result {
                Ok(response)
                    if self.retry_statuses && is_retryable_status(response.status().as_u16()) =>
                {
                    Some(
                        response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| parse_retry_after(v, SystemTime::now())),
                    )
                }
                Err(e) if is_retryable_transport(e) => Some(None),
                _ => None,
            };
            let give_up = retry_after.is_none() || attempt >= self.retry.max_attempts;
            let wait = retry_after
                .filter(|_| !give_up)
                .map(|after| self.retry.delay(retries + 1, after));
            // Throttling slows every call down, not only this one.
            if let Ok(response) = &result
                && let Some(after) = retry_after
                && (response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS || after.is_some())
            {
                self.backoff
                    .hold(wait.unwrap_or_else(|| self.retry.delay(retries + 1, after)));
            }
            // A server's Retry-After can be any number: a wait past the deadline ends the call, never the clock.
            let Some(wait) = wait.filter(|w| {
                Instant::now()
                    .checked_add(*w)
                    .is_some_and(|at| at < deadline)
            }) else {
                return result.map_err(Failure::Transport);
            };
            retries += 1;
            tracing::debug!(attempt, wait_ms = millis(wait), "retrying");
            drop(result);
            tokio::time::sleep(wait).await;
        }
    }

    /// The answer with its body read, unless it is one the client does not use (a redirect, a body past
    /// the operation's limit): that ends the call.
    async fn receive(
        &self,
        response: reqwest::Response,
        operation: &'static str,
        attempt: u32,
        outcome: &mut Outcome,
    ) -> Result<reqwest::Result<reqwest::Response>, Failure> {
        // What a refusal reports; an answer that is used records them after the attempt, like any other.
        let seen = (response.status().as_u16(), request_id(&response));
        let rejected = match answer::redirect(&response) {
            Some(rejected) => rejected,
            None => match answer::read_bounded(response, answer::body_limit(operation)).await {
                Ok(response) => return Ok(Ok(response)),
                Err(ReadError::Transport(e)) => return Ok(Err(e)),
                Err(ReadError::Rejected(rejected)) => rejected,
            },
        };
        tracing::warn!(attempt, reason = %rejected, "answer not used");
        (outcome.attempts, outcome.status, outcome.request_id) = (attempt, Some(seen.0), seen.1);
        outcome.rejected = Some(rejected.clone());
        Err(Failure::Rejected(rejected))
    }

    fn refuse(&self, outcome: &mut Outcome, reason: &str) -> Failure {
        tracing::warn!(
            reason,
            "request refused before sending: it cannot be authenticated"
        );
        outcome.refused = Some(reason.to_owned());
        Failure::Refused(reason.to_owned())
    }

    /// Applies `auth` to one attempt. An error means the attempt must not be sent.
    fn authenticate(&self, request: &mut reqwest::Request, auth: &CallAuth) -> Result<(), String> {
        let headers = request.headers_mut();
        headers.insert(reqwest::header::USER_AGENT, self.user_agent.clone());
        let project_id = match auth {
            CallAuth::Signed { project_id, .. } | CallAuth::Token { project_id, .. } => {
                project_id.as_deref()
            }
            CallAuth::Unsigned(_) => None,
        };
        match project_id {
            Some(project) => {
                let value = HeaderValue::from_str(project).map_err(|_| {
                    format!("the project id {project:?} is not a valid header value")
                })?;
                headers.insert(HeaderName::from_static("x-project-id"), value);
            }
            None => {
                headers.remove("x-project-id");
            }
        }
        match auth {
            CallAuth::Signed { credentials, .. } => {
                sign_request(request, credentials, self.now_unix()).map_err(|e| e.to_string())
            }
            CallAuth::Token { token, .. } => {
                let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                    "the X-Auth-Token value contains characters HTTP headers cannot carry"
                        .to_owned()
                })?;
                value.set_sensitive(true);
                request
                    .headers_mut()
                    .insert(HeaderName::from_static("x-auth-token"), value);
                Ok(())
            }
            CallAuth::Unsigned(call) => {
                tracing::trace!(
                    call = call.operation(),
                    "unsigned, as the official SDK sends it"
                );
                Ok(())
            }
        }
    }

    /// The offset to add to our clock, if the response shows it is off by more than the threshold.
    fn skew_from(&self, response: &reqwest::Response) -> Option<i64> {
        let server = server_time(response)?;
        let server = i64::try_from(server.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
        let offset = server - self.now_unix();
        (offset.abs() > SKEW_THRESHOLD_SECS).then_some(offset)
    }
}

/// Tells `renewer` that `credentials` were refused (`expired` on the server's clock, else refused) and takes
/// new ones in their place; whether they changed.
async fn renew(
    renewer: &Arc<dyn ProvideCredentials>,
    credentials: &mut Credentials,
    expired: bool,
) -> bool {
    if expired {
        renewer.expired(credentials).await;
    } else {
        renewer.refused(credentials).await;
    }
    match renewer.provide_credentials().await {
        Ok(fresh)
            if fresh.access_key() != credentials.access_key()
                && crate::sign::check_credentials(&fresh).is_ok() =>
        {
            tracing::warn!(
                old = credentials.access_key(),
                new = fresh.access_key(),
                "temporary credentials refused (401); renewed them, re-signing once"
            );
            *credentials = fresh;
            true
        }
        Ok(_) => false,
        Err(error) => {
            tracing::warn!(%error, "temporary credentials refused (401) and renewing them failed");
            false
        }
    }
}

/// The server's time by its `Date` header.
fn server_time(response: &reqwest::Response) -> Option<std::time::SystemTime> {
    let date = response
        .headers()
        .get(reqwest::header::DATE)?
        .to_str()
        .ok()?;
    httpdate::parse_http_date(date).ok()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The `X-Request-Id` of an answer.
pub(crate) fn request_id(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Connection-level failures worth another attempt (not time-outs of a request that may have been processed).
fn is_retryable_transport(error: &reqwest::Error) -> bool {
    // reqwest reports a body cut short while `read_bounded` collects it as a decode error: this client never
    // lets reqwest decode anything else (no compression, no `.json()`).
    error.is_connect()
        || (error.is_request() && !error.is_timeout())
        || error.is_body()
        || error.is_decode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A listener on loopback that counts the connections it accepts.
    async fn recorder() -> (url::Url, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = url::Url::parse(&format!("http://{}/x", listener.local_addr().unwrap())).unwrap();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((_socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        (url, seen)
    }

    fn transport() -> Transport {
        Transport {
            http: HttpClients::single(
                reqwest::Client::builder()
                    .tls_certs_only(std::iter::empty())
                    .build()
                    .unwrap(),
            ),
            retry: RetryConfig::default().with_max_attempts(3),
            retry_statuses: true,
            attempt_timeout: Some(Duration::from_secs(2)),
            user_agent: HeaderValue::from_static(DEFAULT_USER_AGENT),
            clock_offset: Arc::default(),
            backoff: Arc::default(),
        }
    }

    fn signed(access_key: &str) -> CallAuth {
        CallAuth::Signed {
            credentials: Credentials::new(access_key, "SK"),
            project_id: Some("p".into()),
            renewer: None,
        }
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    #[tokio::test]
    async fn a_body_that_cannot_be_replayed_is_refused_and_nothing_is_sent() {
        let (url, seen) = recorder().await;
        let mut request = reqwest::Request::new(reqwest::Method::POST, url);
        let stream = futures_util::stream::once(async {
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"{}"))
        });
        *request.body_mut() = Some(reqwest::Body::wrap_stream(stream));
        let mut outcome = Outcome::default();
        let result = transport()
            .send(request, &signed("AK"), "test", &mut outcome)
            .await;
        assert!(
            matches!(result, Err(Failure::Refused(ref r)) if r.contains("replayed")),
            "{result:?}"
        );
        settle().await;
        assert_eq!(seen.load(Ordering::SeqCst), 0, "nothing reached the server");
        assert!(outcome.refused.is_some());
    }

    #[tokio::test]
    async fn a_signing_failure_is_refused_and_nothing_is_sent() {
        let (url, seen) = recorder().await;
        let request = reqwest::Request::new(reqwest::Method::GET, url);
        let mut outcome = Outcome::default();
        // An access key the Authorization header cannot carry: signing fails.
        let result = transport()
            .send(request, &signed("A\nK"), "test", &mut outcome)
            .await;
        assert!(matches!(result, Err(Failure::Refused(_))), "{result:?}");
        settle().await;
        assert_eq!(seen.load(Ordering::SeqCst), 0, "nothing reached the server");
    }

    #[tokio::test]
    async fn a_project_id_that_is_not_a_header_value_is_refused() {
        let (url, seen) = recorder().await;
        let request = reqwest::Request::new(reqwest::Method::GET, url);
        let auth = CallAuth::Signed {
            credentials: Credentials::new("AK", "SK"),
            project_id: Some("p\r\nx-injected: 1".into()),
            renewer: None,
        };
        let result = transport()
            .send(request, &auth, "test", &mut Outcome::default())
            .await;
        assert!(
            matches!(result, Err(Failure::Refused(ref r)) if r.contains("project id")),
            "{result:?}"
        );
        settle().await;
        assert_eq!(seen.load(Ordering::SeqCst), 0);
    }
}

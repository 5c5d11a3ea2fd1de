//! The seam between the generated client and ours: `ClientHooks` adds authentication on every attempt,
//! retries, and corrects for clock skew.
//!
//! Per-call values (the credentials resolved for this call, the project id, what the attempts saw) travel in a
//! task-local [`CallContext`] set by [`crate::client`] around the generated call, because progenitor's hooks
//! only see the request and the shared client.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::credentials::{Credentials, ProvideCredentials};
use crate::generated::Client as Generated;
use crate::retry::{RetryConfig, is_retryable_status, parse_retry_after};
use crate::sign::sign_request;

/// `User-Agent` of every request the client sends, unless the user sets another.
pub(crate) const DEFAULT_USER_AGENT: &str =
    concat!("cce-autopilot-rust/", env!("CARGO_PKG_VERSION"));

/// How the client authenticates.
#[derive(Clone, Debug)]
pub(crate) enum AuthMode {
    /// AK/SK signature with credentials from a provider.
    Signature(Arc<dyn ProvideCredentials>),
    /// An IAM token in `X-Auth-Token`.
    Token(SecretString),
}

/// State shared by every call of one client (the generated client's "inner" value).
#[derive(Clone, Debug)]
pub(crate) struct Inner(pub(crate) Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) auth: AuthMode,
    pub(crate) retry: RetryConfig,
    /// Server clock minus local clock, learnt from a "signature expired" answer.
    pub(crate) clock_offset: Arc<AtomicI64>,
    pub(crate) user_agent: HeaderValue,
    /// The longest wait for one attempt.
    pub(crate) attempt_timeout: Option<Duration>,
}

impl Shared {
    /// Now, corrected by the clock offset learnt from the gateway.
    pub(crate) fn now_unix(&self) -> i64 {
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        local.saturating_add(self.clock_offset.load(Ordering::Relaxed))
    }
}

/// What one call carries through the hooks.
#[derive(Clone, Debug)]
pub(crate) struct CallContext {
    pub(crate) credentials: Option<Credentials>,
    pub(crate) project_id: String,
    pub(crate) outcome: Arc<Mutex<Outcome>>,
}

/// What the attempts of one call saw, for errors that progenitor reports without it.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) attempts: u32,
    pub(crate) status: Option<u16>,
    pub(crate) request_id: Option<String>,
    pub(crate) timed_out: bool,
    pub(crate) elapsed: Duration,
    /// The signature or header could not be applied.
    pub(crate) auth_error: Option<String>,
}

tokio::task_local! {
    pub(crate) static CALL: CallContext;
}

/// A skew below this is not worth a re-signed attempt: the gateway tolerates 15 minutes.
const SKEW_THRESHOLD_SECS: i64 = 5 * 60;

fn request_id(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl ClientHooks<Inner> for Generated {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let Some(ctx) = CALL.try_with(Clone::clone).ok() else {
            return Err(progenitor_client::Error::Custom(
                "the generated client was called outside cce_autopilot::Client".into(),
            ));
        };
        let headers = request.headers_mut();
        // progenitor adds `api-version`, which the service does not define and the official SDKs never send.
        headers.remove("api-version");
        headers.insert(reqwest::header::USER_AGENT, self.inner.0.user_agent.clone());
        let project = HeaderValue::from_str(&ctx.project_id).map_err(|_| {
            progenitor_client::Error::InvalidRequest(
                "the project id is not a valid header value".into(),
            )
        })?;
        headers.insert(HeaderName::from_static("x-project-id"), project);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let shared = &self.inner.0;
        let ctx = CALL.try_with(Clone::clone).ok();
        let started = Instant::now();
        let deadline = started + shared.retry.max_elapsed;
        let mut skew_corrected = false;
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;

        loop {
            attempt += 1;
            let Some(mut this_try) = request.try_clone() else {
                // A streaming body cannot be replayed: one attempt only.
                return self.client.execute(request).await;
            };
            if let Some(ctx) = &ctx
                && let Err(message) = authenticate(shared, ctx, &mut this_try)
            {
                // Unreachable for credentials `sign::check_credentials` passed; should it happen, the request
                // goes out unauthenticated and the caller reports `auth_error` instead of the 401.
                lock(&ctx.outcome).auth_error = Some(message);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let per_try = shared
                .attempt_timeout
                .map_or(remaining, |t| t.min(remaining));
            *this_try.timeout_mut() = Some(per_try.max(Duration::from_millis(1)));

            let attempt_started = Instant::now();
            let result = match self.client.execute(this_try).await {
                Ok(response) => buffered(response).await,
                Err(e) => Err(e),
            };
            let elapsed = attempt_started.elapsed();

            let (status, rid) = match &result {
                Ok(r) => (Some(r.status().as_u16()), request_id(r)),
                Err(_) => (None, None),
            };
            tracing::debug!(
                operation = info.operation_id,
                method = %request.method(),
                path = request.url().path(),
                attempt,
                status,
                request_id = rid.as_deref(),
                elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                error = result.as_ref().err().map(|e| e.to_string()),
                "attempt finished"
            );
            if let Some(ctx) = &ctx {
                let mut outcome = lock(&ctx.outcome);
                outcome.attempts = attempt;
                outcome.status = status;
                outcome.request_id = rid;
                outcome.timed_out = matches!(&result, Err(e) if e.is_timeout());
                outcome.elapsed = started.elapsed();
            }

            // Clock skew: the gateway refuses an X-Sdk-Date more than 15 minutes off its clock. Learn the offset
            // from its Date header, keep it for later calls, and re-sign once.
            let signed = ctx.as_ref().is_some_and(|c| c.credentials.is_some());
            if let Ok(response) = &result
                && signed
                && !skew_corrected
                && response.status() == reqwest::StatusCode::UNAUTHORIZED
                && let Some(offset) = skew_from(response, shared)
            {
                tracing::warn!(
                    offset_seconds = offset,
                    "local clock is off; re-signing with the gateway's time"
                );
                shared.clock_offset.fetch_add(offset, Ordering::Relaxed);
                skew_corrected = true;
                attempt -= 1; // the corrected attempt does not count against the retry budget
                continue;
            }

            let retry_after = match &result {
                Ok(response) if is_retryable_status(response.status().as_u16()) => Some(
                    response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now())),
                ),
                Err(e) if is_retryable_transport(e) => Some(None),
                _ => None,
            };
            let Some(retry_after) = retry_after else {
                return result;
            };
            if attempt >= shared.retry.max_attempts {
                return result;
            }
            retries += 1;
            let wait = shared.retry.delay(retries, retry_after);
            if Instant::now() + wait >= deadline {
                return result;
            }
            tracing::debug!(
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "retrying"
            );
            drop(result);
            tokio::time::sleep(wait).await;
        }
    }
}

/// The response with its body read in full, so that a body cut short (a dropped connection, a truncated
/// answer) is a failure of this attempt, retried like any connection failure, rather than a decoding error
/// after the retry loop. Bodies here are a few kilobytes.
async fn buffered(response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
}

/// Connection-level failures worth another attempt (not time-outs of a request that may have been processed).
fn is_retryable_transport(error: &reqwest::Error) -> bool {
    // reqwest reports a body cut short while `buffered` collects it as a decode error: this client never
    // lets reqwest decode anything else (no compression, no `.json()`).
    error.is_connect()
        || (error.is_request() && !error.is_timeout())
        || error.is_body()
        || error.is_decode()
}

/// Applies the call's authentication to one attempt.
fn authenticate(
    shared: &Shared,
    ctx: &CallContext,
    request: &mut reqwest::Request,
) -> Result<(), String> {
    match (&shared.auth, &ctx.credentials) {
        (AuthMode::Token(token), _) => {
            let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                "the X-Auth-Token value contains characters HTTP headers cannot carry".to_owned()
            })?;
            value.set_sensitive(true);
            request
                .headers_mut()
                .insert(HeaderName::from_static("x-auth-token"), value);
            Ok(())
        }
        (AuthMode::Signature(_), Some(credentials)) => {
            sign_request(request, credentials, shared.now_unix()).map_err(|e| e.to_string())
        }
        (AuthMode::Signature(_), None) => Err("no credentials were resolved for this call".into()),
    }
}

/// The offset to add to our clock, if the response shows it is off by more than the threshold.
fn skew_from(response: &reqwest::Response, shared: &Shared) -> Option<i64> {
    let date = response
        .headers()
        .get(reqwest::header::DATE)?
        .to_str()
        .ok()?;
    let server = httpdate::parse_http_date(date).ok()?;
    let server = i64::try_from(server.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    let offset = server - shared.now_unix();
    (offset.abs() > SKEW_THRESHOLD_SECS).then_some(offset)
}

pub(crate) fn lock(outcome: &Mutex<Outcome>) -> std::sync::MutexGuard<'_, Outcome> {
    outcome
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

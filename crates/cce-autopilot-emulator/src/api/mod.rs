//! The plain-HTTP API: the CCE cluster-certificate route, the IAM project lookup and the ECS metadata
//! credential service, behind one middleware that plays the API gateway's part (request ids, `Date`,
//! error bodies, fault injection, the request log).

mod auth;
mod cce;
mod clusters;
mod federation;
mod iam;
mod identity;
mod jackson;
mod metadata;
mod sts;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_LENGTH, CONTENT_TYPE, DATE, HeaderName, HeaderValue, RETRY_AFTER,
};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use cce_autopilot_model::ErrorBody;
use percent_encoding::percent_decode_str;

use crate::codes;
use crate::faults::{FaultKind, FaultScope, RejectStatus};
use crate::serve::{ConnControl, TruncatedBody};
use crate::state::{RequestRecord, Shared, lock};
use crate::wire::WireShape;

/// The response header carrying the request id.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Bodies larger than this are refused (the real body is a dozen bytes).
const BODY_LIMIT: usize = 1 << 20;
const JSON: &str = "application/json";
const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// The path prefix of the CCE Autopilot API.
const CCE_PREFIX: &str = "/autopilot/";
/// The path prefix of IAM.
const IAM_PREFIX: &str = "/v3/";

/// An error answer. Handlers return it; the gateway middleware renders its body with the request id.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// 32 lower-case hex digits, like the gateway's.
fn new_request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The headers as (name, value) pairs for the signature check; values that are not UTF-8 are taken lossily
/// (they then fail the check, as they would at the gateway).
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The query as percent-decoded pairs (`+` stays `+`: the SDKs encode a space as `%20`).
pub(crate) fn decode_query(raw: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    raw.unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// Reads a whole body, refusing at once one that declares more than [`BODY_LIMIT`] bytes (and one that
/// sends more). A body that has
/// not arrived within `timeout` closes the connection without an answer (through `control`), as a server
/// does with a client too slow to serve.
pub(crate) async fn read_body(
    body: Body,
    timeout: std::time::Duration,
    control: Option<ConnControl>,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            format!("Invalid request: the body is larger than {BODY_LIMIT} bytes"),
        )
    };
    if http_body::Body::size_hint(&body).lower() > BODY_LIMIT as u64 {
        return Err(too_large());
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            format!(
                "Invalid request: cannot read the body ({err}); send at most {BODY_LIMIT} bytes"
            ),
        )),
        Err(_elapsed) => {
            tracing::debug!(?timeout, "request body too slow: closing the connection");
            if let Some(control) = control {
                control.kill();
            }
            Err(ApiError::new(
                // Never sent: the connection is closed.
                StatusCode::BAD_REQUEST,
                codes::INVALID_REQUEST,
                format!("Invalid request: the body did not arrive within {timeout:?}"),
            ))
        }
    }
}

/// A JSON answer with the given body bytes.
pub(crate) fn json_response(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/autopilot/v3/projects/{project_id}/clusters/{cluster_id}/clustercert",
            post(cce::cluster_cert),
        )
        .route(
            "/autopilot/v3/projects/{project_id}/clusters",
            get(clusters::list),
        )
        .route(
            "/autopilot/v3/projects/{project_id}/clusters/{cluster_id}",
            get(clusters::show),
        )
        .route("/v3/projects", get(iam::projects))
        .route("/v3/auth/projects", get(iam::auth_projects))
        .route("/meta-data/latest/api/token", put(metadata::token))
        .route("/openstack/latest/securitykey", get(metadata::security_key))
        .route("/v3.0/OS-AUTH/id-token/tokens", post(federation::id_token))
        .route(
            "/v3.0/OS-CREDENTIAL/securitytokens",
            post(federation::security_tokens),
        )
        .route("/pod-identity/credentials", post(federation::pod_identity))
        .route("/v5/agencies/assume", post(sts::assume))
        .route("/v5/agencies/assume-with-oidc", post(sts::assume_with_oidc))
        .route("/v5/caller-identity", get(sts::caller_identity))
        .route("/_emulator/clock-offset", put(admin_clock_offset))
        .route("/_emulator/requests", get(admin_requests))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(from_fn_with_state(shared.clone(), gateway))
        .with_state(shared)
}

/// `PUT /_emulator/clock-offset` (only with [`crate::EmulatorBuilder::admin`]): the body, whole seconds,
/// becomes the emulator clock's offset from the system clock; 204.
async fn admin_clock_offset(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    body: String,
) -> Result<StatusCode, ApiError> {
    if !shared.admin {
        return Err(not_found().await);
    }
    const TEN_YEARS: i64 = 10 * 366 * 86_400;
    let seconds = body
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|s| s.abs() <= TEN_YEARS)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::INVALID_REQUEST,
                "the body must be whole seconds, at most ten years either way",
            )
        })?;
    shared.clock.set_offset_secs(seconds);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_emulator/requests` (only with [`crate::EmulatorBuilder::admin`]): the request log as JSON, each
/// record's method, path, status, request id, and what it carried without secrets ([`WireShape`]).
async fn admin_requests(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
) -> Result<Response, ApiError> {
    if !shared.admin {
        return Err(not_found().await);
    }
    let records: Vec<serde_json::Value> = lock(&shared.log)
        .records
        .iter()
        .map(|r| {
            serde_json::json!({"method": r.method, "path": r.path, "status": r.status,
                "request_id": r.request_id, "headers": r.wire.headers, "body_keys": r.wire.body_keys})
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        JSON_UTF8,
        serde_json::to_vec(&records).unwrap_or_default(),
    ))
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::API_NOT_FOUND,
        "The API does not exist or has not been published in the environment",
    )
}

fn in_scope(scope: FaultScope, path: &str) -> bool {
    match scope {
        FaultScope::Certificate => path.starts_with(CCE_PREFIX),
        FaultScope::Gateway => path.starts_with(CCE_PREFIX) || path.starts_with(IAM_PREFIX),
        FaultScope::All => true,
    }
}

fn reject(status: RejectStatus, retry_after_secs: u64) -> Response {
    let error = match status {
        RejectStatus::TooManyRequests => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::THROTTLED,
            "The throttling threshold has been reached: policy user over ratelimit",
        ),
        RejectStatus::ServiceUnavailable => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            "Backend unavailable, please retry later",
        ),
    };
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// The gateway in front of every route: faults, request id, `Date`, error bodies, the request log.
async fn gateway(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let request_id = new_request_id();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let control = req.extensions().get::<ConnControl>().cloned();

    let decision = {
        let mut faults = lock(&shared.faults);
        in_scope(faults.scope(), &path).then(|| faults.decide())
    };
    if let Some(decision) = decision
        && !decision.latency.is_zero()
    {
        tokio::time::sleep(decision.latency).await;
    }
    let fault = decision.and_then(|d| d.fault);
    let mut req = req;
    let body_keys = BodyKeys::default();
    req.extensions_mut().insert(body_keys.clone());
    let mut wire = WireShape::of_headers(req.headers());
    let record = |status: Option<u16>, wire: WireShape| RequestRecord {
        method: method.clone(),
        path: path.clone(),
        status,
        request_id: request_id.clone(),
        fault,
        wire,
    };

    let mut response = match (fault, decision) {
        (Some(FaultKind::Dropped), _) => {
            tracing::debug!(%method, %path, %request_id, "fault: dropping the connection");
            if let Some(control) = &control {
                control.kill();
            }
            lock(&shared.log).push(record(None, wire));
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        (Some(FaultKind::Rejected), Some(decision)) => {
            reject(decision.reject_status, decision.retry_after_secs)
        }
        _ => next.run(req).await,
    };

    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let body = ErrorBody::new(error.code, error.message).with_request_id(&request_id);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        response.headers_mut().remove(CONTENT_LENGTH);
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        *response.body_mut() = Body::from(bytes);
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(X_REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(shared.clock.now_system())) {
        headers.insert(DATE, value);
    }

    if fault == Some(FaultKind::Truncated) {
        response = truncate(response, control).await;
    }
    let status = response.status().as_u16();
    tracing::debug!(%method, %path, %request_id, status, ?fault, "answered");
    wire.body_keys = std::mem::take(&mut *lock(&body_keys.0));
    lock(&shared.log).push(record(Some(status), wire));
    response
}

/// Where a handler notes what a request's body carried ([`note_body`]), for the gateway's log record of it.
#[derive(Clone, Default)]
pub(crate) struct BodyKeys(Arc<std::sync::Mutex<Vec<String>>>);

/// Notes the JSON key paths of `body` for the request log's record of this request.
pub(crate) fn note_body(parts: &axum::http::request::Parts, body: &[u8]) {
    if let Some(BodyKeys(slot)) = parts.extensions.get::<BodyKeys>() {
        *lock(slot) = crate::wire::body_keys(body);
    }
}

/// The same answer, advertising its full length but carrying only the first half of its body.
async fn truncate(response: Response, control: Option<ConnControl>) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let half = bytes.slice(..bytes.len() / 2);
    Response::from_parts(parts, Body::new(TruncatedBody::new(half, control)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_are_percent_decoded_without_plus_rules() {
        assert_eq!(
            decode_query(Some("name=cn-north-4&x=a%20b+c&flag")),
            vec![
                ("name".to_owned(), "cn-north-4".to_owned()),
                ("x".to_owned(), "a b+c".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        assert!(decode_query(None).is_empty());
    }

    #[test]
    fn request_ids_are_32_hex_digits() {
        let id = new_request_id();
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(id, new_request_id());
    }
}

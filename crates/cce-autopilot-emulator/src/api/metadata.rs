//! The ECS metadata credential service: `PUT /meta-data/latest/api/token` for a session token, then
//! `GET /openstack/latest/securitykey` for temporary AK/SK/security-token credentials.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{ApiError, JSON_UTF8, json_response};
use crate::codes;
use crate::identity::Principal;
use crate::identity::issue::issue;
use crate::state::{Shared, lock, secrets_equal};

const TTL_HEADER: &str = "X-Metadata-Token-Ttl-Seconds";
const TOKEN_HEADER: &str = "X-Metadata-Token";
const MAX_TTL_SECS: u32 = 21_600;
/// What the service says when the server may not have credentials.
pub(crate) const NO_AGENCY: &str = "Please configure Cloud Service Agency first";
/// The session name of the server's agency credentials.
const ECS_SESSION: &str = "ecs-emulator";

pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    if !shared.metadata.token_service {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            codes::METADATA_NOT_FOUND,
            "Not Found: this server has no metadata token service",
        ));
    }
    let ttl = req
        .headers()
        .get(TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|ttl| (1..=MAX_TTL_SECS).contains(ttl))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::METADATA_BAD_REQUEST,
                format!(
                    "Bad Request: {TTL_HEADER} must be a number of seconds from 1 to {MAX_TTL_SECS}"
                ),
            )
        })?;
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let expires = shared.clock.now() + time::Duration::seconds(i64::from(ttl));
    {
        let mut tokens = lock(&shared.metadata_tokens);
        let now = shared.clock.now();
        tokens.retain(|_, expiry| *expiry > now);
        tokens.insert(token.clone(), expires);
    }
    let mut response = (StatusCode::OK, token).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}

pub(super) async fn security_key(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    let now = shared.clock.now();
    if shared.metadata.token_service {
        let given = req
            .headers()
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let valid = lock(&shared.metadata_tokens)
            .iter()
            .any(|(token, expiry)| *expiry > now && secrets_equal(token, given));
        if !valid {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::METADATA_UNAUTHORIZED,
                format!(
                    "Unauthorized: {TOKEN_HEADER} is missing, unknown or expired; get a new one"
                ),
            ));
        }
    }
    // Whom the server's credentials act for: its agency's session, or (without an identity world) the
    // keys themselves; `None`: the server has no agency.
    let agency: Option<Option<Principal>> = match &shared.identity {
        Some(world) => world
            .metadata_agency
            .as_deref()
            .and_then(|name| world.agency(name))
            .map(|agency| Some(agency.session(ECS_SESSION))),
        None => shared.metadata.agency.then_some(None),
    };
    let Some(principal) = agency else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::METADATA_UNAUTHORIZED,
            NO_AGENCY,
        ));
    };
    let rotate = lock(&shared.faults).faults().rotate_metadata_credentials;
    let ttl = shared.metadata.credential_ttl;
    let mut current = lock(&shared.metadata_current);
    let issued = match current.as_ref() {
        Some(held) if !rotate && held.expires_at - now > ttl / 2 => held.clone(),
        _ => {
            let fresh = issue(&shared, principal, ttl);
            *current = Some(fresh.clone());
            fresh
        }
    };
    drop(current);
    Ok(json_response(
        StatusCode::OK,
        JSON_UTF8,
        serde_json::to_vec(&issued.iam_json()).unwrap_or_default(),
    ))
}

//! The ECS metadata credential service: `PUT /meta-data/latest/api/token` for a session token, then
//! `GET /openstack/latest/securitykey` for temporary AK/SK/security-token credentials.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cce_autopilot_signing::SecretKey;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde_json::json;
use time::OffsetDateTime;
use time::macros::format_description;

use super::{ApiError, JSON_UTF8, json_response};
use crate::codes;
use crate::state::{Credential, Shared, Temporary, lock, secrets_equal};

const TTL_HEADER: &str = "X-Metadata-Token-Ttl-Seconds";
const TOKEN_HEADER: &str = "X-Metadata-Token";
const MAX_TTL_SECS: u32 = 21_600;
/// What the service says when the server may not have credentials.
pub(crate) const NO_AGENCY: &str = "Please configure Cloud Service Agency first";

/// `2026-11-28T18:00:00.000000Z`, the service's `expires_at` format.
pub(crate) fn format_expiry(t: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

fn random_text(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

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
    if !shared.metadata.agency {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::METADATA_UNAUTHORIZED,
            NO_AGENCY,
        ));
    }
    let access = random_text(20).to_ascii_uppercase();
    let secret = random_text(40);
    let security_token = STANDARD.encode(rand::random::<[u8; 32]>()).repeat(4);
    let expires_at = now + shared.metadata.credential_ttl;
    let mut credentials = lock(&shared.credentials);
    // Forget temporary credentials an hour after they expire (until then they get "expired", not "unknown").
    let forget_before = now - time::Duration::hours(1);
    credentials.retain(|_, c| {
        c.temporary
            .as_ref()
            .is_none_or(|t| t.expires_at > forget_before)
    });
    credentials.insert(
        access.clone(),
        Credential {
            secret: SecretKey::from(secret.clone()),
            temporary: Some(Temporary {
                security_token: security_token.clone(),
                expires_at,
            }),
        },
    );
    drop(credentials);
    let body = json!({
        "credential": {
            "access": access,
            "secret": secret,
            "securitytoken": security_token,
            "expires_at": format_expiry(expires_at),
        }
    });
    Ok(json_response(
        StatusCode::OK,
        JSON_UTF8,
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn expiry_has_six_fraction_digits() {
        assert_eq!(
            format_expiry(datetime!(2026-11-28 18:00:00.123 UTC)),
            "2026-11-28T18:00:00.000000Z"
        );
    }
}

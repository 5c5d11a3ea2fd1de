//! IAM's federation and temporary-credential calls, and the pod-identity endpoint:
//! - `POST /v3.0/OS-AUTH/id-token/tokens` (unsigned): an ID token of the provider `X-Idp-Id` names, for an
//!   unscoped IAM token in `X-Subject-Token` that names a session of the provider's agency;
//! - `POST /v3.0/OS-CREDENTIAL/securitytokens`: method `token` (that IAM token) or `assume_role` (signed: an
//!   agency that trusts the caller), for temporary credentials;
//! - `POST /pod-identity/credentials`: a pod's ID token in `Authorization`, for temporary credentials of the
//!   pod-identity agency.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::auth::{Identity, authenticate_read, read_request};
use super::identity::Service::Iam;
use super::{ApiError, JSON_UTF8, json_response};
use crate::codes;
use crate::identity::issue::{format_expiry, issue, random_text};
use crate::identity::{Principal, token};
use crate::state::{Shared, lock};

/// How long IAM's unscoped tokens from ID tokens stay valid.
const SUBJECT_TOKEN_HOURS: i64 = 24;
/// How long pod-identity credentials stay valid.
const POD_CREDENTIAL_SECS: i64 = 3600;

#[derive(Deserialize)]
struct IdTokenBody {
    auth: IdTokenAuth,
}
#[derive(Deserialize)]
struct IdTokenAuth {
    id_token: IdTokenId,
}
#[derive(Deserialize)]
struct IdTokenId {
    id: String,
}

pub(super) async fn id_token(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = read_request(&shared, req).await?;
    let world = Iam.world(&shared)?;
    let idp = header(&parts.headers, "X-Idp-Id").unwrap_or_default();
    let provider = world
        .provider(idp)
        .ok_or_else(|| Iam.not_found(format!("identity provider {idp:?} does not exist")))?;
    let body: IdTokenBody = serde_json::from_slice(&body).map_err(|_| {
        Iam.bad_request("the body must be {\"auth\": {\"id_token\": {\"id\": \"<ID token>\"}}}")
    })?;
    let now = shared.clock.now();
    let claims =
        token::verify(provider, body.auth.id_token.id.trim(), now).map_err(|r| Iam.refused(r))?;
    let agency = provider
        .agency
        .as_deref()
        .and_then(|name| world.agency(name))
        .ok_or_else(|| Iam.not_found(format!("identity provider {idp} maps to no agency")))?;
    if !agency.trusts_provider(&provider.name) {
        return Err(Iam.not_trusted(&agency.name));
    }
    let principal = agency.session(claims.sub.clone());
    let subject_token = random_text(64);
    let expires_at = now + time::Duration::hours(SUBJECT_TOKEN_HOURS);
    {
        let mut tokens = lock(&shared.subject_tokens);
        tokens.retain(|_, (_, expiry)| *expiry > now);
        tokens.insert(subject_token.clone(), (principal.clone(), expires_at));
    }
    let answer = json!({
        "token": {
            "methods": ["mapped"],
            "issued_at": format_expiry(now),
            "expires_at": format_expiry(expires_at),
            "user": {
                "id": principal.id(),
                "name": claims.sub,
                "domain": {"id": world.account_id, "name": world.account_id},
                "OS-FEDERATION": {
                    "identity_provider": {"id": provider.name},
                    "protocol": {"id": "oidc"},
                    "groups": [],
                },
            },
        }
    });
    let mut response = json_response(
        StatusCode::CREATED,
        JSON_UTF8,
        serde_json::to_vec(&answer).unwrap_or_default(),
    );
    if let Ok(value) = HeaderValue::from_str(&subject_token) {
        response.headers_mut().insert("X-Subject-Token", value);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct SecurityTokensBody {
    auth: SecurityTokensAuth,
}
#[derive(Deserialize)]
struct SecurityTokensAuth {
    identity: SecurityTokensIdentity,
}
#[derive(Deserialize)]
struct SecurityTokensIdentity {
    methods: Vec<String>,
    token: Option<TokenMethod>,
    assume_role: Option<AssumeRole>,
}
#[derive(Deserialize)]
struct TokenMethod {
    id: Option<String>,
    duration_seconds: Option<i64>,
}
#[derive(Deserialize)]
struct AssumeRole {
    agency_name: String,
    domain_id: Option<String>,
    domain_name: Option<String>,
    duration_seconds: Option<i64>,
    session_user: Option<SessionUser>,
}
#[derive(Deserialize)]
struct SessionUser {
    name: String,
}

pub(super) async fn security_tokens(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = read_request(&shared, req).await?;
    let world = Iam.world(&shared)?;
    let parsed: SecurityTokensBody = serde_json::from_slice(&body).map_err(|_| {
        Iam.bad_request("the body must be {\"auth\": {\"identity\": {\"methods\": [...], ...}}}")
    })?;
    let identity = parsed.auth.identity;
    let now = shared.clock.now();
    let (principal, ttl) = match identity.methods.as_slice() {
        [method] if method == "token" => {
            let method = identity.token.unwrap_or(TokenMethod {
                id: None,
                duration_seconds: None,
            });
            let given = method
                .id
                .or_else(|| header(&parts.headers, "X-Auth-Token").map(str::to_owned))
                .unwrap_or_default();
            let principal = lock(&shared.subject_tokens)
                .get(given.trim())
                .filter(|(_, expiry)| *expiry > now)
                .map(|(principal, _)| principal.clone())
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        codes::IAM_UNAUTHORIZED,
                        "The request you have made requires authentication: the token is unknown or has expired.",
                    )
                })?;
            let ttl = Iam.duration_in(method.duration_seconds, 900, 86_400, 900)?;
            (principal, ttl)
        }
        [method] if method == "assume_role" => {
            let role = identity
                .assume_role
                .ok_or_else(|| Iam.bad_request("assume_role is missing"))?;
            let caller = authenticate_read(&shared, &parts, &body)?;
            let Identity::AccessKey {
                access_key,
                principal,
                ..
            } = caller
            else {
                return Err(Iam.not_trusted(&role.agency_name));
            };
            let domain = role
                .domain_id
                .or(role.domain_name)
                .ok_or_else(|| Iam.bad_request("assume_role needs domain_id or domain_name"))?;
            if domain != world.account_id {
                return Err(Iam.not_found(format!(
                    "agency {} does not exist in domain {domain}",
                    role.agency_name
                )));
            }
            let agency = world.agency(&role.agency_name).ok_or_else(|| {
                Iam.not_found(format!("agency {} does not exist", role.agency_name))
            })?;
            if !agency.trusts_caller(&access_key, &principal) {
                return Err(Iam.not_trusted(&agency.name));
            }
            let session = match role.session_user {
                Some(user) => session_user(&user.name)?,
                None => principal.id(),
            };
            let ttl = Iam.duration_in(role.duration_seconds, 900, 86_400, 900)?;
            (agency.session(session), ttl)
        }
        _ => {
            return Err(Iam.bad_request("methods must be [\"token\"] or [\"assume_role\"]"));
        }
    };
    let issued = issue(&shared, Some(principal), ttl);
    Ok(json_response(
        StatusCode::CREATED,
        JSON_UTF8,
        serde_json::to_vec(&issued.iam_json()).unwrap_or_default(),
    ))
}

/// `session_user.name`: 5 to 64 characters, a letter first.
fn session_user(name: &str) -> Result<String, ApiError> {
    let ok = (5..=64).contains(&name.chars().count())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.@=,+".contains(c));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(Iam.bad_request("session_user.name must be 5 to 64 characters and start with a letter"))
    }
}

pub(super) async fn pod_identity(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = read_request(&shared, req).await?;
    let world = Iam.world(&shared)?;
    let unauthorized = |detail: String| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::POD_IDENTITY_UNAUTHORIZED,
            detail,
        )
    };
    let (provider, agency) = world
        .pod_identity
        .as_ref()
        .and_then(|(p, a)| Some((world.provider(p)?, world.agency(a)?)))
        .ok_or_else(|| Iam.not_found("pod identity is not configured".to_owned()))?;
    let given = header(&parts.headers, "Authorization")
        .map(|v| v.trim().trim_start_matches("Bearer ").trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            unauthorized("the Authorization header must carry the pod's token".into())
        })?;
    let claims = token::verify(provider, given, shared.clock.now())
        .map_err(|refusal| unauthorized(refusal.to_string()))?;
    if !agency.trusts_provider(&provider.name) {
        return Err(Iam.not_trusted(&agency.name));
    }
    let principal: Principal = agency.session(claims.sub.clone());
    let issued = issue(
        &shared,
        Some(principal.clone()),
        time::Duration::seconds(POD_CREDENTIAL_SECS),
    );
    // CCE's AssumeAgencyForPodIdentity answer (camelCase), which the SDK's pod-identity provider parses.
    let answer = json!({
        "credentials": {
            "accessKeyId": issued.access,
            "secretAccessKey": issued.secret,
            "securityToken": issued.security_token,
            "expiration": format_expiry(issued.expires_at),
        },
        "assumedAgency": {"urn": principal.assumed_urn(&world.account_id), "id": principal.id()},
        "audience": "service.cce.pods",
        "subject": {"serviceAccount": claims.sub},
    });
    Ok(json_response(
        StatusCode::OK,
        JSON_UTF8,
        serde_json::to_vec(&answer).unwrap_or_default(),
    ))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

//! STS v5: `POST /v5/agencies/assume` (signed: an agency that trusts the caller),
//! `POST /v5/agencies/assume-with-oidc` (unsigned: an ID token of a provider the agency trusts), and
//! `GET /v5/caller-identity` (signed: whom the caller's key acts for).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Admitted, Identity, admit, read_request};
use super::identity::Service::Sts;
use super::{ApiError, JSON_UTF8, json_response};
use crate::identity::issue::{Issued, issue};
use crate::identity::{Principal, token};
use crate::state::Shared;

/// The longest `duration_seconds` for a caller whose own credentials are temporary.
const MAX_SECS_FROM_TEMPORARY: i64 = 3600;

#[derive(Deserialize)]
struct AssumeBody {
    agency_urn: String,
    agency_session_name: String,
    duration_seconds: Option<i64>,
}

pub(super) async fn assume(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    let Admitted { body, identity, .. } = admit(&shared, req).await?;
    let world = Sts.world(&shared)?;
    let body: AssumeBody = serde_json::from_slice(&body).map_err(|_| {
        Sts.bad_request("the body must be JSON with agency_urn and agency_session_name")
    })?;
    let Identity::AccessKey {
        access_key,
        principal,
        temporary,
    } = identity
    else {
        return Err(Sts.not_trusted(&body.agency_urn));
    };
    session_name(&body.agency_session_name)?;
    let max = if temporary {
        MAX_SECS_FROM_TEMPORARY
    } else {
        43_200
    };
    let ttl = Sts.duration_in(body.duration_seconds, 900, max, 3600)?;
    let agency = world
        .agency_by_urn(&body.agency_urn)
        .ok_or_else(|| agency_not_found(&body.agency_urn))?;
    if !agency.trusts_caller(&access_key, &principal) {
        return Err(Sts.not_trusted(&agency.name));
    }
    let session = agency.session(body.agency_session_name);
    let issued = issue(&shared, Some(session.clone()), ttl);
    Ok(assumed(&issued, &session, &world.account_id))
}

#[derive(Deserialize)]
struct AssumeWithOidcBody {
    provider_urn: String,
    agency_urn: String,
    agency_session_name: String,
    id_token: String,
    duration_seconds: Option<i64>,
}

pub(super) async fn assume_with_oidc(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (_, body) = read_request(&shared, req).await?;
    let world = Sts.world(&shared)?;
    let body: AssumeWithOidcBody = serde_json::from_slice(&body).map_err(|_| {
        Sts.bad_request(
            "the body must be JSON with provider_urn, agency_urn, agency_session_name and id_token",
        )
    })?;
    session_name(&body.agency_session_name)?;
    let ttl = Sts.duration_in(body.duration_seconds, 900, 43_200, 3600)?;
    let provider = world.provider_by_urn(&body.provider_urn).ok_or_else(|| {
        Sts.not_found(format!(
            "the identity provider '{}' cannot be found",
            body.provider_urn
        ))
    })?;
    token::verify(provider, body.id_token.trim(), shared.clock.now())
        .map_err(|r| Sts.refused(r))?;
    let agency = world
        .agency_by_urn(&body.agency_urn)
        .ok_or_else(|| agency_not_found(&body.agency_urn))?;
    if !agency.trusts_provider(&provider.name) {
        return Err(Sts.not_trusted(&agency.name));
    }
    let session = agency.session(body.agency_session_name);
    let issued = issue(&shared, Some(session.clone()), ttl);
    Ok(assumed(&issued, &session, &world.account_id))
}

pub(super) async fn caller_identity(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    let Admitted { identity, .. } = admit(&shared, req).await?;
    let account_id = shared.account_id();
    let principal = match identity {
        Identity::AccessKey { principal, .. } => principal,
        token @ Identity::Token(_) => Principal::Key(token.common_name()),
    };
    let answer = json!({
        "account_id": account_id,
        "principal_urn": principal.urn(account_id),
        "principal_id": principal.id(),
    });
    Ok(json_response(
        StatusCode::OK,
        JSON_UTF8,
        serde_json::to_vec(&answer).unwrap_or_default(),
    ))
}

/// `agency_session_name`: 2 to 128 characters of letters, digits and `_+=,.@-`.
fn session_name(name: &str) -> Result<(), ApiError> {
    let ok = (2..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Sts.bad_request("agency_session_name must be 2 to 128 letters, digits or _+=,.@-"))
    }
}

fn agency_not_found(urn: &str) -> ApiError {
    Sts.not_found(format!("the agency '{urn}' cannot be found"))
}

fn assumed(issued: &Issued, session: &Principal, account_id: &str) -> Response {
    let mut answer: Value = issued.sts_json();
    answer["assumed_agency"] = json!({"urn": session.assumed_urn(account_id), "id": session.id()});
    json_response(
        StatusCode::OK,
        JSON_UTF8,
        serde_json::to_vec(&answer).unwrap_or_default(),
    )
}

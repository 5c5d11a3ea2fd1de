//! `GET /v3/projects?name=<region>`: the IAM project lookup, and `GET /v3/auth/projects`: the projects the
//! caller may use, both in Keystone's shape.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::auth::{Admitted, admit};
use super::{ApiError, JSON_UTF8, decode_query, json_response};
use crate::state::Shared;

const X_IAM_TRACE_ID: HeaderName = HeaderName::from_static("x-iam-trace-id");

pub(super) async fn projects(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    let Admitted { parts, .. } = admit(&shared, req).await?;
    let query = decode_query(parts.uri.query());
    let name = query
        .iter()
        .rev()
        .find(|(key, _)| key == "name")
        .map(|(_, value)| value.as_str());
    let self_link = match parts.uri.query() {
        Some(query) => format!("{}/v3/projects?{query}", shared.base_url),
        None => format!("{}/v3/projects", shared.base_url),
    };
    Ok(project_list(&shared, name, &self_link))
}

/// Every project of the account (the emulator knows one account; each of its identities may use them all).
pub(super) async fn auth_projects(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Result<Response, ApiError> {
    admit(&shared, req).await?;
    let self_link = format!("{}/v3/auth/projects", shared.base_url);
    Ok(project_list(&shared, None, &self_link))
}

fn project_list(shared: &Shared, name: Option<&str>, self_link: &str) -> Response {
    let projects: Vec<Value> = shared
        .iam_projects
        .iter()
        .filter(|p| name.is_none_or(|n| n == p.name))
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "domain_id": shared.domain_id,
                "enabled": true,
                "parent_id": shared.domain_id,
                "is_domain": false,
                "description": "",
                "links": {"self": format!("{}/v3/projects/{}", shared.base_url, p.id)},
            })
        })
        .collect();
    let answer = json!({
        "projects": projects,
        "links": {"self": self_link, "previous": null, "next": null},
    });
    let mut response = json_response(
        StatusCode::OK,
        JSON_UTF8,
        serde_json::to_vec(&answer).unwrap_or_default(),
    );
    if let Ok(trace) = HeaderValue::from_str(&format!("{:032x}", rand::random::<u128>())) {
        response.headers_mut().insert(X_IAM_TRACE_ID, trace);
    }
    response
}

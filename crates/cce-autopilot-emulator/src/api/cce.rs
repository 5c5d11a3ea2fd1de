//! `POST /autopilot/v3/projects/{project_id}/clusters/{cluster_id}/clustercert`: a kubeconfig with a fresh
//! client certificate.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cce_autopilot_model::{
    Access, AnswerCluster, AnswerContext, AnswerNamedCluster, AnswerNamedContext, AnswerNamedUser,
    AnswerUser, CertDuration, Kubeconfig,
};
use cce_autopilot_signing::HEADER_PROJECT_ID;
use serde_json::Value;
use time::OffsetDateTime;

use super::auth::{Admitted, admit};
use super::{ApiError, JSON_UTF8, jackson, json_response};
use crate::codes;
use crate::pki::{BACKDATE, five_years_after};
use crate::state::{Cluster, Shared};

const PORT_ID: HeaderName = HeaderName::from_static("port-id");
/// The only user entry the service writes.
const USER_NAME: &str = "user";

pub(super) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::INVALID_REQUEST,
        format!("Invalid request: {}", message.into()),
    )
}

/// The documented media types, compared case-insensitively with white space around `;` tolerated:
/// `application/json`, `application/json;charset=utf-8` and `application/x-pem-file` (the body is read as
/// JSON whichever it is). `multipart/form-data` is documented for operations with form parameters only,
/// which this one has none of, so it is refused like any other type.
fn check_content_type(value: Option<&HeaderValue>) -> Result<(), ApiError> {
    let refuse = |shown: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_CONTENT_TYPE,
            format!(
                "Unsupported Content-Type {shown}: use application/json or application/json;charset=utf-8"
            ),
        )
    };
    let Some(value) = value else {
        return Err(refuse("(none)"));
    };
    let text = value.to_str().map_err(|_| refuse("(not text)"))?;
    let mut parts = text.split(';').map(|p| p.trim().to_ascii_lowercase());
    let media_type = parts.next().unwrap_or_default();
    let params: Vec<String> = parts.collect();
    let charset_ok = |p: &String| {
        p.split_once('=').is_some_and(|(name, value)| {
            name.trim() == "charset" && value.trim().trim_matches('"') == "utf-8"
        })
    };
    let ok = match media_type.as_str() {
        "application/json" => params.is_empty() || (params.len() == 1 && charset_ok(&params[0])),
        "application/x-pem-file" => params.is_empty(),
        _ => false,
    };
    if ok { Ok(()) } else { Err(refuse(text)) }
}

/// The body: `{"duration": -1 | 1..=1827}`, nothing else accepted, and no more days than five calendar
/// years from `today` (the document: "with one leap year in them the limit is 1826 days").
fn parse_duration(body: &[u8], today: time::Date) -> Result<CertDuration, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("the body is not valid JSON ({e})")))?;
    let object = value
        .as_object()
        .ok_or_else(|| invalid(r#"the body must be a JSON object such as {"duration": 30}"#))?;
    let duration = object
        .get("duration")
        .ok_or_else(|| invalid("duration is required"))?;
    let days = duration.as_i64().ok_or_else(|| {
        invalid(format!(
            "duration must be an integer (-1, or 1 to 1827 days), got {duration}"
        ))
    })?;
    CertDuration::try_from(days)
        .map_err(|e| invalid(e.to_string()))?
        .check_on(today)
        .map_err(|e| invalid(e.to_string()))
}

/// When an issued certificate stops being valid: `not_before` + `duration` days, or five calendar years.
pub(crate) fn not_after(not_before: OffsetDateTime, duration: CertDuration) -> OffsetDateTime {
    match duration.days_value() {
        Some(days) => not_before + time::Duration::days(i64::from(days)),
        None => five_years_after(not_before),
    }
}

/// The kubeconfig of the document: `internalCluster` (+ `externalCluster` with a public IP), one `user`.
fn kubeconfig(cluster: &Cluster, cert_pem: &str, key_pem: &str) -> Kubeconfig {
    let mut clusters = vec![AnswerNamedCluster {
        name: Access::Internal.cluster_name().to_owned(),
        cluster: AnswerCluster {
            server: cluster.internal_url.clone(),
            certificate_authority_data: Some(STANDARD.encode(cluster.ca.cert_pem())),
            ..AnswerCluster::default()
        },
        ..AnswerNamedCluster::default()
    }];
    let mut contexts = vec![context(Access::Internal)];
    if let Some(external) = &cluster.external_url {
        clusters.push(AnswerNamedCluster {
            name: Access::External.cluster_name().to_owned(),
            cluster: AnswerCluster {
                server: external.clone(),
                insecure_skip_tls_verify: Some(true),
                ..AnswerCluster::default()
            },
            ..AnswerNamedCluster::default()
        });
        contexts.push(context(Access::External));
    }
    let current = if cluster.external_url.is_some() {
        Access::External
    } else {
        Access::Internal
    };
    Kubeconfig {
        kind: Some("Config".to_owned()),
        api_version: Some("v1".to_owned()),
        preferences: Some(serde_json::Map::new()),
        clusters,
        users: vec![AnswerNamedUser {
            name: USER_NAME.to_owned(),
            user: AnswerUser {
                client_certificate_data: Some(STANDARD.encode(cert_pem)),
                client_key_data: Some(STANDARD.encode(key_pem)),
                ..AnswerUser::default()
            },
            ..AnswerNamedUser::default()
        }],
        contexts,
        current_context: Some(current.context_name().to_owned()),
        ..Kubeconfig::default()
    }
}

fn context(access: Access) -> AnswerNamedContext {
    AnswerNamedContext {
        name: access.context_name().to_owned(),
        context: AnswerContext {
            cluster: access.cluster_name().to_owned(),
            user: USER_NAME.to_owned(),
            ..AnswerContext::default()
        },
        ..AnswerNamedContext::default()
    }
}

/// The project checks of every CCE operation: `X-Project-Id`, when sent, must be the path's project, and
/// that must be one the emulator serves.
pub(super) fn check_project(
    shared: &Shared,
    headers: &axum::http::HeaderMap,
    project_id: &str,
) -> Result<(), ApiError> {
    if let Some(header) = headers.get(HEADER_PROJECT_ID) {
        let header = String::from_utf8_lossy(header.as_bytes());
        if header.trim() != project_id {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                codes::PROJECT_FORBIDDEN,
                format!(
                    "Forbidden: X-Project-Id {header} does not match the project ID {project_id} in the path"
                ),
            ));
        }
    }
    if !shared.serves_project(project_id) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::PROJECT_FORBIDDEN,
            format!(
                "Forbidden: project {project_id} is not a project of this account in region {}",
                shared.region
            ),
        ));
    }
    Ok(())
}

/// The CCE 404 for a cluster id the project does not have.
pub(super) fn cluster_not_found(cluster_id: &str, project_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::CLUSTER_NOT_FOUND,
        format!("Resource not found: cluster {cluster_id} does not exist in project {project_id}"),
    )
}

pub(super) async fn cluster_cert(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let Path((project_id, cluster_id)) =
        path.map_err(|e| invalid(format!("the path does not decode ({e})")))?;
    let Admitted {
        parts,
        body,
        identity,
    } = admit(&shared, req).await?;

    check_project(&shared, &parts.headers, &project_id)?;
    check_content_type(parts.headers.get(CONTENT_TYPE))?;
    let duration = parse_duration(&body, shared.clock.now().date())?;
    let cluster = shared
        .cluster_in(&project_id, &cluster_id)
        .ok_or_else(|| cluster_not_found(&cluster_id, &project_id))?;

    let not_before = shared.clock.now() - BACKDATE;
    let issued = cluster
        .ca
        .issue_client(
            &identity.common_name(),
            not_before,
            not_after(not_before, duration),
        )
        .map_err(|e| {
            tracing::error!(error = %e, "issuing a client certificate failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL_ERROR,
                "Internal error: the certificate could not be issued",
            )
        })?;
    let config = kubeconfig(cluster, &issued.cert_pem, &issued.key_pem);
    let body = jackson::to_vec(&config).map_err(|e| {
        tracing::error!(error = %e, "serialising a kubeconfig failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL_ERROR,
            "Internal error: the kubeconfig could not be written",
        )
    })?;
    cluster.count_issued();
    let mut response = json_response(StatusCode::OK, JSON_UTF8, body);
    if let Ok(port_id) = HeaderValue::from_str(&cluster.port_id) {
        response.headers_mut().insert(PORT_ID, port_id);
    }
    Ok(response.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn content_type(value: &str) -> Result<(), ApiError> {
        check_content_type(Some(&HeaderValue::from_str(value).unwrap()))
    }

    #[test]
    fn documented_content_types_pass_in_any_case_and_spacing() {
        for ok in [
            "application/json",
            "application/json;charset=utf-8",
            "Application/JSON; charset=UTF-8",
            "application/json ; charset = \"utf-8\"",
            "application/x-pem-file",
        ] {
            assert!(content_type(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn other_content_types_are_refused() {
        for bad in [
            "text/plain",
            "application/json;charset=latin1",
            "application/json;charset=utf-8;q=1",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "",
        ] {
            let err = content_type(bad).unwrap_err();
            assert_eq!(err.code, codes::UNSUPPORTED_CONTENT_TYPE, "{bad}");
        }
        assert!(check_content_type(None).is_err());
    }

    fn parse(body: &[u8]) -> Result<CertDuration, ApiError> {
        // Five years from this day hold two leap days: 1827 fits.
        parse_duration(body, time::macros::date!(2027 - 03 - 01))
    }

    #[test]
    fn duration_must_be_an_integer_in_range() {
        assert_eq!(parse(br#"{"duration": 30}"#).unwrap().get(), 30);
        assert_eq!(parse(br#"{"duration":-1}"#).unwrap().get(), -1);
        assert_eq!(
            parse(br#"{"duration": 1827, "other": true}"#)
                .unwrap()
                .get(),
            1827
        );
        for bad in [
            &br#"{"duration": 0}"#[..],
            br#"{"duration": 1828}"#,
            br#"{"duration": -2}"#,
            br#"{"duration": "30"}"#,
            br#"{"duration": 30.5}"#,
            br#"{"duration": null}"#,
            br#"{}"#,
            br#"[30]"#,
            br#"{"duration": 30"#,
            b"",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.code, codes::INVALID_REQUEST, "{bad:?}");
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn more_days_than_five_years_from_today_are_refused() {
        let today = time::macros::date!(2026 - 12 - 01);
        let err = parse_duration(br#"{"duration": 1827}"#, today).unwrap_err();
        assert_eq!(
            (err.status, err.code),
            (StatusCode::BAD_REQUEST, codes::INVALID_REQUEST)
        );
        assert!(err.message.contains("1826"), "{}", err.message);
        assert!(parse_duration(br#"{"duration": 1826}"#, today).is_ok());
        assert!(parse_duration(br#"{"duration": -1}"#, today).is_ok());
    }

    #[test]
    fn validity_is_days_or_five_calendar_years() {
        let start = datetime!(2026-11-28 12:00 UTC);
        let days =
            |d: i32| (not_after(start, CertDuration::try_from(d).unwrap()) - start).whole_days();
        assert_eq!(days(1), 1);
        assert_eq!(days(1827), 1827);
        assert_eq!(days(-1), 1826, "2028 is the only leap year in between");
    }
}

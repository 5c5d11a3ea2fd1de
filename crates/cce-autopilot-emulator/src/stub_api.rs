//! What the API-server stub answers: the paths Kubernetes clients ask first, as a real API server answers
//! them — `/version` (and `/version/`, which the official Python client asks for), the health endpoints,
//! legacy discovery (`/api`, `/api/v1`, `/apis`, the `authentication.k8s.io` group) — and
//! `SelfSubjectReview` (`kubectl auth whoami`), built from the client certificate's CN (user) and O
//! (groups). Everything else is a Kubernetes `Status`: 404 `NotFound`, 405 `MethodNotAllowed`.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Value, json};

/// The Kubernetes version the stubs claim.
pub(crate) const GIT_VERSION: &str = "v1.31.4-cce-autopilot-emulator";

const AUTHENTICATION_V1: &str = "authentication.k8s.io/v1";

/// Who is on the other end of a connection: the verified client certificate's subject.
#[derive(Clone, Debug, Default)]
pub(crate) struct Peer {
    /// The subject's common name: the Kubernetes user name.
    pub(crate) user: String,
    /// The subject's organisations: the user's groups.
    pub(crate) groups: Vec<String>,
    /// The certificate's serial number, hex with colons.
    pub(crate) serial: String,
}

impl Peer {
    /// The subject of a DER certificate (empty when it cannot be read: the TLS layer verified it already).
    pub(crate) fn from_der(der: &[u8]) -> Peer {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            return Peer::default();
        };
        let text = |attr: &x509_parser::x509::AttributeTypeAndValue<'_>| {
            attr.as_str().ok().map(str::to_owned)
        };
        let subject = cert.subject();
        Peer {
            user: subject
                .iter_common_name()
                .next()
                .and_then(text)
                .unwrap_or_default(),
            groups: subject.iter_organization().filter_map(text).collect(),
            serial: cert.raw_serial_as_string(),
        }
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A Kubernetes `Status` failure.
fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    json_response(
        code,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "details": {}, "code": code.as_u16(),
        }),
    )
}

fn version() -> Value {
    let minor = GIT_VERSION.split('.').nth(1).unwrap_or("31");
    json!({
        "major": "1",
        "minor": minor,
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.22.10",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn authentication_group() -> Value {
    let version = json!({"groupVersion": AUTHENTICATION_V1, "version": "v1"});
    json!({
        "name": "authentication.k8s.io",
        "versions": [version],
        "preferredVersion": version,
    })
}

/// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews`: the caller as the server sees it. The body (JSON
/// or protobuf, as kubectl sends it) says nothing the answer needs, so it is not read.
async fn self_subject_review(Extension(peer): Extension<Peer>) -> Response {
    let mut groups = peer.groups.clone();
    groups.push("system:authenticated".to_owned());
    json_response(
        StatusCode::CREATED,
        &json!({
            "kind": "SelfSubjectReview",
            "apiVersion": AUTHENTICATION_V1,
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": peer.user, "groups": groups}},
        }),
    )
}

/// The stub's routes; `address` is the listener's, for `serverAddressByClientCIDRs`. Each connection adds
/// its [`Peer`] as an extension.
pub(crate) fn router(address: &str) -> Router {
    let fixed = |value: Value| {
        move || {
            let value = value.clone();
            async move { json_response(StatusCode::OK, &value) }
        }
    };
    let api = json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    });
    let core = json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": []});
    let apis =
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [authentication_group()]});
    let mut group = authentication_group();
    group["kind"] = json!("APIGroup");
    group["apiVersion"] = json!("v1");
    let authentication = json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": AUTHENTICATION_V1,
        "resources": [{
            "name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": false,
            "kind": "SelfSubjectReview", "verbs": ["create"],
        }],
    });
    let ok = || async { ([(CONTENT_TYPE, "text/plain; charset=utf-8")], "ok") };
    Router::new()
        .route("/version", get(fixed(version())))
        .route("/version/", get(fixed(version())))
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        // Not Kubernetes: a test hook that answers `ok` after `ms` milliseconds (at most 10 s), for a
        // request that must still be in flight when its client renews its certificate.
        .route("/_emulator/hold", get(hold))
        .route("/api", get(fixed(api.clone())))
        .route("/api/", get(fixed(api)))
        .route("/api/v1", get(fixed(core)))
        .route("/apis", get(fixed(apis.clone())))
        .route("/apis/", get(fixed(apis)))
        .route("/apis/authentication.k8s.io", get(fixed(group)))
        .route("/apis/authentication.k8s.io/v1", get(fixed(authentication)))
        .route(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            post(self_subject_review),
        )
        .method_not_allowed_fallback(|| async {
            status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        })
        .fallback(|| async {
            status(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource",
            )
        })
}

/// `GET /_emulator/hold?ms=N`: `ok` after N milliseconds, at most 10 s.
async fn hold(query: axum::extract::RawQuery) -> impl axum::response::IntoResponse {
    let ms = query
        .0
        .as_deref()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ms=")))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        .min(10_000);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    ([(CONTENT_TYPE, "text/plain; charset=utf-8")], "ok")
}

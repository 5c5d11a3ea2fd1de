//! From what a call ended with to an [`Error`]: the same rules for the generated operations, the IAM lookup
//! and the metadata service. Error answers become [`ServiceError`]s with their request id (messages and
//! excerpts redacted); successful answers that do not decode are reported without a word of their body.

use cce_autopilot_model::ErrorBody;
use reqwest::header::HeaderMap;

use crate::answer::{Rejected, controls_escaped};
use crate::error::{Error, ServiceError};
use crate::pipeline::{Failure, Outcome};
use crate::redact::{excerpt, redact};

/// The URL's scheme, host and port, for messages.
pub(crate) fn endpoint_label(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The request id of an answer: `X-Request-Id`, else IAM's `X-IAM-Trace-Id`.
pub(crate) fn request_id_of(headers: &HeaderMap) -> Option<String> {
    header(headers, "x-request-id").or_else(|| header(headers, "x-iam-trace-id"))
}

/// An error answer (any status outside 2xx) as a [`ServiceError`]. A JSON error object gives code and
/// message; any other body gives a redacted excerpt.
pub(crate) fn service_error(status: u16, headers: &HeaderMap, body: &[u8], attempts: u32) -> Error {
    let parsed = ErrorBody::from_slice(body).unwrap_or_default();
    let body_excerpt = parsed.is_empty().then(|| excerpt(body));
    from_error_body(
        status,
        request_id_of(headers),
        parsed,
        body_excerpt,
        attempts,
    )
}

fn from_error_body(
    status: u16,
    request_id: Option<String>,
    body: ErrorBody,
    body_excerpt: Option<String>,
    attempts: u32,
) -> Error {
    Error::Service(Box::new(ServiceError {
        status,
        // The service's text reaches terminals: no escape sequence of its own survives.
        code: body.code.map(|c| controls_escaped(&redact(&c))),
        message: body.message.map(|m| controls_escaped(&redact(&m))),
        request_id: request_id.or(body.request_id),
        encoded_authorization_message: body.encoded_authorization_message,
        body_excerpt: body_excerpt.filter(|e| !e.is_empty()),
        attempts: attempts.max(1),
    }))
}

/// A successful answer whose body is not `what`. The parser's message is not used: serde quotes the
/// offending value, which may be a key.
pub(crate) fn decode_error(
    status: u16,
    request_id: Option<String>,
    what: &str,
    error: &serde_json::Error,
) -> Error {
    let problem = match error.classify() {
        serde_json::error::Category::Io => "an I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "JSON of another shape",
        serde_json::error::Category::Eof => "JSON cut short",
    };
    let at = if error.line() > 0 {
        format!(" at line {}, column {}", error.line(), error.column())
    } else {
        String::new()
    };
    Error::Decode {
        status,
        request_id,
        reason: format!("the body is not {what}: {problem}{at}"),
    }
}

/// A call without an answer.
pub(crate) fn failure_error(failure: Failure, outcome: &Outcome, endpoint: &url::Url) -> Error {
    match failure {
        Failure::Refused(reason) => refused_error(&reason),
        Failure::Transport(e) => transport_error(e, outcome, endpoint),
        Failure::Rejected(rejected) => rejected_error(&rejected, outcome, endpoint),
    }
}

/// An answer the client would not use: a redirect, a body past its limit.
pub(crate) fn rejected_error(rejected: &Rejected, outcome: &Outcome, endpoint: &url::Url) -> Error {
    Error::AnswerRefused {
        endpoint: endpoint_label(endpoint),
        reason: rejected.to_string(),
        status: outcome.status,
    }
}

/// A call refused before sending.
pub(crate) fn refused_error(reason: &str) -> Error {
    Error::credentials(format!(
        "cannot authenticate the request, so it was not sent: {reason}"
    ))
}

/// The last attempt's network failure.
pub(crate) fn transport_error(e: reqwest::Error, outcome: &Outcome, endpoint: &url::Url) -> Error {
    let attempts = outcome.attempts.max(1);
    if e.is_timeout() || outcome.timed_out {
        return Error::Timeout {
            endpoint: endpoint_label(endpoint),
            elapsed: outcome.elapsed,
            attempts,
            source: Some(Box::new(e)),
        };
    }
    let what = if e.is_connect() {
        "cannot connect"
    } else if e.is_decode() || e.is_body() {
        "the response was cut short"
    } else {
        "the connection failed"
    };
    Error::Transport {
        endpoint: endpoint_label(endpoint),
        message: format!("{what} ({attempts} attempt(s))"),
        source: Some(Box::new(e)),
    }
}

/// The error of a generated operation that returns `what` (e.g. "a kubeconfig").
pub(crate) async fn operation_error(
    error: progenitor_client::Error<ErrorBody>,
    outcome: &Outcome,
    endpoint: &url::Url,
    what: &str,
) -> Error {
    use progenitor_client::Error as P;

    if let Some(reason) = &outcome.refused {
        return refused_error(reason);
    }
    if let Some(rejected) = &outcome.rejected {
        return rejected_error(rejected, outcome, endpoint);
    }
    let attempts = outcome.attempts;
    match error {
        P::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let request_id = request_id_of(response.headers());
            let body = response.into_inner();
            let text = body
                .is_empty()
                .then(|| redact(&serde_json::to_string(&body).unwrap_or_default()));
            from_error_body(status, request_id, body, text, attempts)
        }
        P::InvalidResponsePayload(bytes, e) => {
            let status = outcome.status.unwrap_or(0);
            if (200..300).contains(&status) {
                decode_error(status, outcome.request_id.clone(), what, &e)
            } else {
                from_error_body(
                    status,
                    outcome.request_id.clone(),
                    ErrorBody::default(),
                    Some(excerpt(&bytes)),
                    attempts,
                )
            }
        }
        P::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = response.bytes().await.unwrap_or_default();
            if (200..300).contains(&status) {
                Error::Decode {
                    status,
                    request_id: request_id_of(&headers),
                    reason: format!("the service answered {status}, where the contract has 200"),
                }
            } else {
                service_error(status, &headers, &bytes, attempts)
            }
        }
        P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
            transport_error(e, outcome, endpoint)
        }
        P::InvalidRequest(message) => Error::invalid("request", message),
        P::Custom(message) => Error::credentials(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_errors_never_quote_the_body() {
        let key = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t";
        let body = format!(r#"{{"clusters": "{key}"}}"#);
        let e = serde_json::from_str::<cce_autopilot_model::Kubeconfig>(&body).unwrap_err();
        assert!(e.to_string().contains(key), "serde does quote it: {e}");
        let error = decode_error(200, Some("r".into()), "a kubeconfig", &e);
        let text = format!("{error} {error:?}");
        assert!(!text.contains(key), "{text}");
        assert!(text.contains("line 1"), "{text}");
    }

    #[test]
    fn error_messages_and_excerpts_are_redacted() {
        let sk = "exampleSecretKey0000000000000000000000000";
        let json = format!(r#"{{"error_code":"X.1","error_msg":"bad signature with sk={sk}"}}"#);
        let e = service_error(401, &HeaderMap::new(), json.as_bytes(), 1);
        assert!(!e.to_string().contains(sk), "{e}");
        let html = format!("<html>proxy error, key {sk}</html>");
        let e = service_error(502, &HeaderMap::new(), html.as_bytes(), 2);
        let text = e.to_string();
        assert!(!text.contains(sk) && text.contains("proxy error"), "{text}");
        assert_eq!(e.as_service().unwrap().attempts(), 2);
    }
}

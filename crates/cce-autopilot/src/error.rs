//! The one error type of the client: what failed, with the service's code, message and request id.
//!
//! No error ever quotes a successful answer (it may hold a key), and the excerpt of an error answer kept for
//! the user (an HTML 502 page, say) has passed through [`crate::redact`].

use std::fmt;
use std::time::Duration;

/// Result of the client's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in a call. Secrets never appear in `Display` or `Debug`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was rejected before any request was sent (an empty cluster id, a missing duration, …).
    #[error("invalid {what}: {message}")]
    InvalidInput {
        /// Which input.
        what: &'static str,
        /// What is wrong with it and how to fix it.
        message: String,
    },

    /// No usable credentials, a credential source failed, or a request could not be authenticated (and was
    /// therefore not sent).
    #[error("{message}")]
    Credentials {
        /// Where we looked and what to do next.
        message: String,
        /// The underlying failure, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// The configuration is incomplete or contradictory (unknown region, bad endpoint URL, unreadable file…).
    #[error("{message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
        /// The underlying failure, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// The service or its gateway answered with an error status.
    #[error(transparent)]
    Service(Box<ServiceError>),

    /// A successful answer whose body is not what the contract says. The body is never quoted: it may hold
    /// key material.
    #[error(
        "cannot decode the {status} response{rid}: {reason}",
        rid = request_id_suffix(request_id.as_deref())
    )]
    Decode {
        /// HTTP status.
        status: u16,
        /// The request id, if the response had one.
        request_id: Option<String>,
        /// Why decoding failed, in words that quote nothing of the body.
        reason: String,
    },

    /// An answer the client does not use: a redirect (never followed, so no header is re-sent elsewhere)
    /// or a body past the call's limit (see the crate docs). Nothing of it was used.
    #[error("refused the answer of {endpoint}: {reason}")]
    AnswerRefused {
        /// The URL's scheme, host and port.
        endpoint: String,
        /// Why, with the (escaped) `Location` of a redirect.
        reason: String,
        /// The HTTP status, when the head arrived.
        status: Option<u16>,
    },

    /// The request could not be sent or the response not read (DNS, connection refused, TLS, reset).
    #[error("request to {endpoint} failed: {message}")]
    Transport {
        /// The URL's scheme, host and port.
        endpoint: String,
        /// What happened.
        message: String,
        /// The underlying I/O error.
        #[source]
        source: Option<BoxError>,
    },

    /// The call did not finish within its time budget.
    #[error(
        "request to {endpoint} timed out after {} ms ({attempts} attempt(s))",
        elapsed.as_millis()
    )]
    Timeout {
        /// The URL's scheme, host and port.
        endpoint: String,
        /// Time spent, all attempts and waits included.
        elapsed: Duration,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// No cluster of the project has this id, name or alias.
    #[error(
        "no cluster named {query:?} in project {project_id}{}",
        nearest_suffix(nearest)
    )]
    UnknownCluster {
        /// What was asked for.
        query: String,
        /// The project searched.
        project_id: String,
        /// The names (and aliases) nearest to `query`, best first.
        nearest: Vec<String>,
    },

    /// More than one cluster answers to this name or alias.
    #[error(
        "{query:?} names more than one cluster of project {project_id}: {}; use the cluster id",
        candidates.iter().map(|(name, id)| format!("{name} ({id})")).collect::<Vec<_>>().join(", ")
    )]
    AmbiguousCluster {
        /// What was asked for.
        query: String,
        /// The project searched.
        project_id: String,
        /// Each matching cluster's name and id.
        candidates: Vec<(String, String)>,
    },
}

/// An error answer from the service or the API gateway.
///
/// Its `Display` holds the status, the service's code and message, an excerpt of a body that was not a
/// JSON error object (redacted), the request id and the number of attempts.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ServiceError {
    pub(crate) status: u16,
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) encoded_authorization_message: Option<String>,
    pub(crate) body_excerpt: Option<String>,
    pub(crate) attempts: u32,
}

impl ServiceError {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// `error_code`, e.g. `CCE.01400001` or `APIGW.0301`.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// `error_msg` (redacted).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// `X-Request-Id`, else the body's `request_id`.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// `encoded_authorization_message` of an IAM denial.
    pub fn encoded_authorization_message(&self) -> Option<&str> {
        self.encoded_authorization_message.as_deref()
    }

    /// The start of the body (redacted) when it was not a JSON error object, e.g. an HTML 502 page.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.body_excerpt.as_deref()
    }

    /// Attempts made, retries included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service error {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(excerpt) = &self.body_excerpt {
            write!(f, ": body starts with {excerpt:?}")?;
        }
        f.write_str(&request_id_suffix(self.request_id.as_deref()))?;
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

fn request_id_suffix(request_id: Option<&str>) -> String {
    request_id.map_or_else(String::new, |id| format!(" (request id {id})"))
}

fn nearest_suffix(nearest: &[String]) -> String {
    match nearest {
        [] => "; the cluster list shows every name".to_owned(),
        names => format!("; did you mean {}?", names.join(" or ")),
    }
}

impl Error {
    /// HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Service(e) => Some(e.status),
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's error code (`error_code`), if any.
    pub fn code(&self) -> Option<&str> {
        self.as_service().and_then(ServiceError::code)
    }

    /// The service's error message (`error_msg`), if any.
    pub fn message(&self) -> Option<&str> {
        self.as_service().and_then(ServiceError::message)
    }

    /// The request id to quote to support, if the answer had one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Service(e) => e.request_id(),
            Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The service error, if this is one.
    pub fn as_service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// Whether trying the same call again later may succeed (throttling, an unavailable gateway, a network
    /// failure, a time-out). The client already retried such failures within its budget.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => crate::retry::is_retryable_status(e.status),
            Error::Transport { .. } | Error::Timeout { .. } => true,
            _ => false,
        }
    }

    /// Which class of failure this is, for exit codes and metrics.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. }
            | Error::UnknownCluster { .. }
            | Error::AmbiguousCluster { .. } => ErrorKind::InvalidInput,
            Error::Credentials { .. } => ErrorKind::Credentials,
            Error::Config { .. } => ErrorKind::Config,
            Error::Service(e) if e.status == 401 || e.status == 403 => ErrorKind::Auth,
            Error::Service(_) | Error::Decode { .. } | Error::AnswerRefused { .. } => {
                ErrorKind::Service
            }
            Error::Transport { .. } | Error::Timeout { .. } => ErrorKind::Network,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn config_caused(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Config {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn credentials(message: impl Into<String>) -> Self {
        Error::Credentials {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            what,
            message: message.into(),
        }
    }
}

/// Coarse classes of [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input caught before any request (an unknown cluster name included).
    InvalidInput,
    /// No credentials, or a credential source failed.
    Credentials,
    /// Bad configuration.
    Config,
    /// The service refused the credentials (401/403).
    Auth,
    /// Any other service answer.
    Service,
    /// Network failure or time-out.
    Network,
}

impl From<cce_autopilot_model::InvalidDuration> for Error {
    fn from(e: cce_autopilot_model::InvalidDuration) -> Self {
        Error::invalid("duration", e.to_string())
    }
}

impl From<cce_autopilot_model::DurationTooLong> for Error {
    fn from(e: cce_autopilot_model::DurationTooLong) -> Self {
        Error::invalid("duration", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16) -> ServiceError {
        ServiceError {
            status,
            code: Some("CCE.01400001".into()),
            message: Some("Invalid duration".into()),
            request_id: Some("abc".into()),
            encoded_authorization_message: None,
            body_excerpt: None,
            attempts: 1,
        }
    }

    #[test]
    fn service_error_display_has_code_message_and_request_id() {
        let e = Error::Service(Box::new(service(400)));
        assert_eq!(
            e.to_string(),
            "service error 400 CCE.01400001: Invalid duration (request id abc)"
        );
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.code(), Some("CCE.01400001"));
        assert_eq!(e.request_id(), Some("abc"));
        assert!(!e.is_retryable());
        assert_eq!(e.kind(), ErrorKind::Service);
    }

    #[test]
    fn service_errors_are_std_errors_and_not_repeated_in_a_chain() {
        let e = Error::Service(Box::new(service(503)));
        let as_std: &dyn std::error::Error = &e;
        assert!(
            as_std.source().is_none(),
            "transparent: no duplicate in `{{:#}}`"
        );
        let inner: &dyn std::error::Error = e.as_service().unwrap();
        assert_eq!(inner.to_string(), e.to_string());
    }

    #[test]
    fn timeouts_keep_their_cause_and_elapsed_time() {
        let e = Error::Timeout {
            endpoint: "http://127.0.0.1:1".into(),
            elapsed: Duration::from_millis(1500),
            attempts: 2,
            source: Some("deadline".into()),
        };
        assert_eq!(
            e.to_string(),
            "request to http://127.0.0.1:1 timed out after 1500 ms (2 attempt(s))"
        );
        assert_eq!(
            std::error::Error::source(&e).unwrap().to_string(),
            "deadline"
        );
        assert_eq!(e.kind(), ErrorKind::Network);
    }

    #[test]
    fn unknown_and_ambiguous_clusters_name_the_candidates() {
        let e = Error::UnknownCluster {
            query: "prdo".into(),
            project_id: "p".into(),
            nearest: vec!["prod".into()],
        };
        assert!(e.to_string().contains("did you mean prod?"), "{e}");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let e = Error::AmbiguousCluster {
            query: "web".into(),
            project_id: "p".into(),
            candidates: vec![("web".into(), "id1".into()), ("web2".into(), "id2".into())],
        };
        let text = e.to_string();
        assert!(
            text.contains("web (id1)") && text.contains("web2 (id2)"),
            "{text}"
        );
    }
}

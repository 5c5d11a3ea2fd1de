//! The one error type of the client: what failed, with the service's code, message and request id.

use std::fmt;

/// Result of the client's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How much of an unparseable body an error keeps.
const EXCERPT_LEN: usize = 512;

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

    /// No usable credentials, or a credential source failed.
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
    #[error("{0}")]
    Service(Box<ServiceError>),

    /// The answer had a success (or error) status but a body that is not what the contract says.
    #[error(
        "cannot decode the {status} response{rid}: {reason}; body starts with: {excerpt:?}",
        rid = request_id_suffix(request_id.as_deref())
    )]
    Decode {
        /// HTTP status.
        status: u16,
        /// The request id, if the response had one.
        request_id: Option<String>,
        /// Why decoding failed.
        reason: String,
        /// The start of the body.
        excerpt: String,
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
    #[error("request to {endpoint} timed out after {elapsed_ms} ms ({attempts} attempt(s))")]
    Timeout {
        /// The URL's scheme, host and port.
        endpoint: String,
        /// Time spent.
        elapsed_ms: u128,
        /// Attempts made.
        attempts: u32,
    },
}

/// An error answer from the service or the API gateway.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceError {
    /// HTTP status.
    pub status: u16,
    /// `error_code`, e.g. `CCE.01400001` or `APIGW.0301`.
    pub code: Option<String>,
    /// `error_msg`.
    pub message: Option<String>,
    /// `X-Request-Id`, else the body's `request_id`.
    pub request_id: Option<String>,
    /// `encoded_authorization_message` of an IAM denial.
    pub encoded_authorization_message: Option<String>,
    /// The start of the body when it was not a JSON error object (an HTML 502 page).
    pub body_excerpt: Option<String>,
    /// Attempts made, retries included.
    pub attempts: u32,
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

fn request_id_suffix(request_id: Option<&str>) -> String {
    request_id.map_or_else(String::new, |id| format!(" (request id {id})"))
}

/// The first bytes of a body, as text, cut on a character boundary.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_LEN * 4)]);
    let mut end = text.len().min(EXCERPT_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].trim().to_owned();
    if text.len() > end {
        out.push('…');
    }
    out
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
        match self {
            Error::Service(e) => e.code.as_deref(),
            _ => None,
        }
    }

    /// The service's error message (`error_msg`), if any.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Service(e) => e.message.as_deref(),
            _ => None,
        }
    }

    /// The request id to quote to support, if the answer had one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Service(e) => e.request_id.as_deref(),
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
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Credentials { .. } => ErrorKind::Credentials,
            Error::Config { .. } => ErrorKind::Config,
            Error::Service(e) if e.status == 401 || e.status == 403 => ErrorKind::Auth,
            Error::Service(_) | Error::Decode { .. } => ErrorKind::Service,
            Error::Transport { .. } | Error::Timeout { .. } => ErrorKind::Network,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            source: None,
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
    /// Bad input caught before any request.
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
        Error::InvalidInput {
            what: "duration",
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_long_bodies_on_char_boundaries() {
        let body = "é".repeat(600);
        let e = excerpt(body.as_bytes());
        assert!(e.ends_with('…'));
        assert!(e.len() <= EXCERPT_LEN + '…'.len_utf8());
        assert_eq!(excerpt(b"  <html>502</html>\n"), "<html>502</html>");
    }

    #[test]
    fn service_error_display_has_code_message_and_request_id() {
        let e = Error::Service(Box::new(ServiceError {
            status: 400,
            code: Some("CCE.01400001".into()),
            message: Some("Invalid duration".into()),
            request_id: Some("abc".into()),
            encoded_authorization_message: None,
            body_excerpt: None,
            attempts: 1,
        }));
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
}

//! What the client takes of an answer before anything reads it. The endpoint is input like any other (a
//! flag, a mistyped host, a proxy in between), so:
//!
//! - **No redirect is followed.** Every HTTP client of the crate is built by [`crate::clients::HttpClients`]
//!   with [`reqwest::redirect::Policy::none`] (the official SDK's `allow_redirects` is off too), and a 3xx
//!   is an error naming its escaped `Location`: no header, token or signature is ever re-sent elsewhere.
//! - **Bodies are bounded.** An answer longer than its operation's limit ([`body_limit`]) is refused: at
//!   once when `Content-Length` declares it, else as soon as the chunks read add up past the limit. Memory
//!   stays within the limit whatever the server sends.

use bytes::BytesMut;

/// The largest body of a certificate answer: the service's is about 6 KB (two clusters, one user, a CA,
/// a certificate and an EC key, base64 in JSON).
pub const CERTIFICATE_BODY_LIMIT: usize = 256 * 1024;

/// The largest body of a cluster list: an Autopilot cluster item is 2–4 KB, so this holds thousands, far
/// more than a project's cluster quota allows.
pub const CLUSTER_LIST_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The largest body of any other answer: one cluster, an IAM project list, ECS metadata credentials.
pub const OTHER_BODY_LIMIT: usize = 1024 * 1024;

/// The body limit of an operation (its `operationId` in snake case, or the client's own names).
pub(crate) fn body_limit(operation: &str) -> usize {
    match operation {
        "create_autopilot_kubernetes_cluster_cert" => CERTIFICATE_BODY_LIMIT,
        "list_autopilot_clusters" => CLUSTER_LIST_BODY_LIMIT,
        _ => OTHER_BODY_LIMIT,
    }
}

/// An answer the client will not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// A 3xx: the client follows no redirect.
    Redirect {
        status: u16,
        /// The `Location` header, escaped and shortened for messages; `None` when absent.
        location: Option<String>,
    },
    /// A body past the limit.
    TooLarge {
        limit: usize,
        /// What `Content-Length` declared, when it did.
        declared: Option<u64>,
    },
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::Redirect { status, location } => {
                write!(f, "it answered {status}, a redirect to ")?;
                match location {
                    Some(location) => write!(f, "\"{location}\"")?,
                    None => f.write_str("nowhere (no Location)")?,
                }
                f.write_str(", which is never followed: check the endpoint URL")
            }
            Rejected::TooLarge { limit, declared } => {
                f.write_str("the answer is longer than ")?;
                write!(f, "the {} KiB this call accepts", limit / 1024)?;
                if let Some(declared) = declared {
                    write!(f, " (Content-Length {declared})")?;
                }
                f.write_str("; nothing more was read")
            }
        }
    }
}

/// The most characters of a `Location` quoted in a message.
const LOCATION_SHOWN: usize = 200;

/// `text` with every control character, quote and backslash escaped, at most `max` characters kept.
pub(crate) fn escaped(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (shown, c) in text.chars().enumerate() {
        if shown == max {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out
}

/// `text` with its control characters escaped (`\u{1b}`), the rest as it is: for the service's error
/// codes and messages, which reach terminals.
pub(crate) fn controls_escaped(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A 3xx as [`Rejected::Redirect`]; `None` for any other status.
pub(crate) fn redirect(response: &reqwest::Response) -> Option<Rejected> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| escaped(&String::from_utf8_lossy(v.as_bytes()), LOCATION_SHOWN));
    Some(Rejected::Redirect {
        status: response.status().as_u16(),
        location,
    })
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Past the limit.
    Rejected(Rejected),
    /// The connection failed or the body was cut short.
    Transport(reqwest::Error),
}

/// The response with its body read in full, up to `limit` bytes, so that a body cut short (a dropped
/// connection, a truncated answer) is a failure of this attempt, retried like any connection failure,
/// rather than a decoding error after the retry loop.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<reqwest::Response, ReadError> {
    let declared = response.content_length();
    if let Some(length) = declared
        && length > limit as u64
    {
        return Err(ReadError::Rejected(Rejected::TooLarge {
            limit,
            declared: Some(length),
        }));
    }
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let capacity = declared.map_or(8 * 1024, |d| usize::try_from(d).unwrap_or(limit));
    let mut body = BytesMut::with_capacity(capacity.min(limit));
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::Rejected(Rejected::TooLarge { limit, declared }));
        }
        body.extend_from_slice(&chunk);
    }
    let mut rebuilt = http::Response::new(body.freeze());
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_control_characters_out() {
        assert_eq!(escaped("a\x1b[2Jb\n", 100), "a\\u{1b}[2Jb\\n");
        assert_eq!(escaped("\"q\"", 100), "\\\"q\\\"");
        assert_eq!(escaped("abcdef", 3), "abc…");
        assert_eq!(
            controls_escaped("say \"hi\"\x1b[0m\r"),
            "say \"hi\"\\u{1b}[0m\\r"
        );
    }

    #[test]
    fn every_operation_has_a_limit() {
        assert_eq!(
            body_limit("create_autopilot_kubernetes_cluster_cert"),
            CERTIFICATE_BODY_LIMIT
        );
        assert_eq!(
            body_limit("list_autopilot_clusters"),
            CLUSTER_LIST_BODY_LIMIT
        );
        assert_eq!(body_limit("metadata_securitykey"), OTHER_BODY_LIMIT);
    }

    #[test]
    fn messages_name_what_was_refused() {
        let r = Rejected::Redirect {
            status: 307,
            location: Some(escaped("http://127.0.0.1:9/x\x07", 200)),
        };
        assert_eq!(
            r.to_string(),
            "it answered 307, a redirect to \"http://127.0.0.1:9/x\\u{7}\", which is never followed: check the endpoint URL"
        );
        let t = Rejected::TooLarge {
            limit: 256 * 1024,
            declared: Some(1 << 31),
        };
        assert!(t.to_string().contains("256 KiB"), "{t}");
        assert!(t.to_string().contains("Content-Length 2147483648"), "{t}");
    }
}

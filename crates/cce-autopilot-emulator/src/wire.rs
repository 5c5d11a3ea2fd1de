//! What a request carried, without its secrets: the headers a credential flow is judged by (values only
//! where they are not secrets) and the JSON key paths of its body. Kept in the request log, so that two
//! clients — the official SDK and ours — can be compared on what the service reads.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;

/// Headers recorded with their value (not secrets).
const VALUED: [&str; 3] = ["content-type", "x-idp-id", "x-metadata-token-ttl-seconds"];
/// Headers recorded as present only (they carry secrets).
const PRESENT: [&str; 5] = [
    "authorization",
    "x-security-token",
    "x-metadata-token",
    "x-auth-token",
    "x-subject-token",
];

/// The shape of one request: see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct WireShape {
    /// Lower-case header name → its value (`content-type`, `x-idp-id`, `x-metadata-token-ttl-seconds`), or
    /// `<present>` for the headers that carry secrets (`authorization`, `x-security-token`, …).
    pub headers: BTreeMap<String, String>,
    /// The body's JSON key paths (`auth.identity.methods`, …), sorted; empty for no or a non-JSON body.
    pub body_keys: Vec<String>,
}

impl WireShape {
    /// The recorded headers of `headers`.
    pub(crate) fn of_headers(headers: &HeaderMap) -> Self {
        let mut recorded = BTreeMap::new();
        for name in VALUED {
            if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
                recorded.insert(name.to_owned(), value.to_owned());
            }
        }
        for name in PRESENT {
            if headers.contains_key(name) {
                recorded.insert(name.to_owned(), "<present>".to_owned());
            }
        }
        WireShape {
            headers: recorded,
            body_keys: Vec::new(),
        }
    }
}

/// At most this many key paths are kept of one body, each at most [`MAX_PATH`] bytes: a hostile body cannot
/// make the log large.
const MAX_PATHS: usize = 64;
const MAX_PATH: usize = 128;

/// The key paths of a JSON body: objects' keys joined with `.`, arrays looked into (see [`MAX_PATHS`]).
pub(crate) fn body_keys(body: &[u8]) -> Vec<String> {
    fn walk(value: &Value, prefix: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if out.len() >= MAX_PATHS || prefix.len() + key.len() >= MAX_PATH {
                        return;
                    }
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    out.push(path.clone());
                    walk(inner, &path, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, prefix, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        walk(&value, "", &mut out);
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_keys_are_paths_without_values() {
        let keys =
            body_keys(br#"{"auth":{"identity":{"methods":["token"],"token":{"id":"SECRET"}}}}"#);
        assert_eq!(
            keys,
            [
                "auth",
                "auth.identity",
                "auth.identity.methods",
                "auth.identity.token",
                "auth.identity.token.id"
            ]
        );
        assert!(body_keys(b"not json").is_empty());
    }

    #[test]
    fn a_hostile_body_records_a_bounded_number_of_short_paths() {
        let wide: serde_json::Map<String, Value> = (0..10_000)
            .map(|i| (format!("k{i}"), Value::Null))
            .collect();
        assert_eq!(
            body_keys(Value::Object(wide).to_string().as_bytes()).len(),
            MAX_PATHS
        );
        let mut deep = Value::Null;
        for _ in 0..100 {
            deep = serde_json::json!({ "a-rather-long-key-name": deep });
        }
        let keys = body_keys(deep.to_string().as_bytes());
        assert!(keys.iter().all(|k| k.len() <= MAX_PATH), "{keys:?}");
    }
}

//! Error bodies of the service and of the API gateway in front of it, in all the shapes they come in.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::Extra;

/// An error answer, normalised.
///
/// Reads every shape Huawei Cloud services and their gateway use: `error_code`/`error_msg` (CCE, APIG),
/// `errorCode`/`errorMessage`, `code`/`message`, any of these nested under `"error"`, plus `request_id` and
/// `encoded_authorization_message`. Never fails on unknown fields; numeric codes become text.
/// Serialises in the CCE shape (`error_code`, `error_msg`, `request_id`, …) followed by the other fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorBody {
    /// e.g. `CCE.01400001`, `APIGW.0301`.
    pub code: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
    /// The request id the service put in the body.
    pub request_id: Option<String>,
    /// Encoded reason of an authorization failure (IAM policy denials).
    pub encoded_authorization_message: Option<String>,
    /// Every field not mapped above.
    pub extra: Extra,
}

const CODE_KEYS: [&str; 3] = ["error_code", "errorCode", "code"];
const MESSAGE_KEYS: [&str; 4] = ["error_msg", "errorMessage", "message", "error_message"];
const REQUEST_ID_KEYS: [&str; 2] = ["request_id", "requestId"];
const AUTHZ_KEYS: [&str; 2] = [
    "encoded_authorization_message",
    "encodedAuthorizationMessage",
];

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Takes the first of `keys` that holds a scalar out of `map`.
fn take(map: &mut Extra, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| {
        let text = map.get(*key).and_then(as_text)?;
        map.remove(*key);
        Some(text)
    })
}

impl ErrorBody {
    /// Parses a body, or `None` when it is not a JSON object (an HTML page, plain text, a list).
    pub fn from_slice(body: &[u8]) -> Option<Self> {
        match serde_json::from_slice::<Value>(body).ok()? {
            Value::Object(map) => Some(Self::from_map(map)),
            _ => None,
        }
    }

    /// Normalises a JSON object.
    pub fn from_map(mut map: Extra) -> Self {
        let mut body = ErrorBody {
            code: take(&mut map, &CODE_KEYS),
            message: take(&mut map, &MESSAGE_KEYS),
            request_id: take(&mut map, &REQUEST_ID_KEYS),
            encoded_authorization_message: take(&mut map, &AUTHZ_KEYS),
            extra: Extra::new(),
        };
        // {"error": {"code": ..., "message": ...}}: the nested object fills what the top level did not.
        if let Some(Value::Object(inner)) = map.get("error") {
            let mut inner = inner.clone();
            body.code = body.code.or_else(|| take(&mut inner, &CODE_KEYS));
            body.message = body.message.or_else(|| take(&mut inner, &MESSAGE_KEYS));
            body.request_id = body
                .request_id
                .or_else(|| take(&mut inner, &REQUEST_ID_KEYS));
            body.encoded_authorization_message = body
                .encoded_authorization_message
                .or_else(|| take(&mut inner, &AUTHZ_KEYS));
            if inner.is_empty() {
                map.remove("error");
            } else {
                map.insert("error".into(), Value::Object(inner));
            }
        }
        body.extra = map;
        body
    }

    /// A body in the CCE shape.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            code: Some(code.into()),
            message: Some(message.into()),
            ..ErrorBody::default()
        }
    }

    /// The same body with a request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Whether the body carried anything this type understands.
    pub fn is_empty(&self) -> bool {
        self.code.is_none() && self.message.is_none()
    }
}

impl<'de> Deserialize<'de> for ErrorBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from_map(Extra::deserialize(deserializer)?))
    }
}

impl Serialize for ErrorBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = Extra::new();
        let fields = [
            ("error_code", &self.code),
            ("error_msg", &self.message),
            ("request_id", &self.request_id),
            (
                "encoded_authorization_message",
                &self.encoded_authorization_message,
            ),
        ];
        for (key, value) in fields {
            if let Some(v) = value {
                map.insert(key.into(), Value::String(v.clone()));
            }
        }
        for (key, value) in &self.extra {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
        map.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> ErrorBody {
        ErrorBody::from_slice(json.as_bytes()).expect("a JSON object")
    }

    #[test]
    fn cce_and_gateway_shape() {
        let b = parse(
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"r1"}"#,
        );
        assert_eq!(b.code.as_deref(), Some("APIGW.0301"));
        assert_eq!(
            b.message.as_deref(),
            Some("Incorrect IAM authentication information")
        );
        assert_eq!(b.request_id.as_deref(), Some("r1"));
        assert!(b.extra.is_empty());
    }

    #[test]
    fn camel_case_shape() {
        let b = parse(r#"{"errorCode":"CCE.01404001","errorMessage":"not found","x":1}"#);
        assert_eq!(b.code.as_deref(), Some("CCE.01404001"));
        assert_eq!(b.message.as_deref(), Some("not found"));
        assert_eq!(b.extra.get("x"), Some(&Value::from(1)));
    }

    #[test]
    fn code_message_shape_with_numeric_code() {
        let b = parse(r#"{"code":404,"message":"nope"}"#);
        assert_eq!(b.code.as_deref(), Some("404"));
        assert_eq!(b.message.as_deref(), Some("nope"));
    }

    #[test]
    fn nested_under_error() {
        let b = parse(
            r#"{"error":{"code":"IAM.0001","message":"denied","encoded_authorization_message":"enc","title":"t"},"request_id":"r2"}"#,
        );
        assert_eq!(b.code.as_deref(), Some("IAM.0001"));
        assert_eq!(b.message.as_deref(), Some("denied"));
        assert_eq!(b.encoded_authorization_message.as_deref(), Some("enc"));
        assert_eq!(b.request_id.as_deref(), Some("r2"));
        assert_eq!(b.extra["error"]["title"], "t");
    }

    #[test]
    fn non_objects_are_not_error_bodies() {
        assert!(ErrorBody::from_slice(b"<html><body>502 Bad Gateway</body></html>").is_none());
        assert!(ErrorBody::from_slice(b"[1,2]").is_none());
        assert!(ErrorBody::from_slice(b"").is_none());
        assert!(parse("{}").is_empty());
    }

    #[test]
    fn numbers_in_extra_fields_survive_a_round_trip() {
        // Found by fuzzing (fuzz/fuzz_targets/error_body.rs): a long number moved by one ulp per round.
        let b =
            parse(r#"{"error_code":"X","n":222222222222222222222222222222222222222222222222228}"#);
        let again = parse(&serde_json::to_string(&b).unwrap());
        let third = parse(&serde_json::to_string(&again).unwrap());
        assert_eq!(again, b);
        assert_eq!(third, again);
    }

    #[test]
    fn serialises_in_the_cce_shape() {
        let b = ErrorBody::new("CCE.01400001", "Invalid request").with_request_id("abc");
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(
            json,
            r#"{"error_code":"CCE.01400001","error_msg":"Invalid request","request_id":"abc"}"#
        );
        let back: ErrorBody = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
    }
}

//! The credential plugin's `KUBERNETES_EXEC_INFO` parser (`ExecApiVersion::from_exec_info`) on any
//! text: never panics, answers v1 when the variable is blank, and otherwise accepts exactly a JSON
//! object whose `apiVersion` is `client.authentication.k8s.io/v1` or `/v1beta1` (absent or null: v1),
//! given once. Everything else is an error that names the variable.
//!
//! The oracle reads the object with its own visitor (keeping repeated keys), independent of the
//! serde derive the plugin uses.
#![no_main]

use std::fmt;

use cce_autopilot_kubeconfig::exec_credential::{API_V1, API_V1BETA1, ExecApiVersion};
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // kubectl sets the variable; a value that is not UTF-8 never reaches the parser
    // (`std::env::var` fails first).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let got = ExecApiVersion::from_exec_info(Some(text));
    let want = expected(text);
    match (&got, want) {
        (Ok(version), Some(expected)) => assert_eq!(*version, expected, "{text:?}"),
        (Err(err), None) => {
            assert!(
                err.to_string().contains("KUBERNETES_EXEC_INFO"),
                "the message names the variable: {err}"
            );
        }
        (Ok(version), None) => panic!("accepted {text:?} as {version:?}"),
        (Err(err), Some(expected)) => {
            panic!("refused {text:?} (expected {expected:?}): {err}")
        }
    }
});

/// What the plugin must answer: `None` for a usage error.
fn expected(text: &str) -> Option<ExecApiVersion> {
    if text.trim().is_empty() {
        return Some(ExecApiVersion::V1);
    }
    let TopLevel(entries) = serde_json::from_str::<TopLevel>(text).ok()?;
    let versions: Vec<&Value> = entries
        .iter()
        .filter(|(key, _)| key == "apiVersion")
        .map(|(_, value)| value)
        .collect();
    match versions[..] {
        [] | [Value::Null] => Some(ExecApiVersion::V1),
        [Value::String(v)] if v == API_V1 => Some(ExecApiVersion::V1),
        [Value::String(v)] if v == API_V1BETA1 => Some(ExecApiVersion::V1Beta1),
        _ => None,
    }
}

/// A JSON object's top-level entries in order, repeated keys kept; only an object deserialises.
struct TopLevel(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "apiVersion" {
                        entries.push((key, map.next_value::<Value>()?));
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        entries.push((key, Value::Null));
                    }
                }
                Ok(TopLevel(entries))
            }
        }
        deserializer.deserialize_map(V)
    }
}

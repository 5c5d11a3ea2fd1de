//! The one rule that keeps secrets out of everything this crate shows: `Debug` output, dry-run reports and
//! logs. It works on the serialised form of an entry, so that the same rule covers typed and unknown fields.
//!
//! - A user's `client-key-data`, `token` and `password`, every value of its exec `env`, every field of its
//!   exec block that the model does not know, and every user field that the model does not know
//!   (`auth-provider`, `tokenFile`, …) become `REDACTED (<n> bytes)`.
//! - Certificates are not secret but long: `certificate-authority-data` and `client-certificate-data`
//!   become `DATA+OMITTED (<n> bytes)`, as `kubectl config view` shows them.

use std::fmt;

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Cluster, ExecConfig, ExecEnvVar, User};

/// User fields the model types; any other may hold a credential.
const KNOWN_USER_FIELDS: &[&str] = &[
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
    "token",
    "username",
    "password",
    "exec",
    "extensions",
];

/// Exec fields the model types; any other may hold a credential.
const KNOWN_EXEC_FIELDS: &[&str] = &[
    "apiVersion",
    "command",
    "args",
    "env",
    "installHint",
    "provideClusterInfo",
    "interactiveMode",
];

/// Applies the rule to a serialised kubeconfig file (its `clusters` and `users` lists).
pub(crate) fn redact_file(file: &mut Value) {
    for (list, inner, redact) in [
        (
            "clusters",
            "cluster",
            redact_cluster as fn(&mut Map<String, Value>),
        ),
        ("users", "user", redact_user),
    ] {
        if let Some(Value::Array(entries)) = file.get_mut(list) {
            for entry in entries {
                if let Some(Value::Object(map)) = entry.get_mut(inner) {
                    redact(map);
                }
            }
        }
    }
}

/// Applies the rule to a serialised cluster.
pub(crate) fn redact_cluster(cluster: &mut Map<String, Value>) {
    replace(cluster, "certificate-authority-data", "DATA+OMITTED", true);
}

/// Applies the rule to a serialised user.
pub(crate) fn redact_user(user: &mut Map<String, Value>) {
    replace(user, "client-certificate-data", "DATA+OMITTED", true);
    replace(user, "client-key-data", "REDACTED", true);
    replace(user, "token", "REDACTED", false);
    replace(user, "password", "REDACTED", false);
    if let Some(Value::Object(exec)) = user.get_mut("exec") {
        redact_exec(exec);
    }
    redact_unknown(user, KNOWN_USER_FIELDS);
}

fn redact_exec(exec: &mut Map<String, Value>) {
    if let Some(Value::Array(env)) = exec.get_mut("env") {
        for var in env {
            if let Value::Object(var) = var {
                redact_env_var(var);
            }
        }
    }
    redact_unknown(exec, KNOWN_EXEC_FIELDS);
}

fn redact_env_var(var: &mut Map<String, Value>) {
    replace(var, "value", "REDACTED", false);
    redact_unknown(var, &["name", "value"]);
}

fn redact_unknown(map: &mut Map<String, Value>, known: &[&str]) {
    let unknown: Vec<String> = map
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in unknown {
        replace(&mut *map, &key, "REDACTED", false);
    }
}

/// Replaces `map[key]` by `<label> (<n> bytes)`; `n` counts decoded bytes for base64 fields.
fn replace(map: &mut Map<String, Value>, key: &str, label: &str, base64_field: bool) {
    if let Some(value) = map.get_mut(key) {
        let len = match &*value {
            Value::String(s) if base64_field => base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_or(s.len(), |d| d.len()),
            Value::String(s) => s.len(),
            other => other.to_string().len(),
        };
        *value = Value::String(format!("{label} ({len} bytes)"));
    }
}

/// `Name({...})`: the value serialised, the rule applied, shown as JSON.
fn show<T: Serialize>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    value: &T,
    redact: fn(&mut Map<String, Value>),
) -> fmt::Result {
    match serde_json::to_value(value) {
        Ok(Value::Object(mut map)) => {
            redact(&mut map);
            write!(f, "{name}({})", Value::Object(map))
        }
        // The model serialises to objects only; show nothing rather than risk showing a secret.
        _ => write!(f, "{name}(..)"),
    }
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(f, "Cluster", self, redact_cluster)
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(f, "User", self, redact_user)
    }
}

impl fmt::Debug for ExecConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(f, "ExecConfig", self, redact_exec)
    }
}

impl fmt::Debug for ExecEnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(f, "ExecEnvVar", self, redact_env_var)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KubeconfigFile, NamedUser};
    use serde_json::json;

    const KEY_B64: &str = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktjd2dnU2pBZ0VBQW9JQkFRQwotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==";

    fn secret_user() -> User {
        let mut exec = ExecConfig {
            command: "plugin".to_owned(),
            env: Some(vec![ExecEnvVar {
                name: "API_SECRET".to_owned(),
                value: "env-secret-value".to_owned(),
                unknown: Map::new(),
            }]),
            ..ExecConfig::default()
        };
        exec.unknown
            .insert("future-secret".to_owned(), json!("exec-unknown-secret"));
        let mut user = User {
            client_key_data: Some(KEY_B64.to_owned()),
            token: Some("tok-very-secret".to_owned()),
            password: Some("hunter2".to_owned()),
            exec: Some(exec),
            ..User::default()
        };
        user.unknown.insert(
            "auth-provider".to_owned(),
            json!({"config": {"id-token": "idtok-secret"}}),
        );
        user
    }

    const SECRETS: [&str; 6] = [
        KEY_B64,
        "tok-very-secret",
        "hunter2",
        "env-secret-value",
        "idtok-secret",
        "exec-unknown-secret",
    ];

    #[test]
    fn debug_redacts_secrets() {
        let mut file = KubeconfigFile::default();
        file.users.push(NamedUser::new("u", secret_user()));
        let debug = format!("{file:?} {file:#?}");
        for secret in SECRETS {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
        assert!(debug.contains("REDACTED ("), "{debug}");
        assert!(debug.contains("API_SECRET"), "names stay visible: {debug}");
        assert!(debug.contains("plugin"), "{debug}");
    }

    #[test]
    fn reports_use_the_same_rule_as_debug() {
        let mut file = KubeconfigFile::default();
        file.users.push(NamedUser::new("u", secret_user()));
        let mut value = serde_json::to_value(&file).unwrap();
        redact_file(&mut value);
        let text = value.to_string();
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let user = value["users"][0]["user"].as_object().unwrap();
        let mut debug_side = serde_json::to_value(secret_user()).unwrap();
        redact_user(debug_side.as_object_mut().unwrap());
        assert_eq!(&Value::Object(user.clone()), &debug_side);
    }

    #[test]
    fn certificates_are_omitted_with_their_decoded_length() {
        let cluster = Cluster {
            certificate_authority_data: Some("Q0VSVAo=".to_owned()),
            ..Cluster::default()
        };
        let debug = format!("{cluster:?}");
        assert!(debug.contains("DATA+OMITTED (5 bytes)"), "{debug}");
    }
}

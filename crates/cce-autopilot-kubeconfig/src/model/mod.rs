//! The model of one kubectl config file: typed fields for what this crate touches, every other field
//! kept verbatim so that a rewrite loses nothing. Parsing and rendering live in `parse`, the `Debug`
//! output that never shows secrets in `redact`.

mod parse;
pub(crate) mod redact;

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::{EntryKind, Error, Result};

/// Fields of the model that this crate does not know, kept as they were read.
pub type UnknownFields = Map<String, Value>;

/// The name of the kubeconfig extension that marks entries written by this tool.
///
/// An entry carrying it in its `extensions` list is "ours": [`super::update`] may replace it in
/// place. kubectl keeps such extensions when it rewrites a file.
pub const OWNER_EXTENSION: &str = "cce-autopilot.io/owner";

/// A kubectl config file (`apiVersion: v1`, `kind: Config`).
///
/// Serialized in kubectl's own layout: every mapping's keys sorted, so `apiVersion`, `clusters`,
/// `contexts`, `current-context`, `kind`, `preferences`, `users`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KubeconfigFile {
    /// `apiVersion`, `v1` when absent.
    #[serde(rename = "apiVersion", default = "default_api_version")]
    pub api_version: String,
    /// `kind`, `Config` when absent.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// `preferences` (unused by kubectl, kept as read).
    #[serde(default, deserialize_with = "null_as_default")]
    pub preferences: Map<String, Value>,
    /// `clusters`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub clusters: Vec<NamedCluster>,
    /// `users` (client-go's `AuthInfos`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<NamedUser>,
    /// `contexts`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub contexts: Vec<NamedContext>,
    /// `current-context`; an empty string means "not set", as in client-go.
    #[serde(
        rename = "current-context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub current_context: Option<String>,
    /// `extensions`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Every other top-level field.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl Default for KubeconfigFile {
    fn default() -> Self {
        KubeconfigFile {
            api_version: default_api_version(),
            kind: default_kind(),
            preferences: Map::new(),
            clusters: Vec::new(),
            users: Vec::new(),
            contexts: Vec::new(),
            current_context: None,
            extensions: Vec::new(),
            unknown: Map::new(),
        }
    }
}

/// An entry of `clusters`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedCluster {
    /// The entry's name, referenced by contexts.
    pub name: String,
    /// The cluster.
    #[serde(default)]
    pub cluster: Cluster,
    /// Every other field of the entry.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// How to reach and trust an API server (client-go's `Cluster`). `Debug` shows the length of
/// `certificate-authority-data`, not the data.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// `server`: the API server's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// `tls-server-name`: the name to verify the server certificate against.
    #[serde(
        rename = "tls-server-name",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tls_server_name: Option<String>,
    /// `insecure-skip-tls-verify`.
    #[serde(
        rename = "insecure-skip-tls-verify",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub insecure_skip_tls_verify: Option<bool>,
    /// `certificate-authority`: path of a CA file.
    #[serde(
        rename = "certificate-authority",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority: Option<String>,
    /// `certificate-authority-data`: base64 of the CA's PEM.
    #[serde(
        rename = "certificate-authority-data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority_data: Option<String>,
    /// `proxy-url`.
    #[serde(rename = "proxy-url", default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// `extensions`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Every other field (`disable-compression`, ...).
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl Cluster {
    /// The CA field set together with `insecure-skip-tls-verify: true`, which kubectl rejects.
    pub fn conflicting_ca_field(&self) -> Option<&'static str> {
        if self.insecure_skip_tls_verify != Some(true) {
            return None;
        }
        if self
            .certificate_authority_data
            .as_deref()
            .is_some_and(|d| !d.is_empty())
        {
            Some("certificate-authority-data")
        } else if self
            .certificate_authority
            .as_deref()
            .is_some_and(|d| !d.is_empty())
        {
            Some("certificate-authority")
        } else {
            None
        }
    }
}

/// An entry of `users`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedUser {
    /// The entry's name, referenced by contexts.
    pub name: String,
    /// The credentials.
    #[serde(default)]
    pub user: User,
    /// Every other field of the entry.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// Credentials (client-go's `AuthInfo`). `Debug` redacts the key, the token, the password and
/// every field this model does not know.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// `client-certificate`: path of a PEM file.
    #[serde(
        rename = "client-certificate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate: Option<String>,
    /// `client-certificate-data`: base64 of the client certificate's PEM.
    #[serde(
        rename = "client-certificate-data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate_data: Option<String>,
    /// `client-key`: path of a PEM file.
    #[serde(
        rename = "client-key",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key: Option<String>,
    /// `client-key-data`: base64 of the private key's PEM. Secret.
    #[serde(
        rename = "client-key-data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key_data: Option<String>,
    /// `token`: a bearer token. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `username` for basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `password` for basic authentication. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `exec`: a credential plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecConfig>,
    /// `extensions`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Every other field (`tokenFile`, `auth-provider`, `as`, ...), which may hold secrets.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// An exec credential plugin (`client.authentication.k8s.io`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecConfig {
    /// `apiVersion`: `client.authentication.k8s.io/v1` or `v1beta1`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// `command`: the program to run.
    #[serde(default)]
    pub command: String,
    /// `args`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// `env`: extra environment variables for the plugin (values are redacted by `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<ExecEnvVar>>,
    /// `installHint`: shown when the command is missing.
    #[serde(
        rename = "installHint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub install_hint: Option<String>,
    /// `provideClusterInfo`.
    #[serde(
        rename = "provideClusterInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub provide_cluster_info: Option<bool>,
    /// `interactiveMode`: `Never`, `IfAvailable` or `Always` (required for `v1`).
    #[serde(
        rename = "interactiveMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub interactive_mode: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// One `env` entry of an exec plugin. `Debug` redacts the value.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecEnvVar {
    /// The variable's name.
    pub name: String,
    /// The variable's value (may be a secret).
    #[serde(default)]
    pub value: String,
    /// Every other field.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// An entry of `contexts`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedContext {
    /// The entry's name, what `kubectl --context` selects.
    pub name: String,
    /// The context.
    #[serde(default)]
    pub context: Context,
    /// Every other field of the entry.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// A (cluster, user, namespace) triple.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// `cluster`: the name of a `clusters` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// `user`: the name of a `users` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `extensions`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Every other field.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// An entry of an `extensions` list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedExtension {
    /// The extension's name.
    pub name: String,
    /// The extension's value (any object).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub extension: Value,
    /// Every other field.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

impl NamedExtension {
    /// An extension named `name` holding `extension`.
    pub fn new(name: impl Into<String>, extension: Value) -> Self {
        NamedExtension {
            name: name.into(),
            extension,
            unknown: Map::new(),
        }
    }
}

fn default_api_version() -> String {
    "v1".to_owned()
}

fn default_kind() -> String {
    "Config".to_owned()
}

/// kubectl writes `clusters: null` for empty lists; read `null` as empty.
fn null_as_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

macro_rules! owned_entry {
    ($entry:ty, $inner:ident, $inner_ty:ty, $doc:literal) => {
        impl $entry {
            #[doc = concat!("A ", $doc, " entry named `name`, with no unknown fields.")]
            pub fn new(name: impl Into<String>, $inner: $inner_ty) -> Self {
                Self {
                    name: name.into(),
                    $inner,
                    unknown: Map::new(),
                }
            }

            /// The value of this entry's [`OWNER_EXTENSION`], if it carries one.
            pub fn owner_mark(&self) -> Option<&Value> {
                self.$inner
                    .extensions
                    .iter()
                    .find(|e| e.name == OWNER_EXTENSION)
                    .map(|e| &e.extension)
            }

            /// Whether this entry carries the [`OWNER_EXTENSION`] mark, i.e. was written by this tool.
            pub fn is_owned(&self) -> bool {
                self.owner_mark().is_some()
            }

            /// Sets (or replaces) the [`OWNER_EXTENSION`] mark, keeping other extensions.
            pub fn set_owner_mark(&mut self, value: Value) {
                let extensions = &mut self.$inner.extensions;
                match extensions.iter_mut().find(|e| e.name == OWNER_EXTENSION) {
                    Some(existing) => existing.extension = value,
                    None => extensions.push(NamedExtension::new(OWNER_EXTENSION, value)),
                }
            }

            /// This entry with its [`OWNER_EXTENSION`] mark set to `value`.
            #[must_use]
            pub fn with_owner_mark(mut self, value: Value) -> Self {
                self.set_owner_mark(value);
                self
            }
        }
    };
}

owned_entry!(NamedCluster, cluster, Cluster, "cluster");
owned_entry!(NamedUser, user, User, "user");
owned_entry!(NamedContext, context, Context, "context");

impl KubeconfigFile {
    /// The `current-context`, unless it is absent or empty (client-go treats both as unset).
    pub fn current_context(&self) -> Option<&str> {
        self.current_context.as_deref().filter(|c| !c.is_empty())
    }

    /// The first name that appears twice in one list, like kubectl's "duplicate name in list".
    pub fn duplicate_name(&self) -> Option<(EntryKind, &str)> {
        fn first_dup<'a>(names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
            let mut seen = std::collections::HashSet::new();
            names.into_iter().find(|n| !seen.insert(*n))
        }
        first_dup(self.clusters.iter().map(|c| c.name.as_str()))
            .map(|n| (EntryKind::Cluster, n))
            .or_else(|| {
                first_dup(self.users.iter().map(|u| u.name.as_str())).map(|n| (EntryKind::User, n))
            })
            .or_else(|| {
                first_dup(self.contexts.iter().map(|c| c.name.as_str()))
                    .map(|n| (EntryKind::Context, n))
            })
    }

    fn check_unique_names(&self, origin: &Path) -> Result<()> {
        match self.duplicate_name() {
            Some((kind, name)) => Err(Error::DuplicateName {
                path: origin.to_path_buf(),
                kind,
                name: name.to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// Whether an entry named `name` exists in the list of `kind`.
    pub fn contains(&self, kind: EntryKind, name: &str) -> bool {
        match kind {
            EntryKind::Cluster => self.clusters.iter().any(|c| c.name == name),
            EntryKind::User => self.users.iter().any(|u| u.name == name),
            EntryKind::Context => self.contexts.iter().any(|c| c.name == name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owner_mark_is_set_once_and_kept_with_other_extensions() {
        let mut c = NamedCluster::new("c", Cluster::default());
        c.cluster
            .extensions
            .push(NamedExtension::new("other", json!({"k": "v"})));
        assert!(!c.is_owned());
        c.set_owner_mark(json!({"cluster-id": "1"}));
        c.set_owner_mark(json!({"cluster-id": "2"}));
        assert!(c.is_owned());
        assert_eq!(c.cluster.extensions.len(), 2);
        assert_eq!(c.owner_mark(), Some(&json!({"cluster-id": "2"})));
    }

    #[test]
    fn ca_with_insecure_is_detected() {
        let mut c = Cluster {
            certificate_authority_data: Some("Q0EK".into()),
            insecure_skip_tls_verify: Some(true),
            ..Cluster::default()
        };
        assert_eq!(c.conflicting_ca_field(), Some("certificate-authority-data"));
        c.insecure_skip_tls_verify = Some(false);
        assert_eq!(c.conflicting_ca_field(), None);
    }
}

//! The model of one kubectl config file: typed fields for what this tool touches, every other field
//! kept verbatim so that a rewrite loses nothing.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::error::{EntryKind, KubefileError, Result, sanitize_message};

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

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .field("tls_server_name", &self.tls_server_name)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("certificate_authority", &self.certificate_authority)
            .field(
                "certificate_authority_data",
                &self
                    .certificate_authority_data
                    .as_ref()
                    .map(|d| Omitted(d.len())),
            )
            .field("proxy_url", &self.proxy_url)
            .field("extensions", &self.extensions)
            .field("unknown", &self.unknown)
            .finish()
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unknown_keys: Vec<&String> = self.unknown.keys().collect();
        f.debug_struct("User")
            .field("client_certificate", &self.client_certificate)
            .field(
                "client_certificate_data",
                &self
                    .client_certificate_data
                    .as_ref()
                    .map(|d| Omitted(d.len())),
            )
            .field("client_key", &self.client_key)
            .field(
                "client_key_data",
                &self.client_key_data.as_ref().map(|d| Redacted(d.len())),
            )
            .field("token", &self.token.as_ref().map(|d| Redacted(d.len())))
            .field("username", &self.username)
            .field(
                "password",
                &self.password.as_ref().map(|d| Redacted(d.len())),
            )
            .field("exec", &self.exec)
            .field("extensions", &self.extensions)
            .field("unknown (values redacted)", &unknown_keys)
            .finish()
    }
}

impl fmt::Debug for ExecConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unknown_keys: Vec<&String> = self.unknown.keys().collect();
        f.debug_struct("ExecConfig")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &self.env)
            .field("install_hint", &self.install_hint)
            .field("provide_cluster_info", &self.provide_cluster_info)
            .field("interactive_mode", &self.interactive_mode)
            .field("unknown (values redacted)", &unknown_keys)
            .finish()
    }
}

impl fmt::Debug for ExecEnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecEnvVar")
            .field("name", &self.name)
            .field("value", &Redacted(self.value.len()))
            .finish_non_exhaustive()
    }
}

/// Stands for a secret in `Debug` output.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "** redacted ({} bytes) **", self.0)
    }
}

/// Stands for long, non-secret data in `Debug` output.
struct Omitted(usize);

impl fmt::Debug for Omitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes omitted>", self.0)
    }
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
    /// Parses the text of a kubeconfig file, YAML or JSON as kubectl does: a text whose first
    /// non-blank character is `{` is read as JSON, anything else as YAML. An empty or blank file
    /// (or one holding only comments or `null`) is an empty configuration, as in client-go.
    ///
    /// `origin` only names the file in errors. A file that names two entries of one list alike is
    /// rejected like kubectl does ([`KubefileError::DuplicateName`]).
    pub fn parse(text: &str, origin: &Path) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let trimmed = text.trim_start();
        let parsed = if trimmed.is_empty() {
            KubeconfigFile::default()
        } else if trimmed.starts_with('{') {
            // kubectl also reads a YAML flow mapping (`{apiVersion: v1}`): fall back to YAML, and
            // report the error of the syntax the text looks like.
            match parse_json(text, origin) {
                Ok(parsed) => parsed,
                Err(json_err) => match parse_yaml(text, origin) {
                    Ok(parsed) => parsed,
                    Err(_) if looks_like_json(trimmed) => return Err(json_err),
                    Err(yaml_err) => return Err(yaml_err),
                },
            }
        } else {
            parse_yaml(text, origin)?
        };
        parsed.check_unique_names(origin)?;
        Ok(parsed)
    }

    /// [`Self::parse`] for raw file content, which must be UTF-8.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text, origin),
            Err(e) => {
                let valid = &bytes[..e.valid_up_to()];
                let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
                let column = String::from_utf8_lossy(&valid[line_start..])
                    .chars()
                    .count()
                    + 1;
                Err(KubefileError::Parse {
                    path: origin.to_path_buf(),
                    line: Some(line),
                    column: Some(column),
                    message: "the file is not UTF-8 text".to_owned(),
                })
            }
        }
    }

    /// Renders the file as YAML in kubectl's layout (keys sorted at every level).
    pub fn to_yaml(&self) -> std::result::Result<String, String> {
        let mut value = serde_json::to_value(self).map_err(|e| e.to_string())?;
        value.sort_all_objects();
        let options = serde_saphyr::ser_options! {
            // Base64 data is one long word: keep it a plain scalar rather than a folded block.
            prefer_block_scalars: false,
        };
        serde_saphyr::to_string_with_options(&value, options).map_err(|e| e.to_string())
    }

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
            Some((kind, name)) => Err(KubefileError::DuplicateName {
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

/// `{"...` or `{}`: JSON rather than a YAML flow mapping with plain keys.
fn looks_like_json(trimmed: &str) -> bool {
    matches!(
        trimmed[1..].trim_start().chars().next(),
        Some('"' | '}') | None
    )
}

fn parse_yaml(text: &str, origin: &Path) -> Result<KubeconfigFile> {
    let options = serde_saphyr::options! {
        // The source snippet could show key material: build our own message from the location.
        with_snippet: false,
        // `mode: 0644` in an unknown field: keep the spelling rather than a float.
        leading_zero_numbers_as_strings: true,
    };
    match serde_saphyr::from_str_with_options::<Option<KubeconfigFile>>(text, options) {
        Ok(parsed) => Ok(parsed.unwrap_or_default()),
        Err(err) => {
            let location = err.location();
            let mut message = err.without_snippet().to_string();
            if let Some(loc) = location {
                let suffix = format!(" at line {}, column {}", loc.line(), loc.column());
                if let Some(stripped) = message.strip_suffix(&suffix) {
                    message = stripped.to_owned();
                }
            }
            // Drop hints meant for the developers of a YAML consumer, not for its users.
            if message.starts_with("multiple YAML documents") {
                message =
                    "more than one YAML document (`---`); a kubeconfig file holds one".to_owned();
            }
            if let Some(cut) = message.find(", set DuplicateKeyPolicy") {
                message.truncate(cut);
            }
            Err(KubefileError::Parse {
                path: origin.to_path_buf(),
                line: location.map(|l| l.line() as usize),
                column: location.map(|l| l.column() as usize),
                message: sanitize_message(&message),
            })
        }
    }
}

fn parse_json(text: &str, origin: &Path) -> Result<KubeconfigFile> {
    serde_json::from_str::<KubeconfigFile>(text).map_err(|err| {
        let mut message = err.to_string();
        let suffix = format!(" at line {} column {}", err.line(), err.column());
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
        let known = err.line() > 0;
        KubefileError::Parse {
            path: origin.to_path_buf(),
            line: known.then_some(err.line()),
            column: known.then_some(err.column()),
            message: sanitize_message(&message),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY_B64: &str = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktjd2dnU2pBZ0VBQW9JQkFRQwotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==";

    fn origin() -> &'static Path {
        Path::new("/test/config")
    }

    fn parse(text: &str) -> Result<KubeconfigFile> {
        KubeconfigFile::parse(text, origin())
    }

    const FULL: &str = r#"
apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- name: prod
  cluster:
    server: https://1.2.3.4:6443
    certificate-authority-data: Q0EK
    disable-compression: true
    extensions:
    - name: vendor.example/x
      extension: {a: 1}
  vendor-entry-field: keep-me
users:
- name: admin
  user:
    client-certificate-data: Q0VSVAo=
    client-key-data: S0VZCg==
    auth-provider:
      name: oidc
      config: {id-token: abc}
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: cce-autopilot
      args: [get-token]
      env: [{name: SECRET, value: s3cr3t}]
      interactiveMode: Never
      future-field: 7
contexts:
- name: prod
  context: {cluster: prod, user: admin, namespace: kube-system, vendor: v}
current-context: prod
x-top-level: {nested: [1, 2, {deep: yes}]}
"#;

    #[test]
    fn parses_typed_and_unknown_fields() {
        let f = parse(FULL).unwrap();
        assert_eq!(
            f.clusters[0].cluster.server.as_deref(),
            Some("https://1.2.3.4:6443")
        );
        assert_eq!(
            f.clusters[0].cluster.unknown["disable-compression"],
            json!(true)
        );
        assert_eq!(
            f.clusters[0].unknown["vendor-entry-field"],
            json!("keep-me")
        );
        assert_eq!(
            f.clusters[0].cluster.extensions[0].extension,
            json!({"a": 1})
        );
        let user = &f.users[0].user;
        assert_eq!(user.client_key_data.as_deref(), Some("S0VZCg=="));
        assert_eq!(
            user.unknown["auth-provider"]["config"]["id-token"],
            json!("abc")
        );
        let exec = user.exec.as_ref().unwrap();
        assert_eq!(exec.interactive_mode.as_deref(), Some("Never"));
        assert_eq!(exec.unknown["future-field"], json!(7));
        assert_eq!(
            f.contexts[0].context.namespace.as_deref(),
            Some("kube-system")
        );
        assert_eq!(f.contexts[0].context.unknown["vendor"], json!("v"));
        assert_eq!(f.preferences["colors"], json!(true));
        assert_eq!(f.current_context(), Some("prod"));
        assert_eq!(f.unknown["x-top-level"]["nested"][2]["deep"], json!(true));
    }

    #[test]
    fn round_trip_through_yaml_is_lossless() {
        let f = parse(FULL).unwrap();
        let yaml = f.to_yaml().unwrap();
        let again = parse(&yaml).unwrap();
        assert_eq!(f, again, "{yaml}");
    }

    #[test]
    fn yaml_output_follows_kubectl_layout() {
        let yaml = parse(FULL).unwrap().to_yaml().unwrap();
        let top: Vec<&str> = yaml
            .lines()
            .filter(|l| !l.starts_with([' ', '-']))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(
            top,
            [
                "apiVersion",
                "clusters",
                "contexts",
                "current-context",
                "kind",
                "preferences",
                "users",
                "x-top-level"
            ]
        );
    }

    #[test]
    fn empty_blank_comment_and_null_files_are_empty_configs() {
        for text in ["", "  \n\t\n", "# nothing here\n", "null\n", "\u{feff}"] {
            let f = parse(text).unwrap();
            assert_eq!(f, KubeconfigFile::default(), "{text:?}");
        }
    }

    #[test]
    fn null_lists_read_as_empty() {
        let f =
            parse("apiVersion: v1\nkind: Config\nclusters: null\nusers:\ncontexts: ~\n").unwrap();
        assert!(f.clusters.is_empty() && f.users.is_empty() && f.contexts.is_empty());
    }

    #[test]
    fn json_input_is_accepted() {
        let f = parse(r#"{"kind":"Config","apiVersion":"v1","clusters":[{"name":"a","cluster":{"server":"https://x","x":1}}],"current-context":""}"#).unwrap();
        assert_eq!(f.clusters[0].cluster.unknown["x"], json!(1));
        assert_eq!(f.current_context(), None);
    }

    #[test]
    fn a_yaml_flow_mapping_is_accepted_like_kubectl_does() {
        let f = parse(
            "{apiVersion: v1, kind: Config, clusters: [{name: a, cluster: {server: https://x}}]}",
        )
        .unwrap();
        assert_eq!(f.clusters[0].cluster.server.as_deref(), Some("https://x"));
    }

    #[test]
    fn yaml_errors_carry_line_and_column() {
        let err = parse("clusters:\n- name: a\n  cluster:\n    server: [x\n").unwrap_err();
        match err {
            KubefileError::Parse { line, column, .. } => {
                assert_eq!(line, Some(4));
                assert!(column.is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parser_messages_speak_to_users() {
        let err = parse("kind: Config\n---\nkind: Config\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("more than one YAML document") && !err.contains("from_str"),
            "{err}"
        );
        let err = parse("kind: Config\nkind: Config\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("duplicate mapping key") && !err.contains("Options"),
            "{err}"
        );
    }

    #[test]
    fn json_errors_carry_line_and_column() {
        let err = parse("{\n  \"clusters\": [\n    {\"name\": }\n").unwrap_err();
        let KubefileError::Parse { line, column, .. } = err else {
            panic!()
        };
        assert_eq!(line, Some(3));
        assert!(column.is_some());
    }

    #[test]
    fn parse_errors_never_echo_key_material() {
        let text = format!("users:\n- name: u\n  user: \"{KEY_B64}\"\n");
        let err = parse(&text).unwrap_err().to_string();
        assert!(!err.contains(KEY_B64), "{err}");
        let text =
            format!("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: {KEY_B64}\n");
        let err = parse(&text).unwrap_err().to_string();
        assert!(!err.contains(&KEY_B64[..40]), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn non_utf8_is_a_parse_error_with_position() {
        let err = KubeconfigFile::from_bytes(b"kind: Config\nap\xffiVersion: v1\n", origin())
            .unwrap_err();
        let KubefileError::Parse { line, column, .. } = err else {
            panic!()
        };
        assert_eq!((line, column), (Some(2), Some(3)));
    }

    #[test]
    fn duplicate_names_are_rejected_like_kubectl() {
        let err =
            parse("contexts:\n- name: a\n  context: {}\n- name: a\n  context: {}\n").unwrap_err();
        assert!(
            matches!(err, KubefileError::DuplicateName { kind: EntryKind::Context, ref name, .. } if name == "a")
        );
    }

    #[test]
    fn numbers_in_string_fields_read_as_strings() {
        let f =
            parse("contexts:\n- name: 2024\n  context: {namespace: 0755, cluster: 12}\n").unwrap();
        assert_eq!(f.contexts[0].name, "2024");
        assert_eq!(f.contexts[0].context.cluster.as_deref(), Some("12"));
    }

    #[test]
    fn yaml_output_quotes_strings_that_yaml_1_1_would_retype() {
        let mut f = KubeconfigFile::default();
        for name in ["y", "no", "on", "0755", "1e3", "null", "~", "2001-12-14"] {
            f.contexts.push(NamedContext::new(name, Context::default()));
        }
        let again = parse(&f.to_yaml().unwrap()).unwrap();
        assert_eq!(f, again);
        let yaml = f.to_yaml().unwrap();
        assert!(
            yaml.contains("name: \"y\"") || yaml.contains("name: 'y'"),
            "{yaml}"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut user = User {
            client_key_data: Some(KEY_B64.to_owned()),
            token: Some("tok-very-secret".to_owned()),
            password: Some("hunter2".to_owned()),
            exec: Some(ExecConfig {
                command: "plugin".to_owned(),
                env: Some(vec![ExecEnvVar {
                    name: "API_SECRET".to_owned(),
                    value: "env-secret-value".to_owned(),
                    unknown: Map::new(),
                }]),
                ..ExecConfig::default()
            }),
            ..User::default()
        };
        user.unknown.insert(
            "auth-provider".to_owned(),
            json!({"config": {"id-token": "idtok-secret"}}),
        );
        let mut file = KubeconfigFile::default();
        file.users.push(NamedUser::new("u", user));
        let debug = format!("{file:?} {file:#?}");
        for secret in [
            KEY_B64,
            "tok-very-secret",
            "hunter2",
            "env-secret-value",
            "idtok-secret",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
        assert!(debug.contains("redacted"));
        assert!(debug.contains("API_SECRET"));
    }

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

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn scalar() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                "[ -~]{0,12}".prop_map(Value::String),
                prop::sample::select(vec![
                    "yes", "no", "~", "null", "0755", "1e3", "- x", "a: b", "#c", " lead", "é✓"
                ])
                .prop_map(|s| Value::String(s.to_owned())),
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            scalar().prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map("[a-z][a-z-]{0,6}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn name() -> impl Strategy<Value = String> {
            prop_oneof![
                "[ -~]{1,16}",
                Just("y".to_owned()),
                Just("on".to_owned()),
                Just("0x1F".to_owned())
            ]
        }

        proptest! {
            /// Whatever the names and unknown fields, what we write reads back identical.
            #[test]
            fn yaml_round_trip_is_lossless(
                names in prop::collection::btree_set(name(), 1..5),
                server in "[ -~]{0,30}",
                unknown in prop::collection::btree_map("x-[a-z]{1,6}", value(), 0..4),
            ) {
                let mut f = KubeconfigFile::default();
                for n in &names {
                    let mut c = NamedCluster::new(n.clone(), Cluster { server: Some(server.clone()), ..Cluster::default() });
                    c.cluster.unknown = unknown.clone().into_iter().collect();
                    f.clusters.push(c);
                    f.contexts.push(NamedContext::new(n.clone(), Context { cluster: Some(n.clone()), ..Context::default() }));
                }
                f.unknown = unknown.into_iter().collect();
                f.current_context = names.iter().next().cloned();
                let yaml = f.to_yaml().unwrap();
                let again = KubeconfigFile::parse(&yaml, origin());
                prop_assert!(again.is_ok(), "{yaml}");
                prop_assert_eq!(again.unwrap(), f);
            }
        }
    }
}

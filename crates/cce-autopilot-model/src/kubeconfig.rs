//! The 200 response body: a Kubernetes `v1.Config` (a kubeconfig), field names exactly as on the wire.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::Extra;

/// The kubeconfig the service returns (the spec's `Config`).
///
/// Unknown fields at every level are kept in `extra` maps, so JSON → `Kubeconfig` → JSON loses nothing.
/// Lists absent from the input come back as empty lists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Kubeconfig {
    /// API kind, `Config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// API version, `v1`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// Unused by the service; an empty object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Extra>,
    /// Cluster entries: `internalCluster`, and `externalCluster` when the cluster has a public IP.
    #[serde(default)]
    pub clusters: Vec<AnswerNamedCluster>,
    /// User entries: one, named `user`.
    #[serde(default)]
    pub users: Vec<AnswerNamedUser>,
    /// Context entries: `internal`, and `external` when the cluster has a public IP.
    #[serde(default)]
    pub contexts: Vec<AnswerNamedContext>,
    /// `external` when the cluster has a public IP, else `internal`.
    #[serde(
        rename = "current-context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub current_context: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A named cluster entry (the spec's `Clusters`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerNamedCluster {
    /// `internalCluster` or `externalCluster`.
    pub name: String,
    /// How to reach the API server.
    pub cluster: AnswerCluster,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// How to reach and trust a cluster's API server (the spec's `ClusterCert`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerCluster {
    /// API server URL, e.g. `https://192.168.1.7:5443`.
    #[serde(default)]
    pub server: String,
    /// Base64 of the cluster CA certificate in PEM.
    #[serde(
        rename = "certificate-authority-data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority_data: Option<String>,
    /// Skip verification of the server certificate; `true` on `externalCluster`.
    #[serde(
        rename = "insecure-skip-tls-verify",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub insecure_skip_tls_verify: Option<bool>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A named user entry (the spec's `Users`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerNamedUser {
    /// `user`.
    pub name: String,
    /// The client certificate and key.
    pub user: AnswerUser,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Client certificate and key (the spec's `User`). `Debug` redacts the key.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerUser {
    /// Base64 of the client certificate in PEM.
    #[serde(
        rename = "client-certificate-data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate_data: Option<String>,
    /// Base64 of the client private key in PEM. Secret.
    #[serde(
        rename = "client-key-data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key_data: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for AnswerUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnswerUser")
            .field("client_certificate_data", &self.client_certificate_data)
            .field(
                "client_key_data",
                &self.client_key_data.as_ref().map(|_| "** redacted **"),
            )
            .field("extra", &RedactedKeys(&self.extra))
            .finish()
    }
}

/// Unknown user fields may hold credentials (a token, a password): show their names only.
struct RedactedKeys<'a>(&'a Extra);

impl fmt::Debug for RedactedKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "** redacted **")))
            .finish()
    }
}

/// A named context entry (the spec's `Contexts`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerNamedContext {
    /// `internal` or `external`.
    pub name: String,
    /// The cluster and user it pairs.
    pub context: AnswerContext,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A context: which cluster with which user (the spec's `Context`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerContext {
    /// Name of a cluster entry.
    #[serde(default)]
    pub cluster: String,
    /// Name of a user entry.
    #[serde(default)]
    pub user: String,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Private (`internal`) or public (`external`) access to the API server, as the service names its contexts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Access {
    /// Through the VPC: context `internal`, cluster `internalCluster`.
    Internal,
    /// Through the cluster's elastic IP: context `external`, cluster `externalCluster`.
    External,
}

/// Text that is neither `internal` nor `external`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown access {0:?}: expected \"internal\" or \"external\"")]
pub struct UnknownAccess(pub String);

impl Access {
    /// The context name the service uses.
    pub fn context_name(self) -> &'static str {
        match self {
            Access::Internal => "internal",
            Access::External => "external",
        }
    }

    /// The cluster entry name the service uses.
    pub fn cluster_name(self) -> &'static str {
        match self {
            Access::Internal => "internalCluster",
            Access::External => "externalCluster",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.context_name())
    }
}

impl FromStr for Access {
    type Err = UnknownAccess;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "internal" => Ok(Access::Internal),
            "external" => Ok(Access::External),
            other => Err(UnknownAccess(other.to_owned())),
        }
    }
}

/// The three entries a context ties together.
#[derive(Clone, Copy, Debug)]
pub struct AccessEntry<'a> {
    /// The context entry.
    pub context: &'a AnswerNamedContext,
    /// The cluster entry it names.
    pub cluster: &'a AnswerNamedCluster,
    /// The user entry it names.
    pub user: &'a AnswerNamedUser,
}

/// A `*-data` field that is not base64.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} is not valid base64: {reason}")]
pub struct DecodeError {
    /// The wire name of the field.
    pub field: &'static str,
    /// What the decoder said (never the data itself).
    pub reason: String,
}

fn decode(field: &'static str, data: Option<&str>) -> Result<Option<Vec<u8>>, DecodeError> {
    data.map(|text| {
        // The service wraps nothing, but users paste data with line breaks; tolerate white space.
        let compact: String = text.split_ascii_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| DecodeError {
                field,
                reason: e.to_string(),
            })
    })
    .transpose()
}

impl AnswerCluster {
    /// The cluster CA certificate as PEM bytes, if present.
    pub fn certificate_authority_pem(&self) -> Result<Option<Vec<u8>>, DecodeError> {
        decode(
            "certificate-authority-data",
            self.certificate_authority_data.as_deref(),
        )
    }
}

impl AnswerUser {
    /// The client certificate as PEM bytes, if present.
    pub fn client_certificate_pem(&self) -> Result<Option<Vec<u8>>, DecodeError> {
        decode(
            "client-certificate-data",
            self.client_certificate_data.as_deref(),
        )
    }

    /// The client private key as PEM bytes, if present. Handle with care: this is the credential.
    pub fn client_key_pem(&self) -> Result<Option<Vec<u8>>, DecodeError> {
        decode("client-key-data", self.client_key_data.as_deref())
    }
}

impl Kubeconfig {
    /// The cluster entry named `name`.
    pub fn cluster(&self, name: &str) -> Option<&AnswerNamedCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The user entry named `name`.
    pub fn user(&self, name: &str) -> Option<&AnswerNamedUser> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The context entry named `name`.
    pub fn context(&self, name: &str) -> Option<&AnswerNamedContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The context, cluster and user that context `name` ties together, if all three exist.
    pub fn resolve(&self, name: &str) -> Option<AccessEntry<'_>> {
        let context = self.context(name)?;
        Some(AccessEntry {
            context,
            cluster: self.cluster(&context.context.cluster)?,
            user: self.user(&context.context.user)?,
        })
    }

    /// The entries for private or public access (`internal` / `external` contexts).
    pub fn access(&self, access: Access) -> Option<AccessEntry<'_>> {
        self.resolve(access.context_name())
    }

    /// The private-access entries; every answer has them.
    pub fn internal(&self) -> Option<AccessEntry<'_>> {
        self.access(Access::Internal)
    }

    /// The public-access entries; present only for a cluster with a public IP.
    pub fn external(&self) -> Option<AccessEntry<'_>> {
        self.access(Access::External)
    }

    /// Which kinds of access the answer offers, in the order of its contexts.
    pub fn available_access(&self) -> Vec<Access> {
        self.contexts
            .iter()
            .filter_map(|c| c.name.parse().ok())
            .filter(|a| self.access(*a).is_some())
            .collect()
    }

    /// The entries of the current context.
    pub fn current(&self) -> Option<AccessEntry<'_>> {
        self.resolve(self.current_context.as_deref()?)
    }
}

/// The cluster entry names the vendor document defines.
pub const DOCUMENT_CLUSTER_NAMES: [&str; 2] = ["internalCluster", "externalCluster"];
/// The user entry name the vendor document defines.
pub const DOCUMENT_USER_NAMES: [&str; 1] = ["user"];
/// The context names the vendor document defines.
pub const DOCUMENT_CONTEXT_NAMES: [&str; 2] = ["internal", "external"];

impl Kubeconfig {
    /// Reduces an answer to what the vendor document defines, and returns where something else was dropped
    /// (field paths such as `users[0].user.exec`: names, never values).
    ///
    /// Kept: `clusters[].cluster.{server, certificate-authority-data, insecure-skip-tls-verify}`,
    /// `users[].user.{client-certificate-data, client-key-data}`, `contexts[].context.{cluster, user}` and
    /// `current-context`, in entries named as the document names them (the first of each name; a context
    /// only when both of its references are kept). `kind: Config` and `apiVersion: v1` are set, and
    /// `preferences` is dropped (the service sends it empty). Everything else — an `exec` or `token` of the
    /// user, a `proxy-url` of the cluster, a `namespace`, any unknown key — is what a compromised or
    /// mistyped endpoint would plant, and goes.
    pub fn retain_document_fields(&mut self) -> Vec<String> {
        let mut dropped = Vec::new();
        let d = &mut dropped;
        drop_unknown(d, "", &mut self.extra);
        if let Some(mut preferences) = self.preferences.take() {
            drop_unknown(d, "preferences", &mut preferences);
        }
        self.kind = Some("Config".to_owned());
        self.api_version = Some("v1".to_owned());

        let clusters = retain_entries(
            d,
            "clusters",
            &mut self.clusters,
            &DOCUMENT_CLUSTER_NAMES,
            |_| true,
        );
        let users = retain_entries(d, "users", &mut self.users, &DOCUMENT_USER_NAMES, |_| true);
        let kept = retain_entries(
            d,
            "contexts",
            &mut self.contexts,
            &DOCUMENT_CONTEXT_NAMES,
            |c| clusters.contains(&c.context.cluster) && users.contains(&c.context.user),
        );
        if self
            .current_context
            .as_ref()
            .is_some_and(|current| !kept.contains(current))
        {
            d.push("current-context".to_owned());
            self.current_context = None;
        }
        dropped
    }
}

/// An entry of an answer's list: its name, and the unknown fields of the entry and of its inner object.
trait AnswerEntry {
    fn name(&self) -> &str;
    fn extras(&mut self) -> [(&'static str, &mut Extra); 2];
}

impl AnswerEntry for AnswerNamedCluster {
    fn name(&self) -> &str {
        &self.name
    }
    fn extras(&mut self) -> [(&'static str, &mut Extra); 2] {
        [("", &mut self.extra), (".cluster", &mut self.cluster.extra)]
    }
}

impl AnswerEntry for AnswerNamedUser {
    fn name(&self) -> &str {
        &self.name
    }
    fn extras(&mut self) -> [(&'static str, &mut Extra); 2] {
        [("", &mut self.extra), (".user", &mut self.user.extra)]
    }
}

impl AnswerEntry for AnswerNamedContext {
    fn name(&self) -> &str {
        &self.name
    }
    fn extras(&mut self) -> [(&'static str, &mut Extra); 2] {
        [("", &mut self.extra), (".context", &mut self.context.extra)]
    }
}

/// Keeps the entries of `list` whose name is one of `names` (the first of each) and that `keep` accepts,
/// their unknown fields dropped; records what went; returns the names kept.
fn retain_entries<E: AnswerEntry>(
    dropped: &mut Vec<String>,
    list_name: &str,
    list: &mut Vec<E>,
    names: &[&str],
    keep: impl Fn(&E) -> bool,
) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for (i, mut entry) in std::mem::take(list).into_iter().enumerate() {
        let name = entry.name().to_owned();
        if !names.contains(&name.as_str()) || kept.contains(&name) || !keep(&entry) {
            dropped.push(format!("{list_name}[{i}]"));
            continue;
        }
        for (inner, extra) in entry.extras() {
            drop_unknown(dropped, &format!("{list_name}[{i}]{inner}"), extra);
        }
        kept.push(name);
        list.push(entry);
    }
    kept
}

/// Empties `extra`, recording the path of each key.
fn drop_unknown(dropped: &mut Vec<String>, path: &str, extra: &mut Extra) {
    let dot = if path.is_empty() { "" } else { "." };
    dropped.extend(
        extra
            .keys()
            .map(|k| format!("{path}{dot}{}", escape_key(k))),
    );
    extra.clear();
}

/// A key as it may be logged: printable, short.
fn escape_key(key: &str) -> String {
    let mut out: String = key
        .chars()
        .take(64)
        .flat_map(char::escape_default)
        .collect();
    if key.chars().count() > 64 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "kind" : "Config",
      "apiVersion" : "v1",
      "preferences" : { },
      "clusters" : [ {
        "name" : "internalCluster",
        "cluster" : { "server" : "https://192.168.1.7:5443", "certificate-authority-data" : "Q0E=" }
      }, {
        "name" : "externalCluster",
        "cluster" : { "server" : "https://8.8.8.8:5443", "insecure-skip-tls-verify" : true }
      } ],
      "users" : [ { "name" : "user", "user" : {
        "client-certificate-data" : "Q0VSVA==", "client-key-data" : "S0VZLVNFQ1JFVA==" } } ],
      "contexts" : [
        { "name" : "internal", "context" : { "cluster" : "internalCluster", "user" : "user" } },
        { "name" : "external", "context" : { "cluster" : "externalCluster", "user" : "user" } } ],
      "current-context" : "external",
      "future-field" : { "x" : [1, 2] }
    }"#;

    #[test]
    fn lookups_follow_the_context_references() {
        let k: Kubeconfig = serde_json::from_str(EXAMPLE).unwrap();
        let ext = k.external().unwrap();
        assert_eq!(ext.cluster.cluster.server, "https://8.8.8.8:5443");
        assert_eq!(ext.cluster.cluster.insecure_skip_tls_verify, Some(true));
        assert_eq!(k.internal().unwrap().cluster.name, "internalCluster");
        assert_eq!(k.current().unwrap().context.name, "external");
        assert_eq!(
            k.available_access(),
            vec![Access::Internal, Access::External]
        );
        assert!(k.context("nope").is_none());
    }

    #[test]
    fn data_fields_decode_to_pem_bytes() {
        let k: Kubeconfig = serde_json::from_str(EXAMPLE).unwrap();
        let int = k.internal().unwrap();
        assert_eq!(
            int.cluster
                .cluster
                .certificate_authority_pem()
                .unwrap()
                .unwrap(),
            b"CA"
        );
        assert_eq!(
            int.user.user.client_certificate_pem().unwrap().unwrap(),
            b"CERT"
        );
        assert_eq!(
            int.user.user.client_key_pem().unwrap().unwrap(),
            b"KEY-SECRET"
        );
        let bad = AnswerUser {
            client_key_data: Some("not base64!".into()),
            ..AnswerUser::default()
        };
        let err = bad.client_key_pem().unwrap_err();
        assert_eq!(err.field, "client-key-data");
        assert!(!err.to_string().contains("not base64!"));
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let k: Kubeconfig = serde_json::from_str(EXAMPLE).unwrap();
        assert!(k.extra.contains_key("future-field"));
        let again: serde_json::Value = serde_json::to_value(&k).unwrap();
        let original: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(again, original);
    }

    #[test]
    fn floats_in_unknown_fields_survive_a_round_trip() {
        // Found by fuzzing (fuzz/fuzz_targets/error_body.rs): without serde_json's `float_roundtrip`,
        // this reads back one ulp off the value first read, so every rewrite changed it.
        let text = r#"{"x": 222222222222222222222222222222222222222222222222228, "y": 2.2222222222222217e50}"#;
        let k: Kubeconfig = serde_json::from_str(text).unwrap();
        let again: Kubeconfig = serde_json::from_str(&serde_json::to_string(&k).unwrap()).unwrap();
        assert_eq!(again, k);
        assert_eq!(k.extra["y"].as_f64(), Some(2.2222222222222217e50));
    }

    #[test]
    fn absent_optional_fields_are_not_written() {
        let k: Kubeconfig = serde_json::from_str(EXAMPLE).unwrap();
        let json = serde_json::to_string(&k.clusters[0]).unwrap();
        assert!(!json.contains("insecure-skip-tls-verify"), "{json}");
    }

    #[test]
    fn debug_redacts_the_client_key() {
        let k: Kubeconfig = serde_json::from_str(EXAMPLE).unwrap();
        let debug = format!("{k:?} {k:#?}");
        assert!(!debug.contains("S0VZLVNFQ1JFVA=="), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn access_parses_and_names() {
        assert_eq!("internal".parse(), Ok(Access::Internal));
        assert!("both".parse::<Access>().is_err());
        assert_eq!(Access::External.cluster_name(), "externalCluster");
    }
}

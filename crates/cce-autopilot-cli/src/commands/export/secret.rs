//! The Secrets machines read cluster credentials from, in each consumer's own shape (facts from
//! `../shared/api/identity.md`, "Where fleets keep cluster credentials"):
//! - Argo CD: label `argocd.argoproj.io/secret-type: cluster`, keys `name`, `server`, `config` (JSON
//!   `{"tlsClientConfig":{"caData","certData","keyData","serverName"}}`, base64 PEM values);
//! - Flux: a kubeconfig in key `value` (static certificates: Flux turns `exec` off);
//! - Cluster API: `<cluster>-kubeconfig`, type `cluster.x-k8s.io/secret`, label
//!   `cluster.x-k8s.io/cluster-name`, a kubeconfig in key `value`.
//!
//! Every Secret carries `cce-autopilot.io/owner: cce-autopilot`, `cce-autopilot.io/cluster-id` and the
//! annotation `cce-autopilot.io/expires-at`. Maps are sorted and nothing else varies, so the same
//! certificates give the same bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The owner label, and its value.
pub const OWNER_LABEL: (&str, &str) = ("cce-autopilot.io/owner", "cce-autopilot");
/// The label with the cluster's id.
pub const CLUSTER_ID_LABEL: &str = "cce-autopilot.io/cluster-id";
/// When the certificate inside runs out, RFC 3339 UTC.
pub const EXPIRES_AT: &str = "cce-autopilot.io/expires-at";

/// Which consumer's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretFormat {
    /// Argo CD's cluster Secret.
    Argocd,
    /// Flux's kubeconfig Secret (`spec.kubeConfig.secretRef`).
    Flux,
    /// Cluster API's `<cluster>-kubeconfig` Secret.
    Capi,
}

impl SecretFormat {
    /// Where each consumer looks by default.
    pub fn default_namespace(self) -> &'static str {
        match self {
            SecretFormat::Argocd => "argocd",
            SecretFormat::Flux => "flux-system",
            SecretFormat::Capi => "default",
        }
    }

    /// The Secret's name for a cluster named `name` (already a DNS label).
    pub fn secret_name(self, name: &str) -> String {
        match self {
            SecretFormat::Argocd => format!("cce-{name}"),
            SecretFormat::Flux => format!("cce-{name}-kubeconfig"),
            SecretFormat::Capi => format!("{name}-kubeconfig"),
        }
    }
}

/// A Secret as we write it (and read it back: also from `kubectl get secret -o yaml`, whose `data` is
/// base64 and whose other metadata is dropped).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    #[serde(rename = "type", default = "opaque")]
    pub secret_type: String,
    /// The keys and their text.
    #[serde(
        rename = "stringData",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub string_data: BTreeMap<String, String>,
    /// Base64 values, as the API server answers (read only; moved into `string_data`).
    #[serde(default, skip_serializing)]
    pub data: BTreeMap<String, String>,
}

fn opaque() -> String {
    "Opaque".to_owned()
}

/// The metadata we write.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// What one of our Secrets holds, read back ([`Secret::parts`]).
pub struct Parts {
    pub server: String,
    pub ca_data: String,
    pub cert_data: String,
    pub key_data: String,
    pub server_name: Option<String>,
}

/// What a Secret is made of: one cluster's endpoint and credentials.
pub struct Credentials<'a> {
    /// The cluster's name in the consumer (a DNS label: the cluster's, with its project in a fleet).
    pub name: &'a str,
    pub cluster_id: &'a str,
    pub server: &'a str,
    /// Base64 PEM, as the service answers.
    pub ca_data: &'a str,
    pub cert_data: &'a str,
    pub key_data: &'a str,
    /// The name to expect in the API server's certificate, when it is not the server's address.
    pub server_name: Option<&'a str>,
    /// RFC 3339 UTC.
    pub expires_at: &'a str,
}

impl Secret {
    /// `creds` in `format`'s shape, in `namespace`.
    pub fn build(
        format: SecretFormat,
        namespace: &str,
        creds: &Credentials<'_>,
    ) -> Result<Secret, String> {
        let mut labels = BTreeMap::from([
            (OWNER_LABEL.0.to_owned(), OWNER_LABEL.1.to_owned()),
            (CLUSTER_ID_LABEL.to_owned(), creds.cluster_id.to_owned()),
        ]);
        let mut string_data = BTreeMap::new();
        let mut secret_type = opaque();
        match format {
            SecretFormat::Argocd => {
                labels.insert(
                    "argocd.argoproj.io/secret-type".to_owned(),
                    "cluster".to_owned(),
                );
                let mut tls = serde_json::Map::new();
                tls.insert("caData".into(), creds.ca_data.into());
                tls.insert("certData".into(), creds.cert_data.into());
                tls.insert("keyData".into(), creds.key_data.into());
                if let Some(server_name) = creds.server_name {
                    tls.insert("serverName".into(), server_name.into());
                }
                let config = serde_json::json!({ "tlsClientConfig": tls });
                string_data.insert("config".to_owned(), config.to_string());
                string_data.insert("name".to_owned(), creds.name.to_owned());
                string_data.insert("server".to_owned(), creds.server.to_owned());
            }
            SecretFormat::Flux | SecretFormat::Capi => {
                if format == SecretFormat::Capi {
                    labels.insert(
                        "cluster.x-k8s.io/cluster-name".to_owned(),
                        creds.name.to_owned(),
                    );
                    secret_type = "cluster.x-k8s.io/secret".to_owned();
                }
                string_data.insert("value".to_owned(), kubeconfig(creds)?);
            }
        }
        Ok(Secret {
            api_version: "v1".to_owned(),
            kind: "Secret".to_owned(),
            metadata: Metadata {
                name: format.secret_name(creds.name),
                namespace: namespace.to_owned(),
                labels,
                annotations: BTreeMap::from([(EXPIRES_AT.to_owned(), creds.expires_at.to_owned())]),
            },
            secret_type,
            string_data,
            data: BTreeMap::new(),
        })
    }

    /// The endpoint and credentials one of our Secrets holds (`None`: not in a shape we write).
    pub fn parts(&self) -> Option<Parts> {
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        match self.format()? {
            SecretFormat::Argocd => {
                let config: serde_json::Value =
                    serde_json::from_str(self.string_data.get("config")?).ok()?;
                let tls = config.get("tlsClientConfig")?;
                Some(Parts {
                    server: self.string_data.get("server")?.clone(),
                    ca_data: text(tls.get("caData")?)?,
                    cert_data: text(tls.get("certData")?)?,
                    key_data: text(tls.get("keyData")?)?,
                    server_name: tls.get("serverName").and_then(text),
                })
            }
            SecretFormat::Flux | SecretFormat::Capi => {
                let doc: serde_json::Value = parse_quietly(self.string_data.get("value")?).ok()?;
                let cluster = doc.get("clusters")?.get(0)?.get("cluster")?;
                let user = doc.get("users")?.get(0)?.get("user")?;
                Some(Parts {
                    server: text(cluster.get("server")?)?,
                    ca_data: text(cluster.get("certificate-authority-data")?)?,
                    cert_data: text(user.get("client-certificate-data")?)?,
                    key_data: text(user.get("client-key-data")?)?,
                    server_name: cluster.get("tls-server-name").and_then(text),
                })
            }
        }
    }

    /// The cluster id of one of our Secrets (`None`: not ours).
    pub fn ours(&self) -> Option<&str> {
        let labels = &self.metadata.labels;
        (labels.get(OWNER_LABEL.0).map(String::as_str) == Some(OWNER_LABEL.1))
            .then(|| labels.get(CLUSTER_ID_LABEL).map(String::as_str))
            .flatten()
    }

    /// The shape this Secret has.
    pub fn format(&self) -> Option<SecretFormat> {
        let labels = &self.metadata.labels;
        if labels
            .get("argocd.argoproj.io/secret-type")
            .map(String::as_str)
            == Some("cluster")
        {
            Some(SecretFormat::Argocd)
        } else if self.secret_type == "cluster.x-k8s.io/secret" {
            Some(SecretFormat::Capi)
        } else if self.string_data.contains_key("value") {
            Some(SecretFormat::Flux)
        } else {
            None
        }
    }

    /// The same Secret as we write it: `data` decoded into `string_data` (a value that is not base64 text
    /// is an error naming the key).
    pub fn canonical(mut self) -> Result<Secret, String> {
        use base64::Engine as _;
        for (key, value) in std::mem::take(&mut self.data) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .map_err(|e| {
                    format!(
                        "Secret {}: data.{key} is not base64 ({e})",
                        self.metadata.name
                    )
                })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("Secret {}: data.{key} is not text", self.metadata.name))?;
            self.string_data.insert(key, text);
        }
        Ok(self)
    }
}

/// The one-context kubeconfig Flux and Cluster API read, in kubectl's layout.
fn kubeconfig(creds: &Credentials<'_>) -> Result<String, String> {
    let mut cluster = serde_json::json!({
        "server": creds.server,
        "certificate-authority-data": creds.ca_data,
    });
    if let Some(server_name) = creds.server_name {
        cluster["tls-server-name"] = server_name.into();
    }
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": creds.name, "cluster": cluster}],
        "users": [{"name": creds.name, "user": {
            "client-certificate-data": creds.cert_data,
            "client-key-data": creds.key_data,
        }}],
        "contexts": [{"name": creds.name, "context": {"cluster": creds.name, "user": creds.name}}],
        "current-context": creds.name,
    });
    serde_saphyr::to_string(&doc).map_err(|e| format!("cannot write the kubeconfig: {e}"))
}

/// A name made a DNS-1123 label part: lower case, `_` and anything else outside `[a-z0-9-]` as `-`.
pub fn dns_part(text: &str) -> String {
    let part: String = text
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        })
        .collect();
    part.trim_matches('-').to_owned()
}

/// Whether `value` can be a label value: at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends.
pub fn label_value_ok(value: &str) -> bool {
    value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && value
            .bytes()
            .next()
            .is_none_or(|b| b.is_ascii_alphanumeric())
        && value
            .bytes()
            .last()
            .is_none_or(|b| b.is_ascii_alphanumeric())
}

/// YAML read without quoting the source in errors (it may hold private keys).
fn parse_quietly<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| e.without_snippet().to_string())
}

/// Our Secrets (the owner label) from an export (YAML documents) or from a `v1/List` (`kubectl get secret -o
/// yaml`); other documents and other Secrets are passed over unread. Errors quote no value of the file.
pub fn read_all(text: &str) -> Result<Vec<Secret>, String> {
    let options = serde_saphyr::options! { with_snippet: false };
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|e| format!("not YAML Secrets or a v1 List: {}", e.without_snippet()))?;
    let is_ours = |v: &serde_json::Value| {
        v.get("kind").and_then(serde_json::Value::as_str) == Some("Secret")
            && v.pointer("/metadata/labels/cce-autopilot.io~1owner")
                .and_then(serde_json::Value::as_str)
                == Some(OWNER_LABEL.1)
    };
    let mut secrets = Vec::new();
    for doc in docs {
        let values = match doc.get("kind").and_then(serde_json::Value::as_str) {
            Some("List" | "SecretList") => match doc.get("items") {
                Some(serde_json::Value::Array(items)) => items.clone(),
                _ => Vec::new(),
            },
            Some("Secret") => vec![doc],
            _ => continue,
        };
        for value in values.into_iter().filter(is_ours) {
            let name = value
                .pointer("/metadata/name")
                .and_then(serde_json::Value::as_str)
                .map(|n| crate::text::field(n).into_owned())
                .unwrap_or_default();
            let secret: Secret = serde_json::from_value(value)
                .map_err(|_| format!("Secret {name:?} does not have the shape of a Secret"))?;
            secrets.push(secret.canonical()?);
        }
    }
    Ok(secrets)
}

/// The Secrets as YAML documents, sorted by namespace and name.
pub fn write_all(secrets: &mut [Secret]) -> Result<String, String> {
    secrets.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    let mut out = String::new();
    for secret in secrets.iter() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(secret).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials<'static> {
        Credentials {
            name: "prod",
            cluster_id: "3f0c9a1e-2b4d-4c6e-8f10-123456789abc",
            server: "https://10.0.0.1:5443",
            ca_data: "Q0E=",
            cert_data: "Q0VSVA==",
            key_data: "S0VZ",
            server_name: None,
            expires_at: "2027-01-05T12:00:00Z",
        }
    }

    #[test]
    fn each_shape_has_its_keys_type_and_labels() {
        let argo = Secret::build(SecretFormat::Argocd, "argocd", &creds()).unwrap();
        assert_eq!(argo.metadata.name, "cce-prod");
        assert_eq!(
            argo.string_data.keys().collect::<Vec<_>>(),
            ["config", "name", "server"]
        );
        let config: serde_json::Value = serde_json::from_str(&argo.string_data["config"]).unwrap();
        assert_eq!(config["tlsClientConfig"]["caData"], "Q0E=");
        assert!(config["tlsClientConfig"].get("insecure").is_none());
        let capi = Secret::build(SecretFormat::Capi, "default", &creds()).unwrap();
        assert_eq!(
            (capi.metadata.name.as_str(), capi.secret_type.as_str()),
            ("prod-kubeconfig", "cluster.x-k8s.io/secret")
        );
        assert_eq!(
            capi.metadata.labels["cluster.x-k8s.io/cluster-name"],
            "prod"
        );
        let flux = Secret::build(SecretFormat::Flux, "flux-system", &creds()).unwrap();
        assert_eq!(flux.string_data.keys().collect::<Vec<_>>(), ["value"]);
        for s in [&argo, &capi, &flux] {
            assert_eq!(s.ours(), Some("3f0c9a1e-2b4d-4c6e-8f10-123456789abc"));
            assert_eq!(s.metadata.annotations[EXPIRES_AT], "2027-01-05T12:00:00Z");
        }
    }

    #[test]
    fn written_secrets_read_back_the_same_and_kubectl_lists_are_read_too() {
        let mut secrets = vec![
            Secret::build(SecretFormat::Flux, "flux-system", &creds()).unwrap(),
            Secret::build(SecretFormat::Argocd, "argocd", &creds()).unwrap(),
        ];
        let text = write_all(&mut secrets).unwrap();
        assert_eq!(read_all(&text).unwrap(), secrets);
        assert_eq!(
            write_all(&mut read_all(&text).unwrap()).unwrap(),
            text,
            "byte-stable"
        );
        let list = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: cce-prod
    namespace: argocd
    resourceVersion: "42"
    labels: {cce-autopilot.io/owner: cce-autopilot, cce-autopilot.io/cluster-id: abc}
  type: Opaque
  data: {name: cHJvZA==}
"#;
        let read = read_all(list).unwrap();
        assert_eq!(read[0].string_data["name"], "prod");
        assert_eq!(read[0].ours(), Some("abc"));
        // A foreign Secret (no owner label) is passed over unread, whatever its data; ours must decode.
        assert!(
            read_all("kind: List\nitems:\n- kind: Secret\n  data: {a: '%%%'}\n")
                .unwrap()
                .is_empty()
        );
        let bad = "kind: Secret\nmetadata: {name: x, labels: {cce-autopilot.io/owner: cce-autopilot}}\ndata: {a: '%%%'}\n";
        assert!(read_all(bad).is_err());
        // Errors quote no value of the file (it may hold keys).
        let err =
            read_all("kind: Secret\nmetadata: {name: x}\nkey: [PRIVATEKEYMATERIAL\n").unwrap_err();
        assert!(!err.contains("PRIVATEKEYMATERIAL"), "{err}");
        for s in &secrets {
            let parts = s.parts().expect("our own Secret reads back");
            assert_eq!(
                (parts.server.as_str(), parts.cert_data.as_str()),
                ("https://10.0.0.1:5443", "Q0VSVA==")
            );
        }
    }

    #[test]
    fn names_and_labels_are_checked() {
        assert_eq!(dns_part("cn-north-4_dev"), "cn-north-4-dev");
        assert_eq!(dns_part("Prod\u{1b}[2J"), "prod--2j");
        assert!(label_value_ok("3f0c9a1e-2b4d"));
        assert!(
            !label_value_ok("a/b") && !label_value_ok(&"a".repeat(64)) && !label_value_ok("-a")
        );
    }
}

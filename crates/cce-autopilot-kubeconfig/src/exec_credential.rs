//! The client side of kubectl's exec credential protocol: what kubectl hands a plugin in
//! `KUBERNETES_EXEC_INFO` — the apiVersion it speaks and, with `provideClusterInfo`, the cluster it is
//! about to call — and the `ExecCredential` the plugin answers (client-go's
//! `client.authentication.k8s.io` types).

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// `KUBERNETES_EXEC_INFO` that a plugin cannot answer: not an ExecCredential object, another apiVersion,
/// a CA that is not base64. The message names the variable and what to fix; it quotes no secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExecInfoError(String);

/// The variable kubectl passes the plugin's input in.
pub const EXEC_INFO_VAR: &str = "KUBERNETES_EXEC_INFO";
/// `client.authentication.k8s.io/v1`.
pub const API_V1: &str = "client.authentication.k8s.io/v1";
/// `client.authentication.k8s.io/v1beta1`.
pub const API_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// The ExecCredential apiVersions this plugin speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExecApiVersion {
    /// `client.authentication.k8s.io/v1`.
    V1,
    /// `client.authentication.k8s.io/v1beta1`.
    V1Beta1,
}

/// What the plugin needs of `KUBERNETES_EXEC_INFO`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecInfo {
    /// The apiVersion to answer in.
    pub api_version: ExecApiVersion,
    /// The SHA-256 (hex) of the CA PEM kubectl trusts for the cluster, when it passed one
    /// (`provideClusterInfo: true` and a `certificate-authority-data`).
    pub ca_sha256: Option<String>,
}

#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    spec: Option<WireSpec>,
}

#[derive(Deserialize)]
struct WireSpec {
    cluster: Option<WireCluster>,
}

#[derive(Deserialize)]
struct WireCluster {
    /// client-go's `[]byte`: base64 of the PEM in the JSON.
    #[serde(rename = "certificate-authority-data")]
    certificate_authority_data: Option<String>,
}

/// The SHA-256 (hex) of a CA's PEM bytes: how a cache entry records the CA it was issued under.
pub fn ca_fingerprint(pem: &[u8]) -> String {
    hex::encode(Sha256::digest(pem))
}

impl ExecInfo {
    /// Reads `KUBERNETES_EXEC_INFO`; unset or empty (run by hand) means v1 and no cluster. Anything that is
    /// not an ExecCredential object, or asks for a version this plugin does not speak, is an error naming
    /// what to fix.
    pub fn parse(exec_info: Option<&str>) -> Result<Self, ExecInfoError> {
        let Some(text) = exec_info.filter(|t| !t.trim().is_empty()) else {
            return Ok(ExecInfo {
                api_version: ExecApiVersion::V1,
                ca_sha256: None,
            });
        };
        // serde would also read the struct from a JSON array (`[null]`): only an object is an ExecCredential.
        if !text.trim_start().starts_with('{') {
            return Err(ExecInfoError(format!(
                "{EXEC_INFO_VAR} is not an ExecCredential JSON object; it is set by kubectl — unset it to \
                 run this command by hand"
            )));
        }
        let wire: Wire = serde_json::from_str(text).map_err(|e| {
            ExecInfoError(format!(
                "{EXEC_INFO_VAR} is not an ExecCredential JSON object (line {}, column {}); it is set by \
                 kubectl — unset it to run this command by hand",
                e.line(),
                e.column()
            ))
        })?;
        let api_version = match wire.api_version.as_deref() {
            None | Some(API_V1) => ExecApiVersion::V1,
            Some(API_V1BETA1) => ExecApiVersion::V1Beta1,
            Some(other) => {
                return Err(ExecInfoError(format!(
                    "{EXEC_INFO_VAR} asks for apiVersion {other:?}, which this plugin does not speak: set the \
                     kubeconfig user's exec.apiVersion to {API_V1} (or {API_V1BETA1})"
                )));
            }
        };
        let ca_sha256 = wire
            .spec
            .and_then(|s| s.cluster)
            .and_then(|c| c.certificate_authority_data)
            .filter(|d| !d.is_empty())
            .map(|data| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(data.as_bytes())
                    .map(|pem| ca_fingerprint(&pem))
                    .map_err(|_| {
                        ExecInfoError(format!(
                            "{EXEC_INFO_VAR} carries a certificate-authority-data that is not base64"
                        ))
                    })
            })
            .transpose()?;
        Ok(ExecInfo {
            api_version,
            ca_sha256,
        })
    }
}

impl ExecApiVersion {
    /// The apiVersion string.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecApiVersion::V1 => API_V1,
            ExecApiVersion::V1Beta1 => API_V1BETA1,
        }
    }

    /// The version `KUBERNETES_EXEC_INFO` asks for (see [`ExecInfo::parse`]).
    pub fn from_exec_info(exec_info: Option<&str>) -> Result<Self, ExecInfoError> {
        ExecInfo::parse(exec_info).map(|info| info.api_version)
    }
}

/// The plugin's answer.
#[derive(Serialize)]
struct ExecCredential<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    status: ExecCredentialStatus<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus<'a> {
    client_certificate_data: &'a str,
    client_key_data: &'a str,
    expiration_timestamp: &'a str,
}

/// The ExecCredential JSON (one line, then a newline) with a client certificate and key (PEM) valid until
/// `expiration` (RFC 3339).
pub fn render_exec_credential(
    api_version: ExecApiVersion,
    certificate_pem: &str,
    key_pem: &str,
    expiration: &str,
) -> String {
    let answer = ExecCredential {
        api_version: api_version.as_str(),
        kind: "ExecCredential",
        status: ExecCredentialStatus {
            client_certificate_data: certificate_pem,
            client_key_data: key_pem,
            expiration_timestamp: expiration,
        },
    };
    // A struct of strings always serializes.
    serde_json::to_string(&answer).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exec_info_selects_the_api_version() {
        assert_eq!(
            ExecApiVersion::from_exec_info(None).unwrap(),
            ExecApiVersion::V1
        );
        assert_eq!(
            ExecApiVersion::from_exec_info(Some("  ")).unwrap(),
            ExecApiVersion::V1
        );
        let beta =
            format!(r#"{{"apiVersion":"{API_V1BETA1}","kind":"ExecCredential","spec":{{}}}}"#);
        assert_eq!(
            ExecApiVersion::from_exec_info(Some(&beta)).unwrap(),
            ExecApiVersion::V1Beta1
        );
        let v1 = format!(
            r#"{{"apiVersion":"{API_V1}","kind":"ExecCredential","spec":{{"interactive":false}}}}"#
        );
        assert_eq!(
            ExecApiVersion::from_exec_info(Some(&v1)).unwrap(),
            ExecApiVersion::V1
        );
        let alpha = r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#;
        let err = ExecApiVersion::from_exec_info(Some(alpha)).unwrap_err();
        assert!(err.to_string().contains("v1alpha1"), "{err}");
        assert!(ExecApiVersion::from_exec_info(Some("{")).is_err());
    }

    #[test]
    fn exec_info_that_is_not_an_object_is_a_usage_error() {
        // Found by fuzzing (fuzz/fuzz_targets/exec_credential.rs): serde read these as ExecInfo.
        for text in [
            " [null]",
            r#"["client.authentication.k8s.io/v1beta1"]"#,
            r#""client.authentication.k8s.io/v1""#,
            "1",
        ] {
            let err = ExecApiVersion::from_exec_info(Some(text)).unwrap_err();
            assert!(err.to_string().contains(EXEC_INFO_VAR), "{text}: {err}");
        }
    }

    #[test]
    fn the_answer_is_one_line_of_the_asked_version() {
        let text = render_exec_credential(
            ExecApiVersion::V1Beta1,
            "CERT",
            "KEY",
            "2030-01-01T00:00:00Z",
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["apiVersion"], API_V1BETA1);
        assert_eq!(
            value["status"]["expirationTimestamp"],
            "2030-01-01T00:00:00Z"
        );
        assert_eq!(value["status"]["clientKeyData"], "KEY");
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn the_cluster_ca_kubectl_passes_is_fingerprinted() {
        use base64::Engine as _;
        let pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let data = base64::engine::general_purpose::STANDARD.encode(pem);
        let text = format!(
            r#"{{"apiVersion":"{API_V1}","kind":"ExecCredential","spec":{{"cluster":{{"server":"https://x","certificate-authority-data":"{data}","config":null}},"interactive":false}}}}"#
        );
        let info = ExecInfo::parse(Some(&text)).unwrap();
        assert_eq!(
            info.ca_sha256.as_deref(),
            Some(ca_fingerprint(pem).as_str())
        );
        let insecure = format!(
            r#"{{"apiVersion":"{API_V1}","spec":{{"cluster":{{"server":"https://x","insecure-skip-tls-verify":true}}}}}}"#
        );
        assert_eq!(ExecInfo::parse(Some(&insecure)).unwrap().ca_sha256, None);
    }
}

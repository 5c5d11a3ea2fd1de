//! Cross-crate contract tests; they live in `tests/tests/`. This library only holds shared helpers.

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The API contract's text.
pub fn spec_text() -> String {
    let path = workspace_root().join("openapi/cce-autopilot.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A realistic public-cluster kubeconfig of about `size` bytes of JSON (RSA-sized PEM data), for benchmarks.
pub fn kubeconfig_fixture(size: usize) -> String {
    let b64 = |label: &str, n: usize| {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let body: String = (0..n)
            .map(|i| alphabet[(i * 7 + label.len()) % 64] as char)
            .collect();
        format!("{body}==")
    };
    let shape = |n: usize| {
        format!(
            r#"{{"kind":"Config","apiVersion":"v1","preferences":{{}},
"clusters":[{{"name":"internalCluster","cluster":{{"server":"https://192.168.1.7:5443","certificate-authority-data":"{ca}"}}}},
{{"name":"externalCluster","cluster":{{"server":"https://8.8.8.8:5443","insecure-skip-tls-verify":true}}}}],
"users":[{{"name":"user","user":{{"client-certificate-data":"{cert}","client-key-data":"{key}"}}}}],
"contexts":[{{"name":"internal","context":{{"cluster":"internalCluster","user":"user"}}}},
{{"name":"external","context":{{"cluster":"externalCluster","user":"user"}}}}],"current-context":"external"}}"#,
            ca = b64("ca", n),
            cert = b64("cert", n),
            key = b64("key", n)
        )
    };
    let overhead = shape(0).len();
    shape(size.saturating_sub(overhead) / 3)
}

//! From the service's answer (the model crate's [`cce_autopilot_model::Kubeconfig`]) to this crate's file
//! model: only the fields the vendor document defines, whatever else the answer carries. The endpoint is
//! untrusted input: an `exec`, a `token`, a `proxy-url` or any unknown key in an answer never reaches a file
//! (the client reduces answers the same way, [`cce_autopilot_model::Kubeconfig::retain_document_fields`];
//! this conversion does not rely on it).

use cce_autopilot_model as model;

use crate::model::{Cluster, Context, KubeconfigFile, NamedCluster, NamedContext, NamedUser, User};

impl From<&model::AnswerCluster> for Cluster {
    /// `server`, `certificate-authority-data`, `insecure-skip-tls-verify`.
    fn from(c: &model::AnswerCluster) -> Self {
        Cluster {
            server: Some(c.server.clone()),
            certificate_authority_data: c.certificate_authority_data.clone(),
            insecure_skip_tls_verify: c.insecure_skip_tls_verify,
            ..Cluster::default()
        }
    }
}

impl From<&model::AnswerUser> for User {
    /// `client-certificate-data`, `client-key-data`.
    fn from(u: &model::AnswerUser) -> Self {
        User {
            client_certificate_data: u.client_certificate_data.clone(),
            client_key_data: u.client_key_data.clone(),
            ..User::default()
        }
    }
}

impl From<&model::AnswerContext> for Context {
    /// `cluster`, `user`.
    fn from(c: &model::AnswerContext) -> Self {
        Context {
            cluster: Some(c.cluster.clone()),
            user: Some(c.user.clone()),
            ..Context::default()
        }
    }
}

impl From<&model::Kubeconfig> for KubeconfigFile {
    /// The answer as a file, with the entry names the document defines (`internalCluster`, `user`, …):
    /// [`model::Kubeconfig::retain_document_fields`] applied to a copy, then the typed fields copied.
    fn from(k: &model::Kubeconfig) -> Self {
        let mut k = k.clone();
        k.retain_document_fields();
        let mut file = KubeconfigFile {
            current_context: k.current_context.clone(),
            ..KubeconfigFile::default()
        };
        for c in &k.clusters {
            file.clusters
                .push(NamedCluster::new(c.name.clone(), Cluster::from(&c.cluster)));
        }
        for u in &k.users {
            file.users
                .push(NamedUser::new(u.name.clone(), User::from(&u.user)));
        }
        for c in &k.contexts {
            file.contexts
                .push(NamedContext::new(c.name.clone(), Context::from(&c.context)));
        }
        file
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An answer carrying, beside the document's fields, what a hostile endpoint would plant.
    fn answer() -> model::Kubeconfig {
        serde_json::from_value(json!({
            "kind": "Secret", "apiVersion": "v9", "preferences": {"colors": true},
            "clusters": [{"name": "internalCluster", "cluster": {
                "server": "https://192.168.1.7:5443", "certificate-authority-data": "Q0EK",
                "tls-server-name": "evil", "proxy-url": "http://127.0.0.9:1", "future": 1}},
                {"name": "planted", "cluster": {"server": "https://127.0.0.9"}}],
            "users": [{"name": "user", "user": {"client-certificate-data": "Q0VSVAo=", "client-key-data": "S0VZCg==",
                "exec": {"command": "touch", "args": ["/tmp/pwned"]}, "token": "t", "as": "system:admin"}}],
            "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user", "namespace": "ns"}}],
            "current-context": "internal",
            "x-top": true
        }))
        .unwrap()
    }

    #[test]
    fn only_the_document_fields_become_the_file() {
        let file = KubeconfigFile::from(&answer());
        assert_eq!(file.clusters.len(), 1);
        let cluster = &file.clusters[0].cluster;
        assert_eq!(cluster.server.as_deref(), Some("https://192.168.1.7:5443"));
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("Q0EK"));
        assert_eq!(cluster.tls_server_name, None);
        assert_eq!(cluster.proxy_url, None);
        assert!(cluster.unknown.is_empty());
        let user = &file.users[0].user;
        assert_eq!(user.client_key_data.as_deref(), Some("S0VZCg=="));
        assert!(user.exec.is_none() && user.token.is_none() && user.unknown.is_empty());
        assert_eq!(file.contexts[0].context.namespace, None);
        assert_eq!(file.current_context(), Some("internal"));
        assert!(file.unknown.is_empty() && file.preferences.is_empty());
        assert_eq!(
            (file.kind.as_str(), file.api_version.as_str()),
            ("Config", "v1")
        );
        let text = serde_json::to_string(&file).unwrap();
        for planted in [
            "touch",
            "pwned",
            "127.0.0.9",
            "evil",
            "system:admin",
            "colors",
            "x-top",
        ] {
            assert!(!text.contains(planted), "{planted} in {text}");
        }
    }
}

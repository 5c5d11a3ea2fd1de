//! From the service's answer (the model crate's [`cce_autopilot_model::Kubeconfig`]) to this crate's file
//! model: the typed fields field by field; the answer's unknown fields kept, those this crate knows by name
//! (a `tls-server-name` the service may add one day) moved to their typed place, so a file never carries a
//! key twice.

use cce_autopilot_model as model;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{
    Cluster, Context, KubeconfigFile, NamedCluster, NamedContext, NamedUser, UnknownFields, User,
};

/// The value this crate reads from `extra` alone: its known fields typed, the rest unknown.
fn from_extra<T: DeserializeOwned>(extra: &UnknownFields, what: &'static str) -> Result<T> {
    serde_json::from_value(Value::Object(extra.clone())).map_err(|e| Error::InvalidAnswer {
        what,
        // serde's message may quote a value; the category and position say enough.
        reason: format!("a field has the wrong type ({:?})", e.classify()),
    })
}

impl TryFrom<&model::ClusterCert> for Cluster {
    type Error = Error;

    fn try_from(c: &model::ClusterCert) -> Result<Self> {
        let mut cluster: Cluster = from_extra(&c.extra, "cluster")?;
        cluster.server = Some(c.server.clone());
        cluster.certificate_authority_data = c
            .certificate_authority_data
            .clone()
            .or(cluster.certificate_authority_data);
        cluster.insecure_skip_tls_verify = c
            .insecure_skip_tls_verify
            .or(cluster.insecure_skip_tls_verify);
        Ok(cluster)
    }
}

impl TryFrom<&model::User> for User {
    type Error = Error;

    fn try_from(u: &model::User) -> Result<Self> {
        let mut user: User = from_extra(&u.extra, "user")?;
        user.client_certificate_data = u
            .client_certificate_data
            .clone()
            .or(user.client_certificate_data);
        user.client_key_data = u.client_key_data.clone().or(user.client_key_data);
        Ok(user)
    }
}

impl TryFrom<&model::Context> for Context {
    type Error = Error;

    fn try_from(c: &model::Context) -> Result<Self> {
        let mut context: Context = from_extra(&c.extra, "context")?;
        context.cluster = Some(c.cluster.clone());
        context.user = Some(c.user.clone());
        Ok(context)
    }
}

fn unknown_of(extra: &UnknownFields, known: &[&str]) -> UnknownFields {
    extra
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl TryFrom<&model::Kubeconfig> for KubeconfigFile {
    type Error = Error;

    /// The whole answer as a file, names as the service gave them (`internalCluster`, `user`, …).
    fn try_from(k: &model::Kubeconfig) -> Result<Self> {
        let mut file = KubeconfigFile {
            preferences: k.preferences.clone().unwrap_or_default(),
            current_context: k.current_context.clone(),
            unknown: unknown_of(&k.extra, &["extensions"]),
            ..KubeconfigFile::default()
        };
        if let Some(kind) = &k.kind {
            file.kind.clone_from(kind);
        }
        if let Some(version) = &k.api_version {
            file.api_version.clone_from(version);
        }
        for c in &k.clusters {
            let mut entry = NamedCluster::new(c.name.clone(), Cluster::try_from(&c.cluster)?);
            entry.unknown = unknown_of(&c.extra, &[]);
            file.clusters.push(entry);
        }
        for u in &k.users {
            let mut entry = NamedUser::new(u.name.clone(), User::try_from(&u.user)?);
            entry.unknown = unknown_of(&u.extra, &[]);
            file.users.push(entry);
        }
        for c in &k.contexts {
            let mut entry = NamedContext::new(c.name.clone(), Context::try_from(&c.context)?);
            entry.unknown = unknown_of(&c.extra, &[]);
            file.contexts.push(entry);
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer() -> model::Kubeconfig {
        serde_json::from_value(json!({
            "kind": "Config", "apiVersion": "v1", "preferences": {},
            "clusters": [{"name": "internalCluster", "cluster": {
                "server": "https://192.168.1.7:5443", "certificate-authority-data": "Q0EK",
                "tls-server-name": "kubernetes", "future": 1}}],
            "users": [{"name": "user", "user": {"client-certificate-data": "Q0VSVAo=", "client-key-data": "S0VZCg=="}}],
            "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user", "namespace": "ns"}}],
            "current-context": "internal",
            "x-top": true
        }))
        .unwrap()
    }

    #[test]
    fn typed_fields_are_copied_and_known_extras_become_typed() {
        let file = KubeconfigFile::try_from(&answer()).unwrap();
        let cluster = &file.clusters[0].cluster;
        assert_eq!(cluster.server.as_deref(), Some("https://192.168.1.7:5443"));
        assert_eq!(cluster.tls_server_name.as_deref(), Some("kubernetes"));
        assert!(!cluster.unknown.contains_key("tls-server-name"));
        assert_eq!(cluster.unknown["future"], json!(1));
        assert_eq!(
            file.users[0].user.client_key_data.as_deref(),
            Some("S0VZCg==")
        );
        assert_eq!(file.contexts[0].context.namespace.as_deref(), Some("ns"));
        assert_eq!(file.current_context(), Some("internal"));
        assert_eq!(file.unknown["x-top"], json!(true));
        // What a serde round trip gives, the typed conversion gives too.
        let via_serde: KubeconfigFile =
            serde_json::from_value(serde_json::to_value(answer()).unwrap()).unwrap();
        assert_eq!(file, via_serde);
    }

    #[test]
    fn a_known_extra_of_the_wrong_type_is_an_error_that_quotes_nothing() {
        let mut k = answer();
        k.users[0]
            .user
            .extra
            .insert("token".into(), json!(["LS0tLS1CRUdJTi1zZWNyZXQ="]));
        let err = KubeconfigFile::try_from(&k).unwrap_err().to_string();
        assert!(!err.contains("LS0tLS1CRUdJTi1zZWNyZXQ="), "{err}");
        assert!(err.contains("user"), "{err}");
    }
}

//! Re-merging our entries field by field: the fields this crate owns are replaced, everything else the
//! entry holds — a namespace, a `proxy-url`, `disable-compression`, extensions other than the owner mark,
//! fields no version of kubectl knows yet — stays as the user left it.
//!
//! | entry | owned fields |
//! |---|---|
//! | cluster | `server`, `certificate-authority(-data)`, `insecure-skip-tls-verify`, `tls-server-name` |
//! | user | `client-certificate(-data)`, `client-key(-data)`, `exec` |
//! | context | `cluster`, `user`, and `namespace` when a run sets one |
//!
//! and on every entry the owner mark.

use serde_json::Value;

use crate::model::{
    Cluster, Context, NamedCluster, NamedContext, NamedUser, OWNER_EXTENSION, User,
};

/// Sets `*slot` to `ours`, recording `name` in `changed` when that changes it.
fn own<T: PartialEq + Clone>(
    slot: &mut T,
    ours: &T,
    name: &'static str,
    changed: &mut Vec<String>,
) {
    if slot != ours {
        *slot = ours.clone();
        changed.push(name.to_owned());
    }
}

/// Our mark on `extensions`, in place of an earlier one; other extensions untouched.
fn own_mark(
    extensions: &mut Vec<crate::model::NamedExtension>,
    mark: Option<&Value>,
    changed: &mut Vec<String>,
) {
    let Some(mark) = mark else { return };
    match extensions.iter_mut().find(|e| e.name == OWNER_EXTENSION) {
        Some(existing) if existing.extension == *mark => {}
        Some(existing) => {
            existing.extension = mark.clone();
            changed.push(format!("extensions[{OWNER_EXTENSION}]"));
        }
        None => {
            extensions.push(crate::model::NamedExtension::new(
                OWNER_EXTENSION,
                mark.clone(),
            ));
            changed.push(format!("extensions[{OWNER_EXTENSION}]"));
        }
    }
}

/// `existing` with the fields of `ours` that this crate owns; the names of the fields that changed.
pub(crate) fn merge_cluster(
    existing: &NamedCluster,
    ours: &NamedCluster,
) -> (NamedCluster, Vec<String>) {
    let mut out = existing.clone();
    let mut changed = Vec::new();
    let (c, o): (&mut Cluster, &Cluster) = (&mut out.cluster, &ours.cluster);
    own(&mut c.server, &o.server, "server", &mut changed);
    own(
        &mut c.certificate_authority_data,
        &o.certificate_authority_data,
        "certificate-authority-data",
        &mut changed,
    );
    own(
        &mut c.certificate_authority,
        &o.certificate_authority,
        "certificate-authority",
        &mut changed,
    );
    own(
        &mut c.insecure_skip_tls_verify,
        &o.insecure_skip_tls_verify,
        "insecure-skip-tls-verify",
        &mut changed,
    );
    own(
        &mut c.tls_server_name,
        &o.tls_server_name,
        "tls-server-name",
        &mut changed,
    );
    own_mark(&mut c.extensions, ours.owner_mark(), &mut changed);
    (out, changed)
}

/// `existing` with the credential fields of `ours`; the names of the fields that changed.
pub(crate) fn merge_user(existing: &NamedUser, ours: &NamedUser) -> (NamedUser, Vec<String>) {
    let mut out = existing.clone();
    let mut changed = Vec::new();
    let (u, o): (&mut User, &User) = (&mut out.user, &ours.user);
    own(
        &mut u.client_certificate_data,
        &o.client_certificate_data,
        "client-certificate-data",
        &mut changed,
    );
    own(
        &mut u.client_certificate,
        &o.client_certificate,
        "client-certificate",
        &mut changed,
    );
    own(
        &mut u.client_key_data,
        &o.client_key_data,
        "client-key-data",
        &mut changed,
    );
    own(&mut u.client_key, &o.client_key, "client-key", &mut changed);
    own(&mut u.exec, &o.exec, "exec", &mut changed);
    own_mark(&mut u.extensions, ours.owner_mark(), &mut changed);
    (out, changed)
}

/// `existing` pointing at the cluster and user of `ours`; the names of the fields that changed.
pub(crate) fn merge_context(
    existing: &NamedContext,
    ours: &NamedContext,
) -> (NamedContext, Vec<String>) {
    let mut out = existing.clone();
    let mut changed = Vec::new();
    let (c, o): (&mut Context, &Context) = (&mut out.context, &ours.context);
    own(&mut c.cluster, &o.cluster, "cluster", &mut changed);
    own(&mut c.user, &o.user, "user", &mut changed);
    // A namespace is the user's unless this run sets one (`--context-namespace`).
    if o.namespace.is_some() {
        own(&mut c.namespace, &o.namespace, "namespace", &mut changed);
    }
    own_mark(&mut c.extensions, ours.owner_mark(), &mut changed);
    (out, changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NamedExtension;
    use serde_json::json;

    #[test]
    fn owned_fields_change_and_the_user_s_stay() {
        let mut existing = NamedContext::new(
            "ctx",
            Context {
                cluster: Some("old".into()),
                user: Some("u".into()),
                namespace: Some("team-a".into()),
                ..Context::default()
            },
        )
        .with_owner_mark(json!({"cluster-id": "c", "access": "internal"}));
        existing
            .context
            .extensions
            .push(NamedExtension::new("theirs", json!({"k": 1})));
        existing.unknown.insert("entry-field".into(), json!("keep"));
        let ours = NamedContext::new(
            "ctx",
            Context {
                cluster: Some("new".into()),
                user: Some("u".into()),
                ..Context::default()
            },
        )
        .with_owner_mark(json!({"version": 2, "cluster-id": "c", "access": "internal"}));
        let (merged, changed) = merge_context(&existing, &ours);
        assert_eq!(changed, ["cluster", "extensions[cce-autopilot.io/owner]"]);
        assert_eq!(merged.context.namespace.as_deref(), Some("team-a"));
        assert_eq!(merged.context.cluster.as_deref(), Some("new"));
        assert_eq!(merged.unknown["entry-field"], json!("keep"));
        assert_eq!(merged.context.extensions.len(), 2);
        assert_eq!(merged.owner_mark(), ours.owner_mark());
        let (again, none) = merge_context(&merged, &ours);
        assert!(none.is_empty() && again == merged, "idempotent");
    }

    #[test]
    fn switching_a_user_to_exec_drops_the_embedded_key() {
        let existing = NamedUser::new(
            "u",
            User {
                client_certificate_data: Some("Q0VSVA==".into()),
                client_key_data: Some("S0VZ".into()),
                token: Some("theirs".into()),
                ..User::default()
            },
        );
        let ours = NamedUser::new(
            "u",
            User {
                exec: Some(crate::model::ExecConfig {
                    command: "cce-autopilot".into(),
                    ..Default::default()
                }),
                ..User::default()
            },
        );
        let (merged, changed) = merge_user(&existing, &ours);
        assert!(merged.user.client_key_data.is_none() && merged.user.exec.is_some());
        assert_eq!(
            merged.user.token.as_deref(),
            Some("theirs"),
            "not ours to drop"
        );
        assert_eq!(
            changed,
            ["client-certificate-data", "client-key-data", "exec"]
        );
    }

    #[test]
    fn a_cluster_keeps_its_proxy_and_unknown_fields() {
        let mut existing = NamedCluster::new(
            "c",
            Cluster {
                server: Some("https://a".into()),
                insecure_skip_tls_verify: Some(true),
                proxy_url: Some("http://proxy:3128".into()),
                ..Cluster::default()
            },
        );
        existing
            .cluster
            .unknown
            .insert("disable-compression".into(), json!(true));
        let ours = NamedCluster::new(
            "c",
            Cluster {
                server: Some("https://b".into()),
                certificate_authority_data: Some("Q0E=".into()),
                tls_server_name: Some("kubernetes".into()),
                ..Cluster::default()
            },
        );
        let (merged, changed) = merge_cluster(&existing, &ours);
        assert_eq!(
            merged.cluster.proxy_url.as_deref(),
            Some("http://proxy:3128")
        );
        assert_eq!(merged.cluster.unknown["disable-compression"], json!(true));
        assert_eq!(merged.cluster.insecure_skip_tls_verify, None);
        assert!(merged.cluster.conflicting_ca_field().is_none());
        assert_eq!(
            changed,
            [
                "server",
                "certificate-authority-data",
                "insecure-skip-tls-verify",
                "tls-server-name"
            ]
        );
    }
}

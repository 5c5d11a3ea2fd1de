//! The entries of one cluster, made from the service's answer: which accesses, trusting the API server how,
//! authenticating how. Pure; the names are given later, by the merge, which knows the files.

use cce_autopilot_model::{Access, Kubeconfig};

use crate::error::{Error, Result};
use crate::model::{Cluster, Context, ExecConfig, User};

/// Which of the cluster's endpoints to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessChoice {
    /// The one the service marks current: external when the cluster has a public endpoint, else internal.
    #[default]
    Default,
    /// The private (VPC) endpoint.
    Internal,
    /// The public endpoint.
    External,
    /// Both, as two contexts.
    Both,
}

/// Which cluster, of which project and service, the entries stand for (recorded in the owner mark).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// The cluster's id.
    pub cluster_id: String,
    /// Its name, when it could be had (the credentials may not list clusters).
    pub cluster_name: Option<String>,
    /// The project.
    pub project_id: Option<String>,
    /// The service endpoint.
    pub endpoint: Option<String>,
    /// The region, when one is configured.
    pub region: Option<String>,
    /// Who the entries' credentials sign as, when not the default chain.
    pub identity: Option<super::identity::IdentityMark>,
    /// The project's name (`cn-north-4`, `cn-north-4_dev`), for `{project}` of a name template.
    pub project_name: Option<String>,
    /// The scope of the default names, instead of the merge's ([`super::Naming::scope`]): a fleet's
    /// entries are scoped by their project's name, which is the region's for its default project.
    pub scope: Option<String>,
}

impl Target {
    /// The target `cluster_id`, nothing else known yet.
    pub fn new(cluster_id: impl Into<String>) -> Self {
        Target {
            cluster_id: cluster_id.into(),
            ..Target::default()
        }
    }

    /// With the cluster's name.
    #[must_use]
    pub fn with_name(mut self, name: Option<String>) -> Self {
        self.cluster_name = name;
        self
    }

    /// With the project, the endpoint and the region the entries were fetched from.
    #[must_use]
    pub fn with_service(
        mut self,
        project_id: impl Into<String>,
        endpoint: impl Into<String>,
        region: Option<String>,
    ) -> Self {
        self.project_id = Some(project_id.into());
        self.endpoint = Some(endpoint.into());
        self.region = region;
        self
    }

    /// With the project's name, which also scopes the default names (a fleet's entries; see [`Target::scope`]).
    #[must_use]
    pub fn in_fleet_project(mut self, project_name: impl Into<String>) -> Self {
        let name = project_name.into();
        self.scope = Some(name.clone());
        self.project_name = Some(name);
        self
    }

    /// With the identity the entries' credentials sign as (`None`: the default chain).
    #[must_use]
    pub fn with_identity(mut self, identity: Option<super::identity::IdentityMark>) -> Self {
        self.identity = identity;
        self
    }
}

/// How the entries are made.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct EntryOptions {
    /// Which endpoints.
    pub access: AccessChoice,
    /// Verify the external endpoint with the cluster CA, expecting this name in the server certificate,
    /// instead of `insecure-skip-tls-verify` as the service writes it.
    pub tls_server_name: Option<String>,
    /// A user that runs this credential plugin instead of embedding the fetched key.
    pub exec: Option<ExecConfig>,
    /// The validity asked for, in days (`-1`: the maximum), recorded in the owner mark.
    pub duration: Option<i32>,
    /// The namespace of the contexts (`None`: whatever the context has, which the user may have set).
    pub namespace: Option<String>,
}

/// One cluster's entries, ready to be named and merged.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ClusterEntries {
    /// Whose they are.
    pub target: Target,
    /// The accesses written, the primary one first.
    pub accesses: Vec<Access>,
    /// One cluster entry per access.
    pub clusters: Vec<(Access, Cluster)>,
    /// The one user, shared by the contexts.
    pub user: User,
    /// One context per access (its `cluster` and `user` are set when named).
    pub contexts: Vec<(Access, Context)>,
    /// The accesses whose cluster skips TLS verification (the external endpoint as served).
    pub insecure: Vec<Access>,
    /// What the caller should tell the user (options that did not apply).
    pub warnings: Vec<String>,
    /// `static` or `exec`.
    pub credential: &'static str,
    /// The validity asked for.
    pub duration: Option<i32>,
}

/// The accesses to write, the primary one first; [`Error::NoAccess`] when the cluster lacks one asked for.
pub fn select_access(kubeconfig: &Kubeconfig, wanted: AccessChoice) -> Result<Vec<Access>> {
    let has = |a| kubeconfig.access(a).is_some();
    let missing = |access: Access| Error::NoAccess {
        access,
        offered: kubeconfig.contexts.iter().map(|c| c.name.clone()).collect(),
    };
    match wanted {
        AccessChoice::Default if has(Access::External) => Ok(vec![Access::External]),
        AccessChoice::Default | AccessChoice::Internal if has(Access::Internal) => {
            Ok(vec![Access::Internal])
        }
        AccessChoice::Default | AccessChoice::Internal => Err(missing(Access::Internal)),
        AccessChoice::External if has(Access::External) => Ok(vec![Access::External]),
        AccessChoice::External => Err(missing(Access::External)),
        // Primary first: the service makes `external` current when it exists.
        AccessChoice::Both if has(Access::External) && has(Access::Internal) => {
            Ok(vec![Access::External, Access::Internal])
        }
        AccessChoice::Both if !has(Access::External) => Err(missing(Access::External)),
        AccessChoice::Both => Err(missing(Access::Internal)),
    }
}

fn answer_error(what: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidAnswer {
        what,
        reason: reason.into(),
    }
}

impl ClusterEntries {
    /// The entries of the fetched `kubeconfig` of `target`.
    pub fn build(target: Target, kubeconfig: &Kubeconfig, opts: &EntryOptions) -> Result<Self> {
        let accesses = select_access(kubeconfig, opts.access)?;
        let primary = accesses[0];
        let mut warnings = Vec::new();
        let mut insecure = Vec::new();
        if opts.tls_server_name.is_some() && !accesses.contains(&Access::External) {
            warnings.push(format!(
                "cluster {}: the TLS server name was not used: only its internal endpoint is written",
                target.cluster_id
            ));
        }
        let mut clusters = Vec::with_capacity(accesses.len());
        let mut contexts = Vec::with_capacity(accesses.len());
        for &access in &accesses {
            let entry = kubeconfig
                .access(access)
                .ok_or_else(|| answer_error("context", format!("no {access} context")))?;
            let mut cluster = Cluster::from(&entry.cluster.cluster);
            if cluster.server.as_deref().is_none_or(str::is_empty) {
                return Err(answer_error(
                    "cluster",
                    format!("no server address for the {access} endpoint"),
                ));
            }
            if access == Access::External {
                match &opts.tls_server_name {
                    Some(server_name) => {
                        let ca = kubeconfig
                            .access(Access::Internal)
                            .and_then(|i| i.cluster.cluster.certificate_authority_data.clone())
                            .filter(|ca| !ca.trim().is_empty())
                            .ok_or_else(|| {
                                answer_error(
                                    "cluster",
                                    "no cluster CA (internal certificate-authority-data) to verify the \
                                     external endpoint with; rerun without --tls-server-name",
                                )
                            })?;
                        cluster.certificate_authority_data = Some(ca);
                        cluster.certificate_authority = None;
                        cluster.insecure_skip_tls_verify = None;
                        cluster.tls_server_name = Some(server_name.clone());
                    }
                    None if cluster.insecure_skip_tls_verify == Some(true) => {
                        // As the service says; never a CA together with the insecure flag.
                        cluster.certificate_authority_data = None;
                        cluster.certificate_authority = None;
                        insecure.push(access);
                    }
                    None => {}
                }
            }
            clusters.push((access, cluster));
            let mut context = Context::from(&entry.context.context);
            if let Some(namespace) = &opts.namespace {
                context.namespace = Some(namespace.clone());
            }
            contexts.push((access, context));
        }
        let user = match &opts.exec {
            Some(exec) => User {
                exec: Some(exec.clone()),
                ..User::default()
            },
            None => {
                let entry = kubeconfig
                    .access(primary)
                    .ok_or_else(|| answer_error("context", format!("no {primary} context")))?;
                let user = User::from(&entry.user.user);
                let empty = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
                if empty(&user.client_key_data) || empty(&user.client_certificate_data) {
                    return Err(answer_error("user", "no client certificate and key"));
                }
                user
            }
        };
        Ok(ClusterEntries {
            target,
            accesses,
            clusters,
            user,
            contexts,
            insecure,
            warnings,
            credential: if opts.exec.is_some() {
                "exec"
            } else {
                "static"
            },
            duration: opts.duration,
        })
    }

    /// The access the user entry is marked with: the only one, or `both`.
    pub(crate) fn user_access(&self) -> &'static str {
        match self.accesses.as_slice() {
            [only] => only.context_name(),
            _ => "both",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn answer(public: bool) -> Kubeconfig {
        let mut k = json!({
            "kind": "Config", "apiVersion": "v1",
            "clusters": [{"name": "internalCluster", "cluster": {"server": "https://192.168.1.7:5443", "certificate-authority-data": "Q0EK"}}],
            "users": [{"name": "user", "user": {"client-certificate-data": "Q0VSVAo=", "client-key-data": "S0VZCg=="}}],
            "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user"}}],
            "current-context": "internal"
        });
        if public {
            k["clusters"].as_array_mut().unwrap().push(json!({"name": "externalCluster", "cluster": {"server": "https://8.8.8.8:5443", "insecure-skip-tls-verify": true}}));
            k["contexts"].as_array_mut().unwrap().push(json!({"name": "external", "context": {"cluster": "externalCluster", "user": "user"}}));
            k["current-context"] = json!("external");
        }
        serde_json::from_value(k).unwrap()
    }

    #[test]
    fn the_default_access_follows_the_public_endpoint() {
        assert_eq!(
            select_access(&answer(false), AccessChoice::Default).unwrap(),
            [Access::Internal]
        );
        assert_eq!(
            select_access(&answer(true), AccessChoice::Default).unwrap(),
            [Access::External]
        );
        assert_eq!(
            select_access(&answer(true), AccessChoice::Both).unwrap(),
            [Access::External, Access::Internal]
        );
        for wanted in [AccessChoice::External, AccessChoice::Both] {
            let err = select_access(&answer(false), wanted).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::NoAccess {
                        access: Access::External,
                        ..
                    }
                ),
                "{err}"
            );
            assert_eq!(err.remedy(), Some(crate::Remedy::InternalAccess), "{err}");
            assert!(err.to_string().contains("internal access"), "{err}");
        }
    }

    #[test]
    fn external_is_insecure_as_served_unless_a_tls_server_name_is_given() {
        let e = ClusterEntries::build(Target::new("c"), &answer(true), &EntryOptions::default())
            .unwrap();
        let cluster = &e.clusters[0].1;
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        assert!(cluster.certificate_authority_data.is_none());
        assert_eq!(e.insecure, [Access::External]);
        let verified = EntryOptions {
            tls_server_name: Some("kubernetes".into()),
            ..EntryOptions::default()
        };
        let e = ClusterEntries::build(Target::new("c"), &answer(true), &verified).unwrap();
        let cluster = &e.clusters[0].1;
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("Q0EK"));
        assert_eq!(cluster.tls_server_name.as_deref(), Some("kubernetes"));
        assert!(cluster.insecure_skip_tls_verify.is_none() && e.insecure.is_empty());
    }

    #[test]
    fn an_exec_user_carries_no_key_and_a_static_one_needs_both_halves() {
        let exec = EntryOptions {
            exec: Some(ExecConfig {
                command: "cce-autopilot".into(),
                ..ExecConfig::default()
            }),
            ..EntryOptions::default()
        };
        let e = ClusterEntries::build(Target::new("c"), &answer(false), &exec).unwrap();
        assert!(e.user.client_key_data.is_none() && e.user.exec.is_some());
        assert_eq!(e.credential, "exec");
        let mut broken = answer(false);
        broken.users[0].user.client_key_data = None;
        let err =
            ClusterEntries::build(Target::new("c"), &broken, &EntryOptions::default()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidAnswer { what: "user", .. }),
            "{err}"
        );
    }
}

//! The entries `kubeconfig update` writes for one fetched cluster: which accesses, under which names,
//! trusting the API server how, authenticating how. Pure: no I/O, so every rule is unit-tested here.
//!
//! Naming (see `UpdateArgs` for the user-facing text): the scope is the region, else the endpoint's
//! host, else `custom`; the default base name is `cce_<scope>_<cluster-id>`; a cluster and its context
//! are named `<base>_<access>`, the user `<base>_user`. `--alias A` names the cluster and context `A`
//! (`A-internal`/`A-external` with `--access both`), `--user-alias U` the user `U`.

use cce_autopilot::{Access, CertDuration, Kubeconfig};
use serde_json::{Value, json};

use crate::cli::UpdateAccess;
use crate::exit::CliError;
use cce_autopilot_kubeconfig::{
    Cluster, Context, ExecConfig, NamedCluster, NamedContext, NamedUser, Upsert, User,
};

/// The exec API version written into `users[].user.exec`.
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1";

/// What the user asked for, common to every cluster of one run.
#[derive(Clone, Debug)]
pub struct EntryOptions {
    /// The scope part of default names (region, endpoint host or `custom`).
    pub scope: String,
    /// `--alias`.
    pub alias: Option<String>,
    /// `--user-alias`.
    pub user_alias: Option<String>,
    /// `--access`; `None` follows the service (external when the cluster has a public endpoint).
    pub access: Option<UpdateAccess>,
    /// `--tls-server-name`.
    pub tls_server_name: Option<String>,
    /// `--exec`: the plugin to record instead of the fetched key.
    pub exec: Option<ExecPlugin>,
}

/// The `cce-autopilot credential` call recorded by `--exec`.
#[derive(Clone, Debug)]
pub struct ExecPlugin {
    /// Absolute path of the program (the running executable).
    pub command: String,
    /// The certificate validity the plugin asks for.
    pub duration: CertDuration,
    /// Global options to repeat (`--endpoint URL`, `--region R`, ...), flag and value in turn.
    pub global_args: Vec<String>,
}

/// The entries of one cluster, ready to merge, and what to tell the user about them.
#[derive(Clone, Debug)]
pub struct ClusterEntries {
    /// The cluster's id.
    pub cluster_id: String,
    /// The accesses written, the primary one first.
    pub accesses: Vec<Access>,
    /// One cluster entry per access.
    pub clusters: Vec<NamedCluster>,
    /// The one user entry, shared by the contexts.
    pub user: NamedUser,
    /// One context per access, the primary one first.
    pub contexts: Vec<NamedContext>,
    /// Contexts whose cluster skips TLS verification (the external endpoint as served).
    pub insecure_contexts: Vec<String>,
    /// Warnings for stderr (ignored options).
    pub warnings: Vec<String>,
}

impl ClusterEntries {
    /// The context made current by `--set-current-context`: the primary access's.
    pub fn primary_context(&self) -> &str {
        &self.contexts[0].name
    }

    /// Adds these entries to `upsert`.
    pub fn add_to(&self, upsert: &mut Upsert) {
        upsert.clusters.extend(self.clusters.iter().cloned());
        upsert.users.push(self.user.clone());
        upsert.contexts.extend(self.contexts.iter().cloned());
    }
}

/// The scope part of default names: the region, else the host of the endpoint URL (`:` of an IPv6
/// address becomes `-`), else `custom`.
pub fn name_scope(region: Option<&str>, endpoint: Option<&str>) -> String {
    if let Some(region) = region.map(str::trim).filter(|r| !r.is_empty()) {
        return region.to_owned();
    }
    endpoint
        .and_then(|e| url::Url::parse(e).ok())
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_matches(['[', ']']).replace(':', "-"))
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "custom".to_owned())
}

/// The owner mark of a cluster or context entry.
pub fn owner_mark(cluster_id: &str, access: &str) -> Value {
    json!({"cluster-id": cluster_id, "access": access})
}

/// The name of the cluster and context entries of `access`.
pub fn entry_name(opts: &EntryOptions, cluster_id: &str, access: Access, both: bool) -> String {
    match &opts.alias {
        Some(alias) if both => format!("{alias}-{access}"),
        Some(alias) => alias.clone(),
        None => format!("cce_{}_{cluster_id}_{access}", opts.scope),
    }
}

/// The name of the user entry.
pub fn user_name(opts: &EntryOptions, cluster_id: &str) -> String {
    match &opts.user_alias {
        Some(alias) => alias.clone(),
        None => format!("cce_{}_{cluster_id}_user", opts.scope),
    }
}

/// The accesses to write, the primary one first; an error when the cluster lacks one asked for.
pub fn select_access(
    kubeconfig: &Kubeconfig,
    wanted: Option<UpdateAccess>,
) -> Result<Vec<Access>, CliError> {
    let has_internal = kubeconfig.access(Access::Internal).is_some();
    let has_external = kubeconfig.access(Access::External).is_some();
    let no_public = || {
        CliError::usage(
            "the cluster has no public endpoint (the service returned no external context); use --access internal, or bind an elastic IP to the cluster first",
        )
    };
    let no_internal = || {
        CliError::usage(format!(
            "the service returned no usable internal context (contexts: {}); this answer cannot be merged",
            context_names(kubeconfig)
        ))
    };
    match wanted {
        None if has_external => Ok(vec![Access::External]),
        None | Some(UpdateAccess::Internal) if has_internal => Ok(vec![Access::Internal]),
        None | Some(UpdateAccess::Internal) => Err(no_internal()),
        Some(UpdateAccess::External) if has_external => Ok(vec![Access::External]),
        Some(UpdateAccess::External) => Err(no_public()),
        // Primary first: the service makes `external` current when it exists.
        Some(UpdateAccess::Both) if has_external && has_internal => {
            Ok(vec![Access::External, Access::Internal])
        }
        Some(UpdateAccess::Both) if !has_external => Err(no_public()),
        Some(UpdateAccess::Both) => Err(no_internal()),
    }
}

fn context_names(kubeconfig: &Kubeconfig) -> String {
    let names: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Builds the renamed entries of one fetched kubeconfig.
pub fn build(
    cluster_id: &str,
    kubeconfig: &Kubeconfig,
    opts: &EntryOptions,
) -> Result<ClusterEntries, CliError> {
    let accesses = select_access(kubeconfig, opts.access)?;
    let both = accesses.len() > 1;
    let primary = accesses[0];
    let mut warnings = Vec::new();
    let mut insecure_contexts = Vec::new();
    if opts.tls_server_name.is_some() && !accesses.contains(&Access::External) {
        warnings.push(format!(
            "warning: cluster {cluster_id}: --tls-server-name ignored: only its internal endpoint is written"
        ));
    }

    let user_name = user_name(opts, cluster_id);
    let mut clusters = Vec::with_capacity(accesses.len());
    let mut contexts = Vec::with_capacity(accesses.len());
    for &access in &accesses {
        let entry = kubeconfig
            .access(access)
            .ok_or_else(|| CliError::usage(format!("no {access} context in the answer")))?;
        let name = entry_name(opts, cluster_id, access, both);
        let mut cluster = Cluster::try_from(&entry.cluster.cluster).map_err(answer_error)?;
        if cluster.server.as_deref().is_none_or(str::is_empty) {
            return Err(CliError {
                code: crate::exit::SERVICE,
                message: format!(
                    "the service returned no server address for the {access} endpoint"
                ),
            });
        }
        if access == Access::External {
            match &opts.tls_server_name {
                Some(server_name) => {
                    let ca = kubeconfig
                        .access(Access::Internal)
                        .and_then(|i| i.cluster.cluster.certificate_authority_data.clone())
                        .filter(|ca| !ca.trim().is_empty())
                        .ok_or_else(|| CliError {
                            code: crate::exit::SERVICE,
                            message: "the answer has no cluster CA (internal certificate-authority-data) to verify the external endpoint with; rerun without --tls-server-name".to_owned(),
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
                    insecure_contexts.push(name.clone());
                }
                None => {}
            }
        }
        clusters.push(
            NamedCluster::new(name.clone(), cluster)
                .with_owner_mark(owner_mark(cluster_id, access.context_name())),
        );
        let mut context = Context::try_from(&entry.context.context).map_err(answer_error)?;
        context.cluster = Some(name.clone());
        context.user = Some(user_name.clone());
        contexts.push(
            NamedContext::new(name, context)
                .with_owner_mark(owner_mark(cluster_id, access.context_name())),
        );
    }

    let user = match &opts.exec {
        Some(plugin) => User {
            exec: Some(exec_config(plugin, cluster_id, primary)),
            ..User::default()
        },
        None => {
            let entry = kubeconfig
                .access(primary)
                .ok_or_else(|| CliError::usage(format!("no {primary} context in the answer")))?;
            let user = User::try_from(&entry.user.user).map_err(answer_error)?;
            if user.client_key_data.as_deref().is_none_or(str::is_empty)
                || user
                    .client_certificate_data
                    .as_deref()
                    .is_none_or(str::is_empty)
            {
                return Err(CliError {
                    code: crate::exit::SERVICE,
                    message: "the service returned no client certificate and key".to_owned(),
                });
            }
            user
        }
    };
    let user_mark = match opts.access {
        Some(UpdateAccess::Both) => "both",
        _ => primary.context_name(),
    };
    let user = NamedUser::new(user_name, user).with_owner_mark(owner_mark(cluster_id, user_mark));

    Ok(ClusterEntries {
        cluster_id: cluster_id.to_owned(),
        accesses,
        clusters,
        user,
        contexts,
        insecure_contexts,
        warnings,
    })
}

/// The exec entry that runs `cce-autopilot credential` for this cluster. Settings travel as
/// arguments, which take precedence over the user's environment; the access and secret keys never
/// appear: the plugin reads them from the user's environment or credentials file at each use.
pub fn exec_config(plugin: &ExecPlugin, cluster_id: &str, access: Access) -> ExecConfig {
    let duration = if plugin.duration.is_max() {
        "max".to_owned()
    } else {
        plugin.duration.get().to_string()
    };
    let mut args: Vec<String> = [
        "credential",
        "--cluster-id",
        cluster_id,
        "--access",
        access.context_name(),
        "--duration",
        &duration,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(plugin.global_args.iter().cloned());
    ExecConfig {
        api_version: Some(EXEC_API_VERSION.to_owned()),
        command: plugin.command.clone(),
        args: Some(args),
        env: None,
        install_hint: Some(
            "cce-autopilot provides the credentials of this cluster: install it (cargo install cce-autopilot-cli), then run `cce-autopilot kubeconfig update --exec` again so that this entry names its path"
                .to_owned(),
        ),
        provide_cluster_info: Some(false),
        interactive_mode: Some("Never".to_owned()),
        unknown: serde_json::Map::new(),
    }
}

/// An answer that does not fit a kubeconfig is a service error.
fn answer_error(e: cce_autopilot_kubeconfig::Error) -> CliError {
    CliError {
        code: crate::exit::SERVICE,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cce_autopilot::model::{
        ClusterCert as Endpoint, Context as ModelContext, User as ModelUser,
    };

    fn kubeconfig(public: bool) -> Kubeconfig {
        let mut k = Kubeconfig {
            current_context: Some(if public { "external" } else { "internal" }.into()),
            ..Kubeconfig::default()
        };
        k.clusters.push(cce_autopilot::NamedCluster {
            name: "internalCluster".into(),
            cluster: Endpoint {
                server: "https://192.168.1.7:5443".into(),
                certificate_authority_data: Some("Q0EK".into()),
                ..Endpoint::default()
            },
            ..Default::default()
        });
        k.users.push(cce_autopilot::NamedUser {
            name: "user".into(),
            user: ModelUser {
                client_certificate_data: Some("Q0VSVAo=".into()),
                client_key_data: Some("S0VZCg==".into()),
                ..ModelUser::default()
            },
            ..Default::default()
        });
        k.contexts.push(cce_autopilot::NamedContext {
            name: "internal".into(),
            context: ModelContext {
                cluster: "internalCluster".into(),
                user: "user".into(),
                ..ModelContext::default()
            },
            ..Default::default()
        });
        if public {
            k.clusters.push(cce_autopilot::NamedCluster {
                name: "externalCluster".into(),
                cluster: Endpoint {
                    server: "https://8.8.8.8:5443".into(),
                    insecure_skip_tls_verify: Some(true),
                    ..Endpoint::default()
                },
                ..Default::default()
            });
            k.contexts.push(cce_autopilot::NamedContext {
                name: "external".into(),
                context: ModelContext {
                    cluster: "externalCluster".into(),
                    user: "user".into(),
                    ..ModelContext::default()
                },
                ..Default::default()
            });
        }
        k
    }

    fn opts() -> EntryOptions {
        EntryOptions {
            scope: "cn-north-4".into(),
            alias: None,
            user_alias: None,
            access: None,
            tls_server_name: None,
            exec: None,
        }
    }

    #[test]
    fn scope_is_region_else_endpoint_host_else_custom() {
        assert_eq!(
            name_scope(Some("cn-north-4"), Some("http://127.0.0.1:9")),
            "cn-north-4"
        );
        assert_eq!(name_scope(None, Some("http://127.0.0.1:9/x")), "127.0.0.1");
        assert_eq!(name_scope(None, Some("https://[::1]:9")), "--1");
        assert_eq!(name_scope(Some(" "), None), "custom");
        assert_eq!(name_scope(None, Some("not a url")), "custom");
    }

    #[test]
    fn default_access_follows_the_public_endpoint() {
        assert_eq!(
            select_access(&kubeconfig(false), None).unwrap(),
            [Access::Internal]
        );
        assert_eq!(
            select_access(&kubeconfig(true), None).unwrap(),
            [Access::External]
        );
        assert_eq!(
            select_access(&kubeconfig(true), Some(UpdateAccess::Both)).unwrap(),
            [Access::External, Access::Internal]
        );
    }

    #[test]
    fn external_on_a_private_cluster_is_a_clear_usage_error() {
        for wanted in [UpdateAccess::External, UpdateAccess::Both] {
            let err = select_access(&kubeconfig(false), Some(wanted)).unwrap_err();
            assert_eq!(err.code, crate::exit::USAGE);
            assert!(
                err.message.contains("no public endpoint"),
                "{}",
                err.message
            );
            assert!(err.message.contains("--access internal"), "{}", err.message);
        }
    }

    #[test]
    fn default_names_carry_scope_cluster_and_access() {
        let e = build("id1", &kubeconfig(false), &opts()).unwrap();
        assert_eq!(e.clusters[0].name, "cce_cn-north-4_id1_internal");
        assert_eq!(e.contexts[0].name, "cce_cn-north-4_id1_internal");
        assert_eq!(e.user.name, "cce_cn-north-4_id1_user");
        assert_eq!(
            e.contexts[0].context.cluster.as_deref(),
            Some("cce_cn-north-4_id1_internal")
        );
        assert_eq!(
            e.contexts[0].context.user.as_deref(),
            Some("cce_cn-north-4_id1_user")
        );
        assert_eq!(
            e.clusters[0].owner_mark(),
            Some(&owner_mark("id1", "internal"))
        );
        assert!(e.warnings.is_empty());
    }

    #[test]
    fn aliases_name_entries_with_suffixes_for_both() {
        let o = EntryOptions {
            alias: Some("prod".into()),
            user_alias: Some("me".into()),
            access: Some(UpdateAccess::Both),
            ..opts()
        };
        let e = build("id1", &kubeconfig(true), &o).unwrap();
        let names: Vec<&str> = e.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["prod-external", "prod-internal"]);
        assert_eq!(e.primary_context(), "prod-external");
        assert_eq!(e.user.name, "me");
        let o = EntryOptions {
            alias: Some("prod".into()),
            ..opts()
        };
        let e = build("id1", &kubeconfig(false), &o).unwrap();
        assert_eq!(e.contexts[0].name, "prod");
        assert_eq!(e.user.name, "cce_cn-north-4_id1_user");
    }

    #[test]
    fn external_is_insecure_as_served_and_reported() {
        let e = build("id1", &kubeconfig(true), &opts()).unwrap();
        let c = &e.clusters[0].cluster;
        assert_eq!(c.insecure_skip_tls_verify, Some(true));
        assert_eq!(c.certificate_authority_data, None);
        assert_eq!(e.insecure_contexts, ["cce_cn-north-4_id1_external"]);
        assert!(e.warnings.is_empty());
    }

    #[test]
    fn tls_server_name_verifies_external_with_the_cluster_ca() {
        let o = EntryOptions {
            tls_server_name: Some("kubernetes".into()),
            ..opts()
        };
        let e = build("id1", &kubeconfig(true), &o).unwrap();
        let c = &e.clusters[0].cluster;
        assert_eq!(c.server.as_deref(), Some("https://8.8.8.8:5443"));
        assert_eq!(c.insecure_skip_tls_verify, None);
        assert_eq!(c.certificate_authority_data.as_deref(), Some("Q0EK"));
        assert_eq!(c.tls_server_name.as_deref(), Some("kubernetes"));
        assert!(e.insecure_contexts.is_empty());
        assert!(c.conflicting_ca_field().is_none());
    }

    #[test]
    fn exec_user_records_the_credential_call_and_no_key() {
        let o = EntryOptions {
            exec: Some(ExecPlugin {
                command: "/opt/bin/cce-autopilot".into(),
                duration: CertDuration::MAX,
                global_args: vec!["--region".into(), "cn-north-4".into()],
            }),
            ..opts()
        };
        let e = build("id1", &kubeconfig(true), &o).unwrap();
        assert!(e.user.user.client_key_data.is_none());
        let exec = e.user.user.exec.as_ref().unwrap();
        assert_eq!(exec.api_version.as_deref(), Some(EXEC_API_VERSION));
        assert_eq!(exec.command, "/opt/bin/cce-autopilot");
        assert_eq!(
            exec.args.as_deref().unwrap(),
            [
                "credential",
                "--cluster-id",
                "id1",
                "--access",
                "external",
                "--duration",
                "max",
                "--region",
                "cn-north-4"
            ]
        );
        assert_eq!(exec.interactive_mode.as_deref(), Some("Never"));
        assert_eq!(exec.provide_cluster_info, Some(false));
    }

    #[test]
    fn static_user_keeps_the_fetched_certificate_and_key() {
        let e = build("id1", &kubeconfig(false), &opts()).unwrap();
        assert_eq!(e.user.user.client_key_data.as_deref(), Some("S0VZCg=="));
        assert_eq!(
            e.user.user.client_certificate_data.as_deref(),
            Some("Q0VSVAo=")
        );
    }
}

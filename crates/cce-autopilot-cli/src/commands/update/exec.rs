//! The exec entry `update --exec` writes: a user that runs `cce-autopilot credential` for the cluster.

use cce_autopilot::{Access, CertDuration};
use cce_autopilot_kubeconfig::ExecConfig;

use crate::args::GlobalArgs;
use crate::commands::common::TOKEN_VAR;
use crate::commands::credential::cache::CredentialCache;
use crate::exit::{self, CliError};

/// The exec API version written into `users[].user.exec`.
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1";

/// The plugin entry for `cluster_id`. Settings travel as arguments, which take precedence over the user's
/// environment: the cluster's **id** (a name can be reused by a new cluster after a deletion, an id
/// cannot), the access, the validity, the `--timeout` if one was given, and the service settings. The
/// access and secret keys never appear: the plugin reads them from the user's environment or credentials
/// file at each use. `provideClusterInfo` lets the plugin see the CA kubectl trusts, so that a certificate
/// cached under another CA is not handed out.
pub fn config(
    global: &GlobalArgs,
    cluster_id: &str,
    access: Access,
    duration: CertDuration,
) -> anyhow::Result<ExecConfig> {
    let command = std::env::current_exe().map_err(|e| CliError {
        code: exit::FAILURE,
        message: format!("--exec: cannot tell the path of this program to record it: {e}"),
    })?;
    let duration = if duration.is_max() {
        "max".to_owned()
    } else {
        duration.get().to_string()
    };
    let mut args: Vec<String> = [
        "credential",
        "--cluster",
        cluster_id,
        "--access",
        access.context_name(),
        "--duration",
        &duration,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(global_args(global));
    Ok(ExecConfig {
        api_version: Some(EXEC_API_VERSION.to_owned()),
        command: command.to_string_lossy().into_owned(),
        args: Some(args),
        install_hint: Some(
            "cce-autopilot provides the credentials of this cluster: install it (cargo install cce-autopilot-cli), then run `cce-autopilot kubeconfig update --exec` again so that this entry names its path"
                .to_owned(),
        ),
        provide_cluster_info: Some(true),
        interactive_mode: Some("Never".to_owned()),
        ..ExecConfig::default()
    })
}

/// The rule of every exec entry, checked before anything is fetched: a secret the entry would have to
/// carry in its args (a token, a key) is refused (exit 2) — a token *file* travels as its path, never its
/// contents; a source the plugin may not find in kubectl's environment (a variable of this shell) is
/// worth a warning.
pub fn check_sources(global: &GlobalArgs) -> anyhow::Result<()> {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if global.token_file.is_none() && set(TOKEN_VAR) {
        return Err(CliError::usage(format!(
            "--exec: the IAM token comes from {}, and the entry would have to carry the token itself; put it \
             in a file and pass --token-file FILE (the entry records the path, never the token)",
            TOKEN_VAR
        ))
        .into());
    }
    if global.token_file.is_none() {
        for warning in shell_only_sources(&cce_autopilot::Environment::process()) {
            say!("warning: {warning}");
        }
    }
    Ok(())
}

/// The credential sources this shell's variables configure, which the plugin finds only in kubectl's
/// environment (kubectl started elsewhere — an IDE, a service, another terminal — lacks them): one warning
/// each. Values never appear, only variable names.
fn shell_only_sources(env: &cce_autopilot::Environment) -> Vec<String> {
    let everywhere = "the profile file (~/.huaweicloud/credentials) works everywhere";
    let mut warnings = Vec::new();
    if env.get("HUAWEICLOUD_OIDC_ID_TOKEN").is_some() {
        warnings.push(
            "the OIDC ID token is the value of HUAWEICLOUD_OIDC_ID_TOKEN in this shell: the entry never carries \
             it, so the plugin needs it in kubectl's environment at each use; point HUAWEICLOUD_OIDC_TOKEN_FILE \
             at a file the token is written to instead"
                .to_owned(),
        );
    } else if env.get("HUAWEICLOUD_OIDC_PROVIDER_URN").is_some() {
        warnings.push(
            "OIDC via STS comes from HUAWEICLOUD_OIDC_* variables of this shell: the plugin reads them from \
             kubectl's environment at each use, so kubectl started elsewhere needs them too"
                .to_owned(),
        );
    }
    if env.get("HUAWEICLOUD_SDK_IDP_ID").is_some() {
        warnings.push(format!(
            "the federated identity comes from HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE of this \
             shell: kubectl started elsewhere needs them too; idp_id and id_token_file in {everywhere}"
        ));
    }
    if let Some(var) = ["HUAWEICLOUD_SDK_AK", "CLOUD_SDK_AK"]
        .into_iter()
        .find(|v| env.get(v).is_some())
    {
        warnings.push(format!(
            "the access key comes from {var}: the plugin reads it from kubectl's environment at each use, so \
             kubectl started elsewhere (an IDE, a service) needs it too; {everywhere}"
        ));
    }
    for var in [
        "HUAWEICLOUD_PROFILE",
        "HUAWEICLOUD_CONFIG_FILE",
        "HUAWEICLOUD_SDK_STS_ENDPOINT",
        "HUAWEICLOUD_SDK_IAM_ENDPOINT",
        "CCE_AUTOPILOT_METADATA_DISABLED",
        "CCE_AUTOPILOT_METADATA_ENDPOINT",
    ] {
        if env.get(var).is_some() {
            warnings.push(format!(
                "{var} is set in this shell: the plugin run by kubectl elsewhere would not see it and may \
                 choose another endpoint or source"
            ));
        }
    }
    warnings
}

/// Empties the plugin's cache of `cluster_id`'s certificates (best effort: a failure is logged).
pub fn clear_cache(cluster_id: &str) {
    let Some(cache) = CredentialCache::from_env(None) else {
        return;
    };
    match cache.clear(Some(cluster_id)) {
        Ok(removed) if !removed.is_empty() => tracing::info!(
            count = removed.len(),
            cluster_id,
            "the entry no longer runs the plugin: its cached certificates were removed"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot empty the plugin's cache of cluster {cluster_id}: {e:#}"),
    }
}

/// The global options the plugin needs to reach the same service and project as the same identity, in the
/// order `--endpoint`, `--region`, `--project-id`, `--iam-endpoint`, `--timeout`, the agencies, `--token-file`: values from flags or their
/// environment variables alike, so that the entry keeps working in another shell. Never keys, never a
/// token: a token file as its absolute path.
pub fn global_args(global: &GlobalArgs) -> Vec<String> {
    let timeout = global
        .timeout
        .map(|t| humantime::format_duration(t).to_string());
    let mut args = Vec::new();
    for (flag, value) in [
        ("--endpoint", &global.endpoint),
        ("--region", &global.region),
        ("--project-id", &global.project_id),
        ("--iam-endpoint", &global.iam_endpoint),
        ("--timeout", &timeout),
    ] {
        if let Some(value) = value {
            args.push(flag.to_owned());
            args.push(value.clone());
        }
    }
    // The same identity for kubectl's plugin: the KooCLI profile, the agencies in order.
    if let Some(profile) = &global.profile {
        args.push("--profile".to_owned());
        args.push(profile.clone());
    }
    for agency in &global.agencies {
        args.extend(agency.to_args());
    }
    if let Some(file) = &global.token_file {
        // kubectl runs the plugin from its own working directory.
        let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
        args.push("--token-file".to_owned());
        args.push(file.to_string_lossy().into_owned());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn global(args: &[&str]) -> GlobalArgs {
        let mut all = vec!["cce-autopilot"];
        all.extend_from_slice(args);
        all.extend(["kubeconfig", "update", "--cluster", "c"]);
        crate::cli::Cli::try_parse_from(all).unwrap().global
    }

    #[test]
    fn the_plugin_args_repeat_the_service_settings_and_the_timeout_but_no_keys() {
        let g = global(&[
            "--region",
            "cn-north-4",
            "--project-id",
            "p",
            "--endpoint",
            "http://127.0.0.1:1",
            "--timeout",
            "8s",
        ]);
        assert_eq!(
            global_args(&g),
            [
                "--endpoint",
                "http://127.0.0.1:1",
                "--region",
                "cn-north-4",
                "--project-id",
                "p",
                "--timeout",
                "8s"
            ]
        );
    }

    #[test]
    fn each_source_only_this_shell_holds_gets_a_warning_naming_variables_never_values() {
        use cce_autopilot::Environment;
        let cases = [
            (
                vec![("HUAWEICLOUD_OIDC_ID_TOKEN", "eyJ.SECRET.x")],
                "HUAWEICLOUD_OIDC_TOKEN_FILE",
            ),
            (
                vec![(
                    "HUAWEICLOUD_OIDC_PROVIDER_URN",
                    "iam::a:identity-provider:ci",
                )],
                "HUAWEICLOUD_OIDC_*",
            ),
            (
                vec![("HUAWEICLOUD_SDK_IDP_ID", "ci")],
                "idp_id and id_token_file",
            ),
            (
                vec![("HUAWEICLOUD_SDK_AK", "AK-VALUE")],
                "HUAWEICLOUD_SDK_AK",
            ),
            (
                vec![("HUAWEICLOUD_SDK_STS_ENDPOINT", "https://sts.example")],
                "HUAWEICLOUD_SDK_STS_ENDPOINT",
            ),
        ];
        for (vars, named) in cases {
            let env = vars
                .iter()
                .fold(Environment::empty(), |e, (k, v)| e.var(*k, *v));
            let warnings = shell_only_sources(&env).join(" ");
            assert!(warnings.contains(named), "{named}: {warnings}");
            for (_, value) in &vars {
                assert!(!warnings.contains(value), "a value leaked: {warnings}");
            }
        }
        assert!(shell_only_sources(&Environment::empty()).is_empty());
        // Pod identity's variables are the container's, seen by kubectl in the same pod: no warning.
        let pod = Environment::empty()
            .var(
                "HC_CONTAINER_CREDENTIALS_FULL_URI",
                "http://169.254.170.2/v1/credentials",
            )
            .var(
                "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                "/var/run/secrets/token",
            );
        assert!(shell_only_sources(&pod).is_empty());
    }

    #[test]
    fn the_entry_names_the_cluster_id_and_asks_for_the_cluster_info() {
        let exec = config(&global(&[]), "id-1", Access::External, CertDuration::MAX).unwrap();
        assert_eq!(
            exec.args.as_deref().unwrap(),
            [
                "credential",
                "--cluster",
                "id-1",
                "--access",
                "external",
                "--duration",
                "max"
            ]
        );
        assert_eq!(exec.provide_cluster_info, Some(true));
        assert_eq!(exec.interactive_mode.as_deref(), Some("Never"));
        assert_eq!(exec.api_version.as_deref(), Some(EXEC_API_VERSION));
    }
}

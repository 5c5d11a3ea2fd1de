//! What several commands share: building the client from the global options, writing private files.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use cce_autopilot::{Client, RetryConfig};
use cce_autopilot_kubeconfig::fs;

use crate::args::GlobalArgs;
use crate::exit::CliError;

/// The variable that may hold an IAM token for `X-Auth-Token` (`--token-file` names a file instead).
pub const TOKEN_VAR: &str = "CCE_AUTOPILOT_TOKEN";

/// Turns the ECS metadata source off (`1` or `true`): a machine that is no Huawei Cloud server, a test.
pub const METADATA_DISABLED_VAR: &str = "CCE_AUTOPILOT_METADATA_DISABLED";
/// Points the ECS metadata source elsewhere (an emulator, a test) than the link-local service.
pub const METADATA_ENDPOINT_VAR: &str = "CCE_AUTOPILOT_METADATA_ENDPOINT";
/// Where an ECS server's metadata service answers.
const METADATA_ENDPOINT: &str = "http://169.254.169.254";

/// The ECS metadata service the credential chain may ask (after the environment and the profile file,
/// before pod identity): `CCE_AUTOPILOT_METADATA_ENDPOINT`, else the link-local service; `None` when
/// `CCE_AUTOPILOT_METADATA_DISABLED` is set.
pub fn metadata_endpoint(env: &cce_autopilot::Environment) -> Option<String> {
    if env
        .get(METADATA_DISABLED_VAR)
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
    {
        return None;
    }
    Some(
        env.get(METADATA_ENDPOINT_VAR)
            .unwrap_or_else(|| METADATA_ENDPOINT.to_owned()),
    )
}

/// The client the global options describe, each call bounded by `timeout`; credentials come from the
/// official SDK's whole chain (ECS metadata included, see [`metadata_endpoint`]), or the IAM token of
/// `--token-file` / `CCE_AUTOPILOT_TOKEN`.
pub fn build_client(global: &GlobalArgs, timeout: Duration) -> anyhow::Result<Client> {
    let mut builder = Client::builder().retry(RetryConfig::default().with_max_elapsed(timeout));
    match token(global)? {
        Some(_) if global.profile.is_some() => {
            return Err(CliError::usage(
                "an IAM token (--token-file or CCE_AUTOPILOT_TOKEN) and a KooCLI profile (--profile or \
                 HUAWEICLOUD_PROFILE) both name who signs: keep one",
            )
            .into());
        }
        Some(token) => builder = builder.token(token),
        None => {
            if let Some(url) = metadata_endpoint(&cce_autopilot::Environment::process()) {
                builder = builder.metadata_credentials(url);
            }
        }
    }
    if let Some(region) = &global.region {
        builder = builder.region(region);
    }
    if let Some(project) = &global.project_id {
        builder = builder.project_id(project);
    }
    if let Some(endpoint) = &global.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let Some(iam) = &global.iam_endpoint {
        builder = builder.iam_endpoint(iam);
    }
    // clap resolved HUAWEICLOUD_PROFILE into --profile: the library must not read it again (an entry of the
    // default chain renews as the default chain even where the variable is set).
    builder = builder.ignore_profile_variable();
    if let Some(profile) = &global.profile {
        builder = builder.profile(profile);
    }
    for agency in &global.agencies {
        builder = builder.agency(agency.to_agency().map_err(CliError::usage)?);
    }
    Ok(builder.timeout(timeout).build()?)
}

/// [`build_client`] for the service and identity an owner mark names (its endpoint, project, region, profile
/// and agencies), whatever the global options say: `prune` and `refresh` ask exactly where an entry came from.
pub fn build_client_for(
    global: &GlobalArgs,
    timeout: Duration,
    mark: &cce_autopilot_kubeconfig::managed::OwnerMark,
) -> anyhow::Result<Client> {
    let mut at = global.clone();
    at.endpoint = mark.endpoint.clone().or(at.endpoint);
    at.project_id = mark.project_id.clone().or(at.project_id);
    at.region = mark.region.clone().or(at.region);
    // As the identity the entry was written for: its profile and agencies, or the default chain.
    at.profile = mark.identity.as_ref().and_then(|i| i.profile.clone());
    at.agencies = mark
        .identity
        .as_ref()
        .map(|i| {
            i.agencies
                .iter()
                .map(crate::args::AgencyArg::from)
                .collect()
        })
        .unwrap_or_default();
    build_client(&at, timeout)
}

/// The IAM token of `--token-file`, else of `CCE_AUTOPILOT_TOKEN`, trimmed; `None` for AK/SK.
pub(crate) fn token(global: &GlobalArgs) -> anyhow::Result<Option<String>> {
    let token = match &global.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(format!(
                    "cannot read the token file {}: {e}",
                    path.display()
                ))
            })?;
            text.trim().to_owned()
        }
        None => match std::env::var(TOKEN_VAR) {
            Ok(value) if !value.trim().is_empty() => value.trim().to_owned(),
            _ => return Ok(None),
        },
    };
    if token.is_empty() {
        let source = global.token_file.as_ref().map_or_else(
            || TOKEN_VAR.to_owned(),
            |p| format!("the token file {}", p.display()),
        );
        return Err(CliError::usage(format!("{source} holds no token")).into());
    }
    Ok(Some(token))
}

/// Writes `contents` to `path` atomically, mode 0600, creating its directory (0700) when missing.
pub fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::ensure_private_dir(dir)
        .map_err(|e| CliError::file(format!("cannot create directory {}: {e}", dir.display())))?;
    fs::write_file_atomic(path, contents, fs::PRIVATE)
        .map_err(|e| CliError::file(format!("cannot write {}: {e}", path.display())).into())
}

/// Writes `text` to stdout. A closed pipe (`… | head`) is [`CliError::output_closed`] (exit 141, nothing
/// printed), never a panic as with `print!`.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

/// The error for a failed write to stdout: [`CliError::output_closed`] for a closed pipe.
pub fn stdout_error(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::output_closed().into()
    } else {
        CliError::file(format!("cannot write to stdout: {e}")).into()
    }
}

//! The official SDK's credential chain, whole and in its order (SDK 3.1.219,
//! `CredentialProviderChain.get_basic`): explicit credentials (the builder's business), then
//! 1. OIDC via STS (`HUAWEICLOUD_OIDC_*`, [`federation::OidcSts`]);
//! 2. the environment: a federated identity (`HUAWEICLOUD_SDK_IDP_ID` + `HUAWEICLOUD_SDK_ID_TOKEN_FILE`,
//!    [`federation::Federated`]) before `HUAWEICLOUD_SDK_AK`/`_SK`;
//! 3. the profile file's `[basic]`: `idp_id` + `id_token_file` before `ak`/`sk` ([`profile`]);
//! 4. the ECS metadata service, when enabled ([`metadata`]);
//! 5. pod identity (`HC_CONTAINER_CREDENTIALS_FULL_URI` + `HC_CONTAINER_AUTHORIZATION_TOKEN_FILE`).
//!
//! Sources 1–3 are chosen from configuration alone, when the client is built. Where the SDK is lax we are
//! not: a half-configured source (one variable of a pair) is an error naming what is missing, never a
//! silent fall-through to another identity. Metadata and pod identity are tried when a call first needs
//! credentials, in that order: the first that answers is kept. Temporary credentials are renewed at
//! min(40 minutes, half their lifetime) before expiry ([`temporary`]).

mod agency;
mod federation;
mod identity;
pub(crate) mod koocli;
mod metadata;
mod profile;
pub(crate) mod temporary;

pub(crate) use agency::AssumeAgency;
pub use agency::{Agency, AgencyDomain};
pub use identity::LocalIdentity;
pub(crate) use metadata::MetadataCredentials;
pub(crate) use profile::{PROFILE_SECTION, Profile};

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;
use url::Url;

use crate::credentials::{BoxFuture, Credentials, ProvideCredentials};
use crate::env::Environment;
use crate::{Error, Result};
use federation::{Federated, OidcSts, PodIdentity};
use temporary::TokenSource;
pub(crate) use temporary::{Renewing, SourceHttp};

/// Access-key variables, in the order they are read: the SDK's own, then the alias the vendor's samples use.
const ENV_AK: [&str; 2] = ["HUAWEICLOUD_SDK_AK", "CLOUD_SDK_AK"];
/// Secret-key variables, in the order they are read.
const ENV_SK: [&str; 2] = ["HUAWEICLOUD_SDK_SK", "CLOUD_SDK_SK"];
const ENV_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
pub(crate) const ENV_CREDENTIALS_FILE: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";
pub(super) const OIDC_PROVIDER: &str = "HUAWEICLOUD_OIDC_PROVIDER_URN";
pub(super) const OIDC_AGENCY: &str = "HUAWEICLOUD_OIDC_AGENCY_URN";
pub(super) const OIDC_TOKEN: &str = "HUAWEICLOUD_OIDC_ID_TOKEN";
pub(super) const OIDC_TOKEN_FILE: &str = "HUAWEICLOUD_OIDC_TOKEN_FILE";
const OIDC_OPTIONAL: [&str; 4] = [
    "HUAWEICLOUD_OIDC_SESSION_NAME",
    "HUAWEICLOUD_OIDC_DURATION_SECONDS",
    "HUAWEICLOUD_OIDC_POLICY",
    "HUAWEICLOUD_OIDC_POLICY_IDS",
];
pub(super) const ENV_IDP: &str = "HUAWEICLOUD_SDK_IDP_ID";
pub(super) const ENV_ID_TOKEN_FILE: &str = "HUAWEICLOUD_SDK_ID_TOKEN_FILE";
pub(super) const POD_URI: &str = "HC_CONTAINER_CREDENTIALS_FULL_URI";
pub(super) const POD_TOKEN_FILE: &str = "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE";

/// What the default chain is built from.
pub(crate) struct ChainConfig<'a> {
    pub(crate) env: &'a Environment,
    pub(crate) profile: Option<&'a Profile>,
    /// The ECS metadata service's base URL; `None`: the source is off.
    pub(crate) metadata: Option<Url>,
    /// The IAM endpoint of federated identities (builder, profile or variable, region, global).
    pub(crate) iam: Url,
    /// The STS endpoint of OIDC (variable, region's, default).
    pub(crate) sts: Url,
}

/// The IAM endpoint federated identities ask: the builder's (or `--iam-endpoint`), else the profile
/// file's `iam_endpoint`, else `HUAWEICLOUD_SDK_IAM_ENDPOINT`, else the region's, else the global one (the
/// SDK's order).
pub(crate) fn federation_iam(
    explicit: Option<&str>,
    region: Option<&str>,
    profile: Option<&Profile>,
    env: &Environment,
) -> Result<Url> {
    let explicit = explicit
        .map(|url| (url, "the builder's iam_endpoint"))
        .or_else(|| {
            profile
                .and_then(|p| p.iam_endpoint.as_deref())
                .map(|url| (url, "the profile file's iam_endpoint"))
        });
    crate::region::iam_endpoint(region.unwrap_or_default(), explicit, env)
}

/// What the chain will use, decided from configuration alone (no call, no HTTP client): both the chain
/// ([`default_chain`]) and the plugin cache's identity ([`LocalIdentity`]) follow it, so they cannot disagree.
#[derive(Debug)]
pub(crate) enum Plan {
    Oidc(OidcSts),
    Federated(Federated),
    Keys(Credentials),
    /// The sources asked at the first call, in order (metadata, pod identity), at least one of them.
    Probed {
        metadata: Option<Url>,
        pod: Option<PodIdentity>,
    },
    /// No source at all.
    Nothing,
}

/// The plan of `config` (see [`Plan`]). Every source is read first, so that a half-configured one is an error
/// even when an earlier source would have applied: what the user meant to use is never silently replaced
/// by another identity.
pub(crate) fn plan(config: &ChainConfig<'_>) -> Result<Plan> {
    let env = config.env;
    let oidc = oidc_from_env(env, &config.sts)?;
    let federated = federated_from_env(env, &config.iam)?;
    let keys = from_env(env)?;
    let (profile_federated, profile_keys) = match config.profile {
        Some(profile) => (
            federated_from_profile(profile, &config.iam)?,
            profile.credentials()?,
        ),
        None => (None, None),
    };
    let pod = pod_from_env(env)?;
    for check in [
        oidc.as_ref().map(OidcSts::check),
        federated.as_ref().map(Federated::check),
    ]
    .into_iter()
    .chain([
        profile_federated.as_ref().map(Federated::check),
        pod.as_ref().map(PodIdentity::check),
    ])
    .flatten()
    {
        check?;
    }
    if let Some(metadata) = &config.metadata {
        temporary::check_token_url(metadata, "the ECS metadata endpoint")?;
    }
    Ok(if let Some(oidc) = oidc {
        Plan::Oidc(oidc)
    } else if let Some(federated) = federated {
        Plan::Federated(federated)
    } else if let Some(credentials) = keys {
        Plan::Keys(credentials)
    } else if let Some(federated) = profile_federated {
        Plan::Federated(federated)
    } else if let Some(credentials) = profile_keys {
        Plan::Keys(credentials)
    } else if config.metadata.is_some() || pod.is_some() {
        Plan::Probed {
            metadata: config.metadata.clone(),
            pod,
        }
    } else {
        Plan::Nothing
    })
}

/// The default chain after explicit credentials (see the module docs).
pub(crate) fn default_chain(config: &ChainConfig<'_>) -> Result<Arc<dyn ProvideCredentials>> {
    let (metadata, pod) = match plan(config)? {
        Plan::Oidc(oidc) => return Ok(Arc::new(Renewing::new(oidc))),
        Plan::Federated(federated) => return Ok(Arc::new(Renewing::new(federated))),
        Plan::Keys(credentials) => return Ok(Arc::new(credentials)),
        Plan::Nothing => return Err(nothing_found(config)),
        Plan::Probed { metadata, pod } => (metadata, pod),
    };
    let mut steps = Vec::new();
    match metadata {
        Some(base) => steps.push(Step::Ask(
            "the ECS metadata service",
            Arc::new(MetadataCredentials::new(base)?),
        )),
        None => steps.push(Step::Skipped(
            "the ECS metadata service (disabled)".to_owned(),
        )),
    }
    match pod {
        Some(pod) => steps.push(Step::Ask("pod identity", Arc::new(Renewing::new(pod)))),
        None => steps.push(Step::Skipped(format!(
            "pod identity: {POD_URI} and {POD_TOKEN_FILE} are unset"
        ))),
    }
    Ok(Arc::new(Probed {
        steps,
        chosen: tokio::sync::OnceCell::new(),
        summary: tried_lines(config),
    }))
}

fn missing(source: &str, set: &[&str], unset: &[&str]) -> Error {
    Error::credentials(format!(
        "{source} is half-configured: {} set but {} unset; set the missing one(s), or unset the others so \
         that the next source of the chain applies",
        set.join(", "),
        unset.join(", ")
    ))
}

fn oidc_from_env(env: &Environment, sts: &Url) -> Result<Option<OidcSts>> {
    let required = [OIDC_PROVIDER, OIDC_AGENCY];
    let token_vars = [OIDC_TOKEN, OIDC_TOKEN_FILE];
    let all: Vec<&str> = required
        .iter()
        .chain(&token_vars)
        .chain(&OIDC_OPTIONAL)
        .copied()
        .collect();
    let set: Vec<&str> = all
        .iter()
        .copied()
        .filter(|v| env.get(v).is_some())
        .collect();
    if set.is_empty() {
        return Ok(None);
    }
    let mut unset: Vec<&str> = required
        .iter()
        .copied()
        .filter(|v| env.get(v).is_none())
        .collect();
    let token = match (env.get(OIDC_TOKEN), env.get(OIDC_TOKEN_FILE)) {
        (Some(token), _) => Some(TokenSource::Value(SecretString::from(token))),
        (None, Some(file)) => Some(TokenSource::File(PathBuf::from(file))),
        (None, None) => {
            unset.push("HUAWEICLOUD_OIDC_ID_TOKEN (or HUAWEICLOUD_OIDC_TOKEN_FILE)");
            None
        }
    };
    let (Some(provider_urn), Some(agency_urn), Some(token)) =
        (env.get(OIDC_PROVIDER), env.get(OIDC_AGENCY), token)
    else {
        return Err(missing("OIDC via STS", &set, &unset));
    };
    let duration_secs = match env.get("HUAWEICLOUD_OIDC_DURATION_SECONDS") {
        None => 3600,
        Some(text) => text.trim().parse::<u64>().ok().filter(|s| (900..=43_200).contains(s)).ok_or_else(|| {
            Error::credentials(format!(
                "HUAWEICLOUD_OIDC_DURATION_SECONDS is {text:?}: it must be a number of seconds from 900 to 43200"
            ))
        })?,
    };
    Ok(Some(OidcSts {
        sts: sts.clone(),
        provider_urn,
        agency_urn,
        session_name: env
            .get("HUAWEICLOUD_OIDC_SESSION_NAME")
            .unwrap_or_else(|| "oidc-sts-session".to_owned()),
        duration_secs,
        policy: env.get("HUAWEICLOUD_OIDC_POLICY"),
        policy_ids: env
            .get("HUAWEICLOUD_OIDC_POLICY_IDS")
            .map(|ids| {
                ids.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        token,
        http: SourceHttp::new("OIDC via STS (assume-with-oidc)", true),
    }))
}

/// A pair of variables that go together: both, neither, or an error naming the missing one.
pub(super) fn pair(
    env: &Environment,
    source: &str,
    a: &str,
    b: &str,
) -> Result<Option<(String, String)>> {
    match (env.get(a), env.get(b)) {
        (Some(x), Some(y)) => Ok(Some((x, y))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(missing(source, &[a], &[b])),
        (None, Some(_)) => Err(missing(source, &[b], &[a])),
    }
}

fn federated_from_env(env: &Environment, iam: &Url) -> Result<Option<Federated>> {
    let Some((idp_id, file)) = pair(env, "the federated identity", ENV_IDP, ENV_ID_TOKEN_FILE)?
    else {
        return Ok(None);
    };
    Ok(Some(Federated {
        iam: iam.clone(),
        idp_id,
        token: TokenSource::File(PathBuf::from(file)),
        source: "env-idp",
        http: SourceHttp::new("federated identity (IAM id-token)", true),
    }))
}

fn federated_from_profile(profile: &Profile, iam: &Url) -> Result<Option<Federated>> {
    let path = profile.path().display();
    match (&profile.idp_id, &profile.id_token_file) {
        (Some(idp_id), Some(file)) => Ok(Some(Federated {
            iam: iam.clone(),
            idp_id: idp_id.clone(),
            token: TokenSource::File(PathBuf::from(file)),
            source: "profile-idp",
            http: SourceHttp::new("federated identity (IAM id-token)", true),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::credentials(format!(
            "the profile file {path} has `idp_id` but no `id_token_file` in its [{PROFILE_SECTION}] section"
        ))),
        (None, Some(_)) => Err(Error::credentials(format!(
            "the profile file {path} has `id_token_file` but no `idp_id` in its [{PROFILE_SECTION}] section"
        ))),
    }
}

fn pod_from_env(env: &Environment) -> Result<Option<PodIdentity>> {
    let Some((uri, file)) = pair(env, "pod identity", POD_URI, POD_TOKEN_FILE)? else {
        return Ok(None);
    };
    Ok(Some(PodIdentity {
        uri: crate::region::endpoint_url(&uri, POD_URI)?,
        token: TokenSource::File(PathBuf::from(file)),
        // The agent is local to the node: never through a proxy.
        http: SourceHttp::new("pod identity", false),
    }))
}

/// One of the sources asked at run time: asked, or skipped (off, or not configured) with the reason.
#[derive(Debug)]
enum Step {
    Ask(&'static str, Arc<dyn ProvideCredentials>),
    Skipped(String),
}

/// The sources asked at run time (metadata, pod identity), in order: the first that answers is kept; when
/// none does, the error says, one line each, what was tried and why it did not apply.
#[derive(Debug)]
struct Probed {
    steps: Vec<Step>,
    chosen: tokio::sync::OnceCell<Arc<dyn ProvideCredentials>>,
    /// Why the sources chosen from configuration did not apply.
    summary: Vec<String>,
}

impl ProvideCredentials for Probed {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            // One probe at a time: concurrent first calls wait for it and share its choice.
            let mut probed = None;
            let chosen = self
                .chosen
                .get_or_try_init(|| async {
                    let mut why = self.summary.clone();
                    for step in &self.steps {
                        match step {
                            Step::Skipped(reason) => why.push(reason.clone()),
                            Step::Ask(name, source) => match source.provide_credentials().await {
                                Ok(credentials) => {
                                    probed = Some(credentials);
                                    return Ok(source.clone());
                                }
                                Err(error) => why.push(format!("{name}: {error}")),
                            },
                        }
                    }
                    Err(Error::credentials(format!(
                        "no credentials found; tried, in the official SDK's order:\n  - {}",
                        why.join("\n  - ")
                    )))
                })
                .await?;
            match probed {
                // This call made the probe: its credentials are the ones just fetched.
                Some(credentials) => Ok(credentials),
                None => chosen.provide_credentials().await,
            }
        })
    }

    fn expired(&self, rejected: &Credentials) -> BoxFuture<'_, ()> {
        let rejected = rejected.clone();
        Box::pin(async move {
            if let Some(chosen) = self.chosen.get() {
                chosen.expired(&rejected).await;
            }
        })
    }

    fn refused(&self, rejected: &Credentials) -> BoxFuture<'_, ()> {
        let rejected = rejected.clone();
        Box::pin(async move {
            if let Some(chosen) = self.chosen.get() {
                chosen.refused(&rejected).await;
            }
        })
    }
}

/// Why each source chosen from configuration did not apply, one line each.
fn tried_lines(config: &ChainConfig<'_>) -> Vec<String> {
    let env = config.env;
    let profile_line = match (config.profile, Profile::location(env)) {
        (Some(profile), _) => format!(
            "the profile file {}: no idp_id/id_token_file and no ak/sk in its [{PROFILE_SECTION}] section",
            profile.path().display()
        ),
        (None, Some((path, true))) => format!(
            "the profile file {} named by {ENV_CREDENTIALS_FILE} (not found)",
            path.display()
        ),
        (None, Some((path, false))) => format!("the profile file {} (not found)", path.display()),
        (None, None) => format!(
            "the profile file: not looked for ({ENV_CREDENTIALS_FILE} is unset and there is no home directory)"
        ),
    };
    vec![
        format!("OIDC via STS: {OIDC_PROVIDER}, {OIDC_AGENCY} and {OIDC_TOKEN_FILE} are unset"),
        format!(
            "the environment: {ENV_IDP}/{ENV_ID_TOKEN_FILE}, {}/{} and {}/{} are unset",
            ENV_AK[0], ENV_SK[0], ENV_AK[1], ENV_SK[1]
        ),
        profile_line,
    ]
}
/// The first of `names` that is set, with its value.
fn first_var(env: &Environment, names: &[&'static str]) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|name| env.get(name).map(|value| (*name, value)))
}

/// Credentials from `HUAWEICLOUD_SDK_AK`/`_SK`/`_SECURITY_TOKEN` (or `CLOUD_SDK_AK`/`_SK`).
pub(super) fn from_env(env: &Environment) -> Result<Option<Credentials>> {
    let token = env.get(ENV_SECURITY_TOKEN);
    match (first_var(env, &ENV_AK), first_var(env, &ENV_SK)) {
        (Some((_, ak)), Some((_, sk))) => {
            let credentials = Credentials::new(ak, sk).with_source("env");
            Ok(Some(match token {
                Some(token) => credentials.with_security_token(token),
                None => credentials,
            }))
        }
        (Some((name, _)), None) => Err(Error::credentials(format!(
            "the environment sets the access key {name} but no secret key: set {} (or {}) too, or unset {name}",
            ENV_SK[0], ENV_SK[1]
        ))),
        (None, Some((name, _))) => Err(Error::credentials(format!(
            "the environment sets the secret key {name} but no access key: set {} (or {}) too, or unset {name}",
            ENV_AK[0], ENV_AK[1]
        ))),
        (None, None) if token.is_some() => Err(Error::credentials(format!(
            "the environment sets {ENV_SECURITY_TOKEN} but no access key or secret key: temporary credentials \
             need {} and {} as well, or unset {ENV_SECURITY_TOKEN}",
            ENV_AK[0], ENV_SK[0]
        ))),
        (None, None) => Ok(None),
    }
}

/// The one error for "no credentials anywhere" when no source is probed at run time: every place looked
/// at, one line each, and how to fix it.
fn nothing_found(config: &ChainConfig<'_>) -> Error {
    let mut lines = tried_lines(config);
    lines.push("the ECS metadata service (disabled)".to_owned());
    lines.push(format!(
        "pod identity: {POD_URI} and {POD_TOKEN_FILE} are unset"
    ));
    let file_hint = Profile::location(config.env).map_or_else(
        || format!("a profile file named by {ENV_CREDENTIALS_FILE}"),
        |(p, _)| p.display().to_string(),
    );
    Error::credentials(format!(
        "no credentials found; looked at, in the official SDK's order (after the builder's own credentials or \
         token, none given):\n  - {}\nTo fix: export {ak0} and {sk0}, or write `ak = …` and `sk = …` under \
         [{PROFILE_SECTION}] in {file_hint}, or configure a workload identity (OIDC, a federated identity \
         provider, pod identity), or pass credentials to the client builder (on a Huawei Cloud server, enable \
         the ECS metadata source)",
        lines.join("\n  - "),
        ak0 = ENV_AK[0],
        sk0 = ENV_SK[0],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_reads_both_names_and_rejects_half_pairs() {
        let env = Environment::empty()
            .var("CLOUD_SDK_AK", "A")
            .var("CLOUD_SDK_SK", "S");
        let c = from_env(&env).unwrap().unwrap();
        assert_eq!((c.access_key(), c.source()), ("A", "env"));
        let env = Environment::empty().var("HUAWEICLOUD_SDK_AK", "A");
        let err = from_env(&env).unwrap_err().to_string();
        assert!(
            err.contains("HUAWEICLOUD_SDK_AK") && err.contains("HUAWEICLOUD_SDK_SK"),
            "{err}"
        );
        let env = Environment::empty().var("HUAWEICLOUD_SDK_SECURITY_TOKEN", "T");
        assert!(from_env(&env).is_err());
        assert!(from_env(&Environment::empty()).unwrap().is_none());
    }
}

//! The official SDKs' credential chain: explicit → environment → profile file → ECS metadata.
//!
//! Explicit credentials are the builder's business; this module holds the rest: the environment here, the
//! profile file in [`profile`], the metadata service in [`metadata`]. The environment and the profile file
//! are read once, when the client is built; the ECS metadata service is asked when a call needs
//! credentials, and its temporary credentials are cached until fewer than 40 minutes of validity remain.

mod metadata;
mod profile;

pub(crate) use metadata::MetadataCredentials;
pub(crate) use profile::{PROFILE_SECTION, Profile};

use std::sync::Arc;

use url::Url;

use crate::credentials::{Credentials, ProvideCredentials};
use crate::env::Environment;
use crate::{Error, Result};

/// Access-key variables, in the order they are read: the SDK's own, then the alias the vendor's samples use.
const ENV_AK: [&str; 2] = ["HUAWEICLOUD_SDK_AK", "CLOUD_SDK_AK"];
/// Secret-key variables, in the order they are read.
const ENV_SK: [&str; 2] = ["HUAWEICLOUD_SDK_SK", "CLOUD_SDK_SK"];
const ENV_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
pub(crate) const ENV_CREDENTIALS_FILE: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";

/// The default chain after explicit credentials: environment, then `profile` (the file read by
/// [`Profile::load`]), then — only when `metadata` is set — the ECS metadata service at that base URL.
pub(crate) fn default_chain(
    env: &Environment,
    profile: Option<&Profile>,
    metadata: Option<Url>,
) -> Result<Arc<dyn ProvideCredentials>> {
    if let Some(credentials) = from_env(env)? {
        return Ok(Arc::new(credentials));
    }
    if let Some(credentials) = profile.map(Profile::credentials).transpose()?.flatten() {
        return Ok(Arc::new(credentials));
    }
    match metadata {
        Some(base) => Ok(Arc::new(MetadataCredentials::new(base)?)),
        None => Err(nothing_found(env, profile)),
    }
}

/// Who the default chain signs as and for which project, read from the environment and the profile file
/// alone — no client, no network: enough to key a cache by identity before deciding whether a call is
/// needed. `None` when neither holds a key pair (the chain would go on to the ECS metadata service).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalIdentity {
    /// The access key id (never the secret key).
    pub access_key: String,
    /// The project id configured beside it (`HUAWEICLOUD_SDK_PROJECT_ID`, else the profile file's).
    pub project_id: Option<String>,
}

impl LocalIdentity {
    /// The identity of `env` (see the type's docs).
    pub fn from_env(env: &Environment) -> Result<Option<Self>> {
        let profile = Profile::load(env)?;
        let project_id = env
            .get("HUAWEICLOUD_SDK_PROJECT_ID")
            .or_else(|| profile.as_ref().and_then(|p| p.project_id.clone()));
        let credentials = match from_env(env)? {
            Some(credentials) => Some(credentials),
            None => profile
                .as_ref()
                .map(Profile::credentials)
                .transpose()?
                .flatten(),
        };
        Ok(credentials.map(|c| LocalIdentity {
            access_key: c.access_key().to_owned(),
            project_id,
        }))
    }
}

/// The first of `names` that is set, with its value.
fn first_var(env: &Environment, names: &[&'static str]) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|name| env.get(name).map(|value| (*name, value)))
}

/// Credentials from `HUAWEICLOUD_SDK_AK`/`_SK`/`_SECURITY_TOKEN` (or `CLOUD_SDK_AK`/`_SK`).
fn from_env(env: &Environment) -> Result<Option<Credentials>> {
    let token = env.get(ENV_SECURITY_TOKEN);
    match (first_var(env, &ENV_AK), first_var(env, &ENV_SK)) {
        (Some((_, ak)), Some((_, sk))) => {
            let credentials = Credentials::new(ak, sk).with_source("environment");
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

/// The one error for "no credentials anywhere": every place looked at, and how to fix it.
fn nothing_found(env: &Environment, profile: Option<&Profile>) -> Error {
    let (path, from_var) = match Profile::location(env) {
        Some((path, from_var)) => (Some(path), from_var),
        None => (None, false),
    };
    let profile_status = match (profile, &path) {
        (Some(profile), _) => format!(
            "the profile file {} (no ak/sk in its [{PROFILE_SECTION}] section)",
            profile.path().display()
        ),
        (None, Some(path)) if from_var => format!(
            "the profile file {} named by {ENV_CREDENTIALS_FILE} (not found)",
            path.display()
        ),
        (None, Some(path)) => format!("the profile file {} (not found)", path.display()),
        (None, None) => format!(
            "the profile file (not looked for: {ENV_CREDENTIALS_FILE} is unset and there is no home directory)"
        ),
    };
    let file_hint = path.map_or_else(
        || format!("a profile file named by {ENV_CREDENTIALS_FILE}"),
        |p| p.display().to_string(),
    );
    Error::credentials(format!(
        "no credentials found; looked at: the builder (no credentials or token given), the environment \
         ({ak0}/{sk0} and {ak1}/{sk1} are unset), {profile_status}, and the ECS metadata service (disabled). \
         To fix: export {ak0} and {sk0}, or write `ak = …` and `sk = …` under [{PROFILE_SECTION}] in {file_hint}, \
         or pass credentials to the client builder (on a Huawei Cloud server, enable the ECS metadata source)",
        ak0 = ENV_AK[0],
        sk0 = ENV_SK[0],
        ak1 = ENV_AK[1],
        sk1 = ENV_SK[1],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_identity_is_the_chain_s_without_a_client() {
        let env = Environment::empty()
            .var("HUAWEICLOUD_SDK_AK", "AK1")
            .var("HUAWEICLOUD_SDK_SK", "SK1")
            .var("HUAWEICLOUD_SDK_PROJECT_ID", "p1");
        let id = LocalIdentity::from_env(&env).unwrap().unwrap();
        assert_eq!(
            (id.access_key.as_str(), id.project_id.as_deref()),
            ("AK1", Some("p1"))
        );
        assert_eq!(
            LocalIdentity::from_env(&Environment::empty()).unwrap(),
            None
        );
        let half = Environment::empty().var("HUAWEICLOUD_SDK_AK", "AK1");
        assert!(LocalIdentity::from_env(&half).is_err());
    }

    #[test]
    fn env_reads_both_names_and_rejects_half_pairs() {
        let env = Environment::empty()
            .var("CLOUD_SDK_AK", "A")
            .var("CLOUD_SDK_SK", "S");
        let c = from_env(&env).unwrap().unwrap();
        assert_eq!((c.access_key(), c.source()), ("A", "environment"));
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

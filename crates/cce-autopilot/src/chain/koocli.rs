//! Named profiles of KooCLI (`hcloud`), the vendor's command-line tool: `~/.hcloud/config.json` (or
//! `HUAWEICLOUD_CONFIG_FILE`), selected by name (`ClientBuilder::profile`, else `HUAWEICLOUD_PROFILE`);
//! nothing of the file is read unless a profile is selected. Modes, as Terraform's Huawei provider reads
//! them: `AKSK` (keys, with `securityToken` for temporary ones), `ecsAgency` (the ECS metadata service),
//! `SSO` (`ssoAuth.stsToken`, which carries no expiry: used until the gateway refuses it) and `AssumeRole`
//! (the profile's keys assume `agencyName` in `agencyDomainId` or `agencyDomainName`). A profile's region
//! and project lose to the builder's and to `HUAWEICLOUD_SDK_REGION` / `HUAWEICLOUD_SDK_PROJECT_ID`.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use super::{Agency, MetadataCredentials};
use crate::credentials::{Credentials, ProvideCredentials};
use crate::env::Environment;
use crate::{Error, Result};

/// The variable naming the profile when the builder names none.
pub(crate) const PROFILE_VAR: &str = "HUAWEICLOUD_PROFILE";
/// The variable naming another KooCLI config file.
const CONFIG_VAR: &str = "HUAWEICLOUD_CONFIG_FILE";
/// Where the metadata service of an `ecsAgency` profile answers unless the builder says otherwise.
const METADATA: &str = "http://169.254.169.254";

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    profiles: Vec<KooProfile>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct KooProfile {
    name: String,
    mode: String,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    security_token: Option<String>,
    region: Option<String>,
    project_id: Option<String>,
    agency_name: Option<String>,
    agency_domain_id: Option<String>,
    agency_domain_name: Option<String>,
    sso_auth: Option<SsoAuth>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SsoAuth {
    sts_token: Option<StsToken>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StsToken {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    security_token: Option<String>,
}

/// What a selected profile gives the client.
pub(crate) struct Selected {
    pub(crate) provider: Arc<dyn ProvideCredentials>,
    /// An `AssumeRole` profile's agency, assumed on top of its keys.
    pub(crate) agency: Option<Agency>,
    pub(crate) region: Option<String>,
    pub(crate) project_id: Option<String>,
}

/// The config file and its profile `name`, or an error naming the file and what is wrong.
fn load(name: &str, env: &Environment) -> Result<(PathBuf, KooProfile)> {
    let path = match env.get(CONFIG_VAR) {
        Some(path) => PathBuf::from(path),
        None => env
            .home_dir()
            .map(|home| home.join(".hcloud").join("config.json"))
            .ok_or_else(|| {
                Error::config(format!(
                    "profile {name:?}: no home directory to find KooCLI's config.json in; set {CONFIG_VAR}"
                ))
            })?,
    };
    let shown = path.display();
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Config {
        message: format!("profile {name:?}: cannot read KooCLI's config file {shown}"),
        source: Some(Box::new(e)),
    })?;
    let file: ConfigFile = serde_json::from_str(&text).map_err(|e| {
        Error::config(format!(
            "profile {name:?}: KooCLI's config file {shown} is not valid JSON at line {}",
            e.line()
        ))
    })?;
    let names: Vec<String> = file.profiles.iter().map(|p| p.name.clone()).collect();
    let profile = file
        .profiles
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            Error::config(format!(
                "no profile {name:?} in KooCLI's config file {shown} (it has: {})",
                names.join(", ")
            ))
        })?;
    Ok((path, profile))
}

/// Who the profile `name` signs as, from its file alone and never a secret: the file, the name, the mode,
/// the access key id, the agency and its account, the metadata endpoint of `ecsAgency` — so that a changed
/// profile is another identity (the plugin cache keys by it).
pub(crate) fn identity_key(
    name: &str,
    env: &Environment,
    metadata: Option<&str>,
) -> Result<String> {
    let (path, p) = load(name, env)?;
    let ak = match p.mode.as_str() {
        "SSO" => p
            .sso_auth
            .as_ref()
            .and_then(|s| s.sts_token.as_ref())
            .and_then(|t| t.access_key_id.clone()),
        "ecsAgency" => Some(metadata.unwrap_or(METADATA).to_owned()),
        _ => p.access_key_id.clone(),
    };
    Ok(serde_json::json!([
        path.display().to_string(),
        p.name,
        p.mode,
        ak,
        p.agency_name,
        p.agency_domain_id,
        p.agency_domain_name
    ])
    .to_string())
}

/// The profile `name` of the KooCLI config file, or an error naming the file and what is wrong.
pub(crate) fn select(name: &str, env: &Environment, metadata: Option<Url>) -> Result<Selected> {
    let (path, owned) = load(name, env)?;
    let profile = &owned;
    let shown = path.display();
    let keys = |ak: &Option<String>, sk: &Option<String>, token: &Option<String>, source| {
        let (Some(ak), Some(sk)) = (ak.as_deref(), sk.as_deref()) else {
            return Err(Error::credentials(format!(
                "profile {name:?} ({}) in {shown} has no accessKeyId/secretAccessKey",
                profile.mode
            )));
        };
        // KooCLI encrypts the keys unless told not to; an encrypted one is not an access key (upper-case
        // letters and digits, some 20 of them) and cannot be read by other tools.
        let plain = (10..=64).contains(&ak.len())
            && ak
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !plain {
            return Err(Error::credentials(format!(
                "profile {name:?} in {shown} holds encrypted keys, which only KooCLI can read: run \
                 `hcloud configure set --cli-auth-encrypt=false` and configure the profile again"
            )));
        }
        let credentials = Credentials::new(ak, sk).with_source(source);
        Ok(match token.as_deref() {
            Some(token) => credentials.with_security_token(token),
            None => credentials,
        })
    };
    let mut agency = None;
    let provider: Arc<dyn ProvideCredentials> = match profile.mode.as_str() {
        "AKSK" => Arc::new(keys(
            &profile.access_key_id,
            &profile.secret_access_key,
            &profile.security_token,
            "koocli:AKSK",
        )?),
        "SSO" => {
            let sts = profile
                .sso_auth
                .as_ref()
                .and_then(|s| s.sts_token.as_ref())
                .ok_or_else(|| {
                    Error::credentials(format!(
                        "profile {name:?} (SSO) in {shown} has no ssoAuth.stsToken: run `hcloud configure sso`"
                    ))
                })?;
            Arc::new(keys(
                &sts.access_key_id,
                &sts.secret_access_key,
                &sts.security_token,
                "koocli:SSO",
            )?)
        }
        "ecsAgency" => {
            let base = match metadata {
                Some(url) => url,
                None => crate::builder::parse_url("metadata endpoint", METADATA)?,
            };
            Arc::new(MetadataCredentials::new(base)?)
        }
        "AssumeRole" => {
            let agency_name = profile.agency_name.clone().ok_or_else(|| {
                Error::credentials(format!(
                    "profile {name:?} (AssumeRole) in {shown} has no agencyName"
                ))
            })?;
            agency = Some(
                match (&profile.agency_domain_id, &profile.agency_domain_name) {
                    (Some(id), _) => Agency::in_domain_id(agency_name, id),
                    (None, Some(domain)) => Agency::in_domain_name(agency_name, domain),
                    (None, None) => {
                        return Err(Error::credentials(format!(
                            "profile {name:?} (AssumeRole) in {shown} has neither agencyDomainId nor agencyDomainName"
                        )));
                    }
                },
            );
            Arc::new(keys(
                &profile.access_key_id,
                &profile.secret_access_key,
                &profile.security_token,
                "koocli:AssumeRole",
            )?)
        }
        other => {
            return Err(Error::credentials(format!(
                "profile {name:?} in {shown} has mode {other:?}: AKSK, ecsAgency, SSO and AssumeRole are supported"
            )));
        }
    };
    Ok(Selected {
        provider,
        agency,
        region: profile.region.clone(),
        project_id: profile.project_id.clone(),
    })
}

//! Who the default chain signs as, from local data alone — the environment, the profile file, token files —
//! with no client and no network: enough to key a cache by identity before deciding whether a call is needed
//! (the credential plugin's cache hit path).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{
    ENV_ID_TOKEN_FILE, ENV_IDP, OIDC_AGENCY, OIDC_PROVIDER, OIDC_TOKEN, OIDC_TOKEN_FILE,
    POD_TOKEN_FILE, POD_URI, Profile, from_env, pair,
};
use crate::Result;
use crate::env::Environment;

/// Who the default chain signs as, and the project configured beside it (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalIdentity {
    /// A stable name of the identity, never a secret: `ak:<access key>`;
    /// `oidc:<provider URN>|<agency URN>|<sub>`; `idp:<idp id>|<sub>`; `ecs-metadata:<endpoint>`;
    /// `pod:<URI>|<sub>`. `<sub>` is the ID token's subject, read without verifying the token (IAM or STS
    /// does that): temporary keys rotate, the subject stays.
    pub key: String,
    /// The access key id of long-term keys (never the secret key); `None` for temporary credentials.
    pub access_key: Option<String>,
    /// The project id configured beside it (`HUAWEICLOUD_SDK_PROJECT_ID`, else the profile file's).
    pub project_id: Option<String>,
}

impl LocalIdentity {
    /// The identity of the chain without the ECS metadata source (see [`LocalIdentity::of_chain`]).
    pub fn from_env(env: &Environment) -> Result<Option<Self>> {
        Self::of_chain(env, None)
    }

    /// The identity the default chain of `env` would sign as, the ECS metadata service at `metadata` (when
    /// enabled) included; `None` when it cannot be told from local data (no source, or an unreadable
    /// token: the call then says why). A half-configured source is the chain's error.
    pub fn of_chain(env: &Environment, metadata: Option<&str>) -> Result<Option<Self>> {
        let profile = Profile::load(env)?;
        let project_id = env
            .get("HUAWEICLOUD_SDK_PROJECT_ID")
            .or_else(|| profile.as_ref().and_then(|p| p.project_id.clone()));
        let identity = |key: Option<String>, access_key: Option<String>| {
            Ok(key.map(|key| LocalIdentity {
                key,
                access_key,
                project_id: project_id.clone(),
            }))
        };
        let (provider, agency) = (env.get(OIDC_PROVIDER), env.get(OIDC_AGENCY));
        if provider.is_some() || agency.is_some() {
            let token = match (env.get(OIDC_TOKEN), env.get(OIDC_TOKEN_FILE)) {
                (Some(token), _) => Some(token),
                (None, Some(file)) => read(Path::new(&file)),
                (None, None) => None,
            };
            let key = match (provider, agency, token.as_deref().and_then(subject)) {
                (Some(p), Some(a), Some(sub)) => Some(format!("oidc:{p}|{a}|{sub}")),
                _ => None,
            };
            return identity(key, None);
        }
        if let Some((idp, file)) = pair(env, "the federated identity", ENV_IDP, ENV_ID_TOKEN_FILE)?
        {
            return identity(federated(&idp, Path::new(&file)), None);
        }
        if let Some(credentials) = from_env(env)? {
            let ak = credentials.access_key().to_owned();
            return identity(Some(format!("ak:{ak}")), Some(ak));
        }
        if let Some(profile) = &profile {
            if let (Some(idp), Some(file)) = (&profile.idp_id, &profile.id_token_file) {
                return identity(federated(idp, Path::new(file)), None);
            }
            if let Some(credentials) = profile.credentials()? {
                let ak = credentials.access_key().to_owned();
                return identity(Some(format!("ak:{ak}")), Some(ak));
            }
        }
        if let Some(endpoint) = metadata {
            return identity(Some(format!("ecs-metadata:{endpoint}")), None);
        }
        if let Some((uri, file)) = pair(env, "pod identity", POD_URI, POD_TOKEN_FILE)? {
            let key = read(Path::new(&file))
                .as_deref()
                .and_then(subject)
                .map(|sub| format!("pod:{uri}|{sub}"));
            return identity(key, None);
        }
        Ok(None)
    }
}

fn federated(idp: &str, file: &Path) -> Option<String> {
    read(file)
        .as_deref()
        .and_then(subject)
        .map(|sub| format!("idp:{idp}|{sub}"))
}

/// A token file's contents, trimmed; `None` when it cannot be read.
fn read(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The `sub` claim of a JWT, read without verifying it; `None` when it is not a JWT with a text `sub`.
fn subject(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let sub = claims.get("sub")?.as_str()?;
    // A subject is a name, not a place for separators or control characters of our keys.
    Some(
        sub.chars()
            .filter(|c| !c.is_control() && *c != '|')
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn each_source_has_a_key_from_local_data_that_outlives_its_temporary_keys() {
        let dir = std::env::temp_dir().join(format!("cce-local-identity-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, jwt(r#"{"sub":"repo:x|y"}"#)).unwrap();
        let file = file.display().to_string();
        let cases = [
            (
                vec![("HUAWEICLOUD_SDK_AK", "AK1"), ("HUAWEICLOUD_SDK_SK", "SK1")],
                None,
                "ak:AK1",
            ),
            (
                vec![
                    (OIDC_PROVIDER, "p"),
                    (OIDC_AGENCY, "a"),
                    (OIDC_TOKEN_FILE, file.as_str()),
                ],
                None,
                "oidc:p|a|repo:xy",
            ),
            (
                vec![(ENV_IDP, "ci"), (ENV_ID_TOKEN_FILE, file.as_str())],
                None,
                "idp:ci|repo:xy",
            ),
            (
                vec![],
                Some("http://169.254.169.254"),
                "ecs-metadata:http://169.254.169.254",
            ),
            (
                vec![
                    (POD_URI, "http://127.0.0.1:1/c"),
                    (POD_TOKEN_FILE, file.as_str()),
                ],
                None,
                "pod:http://127.0.0.1:1/c|repo:xy",
            ),
        ];
        for (vars, metadata, key) in cases {
            let env = vars
                .iter()
                .fold(Environment::empty(), |e, (k, v)| e.var(*k, *v));
            let id = LocalIdentity::of_chain(&env, metadata).unwrap().unwrap();
            assert_eq!(id.key, key);
        }
        assert_eq!(
            LocalIdentity::from_env(&Environment::empty()).unwrap(),
            None
        );
        let half = Environment::empty().var("HUAWEICLOUD_SDK_AK", "AK1");
        assert!(LocalIdentity::from_env(&half).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

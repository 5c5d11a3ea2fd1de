//! Who the default chain signs as, from local data alone — the environment, the profile file, token files —
//! with no client and no network: enough to key a cache by identity before deciding whether a call is needed
//! (the credential plugin's cache hit path). It follows the chain's own [`Plan`], so the two cannot
//! disagree: a configuration the chain refuses is refused here too.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use url::Url;

use super::temporary::TokenSource;
use super::{ChainConfig, Plan, Profile, federation_iam, plan};
use crate::Result;
use crate::env::Environment;

/// Who the default chain signs as, and the project configured beside it (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalIdentity {
    /// A stable name of the identity, never a secret: `ak:<access key>` for long-term keys; for temporary
    /// credentials, which rotate, what selects who they are issued to, as a JSON list after the source's
    /// name — `oidc:[sts, provider URN, agency URN, session, duration, policy, policy ids, sub]`,
    /// `idp:[iam, idp id, iss, sub]`, `probed:[metadata endpoint, machine id, pod URI, sub]`. `iss` and
    /// `sub` are the ID token's, read without verifying it (IAM or STS does that).
    pub key: String,
    /// The access key id of long-term keys (never the secret key); `None` for temporary credentials.
    pub access_key: Option<String>,
    /// The project id configured beside it (`HUAWEICLOUD_SDK_PROJECT_ID`, else the profile file's).
    pub project_id: Option<String>,
}

impl LocalIdentity {
    /// The identity of the chain with the region and IAM endpoint of `env` alone, and without the ECS
    /// metadata source (see [`LocalIdentity::of_chain`]).
    pub fn from_env(env: &Environment) -> Result<Option<Self>> {
        Self::of_chain(env, None, None, None)
    }

    /// The identity the default chain of `env` would sign as for `region`, with IAM at `iam_endpoint`
    /// (`None`: as the client finds it) and the ECS metadata service at `metadata` (`None`: off); `None` when
    /// it cannot be told from local data (no source, or an unreadable token: the call then says why). A
    /// configuration the chain refuses (a half-configured source) is the same error here.
    pub fn of_chain(
        env: &Environment,
        region: Option<&str>,
        iam_endpoint: Option<&str>,
        metadata: Option<&str>,
    ) -> Result<Option<Self>> {
        let profile = Profile::load(env)?;
        let project_id = env
            .get("HUAWEICLOUD_SDK_PROJECT_ID")
            .or_else(|| profile.as_ref().and_then(|p| p.project_id.clone()));
        let region = region
            .map(str::to_owned)
            .or_else(|| env.get("HUAWEICLOUD_SDK_REGION"));
        let config = ChainConfig {
            env,
            profile: profile.as_ref(),
            metadata: metadata
                .map(|url| crate::builder::parse_url("metadata endpoint", url))
                .transpose()?,
            iam: federation_iam(iam_endpoint, region.as_deref(), profile.as_ref(), env)?,
            sts: crate::region::sts_endpoint(region.as_deref(), env)?,
        };
        let named = |source: &str, parts: Value| Some(format!("{source}:{parts}"));
        let (key, access_key) = match plan(&config)? {
            Plan::Nothing => (None, None),
            Plan::Keys(credentials) => {
                let ak = credentials.access_key().to_owned();
                (Some(format!("ak:{ak}")), Some(ak))
            }
            Plan::Oidc(o) => {
                let sub = claims(&o.token).map(|(_, sub)| sub);
                let key = sub.and_then(|sub| {
                    named(
                        "oidc",
                        json!([
                            o.sts.as_str(),
                            o.provider_urn,
                            o.agency_urn,
                            o.session_name,
                            o.duration_secs,
                            o.policy,
                            o.policy_ids,
                            sub
                        ]),
                    )
                });
                (key, None)
            }
            Plan::Federated(f) => {
                let key = claims(&f.token).and_then(|(iss, sub)| {
                    named("idp", json!([f.iam.as_str(), f.idp_id, iss, sub]))
                });
                (key, None)
            }
            Plan::Probed { metadata, pod } => {
                let pod = match &pod {
                    Some(pod) => match claims(&pod.token) {
                        Some((_, sub)) => Some((pod.uri.as_str().to_owned(), sub)),
                        None => return Ok(None),
                    },
                    None => None,
                };
                let metadata = metadata.as_ref().map(Url::as_str);
                let key = named(
                    "probed",
                    json!([
                        metadata,
                        metadata.and(machine_id()),
                        pod.as_ref().map(|p| &p.0),
                        pod.as_ref().map(|p| &p.1)
                    ]),
                );
                (key, None)
            }
        };
        Ok(key.map(|key| LocalIdentity {
            key,
            access_key,
            project_id,
        }))
    }
}

impl LocalIdentity {
    /// Who the KooCLI profile `name` signs as (see [`LocalIdentity::key`]: `koocli:[file, name, mode, access
    /// key id, agency, account]`), from its file alone; an error when the file or the profile cannot be
    /// read. With `metadata`, the ECS metadata endpoint an `ecsAgency` profile asks.
    pub fn of_koocli_profile(
        env: &Environment,
        name: &str,
        metadata: Option<&str>,
    ) -> Result<Self> {
        Ok(LocalIdentity {
            key: format!(
                "koocli:{}",
                super::koocli::identity_key(name, env, metadata)?
            ),
            access_key: None,
            project_id: None,
        })
    }
}

/// The `iss` and `sub` claims of the token `source` holds, read without verifying it; `None` when it cannot
/// be read or is not a JWT with a text `sub`.
fn claims(source: &TokenSource) -> Option<(Option<String>, String)> {
    let token = source.read("ID token").ok()?;
    let payload = token.expose_secret().split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let sub = claims.get("sub")?.as_str()?.to_owned();
    let iss = claims.get("iss").and_then(Value::as_str).map(str::to_owned);
    Some((iss, sub))
}

/// This machine's id (systemd's, else D-Bus's), so that servers sharing a home directory do not share the
/// metadata service's cache entries; `None` where there is none.
fn machine_id() -> Option<String> {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let id = text.trim();
            (!id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| id.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{
        ENV_ID_TOKEN_FILE, ENV_IDP, OIDC_AGENCY, OIDC_PROVIDER, OIDC_TOKEN_FILE, POD_TOKEN_FILE,
        POD_URI,
    };

    fn jwt(claims: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn each_source_has_a_key_that_outlives_its_temporary_keys_and_separates_identities() {
        let dir = std::env::temp_dir().join(format!("cce-local-identity-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = |name: &str, claims: &str| {
            let file = dir.join(name);
            std::fs::write(&file, jwt(claims)).unwrap();
            file.display().to_string()
        };
        let a = token("a", r#"{"sub":"a|b","iss":"https://ci"}"#);
        let b = token("b", r#"{"sub":"ab","iss":"https://ci"}"#);
        let c = token("c", r#"{"sub":"a|b","iss":"https://other"}"#);
        let key = |vars: &[(&str, &str)], metadata: Option<&str>| {
            let env = vars
                .iter()
                .fold(Environment::empty(), |e, (k, v)| e.var(*k, *v));
            LocalIdentity::of_chain(&env, None, None, metadata)
                .unwrap()
                .map(|id| id.key)
        };
        assert_eq!(
            key(
                &[("HUAWEICLOUD_SDK_AK", "AK1"), ("HUAWEICLOUD_SDK_SK", "SK1")],
                None
            )
            .unwrap(),
            "ak:AK1"
        );
        let oidc = |file: &str, policy: &str| {
            let mut vars = vec![
                (OIDC_PROVIDER, "p"),
                (OIDC_AGENCY, "a"),
                (OIDC_TOKEN_FILE, file),
            ];
            if !policy.is_empty() {
                vars.push(("HUAWEICLOUD_OIDC_POLICY", policy));
            }
            key(&vars, None).unwrap()
        };
        assert!(oidc(&a, "").starts_with("oidc:"));
        // Subjects that differ only by a separator, issuers, and session policies all get their own key.
        assert_ne!(oidc(&a, ""), oidc(&b, ""));
        assert_ne!(oidc(&a, ""), oidc(&a, r#"{"Statement":[]}"#));
        let idp = |file: &str| key(&[(ENV_IDP, "ci"), (ENV_ID_TOKEN_FILE, file)], None).unwrap();
        assert_ne!(idp(&a), idp(&c));
        assert!(idp(&a).starts_with("idp:"));
        // Metadata alone, and metadata with pod identity: the pod's subject is part of the key.
        let metadata = key(&[], Some("http://169.254.169.254")).unwrap();
        assert!(metadata.starts_with("probed:"), "{metadata}");
        let pod = |file: &str| {
            key(
                &[(POD_URI, "http://127.0.0.1:1/c"), (POD_TOKEN_FILE, file)],
                Some("http://169.254.169.254"),
            )
            .unwrap()
        };
        assert_ne!(pod(&a), pod(&b));
        assert_ne!(pod(&a), metadata);
        assert_eq!(key(&[], None), None);
        // What the chain refuses is refused here too: a half-configured source beside valid keys.
        let half = Environment::empty()
            .var("HUAWEICLOUD_SDK_AK", "AK1")
            .var("HUAWEICLOUD_SDK_SK", "SK1")
            .var(OIDC_TOKEN_FILE, a.as_str());
        assert!(LocalIdentity::from_env(&half).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

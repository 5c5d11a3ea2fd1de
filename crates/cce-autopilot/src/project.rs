//! The project id: configured (builder, `HUAWEICLOUD_SDK_PROJECT_ID`, profile file), or looked up from IAM
//! for the region (`GET /v3/projects?name=<region>`) and cached for the life of the process.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use crate::fleet::ProjectList;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use url::Url;

use crate::chain::Profile;
use crate::credentials::{Credentials, ProvideCredentials};
use crate::env::Environment;
use crate::hooks::Shared;
use crate::mapping::{decode_error, endpoint_label, failure_error, request_id_of, service_error};
use crate::pipeline::{AuthMode, CallAuth, Outcome};
use crate::{Error, Result, region};

const ENV_PROJECT_ID: &str = "HUAWEICLOUD_SDK_PROJECT_ID";

/// Project ids found by IAM, per access key, region and IAM endpoint, for the life of the process (as the
/// official SDKs cache them per AK + region; the endpoint is part of the key so that two clouds never mix).
static CACHE: LazyLock<Mutex<HashMap<CacheKey, String>>> = LazyLock::new(Mutex::default);

type CacheKey = (String, String, String);

fn cached(key: &CacheKey) -> Option<String> {
    CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .cloned()
}

fn remember(key: CacheKey, project_id: String) {
    CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, project_id);
}

/// Resolves and caches the project id of a client.
#[derive(Debug)]
pub(crate) struct ProjectResolver {
    fixed: Option<String>,
    lookup: Option<IamLookup>,
    resolved: tokio::sync::OnceCell<String>,
    /// Why no project id can be had, said when one is needed (not every call needs one: `caller_identity`).
    unavailable: Option<String>,
}

/// What it takes to ask IAM for a region's project: the client's own pipeline (credentials, the clock the
/// gateway taught it, retries) and where IAM is.
#[derive(Debug)]
struct IamLookup {
    region: String,
    iam: Url,
    credentials: Arc<dyn ProvideCredentials>,
    shared: Arc<Shared>,
}

impl ProjectResolver {
    /// The project id comes from `explicit`, then `HUAWEICLOUD_SDK_PROJECT_ID`, then the profile file's
    /// `project_id`; else it is looked up from IAM for `region`, at `iam_endpoint` (the builder's), the profile
    /// file's `iam_endpoint`, `HUAWEICLOUD_SDK_IAM_ENDPOINT`, or the region's (see [`crate::region`]).
    pub(crate) fn new(
        explicit: Option<String>,
        region: Option<String>,
        iam_endpoint: Option<String>,
        profile: Option<&Profile>,
        env: &Environment,
        shared: Arc<Shared>,
    ) -> Result<Self> {
        let fixed = explicit
            .or_else(|| env.get(ENV_PROJECT_ID))
            .or_else(|| profile.and_then(|p| p.project_id.clone()));
        let without = |reason: String| ProjectResolver {
            fixed: None,
            lookup: None,
            resolved: tokio::sync::OnceCell::new(),
            unavailable: Some(reason),
        };
        if fixed.is_some() {
            return Ok(ProjectResolver {
                fixed,
                lookup: None,
                resolved: tokio::sync::OnceCell::new(),
                unavailable: None,
            });
        }
        let credentials = match &shared.auth {
            AuthMode::Signature(provider) => provider.clone(),
            AuthMode::Token(_) => {
                return Ok(without(format!(
                    "no project id: with token authentication it cannot be looked up from IAM; pass one with \
                     .project_id(..) or set {ENV_PROJECT_ID}"
                )));
            }
        };
        let Some(region) = region else {
            return Ok(without(format!(
                "no project id and no region to look it up for: pass a project id (.project_id(..), \
                 {ENV_PROJECT_ID}, or `project_id` in the profile file) or a region (.region(..) or \
                 HUAWEICLOUD_SDK_REGION)"
            )));
        };
        let profile_label = profile.map(|p| format!("the profile file {}", p.path().display()));
        let explicit_iam = match (&iam_endpoint, profile) {
            (Some(url), _) => Some((url.as_str(), "the builder's iam_endpoint")),
            (None, Some(profile)) => profile
                .iam_endpoint
                .as_deref()
                .zip(profile_label.as_deref()),
            (None, None) => None,
        };
        let iam = region::iam_endpoint(&region, explicit_iam, env)?;
        Ok(ProjectResolver {
            fixed: None,
            lookup: Some(IamLookup {
                region,
                iam,
                credentials,
                shared,
            }),
            resolved: tokio::sync::OnceCell::new(),
            unavailable: None,
        })
    }

    /// A resolver that answers `project_id`, asking nothing.
    pub(crate) fn fixed(project_id: String) -> Self {
        ProjectResolver {
            fixed: Some(project_id),
            lookup: None,
            resolved: tokio::sync::OnceCell::new(),
            unavailable: None,
        }
    }

    /// The project id, asking IAM on first use when it was not configured.
    pub(crate) async fn project_id(&self) -> Result<String> {
        if let Some(id) = &self.fixed {
            return Ok(id.clone());
        }
        let Some(lookup) = &self.lookup else {
            return Err(Error::config(
                self.unavailable
                    .clone()
                    .unwrap_or_else(|| "no project id configured".to_owned()),
            ));
        };
        self.resolved
            .get_or_try_init(|| lookup.resolve())
            .await
            .cloned()
    }
}

impl IamLookup {
    async fn resolve(&self) -> Result<String> {
        let credentials = self.credentials.provide_credentials().await?;
        crate::sign::check_credentials(&credentials)?;
        let key = (
            credentials.access_key().to_owned(),
            self.region.clone(),
            self.iam.as_str().to_owned(),
        );
        if let Some(id) = cached(&key) {
            return Ok(id);
        }
        let id = self.ask(credentials).await?;
        remember(key, id.clone());
        Ok(id)
    }

    async fn ask(&self, credentials: Credentials) -> Result<String> {
        let mut url = self.iam.clone();
        let path = format!("{}/v3/projects", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url.query_pairs_mut()
            .clear()
            .append_pair("name", &self.region);
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let access_key = credentials.access_key().to_owned();
        // Signed like any call, but without X-Project-Id: the project is what we are asking for.
        let auth = CallAuth::Signed {
            credentials,
            project_id: None,
            renewer: Some(self.credentials.clone()),
        };
        let mut outcome = Outcome::default();
        let response = self
            .shared
            .transport
            .send(request, &auth, "keystone_list_projects", &mut outcome)
            .await
            .map_err(|failure| failure_error(failure, &outcome, &self.iam))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // `send` read the body in full already.
        let body = response.bytes().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            tracing::warn!(
                status,
                iam = %endpoint_label(&self.iam),
                region = %self.region,
                "IAM refused the project lookup"
            );
            return Err(service_error(status, &headers, &body, outcome.attempts));
        }
        let request_id = request_id_of(&headers);
        let list: ProjectList = serde_json::from_slice(&body).map_err(|e| {
            decode_error(
                status,
                request_id.clone(),
                &format!("a project list (IAM at {})", endpoint_label(&self.iam)),
                &e,
            )
        })?;
        let trace = request_id.map_or_else(String::new, |id| format!(" (request id {id})"));
        let mut ids: Vec<String> = list.projects.into_iter().map(|p| p.id).collect();
        match ids.len() {
            1 => Ok(ids.remove(0)),
            0 => Err(Error::config(format!(
                "IAM at {} has no project named {:?} for access key {access_key}{trace}: check the region, or \
                 pass a project id (.project_id(..) or {ENV_PROJECT_ID})",
                endpoint_label(&self.iam),
                self.region,
            ))),
            n => Err(Error::config(format!(
                "IAM at {} has {n} projects named {:?} ({}){trace}: pass the one to use with .project_id(..) \
                 or {ENV_PROJECT_ID}",
                endpoint_label(&self.iam),
                self.region,
                ids.join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::pipeline::Transport;

    fn shared(auth: AuthMode) -> Arc<Shared> {
        Arc::new(Shared {
            auth,
            transport: Transport {
                http: crate::clients::HttpClients::single(reqwest::Client::new()),
                retry: crate::RetryConfig::disabled(),
                retry_statuses: true,
                attempt_timeout: None,
                user_agent: HeaderValue::from_static("test"),
                clock_offset: Arc::default(),
                backoff: Arc::default(),
            },
        })
    }

    fn signature() -> Arc<Shared> {
        shared(AuthMode::Signature(Arc::new(Credentials::new("AK", "SK"))))
    }

    #[tokio::test]
    async fn explicit_then_env() {
        let env = Environment::empty().var(ENV_PROJECT_ID, "from-env");
        let resolver =
            ProjectResolver::new(Some("explicit".into()), None, None, None, &env, signature())
                .unwrap();
        assert_eq!(resolver.project_id().await.unwrap(), "explicit");
        let resolver = ProjectResolver::new(None, None, None, None, &env, signature()).unwrap();
        assert_eq!(resolver.project_id().await.unwrap(), "from-env");
    }

    #[tokio::test]
    async fn token_auth_without_project_is_a_config_error_when_one_is_needed() {
        let auth = shared(AuthMode::Token(secrecy::SecretString::from("tok")));
        let resolver = ProjectResolver::new(
            None,
            Some("cn-north-4".into()),
            None,
            None,
            &Environment::empty(),
            auth,
        )
        .unwrap();
        let err = resolver.project_id().await.unwrap_err();
        assert!(matches!(err, Error::Config { .. }));
        assert!(err.to_string().contains("token authentication"), "{err}");
    }

    #[tokio::test]
    async fn no_region_and_no_project_is_a_config_error_when_one_is_needed() {
        let resolver =
            ProjectResolver::new(None, None, None, None, &Environment::empty(), signature())
                .unwrap();
        let err = resolver.project_id().await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("project id") && text.contains("region"),
            "{text}"
        );
    }
}

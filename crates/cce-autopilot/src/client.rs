//! [`Client`]: one per process, cheap to clone; each operation starts here.

use std::sync::{Arc, Mutex};

use crate::builder::ClientBuilder;
use crate::cert::ClusterCertRequest;
use crate::generated::Client as Generated;
use crate::hooks::{CALL, CallContext, Shared, lock};
use crate::pipeline::{AuthMode, CallAuth, Outcome};
use crate::project::ProjectResolver;
use crate::{Error, Result};

/// A client of the CCE Autopilot API. Cheap to clone; share one per process.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) generated: Generated,
    pub(crate) shared: Arc<Shared>,
    pub(crate) project: Arc<ProjectResolver>,
    pub(crate) endpoint: url::Url,
    /// STS, for [`Client::caller_identity`].
    pub(crate) sts: url::Url,
    /// The URNs of the agencies assumed, in order.
    pub(crate) agencies: Vec<String>,
    /// What [`Client::in_project`] and [`Client::projects`] need.
    pub(crate) fleet: Arc<crate::fleet::FleetBase>,
}

/// Ids go into the URL path as one segment each. Real ones are UUID-like; whatever cannot be a path segment
/// — empty, `.` or `..` (which would climb the path), white space, control characters, `/ ? # %` — is
/// refused before any request, naming the value. Other characters are sent percent-encoded.
pub fn check_id(what: &'static str, id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(what, "must not be empty"));
    }
    if id == "." || id == ".." {
        return Err(Error::invalid(
            what,
            format!("{id:?} is not an id: it would name another path of the API"),
        ));
    }
    if id.len() > 128 {
        return Err(Error::invalid(
            what,
            format!("is {} bytes long; at most 128", id.len()),
        ));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '%'))
    {
        return Err(Error::invalid(
            what,
            format!(
                "{:?} contains {bad:?}, which cannot be part of an id; check for a copy-and-paste slip",
                id.escape_debug().to_string()
            ),
        ));
    }
    Ok(())
}

impl Client {
    /// A builder with nothing set: values not set come from the process environment.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured entirely from the process environment and `~/.huaweicloud`, like the official SDKs.
    pub fn from_env() -> Result<Client> {
        Client::builder().build()
    }

    /// The base URL requests go to.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Starts a "get cluster certificate" call for `cluster_id`.
    pub fn cluster_cert(&self, cluster_id: impl Into<String>) -> ClusterCertRequest<'_> {
        ClusterCertRequest::new(self, cluster_id.into())
    }

    /// The project id this client uses, looked up from IAM on first use when it was not configured.
    pub async fn project_id(&self) -> Result<String> {
        self.project.project_id().await
    }

    /// The access key the next call will sign with, as the credential chain resolves it now; `None` with
    /// token authentication. Never the secret key. Useful to key caches by identity.
    pub async fn access_key_id(&self) -> Result<Option<String>> {
        match &self.shared.auth {
            AuthMode::Signature(provider) => Ok(Some(
                provider
                    .provide_credentials()
                    .await?
                    .access_key()
                    .to_owned(),
            )),
            AuthMode::Token(_) => Ok(None),
        }
    }

    /// How a call authenticates, resolved before it starts: signed with the chain's credentials (checked)
    /// or the token, with `X-Project-Id` when `project_id` is given.
    pub(crate) async fn call_auth(&self, project_id: Option<String>) -> Result<CallAuth> {
        Ok(match &self.shared.auth {
            AuthMode::Signature(provider) => {
                let credentials = provider.provide_credentials().await?;
                crate::sign::check_credentials(&credentials)?;
                CallAuth::Signed {
                    credentials,
                    project_id,
                    renewer: Some(provider.clone()),
                }
            }
            AuthMode::Token(token) => CallAuth::Token {
                token: token.clone(),
                project_id,
            },
        })
    }

    /// The authentication of a call to the service in the client's project, resolved before it starts.
    pub(crate) async fn call_context(&self) -> Result<CallContext> {
        let project_id = self.project.project_id().await?;
        check_id("project id", &project_id)?;
        let auth = self.call_auth(Some(project_id)).await?;
        Ok(CallContext {
            auth,
            outcome: Arc::new(Mutex::new(Outcome::default())),
        })
    }

    /// The project id of a call context (set by [`Client::call_context`]).
    pub(crate) fn project_of(ctx: &CallContext) -> &str {
        match &ctx.auth {
            CallAuth::Signed { project_id, .. } | CallAuth::Token { project_id, .. } => {
                project_id.as_deref().unwrap_or_default()
            }
            CallAuth::Unsigned(_) => "",
        }
    }

    /// Runs one generated operation in `ctx`, mapping its failure like every other call's; `what` names
    /// the answer for decoding errors ("a kubeconfig").
    pub(crate) async fn run<T, F>(&self, ctx: CallContext, what: &str, call: F) -> Result<T>
    where
        F: std::future::Future<
                Output = std::result::Result<
                    T,
                    progenitor_client::Error<cce_autopilot_model::ErrorBody>,
                >,
            >,
    {
        let outcome = ctx.outcome.clone();
        // KooCLI's SSO credentials carry no expiry: a refusal is the sign that they are stale.
        let sso = self.agencies.is_empty()
            && matches!(&ctx.auth, CallAuth::Signed { credentials, .. }
                if credentials.source() == "koocli:SSO");
        let result = CALL.scope(ctx, call).await;
        let outcome = std::mem::take(&mut *lock(&outcome));
        match result {
            Ok(value) => Ok(value),
            Err(e) => {
                let error =
                    crate::mapping::operation_error(e, &outcome, &self.endpoint, what).await;
                if sso && error.status() == Some(401) {
                    return Err(Error::credentials(format!(
                        "the SSO credentials of the KooCLI profile were refused (they carry no expiry, so they \
                         may have expired): run `hcloud configure sso` to renew them ({error})"
                    )));
                }
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, Environment};

    #[test]
    fn ids_are_checked_before_any_request() {
        assert!(check_id("cluster id", "3f0c9a1e-2b4d-4c6e-8f10-123456789abc").is_ok());
        assert!(
            check_id("cluster id", "ünï:1").is_ok(),
            "sent percent-encoded"
        );
        assert!(check_id("cluster id", "...").is_ok(), "not a dot segment");
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a b",
            "x?y",
            "a%2F",
            "tab\t",
            &"a".repeat(129),
        ] {
            let err = check_id("cluster id", bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidInput {
                        what: "cluster id",
                        ..
                    }
                ),
                "{bad:?}: {err}"
            );
        }
        let err = check_id("project id", "..").unwrap_err().to_string();
        assert!(
            err.contains("\"..\"") && err.contains("project id"),
            "{err}"
        );
    }

    #[test]
    fn endpoint_or_region_is_required() {
        let err = Client::builder()
            .environment(Environment::empty())
            .credentials(Credentials::new("AK", "SK"))
            .project_id("p")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("no endpoint"), "{err}");
        let err = Client::builder()
            .environment(Environment::empty())
            .endpoint("ftp://x")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("expected http(s)"), "{err}");
    }
}

//! Temporary credentials for an ID token: through STS (`HUAWEICLOUD_OIDC_*`: `assume-with-oidc`, for an
//! agency) or through IAM (an identity provider, `X-Idp-Id`: an unscoped token, then `securitytokens`), and
//! from a CCE pod's identity (the agent at `HC_CONTAINER_CREDENTIALS_FULL_URI`). Each reads its token again
//! at every renewal: projected tokens rotate. (The official SDK's OIDC provider reads its token once.)

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use url::Url;

use super::temporary::{Fetch, SourceHttp, TokenSource, check_token_url, parse_temporary};
use crate::credentials::{BoxFuture, Credentials};
use crate::pipeline::UnsignedCall;
use crate::{Error, Result};

/// Validity asked of IAM for federated credentials (the SDK's).
const FEDERATED_DURATION_SECS: u64 = 21_600;

/// OIDC through STS: `POST {sts}/v5/agencies/assume-with-oidc`, unsigned.
#[derive(Debug)]
pub(crate) struct OidcSts {
    pub(crate) sts: Url,
    pub(crate) provider_urn: String,
    pub(crate) agency_urn: String,
    pub(crate) session_name: String,
    pub(crate) duration_secs: u64,
    pub(crate) policy: Option<String>,
    pub(crate) policy_ids: Vec<String>,
    pub(crate) token: TokenSource,
    pub(crate) http: SourceHttp,
}

impl OidcSts {
    pub(crate) fn check(&self) -> Result<()> {
        check_token_url(&self.sts, "the STS endpoint")
    }
}

impl Fetch for OidcSts {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let token = self.token.read("OIDC ID token")?;
            let mut body = json!({
                "provider_urn": self.provider_urn,
                "agency_urn": self.agency_urn,
                "agency_session_name": self.session_name,
                "id_token": token.expose_secret(),
                "duration_seconds": self.duration_secs,
            });
            if let Some(policy) = &self.policy {
                body["policy"] = json!(policy);
            }
            if !self.policy_ids.is_empty() {
                body["policy_ids"] = json!(self.policy_ids);
            }
            let url = join(&self.sts, "v5/agencies/assume-with-oidc")?;
            let (_, answer) = self
                .http
                .post_json(url, &[], &body, &[&token], UnsignedCall::AssumeWithOidc)
                .await?;
            parse_temporary(&answer, "oidc-sts").map_err(|reason| self.http.failed(reason))
        })
    }
}

/// A federated identity through IAM: `POST {iam}/v3.0/OS-AUTH/id-token/tokens` (`X-Idp-Id`), then
/// `POST {iam}/v3.0/OS-CREDENTIAL/securitytokens` with method `token`; both unsigned.
#[derive(Debug)]
pub(crate) struct Federated {
    pub(crate) iam: Url,
    pub(crate) idp_id: String,
    pub(crate) token: TokenSource,
    /// `env-idp` or `profile-idp`, the credentials' source.
    pub(crate) source: &'static str,
    pub(crate) http: SourceHttp,
}

impl Federated {
    pub(crate) fn check(&self) -> Result<()> {
        check_token_url(&self.iam, "the IAM endpoint")
    }
}

impl Fetch for Federated {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let token = self.token.read("ID token")?;
            let idp = SecretString::from(self.idp_id.clone());
            let (headers, _) = self
                .http
                .post_json(
                    join(&self.iam, "v3.0/OS-AUTH/id-token/tokens")?,
                    &[("X-Idp-Id", &idp)],
                    &json!({"auth": {"id_token": {"id": token.expose_secret()}}}),
                    &[&token],
                    UnsignedCall::IdTokenTokens,
                )
                .await?;
            let subject = headers
                .get("X-Subject-Token")
                .and_then(|v| v.to_str().ok())
                .map(|v| SecretString::from(v.trim().to_owned()))
                .filter(|v| !v.expose_secret().is_empty())
                .ok_or_else(|| self.http.failed("IAM answered without an X-Subject-Token"))?;
            let body = json!({"auth": {"identity": {"methods": ["token"],
                "token": {"id": subject.expose_secret(), "duration_seconds": FEDERATED_DURATION_SECS}}}});
            let (_, answer) = self
                .http
                .post_json(
                    join(&self.iam, "v3.0/OS-CREDENTIAL/securitytokens")?,
                    &[],
                    &body,
                    &[&subject, &token],
                    UnsignedCall::SecurityTokensByToken,
                )
                .await?;
            parse_temporary(&answer, self.source).map_err(|reason| self.http.failed(reason))
        })
    }
}

/// A CCE pod's identity: `POST <HC_CONTAINER_CREDENTIALS_FULL_URI>` with the pod's token in
/// `Authorization` and `{}`.
#[derive(Debug)]
pub(crate) struct PodIdentity {
    pub(crate) uri: Url,
    pub(crate) token: TokenSource,
    pub(crate) http: SourceHttp,
}

impl PodIdentity {
    pub(crate) fn check(&self) -> Result<()> {
        check_token_url(&self.uri, "HC_CONTAINER_CREDENTIALS_FULL_URI")
    }
}

impl Fetch for PodIdentity {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let token = self.token.read("pod identity token")?;
            let (_, answer) = self
                .http
                .post_json(
                    self.uri.clone(),
                    &[("Authorization", &token)],
                    &json!({}),
                    &[],
                    UnsignedCall::PodIdentity,
                )
                .await?;
            parse_temporary(&answer, "pod-identity").map_err(|reason| self.http.failed(reason))
        })
    }
}

/// `base` joined with `path`, `base`'s own path kept (an endpoint may sit under a prefix).
pub(super) fn join(base: &Url, path: &str) -> Result<Url> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.join(path)
        .map_err(|e| Error::config(format!("invalid endpoint URL {base}: {e}")))
}

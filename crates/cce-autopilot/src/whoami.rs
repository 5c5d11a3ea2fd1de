//! Who the client signs as: STS `GET /v5/caller-identity`, signed like any call, with the credential
//! source that answered and the expiry of temporary credentials. Never a secret.

use std::time::SystemTime;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::Deserialize;

use crate::client::Client;
use crate::mapping::{decode_error, endpoint_label, failure_error, request_id_of, service_error};
use crate::pipeline::{AuthMode, CallAuth, Outcome};
use crate::{Error, Result};

/// The caller the service sees, and where the client's credentials came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallerIdentity {
    /// The credential source: `oidc-sts`, `env-idp`, `env`, `profile-idp`, `profile`, `metadata`,
    /// `pod-identity`, `explicit` (given to the builder), or `token` (an IAM token).
    pub source: String,
    /// The URNs of the agencies assumed, in order (empty without agencies).
    pub agencies: Vec<String>,
    /// The account (domain) id.
    pub account_id: String,
    /// `iam::<account>:user:<name>`, `sts::<account>:assumed-agency:<agency>/<session>`, ….
    pub principal_urn: String,
    /// The user id, or `<agency id>:<session>`.
    pub principal_id: String,
    /// When temporary credentials expire; `None` for long-term keys and tokens.
    pub expires_at: Option<SystemTime>,
}

#[derive(Deserialize)]
struct Answer {
    account_id: String,
    principal_urn: String,
    principal_id: String,
}

impl Client {
    /// Asks STS who this client's credentials are (`GET /v5/caller-identity` at the STS endpoint, see
    /// [`crate::ClientBuilder::sts_endpoint`]).
    pub async fn caller_identity(&self) -> Result<CallerIdentity> {
        let (auth, source, expires_at) = match &self.shared.auth {
            AuthMode::Signature(provider) => {
                let credentials = provider.provide_credentials().await?;
                crate::sign::check_credentials(&credentials)?;
                let source = credentials.source().to_owned();
                let expires_at = credentials.expires_at();
                let auth = CallAuth::Signed {
                    credentials,
                    project_id: None,
                    renewer: Some(provider.clone()),
                };
                (auth, source, expires_at)
            }
            AuthMode::Token(token) => (
                CallAuth::Token {
                    token: token.clone(),
                    project_id: None,
                },
                "token".to_owned(),
                None,
            ),
        };
        let mut url = self.sts.clone();
        let path = format!("{}/v5/caller-identity", url.path().trim_end_matches('/'));
        url.set_path(&path);
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut outcome = Outcome::default();
        let response = self
            .shared
            .transport
            .send(request, &auth, "get_caller_identity", &mut outcome)
            .await
            .map_err(|failure| failure_error(failure, &outcome, &self.sts))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(service_error(status, &headers, &body, outcome.attempts));
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| {
            decode_error(
                status,
                request_id_of(&headers),
                &format!("a caller identity (STS at {})", endpoint_label(&self.sts)),
                &e,
            )
        })?;
        for (what, value) in [
            ("account_id", &answer.account_id),
            ("principal_urn", &answer.principal_urn),
            ("principal_id", &answer.principal_id),
        ] {
            // Shown on terminals: printable text of a sane length only.
            if value.is_empty() || value.len() > 1024 || value.chars().any(char::is_control) {
                return Err(Error::config(format!(
                    "STS at {} answered a caller identity whose {what} is not printable text",
                    endpoint_label(&self.sts)
                )));
            }
        }
        Ok(CallerIdentity {
            source,
            agencies: self.agencies.clone(),
            account_id: answer.account_id,
            principal_urn: answer.principal_urn,
            principal_id: answer.principal_id,
            expires_at,
        })
    }
}

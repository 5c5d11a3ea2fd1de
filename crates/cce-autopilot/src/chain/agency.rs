//! Assuming an agency — a role in this or another account — with whatever credentials the chain found (or
//! the previous agency's: agencies chain, each assumed with the one before). In an account given by id,
//! STS v5 `POST /v5/agencies/assume` (the agency URN names the account); in one given by name, IAM v3
//! `POST /v3.0/OS-CREDENTIAL/securitytokens` with method `assume_role` (STS cannot name an account by name).
//! Both are signed as the caller; the temporary credentials renew like every temporary source.

use std::sync::Arc;

use serde_json::json;
use url::Url;

use super::federation::join;
use super::temporary::{Fetch, SourceHttp, parse_temporary};
use crate::credentials::{BoxFuture, Credentials, ProvideCredentials};
use crate::{Error, Result};

/// The account an agency is in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgencyDomain {
    /// By account (domain) id: assumed through STS.
    Id(String),
    /// By account (domain) name: assumed through IAM.
    Name(String),
}

/// An agency to assume ([`crate::ClientBuilder::agency`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Agency {
    /// The agency's name.
    pub name: String,
    /// Its account.
    pub domain: AgencyDomain,
    /// The validity asked for, in seconds (default 3600; STS allows 900–43200, at most 3600 when the caller's
    /// own credentials are temporary; IAM 900–86400).
    pub duration_secs: u32,
    /// The session name, which the principal id carries (`<agency id>:<session>`; default `cce-autopilot`).
    pub session_name: String,
}

impl Agency {
    /// The agency `name` in the account with this id (assumed through STS).
    pub fn in_domain_id(name: impl Into<String>, domain_id: impl Into<String>) -> Self {
        Self::new(name.into(), AgencyDomain::Id(domain_id.into()))
    }

    /// The agency `name` in the account with this name (assumed through IAM).
    pub fn in_domain_name(name: impl Into<String>, domain_name: impl Into<String>) -> Self {
        Self::new(name.into(), AgencyDomain::Name(domain_name.into()))
    }

    fn new(name: String, domain: AgencyDomain) -> Self {
        Agency {
            name,
            domain,
            duration_secs: 3600,
            session_name: "cce-autopilot".to_owned(),
        }
    }

    /// With this validity, in seconds.
    #[must_use]
    pub fn duration_secs(mut self, seconds: u32) -> Self {
        self.duration_secs = seconds;
        self
    }

    /// With this session name.
    #[must_use]
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = name.into();
        self
    }

    /// `iam::<account id>:agency:<name>`, or `iam::<account name>:agency:<name>` for an account by name.
    pub fn urn(&self) -> String {
        let domain = match &self.domain {
            AgencyDomain::Id(id) | AgencyDomain::Name(id) => id,
        };
        format!("iam::{domain}:agency:{}", self.name)
    }

    /// Checks the values as the services would, before any request.
    pub(crate) fn check(&self) -> Result<()> {
        let plain = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
        };
        if self.name.is_empty() || self.name.len() > 64 || !plain(&self.name) {
            return Err(Error::invalid(
                "agency",
                format!(
                    "{:?} is not an agency name (1 to 64 letters, digits or _+=,.@-)",
                    self.name
                ),
            ));
        }
        let (domain, range, session_ok) = match &self.domain {
            AgencyDomain::Id(id) => (
                id,
                900..=43_200,
                (2..=128).contains(&self.session_name.len()) && plain(&self.session_name),
            ),
            AgencyDomain::Name(name) => (
                name,
                900..=86_400,
                (5..=64).contains(&self.session_name.len())
                    && self
                        .session_name
                        .starts_with(|c: char| c.is_ascii_alphabetic())
                    && plain(&self.session_name),
            ),
        };
        if domain.is_empty() || domain.len() > 64 || !plain(domain) {
            return Err(Error::invalid(
                "agency domain",
                format!("{domain:?} is not an account id or name"),
            ));
        }
        if !range.contains(&self.duration_secs) {
            return Err(Error::invalid(
                "agency duration",
                format!(
                    "{} s is outside {}..={} s",
                    self.duration_secs,
                    range.start(),
                    range.end()
                ),
            ));
        }
        if !session_ok {
            return Err(Error::invalid(
                "agency session name",
                format!(
                    "{:?}: STS takes 2 to 128 letters, digits or _+=,.@-; IAM (an account by name) 5 to 64, a letter first",
                    self.session_name
                ),
            ));
        }
        Ok(())
    }
}

/// One agency, assumed with `base`'s credentials.
#[derive(Debug)]
pub(crate) struct AssumeAgency {
    pub(crate) agency: Agency,
    pub(crate) base: Arc<dyn ProvideCredentials>,
    pub(crate) sts: Url,
    pub(crate) iam: Url,
    pub(crate) http: SourceHttp,
}

impl Fetch for AssumeAgency {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let credentials = self.base.provide_credentials().await?;
            let source = credentials.source();
            let a = &self.agency;
            if matches!(a.domain, AgencyDomain::Id(_))
                && credentials.security_token().is_some()
                && a.duration_secs > 3600
            {
                return Err(Error::invalid(
                    "agency duration",
                    format!(
                        "{} s for agency {}: STS assumes an agency for at most 3600 s with temporary \
                         credentials (these come from {source})",
                        a.duration_secs, a.name
                    ),
                ));
            }
            let (url, body, operation) = match &a.domain {
                AgencyDomain::Id(_) => (
                    join(&self.sts, "v5/agencies/assume")?,
                    json!({"agency_urn": a.urn(), "agency_session_name": a.session_name,
                        "duration_seconds": a.duration_secs}),
                    "assume_agency",
                ),
                AgencyDomain::Name(domain) => (
                    join(&self.iam, "v3.0/OS-CREDENTIAL/securitytokens")?,
                    json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
                        "agency_name": a.name, "domain_name": domain, "duration_seconds": a.duration_secs,
                        "session_user": {"name": a.session_name}}}}}),
                    "create_temporary_access_key_by_agency",
                ),
            };
            let (_, answer) = self
                .http
                .post_signed(url, &body, credentials, self.base.clone(), operation)
                .await?;
            parse_temporary(&answer, source).map_err(|reason| self.http.failed(reason))
        })
    }
}

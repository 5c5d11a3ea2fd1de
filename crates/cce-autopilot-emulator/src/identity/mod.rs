//! The identity world: an account's users, identity providers and agencies, who may act as which agency, and
//! the principals that temporary credentials and certificates name. Read from an identity file
//! ([`file`]); without one, today's single-key world stays (the key names the caller).

pub(crate) mod file;
pub(crate) mod issue;
pub(crate) mod token;

use jsonwebtoken::jwk::JwkSet;
use sha2::{Digest as _, Sha256};

/// Who a request acts for: what `GET /v5/caller-identity` answers and the CN of the certificates issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    /// A key of the emulator without an identity file: the access key is the caller's name.
    Key(String),
    /// An IAM user with permanent keys.
    User { name: String, id: String },
    /// A session of an agency: assumed by a user, another agency's session, a federated user (ID token), an
    /// ECS server (metadata) or a pod (pod identity).
    Session {
        agency: String,
        agency_id: String,
        session: String,
    },
}

impl Principal {
    /// `principal_id`: the key, the user's id, or `<agency id>:<session name>`.
    pub(crate) fn id(&self) -> String {
        match self {
            Principal::Key(key) => key.clone(),
            Principal::User { id, .. } => id.clone(),
            Principal::Session {
                agency_id, session, ..
            } => format!("{agency_id}:{session}"),
        }
    }

    /// `principal_urn`: `iam::<account>:user:<name>` or `sts::<account>:assumed-agency:<agency>/<session>`.
    pub(crate) fn urn(&self, account_id: &str) -> String {
        match self {
            Principal::Key(key) => format!("iam::{account_id}:access-key:{key}"),
            Principal::User { name, .. } => format!("iam::{account_id}:user:{name}"),
            Principal::Session {
                agency, session, ..
            } => format!("sts::{account_id}:assumed-agency:{agency}/{session}"),
        }
    }
}

impl Principal {
    /// `assumed_agency.urn` of STS's AssumeAgency answer: `sts::<account>::assumed-agency:<agency>/<session>`
    /// (two colons, as the API reference and the SDK's model document it; `principal_urn` has one).
    pub(crate) fn assumed_urn(&self, account_id: &str) -> String {
        self.urn(account_id)
            .replacen(":assumed-agency:", "::assumed-agency:", 1)
    }
}

/// A stable 32-hex-digit id for a named thing of an account (users, agencies without a configured id).
pub(crate) fn derived_id(account_id: &str, kind: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{account_id}/{kind}/{name}"));
    hex::encode(&digest[..16])
}

/// Who an agency trusts to act as it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trust {
    /// Federated users of this identity provider (ID tokens).
    Idp(String),
    /// The holder of this permanent access key.
    AccessKey(String),
    /// This IAM user, with any of its keys.
    User(String),
    /// Sessions of this agency (chained agencies).
    Agency(String),
}

/// An IAM user and its permanent access keys.
#[derive(Debug)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) id: String,
    /// Access key and its secret key (`None`: the emulator's `--sk`).
    pub(crate) keys: Vec<(String, Option<String>)>,
}

/// An OpenID Connect identity provider: whose ID tokens IAM and STS accept.
#[derive(Debug)]
pub(crate) struct Provider {
    pub(crate) name: String,
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    pub(crate) keys: JwkSet,
    /// The agency its federated users act as through IAM (`X-Idp-Id`).
    pub(crate) agency: Option<String>,
}

/// An agency: a role others may assume, if it trusts them.
#[derive(Debug)]
pub(crate) struct Agency {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) trusted: Vec<Trust>,
}

impl Agency {
    /// Whether a caller holding `access_key` as `principal` may assume this agency.
    pub(crate) fn trusts_caller(&self, access_key: &str, principal: &Principal) -> bool {
        self.trusted.iter().any(|trust| match (trust, principal) {
            (Trust::AccessKey(key), _) => key == access_key,
            (Trust::User(name), Principal::User { name: caller, .. }) => name == caller,
            (Trust::Agency(name), Principal::Session { agency, .. }) => name == agency,
            _ => false,
        })
    }

    /// Whether federated users of identity provider `provider` may act as this agency.
    pub(crate) fn trusts_provider(&self, provider: &str) -> bool {
        self.trusted
            .iter()
            .any(|trust| matches!(trust, Trust::Idp(name) if name == provider))
    }

    /// A session of this agency named `session`.
    pub(crate) fn session(&self, session: impl Into<String>) -> Principal {
        Principal::Session {
            agency: self.name.clone(),
            agency_id: self.id.clone(),
            session: session.into(),
        }
    }
}

/// The whole identity world of one account.
#[derive(Debug)]
pub struct IdentityWorld {
    pub(crate) account_id: String,
    pub(crate) users: Vec<User>,
    pub(crate) providers: Vec<Provider>,
    pub(crate) agencies: Vec<Agency>,
    /// The agency whose credentials the ECS metadata service hands out (`None`: "configure an agency").
    pub(crate) metadata_agency: Option<String>,
    /// Pod tokens are ID tokens of `.0`; pods act as agency `.1`.
    pub(crate) pod_identity: Option<(String, String)>,
}

impl IdentityWorld {
    /// The account id (the IAM domain id).
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub(crate) fn agency(&self, name: &str) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.name == name)
    }

    pub(crate) fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// The user an access key belongs to.
    pub(crate) fn user_of(&self, access_key: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.keys.iter().any(|(key, _)| key == access_key))
    }

    /// The agency an URN `iam::<account>:agency:<name>` names, if it is of this account.
    pub(crate) fn agency_by_urn(&self, urn: &str) -> Option<&Agency> {
        let name = urn
            .strip_prefix("iam::")?
            .strip_prefix(self.account_id.as_str())?
            .strip_prefix(":agency:")?;
        self.agency(name)
    }

    /// The identity provider an URN `iam::<account>:identity-provider:<name>` names.
    pub(crate) fn provider_by_urn(&self, urn: &str) -> Option<&Provider> {
        let name = urn
            .strip_prefix("iam::")?
            .strip_prefix(self.account_id.as_str())?
            .strip_prefix(":identity-provider:")?;
        self.provider(name)
    }
}

//! Who an entry's credentials sign as, when not the default credential chain: a named profile and the
//! agencies assumed on top, in order. Recorded in the owner mark (`identity`), so that entries of several
//! identities for one cluster coexist — each identity's entries are named and renamed apart, and a refresh
//! renews each as its own identity — while entries of the default chain keep the names they always had.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::naming::name_part;

/// A non-default identity (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityMark {
    /// The named profile (KooCLI's), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The agencies assumed, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<AgencyMark>,
}

/// One agency of an [`IdentityMark`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgencyMark {
    /// The agency's name.
    pub name: String,
    /// The account id it is in (assumed through STS).
    #[serde(rename = "domain-id", default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    /// The account name it is in (assumed through IAM).
    #[serde(
        rename = "domain-name",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub domain_name: Option<String>,
    /// The validity asked for, in seconds.
    #[serde(
        rename = "duration-seconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub duration_secs: Option<u32>,
    /// The session name.
    #[serde(
        rename = "session-name",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub session_name: Option<String>,
}

impl AgencyMark {
    /// The agency `name` in the account `domain_id` (STS) or `domain_name` (IAM).
    pub fn new(
        name: impl Into<String>,
        domain_id: Option<String>,
        domain_name: Option<String>,
    ) -> Self {
        AgencyMark {
            name: name.into(),
            domain_id,
            domain_name,
            duration_secs: None,
            session_name: None,
        }
    }

    /// With the validity and session name asked for.
    #[must_use]
    pub fn with_session(
        mut self,
        duration_secs: Option<u32>,
        session_name: Option<String>,
    ) -> Self {
        self.duration_secs = duration_secs;
        self.session_name = session_name;
        self
    }
}

impl IdentityMark {
    /// Who signs, without what does not change it (the validity asked of each agency): the profile, and each
    /// agency's name, account and session, in order. Two marks of the same key are the same owner.
    pub fn key(&self) -> String {
        serde_json::to_string(&(&self.profile, self.signers().collect::<Vec<_>>()))
            .unwrap_or_default()
    }

    /// Each agency as far as who signs goes: name, account, session (not the validity asked).
    fn signers(
        &self,
    ) -> impl Iterator<Item = (&String, &Option<String>, &Option<String>, &Option<String>)> {
        self.agencies
            .iter()
            .map(|a| (&a.name, &a.domain_id, &a.domain_name, &a.session_name))
    }

    /// Whether `a` and `b` are the same owner (`None`: the default chain): the same [`IdentityMark::key`],
    /// compared field by field (merges compare marks of every entry).
    pub fn same(a: Option<&IdentityMark>, b: Option<&IdentityMark>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.profile == b.profile && a.signers().eq(b.signers()),
            _ => false,
        }
    }

    /// The identity of `profile` and `agencies`; `None` for the default chain (neither).
    pub fn of(profile: Option<String>, agencies: Vec<AgencyMark>) -> Option<Self> {
        (profile.is_some() || !agencies.is_empty()).then_some(IdentityMark { profile, agencies })
    }

    /// The part of default entry names that sets this identity's entries apart: `profile-<name>`, then
    /// `agency-<name>` for the last agency (the one that signs), joined with `.`, then 8 hex digits of
    /// [`IdentityMark::key`], so that identities alike in those parts (another account, another chain) differ.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(profile) = &self.profile {
            parts.push(format!("profile-{}", name_part(profile)));
        }
        if let Some(last) = self.agencies.last() {
            let session = last
                .session_name
                .as_deref()
                .map(|s| format!("-{}", name_part(s)))
                .unwrap_or_default();
            parts.push(format!("agency-{}{session}", name_part(&last.name)));
        }
        let digest = sha2::Sha256::digest(self.key().as_bytes());
        format!("{}.{}", parts.join("."), hex::encode(&digest[..4]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_chain_has_no_identity_and_others_have_a_label() {
        assert_eq!(IdentityMark::of(None, Vec::new()), None);
        let id = IdentityMark::of(
            Some("admin".into()),
            vec![AgencyMark::new("ops", Some("0a1b".into()), None)],
        )
        .unwrap();
        assert!(
            id.label().starts_with("profile-admin.agency-ops."),
            "{}",
            id.label()
        );
        // The validity asked for is not who signs; the account is.
        let longer = IdentityMark::of(
            Some("admin".into()),
            vec![AgencyMark::new("ops", Some("0a1b".into()), None).with_session(Some(7200), None)],
        );
        assert!(IdentityMark::same(Some(&id), longer.as_ref()));
        assert_eq!(id.label(), longer.unwrap().label());
        let elsewhere = IdentityMark::of(
            Some("admin".into()),
            vec![AgencyMark::new("ops", Some("ffff".into()), None)],
        )
        .unwrap();
        assert!(!IdentityMark::same(Some(&id), Some(&elsewhere)));
        assert_ne!(id.label(), elsewhere.label());
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(json["agencies"][0]["domain-id"], "0a1b");
        assert_eq!(serde_json::from_value::<IdentityMark>(json).unwrap(), id);
    }
}

//! Temporary credentials: an access key, a secret key and a security token for a principal, valid until
//! `expires_at` on the emulator's clock. The gateway accepts them with their token until then
//! ([`crate::api::auth`]); every service that hands them out (metadata, IAM, STS, pod identity) issues here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cce_autopilot_signing::SecretKey;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::Principal;
use crate::state::{Credential, Shared, Temporary, lock};

/// Temporary credentials as handed out.
#[derive(Clone)]
pub(crate) struct Issued {
    pub(crate) access: String,
    pub(crate) secret: String,
    pub(crate) security_token: String,
    pub(crate) expires_at: OffsetDateTime,
}

impl Issued {
    /// IAM's and ECS metadata's shape: `{"credential": {"access", "secret", "securitytoken", "expires_at"}}`.
    pub(crate) fn iam_json(&self) -> Value {
        json!({
            "credential": {
                "access": self.access,
                "secret": self.secret,
                "securitytoken": self.security_token,
                "expires_at": format_expiry(self.expires_at),
            }
        })
    }

    /// STS's shape: `{"credentials": {"access_key_id", "secret_access_key", "security_token", "expiration"}}`.
    pub(crate) fn sts_json(&self) -> Value {
        json!({
            "credentials": {
                "access_key_id": self.access,
                "secret_access_key": self.secret,
                "security_token": self.security_token,
                "expiration": format_expiry(self.expires_at),
            }
        })
    }
}

/// `2026-11-28T18:00:00.000000Z`: always six fraction digits, the format the official SDK parses.
pub(crate) fn format_expiry(t: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

pub(crate) fn random_text(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Issues new temporary credentials for `principal` (`None`: without an identity world, the new key names
/// itself), valid for `ttl` from now, and makes the gateway accept them. Credentials that expired over an hour ago are forgotten (until then they are "expired", not
/// "unknown").
pub(crate) fn issue(shared: &Shared, principal: Option<Principal>, ttl: time::Duration) -> Issued {
    let now = shared.clock.now();
    let issued = Issued {
        access: random_text(20).to_ascii_uppercase(),
        secret: random_text(40),
        security_token: STANDARD.encode(rand::random::<[u8; 32]>()).repeat(4),
        expires_at: now + ttl,
    };
    let principal = principal.unwrap_or_else(|| Principal::Key(issued.access.clone()));
    let mut credentials = lock(&shared.credentials);
    let forget_before = now - time::Duration::hours(1);
    credentials.retain(|_, c| {
        c.temporary
            .as_ref()
            .is_none_or(|t| t.expires_at > forget_before)
    });
    credentials.insert(
        issued.access.clone(),
        Credential {
            secret: SecretKey::from(issued.secret.clone()),
            principal,
            temporary: Some(Temporary {
                security_token: issued.security_token.clone(),
                expires_at: issued.expires_at,
            }),
        },
    );
    issued
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn expiry_has_six_fraction_digits() {
        assert_eq!(
            format_expiry(datetime!(2026-11-28 18:00:00.123 UTC)),
            "2026-11-28T18:00:00.000000Z"
        );
    }
}

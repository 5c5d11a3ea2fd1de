//! AK/SK credentials and the sources they come from.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use cce_autopilot_signing::SecretKey;
use secrecy::{ExposeSecret, SecretString};

use crate::Result;

/// An access key, its secret key, and for temporary credentials a security token.
///
/// `Debug` shows the access key and where the credentials came from, never the secret key or the token.
#[derive(Clone)]
pub struct Credentials {
    access_key: String,
    secret_key: SecretKey,
    security_token: Option<SecretString>,
    expires_at: Option<SystemTime>,
    source: &'static str,
}

impl Credentials {
    /// Permanent credentials.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            access_key: access_key.into(),
            secret_key: SecretKey::from(secret_key.into()),
            security_token: None,
            expires_at: None,
            source: "explicit",
        }
    }

    /// The same credentials made temporary: `token` goes in the signed `X-Security-Token` header.
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(SecretString::from(token.into()));
        self
    }

    /// The same credentials with an expiry time.
    pub fn with_expiry(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The same credentials labelled with the source they came from (shown in `Debug` and errors).
    pub fn with_source(mut self, source: &'static str) -> Self {
        self.source = source;
        self
    }

    /// The access key (not secret).
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    /// The security token of temporary credentials.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_ref().map(|t| t.expose_secret())
    }

    /// When temporary credentials expire.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// Where these credentials came from (`explicit`, `environment`, a profile file, `ecs-metadata`).
    pub fn source(&self) -> &'static str {
        self.source
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"** redacted **")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .field("expires_at", &self.expires_at)
            .field("source", &self.source)
            .finish()
    }
}

/// A boxed future, so that providers can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of credentials, asked before every call (it may cache and refresh).
pub trait ProvideCredentials: fmt::Debug + Send + Sync {
    /// Current credentials.
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials>>;

    /// The service refused `rejected` as expired: forget them, so that the next call fetches new ones.
    /// Sources of long-term keys have nothing to forget (the default).
    fn expired(&self, rejected: &Credentials) -> BoxFuture<'_, ()> {
        let _ = rejected;
        Box::pin(async {})
    }

    /// The service refused `rejected` although they had not expired on its clock (revoked, rotated under
    /// us): a source of temporary credentials may fetch new ones, not more than once in a while. Sources of
    /// long-term keys have nothing to do (the default).
    fn refused(&self, rejected: &Credentials) -> BoxFuture<'_, ()> {
        let _ = rejected;
        Box::pin(async {})
    }
}

impl ProvideCredentials for Credentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        let credentials = self.clone();
        Box::pin(async move { Ok(credentials) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret_key_or_token() {
        let c = Credentials::new("AK1", "SK-very-secret").with_security_token("TOKEN-very-secret");
        let debug = format!("{c:?} {c:#?}");
        assert!(debug.contains("AK1"));
        assert!(!debug.contains("SK-very-secret"));
        assert!(!debug.contains("TOKEN-very-secret"));
    }
}

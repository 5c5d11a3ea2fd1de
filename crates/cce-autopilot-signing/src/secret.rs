//! The secret key type: it can be used, but never printed.

use std::fmt;

/// What `Debug` and `Display` print instead of a secret.
const REDACTED: &str = "** redacted **";

/// A secret access key (SK), or a key derived from one.
///
/// `Debug` and `Display` print `** redacted **`, so a `SecretKey` can sit in structs that are
/// logged or put into error messages without leaking. There is deliberately no `PartialEq`: comparing
/// secrets with `==` is not constant-time.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// The key itself, to feed an HMAC. Keep what this returns out of logs and messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretKey {
    fn from(key: String) -> Self {
        Self(key)
    }
}

impl From<&str> for SecretKey {
    fn from(key: &str) -> Self {
        Self(key.to_owned())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let key = SecretKey::from("hunter2-secret");
        assert_eq!(format!("{key:?}"), "** redacted **");
        assert_eq!(format!("{key:#?}"), "** redacted **");
        assert_eq!(key.to_string(), "** redacted **");
    }

    #[test]
    fn expose_returns_the_key() {
        assert_eq!(SecretKey::from(String::from("sk")).expose(), "sk");
    }
}

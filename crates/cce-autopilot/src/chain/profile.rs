//! The official SDKs' profile file: `HUAWEICLOUD_SDK_CREDENTIALS_FILE`, else `~/.huaweicloud/credentials`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use super::ENV_CREDENTIALS_FILE;
use crate::credentials::Credentials;
use crate::env::Environment;
use crate::{Error, Result};

/// The profile file's section the official SDKs read.
pub(crate) const PROFILE_SECTION: &str = "basic";

/// The `[basic]` section of the official SDKs' profile file (`HUAWEICLOUD_SDK_CREDENTIALS_FILE`, else
/// `~/.huaweicloud/credentials`): credentials, and the project id and IAM endpoint that go with them.
///
/// `Debug` shows the path and the access key, never the secret key or the token.
pub(crate) struct Profile {
    path: PathBuf,
    access_key: Option<String>,
    secret_key: Option<SecretString>,
    security_token: Option<SecretString>,
    /// `project_id`.
    pub(crate) project_id: Option<String>,
    /// `iam_endpoint`.
    pub(crate) iam_endpoint: Option<String>,
    /// `idp_id`: a federated identity provider (with `id_token_file`), which wins over `ak`/`sk`.
    pub(crate) idp_id: Option<String>,
    /// `id_token_file`.
    pub(crate) id_token_file: Option<String>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |s: &Option<SecretString>| s.as_ref().map(|_| "** redacted **");
        f.debug_struct("Profile")
            .field("path", &self.path)
            .field("access_key", &self.access_key)
            .field("secret_key", &redacted(&self.secret_key))
            .field("security_token", &redacted(&self.security_token))
            .field("project_id", &self.project_id)
            .field("iam_endpoint", &self.iam_endpoint)
            .field("idp_id", &self.idp_id)
            .field("id_token_file", &self.id_token_file)
            .finish()
    }
}

impl Profile {
    /// Where the profile file is looked for, and whether `HUAWEICLOUD_SDK_CREDENTIALS_FILE` named it.
    pub(crate) fn location(env: &Environment) -> Option<(PathBuf, bool)> {
        match env.get(ENV_CREDENTIALS_FILE) {
            Some(path) => Some((PathBuf::from(path), true)),
            None => env
                .home_dir()
                .map(|home| (home.join(".huaweicloud").join("credentials"), false)),
        }
    }

    /// Reads the profile file; `Ok(None)` when there is none. A file that exists but cannot be read or
    /// parsed is an error naming it.
    pub(crate) fn load(env: &Environment) -> Result<Option<Profile>> {
        let Some((path, _)) = Profile::location(env) else {
            return Ok(None);
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::Config {
                    message: format!("cannot read the profile file {}", path.display()),
                    source: Some(Box::new(e)),
                });
            }
        };
        let mut sections = parse_ini(&text).map_err(|(line, reason)| {
            Error::config(format!(
                "the profile file {} is not valid INI at line {line}: {reason}",
                path.display()
            ))
        })?;
        Ok(Some(Profile::from_section(
            path,
            sections.remove(PROFILE_SECTION).unwrap_or_default(),
        )))
    }

    fn from_section(path: PathBuf, mut section: BTreeMap<String, String>) -> Profile {
        Profile {
            path,
            access_key: section.remove("ak"),
            secret_key: section.remove("sk").map(SecretString::from),
            security_token: section.remove("security_token").map(SecretString::from),
            project_id: section.remove("project_id"),
            iam_endpoint: section.remove("iam_endpoint"),
            idp_id: section.remove("idp_id"),
            id_token_file: section.remove("id_token_file"),
        }
    }

    /// The file this profile was read from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The profile's credentials; an error when it has only half of a key pair.
    pub(crate) fn credentials(&self) -> Result<Option<Credentials>> {
        let path = self.path.display();
        match (&self.access_key, &self.secret_key) {
            (Some(ak), Some(sk)) => {
                let credentials =
                    Credentials::new(ak.clone(), sk.expose_secret()).with_source("profile");
                Ok(Some(match &self.security_token {
                    Some(token) => credentials.with_security_token(token.expose_secret()),
                    None => credentials,
                }))
            }
            (Some(_), None) => Err(Error::credentials(format!(
                "the profile file {path} has `ak` but no `sk` in its [{PROFILE_SECTION}] section: add the secret key, \
                 or remove `ak`"
            ))),
            (None, Some(_)) => Err(Error::credentials(format!(
                "the profile file {path} has `sk` but no `ak` in its [{PROFILE_SECTION}] section: add the access key, \
                 or remove `sk`"
            ))),
            (None, None) if self.security_token.is_some() => Err(Error::credentials(format!(
                "the profile file {path} has `security_token` but no `ak`/`sk` in its [{PROFILE_SECTION}] section: \
                 temporary credentials need all three"
            ))),
            (None, None) => Ok(None),
        }
    }
}

type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// A small INI reader, as much of Python's `configparser` as the profile file uses: `[section]` headers,
/// `key = value` (or `key: value`) lines, whole-line `#` and `;` comments, blank lines. Keys are
/// case-insensitive; values are trimmed and kept verbatim otherwise (a `#` inside a secret key is not a
/// comment). Keys before the first section are ignored. Errors carry a line number, never the line's text,
/// which may hold a secret.
fn parse_ini(text: &str) -> std::result::Result<Sections, (usize, &'static str)> {
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return Err((number, "a section header must end with `]`"));
            };
            let name = name.trim();
            if name.is_empty() {
                return Err((number, "empty section name"));
            }
            sections.entry(name.to_owned()).or_default();
            current = Some(name.to_owned());
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            return Err((
                number,
                "expected `[section]`, `key = value` or a `#` comment",
            ));
        };
        let key = line[..split].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err((number, "a key is missing before `=`"));
        }
        let value = line[split + 1..].trim().to_owned();
        if let Some(section) = &current
            && let Some(entries) = sections.get_mut(section)
        {
            entries.insert(key, value);
        }
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_reader_handles_sections_comments_and_whitespace() {
        let text = "\u{feff}# comment\n; another\nstray = ignored\n\n[basic]\n  AK =  AK1  \nsk=S#K;1=x\n\
                    iam_endpoint: https://iam.example\n[other]\nak = AK2\n";
        let sections = parse_ini(text).unwrap();
        let basic = &sections["basic"];
        assert_eq!(basic["ak"], "AK1");
        assert_eq!(
            basic["sk"], "S#K;1=x",
            "no inline comments, first delimiter splits"
        );
        assert_eq!(basic["iam_endpoint"], "https://iam.example");
        assert_eq!(sections["other"]["ak"], "AK2");
        assert!(!sections.values().any(|s| s.contains_key("stray")));
    }

    #[test]
    fn ini_errors_name_the_line_not_its_text() {
        assert_eq!(
            parse_ini("[basic]\nsecret-without-delimiter\n")
                .unwrap_err()
                .0,
            2
        );
        assert_eq!(parse_ini("[basic\n").unwrap_err().0, 1);
        assert_eq!(parse_ini("[basic]\n= v\n").unwrap_err().0, 2);
        assert_eq!(parse_ini("[ ]\n").unwrap_err().0, 1);
    }

    #[test]
    fn profile_debug_redacts() {
        let mut section = BTreeMap::new();
        section.insert("ak".to_owned(), "AK1".to_owned());
        section.insert("sk".to_owned(), "SK-very-secret".to_owned());
        section.insert("security_token".to_owned(), "TOKEN-very-secret".to_owned());
        let profile = Profile::from_section(PathBuf::from("/p"), section);
        let debug = format!("{profile:?} {profile:#?}");
        assert!(debug.contains("AK1"));
        assert!(!debug.contains("very-secret"), "{debug}");
        let c = profile.credentials().unwrap().unwrap();
        assert_eq!(c.security_token(), Some("TOKEN-very-secret"));
    }
}

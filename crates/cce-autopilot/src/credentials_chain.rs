//! The official SDKs' credential chain: explicit → environment → profile file → ECS metadata.
//!
//! Explicit credentials are the builder's business; this module holds the rest. The environment and the
//! profile file are read once, when the client is built; the ECS metadata service is asked when a call needs
//! credentials, and its temporary credentials are cached until fewer than 40 minutes of validity remain.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use crate::credentials::{BoxFuture, Credentials, ProvideCredentials};
use crate::env::Environment;
use crate::error::excerpt;
use crate::{Error, Result};

/// Access-key variables, in the order they are read: the SDK's own, then the alias the vendor's samples use.
const ENV_AK: [&str; 2] = ["HUAWEICLOUD_SDK_AK", "CLOUD_SDK_AK"];
/// Secret-key variables, in the order they are read.
const ENV_SK: [&str; 2] = ["HUAWEICLOUD_SDK_SK", "CLOUD_SDK_SK"];
const ENV_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
const ENV_CREDENTIALS_FILE: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";
/// The profile file's section the official SDKs read.
const PROFILE_SECTION: &str = "basic";

/// The default chain after explicit credentials: environment, then `profile` (the file read by
/// [`Profile::load`]), then — only when `metadata` is set — the ECS metadata service at that base URL.
pub(crate) fn default_chain(
    env: &Environment,
    profile: Option<&Profile>,
    metadata: Option<Url>,
) -> Result<Arc<dyn ProvideCredentials>> {
    if let Some(credentials) = from_env(env)? {
        return Ok(Arc::new(credentials));
    }
    if let Some(credentials) = profile.map(Profile::credentials).transpose()?.flatten() {
        return Ok(Arc::new(credentials));
    }
    match metadata {
        Some(base) => Ok(Arc::new(MetadataCredentials::new(base)?)),
        None => Err(nothing_found(env, profile)),
    }
}

/// The first of `names` that is set, with its value.
fn first_var(env: &Environment, names: &[&'static str]) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|name| env.get(name).map(|value| (*name, value)))
}

/// Credentials from `HUAWEICLOUD_SDK_AK`/`_SK`/`_SECURITY_TOKEN` (or `CLOUD_SDK_AK`/`_SK`).
fn from_env(env: &Environment) -> Result<Option<Credentials>> {
    let token = env.get(ENV_SECURITY_TOKEN);
    match (first_var(env, &ENV_AK), first_var(env, &ENV_SK)) {
        (Some((_, ak)), Some((_, sk))) => {
            let credentials = Credentials::new(ak, sk).with_source("environment");
            Ok(Some(match token {
                Some(token) => credentials.with_security_token(token),
                None => credentials,
            }))
        }
        (Some((name, _)), None) => Err(Error::credentials(format!(
            "the environment sets the access key {name} but no secret key: set {} (or {}) too, or unset {name}",
            ENV_SK[0], ENV_SK[1]
        ))),
        (None, Some((name, _))) => Err(Error::credentials(format!(
            "the environment sets the secret key {name} but no access key: set {} (or {}) too, or unset {name}",
            ENV_AK[0], ENV_AK[1]
        ))),
        (None, None) if token.is_some() => Err(Error::credentials(format!(
            "the environment sets {ENV_SECURITY_TOKEN} but no access key or secret key: temporary credentials \
             need {} and {} as well, or unset {ENV_SECURITY_TOKEN}",
            ENV_AK[0], ENV_SK[0]
        ))),
        (None, None) => Ok(None),
    }
}

/// The one error for "no credentials anywhere": every place looked at, and how to fix it.
fn nothing_found(env: &Environment, profile: Option<&Profile>) -> Error {
    let (path, from_var) = match Profile::location(env) {
        Some((path, from_var)) => (Some(path), from_var),
        None => (None, false),
    };
    let profile_status = match (profile, &path) {
        (Some(profile), _) => format!(
            "the profile file {} (no ak/sk in its [{PROFILE_SECTION}] section)",
            profile.path.display()
        ),
        (None, Some(path)) if from_var => format!(
            "the profile file {} named by {ENV_CREDENTIALS_FILE} (not found)",
            path.display()
        ),
        (None, Some(path)) => format!("the profile file {} (not found)", path.display()),
        (None, None) => format!(
            "the profile file (not looked for: {ENV_CREDENTIALS_FILE} is unset and there is no home directory)"
        ),
    };
    let file_hint = path.map_or_else(
        || format!("a profile file named by {ENV_CREDENTIALS_FILE}"),
        |p| p.display().to_string(),
    );
    Error::credentials(format!(
        "no credentials found; looked at: the builder (no credentials or token given), the environment \
         ({ak0}/{sk0} and {ak1}/{sk1} are unset), {profile_status}, and the ECS metadata service (disabled). \
         To fix: export {ak0} and {sk0}, or write `ak = …` and `sk = …` under [{PROFILE_SECTION}] in {file_hint}, \
         or pass credentials to the client builder (on a Huawei Cloud server, enable the ECS metadata source)",
        ak0 = ENV_AK[0],
        sk0 = ENV_SK[0],
        ak1 = ENV_AK[1],
        sk1 = ENV_SK[1],
    ))
}

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
            .finish()
    }
}

impl Profile {
    /// Where the profile file is looked for, and whether `HUAWEICLOUD_SDK_CREDENTIALS_FILE` named it.
    fn location(env: &Environment) -> Option<(PathBuf, bool)> {
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
        }
    }

    /// The file this profile was read from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The profile's credentials; an error when it has only half of a key pair.
    fn credentials(&self) -> Result<Option<Credentials>> {
        let path = self.path.display();
        match (&self.access_key, &self.secret_key) {
            (Some(ak), Some(sk)) => {
                let credentials =
                    Credentials::new(ak.clone(), sk.expose_secret()).with_source("profile file");
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

/// How long each step of a metadata request may take (the SDK's 3 s connect and 3 s read time-outs).
const METADATA_TIMEOUT: Duration = Duration::from_secs(3);
/// Validity requested for a metadata session token (the SDK's value).
const METADATA_TOKEN_TTL: Duration = Duration::from_secs(21_600);
/// A metadata token is renewed this long before its TTL runs out.
const METADATA_TOKEN_MARGIN: Duration = Duration::from_secs(600);
/// Temporary credentials are refreshed when fewer than this remain (the SDK's rule).
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(40 * 60);
/// After a failed refresh, cached credentials still valid for this long are used rather than failing the call.
const GRACE_AFTER_FAILED_REFRESH: Duration = Duration::from_secs(60);
/// The body of a 401 that means "this server has no agency", which a new token cannot fix.
const NO_AGENCY: &str = "Please configure Cloud Service Agency first";

/// Temporary credentials from the ECS metadata service of a Huawei Cloud server.
///
/// Refreshed when fewer than 40 minutes of validity remain; concurrent calls wait for one refresh.
pub(crate) struct MetadataCredentials {
    base: Url,
    http: reqwest::Client,
    state: tokio::sync::Mutex<MetadataState>,
}

#[derive(Default)]
struct MetadataState {
    /// The session token and when it was issued.
    token: Option<(SecretString, Instant)>,
    credentials: Option<Credentials>,
}

impl fmt::Debug for MetadataCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataCredentials")
            .field("endpoint", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl MetadataCredentials {
    /// A source asking the metadata service at `base` (on a cloud server `http://169.254.169.254`).
    pub(crate) fn new(mut base: Url) -> Result<Self> {
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        // A client of its own: the link-local service is never reached through a proxy, and its time-outs
        // are the SDK's short ones, not the API's.
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(METADATA_TIMEOUT)
            .read_timeout(METADATA_TIMEOUT)
            .build()
            .map_err(|e| Error::Config {
                message: "cannot set up the HTTP client of the ECS metadata source".into(),
                source: Some(Box::new(e)),
            })?;
        Ok(MetadataCredentials {
            base,
            http,
            state: tokio::sync::Mutex::new(MetadataState::default()),
        })
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::config(format!("invalid ECS metadata URL {}: {e}", self.base)))
    }

    fn failed(&self, what: impl fmt::Display) -> Error {
        Error::credentials(format!(
            "cannot get credentials from the ECS metadata service at {}: {what}",
            self.base
        ))
    }

    fn unreachable(&self, error: reqwest::Error) -> Error {
        let what = if error.is_timeout() {
            "no answer within 3 s"
        } else {
            "cannot connect"
        };
        Error::Credentials {
            message: format!(
                "cannot get credentials from the ECS metadata service at {}: {what} (is this a Huawei Cloud \
                 server? elsewhere, configure credentials in the environment or the profile file)",
                self.base
            ),
            source: Some(Box::new(error)),
        }
    }

    /// A session token: the cached one unless `renew`, else a new one; `None` when the server has no
    /// token service (404, 405, 503).
    async fn token(&self, state: &mut MetadataState, renew: bool) -> Result<Option<SecretString>> {
        if let Some((token, issued)) = &state.token
            && !renew
            && issued.elapsed() + METADATA_TOKEN_MARGIN < METADATA_TOKEN_TTL
        {
            return Ok(Some(token.clone()));
        }
        state.token = None;
        let response = self
            .http
            .put(self.url("meta-data/latest/api/token")?)
            .header(
                "X-Metadata-Token-Ttl-Seconds",
                METADATA_TOKEN_TTL.as_secs().to_string(),
            )
            .timeout(METADATA_TIMEOUT * 2)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        if matches!(status, 404 | 405 | 503) {
            return Ok(None);
        }
        let body = response.bytes().await.map_err(|e| self.unreachable(e))?;
        if !(200..300).contains(&status) {
            return Err(self.failed(format_args!(
                "the token request answered {status}: {:?}",
                excerpt(&body)
            )));
        }
        let token = String::from_utf8_lossy(&body).trim().to_owned();
        if token.is_empty() {
            return Err(self.failed("the token request answered with an empty token"));
        }
        let token = SecretString::from(token);
        state.token = Some((token.clone(), Instant::now()));
        Ok(Some(token))
    }

    /// `GET openstack/latest/securitykey`: the status and body.
    async fn security_key(&self, token: Option<&SecretString>) -> Result<(u16, bytes::Bytes)> {
        let mut request = self
            .http
            .get(self.url("openstack/latest/securitykey")?)
            .timeout(METADATA_TIMEOUT * 2);
        if let Some(token) = token {
            let mut value = reqwest::header::HeaderValue::from_str(token.expose_secret())
                .map_err(|_| self.failed("the metadata token is not a valid header value"))?;
            value.set_sensitive(true);
            request = request.header("X-Metadata-Token", value);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| self.unreachable(e))?;
        Ok((status, body))
    }

    async fn fetch(&self, state: &mut MetadataState) -> Result<Credentials> {
        let token = self.token(state, false).await?;
        let (mut status, mut body) = self.security_key(token.as_ref()).await?;
        let no_agency = |body: &[u8]| String::from_utf8_lossy(body).contains(NO_AGENCY);
        if status == 401 && !no_agency(&body) {
            // The session token expired or was refused: one more try with a new one.
            let token = self.token(state, true).await?;
            (status, body) = self.security_key(token.as_ref()).await?;
        }
        if status == 401 && no_agency(&body) {
            return Err(self.failed(
                "the server has no agency (\"Please configure Cloud Service Agency first\"): attach an IAM \
                 agency to this ECS server, or configure credentials in the environment or the profile file",
            ));
        }
        if !(200..300).contains(&status) {
            // Error bodies carry no credentials, so they may be quoted; success bodies never are.
            return Err(self.failed(format_args!(
                "the securitykey request answered {status}: {:?}",
                excerpt(&body)
            )));
        }
        parse_security_key(&body).map_err(|reason| self.failed(reason))
    }
}

/// Whether `credentials` can be used without a refresh at `now`.
fn fresh(credentials: &Credentials, now: SystemTime, margin: Duration) -> bool {
    credentials
        .expires_at()
        .and_then(|at| at.duration_since(now).ok())
        .is_some_and(|left| left >= margin)
}

impl ProvideCredentials for MetadataCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            // Held across the refresh, so that concurrent calls wait for one refresh and then share it.
            let mut state = self.state.lock().await;
            if let Some(cached) = &state.credentials
                && fresh(cached, SystemTime::now(), REFRESH_BEFORE_EXPIRY)
            {
                return Ok(cached.clone());
            }
            match self.fetch(&mut state).await {
                Ok(credentials) => {
                    tracing::debug!(
                        access_key = credentials.access_key(),
                        expires_at = ?credentials.expires_at(),
                        "fetched temporary credentials from the ECS metadata service"
                    );
                    state.credentials = Some(credentials.clone());
                    Ok(credentials)
                }
                Err(error) => match &state.credentials {
                    Some(cached)
                        if fresh(cached, SystemTime::now(), GRACE_AFTER_FAILED_REFRESH) =>
                    {
                        tracing::warn!(%error, "refreshing the ECS metadata credentials failed; using the cached ones until they expire");
                        Ok(cached.clone())
                    }
                    _ => Err(error),
                },
            }
        })
    }
}

/// Reads either shape of the securitykey document. Reasons never quote the secret key or the token.
fn parse_security_key(body: &[u8]) -> std::result::Result<Credentials, String> {
    let document: Value = serde_json::from_slice(body)
        .map_err(|_| "the securitykey answer is not JSON".to_owned())?;
    let inner = document
        .get("credential")
        .or_else(|| document.get("credentials"))
        .filter(|v| v.is_object())
        .ok_or_else(|| {
            "the securitykey answer has no `credential` (or `credentials`) object".to_owned()
        })?;
    let field = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|name| inner.get(*name).and_then(Value::as_str))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!(
                    "the securitykey answer has no `{}` (or `{}`) text",
                    names[0], names[1]
                )
            })
    };
    let access = field(["access", "accessKeyId"])?;
    let secret = field(["secret", "secretAccessKey"])?;
    let token = field(["securitytoken", "securityToken"])?;
    let expires = field(["expires_at", "expiration"])?;
    let expires_at =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .map_err(|e| format!("the expiry time {expires:?} is not an RFC 3339 time ({e})"))?;
    Ok(Credentials::new(access, secret)
        .with_security_token(token)
        .with_expiry(SystemTime::from(expires_at))
        .with_source("ecs-metadata"))
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
    fn security_key_reads_both_shapes() {
        let a = parse_security_key(
            br#"{"credential":{"access":"A1","secret":"S1","securitytoken":"T1","expires_at":"2026-11-28T18:00:00.000000Z"}}"#,
        )
        .unwrap();
        assert_eq!(a.access_key(), "A1");
        assert_eq!(a.security_token(), Some("T1"));
        assert_eq!(a.source(), "ecs-metadata");
        let b = parse_security_key(
            br#"{"credentials":{"accessKeyId":"A2","secretAccessKey":"S2","securityToken":"T2","expiration":"2026-11-28T18:00:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(b.access_key(), "A2");
        assert_eq!(a.expires_at(), b.expires_at());
        assert_eq!(
            b.expires_at()
                .unwrap()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_795_888_800
        );
    }

    #[test]
    fn security_key_errors_never_quote_secrets() {
        for body in [
            &br#"{"credential":{"access":"A","secret":"SECRET-1","securitytoken":"TOKEN-1"}}"#[..],
            br#"{"credential":{"access":"A","secret":"SECRET-1","securitytoken":"TOKEN-1","expires_at":"soon"}}"#,
            br#"{"credential":{"access":"A","secret":["SECRET-1"],"securitytoken":"TOKEN-1","expires_at":"soon"}}"#,
            br#"{"other":{"secret":"SECRET-1"}}"#,
            b"SECRET-1 TOKEN-1",
        ] {
            let reason = parse_security_key(body).unwrap_err();
            assert!(
                !reason.contains("SECRET-1") && !reason.contains("TOKEN-1"),
                "{reason}"
            );
        }
    }

    #[test]
    fn freshness_keeps_the_refresh_margin() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |mins: u64| {
            Credentials::new("A", "S").with_expiry(now + Duration::from_secs(mins * 60))
        };
        assert!(!fresh(&at(30), now, REFRESH_BEFORE_EXPIRY));
        assert!(fresh(&at(41), now, REFRESH_BEFORE_EXPIRY));
        assert!(!fresh(
            &Credentials::new("A", "S"),
            now,
            REFRESH_BEFORE_EXPIRY
        ));
        assert!(!fresh(
            &Credentials::new("A", "S").with_expiry(now - Duration::from_secs(1)),
            now,
            REFRESH_BEFORE_EXPIRY
        ));
    }

    #[test]
    fn env_reads_both_names_and_rejects_half_pairs() {
        let env = Environment::empty()
            .var("CLOUD_SDK_AK", "A")
            .var("CLOUD_SDK_SK", "S");
        let c = from_env(&env).unwrap().unwrap();
        assert_eq!((c.access_key(), c.source()), ("A", "environment"));
        let env = Environment::empty().var("HUAWEICLOUD_SDK_AK", "A");
        let err = from_env(&env).unwrap_err().to_string();
        assert!(
            err.contains("HUAWEICLOUD_SDK_AK") && err.contains("HUAWEICLOUD_SDK_SK"),
            "{err}"
        );
        let env = Environment::empty().var("HUAWEICLOUD_SDK_SECURITY_TOKEN", "T");
        assert!(from_env(&env).is_err());
        assert!(from_env(&Environment::empty()).unwrap().is_none());
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

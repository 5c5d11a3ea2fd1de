//! `credential`: a kubectl exec credential plugin (`client.authentication.k8s.io/v1` and `v1beta1`) that
//! answers a client certificate of the cluster, kept in a disk cache until shortly before it expires.
//!
//! Defaults, and why: `--duration 1` (day) — short-lived certificates limit the harm of a leaked cache
//! file, and the cache makes them cost one call a day; `--renew-before 10m` — a fixed margin, so that a
//! certificate handed to kubectl is good for at least ten minutes whatever its lifetime (kubectl runs
//! the plugin again once `expirationTimestamp`, the certificate's `notAfter`, has passed); `--access`
//! unset — the context the service marks current (external with a public IP, else internal). Both
//! contexts carry the same user certificate, so access only selects the cache entry (`current`,
//! `internal` or `external`). The cache is described in `cache`; the identity it is keyed by is the
//! access key the client's credential chain resolves (`Client::access_key_id`), never the secret key.

mod cache;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use cce_autopilot::{Access, CertDuration, Kubeconfig};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cli::{GlobalArgs, parse_cert_duration, parse_duration};
use crate::exit::{self, CliError};

use super::common::build_client;
use super::inspect::certificate::{Certificate, rfc3339};

pub use cache::{CacheKey, CachedCredential, CredentialCache, Lookup};

/// The default time budget of one run: kubectl waits for the plugin, an interactive user waits for kubectl.
pub const PLUGIN_TIMEOUT: Duration = Duration::from_secs(15);

/// The variable kubectl passes the plugin's input in.
pub const EXEC_INFO_VAR: &str = "KUBERNETES_EXEC_INFO";
/// `client.authentication.k8s.io/v1`.
pub const API_V1: &str = "client.authentication.k8s.io/v1";
/// `client.authentication.k8s.io/v1beta1`.
pub const API_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// `credential --help`: what the plugin prints, how it caches, how to use it, its exit codes.
pub const LONG_ABOUT: &str = "\
kubectl exec credential plugin: print a client certificate of a cluster, cached on disk.

Prints an ExecCredential with the cluster's client certificate and key (PEM) on stdout, and nothing \
else: apiVersion client.authentication.k8s.io/v1, or v1beta1 when KUBERNETES_EXEC_INFO asks for it. \
Logs go to stderr with -v.

kubectl keeps exec credentials only in memory, so this command keeps them on disk: one entry per \
endpoint, region, project, cluster, --access, access key id and --duration (never the secret key). \
A certificate is reused until --renew-before ahead of its expiry, then a new one is fetched; an \
entry that cannot be read is ignored and replaced.

In a kubeconfig user entry (pass --project-id: without it every run asks IAM for the project):

  exec:
    apiVersion: client.authentication.k8s.io/v1
    command: cce-autopilot
    args: [credential, --cluster-id, ID, --region, REGION, --project-id, PID]
    interactiveMode: Never

Exit codes: 0 done; 2 bad flags, KUBERNETES_EXEC_INFO or --access; 3 credentials; 4 service; \
5 network.";

/// `credential`: the options of the exec credential plugin (see [`LONG_ABOUT`]).
#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// The cluster's id.
    #[arg(long, value_name = "ID")]
    pub cluster_id: String,
    /// Which context of the service's kubeconfig to take the certificate from (default: the one it marks
    /// current: external when the cluster has a public IP, else internal). Both hold the same certificate;
    /// the choice is part of the cache key.
    #[arg(long, value_enum, value_name = "ACCESS")]
    pub access: Option<AccessArg>,
    /// Certificate validity: days (1-1827), -1 or max for five years. Short certificates are cheap: the
    /// cache renews them.
    #[arg(long, default_value = "1", allow_hyphen_values = true, value_parser = parse_cert_duration)]
    pub duration: CertDuration,
    /// Fetch a new certificate when the cached one expires within this, e.g. 10m, 2h, 1d.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub renew_before: Duration,
    /// Where cached certificates go (default: $XDG_CACHE_HOME/cce-autopilot/credentials, else
    /// ~/.cache/cce-autopilot/credentials; created 0700, files 0600).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// `--access`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccessArg {
    /// The `internal` context (VPC address).
    Internal,
    /// The `external` context (public IP).
    External,
}

impl From<AccessArg> for Access {
    fn from(access: AccessArg) -> Self {
        match access {
            AccessArg::Internal => Access::Internal,
            AccessArg::External => Access::External,
        }
    }
}

/// The ExecCredential apiVersions this plugin speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecApiVersion {
    /// `client.authentication.k8s.io/v1`.
    V1,
    /// `client.authentication.k8s.io/v1beta1`.
    V1Beta1,
}

impl ExecApiVersion {
    /// The apiVersion string.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecApiVersion::V1 => API_V1,
            ExecApiVersion::V1Beta1 => API_V1BETA1,
        }
    }

    /// The version `KUBERNETES_EXEC_INFO` asks for: its `apiVersion`, `v1` when the variable is unset or
    /// empty (run by hand). Anything else is a usage error naming what to fix.
    pub fn from_exec_info(exec_info: Option<&str>) -> Result<Self, CliError> {
        #[derive(Deserialize)]
        struct ExecInfo {
            #[serde(rename = "apiVersion")]
            api_version: Option<String>,
        }
        let Some(text) = exec_info.filter(|t| !t.trim().is_empty()) else {
            return Ok(ExecApiVersion::V1);
        };
        // serde would also read the struct from a JSON array (`[null]`): only an object is an ExecCredential.
        if !text.trim_start().starts_with('{') {
            return Err(CliError::usage(format!(
                "{EXEC_INFO_VAR} is not an ExecCredential JSON object; it is set by kubectl — unset it to \
                 run this command by hand"
            )));
        }
        let info: ExecInfo = serde_json::from_str(text).map_err(|e| {
            CliError::usage(format!(
                "{EXEC_INFO_VAR} is not an ExecCredential JSON object (line {}, column {}); it is set by \
                 kubectl — unset it to run this command by hand",
                e.line(),
                e.column()
            ))
        })?;
        match info.api_version.as_deref() {
            None | Some(API_V1) => Ok(ExecApiVersion::V1),
            Some(API_V1BETA1) => Ok(ExecApiVersion::V1Beta1),
            Some(other) => Err(CliError::usage(format!(
                "{EXEC_INFO_VAR} asks for apiVersion {other:?}, which this plugin does not speak: set the \
                 kubeconfig user's exec.apiVersion to {API_V1} (or {API_V1BETA1})"
            ))),
        }
    }
}

/// The plugin's answer.
#[derive(Serialize)]
struct ExecCredential<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    status: ExecCredentialStatus<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus<'a> {
    client_certificate_data: &'a str,
    client_key_data: &'a str,
    expiration_timestamp: String,
}

/// The ExecCredential JSON (one line, then a newline) for `credential`.
pub fn render_exec_credential(
    api_version: ExecApiVersion,
    credential: &CachedCredential,
) -> String {
    let answer = ExecCredential {
        api_version: api_version.as_str(),
        kind: "ExecCredential",
        status: ExecCredentialStatus {
            client_certificate_data: &credential.certificate_pem,
            client_key_data: &credential.key_pem,
            expiration_timestamp: rfc3339(credential.not_after),
        },
    };
    // A struct of strings always serializes.
    serde_json::to_string(&answer).unwrap_or_default() + "\n"
}

/// Answers kubectl: from the cache when it holds a certificate valid beyond --renew-before, else fetched
/// (and cached).
pub async fn run(global: &GlobalArgs, args: CredentialArgs) -> anyhow::Result<u8> {
    let exec_info = std::env::var(EXEC_INFO_VAR).ok();
    let api_version = ExecApiVersion::from_exec_info(exec_info.as_deref())?;
    let client = build_client(global, global.timeout_or(PLUGIN_TIMEOUT))?;
    // Configured (flag, environment, profile file): no network. Otherwise one IAM look-up per run, as the
    // project is part of the cache key — put --project-id in the exec args to spare it.
    let project_id = client.project_id().await?;
    let access_key_id = client.access_key_id().await?;
    let cache = cache_entry(global, &args, client.endpoint(), project_id, access_key_id);
    if let Some((cache, key)) = &cache
        && let Some(cached) = cached(cache, key, args.renew_before)
    {
        return print(api_version, &cached);
    }

    let fetched = client
        .cluster_cert(&args.cluster_id)
        .duration(args.duration)
        .send()
        .await?;
    tracing::info!(
        request_id = fetched.request_id.as_deref(),
        cluster_id = %args.cluster_id,
        "fetched a new certificate"
    );
    let credential = credential_from(&fetched.kubeconfig, args.access, &args.cluster_id)?;
    if !fresh(&credential, args.renew_before, OffsetDateTime::now_utc()) {
        tracing::info!(
            renew_before = ?args.renew_before,
            not_after = %rfc3339(credential.not_after),
            "--renew-before is not shorter than the new certificate's validity: every run will fetch another"
        );
    }
    if let Some((cache, key)) = &cache {
        match cache.store(key, &credential) {
            Ok(path) => tracing::info!(file = %path.display(), "cached the certificate"),
            // kubectl still gets its credential; the next run fetches (and tries to cache) again.
            Err(e) => tracing::warn!("cannot cache the certificate: {e:#}"),
        }
    }
    print(api_version, &credential)
}

/// The cache and this run's key in it; `None` (no caching) when the identity or the directory cannot be
/// told.
fn cache_entry(
    global: &GlobalArgs,
    args: &CredentialArgs,
    endpoint: &str,
    project_id: String,
    access_key_id: Option<String>,
) -> Option<(CredentialCache, CacheKey)> {
    let home = std::env::home_dir();
    let Some(access_key_id) = access_key_id else {
        // Token authentication: no access key to tell identities apart, so nothing is shared.
        tracing::info!("token authentication has no access key to key the cache by: not caching");
        return None;
    };
    let xdg_cache_home = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from);
    let Some(dir) = args
        .cache_dir
        .clone()
        .or_else(|| CredentialCache::default_dir(xdg_cache_home, home))
    else {
        tracing::warn!(
            "no cache directory (neither XDG_CACHE_HOME nor HOME is set), so every run fetches a new \
             certificate: pass --cache-dir DIR"
        );
        return None;
    };
    let key = CacheKey {
        endpoint: endpoint.to_owned(),
        region: global.region.clone(),
        project_id,
        cluster_id: args.cluster_id.clone(),
        access: args
            .access
            .map_or("current", |a| Access::from(a).context_name())
            .to_owned(),
        access_key_id,
        duration: args.duration.get(),
    };
    Some((CredentialCache::new(dir), key))
}

/// The cached credential of `key`, if it stays valid for longer than `renew_before`.
fn cached(
    cache: &CredentialCache,
    key: &CacheKey,
    renew_before: Duration,
) -> Option<CachedCredential> {
    match cache.load(key) {
        Lookup::Hit(cached) if fresh(&cached, renew_before, OffsetDateTime::now_utc()) => {
            tracing::info!(
                file = %cache.path_for(key).display(),
                not_after = %rfc3339(cached.not_after),
                "using the cached certificate"
            );
            return Some(cached);
        }
        Lookup::Hit(cached) => tracing::info!(
            not_after = %rfc3339(cached.not_after),
            ?renew_before,
            "the cached certificate is due for renewal"
        ),
        Lookup::Miss => {
            tracing::info!(file = %cache.path_for(key).display(), "no cached certificate");
        }
        Lookup::Unusable(reason) => {
            tracing::info!("ignoring an unusable cache entry, it will be replaced: {reason}");
        }
    }
    None
}

/// Whether `credential` stays valid for longer than `renew_before` from `now`.
fn fresh(credential: &CachedCredential, renew_before: Duration, now: OffsetDateTime) -> bool {
    let renew_before = time::Duration::try_from(renew_before).unwrap_or(time::Duration::MAX);
    credential.not_after - now > renew_before
}

/// The certificate and key of the context `access` (default: the current one, else `internal`).
fn credential_from(
    kubeconfig: &Kubeconfig,
    access: Option<AccessArg>,
    cluster_id: &str,
) -> anyhow::Result<CachedCredential> {
    let entry = match access {
        Some(access) => {
            let access = Access::from(access);
            kubeconfig.access(access).ok_or_else(|| {
                let offered: Vec<String> = kubeconfig
                    .available_access()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                CliError::usage(format!(
                    "cluster {cluster_id} offers no {access} access (its kubeconfig has: {}); pass --access {}",
                    offered.join(", "),
                    offered.first().map_or("internal", String::as_str),
                ))
            })?
        }
        None => kubeconfig
            .current()
            .or_else(|| kubeconfig.internal())
            .ok_or_else(|| {
                service_error(cluster_id, "has neither a current nor an internal context")
            })?,
    };
    let user = &entry.user.user;
    let certificate_pem = pem_text(
        user.client_certificate_pem(),
        "client-certificate-data",
        cluster_id,
    )?;
    let key_pem = pem_text(user.client_key_pem(), "client-key-data", cluster_id)?;
    let not_after = Certificate::from_pem(certificate_pem.as_bytes())
        .and_then(|c| c.not_after())
        .map_err(|e| {
            service_error(
                cluster_id,
                &format!("carries an unreadable client certificate: {e}"),
            )
        })?;
    Ok(CachedCredential {
        certificate_pem,
        key_pem,
        not_after,
    })
}

fn pem_text(
    decoded: Result<Option<Vec<u8>>, cce_autopilot::model::DecodeError>,
    field: &str,
    cluster_id: &str,
) -> anyhow::Result<String> {
    let bytes = decoded
        .map_err(|e| service_error(cluster_id, &e.to_string()))?
        .ok_or_else(|| service_error(cluster_id, &format!("has no {field}")))?;
    String::from_utf8(bytes).map_err(|_| {
        service_error(cluster_id, &format!("has a {field} that is not PEM text")).into()
    })
}

fn service_error(cluster_id: &str, what: &str) -> CliError {
    CliError {
        code: exit::SERVICE,
        message: format!("the kubeconfig the service answered for cluster {cluster_id} {what}"),
    }
}

fn print(api_version: ExecApiVersion, credential: &CachedCredential) -> anyhow::Result<u8> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(render_exec_credential(api_version, credential).as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write the ExecCredential to stdout")?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exec_info_selects_the_api_version() {
        assert_eq!(
            ExecApiVersion::from_exec_info(None).unwrap(),
            ExecApiVersion::V1
        );
        assert_eq!(
            ExecApiVersion::from_exec_info(Some("  ")).unwrap(),
            ExecApiVersion::V1
        );
        let beta =
            format!(r#"{{"apiVersion":"{API_V1BETA1}","kind":"ExecCredential","spec":{{}}}}"#);
        assert_eq!(
            ExecApiVersion::from_exec_info(Some(&beta)).unwrap(),
            ExecApiVersion::V1Beta1
        );
        let v1 = format!(
            r#"{{"apiVersion":"{API_V1}","kind":"ExecCredential","spec":{{"interactive":false}}}}"#
        );
        assert_eq!(
            ExecApiVersion::from_exec_info(Some(&v1)).unwrap(),
            ExecApiVersion::V1
        );
        let alpha = r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#;
        let err = ExecApiVersion::from_exec_info(Some(alpha)).unwrap_err();
        assert_eq!(err.code, exit::USAGE);
        assert!(err.message.contains("v1alpha1"), "{}", err.message);
        assert_eq!(
            ExecApiVersion::from_exec_info(Some("{")).unwrap_err().code,
            exit::USAGE
        );
    }

    #[test]
    fn exec_info_that_is_not_an_object_is_a_usage_error() {
        // Found by fuzzing (fuzz/fuzz_targets/exec_credential.rs): serde read these as ExecInfo.
        for text in [
            " [null]",
            r#"["client.authentication.k8s.io/v1beta1"]"#,
            r#""client.authentication.k8s.io/v1""#,
            "1",
        ] {
            let err = ExecApiVersion::from_exec_info(Some(text)).unwrap_err();
            assert_eq!(err.code, exit::USAGE, "{text}");
            assert!(err.message.contains(EXEC_INFO_VAR), "{}", err.message);
        }
    }

    #[test]
    fn freshness_keeps_the_renewal_margin() {
        let now = OffsetDateTime::now_utc();
        let credential = |in_secs: i64| CachedCredential {
            certificate_pem: String::new(),
            key_pem: String::new(),
            not_after: now + time::Duration::seconds(in_secs),
        };
        let margin = Duration::from_secs(600);
        assert!(fresh(&credential(601), margin, now));
        assert!(!fresh(&credential(600), margin, now));
        assert!(!fresh(&credential(-5), margin, now));
        assert!(!fresh(&credential(3600), Duration::MAX, now));
    }
}

//! `credential`: a kubectl exec credential plugin (`client.authentication.k8s.io/v1` and `v1beta1`) that
//! answers a client certificate of the cluster, kept in a disk cache shared by every run ([`cache`]).
//!
//! Defaults, and why: `--duration 1` (day) — short-lived certificates limit the harm of a leaked cache
//! file, and the cache makes them cost one call a day; `--renew-before 10m` — a certificate handed to
//! kubectl is good for at least ten minutes whatever its lifetime; `--timeout 15s` — kubectl waits for the
//! plugin, and an interactive user waits for kubectl; `--access` unset — the context the service marks
//! current. A cached certificate is used only if it was issued under the CA kubectl passes
//! (`provideClusterInfo`), so a rotated cluster CA never leaves kubectl with a certificate it cannot use;
//! without a CA (an `insecure-skip-tls-verify` entry) there is nothing to compare, and the entry is used
//! until it expires (`cce-autopilot cache clear` empties it).

pub mod cache;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cce_autopilot::{Access, CertDuration, Environment, Kubeconfig, LocalIdentity};
use clap::Args;
use time::OffsetDateTime;

use crate::args::{GlobalArgs, one_access, parse_cert_duration, parse_duration};
use crate::exit::{self, CliError};

use super::common::build_client;
use cache::{CacheKey, CachedCredential, CredentialCache, Lookup};
use cce_autopilot::certificate::{Certificate, rfc3339};
pub use cce_autopilot_kubeconfig::exec_credential::{
    API_V1, API_V1BETA1, EXEC_INFO_VAR, ExecApiVersion, ExecInfo, ca_fingerprint,
    render_exec_credential,
};

/// The default time budget of one run: kubectl waits for the plugin, an interactive user waits for kubectl.
pub const PLUGIN_TIMEOUT: Duration = Duration::from_secs(15);

/// `credential --help`: what the plugin prints, how it caches, how to use it, its exit codes.
pub const LONG_ABOUT: &str = "\
kubectl exec credential plugin: print a client certificate of a cluster, cached on disk.

Prints an ExecCredential with the cluster's client certificate and key (PEM) on stdout, and nothing \
else: apiVersion client.authentication.k8s.io/v1, or v1beta1 when KUBERNETES_EXEC_INFO asks for it. \
Logs go to stderr with -v.

kubectl keeps exec credentials only in memory, so this command keeps them on disk (0600 files in a 0700 \
directory): one entry per endpoint, region, project, cluster, --access, identity (the access key id; the \
OIDC or identity-provider subject, the metadata endpoint or the pod's subject for temporary credentials, \
which rotate; or a hash of the IAM token) and --duration. A certificate is reused until --renew-before ahead of its \
expiry, and only if it was issued under the CA kubectl passes (provideClusterInfo: true); many kubectl \
runs that miss at once fetch one certificate: the first fetches while the others wait for it, all \
within --timeout (default 15s). An entry that cannot be read, or that others could read, is replaced.

In a kubeconfig user entry (`kubeconfig update --exec` writes it):

  exec:
    apiVersion: client.authentication.k8s.io/v1
    command: cce-autopilot
    args: [credential, --cluster, ID, --region, REGION, --project-id, PID]
    provideClusterInfo: true
    interactiveMode: Never

Exit codes: 0 done; 2 bad flags, KUBERNETES_EXEC_INFO, --access or an unknown cluster; 3 credentials; \
4 service; 5 network or time-out; 6 the cache.";

/// `credential`: the options of the exec credential plugin (see [`LONG_ABOUT`]).
#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// The cluster: its id (what `update --exec` writes), or a name or alias (then one list call).
    #[arg(long, visible_alias = "cluster-id", value_name = "ID|NAME")]
    pub cluster: String,
    /// Which context of the service's kubeconfig to take the certificate from (default: the one it marks
    /// current: external when the cluster has a public IP, else internal). Both hold the same certificate;
    /// the choice is part of the cache key.
    #[arg(long, value_name = "ACCESS", value_parser = one_access())]
    pub access: Option<Access>,
    /// Certificate validity: days (1-1827), -1 or max for five years. Short certificates are cheap: the
    /// cache renews them.
    #[arg(long, default_value = "1", allow_hyphen_values = true, value_parser = parse_cert_duration)]
    pub duration: CertDuration,
    /// Fetch a new certificate when the cached one expires within this, e.g. 10m, 2h, 1d.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub renew_before: Duration,
    /// Where cached certificates go (default: CCE_AUTOPILOT_CACHE_DIR, else
    /// $XDG_CACHE_HOME/cce-autopilot/credentials, else ~/.cache/cce-autopilot/credentials; on Windows
    /// %LOCALAPPDATA%\cce-autopilot\credentials).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// What one run works with: what kubectl asked, the cache entry, and the run's deadline.
struct Run<'a> {
    global: &'a GlobalArgs,
    args: &'a CredentialArgs,
    info: ExecInfo,
    cache: Option<(CredentialCache, CacheKey)>,
    deadline: Instant,
}

/// Answers kubectl: from the cache when it holds a certificate that is fresh and of the CA kubectl trusts;
/// else one process fetches (and caches) while the others that missed wait for it.
pub async fn run(global: &GlobalArgs, args: CredentialArgs) -> anyhow::Result<crate::exit::Exit> {
    let run = Run::new(global, &args, Instant::now())?;
    if let Some(hit) = run.cached() {
        return print(run.info.api_version, &hit);
    }
    let Some((cache, key)) = &run.cache else {
        let credential = run.fetch().await?;
        return print(run.info.api_version, &credential);
    };
    let lock = match cache.lock(key, run.deadline) {
        Ok(lock) => lock,
        // A read-only home (CI, a pod): kubectl still gets its credential, only uncached.
        Err(e) => {
            say!("warning: answering without the certificate cache: {e:#}");
            let credential = run.fetch().await?;
            return print(run.info.api_version, &credential);
        }
    };
    let Some(_lock) = lock else {
        return Err(CliError {
            code: exit::NETWORK,
            message: format!(
                "another `cce-autopilot credential` has been fetching this certificate for the whole time-out \
                 ({}s) and is not done; kubectl will ask again — if it keeps happening, run \
                 `cce-autopilot cache clear --cluster {}`",
                global.timeout_or(PLUGIN_TIMEOUT).as_secs(),
                args.cluster
            ),
        }
        .into());
    };
    // Another run may have fetched while this one waited.
    if let Some(hit) = run.cached() {
        return print(run.info.api_version, &hit);
    }
    let credential = run.fetch().await?;
    match cache.store(key, &credential) {
        Ok(path) => tracing::info!(file = %path.display(), "cached the certificate"),
        // kubectl still gets its credential; the next run fetches (and tries to cache) again.
        Err(e) => tracing::warn!("cannot cache the certificate: {e:#}"),
    }
    if let Ok(pruned) = cache.prune_expired(OffsetDateTime::now_utc())
        && !pruned.is_empty()
    {
        tracing::info!(count = pruned.len(), "pruned expired cache entries");
    }
    print(run.info.api_version, &credential)
}

/// The cache and this run's key in it; `None` (no caching) when the identity or the directory cannot be
/// told without a call.
fn cache_entry(
    global: &GlobalArgs,
    args: &CredentialArgs,
) -> anyhow::Result<Option<(CredentialCache, CacheKey)>> {
    let env = Environment::process();
    let token = super::common::token(global)?;
    let identity = match (&token, &global.profile) {
        (Some(token), _) => Some((CacheKey::token_identity(token), None)),
        // A KooCLI profile is the identity: its file and name (its keys may rotate under KooCLI).
        // A KooCLI profile: what its file says (mode, access key id, agency), so that a changed profile is
        // another identity.
        (None, Some(profile)) => Some((
            LocalIdentity::of_koocli_profile(
                &env,
                profile,
                super::common::metadata_endpoint(&env).as_deref(),
            )?
            .key,
            None,
        )),
        // Keyed by who signs, not by the temporary key of the moment (those rotate): an access key, an
        // OIDC or IdP subject, the metadata service, a pod's subject — all read locally, no call.
        (None, None) => LocalIdentity::of_chain(
            &env,
            global.region.as_deref(),
            global.iam_endpoint.as_deref(),
            super::common::metadata_endpoint(&env).as_deref(),
        )?
        .map(|id| (id.key, id.project_id)),
    };
    // Agencies assumed on top are part of who signs.
    let identity = identity.map(|(key, project)| {
        if global.agencies.is_empty() {
            (key, project)
        } else {
            let agencies: Vec<Vec<String>> = global.agencies.iter().map(|a| a.to_args()).collect();
            let agencies = serde_json::to_string(&agencies).unwrap_or_default();
            (format!("{key}|agencies:{agencies}"), project)
        }
    });
    let Some((identity, local_project)) = identity else {
        tracing::info!(
            "the credential chain's identity cannot be told without a call: not caching"
        );
        return Ok(None);
    };
    let endpoint = match (&global.endpoint, &global.region) {
        (Some(url), _) => url::Url::parse(url).map(|u| u.as_str().to_owned()).ok(),
        (None, Some(region)) => cce_autopilot::region::cce_endpoint(region, &env)
            .ok()
            .map(|u| u.as_str().to_owned()),
        (None, None) => None,
    };
    let Some(endpoint) = endpoint else {
        // The client reports what is missing; nothing can be cached without an endpoint.
        return Ok(None);
    };
    let project = global
        .project_id
        .clone()
        .or(local_project)
        .unwrap_or_else(|| format!("lookup:{}", global.region.as_deref().unwrap_or_default()));
    let Some(cache) = CredentialCache::from_env(args.cache_dir.clone()) else {
        tracing::warn!(
            "no cache directory (neither {} nor XDG_CACHE_HOME nor HOME is set), so every run fetches a new \
             certificate: pass --cache-dir DIR",
            cache::CACHE_DIR_VAR
        );
        return Ok(None);
    };
    let key = CacheKey {
        endpoint,
        region: global.region.clone(),
        project,
        cluster: args.cluster.clone(),
        access: args
            .access
            .map_or("current", |a| a.context_name())
            .to_owned(),
        identity,
        duration: args.duration.get(),
    };
    Ok(Some((cache, key)))
}

/// The cache hit path, before any runtime exists: answers kubectl from the cache and returns its exit code,
/// or `None` when the cache cannot answer (then [`run`] does, with a runtime and a client). It reads the
/// environment, the profile file and one cache entry, and prints: no client, no TLS roots, no threads.
pub fn answer_from_cache(
    global: &GlobalArgs,
    args: &CredentialArgs,
) -> anyhow::Result<Option<crate::exit::Exit>> {
    let run = Run::new(global, args, Instant::now())?;
    match run.cached() {
        Some(hit) => print(run.info.api_version, &hit).map(Some),
        None => Ok(None),
    }
}

impl<'a> Run<'a> {
    /// What kubectl asked (`KUBERNETES_EXEC_INFO`), the cache entry, and the deadline from `started`.
    fn new(
        global: &'a GlobalArgs,
        args: &'a CredentialArgs,
        started: Instant,
    ) -> anyhow::Result<Self> {
        let exec_info = std::env::var(EXEC_INFO_VAR).ok();
        let info =
            ExecInfo::parse(exec_info.as_deref()).map_err(|e| CliError::usage(e.to_string()))?;
        Ok(Run {
            global,
            args,
            info,
            cache: cache_entry(global, args)?,
            deadline: started + global.timeout_or(PLUGIN_TIMEOUT),
        })
    }
}

impl Run<'_> {
    /// The cached credential, if it stays valid for longer than `--renew-before` and was issued under the
    /// CA kubectl trusts.
    fn cached(&self) -> Option<CachedCredential> {
        let (cache, key) = self.cache.as_ref()?;
        match cache.load(key) {
            Lookup::Hit(hit) if !fresh(&hit, self.args.renew_before, OffsetDateTime::now_utc()) => {
                tracing::info!(not_after = %rfc3339(hit.not_after), "the cached certificate is due for renewal");
            }
            Lookup::Hit(hit)
                if self.info.ca_sha256.is_some()
                    && hit.ca_sha256 != self.info.ca_sha256
                    && hit.kubectl_ca_sha256 == self.info.ca_sha256 =>
            {
                // Fetched once already for the CA kubectl trusts, and the service still issues under
                // another: another certificate would change nothing.
                say!("{}", self.ca_change_hint());
                return Some(hit);
            }
            Lookup::Hit(hit)
                if self.info.ca_sha256.is_some() && hit.ca_sha256 != self.info.ca_sha256 =>
            {
                tracing::info!(
                    "the cached certificate was issued under another cluster CA than the one kubectl trusts: \
                     fetching a new one"
                );
            }
            Lookup::Hit(hit) => {
                tracing::info!(file = %cache.path_for(key).display(), not_after = %rfc3339(hit.not_after), "using the cached certificate");
                return Some(hit);
            }
            Lookup::Miss => {
                tracing::info!(file = %cache.path_for(key).display(), "no cached certificate")
            }
            Lookup::Unusable(reason) => {
                tracing::info!("ignoring an unusable cache entry, it will be replaced: {reason}");
            }
            Lookup::NotPrivate(reason) => {
                say!("warning: {reason}; it is not used, and is replaced by a private one");
            }
        }
        None
    }

    /// Fetches a certificate within what is left of the run's time budget.
    async fn fetch(&self) -> anyhow::Result<CachedCredential> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(CliError {
                code: exit::NETWORK,
                message: "the time-out passed while waiting for another run's certificate"
                    .to_owned(),
            }
            .into());
        }
        let client = build_client(self.global, left)?;
        let (cluster_id, cluster_name) = self.cluster_id(&client).await?;
        let fetched = client
            .cluster_cert(&cluster_id)
            .duration(self.args.duration)
            .send()
            .await?;
        tracing::info!(request_id = fetched.request_id.as_deref(), cluster_id = %cluster_id, "fetched a new certificate");
        let mut credential = credential_from(
            &fetched.kubeconfig,
            self.args.access,
            &cluster_id,
            cluster_name,
        )?;
        let now = OffsetDateTime::now_utc();
        if credential.not_after <= now {
            return Err(
                super::expiry::expired_on_arrival(&cluster_id, credential.not_after, now).into(),
            );
        }
        if self.info.ca_sha256.is_some() && credential.ca_sha256 != self.info.ca_sha256 {
            // Remembered with the entry: the next run with the same stale CA is a hit, not a new certificate.
            credential
                .kubectl_ca_sha256
                .clone_from(&self.info.ca_sha256);
            say!("{}", self.ca_change_hint());
        }
        if !fresh(
            &credential,
            self.args.renew_before,
            OffsetDateTime::now_utc(),
        ) {
            tracing::info!(
                renew_before = ?self.args.renew_before,
                not_after = %rfc3339(credential.not_after),
                "--renew-before is not shorter than the new certificate's validity: every run will fetch another"
            );
        }
        Ok(credential)
    }

    /// The line that says what to run when kubectl trusts another CA than the one the service issues under.
    fn ca_change_hint(&self) -> String {
        format!(
            "warning: cluster {} has a new CA, and this kubeconfig entry trusts the old one: run \
             `cce-autopilot kubeconfig update --exec --cluster {}` to write the new one",
            self.args.cluster, self.args.cluster
        )
    }

    /// The id `--cluster` names: itself when it is shaped like an id (what `update --exec` writes), else
    /// the cluster the list says it names.
    async fn cluster_id(
        &self,
        client: &cce_autopilot::Client,
    ) -> anyhow::Result<(String, Option<String>)> {
        let value = &self.args.cluster;
        let resolution = super::resolve::resolve_ids(client, std::slice::from_ref(value)).await?;
        if let Some(note) = &resolution.note {
            tracing::info!("{note}");
        }
        let resolved = resolution
            .clusters
            .into_iter()
            .next()
            .context("the cluster list resolved nothing")?;
        Ok((resolved.id, resolved.name))
    }
}

/// Whether `credential` stays valid for longer than `renew_before` from `now`.
fn fresh(credential: &CachedCredential, renew_before: Duration, now: OffsetDateTime) -> bool {
    let renew_before = time::Duration::try_from(renew_before).unwrap_or(time::Duration::MAX);
    credential.not_after - now > renew_before
}

/// The certificate and key of the context `access` (default: the current one, else `internal`), checked
/// to belong together, with the fingerprint of the cluster CA they were issued under.
fn credential_from(
    kubeconfig: &Kubeconfig,
    access: Option<Access>,
    cluster_id: &str,
    cluster_name: Option<String>,
) -> anyhow::Result<CachedCredential> {
    let entry = match access {
        Some(access) => {
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
    let certificate = Certificate::from_pem(certificate_pem.as_bytes()).map_err(|e| {
        service_error(
            cluster_id,
            &format!("carries an unreadable client certificate: {e}"),
        )
    })?;
    let not_after = certificate
        .not_after()
        .map_err(|e| service_error(cluster_id, &e.to_string()))?;
    // Checked once here, so that a cache hit needs no X.509 work.
    if !certificate
        .matches_key(&key_pem)
        .map_err(|e| service_error(cluster_id, &e.to_string()))?
    {
        return Err(service_error(
            cluster_id,
            "carries a client key that does not belong to its certificate",
        )
        .into());
    }
    // The cluster CA: the internal entry carries it (the external one comes without, insecure).
    let ca_sha256 = kubeconfig
        .internal()
        .map(|i| i.cluster.cluster.certificate_authority_pem())
        .transpose()
        .ok()
        .flatten()
        .flatten()
        .map(|pem| ca_fingerprint(&pem));
    Ok(CachedCredential {
        certificate_pem,
        key_pem,
        not_after,
        ca_sha256,
        kubectl_ca_sha256: None,
        cluster_id: cluster_id.to_owned(),
        cluster_name,
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

fn print(
    api_version: ExecApiVersion,
    credential: &CachedCredential,
) -> anyhow::Result<crate::exit::Exit> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(
            render_exec_credential(
                api_version,
                &credential.certificate_pem,
                &credential.key_pem,
                &rfc3339(credential.not_after),
            )
            .as_bytes(),
        )
        .and_then(|()| stdout.flush())
        .map_err(super::common::stdout_error)?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_keeps_the_renewal_margin() {
        let now = OffsetDateTime::now_utc();
        let credential = |in_secs: i64| CachedCredential {
            certificate_pem: String::new(),
            key_pem: String::new(),
            not_after: now + time::Duration::seconds(in_secs),
            ca_sha256: None,
            kubectl_ca_sha256: None,
            cluster_id: "c".into(),
            cluster_name: None,
        };
        let margin = Duration::from_secs(600);
        assert!(fresh(&credential(601), margin, now));
        assert!(!fresh(&credential(600), margin, now));
        assert!(!fresh(&credential(-5), margin, now));
        assert!(!fresh(&credential(3600), Duration::MAX, now));
    }
}

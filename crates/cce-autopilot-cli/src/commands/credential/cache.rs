//! The credential plugin's disk cache: one small JSON file per identity and request, so that every
//! `kubectl` run (client-go keeps exec credentials only in memory) does not mint a new certificate — and one
//! certificate for many runs at once.
//!
//! Layout: `<dir>/<sha256 of the key>.json` beside `<…>.lock`, the directory 0700, files 0600. The key is
//! everything that selects the certificate and who may use it — endpoint, region, project (or the region
//! it is looked up for), the `--cluster` value, access, identity (`LocalIdentity::key`: the access key id, or
//! for temporary credentials, which rotate, who they are issued to; or a hash of the IAM token — never a
//! token or a secret key), duration. An entry records the cluster's id and name, the
//! certificate's `notAfter`, the fingerprint of the CA it was issued under, and a checksum: a hit reads
//! them without any X.509 work.
//!
//! Single flight: a miss takes the entry's OS lock (`flock`, released when its holder exits, however it
//! exits), looks again, and only then fetches; every other process that missed waits for that lock and then
//! finds the new entry. A hit never locks. Nothing is unlinked while another process holds it locked.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cce_autopilot_kubeconfig::fs as files;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::exit::CliError;
use cce_autopilot::certificate::rfc3339;

/// The format version of a cache file; a file of another version is a miss.
const VERSION: u32 = 2;
/// The variable that names the cache directory, like `--cache-dir`.
pub const CACHE_DIR_VAR: &str = "CCE_AUTOPILOT_CACHE_DIR";

/// What selects a cache entry. Two different values never share a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// The service URL the client calls.
    pub endpoint: String,
    /// The region, when one is configured.
    pub region: Option<String>,
    /// The project id, or `lookup:<region>` when it is looked up (then the identity and region decide it).
    pub project: String,
    /// The `--cluster` value (an id, or a name).
    pub cluster: String,
    /// `internal`, `external`, or `current` (the context the service marks current).
    pub access: String,
    /// `cce_autopilot::LocalIdentity::key` (`ak:<access key id>`, `oidc:…`, `idp:…`, `ecs-metadata:…`,
    /// `pod:…`), or `token:<SHA-256 prefix of the token>`.
    pub identity: String,
    /// The requested validity in days (`-1`: the maximum).
    pub duration: i32,
}

impl CacheKey {
    /// The file stem of this key's entry: the SHA-256 of the key's JSON, in hex.
    pub fn stem(&self) -> String {
        // Serializing a struct of strings and integers cannot fail; the fields' order is fixed.
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }

    /// The identity part of a key for an IAM token: a hash prefix, never the token.
    pub fn token_identity(token: &str) -> String {
        format!(
            "token:{}",
            &hex::encode(Sha256::digest(token.as_bytes()))[..16]
        )
    }
}

/// A client certificate and its key, ready for kubectl, with what the cache records of it. `Debug` never
/// shows the key.
#[derive(Clone)]
pub struct CachedCredential {
    /// The client certificate, PEM.
    pub certificate_pem: String,
    /// The private key, PEM. Secret.
    pub key_pem: String,
    /// The certificate's `notAfter`.
    pub not_after: OffsetDateTime,
    /// The fingerprint of the cluster CA it was issued under ([`super::ca_fingerprint`]).
    pub ca_sha256: Option<String>,
    /// The fingerprint of the CA kubectl trusted when this was fetched, when it was another one (a stale
    /// kubeconfig after a CA change): the entry answers for that CA too, so a stale CA costs one
    /// certificate, not one per kubectl call.
    pub kubectl_ca_sha256: Option<String>,
    /// The cluster's id.
    pub cluster_id: String,
    /// The cluster's name, when known.
    pub cluster_name: Option<String>,
}

impl fmt::Debug for CachedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedCredential")
            .field(
                "certificate_pem",
                &format_args!("<{} bytes>", self.certificate_pem.len()),
            )
            .field("key_pem", &"** redacted **")
            .field("not_after", &self.not_after)
            .field("ca_sha256", &self.ca_sha256)
            .field("kubectl_ca_sha256", &self.kubectl_ca_sha256)
            .field("cluster_id", &self.cluster_id)
            .field("cluster_name", &self.cluster_name)
            .finish()
    }
}

/// The result of a look-up.
#[derive(Debug)]
pub enum Lookup {
    /// A valid entry.
    Hit(CachedCredential),
    /// No entry.
    Miss,
    /// An entry that cannot be used (unreadable, corrupt, of another key or version); why.
    Unusable(String),
    /// An entry that others could read or write (its mode or owner): refused; why.
    NotPrivate(String),
}

/// The on-disk form of an entry.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    key: CacheKey,
    cluster_id: String,
    cluster_name: Option<String>,
    not_after: String,
    ca_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kubectl_ca_sha256: Option<String>,
    /// SHA-256 of the other recorded values: a torn or edited file is a miss, not a TLS failure in kubectl.
    checksum: String,
    client_certificate_pem: String,
    client_key_pem: String,
}

fn checksum(c: &CachedCredential, not_after: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        c.certificate_pem.as_str(),
        c.key_pem.as_str(),
        not_after,
        c.ca_sha256.as_deref().unwrap_or(""),
        c.cluster_id.as_str(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A held entry lock; dropping it releases the lock (so does the process's exit, however it exits).
#[derive(Debug)]
pub struct EntryLock {
    _file: File,
}

/// A cache directory.
#[derive(Clone, Debug)]
pub struct CredentialCache {
    dir: PathBuf,
}

impl CredentialCache {
    /// A cache in `dir` (created on the first store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CredentialCache { dir: dir.into() }
    }

    /// The directory of the process's environment: `--cache-dir`, else the platform's
    /// ([`cce_autopilot_kubeconfig::platform::Platform::cache_dir`]).
    pub fn from_env(flag: Option<PathBuf>) -> Option<Self> {
        use cce_autopilot_kubeconfig::platform::{Platform, process_home};
        flag.or_else(|| {
            Platform::current().cache_dir(&|k| std::env::var_os(k), process_home().as_deref())
        })
        .map(Self::new)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `key`'s entry.
    pub fn path_for(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.stem()))
    }

    fn lock_path_for(&self, stem: &str) -> PathBuf {
        self.dir.join(format!("{stem}.lock"))
    }

    /// Reads `key`'s entry and checks it: private to this user, same format version and key, the checksum
    /// of what it records. No X.509 work: the certificate and key were checked when stored.
    pub fn load(&self, key: &CacheKey) -> Lookup {
        let path = self.path_for(key);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => return Lookup::Unusable(format!("cannot read {}: {e}", path.display())),
        };
        match file.metadata() {
            Ok(meta) => {
                if let Some(why) = not_private(&meta) {
                    return Lookup::NotPrivate(format!(
                        "{} holds a private key but is not private to this user ({why})",
                        path.display()
                    ));
                }
            }
            Err(e) => return Lookup::Unusable(format!("cannot read {}: {e}", path.display())),
        }
        let mut bytes = Vec::new();
        if let Err(e) = io::Read::read_to_end(&mut file, &mut bytes) {
            return Lookup::Unusable(format!("cannot read {}: {e}", path.display()));
        }
        match check(&bytes, key) {
            Ok(credential) => Lookup::Hit(credential),
            Err(reason) => Lookup::Unusable(format!("{}: {reason}", path.display())),
        }
    }

    /// Writes `key`'s entry atomically, 0600, creating the directory 0700 when it does not exist.
    pub fn store(&self, key: &CacheKey, credential: &CachedCredential) -> anyhow::Result<PathBuf> {
        self.ensure_dir()?;
        let not_after = rfc3339(credential.not_after);
        let file = CacheFile {
            version: VERSION,
            key: key.clone(),
            cluster_id: credential.cluster_id.clone(),
            cluster_name: credential.cluster_name.clone(),
            checksum: checksum(credential, &not_after),
            not_after,
            ca_sha256: credential.ca_sha256.clone(),
            kubectl_ca_sha256: credential.kubectl_ca_sha256.clone(),
            client_certificate_pem: credential.certificate_pem.clone(),
            client_key_pem: credential.key_pem.clone(),
        };
        let mut json = serde_json::to_vec_pretty(&file)?;
        json.push(b'\n');
        let path = self.path_for(key);
        files::write_file_atomic(&path, &json, files::PRIVATE)
            .map_err(|e| CliError::file(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }

    fn ensure_dir(&self) -> anyhow::Result<()> {
        files::ensure_private_dir(&self.dir).map_err(|e| {
            CliError::file(format!(
                "cannot create the credential cache directory {}: {e}; pass --cache-dir DIR",
                self.dir.display()
            ))
            .into()
        })
    }

    /// Takes `key`'s entry lock, waiting until `deadline` while another process holds it. `Ok(None)` when
    /// the deadline passes first.
    pub fn lock(&self, key: &CacheKey, deadline: Instant) -> anyhow::Result<Option<EntryLock>> {
        self.ensure_dir()?;
        let path = self.lock_path_for(&key.stem());
        let mut pause = Duration::from_millis(2);
        loop {
            let file = open_lock_file(&path)
                .map_err(|e| CliError::file(format!("cannot open {}: {e}", path.display())))?;
            match file.try_lock() {
                // The lock is ours if the path still names this file: a prune may have unlinked it between
                // our open and our lock (it only unlinks what it holds locked).
                Ok(()) if same_file(&file, &path) => return Ok(Some(EntryLock { _file: file })),
                Ok(()) => continue,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(
                        CliError::file(format!("cannot lock {}: {e}", path.display())).into(),
                    );
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Removes the entries that `select` picks (`true` for all), each only while holding its lock, so that
    /// no running plugin loses a file it is writing; returns the files removed. Entries that cannot be read
    /// are removed by [`CredentialCache::clear`] with `select` always true.
    pub fn remove_where(
        &self,
        select: impl Fn(&CacheFileView) -> bool,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(
                    CliError::file(format!("cannot read {}: {e}", self.dir.display())).into(),
                );
            }
        };
        let mut removed = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(stem) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_owned)
            else {
                continue;
            };
            let view = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<CacheFileView>(&b).ok());
            if !view.as_ref().is_some_and(&select) {
                continue;
            }
            let lock_path = self.lock_path_for(&stem);
            let Ok(lock) = open_lock_file(&lock_path) else {
                continue;
            };
            if lock.try_lock().is_err() {
                continue; // a plugin is fetching this one right now
            }
            if std::fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
            let _ = std::fs::remove_file(&lock_path);
        }
        Ok(removed)
    }

    /// Removes every entry, or those of `cluster` (an id, or a name the entries recorded).
    pub fn clear(&self, cluster: Option<&str>) -> anyhow::Result<Vec<PathBuf>> {
        self.remove_where(|v| {
            cluster.is_none_or(|c| {
                v.cluster_id == c || v.cluster_name.as_deref() == Some(c) || v.key.cluster == c
            })
        })
    }

    /// Removes the entries whose certificate has expired.
    pub fn prune_expired(&self, now: OffsetDateTime) -> anyhow::Result<Vec<PathBuf>> {
        self.remove_where(|v| OffsetDateTime::parse(&v.not_after, &Rfc3339).is_ok_and(|t| t <= now))
    }
}

/// What [`CredentialCache::remove_where`] selects by: an entry's records, not its key material.
#[derive(Clone, Debug, Deserialize)]
pub struct CacheFileView {
    /// The entry's key.
    pub key: CacheKey,
    /// The cluster's id.
    pub cluster_id: String,
    /// The cluster's name, when known.
    pub cluster_name: Option<String>,
    /// The certificate's end of validity, RFC 3339.
    pub not_after: String,
}

/// Why an entry is not private to this user: Unix modes and owners. Windows has neither in `std`: the
/// cache lives under the user's profile, whose ACL keeps it theirs (the README's platform section).
#[cfg(unix)]
fn not_private(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    (meta.mode() & 0o077 != 0 || meta.uid() != rustix::process::geteuid().as_raw())
        .then(|| format!("mode {:o}, owner {}", meta.mode() & 0o777, meta.uid()))
}

#[cfg(not(unix))]
fn not_private(_meta: &std::fs::Metadata) -> Option<String> {
    None
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Whether `path` still names the open `file` (a prune may unlink a lock file between our open and our
/// lock). Windows cannot delete a file another process holds open, so there it always does.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

fn check(bytes: &[u8], key: &CacheKey) -> Result<CachedCredential, String> {
    let file: CacheFile = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a cache file ({})", json_problem(&e)))?;
    if file.version != VERSION {
        return Err(format!(
            "format version {} (expected {VERSION})",
            file.version
        ));
    }
    if &file.key != key {
        return Err("written for another key".to_owned());
    }
    let not_after = OffsetDateTime::parse(&file.not_after, &Rfc3339)
        .map_err(|_| "the recorded expiry is not an RFC 3339 time".to_owned())?;
    let credential = CachedCredential {
        certificate_pem: file.client_certificate_pem,
        key_pem: file.client_key_pem,
        not_after,
        ca_sha256: file.ca_sha256,
        kubectl_ca_sha256: file.kubectl_ca_sha256,
        cluster_id: file.cluster_id,
        cluster_name: file.cluster_name,
    };
    if checksum(&credential, &file.not_after) != file.checksum {
        return Err("its checksum does not match what it records".to_owned());
    }
    Ok(credential)
}

/// serde_json's error category, without the message (which could quote the file's content).
fn json_problem(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected content",
        serde_json::error::Category::Eof => "truncated",
    }
}

// Unix: they check modes and owners, which Windows builds do not have (see `not_private`).
#[cfg(all(test, unix))]
#[path = "cache_tests.rs"]
mod tests;

//! The credential plugin's disk cache: one small JSON file per identity and request, so that every
//! `kubectl` run (client-go caches exec credentials only in memory) does not mint a new certificate.
//!
//! Layout: `<dir>/<sha256 of the key>.json`, the directory created 0700, each file written atomically
//! with mode 0600. The key is everything that selects the certificate and who may use it — endpoint,
//! region, project, cluster, access, access key id, duration — never the secret key. A file holds the key
//! again (checked on read), the certificate and key PEM and the certificate's `notAfter`; anything that
//! does not check out is a miss, and the caller fetches and replaces it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::super::common::write_private_file;
use super::super::inspect::certificate::{Certificate, rfc3339};

/// The format version of a cache file; a file of another version is a miss.
const VERSION: u32 = 1;

/// What selects a cache entry. Two different values never share a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// The service URL the client calls.
    pub endpoint: String,
    /// The region, when one is configured.
    pub region: Option<String>,
    /// The project id.
    pub project_id: String,
    /// The cluster id.
    pub cluster_id: String,
    /// `internal`, `external`, or `current` (the context the service marks current).
    pub access: String,
    /// The access key id of the caller (not secret; the secret key is never part of the key).
    pub access_key_id: String,
    /// The requested validity in days (`-1`: the maximum).
    pub duration: i32,
}

impl CacheKey {
    /// The file name of this key's entry: the SHA-256 of the key's JSON, in hex.
    pub fn file_name(&self) -> String {
        // Serializing a struct of strings and integers cannot fail; the fields' order is fixed.
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{}.json", hex::encode(Sha256::digest(&json)))
    }
}

/// A client certificate and its key, ready for kubectl. `Debug` never shows the key.
#[derive(Clone)]
pub struct CachedCredential {
    /// The client certificate, PEM.
    pub certificate_pem: String,
    /// The private key, PEM. Secret.
    pub key_pem: String,
    /// The certificate's `notAfter`.
    pub not_after: OffsetDateTime,
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
}

/// The on-disk form of an entry.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    key: CacheKey,
    /// RFC 3339, informative: the certificate is the authority.
    not_after: String,
    client_certificate_pem: String,
    client_key_pem: String,
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

    /// The default directory: `$XDG_CACHE_HOME/cce-autopilot/credentials` when that variable holds an
    /// absolute path (the XDG rule), else `$HOME/.cache/cce-autopilot/credentials`.
    pub fn default_dir(xdg_cache_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
        let base = xdg_cache_home.filter(|p| p.is_absolute()).or_else(|| {
            home.filter(|h| !h.as_os_str().is_empty())
                .map(|h| h.join(".cache"))
        })?;
        Some(base.join("cce-autopilot").join("credentials"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `key`'s entry.
    pub fn path_for(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// Reads `key`'s entry and checks it: same format version and key, a certificate that parses, whose
    /// `notAfter` is the recorded one and whose public key is the key's.
    pub fn load(&self, key: &CacheKey) -> Lookup {
        let path = self.path_for(key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => return Lookup::Unusable(format!("cannot read {}: {e}", path.display())),
        };
        match check(&bytes, key) {
            Ok(credential) => Lookup::Hit(credential),
            Err(reason) => Lookup::Unusable(format!("{}: {reason}", path.display())),
        }
    }

    /// Writes `key`'s entry atomically, 0600, creating the directory 0700 when it does not exist.
    pub fn store(&self, key: &CacheKey, credential: &CachedCredential) -> anyhow::Result<PathBuf> {
        create_private_dir(&self.dir)?;
        let file = CacheFile {
            version: VERSION,
            key: key.clone(),
            not_after: rfc3339(credential.not_after),
            client_certificate_pem: credential.certificate_pem.clone(),
            client_key_pem: credential.key_pem.clone(),
        };
        let mut json = serde_json::to_vec_pretty(&file)?;
        json.push(b'\n');
        let path = self.path_for(key);
        write_private_file(&path, &json)?;
        Ok(path)
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
    let certificate =
        Certificate::from_pem(file.client_certificate_pem.as_bytes()).map_err(|e| e.to_string())?;
    let not_after = certificate.not_after().map_err(|e| e.to_string())?;
    if rfc3339(not_after) != file.not_after {
        return Err("the recorded expiry is not the certificate's".to_owned());
    }
    if !certificate
        .matches_key(&file.client_key_pem)
        .map_err(|e| e.to_string())?
    {
        return Err("the key does not belong to the certificate".to_owned());
    }
    Ok(CachedCredential {
        certificate_pem: file.client_certificate_pem,
        key_pem: file.client_key_pem,
        not_after,
    })
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

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    cce_autopilot_kubeconfig::fs::ensure_private_dir(dir).map_err(|e| {
        crate::exit::CliError::file(format!(
            "cannot create the credential cache directory {}: {e}; pass --cache-dir DIR",
            dir.display()
        ))
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CacheKey {
        CacheKey {
            endpoint: "https://cce.cn-north-4.myhuaweicloud.com/".into(),
            region: Some("cn-north-4".into()),
            project_id: "p".into(),
            cluster_id: "c".into(),
            access: "internal".into(),
            access_key_id: "AK1".into(),
            duration: 1,
        }
    }

    fn credential() -> CachedCredential {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["x".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let certificate = Certificate::from_pem(cert.pem().as_bytes()).unwrap();
        CachedCredential {
            certificate_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            not_after: certificate.not_after().unwrap(),
        }
    }

    #[test]
    fn every_key_field_changes_the_file_name() {
        let base = key();
        let variants = [
            CacheKey {
                endpoint: "https://other/".into(),
                ..base.clone()
            },
            CacheKey {
                region: None,
                ..base.clone()
            },
            CacheKey {
                project_id: "q".into(),
                ..base.clone()
            },
            CacheKey {
                cluster_id: "d".into(),
                ..base.clone()
            },
            CacheKey {
                access: "external".into(),
                ..base.clone()
            },
            CacheKey {
                access_key_id: "AK2".into(),
                ..base.clone()
            },
            CacheKey {
                duration: 2,
                ..base.clone()
            },
        ];
        for variant in variants {
            assert_ne!(variant.file_name(), base.file_name(), "{variant:?}");
        }
        assert_eq!(base.file_name(), key().file_name());
        assert_eq!(base.file_name().len(), 64 + ".json".len());
    }

    #[test]
    fn a_stored_entry_is_found_again_and_only_for_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CredentialCache::new(dir.path().join("a/b"));
        let credential = credential();
        cache.store(&key(), &credential).unwrap();
        match cache.load(&key()) {
            Lookup::Hit(hit) => {
                assert_eq!(hit.certificate_pem, credential.certificate_pem);
                assert_eq!(hit.not_after, credential.not_after);
            }
            other => panic!("{other:?}"),
        }
        let other = CacheKey {
            duration: 7,
            ..key()
        };
        assert!(matches!(cache.load(&other), Lookup::Miss));
        // A file renamed to another key's name is refused.
        std::fs::rename(cache.path_for(&key()), cache.path_for(&other)).unwrap();
        assert!(matches!(cache.load(&other), Lookup::Unusable(r) if r.contains("another key")));
    }

    #[test]
    fn corrupt_entries_are_unusable_and_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CredentialCache::new(dir.path());
        std::fs::write(
            cache.path_for(&key()),
            "{\"version\": 1, \"key\": \"SECRET-LOOKING\"",
        )
        .unwrap();
        match cache.load(&key()) {
            Lookup::Unusable(reason) => assert!(!reason.contains("SECRET-LOOKING"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // A key of another certificate.
        let mut mixed = credential();
        mixed.key_pem = credential().key_pem;
        cache.store(&key(), &mixed).unwrap();
        assert!(matches!(cache.load(&key()), Lookup::Unusable(r) if r.contains("does not belong")));
    }

    #[cfg(unix)]
    #[test]
    fn directory_is_0700_and_files_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let cache = CredentialCache::new(dir.path().join("new"));
        let path = cache.store(&key(), &credential()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(cache.dir()), 0o700);
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn default_dir_follows_xdg_then_home() {
        let xdg = CredentialCache::default_dir(Some("/x".into()), Some("/h".into()));
        assert_eq!(xdg, Some(PathBuf::from("/x/cce-autopilot/credentials")));
        let relative = CredentialCache::default_dir(Some("rel".into()), Some("/h".into()));
        assert_eq!(
            relative,
            Some(PathBuf::from("/h/.cache/cce-autopilot/credentials"))
        );
        assert_eq!(CredentialCache::default_dir(None, None), None);
    }

    #[test]
    fn debug_redacts_the_key() {
        let credential = credential();
        let debug = format!("{credential:?}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    }
}

//! Reading the kubeconfig files of a [`KubeconfigPaths`] list and seeing them merged the way
//! client-go does.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{EntryKind, Error, Result};
use crate::model::KubeconfigFile;
use crate::paths::KubeconfigPaths;

/// One file of the list, as read.
#[derive(Clone, Debug)]
pub struct LoadedFile {
    path: PathBuf,
    original: Option<Vec<u8>>,
    config: KubeconfigFile,
}

impl LoadedFile {
    /// The file's path, as listed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file existed when it was read.
    pub fn exists(&self) -> bool {
        self.original.is_some()
    }

    /// The bytes read (`None` for a missing file); they become `<file>.bak` when the file is
    /// rewritten.
    pub fn original(&self) -> Option<&[u8]> {
        self.original.as_deref()
    }

    /// The parsed content (empty for a missing file).
    pub fn config(&self) -> &KubeconfigFile {
        &self.config
    }
}

/// `/dev/null` itself (however it is reached), not a device made elsewhere.
fn is_dev_null(path: &Path) -> bool {
    std::fs::canonicalize(path).is_ok_and(|p| p == Path::new("/dev/null"))
}

/// Every file of a [`KubeconfigPaths`] list, read and parsed, in precedence order.
#[derive(Clone, Debug)]
pub struct KubeconfigSet {
    paths: KubeconfigPaths,
    files: Vec<LoadedFile>,
    /// The file each name comes from, built on the first [`Self::origin`]: a scan per lookup made a
    /// look at every context of a large file quadratic.
    origins: OnceLock<HashMap<(EntryKind, String), usize>>,
}

impl KubeconfigSet {
    /// Reads every file of the list. A missing file is an empty one (client-go skips it); a file
    /// that cannot be read or parsed, or that repeats a name within one list, is an error naming
    /// it — nothing is ever written over such a file. A path that is not a regular file (a FIFO
    /// would block the read, a device might never end) is refused unread, except `/dev/null`, which
    /// reads as an empty file (`KUBECONFIG=/dev/null` is how users hide their configuration).
    pub fn load(paths: &KubeconfigPaths) -> Result<Self> {
        let mut files = Vec::with_capacity(paths.files().len());
        for path in paths.files() {
            if let Ok(meta) = std::fs::metadata(path)
                && !meta.is_file()
                && !is_dev_null(path)
            {
                return Err(Error::NotRegularFile {
                    path: path.clone(),
                    what: crate::fs::file_type_name(&meta),
                });
            }
            let (original, config) = match std::fs::read(path) {
                Ok(bytes) => {
                    let config = KubeconfigFile::from_bytes(&bytes, path)?;
                    (Some(bytes), config)
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => (None, KubeconfigFile::default()),
                Err(source) => {
                    return Err(Error::Read {
                        path: path.clone(),
                        source,
                    });
                }
            };
            files.push(LoadedFile {
                path: path.clone(),
                original,
                config,
            });
        }
        Ok(KubeconfigSet {
            paths: paths.clone(),
            files,
            origins: OnceLock::new(),
        })
    }

    /// The list this set was read from.
    pub fn paths(&self) -> &KubeconfigPaths {
        &self.paths
    }

    /// The files, in precedence order.
    pub fn files(&self) -> &[LoadedFile] {
        &self.files
    }

    /// Index of the file an entry comes from: the first file that defines the name (client-go:
    /// "the first file to set a particular map key wins").
    pub fn origin(&self, kind: EntryKind, name: &str) -> Option<usize> {
        let origins = self.origins.get_or_init(|| {
            let mut origins = HashMap::new();
            for (i, file) in self.files.iter().enumerate() {
                let config = &file.config;
                let names = config
                    .clusters
                    .iter()
                    .map(|c| (EntryKind::Cluster, &c.name))
                    .chain(config.users.iter().map(|u| (EntryKind::User, &u.name)))
                    .chain(
                        config
                            .contexts
                            .iter()
                            .map(|c| (EntryKind::Context, &c.name)),
                    );
                for (kind, name) in names {
                    origins.entry((kind, name.clone())).or_insert(i);
                }
            }
            origins
        });
        origins.get(&(kind, name.to_owned())).copied()
    }

    /// The merged `current-context` and the index of the file it comes from: the first file that
    /// sets a non-empty one.
    pub fn current_context(&self) -> Option<(&str, usize)> {
        self.files
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.config.current_context().map(|c| (c, i)))
    }

    /// Index of client-go's default file (`GetDefaultFilename`): the first file that exists, else
    /// the last one. New entries and a changed `current-context` are written there.
    pub fn default_file(&self) -> usize {
        self.files
            .iter()
            .position(LoadedFile::exists)
            .unwrap_or(self.files.len().saturating_sub(1))
    }

    /// The configuration kubectl sees: for each name the entry of the first file that defines it
    /// (in file order, then list order), `current-context` from the first file that sets one, the
    /// other top-level fields from the default file.
    pub fn merged(&self) -> KubeconfigFile {
        let mut merged = self
            .files
            .get(self.default_file())
            .map(|f| KubeconfigFile {
                clusters: Vec::new(),
                users: Vec::new(),
                contexts: Vec::new(),
                current_context: None,
                ..f.config.clone()
            })
            .unwrap_or_default();
        // Names seen, per list: a linear `contains` per entry made a 100,000-cluster file quadratic.
        let (mut clusters, mut users, mut contexts) =
            (HashSet::new(), HashSet::new(), HashSet::new());
        for file in &self.files {
            for c in &file.config.clusters {
                if clusters.insert(c.name.as_str()) {
                    merged.clusters.push(c.clone());
                }
            }
            for u in &file.config.users {
                if users.insert(u.name.as_str()) {
                    merged.users.push(u.clone());
                }
            }
            for c in &file.config.contexts {
                if contexts.insert(c.name.as_str()) {
                    merged.contexts.push(c.clone());
                }
            }
        }
        merged.current_context = self.current_context().map(|(c, _)| c.to_owned());
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, text).unwrap();
        p
    }

    fn list(paths: &[&Path]) -> KubeconfigPaths {
        let env = std::env::join_paths(paths).unwrap();
        KubeconfigPaths::resolve(None, Some(&env), None).unwrap()
    }

    #[test]
    fn first_file_wins_and_missing_files_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let a = write(
            dir.path(),
            "a",
            "clusters:\n- name: c\n  cluster: {server: https://a}\ncontexts:\n- name: x\n  context: {cluster: c}\n",
        );
        let b = write(
            dir.path(),
            "b",
            "clusters:\n- name: c\n  cluster: {server: https://b}\n- name: d\n  cluster: {server: https://d}\ncurrent-context: x\n",
        );
        let set = KubeconfigSet::load(&list(&[&missing, &a, &b])).unwrap();
        assert!(!set.files()[0].exists());
        assert_eq!(set.origin(EntryKind::Cluster, "c"), Some(1));
        assert_eq!(set.origin(EntryKind::Cluster, "d"), Some(2));
        assert_eq!(set.current_context(), Some(("x", 2)));
        assert_eq!(set.default_file(), 1);
        let merged = set.merged();
        assert_eq!(merged.clusters.len(), 2);
        assert_eq!(
            merged.clusters[0].cluster.server.as_deref(),
            Some("https://a")
        );
        assert_eq!(merged.current_context(), Some("x"));
    }

    #[test]
    fn default_file_is_last_when_none_exists() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let set = KubeconfigSet::load(&list(&[&a, &b])).unwrap();
        assert_eq!(set.default_file(), 1);
    }

    #[test]
    fn an_unparsable_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", "clusters: [\n");
        let err = KubeconfigSet::load(&list(&[&a])).unwrap_err();
        assert!(
            matches!(&err, Error::Parse { path, .. } if path == &a),
            "{err}"
        );
    }

    #[test]
    fn a_directory_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let err = KubeconfigSet::load(&KubeconfigPaths::explicit(dir.path())).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotRegularFile {
                    what: "a directory",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn dev_null_reads_as_an_empty_file() {
        let set = KubeconfigSet::load(&KubeconfigPaths::explicit("/dev/null")).unwrap();
        assert!(set.merged().clusters.is_empty());
    }
}

//! Which kubeconfig files to read and write, by client-go's rules: `--kubeconfig`, else the
//! `KUBECONFIG` list, else `$HOME/.kube/config`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::platform::Platform;

/// Where the list of kubeconfig files came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathSource {
    /// An explicit path (`--kubeconfig`): the only file read and written.
    Explicit,
    /// The `KUBECONFIG` variable: a list of files, merged in order.
    Env,
    /// The default `$HOME/.kube/config`.
    Home,
}

/// The ordered, de-duplicated list of kubeconfig files that kubectl would load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeconfigPaths {
    files: Vec<PathBuf>,
    source: PathSource,
}

impl KubeconfigPaths {
    /// Resolves the files like client-go's loading rules, from values the caller read (this
    /// function reads no environment itself):
    ///
    /// 1. `explicit` (`--kubeconfig`) wins, alone;
    /// 2. else `kubeconfig_env` (`KUBECONFIG`), split on the platform's separator
    ///    ([`Platform::kubeconfig_separator`]: `;` on Windows, `:` elsewhere),
    ///    empty entries skipped and repeated entries dropped, keeping the first;
    /// 3. else `<home>/.kube/config`.
    ///
    /// An empty `KUBECONFIG` counts as unset, as in client-go. One made only of separators
    /// (`":"`) names no file: client-go then reads nothing and cannot write, and falls back to no other
    /// file; this is [`Error::NoFileInKubeconfigEnv`], never a silent use of `<home>/.kube/config`.
    /// Without any of the three, the result is [`Error::NoPath`].
    pub fn resolve(
        explicit: Option<&Path>,
        kubeconfig_env: Option<&OsStr>,
        home: Option<&Path>,
    ) -> Result<Self> {
        if let Some(path) = explicit.filter(|p| !p.as_os_str().is_empty()) {
            return Ok(KubeconfigPaths {
                files: vec![path.to_path_buf()],
                source: PathSource::Explicit,
            });
        }
        if let Some(env) = kubeconfig_env.filter(|v| !v.is_empty()) {
            let mut files: Vec<PathBuf> = Vec::new();
            for path in Platform::current().split_kubeconfig(env) {
                if !path.as_os_str().is_empty() && !files.contains(&path) {
                    files.push(path);
                }
            }
            if files.is_empty() {
                return Err(Error::NoFileInKubeconfigEnv {
                    value: env.to_string_lossy().into_owned(),
                });
            }
            return Ok(KubeconfigPaths {
                files,
                source: PathSource::Env,
            });
        }
        match home.filter(|h| !h.as_os_str().is_empty()) {
            Some(home) => Ok(KubeconfigPaths {
                files: vec![home.join(".kube").join("config")],
                source: PathSource::Home,
            }),
            None => Err(Error::NoPath),
        }
    }

    /// Exactly one explicit file (what `--kubeconfig` gives).
    pub fn explicit(path: impl Into<PathBuf>) -> Self {
        KubeconfigPaths {
            files: vec![path.into()],
            source: PathSource::Explicit,
        }
    }

    /// The files, highest precedence first. Never empty.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Where the list came from.
    pub fn source(&self) -> PathSource {
        self.source
    }

    /// client-go's `GetDefaultFilename`: where new entries and a new `current-context` go — the
    /// first file of the list that exists, or the last one if none exists. `exists` tells whether
    /// a file exists (the caller passes what it observed, so that the choice is made on one
    /// consistent view of the disk).
    pub fn default_file(&self, exists: impl Fn(&Path) -> bool) -> &Path {
        self.files
            .iter()
            .find(|f| exists(f))
            .or_else(|| self.files.last())
            .map(PathBuf::as_path)
            .unwrap_or_else(|| Path::new(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env(paths: &[&str]) -> OsString {
        std::env::join_paths(paths).unwrap()
    }

    #[test]
    fn explicit_path_wins_over_env_and_home() {
        let p = KubeconfigPaths::resolve(
            Some(Path::new("/x/config")),
            Some(&env(&["/a", "/b"])),
            Some(Path::new("/home/u")),
        )
        .unwrap();
        assert_eq!(p.files(), [PathBuf::from("/x/config")]);
        assert_eq!(p.source(), PathSource::Explicit);
    }

    #[test]
    fn env_list_skips_empty_entries_and_keeps_first_of_duplicates() {
        let value = OsString::from("/a::/b:/a:/c:");
        let p = KubeconfigPaths::resolve(None, Some(&value), Some(Path::new("/h"))).unwrap();
        assert_eq!(
            p.files(),
            [
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/c")
            ]
        );
        assert_eq!(p.source(), PathSource::Env);
    }

    #[test]
    fn a_kubeconfig_of_separators_only_names_no_file_and_never_falls_back_to_home() {
        let err = KubeconfigPaths::resolve(None, Some(&OsString::from(":")), Some(Path::new("/h")))
            .unwrap_err();
        assert!(matches!(err, Error::NoFileInKubeconfigEnv { .. }), "{err}");
        assert!(err.to_string().contains("names no file"), "{err}");
    }

    #[test]
    fn home_default_when_env_is_unset_or_empty() {
        for value in [None, Some(OsString::new())] {
            let p = KubeconfigPaths::resolve(None, value.as_deref(), Some(Path::new("/home/u")))
                .unwrap();
            assert_eq!(p.files(), [PathBuf::from("/home/u/.kube/config")]);
            assert_eq!(p.source(), PathSource::Home);
        }
    }

    #[test]
    fn nothing_to_go_on_is_an_error() {
        let err = KubeconfigPaths::resolve(None, None, None).unwrap_err();
        assert!(matches!(err, Error::NoPath));
        assert_eq!(err.remedy(), Some(crate::Remedy::NameAFile));
        assert!(err.to_string().contains("name a file"), "{err}");
    }

    #[test]
    fn default_file_is_first_existing_else_last() {
        let p = KubeconfigPaths::resolve(None, Some(&env(&["/a", "/b", "/c"])), None).unwrap();
        assert_eq!(
            p.default_file(|f| f == Path::new("/b") || f == Path::new("/c")),
            Path::new("/b")
        );
        assert_eq!(p.default_file(|_| false), Path::new("/c"));
    }
}

//! The rules that differ by platform, as pure functions of (platform, environment), so that each
//! platform's rules are tested on any machine. The sources are named at each rule and in its test.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// A platform whose rules differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Platform {
    /// Linux (and every Unix but macOS).
    Linux,
    /// macOS.
    MacOs,
    /// Windows.
    Windows,
}

/// Reads one environment variable.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

fn var(env: Env<'_>, name: &str) -> Option<OsString> {
    env(name).filter(|v| !v.is_empty())
}

impl Platform {
    /// The platform this program was built for.
    pub const fn current() -> Self {
        if cfg!(windows) {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::MacOs
        } else {
            Platform::Linux
        }
    }

    /// The separator of `KUBECONFIG`'s list: `;` on Windows, `:` elsewhere (Go's
    /// `filepath.SplitList`, which client-go's loading rules use).
    pub const fn kubeconfig_separator(self) -> char {
        match self {
            Platform::Windows => ';',
            Platform::Linux | Platform::MacOs => ':',
        }
    }

    /// The files `KUBECONFIG` names, empty entries skipped (client-go skips them too).
    pub fn split_kubeconfig(self, value: &OsStr) -> Vec<PathBuf> {
        let text = value.to_string_lossy();
        text.split(self.kubeconfig_separator())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect()
    }

    /// The home directory as client-go's `homedir.HomeDir()` chooses it. Unix: `HOME`. Windows: the first
    /// of `HOME`, `HOMEDRIVE`+`HOMEPATH`, `USERPROFILE` that holds `.kube\config`; else the first of `HOME`,
    /// `USERPROFILE`, `HOMEDRIVE`+`HOMEPATH` that is an existing directory; else the first that is set.
    pub fn home_dir(
        self,
        env: Env<'_>,
        is_file: &dyn Fn(&Path) -> bool,
        is_dir: &dyn Fn(&Path) -> bool,
    ) -> Option<PathBuf> {
        if self != Platform::Windows {
            return var(env, "HOME").map(PathBuf::from);
        }
        let home = var(env, "HOME").map(PathBuf::from);
        let drive_path = match (var(env, "HOMEDRIVE"), var(env, "HOMEPATH")) {
            (Some(drive), Some(path)) => {
                let mut joined = drive;
                joined.push(path);
                Some(PathBuf::from(joined))
            }
            _ => None,
        };
        let profile = var(env, "USERPROFILE").map(PathBuf::from);
        let with_config = [&home, &drive_path, &profile]
            .into_iter()
            .flatten()
            .find(|p| is_file(&p.join(".kube").join("config")));
        if let Some(found) = with_config {
            return Some(found.clone());
        }
        let candidates: Vec<&PathBuf> = [&home, &profile, &drive_path]
            .into_iter()
            .flatten()
            .collect();
        candidates
            .iter()
            .find(|p| is_dir(p))
            .or_else(|| candidates.first())
            .map(|p| (*p).clone())
    }

    /// Where the official SDK's profile file is: `~/.huaweicloud/credentials`, with `~` as Python's
    /// `os.path.expanduser` has it (Unix: `HOME`; Windows: `USERPROFILE`, else `HOMEDRIVE`+`HOMEPATH`).
    pub fn credentials_file(self, env: Env<'_>) -> Option<PathBuf> {
        let home = match self {
            Platform::Windows => var(env, "USERPROFILE").map(PathBuf::from).or_else(|| {
                let mut joined = var(env, "HOMEDRIVE")?;
                joined.push(var(env, "HOMEPATH")?);
                Some(PathBuf::from(joined))
            }),
            Platform::Linux | Platform::MacOs => var(env, "HOME").map(PathBuf::from),
        }?;
        Some(home.join(".huaweicloud").join("credentials"))
    }

    /// The directory of the credential plugin's cache: `CCE_AUTOPILOT_CACHE_DIR`; else on Windows
    /// `%LOCALAPPDATA%\cce-autopilot\credentials` (the per-user, non-roaming place for caches); elsewhere
    /// `$XDG_CACHE_HOME/cce-autopilot/credentials` when that is an absolute path (the XDG rule), else
    /// `$HOME/.cache/cce-autopilot/credentials`.
    pub fn cache_dir(self, env: Env<'_>, home: Option<&Path>) -> Option<PathBuf> {
        if let Some(dir) = var(env, "CCE_AUTOPILOT_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        let base = match self {
            Platform::Windows => var(env, "LOCALAPPDATA")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute() || p.to_string_lossy().contains(':'))
                .or_else(|| home.map(|h| h.join(".cache")))?,
            Platform::Linux | Platform::MacOs => var(env, "XDG_CACHE_HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .or_else(|| home.map(|h| h.join(".cache")))?,
        };
        Some(base.join("cce-autopilot").join("credentials"))
    }

    /// The file name of a program called `stem`: `stem.exe` on Windows, where kubectl runs an exec
    /// plugin by that name.
    pub fn executable_name(self, stem: &str) -> String {
        match self {
            Platform::Windows => format!("{stem}.exe"),
            Platform::Linux | Platform::MacOs => stem.to_owned(),
        }
    }
}

/// This process's home directory by [`Platform::home_dir`] (client-go's rule), from its environment.
pub fn process_home() -> Option<PathBuf> {
    Platform::current().home_dir(&|k| std::env::var_os(k), &Path::is_file, &Path::is_dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        move |k| map.get(k).cloned()
    }

    const ALL: [Platform; 3] = [Platform::Linux, Platform::MacOs, Platform::Windows];

    /// client-go `clientcmd.NewDefaultClientConfigLoadingRules`: `filepath.SplitList(KUBECONFIG)`; Go's
    /// `filepath.ListSeparator` is ';' on Windows and ':' elsewhere.
    #[test]
    fn kubeconfig_is_split_on_the_platforms_list_separator() {
        let value = OsStr::new("C:\\a\\config;C:\\b\\config");
        assert_eq!(
            Platform::Windows.split_kubeconfig(value),
            [
                PathBuf::from("C:\\a\\config"),
                PathBuf::from("C:\\b\\config")
            ]
        );
        for unix in [Platform::Linux, Platform::MacOs] {
            assert_eq!(
                unix.split_kubeconfig(OsStr::new("/a::/b:")),
                [PathBuf::from("/a"), PathBuf::from("/b")]
            );
        }
        // A drive letter's colon is no separator on Windows.
        assert_eq!(
            Platform::Windows
                .split_kubeconfig(OsStr::new("C:\\k"))
                .len(),
            1
        );
    }

    /// client-go `util/homedir.HomeDir()`: `HOME` on Unix; on Windows the first of HOME,
    /// HOMEDRIVE+HOMEPATH, USERPROFILE holding `.kube\config`, else the first existing of HOME,
    /// USERPROFILE, HOMEDRIVE+HOMEPATH, else the first set.
    #[test]
    fn home_follows_client_go() {
        let env = env_of(&[
            ("HOME", "/h"),
            ("USERPROFILE", "C:\\Users\\u"),
            ("HOMEDRIVE", "D:"),
            ("HOMEPATH", "\\hp"),
        ]);
        let none = |_: &Path| false;
        for unix in [Platform::Linux, Platform::MacOs] {
            assert_eq!(unix.home_dir(&env, &none, &none), Some(PathBuf::from("/h")));
        }
        let w = Platform::Windows;
        // Nothing exists: the first set, HOME.
        assert_eq!(w.home_dir(&env, &none, &none), Some(PathBuf::from("/h")));
        // HOMEDRIVE+HOMEPATH holds a kubeconfig: it wins over USERPROFILE.
        let has_config = |p: &Path| {
            p == Path::new("D:\\hp/.kube/config")
                || p == Path::new("D:\\hp").join(".kube").join("config")
        };
        assert_eq!(
            w.home_dir(&env, &has_config, &none),
            Some(PathBuf::from("D:\\hp"))
        );
        // No kubeconfig anywhere, USERPROFILE exists: it wins over HOMEDRIVE+HOMEPATH.
        let no_home = env_of(&[
            ("USERPROFILE", "C:\\Users\\u"),
            ("HOMEDRIVE", "D:"),
            ("HOMEPATH", "\\hp"),
        ]);
        let dirs = |p: &Path| p == Path::new("C:\\Users\\u") || p == Path::new("D:\\hp");
        assert_eq!(
            w.home_dir(&no_home, &none, &dirs),
            Some(PathBuf::from("C:\\Users\\u"))
        );
        assert_eq!(w.home_dir(&env_of(&[]), &none, &none), None);
    }

    /// The official SDK (huaweicloudsdkcore `auth/provider.py`): `os.path.expanduser("~")` joined with
    /// `.huaweicloud/credentials`; `expanduser` takes USERPROFILE, else HOMEDRIVE+HOMEPATH, on Windows.
    #[test]
    fn the_sdk_profile_file_is_under_the_users_home() {
        let env = env_of(&[("HOME", "/h"), ("USERPROFILE", "C:\\Users\\u")]);
        for unix in [Platform::Linux, Platform::MacOs] {
            assert_eq!(
                unix.credentials_file(&env),
                Some(PathBuf::from("/h/.huaweicloud/credentials"))
            );
        }
        assert_eq!(
            Platform::Windows.credentials_file(&env),
            Some(
                PathBuf::from("C:\\Users\\u")
                    .join(".huaweicloud")
                    .join("credentials")
            )
        );
        let drive = env_of(&[("HOMEDRIVE", "D:"), ("HOMEPATH", "\\hp")]);
        assert_eq!(
            Platform::Windows.credentials_file(&drive),
            Some(
                PathBuf::from("D:\\hp")
                    .join(".huaweicloud")
                    .join("credentials")
            )
        );
    }

    /// Our rule, kubectl's shape: an override variable first; XDG on Linux and macOS (as kubectl's own
    /// `~/.kube/cache` lives under the home); `%LOCALAPPDATA%` on Windows.
    #[test]
    fn the_cache_directory_per_platform() {
        let home = Path::new("/h");
        let set = env_of(&[("CCE_AUTOPILOT_CACHE_DIR", "/override")]);
        for p in ALL {
            assert_eq!(
                p.cache_dir(&set, Some(home)),
                Some(PathBuf::from("/override"))
            );
        }
        let xdg = env_of(&[
            ("XDG_CACHE_HOME", "/x"),
            ("LOCALAPPDATA", "C:\\Users\\u\\AppData\\Local"),
        ]);
        assert_eq!(
            Platform::Linux.cache_dir(&xdg, Some(home)),
            Some(PathBuf::from("/x/cce-autopilot/credentials"))
        );
        assert_eq!(
            Platform::Windows.cache_dir(&xdg, Some(home)),
            Some(
                PathBuf::from("C:\\Users\\u\\AppData\\Local")
                    .join("cce-autopilot")
                    .join("credentials")
            )
        );
        let relative = env_of(&[("XDG_CACHE_HOME", "rel")]);
        assert_eq!(
            Platform::MacOs.cache_dir(&relative, Some(home)),
            Some(PathBuf::from("/h/.cache/cce-autopilot/credentials"))
        );
        assert_eq!(Platform::Linux.cache_dir(&env_of(&[]), None), None);
    }

    /// kubectl runs an exec plugin by the `command` of the entry; on Windows the program is `*.exe`.
    #[test]
    fn the_exec_command_names_the_executable() {
        assert_eq!(
            Platform::Windows.executable_name("cce-autopilot"),
            "cce-autopilot.exe"
        );
        assert_eq!(
            Platform::Linux.executable_name("cce-autopilot"),
            "cce-autopilot"
        );
        assert_eq!(
            Platform::MacOs.executable_name("cce-autopilot"),
            "cce-autopilot"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_build_follows_the_linux_rules() {
        assert_eq!(Platform::current(), Platform::Linux);
    }
}

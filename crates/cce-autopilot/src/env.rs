//! Where configuration comes from: environment variables and the home directory, injectable for tests.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The environment the client reads its configuration from.
///
/// [`Environment::process`] reads the real process environment and home directory (the default);
/// [`Environment::empty`] and [`Environment::var`] build one by hand, so tests and embedding programs never
/// depend on (or leak into) the process environment. `Debug` shows variable names, never values.
#[derive(Clone, Default)]
pub struct Environment {
    /// `None`: the process environment.
    vars: Option<BTreeMap<String, String>>,
    /// `None` with `vars == None`: the process's `HOME`.
    home: Option<PathBuf>,
}

impl Environment {
    /// The process environment and the user's home directory.
    pub fn process() -> Self {
        Environment::default()
    }

    /// No variables and no home directory.
    pub fn empty() -> Self {
        Environment {
            vars: Some(BTreeMap::new()),
            home: None,
        }
    }

    /// The same environment with variable `name` set (turns a process environment into a snapshot of it).
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars
            .get_or_insert_with(|| std::env::vars().collect())
            .insert(name.into(), value.into());
        self
    }

    /// The same environment without variable `name` (turns a process environment into a snapshot of it).
    pub fn without(&self, name: &str) -> Self {
        let mut env = self.clone();
        env.vars
            .get_or_insert_with(|| std::env::vars().collect())
            .remove(name);
        env
    }

    /// The same environment with another home directory (where `~/.huaweicloud` is looked for).
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// The value of variable `name`; empty values count as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match &self.vars {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// The home directory, if known.
    pub fn home_dir(&self) -> Option<PathBuf> {
        match (&self.home, &self.vars) {
            (Some(home), _) => Some(home.clone()),
            (None, Some(_)) => self.get("HOME").map(PathBuf::from),
            (None, None) => std::env::home_dir(),
        }
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.vars {
            None => f.write_str("Environment(process)"),
            Some(vars) => f
                .debug_struct("Environment")
                .field("vars", &vars.keys().collect::<Vec<_>>())
                .field("home", &self.home)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let env = Environment::empty().var("A", "1").var("B", " ");
        assert_eq!(env.get("A").as_deref(), Some("1"));
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C"), None);
    }

    #[test]
    fn home_comes_from_the_override_then_home_var() {
        let env = Environment::empty().var("HOME", "/h");
        assert_eq!(env.home_dir(), Some(PathBuf::from("/h")));
        assert_eq!(env.home("/x").home_dir(), Some(PathBuf::from("/x")));
        assert_eq!(Environment::empty().home_dir(), None);
    }

    #[test]
    fn debug_shows_names_not_values() {
        let env = Environment::empty().var("HUAWEICLOUD_SDK_SK", "very-secret");
        let debug = format!("{env:?}");
        assert!(debug.contains("HUAWEICLOUD_SDK_SK"));
        assert!(!debug.contains("very-secret"));
    }
}

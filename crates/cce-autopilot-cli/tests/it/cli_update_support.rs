//! Helpers shared by the `cli_update*` tests: an emulator on its own runtime, the `cce-autopilot`
//! binary run against it with a cleared environment and a temporary HOME, and kubectl as the judge
//! (always with that HOME and an explicit kubeconfig, never the real `~/.kube`).
#![allow(dead_code, missing_docs)]

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cce_autopilot_emulator::{Emulator, EmulatorBuilder, EmulatorHandle, demo};
use cce_autopilot_kubeconfig::KubeconfigFile;
use serde_json::Value;

pub const KUBECTL: &str = "/usr/bin/kubectl";
pub const BIN: &str = env!("CARGO_BIN_EXE_cce-autopilot");

/// The demo emulator's clusters.
pub const PRIVATE: &str = demo::PRIVATE_CLUSTER_ID;
pub const PUBLIC: &str = demo::PUBLIC_CLUSTER_ID;

/// The name the emulator gives a cluster: the demo clusters' names, else `cluster-<id prefix>`.
pub fn name_of(cluster_id: &str) -> String {
    match cluster_id {
        PRIVATE => demo::PRIVATE_CLUSTER_NAME.to_owned(),
        PUBLIC => demo::PUBLIC_CLUSTER_NAME.to_owned(),
        other => format!("cluster-{}", &other[..other.len().min(8)])
            .trim_end_matches('-')
            .to_owned(),
    }
}

/// Default names when no `--region` is given: the scope is the endpoint's host, then the cluster's name.
pub fn ctx(cluster_id: &str, access: &str) -> String {
    format!("cce_127.0.0.1_{}_{access}", name_of(cluster_id))
}

pub fn user(cluster_id: &str) -> String {
    format!("cce_127.0.0.1_{}_user", name_of(cluster_id))
}

/// The names when the cluster's name cannot be had (credentials that may not list): the id.
pub fn ctx_by_id(cluster_id: &str, access: &str) -> String {
    format!("cce_127.0.0.1_{cluster_id}_{access}")
}

/// An emulator, a temporary HOME, and the commands to run against them.
pub struct World {
    pub emu: EmulatorHandle,
    pub home: tempfile::TempDir,
}

impl World {
    /// The demo emulator: one private and one public cluster.
    pub fn new() -> World {
        World::with(Emulator::builder())
    }

    pub fn with(builder: EmulatorBuilder) -> World {
        let emu = builder.start_background().expect("emulator starts");
        let home = tempfile::tempdir().expect("temporary HOME");
        World { emu, home }
    }

    /// `$HOME/.kube/config`.
    pub fn default_config(&self) -> PathBuf {
        self.home.path().join(".kube").join("config")
    }

    /// A path in HOME.
    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// `cce-autopilot --endpoint <emulator> --project-id <its project> ARGS` with only HOME, PATH
    /// and the emulator's key pair in the environment.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command_at(self.emu.url(), args)
    }

    /// [`World::command`] with another `--endpoint` (a hostile server, say).
    pub fn command_at<I, S>(&self, endpoint: &str, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
            .env("HOME", self.home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("HUAWEICLOUD_SDK_AK", self.emu.access_key())
            .env("HUAWEICLOUD_SDK_SK", self.emu.secret_key())
            .arg("--endpoint")
            .arg(endpoint)
            .arg("--project-id")
            .arg(self.emu.project_id())
            .args(args);
        cmd
    }

    /// Runs [`World::command_at`] to completion.
    pub fn run_at(&self, endpoint: &str, args: &[&str]) -> Run {
        Run::from(
            self.command_at(endpoint, args)
                .output()
                .expect("cce-autopilot runs"),
        )
    }

    /// Runs `cce-autopilot … ARGS` to completion.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run::from(self.command(args).output().expect("cce-autopilot runs"))
    }

    /// Runs `cce-autopilot … ARGS` with one more environment variable.
    pub fn run_with_env<I, S>(&self, key: &str, value: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(args);
        cmd.env(key, value);
        Run::from(cmd.output().expect("cce-autopilot runs"))
    }

    /// `cce-autopilot --endpoint <other> --project-id <its project> ARGS` with this HOME and `other`'s keys.
    pub fn run_in<I, S>(&self, other: &EmulatorHandle, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = Command::new(BIN)
            .env_clear()
            .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
            .env("HOME", self.home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("HUAWEICLOUD_SDK_AK", other.access_key())
            .env("HUAWEICLOUD_SDK_SK", other.secret_key())
            .arg("--endpoint")
            .arg(other.url())
            .arg("--project-id")
            .arg(other.project_id())
            .args(args)
            .output()
            .expect("cce-autopilot runs");
        Run::from(out)
    }

    /// `kubectl --kubeconfig FILE --context CONTEXT get --raw /version` with the emulator's key pair in
    /// the environment, as an exec plugin entry needs: the stub's `gitVersion`.
    pub fn kubectl_version_with_keys(&self, file: &Path, context: &str) -> String {
        let out = Command::new(KUBECTL)
            .env_clear()
            .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
            .env("HOME", self.home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("HUAWEICLOUD_SDK_AK", self.emu.access_key())
            .env("HUAWEICLOUD_SDK_SK", self.emu.secret_key())
            .arg("--kubeconfig")
            .arg(file)
            .args([
                "--context",
                context,
                "--request-timeout",
                "20s",
                "get",
                "--raw",
                "/version",
            ])
            .output()
            .expect("kubectl runs");
        let run = Run::from(out);
        run.success("kubectl get --raw /version through the plugin");
        let v: Value = serde_json::from_str(&run.stdout).expect("/version is JSON");
        v["gitVersion"].as_str().unwrap_or_default().to_owned()
    }

    /// `cce-autopilot kubeconfig ARGS` (remove, prune, refresh, …).
    pub fn kubeconfig(&self, args: &[&str]) -> Run {
        self.run(["kubeconfig"].iter().chain(args))
    }

    /// `cce-autopilot kubeconfig update ARGS`.
    pub fn update(&self, args: &[&str]) -> Run {
        self.run(["kubeconfig", "update"].iter().chain(args))
    }

    /// kubectl with this HOME and nothing else from the environment.
    pub fn kubectl<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = Command::new(KUBECTL)
            .env_clear()
            .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
            .env("HOME", self.home.path())
            .env("PATH", "/usr/bin:/bin")
            .args(args)
            .output()
            .expect("kubectl runs");
        Run::from(out)
    }

    /// `kubectl --kubeconfig FILE config view --minify --context CONTEXT -o json`, which fails on a
    /// file kubectl refuses or a context whose cluster or user is missing.
    pub fn kubectl_accepts(&self, file: &Path, context: &str) -> Value {
        let run = self.kubectl([
            OsStr::new("--kubeconfig"),
            file.as_os_str(),
            OsStr::new("config"),
            OsStr::new("view"),
            OsStr::new("--minify"),
            OsStr::new("--raw"),
            OsStr::new("-o"),
            OsStr::new("json"),
            OsStr::new("--context"),
            OsStr::new(context),
        ]);
        run.success("kubectl config view --minify");
        serde_json::from_str(&run.stdout).expect("kubectl prints JSON")
    }

    /// `kubectl --kubeconfig FILE --context CONTEXT get --raw /version`: the API-server stub's
    /// `gitVersion`.
    pub fn kubectl_version(&self, file: &Path, context: &str) -> String {
        let run = self.kubectl([
            OsStr::new("--kubeconfig"),
            file.as_os_str(),
            OsStr::new("--context"),
            OsStr::new(context),
            OsStr::new("--request-timeout"),
            OsStr::new("20s"),
            OsStr::new("get"),
            OsStr::new("--raw"),
            OsStr::new("/version"),
        ]);
        run.success("kubectl get --raw /version");
        let v: Value = serde_json::from_str(&run.stdout).expect("/version is JSON");
        v["gitVersion"].as_str().unwrap_or_default().to_owned()
    }

    /// The context names kubectl sees in FILE.
    pub fn kubectl_contexts(&self, file: &Path) -> Vec<String> {
        let run = self.kubectl([
            OsStr::new("--kubeconfig"),
            file.as_os_str(),
            OsStr::new("config"),
            OsStr::new("get-contexts"),
            OsStr::new("-o"),
            OsStr::new("name"),
        ]);
        run.success("kubectl config get-contexts");
        run.stdout.lines().map(str::to_owned).collect()
    }
}

/// A finished process.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn success(&self, what: &str) -> &Run {
        assert_eq!(self.code, Some(0), "{what} failed: {self:#?}");
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32, what: &str) -> &Run {
        assert_eq!(self.code, Some(code), "{what}: {self:#?}");
        self
    }
}

/// A parsed kubeconfig file.
pub fn parse(path: &Path) -> KubeconfigFile {
    let bytes = std::fs::read(path).expect("kubeconfig readable");
    KubeconfigFile::from_bytes(&bytes, path).expect("kubeconfig parses")
}

/// A file's permission bits.
pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("file exists")
        .permissions()
        .mode()
        & 0o777
}

pub fn names_of(file: &KubeconfigFile) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        file.clusters.iter().map(|c| c.name.clone()).collect(),
        file.users.iter().map(|u| u.name.clone()).collect(),
        file.contexts.iter().map(|c| c.name.clone()).collect(),
    )
}

/// A hand-written kubeconfig with foreign entries and a custom top-level field.
pub const FOREIGN_YAML: &str = r#"# someone's own kubeconfig
apiVersion: v1
kind: Config
preferences: {colors: true}
clusters:
- name: theirs
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: Q0EK
    extensions:
    - name: vendor.example/thing
      extension: {setting: 1}
users:
- name: someone
  user:
    token: token-of-someone-else-0123456789
contexts:
- name: theirs
  context: {cluster: theirs, user: someone, namespace: team-a}
current-context: theirs
x-custom-top-level: {keep: [1, two]}
"#;

//! Helpers shared by the plugin, inspect and command tests: an
//! emulator serving on a runtime of its own (the tests block on CLI processes), the CLI as a subprocess
//! with a cleared environment (HOME in a temporary directory, credentials only from the variables set
//! here), and in-process fetches for building kubeconfig files.
#![allow(dead_code, unused_imports, missing_docs)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use cce_autopilot::{CertDuration, Client, Credentials, Environment, Kubeconfig, RetryConfig};
use cce_autopilot_emulator::{EmulatorBuilder, EmulatorHandle};

pub use cce_autopilot_emulator::Emulator;
pub use cce_autopilot_emulator::demo::{PRIVATE_CLUSTER_ID, PUBLIC_CLUSTER_ID};

pub const BIN: &str = env!("CARGO_BIN_EXE_cce-autopilot");
pub const KUBECTL: &str = "/usr/bin/kubectl";
pub const EXEC_V1: &str = r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}"#;
pub const EXEC_V1BETA1: &str = r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}"#;

/// An emulator and the runtime it serves on. The handle goes first, so its tasks stop before the runtime.
pub struct Emu {
    pub handle: EmulatorHandle,
    runtime: tokio::runtime::Runtime,
}

impl std::ops::Deref for Emu {
    type Target = EmulatorHandle;
    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

/// The demo emulator (one private, one public cluster, the demo AK/SK).
pub fn emulator() -> Emu {
    start(Emulator::builder())
}

pub fn start(builder: EmulatorBuilder) -> Emu {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("test runtime");
    let handle = runtime.block_on(builder.start()).expect("emulator starts");
    Emu { handle, runtime }
}

impl Emu {
    /// The kubeconfig of `cluster`, fetched in-process with the emulator's first AK/SK.
    pub fn fetch(&self, cluster: &str, days: i32) -> Kubeconfig {
        let client = Client::builder()
            .environment(Environment::empty())
            .endpoint(self.url())
            .project_id(self.project_id())
            .credentials(Credentials::new(self.access_key(), self.secret_key()))
            .retry(RetryConfig::default())
            .build()
            .expect("client");
        let duration = CertDuration::days(days).expect("duration");
        self.runtime
            .block_on(client.cluster_cert(cluster).duration(duration).send())
            .expect("fetch")
            .kubeconfig
    }
}

/// The CLI with nothing of the caller's environment but PATH, and HOME = `home`.
pub fn cli(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(BIN);
    cmd.env_clear()
        .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

/// `credential --cluster-id CLUSTER --endpoint URL --project-id PID` with the emulator's AK/SK in the
/// environment; add --cache-dir etc. with `.args`.
pub fn plugin(emu: &EmulatorHandle, home: &Path, cluster: &str) -> assert_cmd::Command {
    plugin_as(emu, home, cluster, emu.access_key(), emu.secret_key())
}

pub fn plugin_as(
    emu: &EmulatorHandle,
    home: &Path,
    cluster: &str,
    ak: &str,
    sk: &str,
) -> assert_cmd::Command {
    let mut cmd = cli(home);
    cmd.env("HUAWEICLOUD_SDK_AK", ak)
        .env("HUAWEICLOUD_SDK_SK", sk)
        .args(["credential", "--cluster-id", cluster])
        .args(["--endpoint", emu.url(), "--project-id", emu.project_id()]);
    cmd
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// The files of a directory, sorted.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.expect("dir entry").path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The credential cache's entries in `dir` (its `.json` files; the `.lock` files beside them hold nothing).
pub fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    files_in(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect()
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// The notAfter of a PEM certificate, RFC 3339.
pub fn not_after(cert_pem: &str) -> String {
    use cce_autopilot::certificate::{Certificate, rfc3339};
    rfc3339(
        Certificate::from_pem(cert_pem.as_bytes())
            .expect("certificate")
            .not_after()
            .expect("notAfter"),
    )
}

/// Every secret a test output must never contain: the PEM key bodies and their base64, and the SK.
pub fn assert_no_key_material(output: &str, kubeconfig: &Kubeconfig, emu: &EmulatorHandle) {
    assert!(!output.contains("PRIVATE KEY"), "{output}");
    assert!(!output.contains(emu.secret_key()), "{output}");
    for user in &kubeconfig.users {
        if let Some(data) = &user.user.client_key_data {
            assert!(!output.contains(data.as_str()), "{output}");
            let pem = String::from_utf8(unb64(data)).expect("PEM text");
            for line in pem.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!output.contains(line), "key line found in {output}");
            }
        }
    }
}

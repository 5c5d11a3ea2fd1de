//! Never damage what is not ours: outputs that are not regular files, links, manifests given as
//! kubeconfigs, read-only and hard-linked files, other users' files (as root), `KUBECONFIG=":"`, dot ids,
//! and a kubeconfig too large or too hostile. Special files and owners are made in temp dirs only; where
//! the temp mount forbids devices (`nodev`) or the test does not run as root, the case says so and is
//! skipped — the rest of the test still runs.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::cli_update_support;

use std::fs;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Command;

use cce_autopilot_emulator::Emulator;
use cli_update_support::*;

const DEPLOYMENT: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";

fn is_char_device(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

/// A null device (1:3) made in `dir` with mknod, if this machine lets the test make and open one.
fn null_device(dir: &Path) -> Option<std::path::PathBuf> {
    let path = dir.join("null-device");
    let made = Command::new("mknod")
        .arg(&path)
        .args(["c", "1", "3"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !made {
        eprintln!("skipping the character-device case: mknod failed (not root?)");
        return None;
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    if let Err(e) = fs::OpenOptions::new().write(true).open(&path) {
        eprintln!(
            "skipping the character-device case: the temp mount refuses devices (nodev?): {e}"
        );
        return None;
    }
    Some(path)
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[test]
fn get_prints_to_stdout_through_dash_and_through_a_link_to_the_stdout_descriptor() {
    let world = World::new();
    let dash = world.kubeconfig(&["get", "--cluster", PRIVATE, "-o", "-"]);
    dash.success("-o -");
    assert!(dash.stdout.contains("kind: Config"), "{}", dash.stdout);
    assert!(!world.path("-").exists());

    // A temp symlink to /proc/self/fd/1: the CLI's own stdout, a pipe here.
    let link = world.path("stdout-link");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    let through = world.kubeconfig(&["get", "--cluster", PRIVATE, "-o", link.to_str().unwrap()]);
    through.success("-o link to fd 1");
    assert!(
        through.stdout.contains("kind: Config"),
        "{}",
        through.stdout
    );
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    assert!(through.stderr.contains("in place"), "{}", through.stderr);
}

#[test]
fn a_character_device_stays_one_as_output_and_is_refused_as_a_kubeconfig() {
    let world = World::new();
    let Some(device) = null_device(world.home.path()) else {
        return;
    };
    world
        .kubeconfig(&["get", "--cluster", PRIVATE, "-o", device.to_str().unwrap()])
        .success("-o device");
    assert!(
        is_char_device(&device),
        "written in place, never renamed over"
    );

    let issued = world.emu.issued(PRIVATE);
    let run = world.update(&[
        "--kubeconfig",
        device.to_str().unwrap(),
        "--cluster",
        PRIVATE,
    ]);
    run.code(6, "a device as --kubeconfig");
    assert!(
        run.stderr.contains("is a character device"),
        "{}",
        run.stderr
    );
    assert!(is_char_device(&device));
    assert_eq!(
        world.emu.issued(PRIVATE),
        issued,
        "refused before any certificate"
    );
}

#[test]
fn a_fifo_as_kubeconfig_is_refused_without_reading_it() {
    let world = World::new();
    let fifo = world.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    // Reading a FIFO with no writer would block: the command must answer at once.
    let run = world.update(&["--kubeconfig", fifo.to_str().unwrap(), "--cluster", PRIVATE]);
    run.code(6, "a FIFO as --kubeconfig");
    assert!(run.stderr.contains("named pipe"), "{}", run.stderr);
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn a_manifest_given_as_kubeconfig_is_refused_and_left_byte_for_byte() {
    let world = World::new();
    let manifest = world.path("deploy.yaml");
    fs::write(&manifest, DEPLOYMENT).unwrap();
    let run = world.update(&[
        "--kubeconfig",
        manifest.to_str().unwrap(),
        "--cluster",
        PRIVATE,
    ]);
    run.code(6, "kind: Deployment");
    assert!(
        run.stderr.contains("is not a kubeconfig")
            && run
                .stderr
                .contains("no kind \"Deployment\" is registered for version \"apps/v1\""),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&manifest).unwrap(), DEPLOYMENT);
    assert_eq!(world.emu.issued(PRIVATE), 0);
    // kubectl refuses it too.
    let kubectl = world.kubectl(["--kubeconfig", manifest.to_str().unwrap(), "config", "view"]);
    assert_ne!(kubectl.code, Some(0), "kubectl: {}", kubectl.stdout);
}

#[test]
fn a_read_only_file_is_refused_unless_forced() {
    let world = World::new();
    let file = world.path("ro.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
    let run = world.update(&["--kubeconfig", file.to_str().unwrap(), "--cluster", PRIVATE]);
    run.code(6, "read-only");
    assert!(
        run.stderr.contains("read-only (mode 0444)") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), FOREIGN_YAML);

    let forced = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster",
        PRIVATE,
        "--force",
    ]);
    forced.success("--force");
    assert!(forced.stderr.contains("was read-only"), "{}", forced.stderr);
    assert_eq!(mode(&file), 0o600);
    assert!(!world.kubectl_contexts(&file).is_empty());
}

#[test]
fn a_hard_linked_file_is_refused_unless_forced_and_then_the_link_is_broken() {
    let world = World::new();
    let file = world.path("linked.yaml");
    let other = world.path("other-name.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    fs::hard_link(&file, &other).unwrap();
    let run = world.update(&["--kubeconfig", file.to_str().unwrap(), "--cluster", PRIVATE]);
    run.code(6, "hard-linked");
    assert!(
        run.stderr.contains("has 2 hard links") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::metadata(&file).unwrap().nlink(), 2);

    let forced = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster",
        PRIVATE,
        "--force",
    ]);
    forced.success("--force");
    assert!(
        forced.stderr.contains("had 2 hard links"),
        "{}",
        forced.stderr
    );
    assert_eq!(
        fs::read_to_string(&other).unwrap(),
        FOREIGN_YAML,
        "the other name keeps the old content"
    );
    assert_eq!(fs::metadata(&file).unwrap().nlink(), 1);
}

#[test]
fn root_updating_another_user_s_file_gives_it_and_its_backup_back() {
    if !is_root() {
        eprintln!("skipping: only root can give a file to uid 65534");
        return;
    }
    let world = World::new();
    let file = world.path("theirs.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    let run = world.update(&["--kubeconfig", file.to_str().unwrap(), "--cluster", PRIVATE]);
    run.success("update as root");
    assert!(
        run.stderr.contains("mode tightened from 0644 to 0600"),
        "{}",
        run.stderr
    );
    for path in [
        file.clone(),
        cce_autopilot_kubeconfig::backup_path_for(&file),
    ] {
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (65534, 65534),
            "{}",
            path.display()
        );
        assert_eq!(meta.mode() & 0o777, 0o600, "{}", path.display());
    }
    assert!(!world.kubectl_contexts(&file).is_empty());
}

#[test]
fn a_kubeconfig_variable_of_separators_names_no_file_and_home_is_not_touched() {
    let world = World::new();
    let run = world.run_with_env(
        "KUBECONFIG",
        ":",
        ["kubeconfig", "update", "--cluster", PRIVATE],
    );
    run.code(6, "KUBECONFIG=:");
    assert!(run.stderr.contains("names no file"), "{}", run.stderr);
    assert!(
        !world.default_config().exists(),
        "no fallback to ~/.kube/config"
    );
    assert_eq!(world.emu.issued(PRIVATE), 0);
}

#[test]
fn dot_ids_are_refused_before_anything_is_sent() {
    let recorder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    recorder.set_nonblocking(true).unwrap();
    let url = format!("http://{}", recorder.local_addr().unwrap());
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("k.yaml");
    let project = "0123456789abcdef0123456789abcdef";
    let cases: [(&str, &[&str]); 5] = [
        (project, &["kubeconfig", "get", "--cluster", "."]),
        (project, &["kubeconfig", "get", "--cluster", ".."]),
        (project, &["credential", "--cluster", ".."]),
        ("..", &["kubeconfig", "get", "--cluster", PRIVATE]),
        (
            ".",
            &[
                "kubeconfig",
                "update",
                "--cluster",
                PRIVATE,
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
            ],
        ),
    ];
    for (project_id, args) in cases {
        let out = Command::new(BIN)
            .env_clear()
            .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
            .env("HOME", home.path())
            .env("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLEAK00000001")
            .env(
                "HUAWEICLOUD_SDK_SK",
                "exampleSecretKey0000000000000000000000000",
            )
            .args([
                "--endpoint",
                &url,
                "--project-id",
                project_id,
                "--timeout",
                "3s",
            ])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{project_id} {args:?}: {stderr}"
        );
        assert!(stderr.contains("is not an id"), "{stderr}");
    }
    assert!(
        matches!(recorder.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing reached the recorder"
    );
    assert!(!kubeconfig.exists());
}

#[test]
fn a_hundred_thousand_clusters_load_and_merge_and_an_alias_bomb_is_named_in_plain_words() {
    let world = World::new();
    let big = world.path("big.yaml");
    let mut text = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for i in 0..100_000 {
        text.push_str(&format!(
            "- name: c{i}\n  cluster:\n    server: https://10.{}.{}.{}:6443\n",
            i / 65536,
            (i / 256) % 256,
            i % 256
        ));
    }
    fs::write(&big, &text).unwrap();
    world
        .update(&["--kubeconfig", big.to_str().unwrap(), "--cluster", PRIVATE])
        .success("update a 100k-cluster file");
    let written = parse(&big);
    assert_eq!(written.clusters.len(), 100_001);
    let out = world.kubectl([
        "--kubeconfig",
        big.to_str().unwrap(),
        "config",
        "get-clusters",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().count(),
        100_002,
        "a header and every cluster"
    );

    let bomb = world.path("bomb.yaml");
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        yaml.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
    }
    yaml.push_str("apiVersion: v1\nkind: Config\n");
    fs::write(&bomb, &yaml).unwrap();
    let run = world.update(&["--kubeconfig", bomb.to_str().unwrap(), "--cluster", PRIVATE]);
    run.code(6, "alias bomb");
    assert!(
        run.stderr.contains("too complex to read safely"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("budget breached") && !run.stderr.contains("{"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&bomb).unwrap(), yaml);
}

/// A lock in our format naming a process that runs: --force-unlock never removes it, and the message
/// does not suggest it. An empty lock (kubectl's) needs --force-unlock and the user's word that no
/// kubectl runs.
#[test]
fn force_unlock_removes_only_provably_stale_locks() {
    let world = World::new();
    let file = world.path("locked.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    let lock = cce_autopilot_kubeconfig::lock_path_for(&file);
    let mut live = Command::new("sleep").arg("60").spawn().unwrap();
    let held = format!(
        "cce-autopilot kubeconfig lock\npid: {}\nhost: \nsince: 0\ntoken: live\nend\n",
        live.id()
    );
    fs::write(&lock, &held).unwrap();
    let file_arg = file.to_str().unwrap();
    let base = [
        "--kubeconfig",
        file_arg,
        "--cluster",
        PRIVATE,
        "--lock-timeout",
        "1s",
    ];
    let run = world.update(&[&base[..], &["--force-unlock", "--no-kubectl-running"]].concat());
    run.code(6, "a live holder");
    assert!(
        run.stderr.contains("which is still running"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("wait for it to finish"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("rerun with --force-unlock"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(&lock).unwrap(),
        held,
        "the lock survives"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), FOREIGN_YAML);
    live.kill().unwrap();
    live.wait().unwrap();

    // kubectl's lock: empty, its holder unknown.
    fs::write(&lock, "").unwrap();
    let run = world.update(&[&base[..], &["--force-unlock"]].concat());
    run.code(6, "an unknown holder and no confirmation");
    assert!(
        run.stderr.contains("--force-unlock --no-kubectl-running"),
        "{}",
        run.stderr
    );
    assert!(lock.exists());
    let run = world.update(
        &base[..]
            .iter()
            .copied()
            .chain(["--no-kubectl-running"])
            .collect::<Vec<_>>(),
    );
    run.code(2, "--no-kubectl-running needs --force-unlock");
    world
        .update(&[&base[..], &["--force-unlock", "--no-kubectl-running"]].concat())
        .success("confirmed");
    assert!(!lock.exists(), "broken, then ours released");
    assert!(!world.kubectl_contexts(&file).is_empty());
}

/// The cluster CA changes (here: the emulator restarted on the same address without --state-dir, as a
/// CA rotation would do): once `update --exec` wrote the new CA, the plugin's cached certificate (issued
/// under the old CA) is not served again; kubectl works at once.
#[test]
fn after_a_ca_change_the_plugin_fetches_anew_and_kubectl_works_at_once() {
    let world = World::new();
    let file = world.path("exec.yaml");
    let file_arg = file.to_str().unwrap().to_owned();
    let update = |world: &World| {
        world
            .update(&["--kubeconfig", &file_arg, "--cluster", PRIVATE, "--exec"])
            .success("update --exec");
    };
    update(&world);
    let context = ctx(PRIVATE, "internal");
    world.kubectl_version_with_keys(&file, &context);
    let old_ca = world.emu.cluster_ca_pem(PRIVATE).unwrap();

    // The same API address, a new CA.
    let address = world.emu.local_addr();
    let World { emu, home } = world;
    drop(emu);
    let mut restarted = None;
    for _ in 0..50 {
        match Emulator::builder().listen(address).start_background() {
            Ok(emu) => {
                restarted = Some(emu);
                break;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    let world = World {
        emu: restarted.expect("the emulator restarts on its address"),
        home,
    };
    assert_ne!(
        world.emu.cluster_ca_pem(PRIVATE).unwrap(),
        old_ca,
        "a new CA"
    );
    update(&world);
    let after_update = world.emu.issued(PRIVATE);
    // The cached certificate is fresh for hours, but of the old CA: the plugin must not hand it out.
    world.kubectl_version_with_keys(&file, &context);
    assert_eq!(
        world.emu.issued(PRIVATE),
        after_update + 1,
        "the plugin fetched a certificate of the new CA"
    );
}

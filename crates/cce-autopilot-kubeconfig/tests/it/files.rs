//! Where entries land with several files (KUBECONFIG=a:b:c, client-go's rules), and how files
//! are written: 0600, `.bak`, parent directory created.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::support;

use cce_autopilot_kubeconfig::fs::BACKUP_HEADER;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use cce_autopilot_kubeconfig::{
    self as kubefile, ChangeAction, Error, KubeconfigPaths, UpdateOptions, backup_path_for,
    lock_path_for,
};
use support::*;

fn env_paths(files: &[PathBuf]) -> KubeconfigPaths {
    KubeconfigPaths::resolve(None, Some(as_os(&env_list(files))), None).unwrap()
}

const A_YAML: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: shared\n  cluster: {server: https://a}\nusers:\n- name: ua\n  user: {token: ta}\ncontexts:\n- name: ca\n  context: {cluster: shared, user: ua}\n";
const B_YAML: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: shared\n  cluster: {server: https://b-shadowed}\n- name: onlyb\n  cluster: {server: https://b}\ncontexts:\n- name: cb\n  context: {cluster: onlyb, user: ua}\ncurrent-context: cb\n";

#[test]
fn an_existing_entry_is_written_back_to_the_file_it_comes_from() {
    let home = tempfile::tempdir().unwrap();
    let (a, b) = (home.path().join("a"), home.path().join("b"));
    fs::write(&a, A_YAML).unwrap();
    fs::write(&b, B_YAML).unwrap();
    let paths = env_paths(&[a.clone(), b.clone()]);

    // Make "onlyb" ours (force), then update it again normally: it stays in b.
    let mut upsert = upsert_for("x", "https://b2");
    upsert.clusters[0].name = "onlyb".to_owned();
    upsert.contexts[0].context.cluster = Some("onlyb".to_owned());
    let forced = UpdateOptions::default().with_force_replace(true);
    let report = kubefile::update(&paths, upsert.clone(), &forced).unwrap();
    let cluster = &report.changes[0];
    assert_eq!(
        (cluster.action, &cluster.file),
        (ChangeAction::ReplacedForeign, &b)
    );
    // New user and context go to the first existing file, a.
    assert_eq!(report.changes[1].file, a);
    assert_eq!(report.changes[2].file, a);
    assert_eq!(report.written, [a.clone(), b.clone()]);

    upsert.clusters[0].cluster.server = Some("https://b3".to_owned());
    let report = kubefile::update(&paths, upsert, &UpdateOptions::default()).unwrap();
    assert_eq!(report.changes[0].action, ChangeAction::Replaced);
    assert_eq!(report.written, [b.as_path()]);
    assert_eq!(
        parse_file(&b).clusters[1].cluster.server.as_deref(),
        Some("https://b3")
    );
    assert!(!parse_file(&a).contains(kubefile::EntryKind::Cluster, "onlyb"));

    let view = kubectl_view(home.path(), Source::Env(&[a.clone(), b.clone()]));
    assert_eq!(view["current-context"], "cb");
    let x = kubectl_minify(home.path(), Source::Env(&[a.clone(), b.clone()]), "x");
    assert_eq!(x["clusters"][0]["cluster"]["server"], "https://b3");
}

#[test]
fn the_winning_copy_of_a_shadowed_name_is_the_one_checked_and_replaced() {
    let home = tempfile::tempdir().unwrap();
    let (a, b) = (home.path().join("a"), home.path().join("b"));
    fs::write(&a, A_YAML).unwrap();
    fs::write(&b, B_YAML).unwrap();
    let mut upsert = upsert_for("x", "https://new");
    upsert.clusters[0].name = "shared".to_owned();
    upsert.contexts[0].context.cluster = Some("shared".to_owned());
    let err = kubefile::update(
        &env_paths(&[a.clone(), b.clone()]),
        upsert,
        &UpdateOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Collision { path, .. } if path == &a),
        "{err}"
    );
}

#[test]
fn new_entries_go_to_the_first_existing_file() {
    let home = tempfile::tempdir().unwrap();
    let (missing, b, c) = (
        home.path().join("missing"),
        home.path().join("b"),
        home.path().join("c"),
    );
    fs::write(&b, B_YAML).unwrap();
    fs::write(&c, "apiVersion: v1\nkind: Config\n").unwrap();
    let c_before = fs::read(&c).unwrap();
    let list = [missing.clone(), b.clone(), c.clone()];
    let mut upsert = upsert_for("mine", "https://m");
    upsert.current_context = Some("mine".to_owned());
    let report = kubefile::update(&env_paths(&list), upsert, &UpdateOptions::default()).unwrap();
    assert!(report.changes.iter().all(|ch| ch.file == b));
    assert_eq!(report.current_context.as_ref().unwrap().file, b);
    assert_eq!(report.written, [b.as_path()]);
    assert!(!missing.exists());
    assert_eq!(fs::read(&c).unwrap(), c_before);

    let view = kubectl_view(home.path(), Source::Env(&list));
    assert_eq!(view["current-context"], "mine");
    kubectl_minify(home.path(), Source::Env(&list), "mine");
}

#[test]
fn with_no_existing_file_new_entries_go_to_the_last_one() {
    let home = tempfile::tempdir().unwrap();
    let list = [home.path().join("one"), home.path().join("sub/two")];
    let report = kubefile::update(
        &env_paths(&list),
        upsert_for("mine", "https://m"),
        &UpdateOptions::default(),
    )
    .unwrap();
    assert_eq!(report.written, [list[1].clone()]);
    assert!(!list[0].exists() && list[1].exists());
    kubectl_minify(home.path(), Source::Env(&list), "mine");
}

#[test]
fn a_broken_file_anywhere_in_the_list_stops_the_update() {
    let home = tempfile::tempdir().unwrap();
    let (a, b) = (home.path().join("a"), home.path().join("b"));
    fs::write(&a, A_YAML).unwrap();
    fs::write(&b, "clusters: [\n").unwrap();
    let err = kubefile::update(
        &env_paths(&[a.clone(), b.clone()]),
        upsert_for("m", "https://m"),
        &UpdateOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Parse { path, .. } if path == &b),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), A_YAML);
    assert_eq!(dir_entries(home.path()), ["a", "b"]);
}

#[test]
fn a_new_file_is_0600_in_a_new_0700_directory() {
    let home = tempfile::tempdir().unwrap();
    let paths = KubeconfigPaths::resolve(None, None, Some(home.path())).unwrap();
    let report = kubefile::update(
        &paths,
        upsert_for("mine", "https://m"),
        &UpdateOptions::default(),
    )
    .unwrap();
    let file = home.path().join(".kube/config");
    assert_eq!(report.written, [file.as_path()]);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&home.path().join(".kube")), 0o700);
    assert!(!backup_path_for(&file).exists() && !lock_path_for(&file).exists());
    assert_eq!(dir_entries(&home.path().join(".kube")), ["config"]);
    kubectl_minify(home.path(), Source::File(&file), "mine");
}

#[test]
fn an_existing_0644_file_ends_0600_with_its_previous_version_in_bak() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config");
    fs::write(&file, FOREIGN_YAML).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    kubefile::update(
        &KubeconfigPaths::explicit(&file),
        upsert_for("mine", "https://m"),
        &UpdateOptions::default(),
    )
    .unwrap();
    assert_eq!(mode(&file), 0o600);
    let bak = backup_path_for(&file);
    // Marked as ours by its first line, so that a later rewrite may replace it.
    assert_eq!(
        fs::read_to_string(&bak).unwrap(),
        format!("{BACKUP_HEADER}{FOREIGN_YAML}")
    );
    assert_eq!(mode(&bak), 0o600);
    assert_eq!(dir_entries(home.path()), ["config", "config.bak"]);
    // The .bak of a second update is the first update's result.
    let first = fs::read(&file).unwrap();
    kubefile::update(
        &KubeconfigPaths::explicit(&file),
        upsert_for("two", "https://t"),
        &UpdateOptions::default(),
    )
    .unwrap();
    assert_eq!(
        fs::read(&bak).unwrap(),
        [BACKUP_HEADER.as_bytes(), &first].concat()
    );
    kubectl_view(home.path(), Source::File(&bak));
}

/// Writing entry by entry gives the same text as sorting a value of the whole file and writing that.
#[test]
fn the_entry_by_entry_rendering_equals_the_whole_file_one() {
    let file =
        cce_autopilot_kubeconfig::KubeconfigFile::parse(FOREIGN_YAML, Path::new("/t")).unwrap();
    let mut whole = serde_json::to_value(&file).unwrap();
    whole.sort_all_objects();
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    let expected = serde_saphyr::to_string_with_options(&whole, options.clone()).unwrap();
    assert_eq!(file.to_yaml().unwrap(), expected);
    let empty = cce_autopilot_kubeconfig::KubeconfigFile::default();
    let mut whole = serde_json::to_value(&empty).unwrap();
    whole.sort_all_objects();
    let expected = serde_saphyr::to_string_with_options(&whole, options).unwrap();
    assert_eq!(empty.to_yaml().unwrap(), expected);
}

//! Merging into one kubeconfig file: what is kept, what is replaced, what is refused — with
//! kubectl reading every file written.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::support;

use std::fs;
use std::path::Path;

use cce_autopilot_kubeconfig::{
    self as kubefile, ChangeAction, Cluster, EntryKind, Error, KubeconfigFile, KubeconfigPaths,
    NamedCluster, UpdateOptions, backup_path_for, lock_path_for,
};
use serde_json::json;
use support::*;

fn setup(content: Option<&str>) -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config");
    if let Some(text) = content {
        fs::write(&file, text).unwrap();
    }
    (home, file)
}

fn update(file: &Path, upsert: kubefile::Upsert) -> kubefile::Result<kubefile::MergeReport> {
    kubefile::update(
        &KubeconfigPaths::explicit(file),
        upsert,
        &UpdateOptions::default(),
    )
}

#[test]
fn adding_entries_keeps_every_foreign_entry_and_unknown_field() {
    let (home, file) = setup(Some(FOREIGN_YAML));
    let before = parse_file(&file);
    let report = update(&file, upsert_for("mine", "https://192.168.1.7:5443")).unwrap();
    assert_eq!(report.written, [file.as_path()]);
    assert!(
        report
            .changes
            .iter()
            .all(|c| c.action == ChangeAction::Added)
    );

    let after = parse_file(&file);
    assert_eq!(after.clusters[..2], before.clusters[..]);
    assert_eq!(after.users[..1], before.users[..]);
    assert_eq!(after.contexts[..1], before.contexts[..]);
    assert_eq!(after.unknown, before.unknown);
    assert_eq!(after.preferences, before.preferences);
    assert_eq!(after.current_context, before.current_context);
    assert_eq!(
        after.clusters[0].unknown["vendor-entry-field"],
        json!("keep-me")
    );
    assert_eq!(
        after.clusters[0].cluster.unknown["disable-compression"],
        json!(true)
    );
    assert_eq!(after.users[0].user.unknown["as"], json!("impersonated"));
    assert_eq!(
        after.unknown["x-top-level"],
        json!({"nested": [1, "two", {"three": 3}]})
    );

    let view = kubectl_view(home.path(), Source::File(&file));
    assert_eq!(names(&view, "clusters"), ["mine", "other", "theirs"]);
    assert_eq!(names(&view, "contexts"), ["c0", "mine"]);
    assert_eq!(view["current-context"], "c0");
    let mine = kubectl_minify(home.path(), Source::File(&file), "mine");
    assert_eq!(
        mine["clusters"][0]["cluster"]["server"],
        "https://192.168.1.7:5443"
    );
    assert_eq!(mine["users"][0]["user"]["client-key-data"], key_b64());
    // kubectl keeps our owner mark.
    assert_eq!(
        mine["clusters"][0]["cluster"]["extensions"][0]["name"],
        "cce-autopilot.io/owner"
    );
}

#[test]
fn json_input_is_accepted_and_rewritten_as_yaml() {
    let json_text = serde_json::to_string_pretty(&json!({
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": [{"name": "j", "cluster": {"server": "https://j", "x-unknown": [1, 2]}}],
        "users": [{"name": "ju", "user": {"token": "t"}}],
        "contexts": [{"name": "jc", "context": {"cluster": "j", "user": "ju"}}],
        "current-context": "jc"
    }))
    .unwrap();
    let (home, file) = setup(Some(&json_text));
    let before = parse_file(&file);
    update(&file, upsert_for("mine", "https://m")).unwrap();
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("apiVersion: v1\n"), "{text}");
    let after = parse_file(&file);
    assert_eq!(after.clusters[0], before.clusters[0]);
    assert_eq!(
        after.clusters[0].cluster.unknown["x-unknown"],
        json!([1, 2])
    );
    kubectl_minify(home.path(), Source::File(&file), "jc");
    kubectl_minify(home.path(), Source::File(&file), "mine");
}

#[test]
fn an_update_into_a_missing_file_creates_a_file_kubectl_reads() {
    let (home, file) = setup(None);
    let mut upsert = upsert_for("mine", "https://m");
    upsert.current_context = Some("mine".to_owned());
    update(&file, upsert).unwrap();
    let view = kubectl_view(home.path(), Source::File(&file));
    assert_eq!(view["current-context"], "mine");
    kubectl_minify(home.path(), Source::File(&file), "mine");
}

#[test]
fn replacing_our_entry_keeps_its_position_and_everything_else() {
    let (home, file) = setup(Some(FOREIGN_YAML));
    update(&file, upsert_for("mine", "https://old")).unwrap();
    // Something else appends after us, so that "mine" sits in the middle of each list.
    let mut edited = parse_file(&file);
    edited
        .clusters
        .push(NamedCluster::new("later", Cluster::default()));
    fs::write(&file, edited.to_yaml().unwrap()).unwrap();
    let before = parse_file(&file);

    let report = update(&file, upsert_for("mine", "https://new")).unwrap();
    let actions: Vec<_> = report.changes.iter().map(|c| (c.kind, c.action)).collect();
    assert_eq!(
        actions,
        [
            (EntryKind::Cluster, ChangeAction::Replaced),
            (EntryKind::User, ChangeAction::Unchanged),
            (EntryKind::Context, ChangeAction::Unchanged),
        ]
    );
    let after = parse_file(&file);
    let cluster_names: Vec<&str> = after.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cluster_names, ["theirs", "other", "mine", "later"]);
    assert_eq!(
        after.clusters[2].cluster.server.as_deref(),
        Some("https://new")
    );
    let mut expected = before.clone();
    expected.clusters[2].cluster.server = Some("https://new".to_owned());
    assert_eq!(after, expected);
    kubectl_minify(home.path(), Source::File(&file), "mine");
}

#[test]
fn a_second_identical_update_writes_nothing() {
    let (_home, file) = setup(Some(FOREIGN_YAML));
    update(&file, upsert_for("mine", "https://m")).unwrap();
    let bytes = fs::read(&file).unwrap();
    fs::remove_file(backup_path_for(&file)).unwrap();
    let report = update(&file, upsert_for("mine", "https://m")).unwrap();
    assert!(report.is_noop() && report.written.is_empty());
    assert_eq!(fs::read(&file).unwrap(), bytes);
    assert!(!backup_path_for(&file).exists());
}

#[test]
fn a_foreign_entry_of_the_same_name_is_refused_and_the_file_untouched() {
    let (_home, file) = setup(Some(FOREIGN_YAML));
    let before = fs::read(&file).unwrap();
    let err = update(&file, upsert_for("theirs", "https://m")).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, Error::Collision { kind: EntryKind::Cluster, name, path } if name == "theirs" && path == &file),
        "{msg}"
    );
    assert!(
        msg.contains("\"theirs\"")
            && msg.contains("config")
            && msg.contains("replace the existing one"),
        "{msg}"
    );
    assert_eq!(fs::read(&file).unwrap(), before);
    assert_eq!(dir_entries(file.parent().unwrap()), ["config"]);
}

#[test]
fn force_replace_overwrites_a_foreign_entry_in_place() {
    let (home, file) = setup(Some(FOREIGN_YAML));
    let mut upsert = upsert_for("x", "https://forced");
    upsert.clusters[0].name = "theirs".to_owned();
    upsert.contexts[0].context.cluster = Some("theirs".to_owned());
    let opts = UpdateOptions::default().with_force_replace(true);
    let report = kubefile::update(&KubeconfigPaths::explicit(&file), upsert, &opts).unwrap();
    assert_eq!(report.changes[0].action, ChangeAction::ReplacedForeign);
    let after = parse_file(&file);
    assert_eq!(after.clusters[0].name, "theirs");
    assert_eq!(
        after.clusters[0].cluster.server.as_deref(),
        Some("https://forced")
    );
    assert!(after.clusters[0].is_owned());
    kubectl_minify(home.path(), Source::File(&file), "x");
}

#[test]
fn a_file_with_duplicate_names_is_refused_and_left_untouched() {
    let dup = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://a}\n- name: c\n  cluster: {server: https://b}\n";
    let (home, file) = setup(Some(dup));
    // kubectl agrees that the file is broken.
    let out = kubectl(home.path(), Source::File(&file), &["config", "view"]);
    assert!(!out.status.success());
    let err = update(&file, upsert_for("mine", "https://m")).unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateName { kind: EntryKind::Cluster, name, .. } if name == "c"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), dup);
    assert_eq!(dir_entries(home.path()), ["config"]);
}

#[test]
fn an_unparsable_file_is_refused_with_line_and_column_and_left_byte_for_byte() {
    let broken = b"apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: https://a\nusers: []\n\xe2\x9c\x93 tail\n";
    let (home, file) = setup(None);
    fs::write(&file, broken).unwrap();
    let err = update(&file, upsert_for("mine", "https://m")).unwrap_err();
    let Error::Parse {
        path, line, column, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(path, &file);
    assert!(line.is_some() && column.is_some(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("line ") && msg.contains("column ") && msg.contains("config"),
        "{msg}"
    );
    assert_eq!(fs::read(&file).unwrap(), broken);
    assert!(!backup_path_for(&file).exists() && !lock_path_for(&file).exists());
    assert_eq!(dir_entries(home.path()), ["config"]);
}

#[test]
fn a_cluster_with_ca_and_insecure_skip_is_refused() {
    let (_home, file) = setup(Some(FOREIGN_YAML));
    let before = fs::read(&file).unwrap();
    let mut upsert = upsert_for("mine", "https://m");
    upsert.clusters[0].cluster.insecure_skip_tls_verify = Some(true);
    let err = update(&file, upsert).unwrap_err();
    assert!(matches!(err, Error::InsecureWithCa { .. }), "{err}");
    assert!(err.to_string().contains("\"mine\""));

    let mut upsert = upsert_for("mine", "https://m");
    upsert.clusters[0].cluster.certificate_authority_data = None;
    upsert.clusters[0].cluster.certificate_authority = Some("/etc/ca.pem".to_owned());
    upsert.clusters[0].cluster.insecure_skip_tls_verify = Some(true);
    assert!(matches!(
        update(&file, upsert),
        Err(Error::InsecureWithCa { .. })
    ));
    assert_eq!(fs::read(&file).unwrap(), before);
}

#[test]
fn dry_run_writes_nothing_and_shows_no_key_material() {
    let (_home, file) = setup(Some(FOREIGN_YAML));
    let before = fs::read(&file).unwrap();
    let mut upsert = upsert_for("mine", "https://m");
    upsert.users[0].user.token = Some(TOKEN.to_owned());
    upsert.current_context = Some("mine".to_owned());
    let upsert_debug = format!("{upsert:?}");
    assert!(
        !upsert_debug.contains(&key_b64()) && !upsert_debug.contains(TOKEN),
        "{upsert_debug}"
    );
    let opts = UpdateOptions::default().with_dry_run(true);
    let report = kubefile::update(&KubeconfigPaths::explicit(&file), upsert, &opts).unwrap();
    assert!(report.dry_run && report.written.is_empty());
    assert_eq!(fs::read(&file).unwrap(), before);
    assert_eq!(dir_entries(file.parent().unwrap()), ["config"]);

    let text = report.render_redacted();
    for secret in [
        key_b64().as_str(),
        KEY_PEM,
        "MHcCAQEEIBnotarealkey",
        TOKEN,
        "tok-of-someone-else",
    ] {
        assert!(!text.contains(secret), "{secret:?} in:\n{text}");
    }
    assert!(!text.contains(&b64(CERT_PEM)), "{text}");
    assert!(
        text.contains(&format!("REDACTED ({} bytes)", KEY_PEM.len())),
        "{text}"
    );
    // Only what changes: our entries, not the foreign ones.
    assert!(
        !text.contains("theirs") && text.contains("name: mine"),
        "{text}"
    );
    assert!(text.contains("to: mine"), "{text}");
    let parsed: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(parsed["dry-run"], json!(true));
    assert_eq!(parsed["changes"].as_array().unwrap().len(), 3);

    // The report's Debug is just as discreet.
    let debug = format!("{report:?}");
    assert!(
        !debug.contains(&key_b64()) && !debug.contains(TOKEN),
        "{debug}"
    );
}

#[test]
fn debug_of_a_parsed_file_never_shows_keys_or_tokens() {
    let mut upsert = upsert_for("mine", "https://m");
    upsert.users[0].user.token = Some(TOKEN.to_owned());
    let file = KubeconfigFile {
        users: upsert.users,
        ..KubeconfigFile::default()
    };
    let text = file.to_yaml().unwrap();
    let parsed = KubeconfigFile::parse(&text, Path::new("mem")).unwrap();
    let debug = format!("{parsed:?}\n{parsed:#?}");
    assert!(
        !debug.contains(&key_b64()) && !debug.contains(TOKEN),
        "{debug}"
    );
}

#[test]
fn names_yaml_1_1_would_retype_survive_kubectl() {
    let (home, file) = setup(None);
    for name in ["y", "no", "on", "0755", "1e3", "null", "true"] {
        update(&file, upsert_for(name, "https://m")).unwrap();
    }
    let view = kubectl_view(home.path(), Source::File(&file));
    assert_eq!(names(&view, "contexts").len(), 7);
    kubectl_minify(home.path(), Source::File(&file), "no");
}

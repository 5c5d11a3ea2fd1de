//! Kubeconfig files and bodies on any bytes.
//!
//! - The model crate's `Kubeconfig` (the service's JSON answer): whatever deserialises serialises,
//!   reads back equal, and keeps every non-null value of the input ("loses nothing").
//! - The CLI's `KubeconfigFile::from_bytes`: never panics; a file it accepts has no repeated names,
//!   renders to YAML that reads back equal, and takes a fixed upsert through `kubefile::update` (on
//!   a tmpfs file): the result reads back, has no repeated names, holds the upserted entries and the
//!   new current-context, keeps every other entry and top-level field as it was, and a second
//!   identical update changes nothing. The only accepted refusal is a collision with a foreign entry
//!   of an upserted name.
#![no_main]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cce_autopilot_kubeconfig::{
    self as kubefile, Cluster, Context, KubeconfigFile, KubeconfigPaths, Error, NamedCluster,
    NamedContext, NamedUser, UpdateOptions, Upsert, User,
};
use cce_autopilot_model::Kubeconfig;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// The name of every upserted entry.
const NAME: &str = "fuzz";

fuzz_target!(|data: &[u8]| {
    model_json_round_trip(data);
    kubeconfig_file(data);
});

fn model_json_round_trip(data: &[u8]) {
    let Ok(parsed) = serde_json::from_slice::<Kubeconfig>(data) else {
        return;
    };
    let json = serde_json::to_vec(&parsed).expect("a Kubeconfig always serialises");
    let again: Kubeconfig = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("our JSON does not read back: {e}\n{}", show(&json)));
    assert_eq!(again, parsed, "JSON round trip changed the model");

    let input: Value = serde_json::from_slice(data).expect("valid JSON deserialised above");
    let output: Value = serde_json::from_slice(&json).expect("checked above");
    if let Some(path) = lost(&input, &output, String::new()) {
        panic!("{path} lost in the round trip\nin:  {input}\nout: {output}");
    }
}

/// Where `output` fails to hold a non-null value of `input` (objects may gain keys: defaults).
fn lost(input: &Value, output: &Value, at: String) -> Option<String> {
    match (input, output) {
        (Value::Object(i), Value::Object(o)) => i.iter().find_map(|(k, v)| match (v, o.get(k)) {
            (Value::Null, _) => None,
            (_, None) => Some(format!("{at}/{k}")),
            (v, Some(w)) => lost(v, w, format!("{at}/{k}")),
        }),
        (Value::Array(i), Value::Array(o)) if i.len() == o.len() => i
            .iter()
            .zip(o)
            .enumerate()
            .find_map(|(n, (v, w))| lost(v, w, format!("{at}/{n}"))),
        (i, o) if i == o => None,
        _ => Some(at),
    }
}

fn kubeconfig_file(data: &[u8]) {
    let origin = Path::new("/fuzz/config");
    let Ok(file) = KubeconfigFile::from_bytes(data, origin) else {
        return;
    };
    assert_eq!(
        file.duplicate_name(),
        None,
        "parse let a repeated name through"
    );

    let yaml = file
        .to_yaml()
        .unwrap_or_else(|e| panic!("a parsed file does not render: {e}"));
    let again = KubeconfigFile::parse(&yaml, origin)
        .unwrap_or_else(|e| panic!("our YAML does not read back: {e}\n{yaml}"));
    assert_eq!(again, file, "YAML round trip changed the file\n{yaml}");

    merge(data, &file);
}

/// A per-process directory on tmpfs (fsync is free there), else in the temp dir.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let builder = tempfile::Builder::new()
            .prefix("cce-autopilot-fuzz-")
            .tempdir_in(if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            });
        builder.expect("a scratch directory").keep()
    })
}

fn upsert() -> Upsert {
    let mark = json!({"cluster-id": "fuzz-cluster", "access": "internal"});
    Upsert {
        clusters: vec![
            NamedCluster::new(
                NAME,
                Cluster {
                    server: Some("https://192.168.1.7:5443".to_owned()),
                    certificate_authority_data: Some("Q0EK".to_owned()),
                    ..Cluster::default()
                },
            )
            .with_owner_mark(mark.clone()),
        ],
        users: vec![
            NamedUser::new(
                NAME,
                User {
                    client_certificate_data: Some("Q0VSVAo=".to_owned()),
                    client_key_data: Some("S0VZCg==".to_owned()),
                    ..User::default()
                },
            )
            .with_owner_mark(mark.clone()),
        ],
        contexts: vec![
            NamedContext::new(
                NAME,
                Context {
                    cluster: Some(NAME.to_owned()),
                    user: Some(NAME.to_owned()),
                    ..Context::default()
                },
            )
            .with_owner_mark(mark),
        ],
        current_context: Some(NAME.to_owned()),
    }
}

fn merge(data: &[u8], before: &KubeconfigFile) {
    let path = scratch().join("config");
    fs::write(&path, data).expect("writing the scratch kubeconfig");
    let paths = KubeconfigPaths::explicit(&path);
    let upsert = upsert();
    let report = match kubefile::update(&paths, upsert.clone(), &UpdateOptions::default()) {
        Ok(report) => report,
        Err(Error::Collision { kind, name, .. }) => {
            assert_eq!(name, NAME);
            let foreign = match kind {
                kubefile::EntryKind::Cluster => before
                    .clusters
                    .iter()
                    .any(|c| c.name == NAME && !c.is_owned()),
                kubefile::EntryKind::User => {
                    before.users.iter().any(|u| u.name == NAME && !u.is_owned())
                }
                kubefile::EntryKind::Context => before
                    .contexts
                    .iter()
                    .any(|c| c.name == NAME && !c.is_owned()),
                other => panic!("a collision in an unknown list {other:?}"),
            };
            assert!(
                foreign,
                "a collision without a foreign {kind} entry named {NAME}"
            );
            return;
        }
        Err(e) => panic!("update refused a file that parses: {e}"),
    };
    let rendered = report.render_redacted();
    assert!(
        !rendered.contains("S0VZCg=="),
        "the report shows the key:\n{rendered}"
    );

    let written = fs::read(&path).expect("reading the merged file");
    let after = KubeconfigFile::from_bytes(&written, &path).unwrap_or_else(|e| {
        panic!(
            "the merged file does not read back: {e}\n{}",
            show(&written)
        )
    });
    assert_eq!(after.duplicate_name(), None, "the merge repeated a name");

    // Ours: present, as upserted.
    let ours = |c: &NamedCluster| c.name == NAME;
    assert_eq!(
        after
            .clusters
            .iter()
            .filter(|c| ours(c))
            .collect::<Vec<_>>(),
        [&upsert.clusters[0]]
    );
    assert_eq!(
        after
            .users
            .iter()
            .filter(|u| u.name == NAME)
            .collect::<Vec<_>>(),
        [&upsert.users[0]]
    );
    assert_eq!(
        after
            .contexts
            .iter()
            .filter(|c| c.name == NAME)
            .collect::<Vec<_>>(),
        [&upsert.contexts[0]]
    );
    assert_eq!(after.current_context.as_deref(), Some(NAME));

    // Theirs: untouched, in order.
    assert_eq!(
        after
            .clusters
            .iter()
            .filter(|c| !ours(c))
            .collect::<Vec<_>>(),
        before
            .clusters
            .iter()
            .filter(|c| !ours(c))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        after
            .users
            .iter()
            .filter(|u| u.name != NAME)
            .collect::<Vec<_>>(),
        before
            .users
            .iter()
            .filter(|u| u.name != NAME)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        after
            .contexts
            .iter()
            .filter(|c| c.name != NAME)
            .collect::<Vec<_>>(),
        before
            .contexts
            .iter()
            .filter(|c| c.name != NAME)
            .collect::<Vec<_>>()
    );
    assert_eq!(after.api_version, before.api_version);
    assert_eq!(after.kind, before.kind);
    assert_eq!(after.preferences, before.preferences);
    assert_eq!(after.extensions, before.extensions);
    assert_eq!(after.unknown, before.unknown);

    // Idempotent: the same update again finds everything in place.
    let second = kubefile::update(&paths, upsert, &UpdateOptions::default())
        .unwrap_or_else(|e| panic!("a second identical update failed: {e}"));
    assert!(
        second.is_noop(),
        "a second identical update changes something: {second:?}"
    );
    assert!(second.written.is_empty());
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

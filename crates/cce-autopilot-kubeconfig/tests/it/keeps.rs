//! A re-merge keeps what the user added: foreign fields, extensions and unknown keys planted on our
//! entries (at random, by proptest) are all found, unchanged, after a second merge that does replace the
//! fields we own — whether that merge keeps the entries' names or renames them (a new alias).
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::support;

use std::path::Path;

use cce_autopilot_kubeconfig::managed::{
    self, ClusterEntries, EntryOptions, MergeRequest, Naming, Target,
};
use cce_autopilot_kubeconfig::{
    KubeconfigFile, KubeconfigPaths, NamedExtension, OWNER_EXTENSION, UnknownFields, UpdateOptions,
};
use cce_autopilot_model::Kubeconfig;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const CLUSTER_ID: &str = "3f0c9a1e-2b4d-4c6e-8f10-123456789abc";

/// The service's answer for a private cluster, with this server and certificate.
fn fetched(server: &str, cert: &str) -> Kubeconfig {
    serde_json::from_value(json!({
        "kind": "Config", "apiVersion": "v1",
        "clusters": [{"name": "internalCluster", "cluster": {
            "server": server, "certificate-authority-data": support::b64("CA")}}],
        "users": [{"name": "user", "user": {
            "client-certificate-data": support::b64(cert), "client-key-data": support::key_b64()}}],
        "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user"}}],
        "current-context": "internal"
    }))
    .unwrap()
}

fn merge(home: &Path, fetched: &Kubeconfig, alias: Option<&str>) {
    let paths = KubeconfigPaths::resolve(None, None, Some(home)).unwrap();
    let target = Target::new(CLUSTER_ID)
        .with_name(Some("prod".into()))
        .with_service(
            "0123456789abcdef0123456789abcdef",
            "https://cce.cn-north-4.myhuaweicloud.com",
            Some("cn-north-4".into()),
        );
    let entries = ClusterEntries::build(target, fetched, &EntryOptions::default()).unwrap();
    let mut naming = Naming::new("cn-north-4");
    naming.alias = alias.map(str::to_owned);
    let request = MergeRequest::new(vec![entries], naming);
    let outcome = managed::merge(&paths, &request, &UpdateOptions::default()).unwrap();
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
}

fn read(file: &Path) -> KubeconfigFile {
    KubeconfigFile::parse(&std::fs::read_to_string(file).unwrap(), file).unwrap()
}

/// JSON values as YAML can carry them back: no floats (their text may change), any printable strings
/// (including `yes`, `0x1f`, `~`, which YAML 1.1 would retype), nested a little.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            "\\PC{0,16}",
            Just("yes".to_owned()),
            Just("0x1f".to_owned()),
            Just("~".to_owned()),
            Just("012".to_owned()),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z][a-z0-9-]{0,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys no kubeconfig struct knows.
fn unknown_fields() -> impl Strategy<Value = UnknownFields> {
    prop::collection::btree_map("x-[a-z][a-z0-9-]{0,8}", value(), 0..3)
        .prop_map(|m| m.into_iter().collect::<Map<String, Value>>())
}

/// Extensions of other tools (never our owner mark's name).
fn extensions() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::btree_map("[a-z]{1,6}\\.example/[a-z]{1,6}", value(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

#[derive(Debug, Clone)]
struct Planted {
    proxy_url: Option<String>,
    namespace: Option<String>,
    cluster_unknown: UnknownFields,
    cluster_entry_unknown: UnknownFields,
    user_unknown: UnknownFields,
    context_unknown: UnknownFields,
    cluster_extensions: Vec<(String, Value)>,
    user_extensions: Vec<(String, Value)>,
    context_extensions: Vec<(String, Value)>,
}

fn planted() -> impl Strategy<Value = Planted> {
    (
        (
            prop::option::of("http://proxy[0-9]\\.example:3128"),
            prop::option::of("[a-z][a-z0-9-]{0,12}"),
            unknown_fields(),
            unknown_fields(),
            unknown_fields(),
            unknown_fields(),
        ),
        (extensions(), extensions(), extensions()),
    )
        .prop_map(
            |((proxy_url, namespace, cu, ceu, uu, xu), (ce, ue, xe))| Planted {
                proxy_url,
                namespace,
                cluster_unknown: cu,
                cluster_entry_unknown: ceu,
                user_unknown: uu,
                context_unknown: xu,
                cluster_extensions: ce,
                user_extensions: ue,
                context_extensions: xe,
            },
        )
}

fn add_extensions(list: &mut Vec<NamedExtension>, planted: &[(String, Value)]) {
    list.extend(
        planted
            .iter()
            .map(|(name, value)| NamedExtension::new(name.clone(), value.clone())),
    );
}

fn has_extensions(list: &[NamedExtension], planted: &[(String, Value)]) -> bool {
    planted.iter().all(|(name, value)| {
        list.iter()
            .any(|e| &e.name == name && &e.extension == value)
    })
}

fn has_fields(have: &UnknownFields, planted: &UnknownFields) -> bool {
    planted.iter().all(|(k, v)| have.get(k) == Some(v))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_re_merge_keeps_every_foreign_field_and_extension_on_our_entries(
        p in planted(),
        rename in any::<bool>(),
    ) {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join(".kube/config");
        merge(home.path(), &fetched("https://192.168.0.10:5443", "first certificate"), None);

        let mut edited = read(&file);
        prop_assert_eq!((edited.clusters.len(), edited.users.len(), edited.contexts.len()), (1, 1, 1));
        let cluster = &mut edited.clusters[0];
        cluster.cluster.proxy_url.clone_from(&p.proxy_url);
        cluster.cluster.unknown.extend(p.cluster_unknown.clone());
        cluster.unknown.extend(p.cluster_entry_unknown.clone());
        add_extensions(&mut cluster.cluster.extensions, &p.cluster_extensions);
        let user = &mut edited.users[0];
        user.user.unknown.extend(p.user_unknown.clone());
        add_extensions(&mut user.user.extensions, &p.user_extensions);
        let context = &mut edited.contexts[0];
        context.context.namespace.clone_from(&p.namespace);
        context.context.unknown.extend(p.context_unknown.clone());
        add_extensions(&mut context.context.extensions, &p.context_extensions);
        std::fs::write(&file, edited.to_yaml().unwrap()).unwrap();
        prop_assert_eq!(read(&file), edited.clone(), "the planted file reads back as planted");

        // A new certificate, the cluster moved, maybe a new alias: the fields we own change, nothing else.
        let alias = rename.then_some("prod-renamed");
        merge(home.path(), &fetched("https://192.168.0.99:5443", "second certificate"), alias);
        let after = read(&file);
        prop_assert_eq!((after.clusters.len(), after.users.len(), after.contexts.len()), (1, 1, 1));
        if let Some(alias) = alias {
            prop_assert_eq!((&after.clusters[0].name, &after.contexts[0].name), (&alias.to_owned(), &alias.to_owned()));
        }
        let (cluster, user, context) = (&after.clusters[0], &after.users[0], &after.contexts[0]);
        prop_assert_eq!(cluster.cluster.server.as_deref(), Some("https://192.168.0.99:5443"));
        prop_assert_eq!(
            user.user.client_certificate_data.clone(),
            Some(support::b64("second certificate"))
        );
        prop_assert_eq!(&cluster.cluster.proxy_url, &p.proxy_url);
        prop_assert_eq!(&context.context.namespace, &p.namespace);
        prop_assert!(has_fields(&cluster.cluster.unknown, &p.cluster_unknown), "{:?}", cluster);
        prop_assert!(has_fields(&cluster.unknown, &p.cluster_entry_unknown), "{:?}", cluster);
        prop_assert!(has_fields(&user.user.unknown, &p.user_unknown), "{:?}", user);
        prop_assert!(has_fields(&context.context.unknown, &p.context_unknown), "{:?}", context);
        prop_assert!(has_extensions(&cluster.cluster.extensions, &p.cluster_extensions));
        prop_assert!(has_extensions(&user.user.extensions, &p.user_extensions));
        prop_assert!(has_extensions(&context.context.extensions, &p.context_extensions));
        for entry in [&cluster.cluster.extensions, &user.user.extensions, &context.context.extensions] {
            prop_assert_eq!(
                entry.iter().filter(|e| e.name == OWNER_EXTENSION).count(), 1,
                "still ours, marked once"
            );
        }
        // The planted entries minus what we own are the entries after, exactly: nothing lost or added.
        if edited.current_context.as_deref() == Some(edited.contexts[0].name.as_str()) {
            prop_assert_eq!(after.current_context.as_deref(), Some(context.name.as_str()), "follows a rename");
        }
        let mut expected = edited;
        expected.clusters[0].name.clone_from(&cluster.name);
        expected.contexts[0].name.clone_from(&context.name);
        expected.contexts[0].context.cluster.clone_from(&context.context.cluster);
        expected.current_context.clone_from(&after.current_context);
        expected.clusters[0].cluster.server.clone_from(&cluster.cluster.server);
        expected.users[0].user.client_certificate_data.clone_from(&user.user.client_certificate_data);
        expected.clusters[0].cluster.extensions.clone_from(&cluster.cluster.extensions);
        expected.users[0].user.extensions.clone_from(&user.user.extensions);
        expected.contexts[0].context.extensions.clone_from(&context.context.extensions);
        prop_assert_eq!(after, expected);
    }
}

/// kubectl reads a file with planted foreign fields after a re-merge, and sees the namespace and proxy.
#[test]
fn kubectl_reads_the_re_merged_file_with_what_the_user_added() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join(".kube/config");
    merge(
        home.path(),
        &fetched("https://192.168.0.10:5443", "first"),
        None,
    );
    let mut edited = read(&file);
    edited.clusters[0].cluster.proxy_url = Some("http://proxy.example:3128".into());
    edited.clusters[0]
        .cluster
        .unknown
        .insert("disable-compression".into(), json!(true));
    edited.contexts[0].context.namespace = Some("team-a".into());
    add_extensions(
        &mut edited.contexts[0].context.extensions,
        &[("k9s.example/view".into(), json!({"last": "pods"}))],
    );
    std::fs::write(&file, edited.to_yaml().unwrap()).unwrap();
    merge(
        home.path(),
        &fetched("https://192.168.0.10:5443", "second"),
        Some("prod"),
    );

    let view = support::kubectl_view(home.path(), support::Source::File(&file));
    let cluster = &view["clusters"][0]["cluster"];
    assert_eq!(cluster["proxy-url"], "http://proxy.example:3128", "{view}");
    assert_eq!(cluster["disable-compression"], true, "{view}");
    let context = &view["contexts"][0]["context"];
    assert_eq!(context["namespace"], "team-a", "{view}");
    let names: Vec<&str> = context["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"k9s.example/view"), "{view}");
}

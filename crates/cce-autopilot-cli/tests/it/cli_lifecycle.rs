//! The whole life of our entries: re-merges that keep what the user added, renames instead of
//! duplicates, `remove`, `prune`, `refresh`, and the expiry warning — with kubectl judging every file.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::cli_update_support;

use std::fs;
use std::path::Path;

use cce_autopilot_emulator::{Emulator, demo};
use cce_autopilot_kubeconfig::KubeconfigFile;
use cli_update_support::*;
use serde_json::Value;

fn kubectl_ok(world: &World, file: &Path, args: &[&str]) {
    let mut all = vec!["--kubeconfig", file.to_str().unwrap()];
    all.extend_from_slice(args);
    world.kubectl(all).success("kubectl");
}

#[test]
fn a_namespace_and_a_proxy_url_set_with_kubectl_survive_a_re_merge() {
    let world = World::new();
    let file = world.path("edits.yaml");
    let path = file.to_str().unwrap();
    world
        .update(&[
            "--kubeconfig",
            path,
            "--cluster",
            demo::PRIVATE_CLUSTER_NAME,
        ])
        .success("first merge");
    let context = ctx(PRIVATE, "internal");
    kubectl_ok(
        &world,
        &file,
        &["config", "set-context", "--current", "--namespace=team-a"],
    );
    kubectl_ok(
        &world,
        &file,
        &[
            "config",
            "set-cluster",
            &context,
            "--proxy-url=http://proxy.example:3128",
        ],
    );
    kubectl_ok(
        &world,
        &file,
        &[
            "config",
            "set",
            &format!("clusters.{context}.disable-compression"),
            "true",
        ],
    );

    let run = world.update(&[
        "--kubeconfig",
        path,
        "--cluster",
        demo::PRIVATE_CLUSTER_NAME,
    ]);
    run.success("re-merge");
    let view = world.kubectl_accepts(&file, &context);
    assert_eq!(view["contexts"][0]["context"]["namespace"], "team-a");
    assert_eq!(
        view["clusters"][0]["cluster"]["proxy-url"],
        "http://proxy.example:3128"
    );
    assert_eq!(view["clusters"][0]["cluster"]["disable-compression"], true);
    assert!(
        run.stderr.contains(&format!(
            "updated user {}: client-certificate-data, client-key-data",
            user(PRIVATE)
        )),
        "only our fields change: {}",
        run.stderr
    );
    let after = parse(&file);
    assert_eq!(after.contexts.len(), 1);
}

#[test]
fn a_new_alias_renames_the_entries_instead_of_adding_more() {
    let world = World::new();
    let file = world.path("aliases.yaml");
    let path = file.to_str().unwrap();
    fs::write(&file, FOREIGN_YAML).unwrap();
    world
        .update(&["--kubeconfig", path, "--cluster", PRIVATE, "--alias", "a"])
        .success("--alias a");
    kubectl_ok(&world, &file, &["config", "use-context", "a"]);
    let run = world.update(&[
        "--kubeconfig",
        path,
        "--cluster",
        PRIVATE,
        "--alias",
        "b",
        "--set-current-context=false",
    ]);
    run.success("--alias b");
    let after = parse(&file);
    let ours: Vec<&str> = after
        .contexts
        .iter()
        .filter(|c| c.owner_mark().is_some())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        ours,
        ["b"],
        "exactly one context for this cluster and access"
    );
    assert_eq!(
        after
            .clusters
            .iter()
            .filter(|c| c.owner_mark().is_some())
            .count(),
        1
    );
    assert_eq!(
        after.current_context(),
        Some("b"),
        "current-context follows the rename"
    );
    assert!(
        run.stderr.contains("renamed context b (was a)"),
        "{}",
        run.stderr
    );
    world.kubectl_accepts(&file, "b");
    world.kubectl_accepts(&file, "theirs");
}

/// The foreign entries of a file, as JSON text each: what `remove` must leave exactly as it was.
fn foreign_entries(file: &KubeconfigFile) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    out.extend(
        file.clusters
            .iter()
            .filter(|c| c.owner_mark().is_none())
            .map(|c| serde_json::to_string(c).unwrap()),
    );
    out.extend(
        file.users
            .iter()
            .filter(|u| u.owner_mark().is_none())
            .map(|u| serde_json::to_string(u).unwrap()),
    );
    out.extend(
        file.contexts
            .iter()
            .filter(|c| c.owner_mark().is_none())
            .map(|c| serde_json::to_string(c).unwrap()),
    );
    out
}

#[test]
fn remove_takes_only_our_entries_of_the_cluster_and_its_cached_certificates() {
    let world = World::new();
    let file = world.path("remove.yaml");
    let path = file.to_str().unwrap();
    fs::write(&file, FOREIGN_YAML).unwrap();
    world
        .update(&[
            "--kubeconfig",
            path,
            "--cluster",
            demo::PUBLIC_CLUSTER_NAME,
            "--access",
            "both",
        ])
        .success("public");
    world
        .update(&[
            "--kubeconfig",
            path,
            "--cluster",
            demo::PRIVATE_CLUSTER_NAME,
            "--exec",
        ])
        .success("private, exec");
    // A cached certificate of the private cluster, as kubectl would leave it.
    world.kubectl_version_with_keys(&file, &ctx(PRIVATE, "internal"));
    let cache = world.home.path().join(".cache/cce-autopilot/credentials");
    assert_eq!(cache_json(&cache), 1);
    let before = parse(&file);

    let run = world.kubeconfig(&[
        "remove",
        "--kubeconfig",
        path,
        "--cluster",
        demo::PRIVATE_CLUSTER_NAME,
    ]);
    run.success("remove");
    let after = parse(&file);
    assert!(
        !fs::read_to_string(&file).unwrap().contains(PRIVATE),
        "no entry of the cluster is left"
    );
    assert_eq!(
        foreign_entries(&after),
        foreign_entries(&before),
        "foreign entries untouched"
    );
    assert_eq!(after.unknown, before.unknown);
    assert_eq!(after.current_context(), None, "it named a removed context");
    assert!(
        run.stderr.contains("current context unset"),
        "{}",
        run.stderr
    );
    assert_eq!(
        cache_json(&cache),
        0,
        "the cluster's certificates left the cache"
    );
    for context in ["theirs", &ctx(PUBLIC, "external"), &ctx(PUBLIC, "internal")] {
        world.kubectl_accepts(&file, context);
    }

    // A cluster the service no longer has is still removed by the name our marks recorded.
    world.emu.remove_cluster(PUBLIC);
    let run = world.kubeconfig(&[
        "remove",
        "--kubeconfig",
        path,
        "--cluster",
        demo::PUBLIC_CLUSTER_NAME,
        "--format",
        "json",
    ]);
    run.success("remove a deleted cluster by name");
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    let removed = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "removed")
        .count();
    assert_eq!(removed, 5, "two clusters, one user, two contexts: {report}");
    let last = parse(&file);
    assert_eq!(names_of(&last).2, ["theirs"]);
}

fn cache_json(dir: &Path) -> usize {
    fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
        })
        .unwrap_or(0)
}

#[test]
fn removing_an_entry_that_shadowed_another_file_s_says_so() {
    let world = World::new();
    let (a, b) = (world.path("a.yaml"), world.path("b.yaml"));
    world
        .update(&["--kubeconfig", a.to_str().unwrap(), "--cluster", PRIVATE])
        .success("ours in a");
    let name = ctx(PRIVATE, "internal");
    fs::write(
        &b,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster: {{server: https://b}}\ncontexts:\n- name: {name}\n  context: {{cluster: {name}, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n"),
    )
    .unwrap();
    let list = std::env::join_paths([&a, &b]).unwrap();
    let run = world.run_with_env(
        "KUBECONFIG",
        list.to_str().unwrap(),
        ["kubeconfig", "remove", "--cluster", PRIVATE],
    );
    run.success("remove");
    assert!(run.stderr.contains("uncovers"), "{}", run.stderr);
    assert!(run.stderr.contains("did not write"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(&b).unwrap().matches(&name).count(),
        3,
        "b untouched"
    );
}

#[test]
fn prune_removes_only_the_entries_of_clusters_the_service_no_longer_has() {
    let world = World::new();
    let file = world.path("prune.yaml");
    let path = file.to_str().unwrap();
    fs::write(&file, FOREIGN_YAML).unwrap();
    for cluster in [PRIVATE, PUBLIC] {
        world
            .update(&["--kubeconfig", path, "--cluster", cluster])
            .success("update");
    }
    world
        .kubeconfig(&["prune", "--kubeconfig", path])
        .success("nothing to prune");
    assert_eq!(names_of(&parse(&file)).2.len(), 3);

    world.emu.remove_cluster(PRIVATE);
    let dry = world.kubeconfig(&["prune", "--kubeconfig", path, "--dry-run"]);
    dry.success("prune --dry-run");
    assert!(
        dry.stdout.contains(&ctx(PRIVATE, "internal")),
        "{}",
        dry.stdout
    );
    assert_eq!(
        names_of(&parse(&file)).2.len(),
        3,
        "a dry run writes nothing"
    );
    let run = world.kubeconfig(&["prune", "--kubeconfig", path, "--format", "json"]);
    run.success("prune");
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["pruned-clusters"][0]["cluster-id"], PRIVATE);
    let after = parse(&file);
    assert_eq!(
        names_of(&after).2,
        ["theirs".to_owned(), ctx(PUBLIC, "external")]
    );
    world.kubectl_accepts(&file, "theirs");
    world.kubectl_accepts(&file, &ctx(PUBLIC, "external"));
}

#[test]
fn prune_asks_only_the_service_and_project_each_entry_names() {
    let world = World::new();
    let file = world.path("elsewhere.yaml");
    world
        .update(&["--kubeconfig", file.to_str().unwrap(), "--cluster", PRIVATE])
        .success("update");
    // The same cluster id at another emulator, where it does not exist: never asked there.
    let other = Emulator::builder()
        .cluster("unrelated")
        .start_background()
        .unwrap();
    let run = world.run_in(
        &other,
        [
            "kubeconfig",
            "prune",
            "--kubeconfig",
            file.to_str().unwrap(),
        ],
    );
    run.success("prune against another endpoint");
    assert_eq!(names_of(&parse(&file)).2, [ctx(PRIVATE, "internal")]);
    assert_eq!(
        other.request_count(),
        0,
        "the mark's endpoint was asked, not the flag's"
    );
}

#[test]
fn refresh_renews_what_expires_within_the_window_and_nothing_else() {
    let world = World::new();
    let file = world.path("refresh.yaml");
    let path = file.to_str().unwrap();
    world
        .update(&[
            "--kubeconfig",
            path,
            "--cluster",
            PRIVATE,
            "--duration",
            "30",
        ])
        .success("30 days");
    world
        .update(&[
            "--kubeconfig",
            path,
            "--cluster",
            PUBLIC,
            "--duration",
            "60",
        ])
        .success("60 days");
    let before = parse(&file);
    let issued = (world.emu.issued(PRIVATE), world.emu.issued(PUBLIC));

    let run = world.kubeconfig(&["refresh", "--kubeconfig", path, "--within", "40d"]);
    run.success("refresh --within 40d");
    assert_eq!(
        world.emu.issued(PRIVATE),
        issued.0 + 1,
        "the 30-day entry is renewed"
    );
    assert_eq!(
        world.emu.issued(PUBLIC),
        issued.1,
        "the 60-day entry is left alone"
    );
    let after = parse(&file);
    let user_of = |f: &KubeconfigFile, id: &str| {
        f.users
            .iter()
            .find(|u| u.name == user(id))
            .unwrap()
            .user
            .clone()
    };
    assert_ne!(user_of(&after, PRIVATE), user_of(&before, PRIVATE));
    assert_eq!(user_of(&after, PUBLIC), user_of(&before, PUBLIC));
    assert_eq!(names_of(&after), names_of(&before), "names kept");
    let mark = after
        .users
        .iter()
        .find(|u| u.name == user(PRIVATE))
        .unwrap()
        .owner_mark()
        .unwrap();
    assert_eq!(
        mark["duration"], 30,
        "renewed with the duration it was fetched with"
    );
    world.kubectl_accepts(&file, &ctx(PRIVATE, "internal"));
    assert_eq!(
        world.kubectl_version(&file, &ctx(PRIVATE, "internal")),
        demo::KUBERNETES_VERSION
    );

    let nothing = world.kubeconfig(&["refresh", "--kubeconfig", path, "--within", "1d"]);
    nothing.success("nothing due");
    assert!(
        nothing.stderr.contains("nothing to refresh"),
        "{}",
        nothing.stderr
    );
}

#[test]
fn update_warns_when_a_static_entry_of_ours_expires_within_a_week() {
    let world = World::new();
    let file = world.path("soon.yaml");
    let run = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster",
        PRIVATE,
        "--duration",
        "3",
    ]);
    run.success("3-day certificate");
    assert!(
        run.stderr.contains(&format!(
            "warning: the client certificate of user {} expires",
            user(PRIVATE)
        )) && run.stderr.contains("kubeconfig refresh"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_json_report_of_update_lists_the_changes_and_their_fields() {
    let world = World::new();
    let file = world.path("json.yaml");
    let path = file.to_str().unwrap();
    let first = world.update(&[
        "--kubeconfig",
        path,
        "--cluster",
        PRIVATE,
        "--format",
        "json",
    ]);
    first.success("update --format json");
    let report: Value = serde_json::from_str(&first.stdout).expect("JSON on stdout");
    let actions: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["added", "added", "added"]);
    let again = world.update(&[
        "--kubeconfig",
        path,
        "--cluster",
        PRIVATE,
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&again.stdout).unwrap();
    let user_change = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "user")
        .unwrap();
    assert_eq!(user_change["action"], "updated");
    assert_eq!(
        user_change["fields"],
        serde_json::json!(["client-certificate-data", "client-key-data"])
    );
    assert_eq!(report["written"][0], path);
}

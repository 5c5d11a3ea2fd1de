//! Clusters by name: `clusters list`, `--cluster NAME` for get/update/credential, `update --all`, and how
//! entries are named — with kubectl judging every file.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::cli_update_support;

use std::fs;

use cce_autopilot_emulator::{Emulator, demo};
use cli_update_support::*;
use serde_json::{Value, json};

#[test]
fn clusters_list_shows_every_cluster_as_a_table_and_as_json() {
    let world = World::with(
        Emulator::builder()
            .named_cluster("prod", "id-prod")
            .named_public_cluster("edge", "id-edge")
            .with_version("v1.32")
            .named_cluster("fresh", "id-fresh")
            .with_phase("Creating"),
    );
    let table = world.run(["clusters", "list"]);
    table.success("clusters list");
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "ID", "PHASE", "VERSION", "ENDPOINTS"]
    );
    assert_eq!(lines.len(), 4, "{}", table.stdout);
    let columns: Vec<Vec<&str>> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(columns[0][..4], ["prod", "id-prod", "Available", "v1.31"]);
    assert_eq!(columns[1][..4], ["edge", "id-edge", "Available", "v1.32"]);
    assert_eq!(columns[2][..4], ["fresh", "id-fresh", "Creating", "v1.31"]);
    assert!(
        columns[1][4].contains("external=") && columns[1][4].contains("internal="),
        "{}",
        table.stdout
    );
    let column = lines[0].find("PHASE").unwrap();
    assert!(
        lines[1..]
            .iter()
            .all(|l| l[column..].starts_with(['A', 'C'])),
        "aligned: {}",
        table.stdout
    );

    let json = world.run(["clusters", "list", "--format", "json"]);
    json.success("clusters list --format json");
    let parsed: Value = serde_json::from_str(&json.stdout).expect("valid JSON");
    let items = parsed.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["name"], "edge");
    assert_eq!(items[1]["id"], "id-edge");
    assert_eq!(items[1]["phase"], "Available");
    assert_eq!(items[1]["version"], "v1.32");
    let endpoints = items[1]["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 2);
    assert_eq!(
        endpoints[0]["url"],
        json!(
            world
                .emu
                .api_server_url("id-edge", cce_autopilot::Access::Internal)
                .unwrap()
        )
    );

    let creating = world.run([
        "clusters", "list", "--status", "Creating", "--format", "json",
    ]);
    let parsed: Value = serde_json::from_str(&creating.stdout).unwrap();
    assert_eq!(parsed.as_array().unwrap().len(), 1);
}

#[test]
fn update_and_get_take_a_cluster_name_and_kubectl_reaches_the_stub() {
    let world = World::new();
    let config = world.default_config();
    world
        .update(&["--cluster", demo::PRIVATE_CLUSTER_NAME])
        .success("update --cluster NAME");
    let context = ctx(PRIVATE, "internal");
    assert_eq!(context, "cce_127.0.0.1_demo-private_internal");
    assert_eq!(
        world.kubectl_version(&config, &context),
        demo::KUBERNETES_VERSION
    );

    let get = world.run(["kubeconfig", "get", "--cluster", demo::PRIVATE_CLUSTER_NAME]);
    get.success("get --cluster NAME");
    let saved = world.path("got.yaml");
    fs::write(&saved, &get.stdout).unwrap();
    assert_eq!(
        world.kubectl_version(&saved, "internal"),
        demo::KUBERNETES_VERSION
    );
}

#[test]
fn an_exec_entry_records_the_id_and_the_plugin_also_takes_a_name() {
    let world = World::new();
    let file = world.path("exec.yaml");
    world
        .update(&[
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster",
            demo::PRIVATE_CLUSTER_NAME,
            "--exec",
        ])
        .success("update --exec by name");
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(PRIVATE),
        "the id, never the name, in the plugin's args"
    );
    let written = parse(&file);
    let args = written.users[0]
        .user
        .exec
        .as_ref()
        .unwrap()
        .args
        .clone()
        .unwrap();
    assert_eq!(args[1..3], ["--cluster".to_owned(), PRIVATE.to_owned()]);
    let context = ctx(PRIVATE, "internal");
    assert_eq!(
        world.kubectl_version_with_keys(&file, &context),
        demo::KUBERNETES_VERSION
    );

    // The same entry with the plugin called by name: one list call, then the same certificate path.
    let by_name = text.replace(PRIVATE, demo::PRIVATE_CLUSTER_NAME);
    let named = world.path("exec-by-name.yaml");
    fs::write(&named, by_name).unwrap();
    assert_eq!(
        world.kubectl_version_with_keys(&named, &context),
        demo::KUBERNETES_VERSION
    );
}

#[test]
fn update_all_merges_every_available_cluster_and_skips_the_others() {
    let world = World::with(
        Emulator::builder()
            .named_cluster("prod", "id-prod")
            .named_public_cluster("edge", "id-edge")
            .named_cluster("fresh", "id-fresh")
            .with_phase("Creating"),
    );
    let config = world.default_config();
    let run = world.update(&["--all"]);
    run.success("update --all");
    assert!(
        run.stderr
            .contains("cluster fresh (id-fresh) is Creating, not Available: skipped"),
        "{}",
        run.stderr
    );
    let contexts = world.kubectl_contexts(&config);
    assert_eq!(
        contexts,
        ["cce_127.0.0.1_edge_external", "cce_127.0.0.1_prod_internal"]
    );
    for context in &contexts {
        world.kubectl_accepts(&config, context);
    }
    assert_eq!(world.emu.issued("id-fresh"), 0);
    assert_eq!(
        world.update(&["--all", "--alias", "x"]).code,
        Some(2),
        "--all with --alias is refused"
    );
}

#[test]
fn entries_written_under_an_id_move_to_the_name_and_never_back() {
    let world = World::new();
    let file = world.path("names.yaml");
    let path = file.to_str().unwrap();
    // An earlier run whose credentials could not list: named by id.
    world.emu.set_deny_cluster_listing(true);
    let run = world.update(&["--kubeconfig", path, "--cluster", PRIVATE]);
    run.success("update by id");
    assert!(
        run.stderr.contains("may not list clusters"),
        "{}",
        run.stderr
    );
    assert_eq!(names_of(&parse(&file)).2, [ctx_by_id(PRIVATE, "internal")]);

    // With the rights to list: moved to the name, not duplicated; current-context follows.
    world.emu.set_deny_cluster_listing(false);
    let run = world.update(&["--kubeconfig", path, "--cluster", PRIVATE]);
    run.success("update with names");
    let after = parse(&file);
    assert_eq!(
        names_of(&after),
        (
            vec![ctx(PRIVATE, "internal")],
            vec![user(PRIVATE)],
            vec![ctx(PRIVATE, "internal")]
        )
    );
    assert_eq!(
        after.current_context(),
        Some(ctx(PRIVATE, "internal").as_str())
    );
    assert!(run.stderr.contains("renamed context"), "{}", run.stderr);
    world.kubectl_accepts(&file, &ctx(PRIVATE, "internal"));

    // Weaker rights again: the name stays.
    world.emu.set_deny_cluster_listing(true);
    world
        .update(&["--kubeconfig", path, "--cluster", PRIVATE])
        .success("update without listing");
    assert_eq!(names_of(&parse(&file)).2, [ctx(PRIVATE, "internal")]);
}

#[test]
fn entries_of_an_earlier_version_are_moved_to_names_and_marked_anew() {
    let world = World::new();
    let file = world.path("v1.yaml");
    // What cce-autopilot 0.1 wrote: id-based names, marks without a version.
    let old = ctx_by_id(PRIVATE, "internal");
    let old_user = format!("cce_127.0.0.1_{PRIVATE}_user");
    let mark = format!("{{cluster-id: {PRIVATE}, access: internal}}");
    fs::write(
        &file,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {old}\n  cluster:\n    server: https://10.9.9.9:5443\n    extensions:\n    - name: cce-autopilot.io/owner\n      extension: {mark}\nusers:\n- name: {old_user}\n  user:\n    token: placeholder\n    extensions:\n    - name: cce-autopilot.io/owner\n      extension: {mark}\ncontexts:\n- name: {old}\n  context:\n    cluster: {old}\n    user: {old_user}\n    namespace: kept\n    extensions:\n    - name: cce-autopilot.io/owner\n      extension: {mark}\ncurrent-context: {old}\n"
        ),
    )
    .unwrap();
    let run = world.update(&["--kubeconfig", file.to_str().unwrap(), "--cluster", PRIVATE]);
    run.success("update over v1 entries");
    assert!(run.stderr.contains("earlier version"), "{}", run.stderr);
    let after = parse(&file);
    assert_eq!(names_of(&after).2, [ctx(PRIVATE, "internal")]);
    assert_eq!(after.contexts[0].context.namespace.as_deref(), Some("kept"));
    let mark = after.contexts[0].owner_mark().unwrap();
    assert_eq!(mark["version"], 2);
    assert_eq!(mark["cluster-name"], demo::PRIVATE_CLUSTER_NAME);
    assert_eq!(
        after.current_context(),
        Some(ctx(PRIVATE, "internal").as_str())
    );
    world.kubectl_accepts(&file, &ctx(PRIVATE, "internal"));
}

#[test]
fn another_project_s_cluster_of_the_same_name_gets_a_project_suffix() {
    let one = World::with(Emulator::builder().named_cluster("shared", "id-one"));
    let other = Emulator::builder()
        .project_id("99999999aaaaaaaabbbbbbbbcccccccc")
        .named_cluster("shared", "id-two")
        .start_background()
        .unwrap();
    let file = one.path("two-projects.yaml");
    let path = file.to_str().unwrap();
    one.update(&["--kubeconfig", path, "--cluster", "shared"])
        .success("first project");
    let run = one.run_in(
        &other,
        [
            "kubeconfig",
            "update",
            "--kubeconfig",
            path,
            "--cluster",
            "shared",
        ],
    );
    run.success("second project");
    assert!(
        run.stderr
            .contains("another project's cluster named shared"),
        "{}",
        run.stderr
    );
    let contexts = one.kubectl_contexts(&file);
    assert_eq!(
        contexts,
        [
            "cce_127.0.0.1_shared.99999999_internal",
            "cce_127.0.0.1_shared_internal"
        ]
    );
    for context in &contexts {
        one.kubectl_accepts(&file, context);
    }
}

const ALPHA: &str = "a1a1a1a1-0000-4000-8000-000000000001";
const BETA: &str = "b2b2b2b2-0000-4000-8000-000000000002";

/// `get`, `update` and the plugin refuse a name two clusters answer to, and one no cluster has, before
/// any certificate is asked for: exit 2, naming the candidates or the nearest names. The service keeps
/// names and aliases unique (so the emulator does too); a service that breaks that rule (a rename half
/// done, say) is a wiremock server whose certificate route must never be called.
#[tokio::test(flavor = "multi_thread")]
async fn ambiguous_and_unknown_names_fail_before_any_certificate_in_every_command() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    let project = "0123456789abcdef0123456789abcdef";
    let cluster = |name: &str, id: &str| {
        json!({"kind": "Cluster", "apiVersion": "v3",
               "metadata": {"name": name, "uid": id, "alias": "shared"},
               "spec": {"type": "VirtualMachine", "version": "v1.31"},
               "status": {"phase": "Available", "endpoints": []}})
    };
    Mock::given(method("GET"))
        .and(path_regex(format!(
            "^/autopilot/v3/projects/{project}/clusters$"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "List", "apiVersion": "v3",
            "items": [cluster("alpha", ALPHA), cluster("beta", BETA)],
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("/clustercert$"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("never.yaml");
    let file_arg = file.to_str().unwrap();
    let commands: [&[&str]; 3] = [
        &["kubeconfig", "get", "--cluster"],
        &[
            "kubeconfig",
            "update",
            "--kubeconfig",
            file_arg,
            "--cluster",
        ],
        &["credential", "--cluster"],
    ];
    let run = |args: Vec<&str>| {
        let out = std::process::Command::new(BIN)
            .env_clear()
            .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLEAK00000001")
            .env(
                "HUAWEICLOUD_SDK_SK",
                "exampleSecretKey0000000000000000000000000",
            )
            .args(["--endpoint", &server.uri(), "--project-id", project])
            .args(args)
            .output()
            .unwrap();
        Run::from(out)
    };
    for command in commands {
        let ambiguous = run(command.iter().copied().chain(["shared"]).collect());
        ambiguous.code(2, &format!("{command:?} shared"));
        for candidate in ["alpha", ALPHA, "beta", BETA] {
            assert!(
                ambiguous.stderr.contains(candidate),
                "{command:?}: names {candidate}: {}",
                ambiguous.stderr
            );
        }
        let unknown = run(command.iter().copied().chain(["alpah"]).collect());
        unknown.code(2, &format!("{command:?} alpah"));
        assert!(
            unknown.stderr.contains("did you mean alpha"),
            "{command:?}: {}",
            unknown.stderr
        );
    }
    assert!(!file.exists());
    // Dropping the server verifies `.expect(0)`: no certificate was asked for.
}

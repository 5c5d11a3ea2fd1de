//! Every `--format json` document, pinned: these shapes are the contract of the scripts that read them
//! (`src/commands/json.rs` writes them). Temporary paths, emulator ports and key material are replaced by
//! placeholders; everything else is as printed. (`inspect --format json` is pinned in `cli_inspect`.)
#![cfg(unix)]

use serde_json::Value;

use crate::cli_update_support::*;

/// `text` with the world's temporary HOME and the emulator's addresses replaced by placeholders.
fn stable(world: &World, text: &str) -> String {
    let mut out = text.replace(world.home.path().to_str().unwrap(), "[HOME]");
    for cluster in [PRIVATE, PUBLIC] {
        for access in [
            cce_autopilot::Access::Internal,
            cce_autopilot::Access::External,
        ] {
            if let Some(url) = world.emu.api_server_url(cluster, access) {
                out = out.replace(&url, &format!("[{access}-URL]"));
            }
        }
    }
    out
}

fn json_of(world: &World, args: &[&str]) -> String {
    let run = world.run(args);
    run.success(&format!("{args:?}"));
    let _: Value = serde_json::from_str(&run.stdout).expect("one JSON document on stdout");
    stable(world, &run.stdout)
}

#[test]
fn clusters_list() {
    let world = World::new();
    insta::assert_snapshot!(
        "clusters_list",
        json_of(&world, &["clusters", "list", "--format", "json"])
    );
}

#[test]
fn kubeconfig_get() {
    let world = World::new();
    let run = world.kubeconfig(&["get", "--cluster", PUBLIC, "--format", "json"]);
    run.success("get --format json");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    insta::assert_json_snapshot!("kubeconfig_get", doc, {
        ".clusters[].cluster.server" => "[server]",
        ".clusters[].cluster[\"certificate-authority-data\"]" => "[data]",
        ".users[].user[\"client-certificate-data\"]" => "[data]",
        ".users[].user[\"client-key-data\"]" => "[key]",
    });
}

#[test]
fn the_edits_update_refresh_remove_and_prune() {
    let world = World::new();
    let file = world.path("config");
    let path = file.to_str().unwrap();
    let update = json_of(
        &world,
        &[
            "kubeconfig",
            "update",
            "--cluster",
            PRIVATE,
            "--cluster",
            PUBLIC,
            "--kubeconfig",
            path,
            "--format",
            "json",
            "--duration",
            "1",
        ],
    );
    insta::assert_snapshot!("kubeconfig_update", update);
    let plan = json_of(
        &world,
        &[
            "kubeconfig",
            "refresh",
            "--within",
            "2d",
            "--kubeconfig",
            path,
            "--dry-run",
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("kubeconfig_refresh_dry_run", plan);
    let refresh = json_of(
        &world,
        &[
            "kubeconfig",
            "refresh",
            "--within",
            "2d",
            "--kubeconfig",
            path,
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("kubeconfig_refresh", refresh);
    let remove = json_of(
        &world,
        &[
            "kubeconfig",
            "remove",
            "--cluster",
            PRIVATE,
            "--kubeconfig",
            path,
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("kubeconfig_remove", remove);
    world.emu.remove_cluster(PUBLIC);
    let prune = json_of(
        &world,
        &[
            "kubeconfig",
            "prune",
            "--kubeconfig",
            path,
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("kubeconfig_prune", prune);
}

#[test]
fn whoami() {
    let world = World::new();
    let run = world.run_with_env(
        "HUAWEICLOUD_SDK_STS_ENDPOINT",
        world.emu.url(),
        ["whoami", "--format", "json"],
    );
    run.success("whoami --format json");
    let _: Value = serde_json::from_str(&run.stdout).expect("one JSON document on stdout");
    insta::assert_snapshot!("whoami", stable(&world, &run.stdout));
}

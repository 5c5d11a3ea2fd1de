//! `cce-autopilot kubeconfig update` for one cluster, run as a process against the in-process
//! emulator, with kubectl (and kube-rs) judging every file it writes.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::cli_update_support;

use std::fs;
use std::path::Path;

use cce_autopilot::Access;
use cce_autopilot_kubeconfig::fs::BACKUP_HEADER;
use cce_autopilot_kubeconfig::{backup_path_for, lock_path_for};
use cli_update_support::*;
use serde_json::json;

#[test]
fn help_lists_the_flags() {
    let world = World::new();
    let run = world.run(["kubeconfig", "update", "--help"]);
    run.success("--help");
    insta::assert_snapshot!("update_help", run.stdout);
}

#[test]
fn update_into_an_empty_home_creates_a_private_file_kubectl_uses() {
    let world = World::new();
    let run = world.update(&["--cluster-id", PRIVATE]);
    run.success("update");
    let config = world.default_config();
    assert_eq!(mode(&config), 0o600);
    assert!(!backup_path_for(&config).exists(), "nothing to back up");
    assert!(!lock_path_for(&config).exists(), "lock released");

    let context = ctx(PRIVATE, "internal");
    let view = world.kubectl_accepts(&config, &context);
    assert_eq!(view["current-context"], json!(context));
    assert_eq!(view["contexts"][0]["context"]["user"], json!(user(PRIVATE)));
    assert_eq!(
        view["clusters"][0]["cluster"]["server"],
        json!(world.emu.api_server_url(PRIVATE, Access::Internal).unwrap())
    );
    assert_eq!(
        world.kubectl_version(&config, &context),
        cce_autopilot_emulator::demo::KUBERNETES_VERSION
    );

    assert!(
        run.stderr
            .contains(&format!("created {}", config.display())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("current context is now {context}")),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("LS0tLS1"),
        "no key material on stderr: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn update_into_an_existing_file_keeps_foreign_entries_and_replaces_its_own_in_place() {
    let world = World::new();
    let file = world.path("work.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let before = parse(&file);

    world
        .update(&[
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster-id",
            PRIVATE,
        ])
        .success("first update");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(
        fs::read_to_string(backup_path_for(&file)).unwrap(),
        format!("{BACKUP_HEADER}{FOREIGN_YAML}")
    );
    let after = parse(&file);
    // Unrelated entries and top-level fields are as they were.
    assert_eq!(after.clusters[0], before.clusters[0]);
    assert_eq!(after.users[0], before.users[0]);
    assert_eq!(after.contexts[0], before.contexts[0]);
    assert_eq!(after.unknown, before.unknown);
    assert_eq!(after.preferences, before.preferences);
    assert_eq!(
        after.current_context(),
        Some(ctx(PRIVATE, "internal").as_str())
    );
    world.kubectl_accepts(&file, &ctx(PRIVATE, "internal"));
    world.kubectl_accepts(&file, "theirs");

    // Another cluster, then the first one again: replaced in place, no duplicates, same order.
    world
        .update(&[
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster-id",
            PUBLIC,
        ])
        .success("second cluster");
    let two = parse(&file);
    let second = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster-id",
        PRIVATE,
    ]);
    second.success("repeated update");
    let again = parse(&file);
    assert_eq!(names_of(&again), names_of(&two));
    let (clusters, users, contexts) = names_of(&again);
    assert_eq!(
        clusters,
        [
            "theirs".to_owned(),
            ctx(PRIVATE, "internal"),
            ctx(PUBLIC, "external")
        ]
    );
    assert_eq!(users, ["someone".to_owned(), user(PRIVATE), user(PUBLIC)]);
    assert_eq!(contexts, clusters);
    assert_ne!(
        again.users[1], two.users[1],
        "a new certificate replaced the old one"
    );
    assert_eq!(
        again.users[2], two.users[2],
        "the other cluster's user is untouched"
    );
    assert_eq!(again.unknown, before.unknown);
    assert!(
        second.stderr.contains(&format!(
            "updated user {}: client-certificate-data, client-key-data",
            user(PRIVATE)
        )),
        "only the new certificate and key change: {}",
        second.stderr
    );
    assert!(
        second.stderr.contains("2 entries unchanged"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("(previous version in"),
        "{}",
        second.stderr
    );
    for context in &contexts {
        world.kubectl_accepts(&file, context);
    }
}

#[test]
fn kubeconfig_flag_overrides_the_kubeconfig_variable_which_otherwise_follows_client_go() {
    let world = World::new();
    let (a, b) = (world.path("a.yaml"), world.path("b.yaml"));
    fs::write(&b, FOREIGN_YAML).unwrap();
    let list = format!("{}:{}", a.display(), b.display());
    // KUBECONFIG=a:b with only b existing: new entries go to b, the first existing file.
    let run = world.run_with_env(
        "KUBECONFIG",
        &list,
        ["kubeconfig", "update", "--cluster-id", PRIVATE],
    );
    run.success("update with KUBECONFIG");
    assert!(!a.exists());
    assert!(
        parse(&b)
            .contexts
            .iter()
            .any(|c| c.name == ctx(PRIVATE, "internal"))
    );
    // --kubeconfig wins over KUBECONFIG.
    let c = world.path("c.yaml");
    let c_arg = c.to_str().unwrap();
    world
        .run_with_env(
            "KUBECONFIG",
            &list,
            [
                "kubeconfig",
                "update",
                "--kubeconfig",
                c_arg,
                "--cluster-id",
                PUBLIC,
            ],
        )
        .success("update with --kubeconfig");
    assert_eq!(names_of(&parse(&c)).2, [ctx(PUBLIC, "external")]);
    assert!(
        !parse(&b)
            .contexts
            .iter()
            .any(|x| x.name == ctx(PUBLIC, "external"))
    );
}

#[test]
fn kubectl_reaches_both_endpoints_and_verifies_the_external_one_with_tls_server_name() {
    let world = World::new();
    let file = world.path("both.yaml");
    let run = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster-id",
        PUBLIC,
        "--access",
        "both",
        "--tls-server-name",
        "kubernetes",
    ]);
    run.success("update --access both");
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let external = ctx(PUBLIC, "external");
    let internal = ctx(PUBLIC, "internal");
    let view = world.kubectl_accepts(&file, &external);
    assert_eq!(
        view["current-context"],
        json!(external),
        "external is primary"
    );
    let cluster = &view["clusters"][0]["cluster"];
    assert_eq!(
        cluster["server"],
        json!(world.emu.api_server_url(PUBLIC, Access::External).unwrap())
    );
    assert_eq!(cluster["tls-server-name"], json!("kubernetes"));
    assert!(
        cluster.get("insecure-skip-tls-verify").is_none(),
        "{cluster}"
    );
    assert!(
        cluster["certificate-authority-data"].is_string(),
        "{cluster}"
    );
    let version = cce_autopilot_emulator::demo::KUBERNETES_VERSION;
    assert_eq!(world.kubectl_version(&file, &external), version);
    assert_eq!(world.kubectl_version(&file, &internal), version);
    let (_, users, _) = names_of(&parse(&file));
    assert_eq!(users, [user(PUBLIC)], "one user shared by both contexts");
}

#[test]
fn external_endpoint_is_written_insecure_as_served_with_a_warning() {
    let world = World::new();
    let file = world.path("ext.yaml");
    let run = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster-id",
        PUBLIC,
    ]);
    run.success("update");
    assert!(run.stderr.contains("warning: context"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--tls-server-name kubernetes"),
        "{}",
        run.stderr
    );
    let view = world.kubectl_accepts(&file, &ctx(PUBLIC, "external"));
    let cluster = &view["clusters"][0]["cluster"];
    assert_eq!(cluster["insecure-skip-tls-verify"], json!(true));
    assert!(
        cluster.get("certificate-authority-data").is_none(),
        "{cluster}"
    );
}

#[test]
fn aliases_rename_contexts_clusters_and_user() {
    let world = World::new();
    let file = world.path("alias.yaml");
    world
        .update(&[
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster-id",
            PUBLIC,
            "--access",
            "both",
            "--alias",
            "prod",
            "--user-alias",
            "prod-admin",
            "--set-current-context",
            "false",
        ])
        .success("update with aliases");
    let written = parse(&file);
    let (clusters, users, contexts) = names_of(&written);
    assert_eq!(clusters, ["prod-external", "prod-internal"]);
    assert_eq!(contexts, ["prod-external", "prod-internal"]);
    assert_eq!(users, ["prod-admin"]);
    assert_eq!(
        written.current_context(),
        None,
        "--set-current-context false"
    );
    world.kubectl_accepts(&file, "prod-internal");
}

#[test]
fn external_access_on_a_private_cluster_is_a_usage_error() {
    let world = World::new();
    let run = world.update(&["--cluster-id", PRIVATE, "--access", "external"]);
    run.code(2, "external on a private cluster");
    assert!(
        run.stderr.contains(&format!("cluster {PRIVATE}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no public endpoint"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(!world.default_config().exists());
}

#[test]
fn a_foreign_entry_of_the_same_name_is_an_error_without_force() {
    let world = World::new();
    let file = world.path("collide.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    let path = file.to_str().unwrap();
    let run = world.update(&[
        "--kubeconfig",
        path,
        "--cluster-id",
        PRIVATE,
        "--alias",
        "theirs",
    ]);
    run.code(6, "collision");
    assert!(
        run.stderr.contains("context \"theirs\"") || run.stderr.contains("cluster \"theirs\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        FOREIGN_YAML,
        "file untouched"
    );
    assert!(!backup_path_for(&file).exists());

    // A name held by another cluster's entry is refused too.
    world
        .update(&[
            "--kubeconfig",
            path,
            "--cluster-id",
            PUBLIC,
            "--alias",
            "mine",
        ])
        .success("first alias");
    let before = fs::read(&file).unwrap();
    let run = world.update(&[
        "--kubeconfig",
        path,
        "--cluster-id",
        PRIVATE,
        "--alias",
        "mine",
    ]);
    run.code(6, "another cluster's name");
    assert!(
        run.stderr.contains(&format!(
            "belongs to cluster {}",
            cce_autopilot_emulator::demo::PUBLIC_CLUSTER_NAME
        )),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&file).unwrap(), before);

    // --force replaces the foreign entries.
    world
        .update(&[
            "--kubeconfig",
            path,
            "--cluster-id",
            PRIVATE,
            "--alias",
            "theirs",
            "--force",
        ])
        .success("--force");
    let (clusters, _, contexts) = names_of(&parse(&file));
    assert_eq!(clusters.iter().filter(|n| *n == "theirs").count(), 1);
    assert_eq!(contexts.iter().filter(|n| *n == "theirs").count(), 1);
    let view = world.kubectl_accepts(&file, "theirs");
    assert_eq!(view["contexts"][0]["context"]["user"], json!(user(PRIVATE)));
}

#[test]
fn an_unparsable_file_is_refused_before_any_certificate_is_issued() {
    let world = World::new();
    let file = world.path("broken.yaml");
    let garbage = b"apiVersion: v1\nclusters: [ {name: a\n\x00 not yaml";
    fs::write(&file, garbage).unwrap();
    let run = world.update(&[
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster-id",
        PRIVATE,
    ]);
    run.code(6, "unparsable file");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: cannot parse kubeconfig file"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&file).unwrap(), garbage, "byte for byte untouched");
    assert!(!backup_path_for(&file).exists());
    assert!(!lock_path_for(&file).exists());
    assert_eq!(world.emu.issued(PRIVATE), 0, "refused before fetching");
}

#[test]
fn dry_run_prints_only_the_changes_without_key_material_and_writes_nothing() {
    let world = World::new();
    let file = world.path("dry.yaml");
    fs::write(&file, FOREIGN_YAML).unwrap();
    let path = file.to_str().unwrap();
    world
        .update(&["--kubeconfig", path, "--cluster-id", PRIVATE])
        .success("real update");
    let bytes = fs::read(&file).unwrap();
    let backup = fs::read(backup_path_for(&file)).unwrap();
    let written = parse(&file);
    let key_b64 = written.users[1].user.client_key_data.clone().unwrap();
    let key_pem = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &key_b64).unwrap(),
    )
    .unwrap();

    let run = world.update(&[
        "--kubeconfig",
        path,
        "--cluster-id",
        PUBLIC,
        "--access",
        "both",
        "--tls-server-name",
        "kubernetes",
        "--dry-run",
    ]);
    run.success("dry run");
    assert_eq!(fs::read(&file).unwrap(), bytes, "nothing written");
    assert_eq!(
        fs::read(backup_path_for(&file)).unwrap(),
        backup,
        "backup untouched"
    );
    assert!(!lock_path_for(&file).exists());

    // Only the entries that change: neither the foreign nor the other cluster's entries.
    assert!(!run.stdout.contains("theirs"), "{}", run.stdout);
    let mentions: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(&name_of(PRIVATE)))
        .collect();
    assert_eq!(
        mentions,
        [format!("  from: {}", ctx(PRIVATE, "internal"))],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&ctx(PUBLIC, "internal")),
        "{}",
        run.stdout
    );
    // No key material at all: neither the file's key nor the one fetched for the dry run (every
    // PEM block, raw or base64, starts with "-----BEGIN", base64 "LS0tLS1CRUdJTi").
    let pem_body = key_pem.lines().nth(1).unwrap();
    for output in [&run.stdout, &run.stderr] {
        for secret in [
            key_b64.as_str(),
            pem_body,
            "-----BEGIN",
            "LS0tLS1CRUdJTi",
            "PRIVATE KEY",
        ] {
            assert!(!output.contains(secret), "{secret} leaked: {output}");
        }
    }
    assert!(run.stdout.contains("REDACTED"), "{}", run.stdout);
    assert!(
        run.stderr.contains("dry run: nothing was written"),
        "{}",
        run.stderr
    );

    let shown = redact(&world, &run.stdout);
    insta::assert_snapshot!("dry_run_both_accesses", shown);
}

#[test]
fn exec_entry_records_the_credential_command_and_kubectl_accepts_it() {
    let world = World::new();
    let file = world.path("exec.yaml");
    let run = world.run([
        "--region",
        "cn-north-4",
        "kubeconfig",
        "update",
        "--kubeconfig",
        file.to_str().unwrap(),
        "--cluster-id",
        PRIVATE,
        "--exec",
        "--duration",
        "7",
    ]);
    run.success("update --exec");
    let context = format!("cce_cn-north-4_{}_internal", name_of(PRIVATE));
    let view = world.kubectl_accepts(&file, &context);
    let user = &view["users"][0];
    assert_eq!(
        user["name"],
        json!(format!("cce_cn-north-4_{}_user", name_of(PRIVATE)))
    );
    assert!(user["user"].get("client-key-data").is_none(), "{user}");
    let exec = &user["user"]["exec"];
    assert_eq!(exec["apiVersion"], json!("client.authentication.k8s.io/v1"));
    let command = exec["command"].as_str().unwrap();
    assert!(Path::new(command).is_absolute(), "{command}");
    assert_eq!(
        fs::canonicalize(command).unwrap(),
        fs::canonicalize(BIN).unwrap(),
        "the running binary"
    );
    assert_eq!(
        exec["args"],
        json!([
            "credential",
            "--cluster",
            PRIVATE,
            "--access",
            "internal",
            "--duration",
            "7",
            "--endpoint",
            world.emu.url(),
            "--region",
            "cn-north-4",
            "--project-id",
            world.emu.project_id()
        ])
    );
    assert_eq!(exec["interactiveMode"], json!("Never"));
    assert_eq!(
        exec["provideClusterInfo"],
        json!(true),
        "the plugin sees the CA kubectl trusts"
    );
    assert!(
        exec["installHint"]
            .as_str()
            .unwrap()
            .contains("cce-autopilot")
    );
    let text = fs::read_to_string(&file).unwrap();
    assert!(!text.contains(world.emu.secret_key()), "never the SK");
    assert!(!text.contains("client-key-data"), "{text}");
}

#[test]
fn kube_rs_loads_the_written_file() {
    let world = World::new();
    let file = world.path("kube-rs.yaml");
    world
        .update(&[
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster-id",
            PUBLIC,
            "--access",
            "both",
            "--tls-server-name",
            "kubernetes",
        ])
        .success("update");
    let kubeconfig = kube::config::Kubeconfig::read_from(&file).expect("kube-rs reads the file");
    assert_eq!(kubeconfig.contexts.len(), 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (access, context) in [
        (Access::External, ctx(PUBLIC, "external")),
        (Access::Internal, ctx(PUBLIC, "internal")),
    ] {
        let options = kube::config::KubeConfigOptions {
            context: Some(context.clone()),
            ..Default::default()
        };
        let config = runtime
            .block_on(kube::Config::from_custom_kubeconfig(
                kubeconfig.clone(),
                &options,
            ))
            .unwrap_or_else(|e| panic!("kube-rs loads {context}: {e}"));
        assert_eq!(
            config.cluster_url.to_string().trim_end_matches('/'),
            world
                .emu
                .api_server_url(PUBLIC, access)
                .unwrap()
                .trim_end_matches('/')
        );
        assert!(
            !config.accept_invalid_certs,
            "{context} verifies the server"
        );
        if access == Access::External {
            assert_eq!(config.tls_server_name.as_deref(), Some("kubernetes"));
        }
    }
}

/// The dry-run report with the random parts replaced: the temporary directory, the stub URLs (the
/// external one is on 127.0.0.2, or on another port of 127.0.0.1 where that cannot be bound) and
/// the data sizes.
fn redact(world: &World, text: &str) -> String {
    let mut out = text.replace(&world.home.path().display().to_string(), "[HOME]");
    out = out.replace(world.emu.url(), "[EMULATOR]");
    for id in [PRIVATE, PUBLIC] {
        for (access, label) in [
            (Access::Internal, "[INTERNAL-URL]"),
            (Access::External, "[EXTERNAL-URL]"),
        ] {
            if let Some(url) = world.emu.api_server_url(id, access) {
                out = out.replace(&url, label);
            }
        }
    }
    // "(1234 bytes)" -> "([N] bytes)"
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(start) = rest.find('(') {
        let after = &rest[start + 1..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        result.push_str(&rest[..=start]);
        if digits > 0 && after[digits..].starts_with(" bytes)") {
            result.push_str("[N]");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    result.push_str(rest);
    result
}

/// The exec entry as `update --exec` writes it, used by kubectl: both runs reach the API-server stub,
/// and the second is served from the plugin's cache (the emulator issues one certificate for the two).
#[test]
fn kubectl_uses_the_exec_entry_and_the_second_run_is_served_from_the_cache() {
    let world = World::new();
    let file = world.path("exec-e2e.yaml");
    world
        .update(&[
            "--kubeconfig",
            file.to_str().unwrap(),
            "--cluster-id",
            PRIVATE,
            "--exec",
        ])
        .success("update --exec");
    let context = world
        .kubectl_contexts(&file)
        .into_iter()
        .find(|c| c.contains(&name_of(PRIVATE)) && c.ends_with("_internal"))
        .expect("the cluster's internal context");
    let after_update = world.emu.issued(PRIVATE);

    // kubectl runs the plugin with its own environment: the user's credentials, never the file's.
    let kubectl_version = || {
        let out = std::process::Command::new(KUBECTL)
            .env_clear()
            .env("CCE_AUTOPILOT_METADATA_DISABLED", "1")
            .env("HOME", world.home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("HUAWEICLOUD_SDK_AK", world.emu.access_key())
            .env("HUAWEICLOUD_SDK_SK", world.emu.secret_key())
            .args([
                "--kubeconfig",
                file.to_str().unwrap(),
                "--context",
                &context,
            ])
            .args(["--request-timeout", "20s", "get", "--raw", "/version"])
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("/version is JSON");
        v["gitVersion"].as_str().unwrap_or_default().to_owned()
    };
    assert!(kubectl_version().contains("cce-autopilot-emulator"));
    assert!(kubectl_version().contains("cce-autopilot-emulator"));
    assert_eq!(
        world.emu.issued(PRIVATE) - after_update,
        1,
        "one certificate for two kubectl runs"
    );
    let cache = world.home.path().join(".cache/cce-autopilot/credentials");
    let entries = fs::read_dir(&cache)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(entries, 1, "one cache entry");
}

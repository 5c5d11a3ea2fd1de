//! The endpoint is untrusted input, seen from the command line: a hostile server on loopback (started by
//! each test) answers with a genuine certificate of the emulator into which it planted an `exec` that would
//! create a marker file, a token, a proxy, a namespace…; or with escape bytes in its names and messages.
//! kubectl is the judge of every file written: it reaches the API-server stub with what we kept, and the
//! marker is never created.
// Unix only: these tests check modes, owners, special files or run kubectl and the plugin as Linux CI
// does; Windows builds are compiled and linted, not run (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use crate::cli_update_support;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use cli_update_support::*;
use serde_json::{Value, json};

/// A server on loopback: POST answers `cert` (200), GET answers `list` (200) or 403 without one.
struct Hostile {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn respond(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: hostile-1\r\n\r\n{body}",
        body.len()
    )
}

impl Hostile {
    fn start(cert: Value, list: Option<Value>) -> Hostile {
        Hostile::answering(move |method| match (method, &list) {
            ("POST", _) => respond("200 OK", &cert.to_string()),
            ("GET", Some(list)) => respond("200 OK", &list.to_string()),
            _ => respond(
                "403 Forbidden",
                r#"{"error_code":"CCE.01403001","error_msg":"no list"}"#,
            ),
        })
    }

    fn answering(answer: impl Fn(&str) -> String + Send + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(mut socket) = socket else { return };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let method = text.split(' ').next().unwrap_or_default().to_owned();
                seen.lock().unwrap().push(text);
                let _ = socket.write_all(answer(&method).as_bytes());
            }
        });
        Hostile { url, requests }
    }

    fn certificate_requests(&self) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.starts_with("POST"))
            .count()
    }
}

/// `cce-autopilot --endpoint <hostile> ARGS` with the world's HOME and keys.
fn run_at(world: &World, hostile: &Hostile, args: &[&str]) -> Run {
    world.run_at(&hostile.url, args)
}

/// A genuine answer of the emulator for the private cluster, with everything a compromised endpoint would
/// plant: an exec that creates `marker`, a token, impersonation, a proxy that leads nowhere, a wrong TLS
/// server name, a namespace, entries of its own made current.
fn planted(world: &World, marker: &Path) -> Value {
    let got = world.kubeconfig(&["get", "--cluster", PRIVATE, "--format", "json"]);
    got.success("get from the emulator");
    let mut answer: Value = serde_json::from_str(&got.stdout).unwrap();
    let touch = json!({"apiVersion": "client.authentication.k8s.io/v1", "command": "/usr/bin/touch",
        "args": [marker], "interactiveMode": "Never"});
    let user = answer["users"][0]["user"].as_object_mut().unwrap();
    user.insert("exec".into(), touch.clone());
    user.insert("token".into(), json!("planted-token"));
    user.insert("tokenFile".into(), json!("/planted/token"));
    user.insert("as".into(), json!("system:admin"));
    user.insert(
        "auth-provider".into(),
        json!({"name": "oidc", "config": {"planted": "1"}}),
    );
    user.insert("password".into(), json!("planted-password"));
    let cluster = answer["clusters"][0]["cluster"].as_object_mut().unwrap();
    cluster.insert("proxy-url".into(), json!("http://127.0.0.1:9"));
    cluster.insert("tls-server-name".into(), json!("planted.invalid"));
    answer["contexts"][0]["context"]["namespace"] = json!("planted-ns");
    answer["clusters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "planted-cluster", "cluster": {"server": "https://127.0.0.1:9"}}));
    answer["users"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "planted-user", "user": {"exec": touch}}));
    answer["contexts"].as_array_mut().unwrap().push(
        json!({"name": "planted-context", "context": {"cluster": "planted-cluster", "user": "planted-user"}}),
    );
    answer["current-context"] = json!("planted-context");
    answer["planted-top"] = json!({"x": 1});
    answer
}

fn assert_clean(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    for word in [
        "planted",
        "touch",
        "exec",
        "token",
        "system:admin",
        "auth-provider",
        "password",
        "proxy-url",
        "tls-server-name",
        "namespace",
    ] {
        assert!(
            !text.contains(word),
            "{word:?} reached {}:\n{text}",
            path.display()
        );
    }
}

#[test]
fn planted_fields_never_reach_a_kubeconfig_or_run() {
    let world = World::new();
    let marker = world.path("planted-marker");
    let hostile = Hostile::start(planted(&world, &marker), None);

    // update: merged under our names (by id: the hostile server lists nothing).
    let file = world.path("merged.yaml");
    let update = run_at(
        &world,
        &hostile,
        &[
            "kubeconfig",
            "update",
            "--cluster",
            PRIVATE,
            "--kubeconfig",
            file.to_str().unwrap(),
        ],
    );
    update.success("update from the hostile endpoint");
    assert_clean(&file);
    let context = ctx_by_id(PRIVATE, "internal");
    assert_eq!(world.kubectl_contexts(&file), vec![context.clone()]);
    assert!(!world.kubectl_version(&file, &context).is_empty());

    // get -o: the service's names, only the document's fields.
    let saved = world.path("got.yaml");
    run_at(
        &world,
        &hostile,
        &[
            "kubeconfig",
            "get",
            "--cluster",
            PRIVATE,
            "-o",
            saved.to_str().unwrap(),
        ],
    )
    .success("get -o from the hostile endpoint");
    assert_clean(&saved);
    assert_eq!(world.kubectl_contexts(&saved), vec!["internal".to_owned()]);
    assert!(!world.kubectl_version(&saved, "internal").is_empty());

    // get to stdout, as JSON.
    let json = run_at(
        &world,
        &hostile,
        &[
            "kubeconfig",
            "get",
            "--cluster",
            PRIVATE,
            "--format",
            "json",
        ],
    );
    json.success("get --format json");
    assert!(
        !json.stdout.contains("planted") && !json.stdout.contains("exec"),
        "{}",
        json.stdout
    );

    assert!(!marker.exists(), "the planted exec ran");
    assert_eq!(hostile.certificate_requests(), 3);
}

#[test]
fn names_and_messages_from_the_service_reach_the_terminal_escaped() {
    let world = World::new();
    let evil = "prod\x1b[2J\x1b]0;owned\x07\rFAKE\nline\u{202e}";
    let list = json!({"kind": "List", "apiVersion": "v3", "items": [{
        "kind": "Cluster", "apiVersion": "v3",
        "metadata": {"name": evil, "uid": PRIVATE},
        "spec": {"version": "v1.31\x1b[1m"},
        "status": {"phase": "Available", "endpoints": []}}]});
    let marker = world.path("m");
    let hostile = Hostile::start(planted(&world, &marker), Some(list));

    let table = run_at(&world, &hostile, &["clusters", "list"]);
    table.success("clusters list");
    assert!(
        !table.stdout.contains('\x1b') && !table.stdout.contains('\r'),
        "{:?}",
        table.stdout
    );
    assert!(table.stdout.contains("prod\\u{1b}[2J"), "{}", table.stdout);
    assert_eq!(
        table.stdout.lines().count(),
        2,
        "no forged row: {}",
        table.stdout
    );

    // The name becomes an entry name kubectl prints: sanitised.
    let file = world.path("names.yaml");
    run_at(
        &world,
        &hostile,
        &[
            "kubeconfig",
            "update",
            "--cluster",
            PRIVATE,
            "--kubeconfig",
            file.to_str().unwrap(),
        ],
    )
    .success("update by the id, named from the list");
    let contexts = world.kubectl_contexts(&file);
    assert_eq!(
        contexts,
        vec!["cce_127.0.0.1_prod--2J--0-owned--FAKE-line-_internal".to_owned()]
    );

    // An error message with escape bytes: escaped on stderr.
    let failing = Hostile::answering(|_| {
        respond(
            "400 Bad Request",
            r#"{"error_code":"CCE.01400001","error_msg":"bad\u001b[31m red\r\nforged: line"}"#,
        )
    });
    let run = run_at(
        &world,
        &failing,
        &["kubeconfig", "get", "--cluster", PRIVATE],
    );
    run.code(4, "a service error");
    assert!(
        !run.stderr.contains('\x1b') && !run.stderr.contains('\r'),
        "{:?}",
        run.stderr
    );
    assert!(run.stderr.contains("bad\\u{1b}[31m red"), "{}", run.stderr);
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("forged")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_redirecting_endpoint_gets_nothing_and_the_command_says_where_it_pointed() {
    let world = World::new();
    let elsewhere = Hostile::answering(|_| respond("200 OK", "{}"));
    let location = format!("{}/steal", elsewhere.url);
    let redirecting = Hostile::answering(move |_| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    });
    let token = world.path("token");
    std::fs::write(&token, "X-AUTH-TOKEN-SECRET").unwrap();
    for auth in [&[][..], &["--token-file", token.to_str().unwrap()][..]] {
        let mut args = auth.to_vec();
        args.extend(["kubeconfig", "get", "--cluster", PRIVATE]);
        let run = run_at(&world, &redirecting, &args);
        run.code(4, "a redirect");
        assert!(
            run.stderr.contains("307") && run.stderr.contains("/steal"),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("X-AUTH-TOKEN-SECRET"),
            "{}",
            run.stderr
        );
    }
    assert!(
        elsewhere.requests.lock().unwrap().is_empty(),
        "nothing reached the other origin"
    );
}

#[test]
fn an_endpoint_with_a_password_is_refused_before_anything_is_written() {
    let world = World::new();
    let file = world.path("never.yaml");
    let run = world.run_at(
        "http://admin:s3cret@127.0.0.1:9",
        &[
            "kubeconfig",
            "update",
            "--exec",
            "--cluster",
            PRIVATE,
            "--kubeconfig",
            file.to_str().unwrap(),
        ],
    );
    run.code(2, "userinfo in --endpoint");
    assert!(
        run.stderr.contains("user name or password"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    assert!(!file.exists());
}

#[test]
fn every_duration_flag_refuses_huge_values_with_its_maximum() {
    let world = World::new();
    let huge = "18446744073709551615";
    let huge_days = "99999999999d";
    let huge_secs = format!("{huge}s");
    let huge_behind = format!("-{huge_days}");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--timeout", huge, "clusters", "list"], "1day"),
        (vec!["--timeout", &huge_secs, "clusters", "list"], "1day"),
        (
            vec!["kubeconfig", "refresh", "--within", huge_days],
            "10years",
        ),
        (vec!["kubeconfig", "refresh", "--within", huge], "10years"),
        (
            vec!["kubeconfig", "refresh", "--lock-timeout", huge],
            "1day",
        ),
        (
            vec![
                "kubeconfig",
                "update",
                "--cluster",
                PRIVATE,
                "--lock-timeout",
                huge_days,
            ],
            "1day",
        ),
        (
            vec![
                "kubeconfig",
                "remove",
                "--cluster",
                PRIVATE,
                "--lock-timeout",
                huge,
            ],
            "1day",
        ),
        (vec!["kubeconfig", "prune", "--lock-timeout", huge], "1day"),
        (
            vec![
                "credential",
                "--cluster",
                PRIVATE,
                "--renew-before",
                huge_days,
            ],
            "10years",
        ),
        (vec!["emulator", "serve", "--read-timeout", huge], "1day"),
        (
            vec!["emulator", "serve", "--clock-offset", &huge_behind],
            "10years",
        ),
    ];
    for (args, max) in cases {
        let run = world.run(&args);
        run.code(2, &format!("{args:?}"));
        assert!(
            run.stderr.contains(&format!("the maximum is {max}")),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    // Certificate validities and counts: range-checked by their parsers too.
    for args in [
        vec![
            "kubeconfig",
            "get",
            "--cluster",
            PRIVATE,
            "--duration",
            huge,
        ],
        vec![
            "kubeconfig",
            "update",
            "--cluster",
            PRIVATE,
            "--duration",
            huge,
        ],
        vec!["kubeconfig", "refresh", "--duration", huge],
        vec!["credential", "--cluster", PRIVATE, "--duration", huge],
        vec!["emulator", "serve", "--max-connections", huge],
    ] {
        let run = world.run(&args);
        run.code(2, &format!("{args:?}"));
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    assert_eq!(world.emu.issued(PRIVATE), 0);
}

#[test]
fn a_dry_run_requests_no_certificate_and_still_names_every_entry() {
    let world = World::new();
    let file = world.path("dry.yaml");
    let path = file.to_str().unwrap();
    let run = world.update(&[
        "--cluster",
        PUBLIC,
        "--access",
        "both",
        "--kubeconfig",
        path,
        "--dry-run",
    ]);
    run.success("update --dry-run");
    assert_eq!(
        world.emu.issued(PUBLIC),
        0,
        "a dry run costs no certificate"
    );
    for name in [
        ctx(PUBLIC, "external"),
        ctx(PUBLIC, "internal"),
        user(PUBLIC),
    ] {
        assert!(run.stdout.contains(&name), "{name} in {}", run.stdout);
    }
    assert!(
        run.stdout.contains(
            &world
                .emu
                .api_server_url(PUBLIC, cce_autopilot::Access::External)
                .unwrap()
        )
    );
    assert!(!file.exists());

    // A refresh dry run fetches nothing either.
    world
        .update(&[
            "--cluster",
            PRIVATE,
            "--kubeconfig",
            path,
            "--duration",
            "1",
        ])
        .success("update");
    let issued = world.emu.issued(PRIVATE);
    let dry = world.kubeconfig(&[
        "refresh",
        "--within",
        "2d",
        "--kubeconfig",
        path,
        "--dry-run",
    ]);
    dry.success("refresh --dry-run");
    assert!(dry.stderr.contains("would renew"), "{}", dry.stderr);
    assert_eq!(world.emu.issued(PRIVATE), issued);
}

#[test]
fn a_refused_update_costs_no_certificate() {
    let world = World::new();
    // A lock whose holder cannot be told (kubectl leaves its locks empty): refused after --lock-timeout.
    let file = world.path("locked.yaml");
    std::fs::write(file.with_extension("yaml.lock"), "").unwrap();
    let run = world.update(&[
        "--cluster",
        PRIVATE,
        "--kubeconfig",
        file.to_str().unwrap(),
        "--lock-timeout",
        "1s",
    ]);
    run.code(6, "a held lock");
    // A directory that cannot be made: its parent is a regular file.
    std::fs::write(world.path("plain"), "x").unwrap();
    let nested = world.path("plain/sub/config");
    let run = world.update(&[
        "--cluster",
        PRIVATE,
        "--kubeconfig",
        nested.to_str().unwrap(),
    ]);
    run.code(6, "an impossible directory");
    assert_eq!(
        world.emu.issued(PRIVATE),
        0,
        "refused before any certificate"
    );
}

/// A link to `victim`, made in a sticky world-writable directory and given to uid 65534 (as root can),
/// as another user of the machine would plant it; `None` when this test cannot give a link away.
fn planted_link(world: &World, victim: &Path) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let shared = world.path("shared-tmp");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let link = shared.join("kubeconfig.yaml");
    std::os::unix::fs::symlink(victim, &link).unwrap();
    let given = std::process::Command::new("chown")
        .args(["-h", "65534"])
        .arg(&link)
        .status()
        .is_ok_and(|s| s.success());
    if !given {
        eprintln!("skipping: cannot chown -h the link (not root)");
        return None;
    }
    Some(link)
}

#[test]
fn a_link_another_user_planted_in_a_shared_directory_is_not_followed() {
    let world = World::new();
    let victim = world.path("victim.yaml");
    std::fs::write(&victim, FOREIGN_YAML).unwrap();
    let Some(link) = planted_link(&world, &victim) else {
        return;
    };
    let get = world.kubeconfig(&["get", "--cluster", PRIVATE, "-o", link.to_str().unwrap()]);
    get.code(6, "get -o through another user's link");
    assert!(get.stderr.contains("protected_symlinks"), "{}", get.stderr);
    let update = world.update(&["--cluster", PRIVATE, "--kubeconfig", link.to_str().unwrap()]);
    update.code(6, "--kubeconfig through another user's link");
    assert!(
        update.stderr.contains("protected_symlinks"),
        "{}",
        update.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), FOREIGN_YAML);
}

#[test]
fn remove_and_prune_leave_no_copy_of_the_removed_key() {
    let world = World::new();
    let file = world.path("config");
    let path = file.to_str().unwrap();
    std::fs::write(&file, FOREIGN_YAML).unwrap();
    let key_of = |cluster: &str| {
        parse(&file)
            .users
            .iter()
            .find(|u| u.name == user(cluster))
            .and_then(|u| u.user.client_key_data.clone())
            .expect("a key")
    };
    world
        .update(&["--cluster", PRIVATE, "--kubeconfig", path])
        .success("update");
    world
        .update(&["--cluster", PUBLIC, "--kubeconfig", path])
        .success("update");
    let (private_key, public_key) = (key_of(PRIVATE), key_of(PUBLIC));
    let bak = cce_autopilot_kubeconfig::backup_path_for(&file);
    assert!(
        std::fs::read_to_string(&bak)
            .unwrap()
            .contains(&private_key),
        "the .bak holds it before"
    );

    let removed = world.kubeconfig(&["remove", "--cluster", PRIVATE, "--kubeconfig", path]);
    removed.success("remove");
    let holds = |key: &str| {
        std::fs::read_dir(world.home.path())
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .any(|text| text.contains(key))
    };
    assert!(!holds(&private_key), "a copy of the removed key is left");

    // prune: the public cluster is gone from the service; a .bak the user made is theirs.
    std::fs::write(
        &bak,
        format!("# my own copy\n{}", std::fs::read_to_string(&file).unwrap()),
    )
    .unwrap();
    world.emu.remove_cluster(PUBLIC);
    let pruned = world.kubeconfig(&["prune", "--kubeconfig", path]);
    pruned.success("prune");
    assert!(!parse(&file).users.iter().any(|u| u.name == user(PUBLIC)));
    assert!(bak.exists(), "the user's own .bak is never deleted");
    assert!(
        pruned.stderr.contains("delete it yourself"),
        "{}",
        pruned.stderr
    );
    assert!(world.kubectl_contexts(&file).contains(&"theirs".to_owned()));
    let _ = public_key;
}

#[test]
fn an_entry_that_leaves_the_plugin_leaves_nothing_in_its_cache() {
    let world = World::new();
    let file = world.path("config");
    let path = file.to_str().unwrap();
    world
        .update(&["--cluster", PRIVATE, "--kubeconfig", path, "--exec"])
        .success("update --exec");
    let context = ctx(PRIVATE, "internal");
    assert!(!world.kubectl_version_with_keys(&file, &context).is_empty());
    let cache = world.path(".cache/cce-autopilot/credentials");
    let entries = || {
        std::fs::read_dir(&cache).map_or(0, |d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
        })
    };
    assert_eq!(entries(), 1, "the plugin cached its certificate");
    world
        .update(&["--cluster", PRIVATE, "--kubeconfig", path])
        .success("update, static");
    assert_eq!(entries(), 0, "the cached key went with the exec entry");
}

#[test]
fn a_verified_endpoint_stays_verified_and_inspect_flags_the_insecure_ones() {
    let world = World::new();
    let file = world.path("config");
    let path = file.to_str().unwrap();
    world
        .update(&[
            "--cluster",
            PUBLIC,
            "--kubeconfig",
            path,
            "--tls-server-name",
            "kubernetes",
        ])
        .success("verified");
    let plain = world.update(&["--cluster", PUBLIC, "--kubeconfig", path]);
    plain.success("plain re-run");
    let cluster = parse(&file)
        .clusters
        .into_iter()
        .find(|c| c.name == ctx(PUBLIC, "external"))
        .unwrap();
    assert_eq!(
        cluster.cluster.tls_server_name.as_deref(),
        Some("kubernetes")
    );
    assert_ne!(cluster.cluster.insecure_skip_tls_verify, Some(true));
    assert!(
        !plain.stderr.contains("skips TLS verification"),
        "{}",
        plain.stderr
    );
    assert!(
        !world
            .kubectl_version(&file, &ctx(PUBLIC, "external"))
            .is_empty()
    );

    let insecure = world.path("insecure");
    world
        .update(&[
            "--cluster",
            PUBLIC,
            "--kubeconfig",
            insecure.to_str().unwrap(),
        ])
        .success("insecure");
    let inspect = world.kubeconfig(&[
        "inspect",
        "--kubeconfig",
        insecure.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report: Value =
        serde_json::from_str(&inspect.stdout).unwrap_or_else(|e| panic!("{e}: {inspect:?}"));
    let context = report["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == ctx(PUBLIC, "external"))
        .unwrap();
    assert_eq!(context["insecure"], true);
    assert!(
        context["warnings"]
            .to_string()
            .contains("skips TLS verification"),
        "{context}"
    );
}

/// `KUBERNETES_EXEC_INFO` as kubectl sets it, trusting `ca_pem`.
fn exec_info(ca_pem: &str) -> String {
    use base64::Engine as _;
    json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "spec": {"interactive": false, "cluster": {"server": "https://127.0.0.1:1",
            "certificate-authority-data": base64::engine::general_purpose::STANDARD.encode(ca_pem)}}})
    .to_string()
}

#[test]
fn the_plugin_without_a_cache_and_with_a_stale_ca_still_answers_cheaply() {
    let world = World::new();
    // A cache directory that cannot be made (its parent is a file): answered, uncached, one warning.
    std::fs::write(world.path("file"), "x").unwrap();
    let no_cache = world.path("file/cache");
    let run = world.run([
        "credential",
        "--cluster",
        PRIVATE,
        "--cache-dir",
        no_cache.to_str().unwrap(),
    ]);
    run.success("the plugin without a cache");
    assert!(run.stdout.contains("ExecCredential"), "{}", run.stdout);
    assert_eq!(run.stderr.matches("warning").count(), 1, "{}", run.stderr);

    // kubectl trusts a CA the cluster no longer has: one new certificate, then hits, a line each time.
    let stale = "-----BEGIN CERTIFICATE-----\nc3RhbGU=\n-----END CERTIFICATE-----\n";
    let cache = world.path("cache");
    let before = world.emu.issued(PRIVATE);
    for _ in 0..3 {
        let run = world.run_with_env(
            "KUBERNETES_EXEC_INFO",
            &exec_info(stale),
            [
                "credential",
                "--cluster",
                PRIVATE,
                "--cache-dir",
                cache.to_str().unwrap(),
            ],
        );
        run.success("the plugin with a stale CA");
        assert!(
            run.stderr.contains("has a new CA") && run.stderr.contains("kubeconfig update --exec"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(
        world.emu.issued(PRIVATE),
        before + 1,
        "a stale CA costs one certificate"
    );
}

#[test]
fn a_certificate_expired_on_arrival_is_an_error_naming_the_clock_difference() {
    // The service's clock is three days behind: a one-day certificate is expired when it arrives.
    let world =
        World::with(cce_autopilot_emulator::Emulator::builder().clock_offset_secs(-3 * 86_400));
    let file = world.path("config");
    let run = world.update(&[
        "--cluster",
        PRIVATE,
        "--kubeconfig",
        file.to_str().unwrap(),
        "--duration",
        "1",
    ]);
    run.code(4, "expired on arrival");
    assert!(
        run.stderr.contains("expired at") && run.stderr.contains("clocks is off by"),
        "{}",
        run.stderr
    );
    assert!(!file.exists(), "nothing written");
    let plugin = world.run([
        "credential",
        "--cluster",
        PRIVATE,
        "--cache-dir",
        world.path("c").to_str().unwrap(),
    ]);
    plugin.code(4, "the plugin too");
}

#[test]
fn an_exec_entry_carries_a_token_file_path_never_a_token() {
    let token = "emulator-token-0123456789";
    let world = World::with(cce_autopilot_emulator::Emulator::builder().token(token));
    let file = world.path("config");
    let path = file.to_str().unwrap();
    let token_file = world.path("token");
    std::fs::write(&token_file, token).unwrap();
    // The token itself in the environment: the entry would have to carry it.
    let run = world.run_with_env(
        "CCE_AUTOPILOT_TOKEN",
        token,
        [
            "kubeconfig",
            "update",
            "--exec",
            "--cluster",
            PRIVATE,
            "--kubeconfig",
            path,
        ],
    );
    run.code(2, "a token only the environment holds");
    assert!(run.stderr.contains("--token-file"), "{}", run.stderr);
    assert!(!file.exists());
    assert_eq!(world.emu.issued(PRIVATE), 0);

    // A token file: its path travels, and kubectl logs in through the plugin with nothing else.
    let mut cmd = world.command([
        "--token-file",
        token_file.to_str().unwrap(),
        "kubeconfig",
        "update",
        "--exec",
        "--cluster",
        PRIVATE,
        "--kubeconfig",
        path,
    ]);
    // No access key anywhere: the token file is the only credential.
    cmd.env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK");
    Run::from(cmd.output().unwrap()).success("update --exec --token-file");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(token_file.to_str().unwrap()) && !text.contains(token),
        "{text}"
    );
    let contexts = world.kubectl_contexts(&file);
    assert_eq!(contexts.len(), 1, "{contexts:?}");
    assert!(!world.kubectl_version(&file, &contexts[0]).is_empty());
}

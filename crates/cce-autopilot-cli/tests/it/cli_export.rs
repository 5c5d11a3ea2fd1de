//! `kubeconfig export`: Secrets for Argo CD, Flux and Cluster API — their keys, types and labels, private
//! files, byte-stable output, and `--renew-within` issuing again exactly what runs out.
// Unix only: file modes, as Linux CI runs them (README, "Platforms").
#![cfg(unix)]
#![allow(missing_docs)]

use std::os::unix::fs::PermissionsExt as _;

use cce_autopilot_emulator::Emulator;
use serde_json::Value;

use crate::cli_update_support::World;

fn docs(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(text).expect("YAML documents")
}

fn world() -> World {
    World::with(
        Emulator::builder()
            .named_cluster("alpha", "id-alpha")
            .named_cluster("bravo", "id-bravo")
            .named_public_cluster("charlie", "id-charlie"),
    )
}

#[test]
fn each_format_writes_its_consumers_shape_into_a_private_file() {
    let world = world();
    for (format, name, kind, keys) in [
        (
            "argocd",
            "cce-alpha",
            "Opaque",
            vec!["config", "name", "server"],
        ),
        ("flux", "cce-alpha-kubeconfig", "Opaque", vec!["value"]),
        (
            "capi",
            "alpha-kubeconfig",
            "cluster.x-k8s.io/secret",
            vec!["value"],
        ),
    ] {
        let file = world.path(&format!("{format}.yaml"));
        world
            .run([
                "kubeconfig",
                "export",
                "--format",
                format,
                "--all",
                "-o",
                file.to_str().unwrap(),
            ])
            .success(format);
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let secrets = docs(&std::fs::read_to_string(&file).unwrap());
        assert_eq!(secrets.len(), 3, "{format}");
        let alpha = &secrets[0];
        assert_eq!(alpha["metadata"]["name"], name);
        assert_eq!(alpha["type"], kind);
        let labels = &alpha["metadata"]["labels"];
        assert_eq!(labels["cce-autopilot.io/owner"], "cce-autopilot");
        assert_eq!(labels["cce-autopilot.io/cluster-id"], "id-alpha");
        let data: Vec<&String> = alpha["stringData"].as_object().unwrap().keys().collect();
        assert_eq!(data, keys, "{format}");
        assert!(
            alpha["metadata"]["annotations"]["cce-autopilot.io/expires-at"]
                .as_str()
                .unwrap()
                .ends_with('Z')
        );
        match format {
            "argocd" => {
                assert_eq!(labels["argocd.argoproj.io/secret-type"], "cluster");
                let config: Value =
                    serde_json::from_str(alpha["stringData"]["config"].as_str().unwrap()).unwrap();
                let tls = &config["tlsClientConfig"];
                assert!(
                    tls["caData"].is_string() && tls.get("insecure").is_none(),
                    "{tls}"
                );
            }
            "capi" => assert_eq!(labels["cluster.x-k8s.io/cluster-name"], "alpha"),
            _ => {}
        }
    }
    // The public cluster's external endpoint is verified with the CA and the name given, never insecure.
    let external = world.run([
        "kubeconfig",
        "export",
        "--format",
        "argocd",
        "--cluster",
        "charlie",
        "--tls-server-name",
        "kubernetes",
    ]);
    external.success("external");
    let secret = &docs(&external.stdout)[0];
    let config: Value =
        serde_json::from_str(secret["stringData"]["config"].as_str().unwrap()).unwrap();
    assert_eq!(config["tlsClientConfig"]["serverName"], "kubernetes");
    assert!(config["tlsClientConfig"]["caData"].is_string());
    let refused = world.run([
        "kubeconfig",
        "export",
        "--format",
        "argocd",
        "--cluster",
        "charlie",
        "--access",
        "external",
    ]);
    refused.code(2, "external without a server name");
}

#[test]
fn renew_within_issues_again_exactly_what_expires_and_keeps_the_rest_byte_for_byte() {
    let world = world();
    let day = 86_400;
    // alpha and bravo issued "25 days ago" (they run out in 5 days), charlie today (30 days).
    world.emu.set_clock_offset_secs(-25 * day);
    let old = world.run([
        "kubeconfig",
        "export",
        "--format",
        "flux",
        "--cluster",
        "alpha",
        "--cluster",
        "bravo",
    ]);
    old.success("old export");
    world.emu.set_clock_offset_secs(0);
    let fresh = world.run([
        "kubeconfig",
        "export",
        "--format",
        "flux",
        "--cluster",
        "charlie",
    ]);
    fresh.success("fresh export");
    let previous = world.path("previous.yaml");
    std::fs::write(&previous, format!("{}{}", old.stdout, fresh.stdout)).unwrap();
    let issued = |id: &str| world.emu.issued(id);
    // `export --format flux --all` renewing what expires within a week of the earlier export `from`.
    let renew = |from: &std::path::Path| {
        world.run([
            "kubeconfig".as_ref(),
            "export".as_ref(),
            "--format".as_ref(),
            "flux".as_ref(),
            "--all".as_ref(),
            "--renew-within".as_ref(),
            "7d".as_ref(),
            "--from".as_ref(),
            from.as_os_str(),
        ])
    };
    let before = [issued("id-alpha"), issued("id-bravo"), issued("id-charlie")];

    let renewed = renew(&previous);
    renewed.success("renew");
    let after = [issued("id-alpha"), issued("id-bravo"), issued("id-charlie")];
    assert_eq!(
        after,
        [before[0] + 1, before[1] + 1, before[2]],
        "exactly alpha and bravo issued again"
    );
    let secrets = docs(&renewed.stdout);
    let charlie_now = secrets
        .iter()
        .find(|s| s["metadata"]["name"] == "cce-charlie-kubeconfig")
        .unwrap();
    let charlie_before = &docs(&fresh.stdout)[0];
    assert_eq!(charlie_now, charlie_before, "kept as it was");
    assert!(
        renewed.stderr.contains("2 issued, 1 kept"),
        "{}",
        renewed.stderr
    );

    // The same certificates give the same bytes: nothing is due, so nothing is issued or changed.
    let current = world.path("current.yaml");
    std::fs::write(&current, &renewed.stdout).unwrap();
    let again = renew(&current);
    again.success("again");
    assert_eq!(again.stdout, renewed.stdout, "byte-identical");
    assert_eq!(
        [issued("id-alpha"), issued("id-bravo"), issued("id-charlie")],
        after
    );

    // `kubectl get secret -o yaml` answers a v1 List with base64 `data` and server fields: read too.
    let list = world.path("list.yaml");
    let items: Vec<Value> = docs(&renewed.stdout)
        .into_iter()
        .map(|mut s| {
            use base64::Engine as _;
            let value = s["stringData"]["value"].as_str().unwrap().to_owned();
            s.as_object_mut().unwrap().remove("stringData");
            s["data"] = serde_json::json!({"value": base64::engine::general_purpose::STANDARD.encode(value)});
            s["metadata"]["resourceVersion"] = "42".into();
            s
        })
        .collect();
    let doc = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    std::fs::write(&list, serde_saphyr::to_string(&doc).unwrap()).unwrap();
    let from_list = renew(&list);
    from_list.success("from a kubectl list");
    assert_eq!(from_list.stdout, renewed.stdout);
}

#[test]
fn a_renewal_that_fails_keeps_the_earlier_secret_while_it_is_valid_and_says_so() {
    let world = world();
    // Credentials that may not list clusters: the ids name the Secrets, and a removed cluster can still be
    // asked for (and answers 404).
    world.emu.set_deny_cluster_listing(true);
    world.emu.set_clock_offset_secs(-25 * 86_400);
    let ids = ["--cluster", "id-alpha", "--cluster", "id-bravo"];
    let mut args = vec!["kubeconfig", "export", "--format", "argocd"];
    args.extend(ids);
    let old = world.run(&args);
    old.success("old export");
    world.emu.set_clock_offset_secs(0);
    let previous = world.path("previous.yaml");
    // A planted Secret with bravo's id under another name is not bravo's earlier Secret.
    let planted = old
        .stdout
        .replace("name: cce-id-bravo", "name: cce-planted");
    std::fs::write(&previous, format!("{}{planted}", old.stdout)).unwrap();
    assert!(world.emu.remove_cluster("id-alpha"));
    args.extend(["--renew-within", "7d", "--from", previous.to_str().unwrap()]);
    let run = world.run(&args);
    run.code(8, "alpha cannot be renewed");
    let secrets = docs(&run.stdout);
    let names: Vec<&str> = secrets
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["cce-id-alpha", "cce-id-bravo"],
        "alpha kept, bravo renewed, nothing planted"
    );
    let before = &docs(&old.stdout)[0];
    assert_eq!(
        secrets[0]["stringData"], before["stringData"],
        "the earlier alpha, unchanged"
    );
    assert_ne!(
        secrets[1]["stringData"],
        docs(&old.stdout)[1]["stringData"],
        "bravo renewed"
    );
    assert!(
        run.stderr.contains("earlier Secret is kept"),
        "{}",
        run.stderr
    );
}

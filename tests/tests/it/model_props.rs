//! Invariants of the model, for all inputs: durations accept exactly -1 and 1..=1827 through every entry point,
//! and kubeconfigs survive JSON → model → JSON unchanged, unknown fields included.

use cce_autopilot_model::{CertDuration, Kubeconfig};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn valid(n: i64) -> bool {
    n == -1 || (1..=1827).contains(&n)
}

proptest! {
    #[test]
    fn try_from_accepts_exactly_the_documented_range(n in any::<i32>()) {
        prop_assert_eq!(CertDuration::try_from(n).is_ok(), valid(n.into()));
    }

    #[test]
    fn the_boundaries_are_exact(n in -5i32..=5, m in 1820i32..=1835) {
        prop_assert_eq!(CertDuration::try_from(n).is_ok(), valid(n.into()));
        prop_assert_eq!(CertDuration::try_from(m).is_ok(), valid(m.into()));
    }

    #[test]
    fn from_str_agrees_with_try_from(n in any::<i64>()) {
        let parsed = n.to_string().parse::<CertDuration>();
        prop_assert_eq!(parsed.is_ok(), valid(n));
        if let Ok(d) = parsed {
            prop_assert_eq!(i64::from(d.get()), n);
        }
    }

    #[test]
    fn from_str_rejects_non_numbers(s in "[a-zA-Z ._+-]{0,12}") {
        prop_assume!(!s.trim().eq_ignore_ascii_case("max"));
        prop_assert!(s.parse::<CertDuration>().is_err());
    }

    #[test]
    fn serde_agrees_with_try_from_and_round_trips(n in any::<i64>()) {
        let parsed = serde_json::from_value::<CertDuration>(json!({ "duration": n }));
        prop_assert_eq!(parsed.is_ok(), valid(n));
        if let Ok(d) = parsed {
            prop_assert_eq!(serde_json::to_value(d).unwrap(), json!({ "duration": n }));
        }
    }
}

/// Unknown fields: names the model does not know, with arbitrary JSON values.
fn extra() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,16}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("x-[a-z]{1,8}", value, 0..3).prop_map(|m| m.into_iter().collect())
}

fn b64() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/]{4,40}={0,2}"
}

fn with_extra(mut object: Value, extra: Map<String, Value>) -> Value {
    object.as_object_mut().unwrap().extend(extra);
    object
}

fn kubeconfig() -> impl Strategy<Value = Value> {
    let cluster = (
        prop_oneof![Just("internalCluster"), Just("externalCluster")],
        "https://[0-9.]{7,15}:[0-9]{2,5}",
        prop::option::of(b64()),
        prop::option::of(any::<bool>()),
        extra(),
        extra(),
    )
        .prop_map(|(name, server, ca, skip, e1, e2)| {
            let mut c = json!({ "server": server });
            if let Some(ca) = ca {
                c["certificate-authority-data"] = ca.into();
            }
            if let Some(skip) = skip {
                c["insecure-skip-tls-verify"] = skip.into();
            }
            with_extra(json!({ "name": name, "cluster": with_extra(c, e1) }), e2)
        });
    let user = (
        "[a-z]{1,8}",
        prop::option::of(b64()),
        prop::option::of("S0VZ[A-Za-z0-9+/]{12,40}"),
        extra(),
    )
        .prop_map(|(name, cert, key, e)| {
            let mut u = json!({});
            if let Some(cert) = cert {
                u["client-certificate-data"] = cert.into();
            }
            if let Some(key) = key {
                u["client-key-data"] = key.into();
            }
            json!({ "name": name, "user": with_extra(u, e) })
        });
    let context = (prop_oneof![Just("internal"), Just("external")], "[a-zA-Z]{1,12}", "[a-z]{1,8}", extra())
        .prop_map(|(name, cluster, user, e)| {
            json!({ "name": name, "context": with_extra(json!({ "cluster": cluster, "user": user }), e) })
        });
    (
        prop::collection::vec(cluster, 0..3),
        prop::collection::vec(user, 0..2),
        prop::collection::vec(context, 0..3),
        prop::option::of(prop_oneof![Just("internal"), Just("external")]),
        extra(),
    )
        .prop_map(|(clusters, users, contexts, current, e)| {
            let mut k = json!({
                "kind": "Config", "apiVersion": "v1", "preferences": {},
                "clusters": clusters, "users": users, "contexts": contexts,
            });
            if let Some(current) = current {
                k["current-context"] = current.into();
            }
            with_extra(k, e)
        })
}

proptest! {
    #[test]
    fn kubeconfig_json_round_trip_is_lossless(original in kubeconfig()) {
        let model: Kubeconfig = serde_json::from_value(original.clone()).unwrap();
        prop_assert_eq!(serde_json::to_value(&model).unwrap(), original.clone());
        // Text form too, so key order and number formatting survive.
        let text = serde_json::to_string(&original).unwrap();
        let again: Kubeconfig = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(serde_json::to_string(&again).unwrap(), text);
    }

    #[test]
    fn debug_never_shows_a_client_key(original in kubeconfig()) {
        let model: Kubeconfig = serde_json::from_value(original).unwrap();
        let debug = format!("{model:?}");
        for user in &model.users {
            if let Some(key) = &user.user.client_key_data {
                prop_assert!(!debug.contains(key.as_str()));
            }
        }
    }
}

/// A cluster as the service may answer it: typed fields (some absent), unknown ones at every level.
fn autopilot_cluster() -> impl Strategy<Value = Value> {
    let metadata = (
        "[a-z][a-z0-9-]{2,20}[a-z0-9]",
        prop::option::of("[0-9a-f-]{8,36}"),
        prop::option::of("[a-z][a-z0-9-]{3,12}"),
        prop::option::of(prop::collection::btree_map(
            "[a-z./]{1,12}",
            "[ -~]{0,12}",
            0..3,
        )),
        extra(),
    )
        .prop_map(|(name, uid, alias, labels, e)| {
            let mut m = json!({ "name": name });
            if let Some(uid) = uid {
                m["uid"] = uid.into();
            }
            if let Some(alias) = alias {
                m["alias"] = alias.into();
            }
            if let Some(labels) = labels {
                m["labels"] = json!(labels);
            }
            with_extra(m, e)
        });
    let spec = (
        prop::option::of("v1\\.[0-9]{2}"),
        prop::option::of("cce\\.[0-9]\\.[0-9]"),
        extra(),
    )
        .prop_map(|(version, platform, e)| {
            let mut s = json!({ "flavor": "cce.autopilot.cluster" });
            if let Some(v) = version {
                s["version"] = v.into();
            }
            if let Some(p) = platform {
                s["platformVersion"] = p.into();
            }
            with_extra(s, e)
        });
    let endpoint = (
        "https://[0-9.]{7,15}:5443",
        prop_oneof![Just("Internal"), Just("External"), Just("Satellite")],
        extra(),
    )
        .prop_map(|(url, kind, e)| with_extra(json!({ "url": url, "type": kind }), e));
    let status = (
        prop_oneof![
            Just("Available"),
            Just("Creating"),
            Just("Hibernating"),
            Just("available")
        ],
        prop::collection::vec(endpoint, 1..3),
        extra(),
    )
        .prop_map(|(phase, endpoints, e)| {
            with_extra(json!({ "phase": phase, "endpoints": endpoints }), e)
        });
    (metadata, spec, prop::option::of(status), extra()).prop_map(|(m, s, st, e)| {
        let mut c = json!({ "kind": "Cluster", "apiVersion": "v3", "metadata": m, "spec": s });
        if let Some(st) = st {
            c["status"] = st;
        }
        with_extra(c, e)
    })
}

proptest! {
    #[test]
    fn cluster_list_json_round_trip_is_lossless(
        items in prop::collection::vec(autopilot_cluster(), 0..4),
        e in extra(),
    ) {
        let original = with_extra(json!({ "kind": "List", "apiVersion": "v3", "items": items }), e);
        let model: cce_autopilot_model::AutopilotClusterList =
            serde_json::from_value(original.clone()).unwrap();
        prop_assert_eq!(serde_json::to_value(&model).unwrap(), original);
        let text = serde_json::to_string(&model).unwrap();
        let again: cce_autopilot_model::AutopilotClusterList = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&again, &model);
        prop_assert_eq!(serde_json::to_string(&again).unwrap(), text);
    }

    #[test]
    fn one_cluster_round_trips_like_an_item(original in autopilot_cluster()) {
        let model: cce_autopilot_model::AutopilotCluster = serde_json::from_value(original.clone()).unwrap();
        prop_assert_eq!(serde_json::to_value(&model).unwrap(), original);
    }
}

//! The contract itself: it parses as OpenAPI 3.0.3, its examples satisfy its schemas, and the client's model
//! covers every schema and reads every example.

use cce_autopilot_model::{CertDuration, ErrorBody, Kubeconfig};
use cce_autopilot_tests::spec_text;
use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use serde_json::{Value, json};

fn spec() -> OpenAPI {
    cce_autopilot_codegen::parse_spec(&spec_text()).expect("the spec parses with openapiv3")
}

/// The spec as plain JSON, for the validator (OpenAPI 3.0 schemas are JSON Schema plus a few keywords).
fn spec_json() -> Value {
    serde_saphyr::from_str(&spec_text()).expect("the spec is YAML")
}

fn validator(schema_name: &str) -> jsonschema::Validator {
    let mut root = spec_json();
    let components = root["components"].take();
    let schema =
        json!({ "$ref": format!("#/components/schemas/{schema_name}"), "components": components });
    jsonschema::draft4::new(&schema).expect("the schema compiles")
}

fn assert_valid(schema: &str, instance: &Value) {
    let v = validator(schema);
    let errors: Vec<String> = v.iter_errors(instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{schema} rejects {instance}: {errors:?}");
}

fn assert_invalid(schema: &str, instance: &Value) {
    assert!(
        !validator(schema).is_valid(instance),
        "{schema} accepts {instance}"
    );
}

#[test]
fn spec_is_openapi_3_0_3_with_the_documented_operation() {
    let spec = spec();
    assert_eq!(spec.openapi, "3.0.3");
    let path = spec
        .paths
        .paths
        .get("/autopilot/v3/projects/{project_id}/clusters/{cluster_id}/clustercert")
        .and_then(ReferenceOr::as_item)
        .expect("the documented path");
    let op = path.post.as_ref().expect("a POST");
    assert_eq!(
        op.operation_id.as_deref(),
        Some("CreateAutopilotKubernetesClusterCert")
    );
    let params: Vec<_> = op
        .parameters
        .iter()
        .filter_map(ReferenceOr::as_item)
        .map(|p| {
            (
                p.parameter_data_ref().name.clone(),
                p.parameter_data_ref().required,
            )
        })
        .collect();
    assert_eq!(
        params,
        vec![("project_id".into(), true), ("cluster_id".into(), true)]
    );
    for code in [
        StatusCode::Code(200),
        StatusCode::Range(4),
        StatusCode::Range(5),
    ] {
        assert!(op.responses.responses.contains_key(&code), "{code:?}");
    }
    let ok = op.responses.responses[&StatusCode::Code(200)]
        .as_item()
        .unwrap();
    assert!(ok.headers.contains_key("Port-ID"));
    let schemes = &spec.components.as_ref().unwrap().security_schemes;
    assert!(schemes.contains_key("aksk") && schemes.contains_key("token"));
}

#[test]
fn every_schema_is_replaced_by_a_model_type() {
    let spec = spec();
    let names: Vec<&String> = spec.components.as_ref().unwrap().schemas.keys().collect();
    assert_eq!(names.len(), cce_autopilot_codegen::REPLACEMENTS.len());
    for name in names {
        assert!(
            cce_autopilot_codegen::REPLACEMENTS
                .iter()
                .any(|(s, _)| s == name),
            "{name}"
        );
    }
}

/// Every `example`/`examples` value in the operation, with the schema it belongs to.
fn operation_examples() -> Vec<(String, Value)> {
    let spec = spec_json();
    let op = &spec["paths"]["/autopilot/v3/projects/{project_id}/clusters/{cluster_id}/clustercert"]
        ["post"];
    let mut out = Vec::new();
    let mut collect = |media: &Value| {
        let schema = media["schema"]["$ref"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        for example in media["examples"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            out.push((schema.clone(), example["value"].clone()));
        }
    };
    collect(&op["requestBody"]["content"]["application/json"]);
    for response in op["responses"].as_object().unwrap().values() {
        collect(&response["content"]["application/json"]);
    }
    out
}

#[test]
fn the_specs_examples_satisfy_its_schemas() {
    let examples = operation_examples();
    assert_eq!(examples.len(), 4, "request, 200, 4XX and 5XX examples");
    for (schema, value) in &examples {
        assert_valid(schema, value);
    }
    let components = spec_json()["components"]["schemas"].clone();
    for (name, schema) in components.as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            assert_valid(name, example);
        }
    }
}

#[test]
fn the_model_reads_the_specs_examples() {
    for (schema, value) in operation_examples() {
        match schema.as_str() {
            "CertDuration" => {
                let d: CertDuration = serde_json::from_value(value.clone()).unwrap();
                assert_eq!(serde_json::to_value(d).unwrap(), value);
            }
            "Config" => {
                let k: Kubeconfig = serde_json::from_value(value.clone()).unwrap();
                assert_eq!(serde_json::to_value(&k).unwrap(), value, "lossless");
                assert_eq!(k.internal().unwrap().user.name, "user");
            }
            "ErrorBody" => {
                let e: ErrorBody = serde_json::from_value(value.clone()).unwrap();
                assert!(e.code.is_some() && e.message.is_some());
            }
            other => panic!("unexpected schema {other}"),
        }
    }
}

#[test]
fn the_duration_schema_states_the_range_rule() {
    for ok in [-1, 1, 30, 1826, 1827] {
        assert_valid("CertDuration", &json!({ "duration": ok }));
    }
    for bad in [json!(-2), json!(0), json!(1828), json!(30.5), json!("30")] {
        assert_invalid("CertDuration", &json!({ "duration": bad }));
    }
    assert_invalid("CertDuration", &json!({}));
}

#[test]
fn the_config_schema_enforces_the_documented_names() {
    assert_invalid("Config", &json!({ "current-context": "public" }));
    assert_invalid("Config", &json!({ "clusters": [{ "name": "myCluster" }] }));
    assert_invalid("Config", &json!({ "contexts": [{ "name": "other" }] }));
    assert_valid(
        "Config",
        &json!({ "contexts": [{ "name": "external" }], "current-context": "external" }),
    );
}

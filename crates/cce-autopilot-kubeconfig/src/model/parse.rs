//! Reading a kubeconfig file (YAML or JSON, as kubectl does) and writing it in kubectl's layout.

use std::path::Path;

use super::KubeconfigFile;
use crate::error::{Error, Result, sanitize_message};

impl KubeconfigFile {
    /// Parses the text of a kubeconfig file, YAML or JSON as kubectl does: a text whose first
    /// non-blank character is `{` is read as JSON, anything else as YAML. An empty or blank file
    /// (or one holding only comments or `null`) is an empty configuration, as in client-go.
    ///
    /// `origin` only names the file in errors. A file that names two entries of one list alike is
    /// rejected like kubectl does ([`Error::DuplicateName`]).
    pub fn parse(text: &str, origin: &Path) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let trimmed = text.trim_start();
        let parsed = if trimmed.is_empty() {
            KubeconfigFile::default()
        } else if trimmed.starts_with('{') {
            // kubectl also reads a YAML flow mapping (`{apiVersion: v1}`): fall back to YAML, and
            // report the error of the syntax the text looks like.
            match parse_json(text, origin) {
                Ok(parsed) => parsed,
                Err(json_err) => match parse_yaml(text, origin) {
                    Ok(parsed) => parsed,
                    Err(_) if looks_like_json(trimmed) => return Err(json_err),
                    Err(yaml_err) => return Err(yaml_err),
                },
            }
        } else {
            parse_yaml(text, origin)?
        };
        parsed.check_kind(origin)?;
        parsed.check_unique_names(origin)?;
        Ok(parsed)
    }

    /// client-go decodes a kubeconfig as `kind: Config` of `apiVersion: v1` (the defaults when absent) and
    /// refuses any other kind or version: so do we, so that a manifest (`kind: Deployment`) given by mistake
    /// is never written into.
    fn check_kind(&self, origin: &Path) -> Result<()> {
        if self.kind == "Config" && self.api_version == "v1" {
            return Ok(());
        }
        Err(Error::NotAKubeconfig {
            path: origin.to_path_buf(),
            kind: self.kind.clone(),
            api_version: self.api_version.clone(),
        })
    }

    /// [`Self::parse`] for raw file content, which must be UTF-8.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text, origin),
            Err(e) => {
                let valid = &bytes[..e.valid_up_to()];
                let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
                let column = String::from_utf8_lossy(&valid[line_start..])
                    .chars()
                    .count()
                    + 1;
                Err(Error::Parse {
                    path: origin.to_path_buf(),
                    line: Some(line),
                    column: Some(column),
                    message: "the file is not UTF-8 text".to_owned(),
                })
            }
        }
    }

    /// Renders the file as YAML in kubectl's layout (keys sorted at every level).
    ///
    /// The entry lists are turned into sorted values one entry at a time, as they are written: a sorted
    /// value of the whole file cost several times the file's size in memory (a 30,000-context file).
    pub fn to_yaml(&self) -> std::result::Result<String, String> {
        let head = KubeconfigFile {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            preferences: self.preferences.clone(),
            clusters: Vec::new(),
            users: Vec::new(),
            contexts: Vec::new(),
            current_context: self.current_context.clone(),
            extensions: self.extensions.clone(),
            unknown: self.unknown.clone(),
        };
        let mut top = serde_json::to_value(&head).map_err(|e| e.to_string())?;
        top.sort_all_objects();
        let serde_json::Value::Object(top) = top else {
            return Err("a kubeconfig serialises as a mapping".to_owned());
        };
        let options = serde_saphyr::ser_options! {
            // Base64 data is one long word: keep it a plain scalar rather than a folded block.
            prefer_block_scalars: false,
        };
        serde_saphyr::to_string_with_options(
            &Layout {
                top: &top,
                file: self,
            },
            options,
        )
        .map_err(|e| e.to_string())
    }
}

/// The top level in sorted order, with the entry lists of `file` in place of the empty ones of `top`.
struct Layout<'a> {
    top: &'a serde_json::Map<String, serde_json::Value>,
    file: &'a KubeconfigFile,
}

impl serde::Serialize for Layout<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.top.len()))?;
        for (key, value) in self.top {
            match key.as_str() {
                "clusters" => map.serialize_entry(key, &Entries(&self.file.clusters))?,
                "users" => map.serialize_entry(key, &Entries(&self.file.users))?,
                "contexts" => map.serialize_entry(key, &Entries(&self.file.contexts))?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// A list whose entries are each written as a value with sorted keys.
struct Entries<'a, T>(&'a [T]);

impl<T: serde::Serialize> serde::Serialize for Entries<'_, T> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq as _};
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for entry in self.0 {
            let mut value = serde_json::to_value(entry).map_err(S::Error::custom)?;
            value.sort_all_objects();
            seq.serialize_element(&value)?;
        }
        seq.end()
    }
}

/// `{"...` or `{}`: JSON rather than a YAML flow mapping with plain keys.
fn looks_like_json(trimmed: &str) -> bool {
    matches!(
        trimmed[1..].trim_start().chars().next(),
        Some('"' | '}') | None
    )
}

/// The limits on YAML input: serde-saphyr's defaults against amplification (aliases, anchors, nesting,
/// documents), but as many values and as much text as the file itself holds — a long file is not an
/// attack, and kubectl reads a file of 100,000 clusters.
fn budget(text: &str) -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(text.len());
    budget.max_events = budget.max_events.max(text.len().saturating_mul(2));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(text.len());
    budget.max_total_comment_bytes = budget.max_total_comment_bytes.max(text.len());
    budget
}

/// The budget breach behind `err`, through the wrappers that add alias locations or a snippet.
fn budget_breach(mut err: &serde_saphyr::Error) -> Option<&serde_saphyr::budget::BudgetBreach> {
    loop {
        match err {
            serde_saphyr::Error::Budget { breach, .. } => return Some(breach),
            serde_saphyr::Error::AliasError { error, .. }
            | serde_saphyr::Error::WithSnippet { error, .. } => err = error,
            _ => return None,
        }
    }
}

/// What a budget breach means, in the words of someone who wrote a YAML file.
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let defaults = serde_saphyr::Budget::default();
    match breach {
        B::Depth { .. } => format!(
            "it nests lists and mappings more than {} levels deep",
            defaults.max_depth
        ),
        B::Aliases { .. } | B::Anchors { .. } | B::AliasAnchorRatio { .. } => {
            "its anchors and aliases (`&name`, `*name`) repeat too much (an alias bomb): a kubeconfig needs none"
                .to_owned()
        }
        B::Documents { .. } => format!(
            "it holds more than {} YAML documents (`---`)",
            defaults.max_documents
        ),
        B::MergeKeys { .. } => format!(
            "it uses more than {} merge keys (`<<`)",
            defaults.max_merge_keys
        ),
        B::Nodes { .. } | B::Events { .. } | B::ScalarBytes { .. } => {
            "its anchors and aliases expand it to far more values than it holds".to_owned()
        }
        _ => "it exceeds a limit set on YAML input to stay safe from hostile files".to_owned(),
    }
}

fn parse_yaml(text: &str, origin: &Path) -> Result<KubeconfigFile> {
    let options = serde_saphyr::options! {
        // The source snippet could show key material: build our own message from the location.
        with_snippet: false,
        // `mode: 0644` in an unknown field: keep the spelling rather than a float.
        leading_zero_numbers_as_strings: true,
        budget: Some(budget(text)),
    };
    match serde_saphyr::from_str_with_options::<Option<KubeconfigFile>>(text, options) {
        Ok(parsed) => Ok(parsed.unwrap_or_default()),
        Err(err) if budget_breach(&err).is_some() => {
            let location = err.location();
            let breach = budget_breach(&err).map(budget_message).unwrap_or_default();
            Err(Error::Parse {
                path: origin.to_path_buf(),
                line: location.map(|l| l.line() as usize),
                column: location.map(|l| l.column() as usize),
                message: format!("the file is too complex to read safely: {breach}"),
            })
        }
        Err(err) => {
            let location = err.location();
            let mut message = err.without_snippet().to_string();
            if let Some(loc) = location {
                let suffix = format!(" at line {}, column {}", loc.line(), loc.column());
                if let Some(stripped) = message.strip_suffix(&suffix) {
                    message = stripped.to_owned();
                }
            }
            // Drop hints meant for the developers of a YAML consumer, not for its users.
            if message.starts_with("multiple YAML documents") {
                message =
                    "more than one YAML document (`---`); a kubeconfig file holds one".to_owned();
            }
            if let Some(cut) = message.find(", set DuplicateKeyPolicy") {
                message.truncate(cut);
            }
            Err(Error::Parse {
                path: origin.to_path_buf(),
                line: location.map(|l| l.line() as usize),
                column: location.map(|l| l.column() as usize),
                message: sanitize_message(&message),
            })
        }
    }
}

fn parse_json(text: &str, origin: &Path) -> Result<KubeconfigFile> {
    serde_json::from_str::<KubeconfigFile>(text).map_err(|err| {
        let mut message = err.to_string();
        let suffix = format!(" at line {} column {}", err.line(), err.column());
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
        let known = err.line() > 0;
        Error::Parse {
            path: origin.to_path_buf(),
            line: known.then_some(err.line()),
            column: known.then_some(err.column()),
            message: sanitize_message(&message),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EntryKind;
    use crate::model::{Cluster, Context, NamedCluster, NamedContext};
    use serde_json::{Value, json};

    const KEY_B64: &str = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktjd2dnU2pBZ0VBQW9JQkFRQwotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==";

    fn origin() -> &'static Path {
        Path::new("/test/config")
    }

    fn parse(text: &str) -> Result<KubeconfigFile> {
        KubeconfigFile::parse(text, origin())
    }

    const FULL: &str = r#"
apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- name: prod
  cluster:
    server: https://1.2.3.4:6443
    certificate-authority-data: Q0EK
    disable-compression: true
    extensions:
    - name: vendor.example/x
      extension: {a: 1}
  vendor-entry-field: keep-me
users:
- name: admin
  user:
    client-certificate-data: Q0VSVAo=
    client-key-data: S0VZCg==
    auth-provider:
      name: oidc
      config: {id-token: abc}
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: cce-autopilot
      args: [get-token]
      env: [{name: SECRET, value: s3cr3t}]
      interactiveMode: Never
      future-field: 7
contexts:
- name: prod
  context: {cluster: prod, user: admin, namespace: kube-system, vendor: v}
current-context: prod
x-top-level: {nested: [1, 2, {deep: yes}]}
"#;

    #[test]
    fn parses_typed_and_unknown_fields() {
        let f = parse(FULL).unwrap();
        assert_eq!(
            f.clusters[0].cluster.server.as_deref(),
            Some("https://1.2.3.4:6443")
        );
        assert_eq!(
            f.clusters[0].cluster.unknown["disable-compression"],
            json!(true)
        );
        assert_eq!(
            f.clusters[0].unknown["vendor-entry-field"],
            json!("keep-me")
        );
        assert_eq!(
            f.clusters[0].cluster.extensions[0].extension,
            json!({"a": 1})
        );
        let user = &f.users[0].user;
        assert_eq!(user.client_key_data.as_deref(), Some("S0VZCg=="));
        assert_eq!(
            user.unknown["auth-provider"]["config"]["id-token"],
            json!("abc")
        );
        let exec = user.exec.as_ref().unwrap();
        assert_eq!(exec.interactive_mode.as_deref(), Some("Never"));
        assert_eq!(exec.unknown["future-field"], json!(7));
        assert_eq!(
            f.contexts[0].context.namespace.as_deref(),
            Some("kube-system")
        );
        assert_eq!(f.contexts[0].context.unknown["vendor"], json!("v"));
        assert_eq!(f.preferences["colors"], json!(true));
        assert_eq!(f.current_context(), Some("prod"));
        assert_eq!(f.unknown["x-top-level"]["nested"][2]["deep"], json!(true));
    }

    #[test]
    fn round_trip_through_yaml_is_lossless() {
        let f = parse(FULL).unwrap();
        let yaml = f.to_yaml().unwrap();
        let again = parse(&yaml).unwrap();
        assert_eq!(f, again, "{yaml}");
    }

    #[test]
    fn yaml_output_follows_kubectl_layout() {
        let yaml = parse(FULL).unwrap().to_yaml().unwrap();
        let top: Vec<&str> = yaml
            .lines()
            .filter(|l| !l.starts_with([' ', '-']))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(
            top,
            [
                "apiVersion",
                "clusters",
                "contexts",
                "current-context",
                "kind",
                "preferences",
                "users",
                "x-top-level"
            ]
        );
    }

    #[test]
    fn empty_blank_comment_and_null_files_are_empty_configs() {
        for text in ["", "  \n\t\n", "# nothing here\n", "null\n", "\u{feff}"] {
            let f = parse(text).unwrap();
            assert_eq!(f, KubeconfigFile::default(), "{text:?}");
        }
    }

    #[test]
    fn null_lists_read_as_empty() {
        let f =
            parse("apiVersion: v1\nkind: Config\nclusters: null\nusers:\ncontexts: ~\n").unwrap();
        assert!(f.clusters.is_empty() && f.users.is_empty() && f.contexts.is_empty());
    }

    #[test]
    fn json_input_is_accepted() {
        let f = parse(r#"{"kind":"Config","apiVersion":"v1","clusters":[{"name":"a","cluster":{"server":"https://x","x":1}}],"current-context":""}"#).unwrap();
        assert_eq!(f.clusters[0].cluster.unknown["x"], json!(1));
        assert_eq!(f.current_context(), None);
    }

    #[test]
    fn a_yaml_flow_mapping_is_accepted_like_kubectl_does() {
        let f = parse(
            "{apiVersion: v1, kind: Config, clusters: [{name: a, cluster: {server: https://x}}]}",
        )
        .unwrap();
        assert_eq!(f.clusters[0].cluster.server.as_deref(), Some("https://x"));
    }

    #[test]
    fn yaml_errors_carry_line_and_column() {
        let err = parse("clusters:\n- name: a\n  cluster:\n    server: [x\n").unwrap_err();
        match err {
            Error::Parse { line, column, .. } => {
                assert_eq!(line, Some(4));
                assert!(column.is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parser_messages_speak_to_users() {
        let err = parse("kind: Config\n---\nkind: Config\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("more than one YAML document") && !err.contains("from_str"),
            "{err}"
        );
        let err = parse("kind: Config\nkind: Config\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("duplicate mapping key") && !err.contains("Options"),
            "{err}"
        );
    }

    #[test]
    fn json_errors_carry_line_and_column() {
        let err = parse("{\n  \"clusters\": [\n    {\"name\": }\n").unwrap_err();
        let Error::Parse { line, column, .. } = err else {
            panic!()
        };
        assert_eq!(line, Some(3));
        assert!(column.is_some());
    }

    #[test]
    fn parse_errors_never_echo_key_material() {
        let text = format!("users:\n- name: u\n  user: \"{KEY_B64}\"\n");
        let err = parse(&text).unwrap_err().to_string();
        assert!(!err.contains(KEY_B64), "{err}");
        let text =
            format!("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: {KEY_B64}\n");
        let err = parse(&text).unwrap_err().to_string();
        assert!(!err.contains(&KEY_B64[..40]), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn non_utf8_is_a_parse_error_with_position() {
        let err = KubeconfigFile::from_bytes(b"kind: Config\nap\xffiVersion: v1\n", origin())
            .unwrap_err();
        let Error::Parse { line, column, .. } = err else {
            panic!()
        };
        assert_eq!((line, column), (Some(2), Some(3)));
    }

    #[test]
    fn duplicate_names_are_rejected_like_kubectl() {
        let err =
            parse("contexts:\n- name: a\n  context: {}\n- name: a\n  context: {}\n").unwrap_err();
        assert!(
            matches!(err, Error::DuplicateName { kind: EntryKind::Context, ref name, .. } if name == "a")
        );
    }

    #[test]
    fn numbers_in_string_fields_read_as_strings() {
        let f =
            parse("contexts:\n- name: 2024\n  context: {namespace: 0755, cluster: 12}\n").unwrap();
        assert_eq!(f.contexts[0].name, "2024");
        assert_eq!(f.contexts[0].context.cluster.as_deref(), Some("12"));
    }

    #[test]
    fn yaml_output_quotes_strings_that_yaml_1_1_would_retype() {
        let mut f = KubeconfigFile::default();
        for name in ["y", "no", "on", "0755", "1e3", "null", "~", "2001-12-14"] {
            f.contexts.push(NamedContext::new(name, Context::default()));
        }
        let again = parse(&f.to_yaml().unwrap()).unwrap();
        assert_eq!(f, again);
        let yaml = f.to_yaml().unwrap();
        assert!(
            yaml.contains("name: \"y\"") || yaml.contains("name: 'y'"),
            "{yaml}"
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn scalar() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                "[ -~]{0,12}".prop_map(Value::String),
                prop::sample::select(vec![
                    "yes", "no", "~", "null", "0755", "1e3", "- x", "a: b", "#c", " lead", "é✓"
                ])
                .prop_map(|s| Value::String(s.to_owned())),
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            scalar().prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map("[a-z][a-z-]{0,6}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn name() -> impl Strategy<Value = String> {
            prop_oneof![
                "[ -~]{1,16}",
                Just("y".to_owned()),
                Just("on".to_owned()),
                Just("0x1F".to_owned())
            ]
        }

        proptest! {
            /// Whatever the names and unknown fields, what we write reads back identical.
            #[test]
            fn yaml_round_trip_is_lossless(
                names in prop::collection::btree_set(name(), 1..5),
                server in "[ -~]{0,30}",
                unknown in prop::collection::btree_map("x-[a-z]{1,6}", value(), 0..4),
            ) {
                let mut f = KubeconfigFile::default();
                for n in &names {
                    let mut c = NamedCluster::new(n.clone(), Cluster { server: Some(server.clone()), ..Cluster::default() });
                    c.cluster.unknown = unknown.clone().into_iter().collect();
                    f.clusters.push(c);
                    f.contexts.push(NamedContext::new(n.clone(), Context { cluster: Some(n.clone()), ..Context::default() }));
                }
                f.unknown = unknown.into_iter().collect();
                f.current_context = names.iter().next().cloned();
                let yaml = f.to_yaml().unwrap();
                let again = KubeconfigFile::parse(&yaml, origin());
                prop_assert!(again.is_ok(), "{yaml}");
                prop_assert_eq!(again.unwrap(), f);
            }
        }
    }
}

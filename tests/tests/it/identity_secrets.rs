//! No secret of a workload identity reaches an error, a `Debug` or a TRACE log: ID tokens, IAM subject
//! tokens, metadata tokens, security tokens and temporary secret keys, planted in what each source's
//! endpoint answers (and echoed in its error answers), for every source of the chain.

use cce_autopilot::{CertDuration, Client, Environment, RetryConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::log_capture::{install, logs};

/// Variables of one configuration.
type Vars<'a> = Vec<(&'a str, String)>;

const ID_TOKEN: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLXN1YmplY3QifQ.PLANTEDIDTOKENSIGNATURExyz";
const SUBJECT_TOKEN: &str = "PLANTED-SUBJECT-TOKEN-7d1c";
const METADATA_TOKEN: &str = "PLANTED-METADATA-TOKEN-51aa";
const SECRET_KEY: &str = "PLANTED-TEMPORARY-SK-90be";
const SECURITY_TOKEN: &str = "PLANTED-SECURITY-TOKEN-c3f2";

fn credentials(shape_iam: bool) -> serde_json::Value {
    if shape_iam {
        serde_json::json!({"credential": {"access": "TMPAK00000000001", "secret": SECRET_KEY,
            "securitytoken": SECURITY_TOKEN, "expires_at": "2099-01-01T00:00:00.000000Z"}})
    } else {
        serde_json::json!({"credentials": {"access_key_id": "TMPAK00000000001", "secret_access_key": SECRET_KEY,
            "security_token": SECURITY_TOKEN, "expiration": "2099-01-01T00:00:00.000Z"}})
    }
}

/// A server standing in for IAM, STS, the metadata service, the pod agent and the CCE endpoint: the
/// credential calls answer planted secrets (`good`) or an error echoing what was sent; the CCE call 401.
async fn server(good: bool) -> MockServer {
    let server = MockServer::start().await;
    // An error answer that echoes the request: its body and its token headers, as a careless server might.
    let echo = |request: &wiremock::Request| {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        ResponseTemplate::new(400).set_body_string(format!(
            r#"{{"error_code":"IAM.0001","error_msg":"cannot accept {} (Authorization {}, X-Metadata-Token {})"}}"#,
            String::from_utf8_lossy(&request.body),
            header("authorization"),
            header("x-metadata-token"),
        ))
    };
    let answer = move |body: serde_json::Value, status: u16| {
        move |request: &wiremock::Request| {
            if good {
                ResponseTemplate::new(status).set_body_json(body.clone())
            } else {
                echo(request)
            }
        }
    };
    Mock::given(method("POST"))
        .and(path("/v5/agencies/assume-with-oidc"))
        .respond_with(answer(credentials(false), 200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3.0/OS-AUTH/id-token/tokens"))
        .respond_with({
            let respond = answer(serde_json::json!({"token": {}}), 201);
            move |request: &wiremock::Request| {
                respond(request).insert_header("X-Subject-Token", SUBJECT_TOKEN)
            }
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3.0/OS-CREDENTIAL/securitytokens"))
        .respond_with(answer(credentials(true), 201))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pod"))
        .respond_with(answer(credentials(false), 200))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/meta-data/latest/api/token"))
        .respond_with(ResponseTemplate::new(200).set_body_string(METADATA_TOKEN))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/openstack/latest/securitykey"))
        .respond_with(answer(credentials(true), 200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string(
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#,
        ))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn planted_identity_secrets_never_reach_errors_debug_or_logs() {
    install();
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, ID_TOKEN).unwrap();
    let file = token_file.display().to_string();
    for good in [true, false] {
        let server = server(good).await;
        let url = server.uri();
        let sources: Vec<(&str, Vars<'_>, bool)> = vec![
            (
                "oidc",
                vec![
                    (
                        "HUAWEICLOUD_OIDC_PROVIDER_URN",
                        "iam::a:identity-provider:ci".into(),
                    ),
                    ("HUAWEICLOUD_OIDC_AGENCY_URN", "iam::a:agency:ci".into()),
                    ("HUAWEICLOUD_OIDC_ID_TOKEN", ID_TOKEN.into()),
                    ("HUAWEICLOUD_SDK_STS_ENDPOINT", url.clone()),
                ],
                false,
            ),
            (
                "idp",
                vec![
                    ("HUAWEICLOUD_SDK_IDP_ID", "ci".into()),
                    ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", file.clone()),
                    ("HUAWEICLOUD_SDK_IAM_ENDPOINT", url.clone()),
                ],
                false,
            ),
            (
                "pod",
                vec![
                    ("HC_CONTAINER_CREDENTIALS_FULL_URI", format!("{url}/pod")),
                    ("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", file.clone()),
                ],
                false,
            ),
            ("metadata", vec![], true),
        ];
        for (source, vars, metadata) in sources {
            let env = vars
                .iter()
                .fold(Environment::empty().home(home.path()), |e, (k, v)| {
                    e.var(*k, v.clone())
                });
            let mut builder = Client::builder()
                .environment(env)
                .endpoint(&url)
                .project_id("0123456789abcdef0123456789abcdef")
                .retry(RetryConfig::disabled());
            if metadata {
                builder = builder.metadata_credentials(&url);
            }
            let client = builder.build().unwrap();
            let err = client
                .cluster_cert("c1")
                .duration(CertDuration::days(1).unwrap())
                .send()
                .await
                .unwrap_err();
            let shown = format!("{err} {err:?} {client:?}");
            for secret in [
                ID_TOKEN,
                SUBJECT_TOKEN,
                METADATA_TOKEN,
                SECRET_KEY,
                SECURITY_TOKEN,
                "PLANTEDIDTOKEN",
            ] {
                assert!(
                    !shown.contains(secret),
                    "{source} (good={good}): {secret} in {shown}"
                );
            }
        }
    }
    let logs = logs();
    for secret in [
        ID_TOKEN,
        SUBJECT_TOKEN,
        METADATA_TOKEN,
        SECRET_KEY,
        SECURITY_TOKEN,
        "PLANTEDIDTOKEN",
    ] {
        assert!(!logs.contains(secret), "{secret} in the TRACE logs");
    }
}

//! The client's credential chain against the emulator's identity world: each workload identity the
//! official SDK's chain reads — OIDC via STS, a federated identity in the environment or the profile file,
//! ECS metadata, pod identity — gets a certificate named by the agency's session, and a half-configured
//! source is an error, never another identity.

use std::path::{Path, PathBuf};

use cce_autopilot::{CertDuration, Client, Environment, Error, ErrorKind, RetryConfig};
use cce_autopilot_emulator::{Emulator, EmulatorHandle, demo};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use x509_parser::prelude::{FromDer, X509Certificate};

const ACCOUNT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const AGENCY_ID: &str = "5f4e3d2c1b0a49382716f5e4d3c2b1a0";
const SUB: &str = "repo:demo:ref:main";

/// Variables of one configuration.
type Vars<'a> = Vec<(&'a str, String)>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/cce-autopilot-emulator/tests/fixtures/identity")
        .join(name)
}

async fn world(metadata: bool) -> EmulatorHandle {
    let mut file = fixture("world.yaml");
    let dir = tempfile::tempdir().unwrap().keep();
    if !metadata {
        let text = std::fs::read_to_string(&file).unwrap();
        let without = text.replace("metadata:\n  agency: ci-deployer\n", "");
        assert_ne!(text, without);
        std::fs::copy(fixture("ci-jwks.json"), dir.join("ci-jwks.json")).unwrap();
        file = dir.join("world.yaml");
        std::fs::write(&file, without).unwrap();
    }
    Emulator::builder()
        .identity_file(file)
        .start()
        .await
        .unwrap()
}

fn id_token(key: &str, changes: Value) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({"iss": "https://ci.example.test", "aud": "cce-autopilot", "sub": SUB,
        "iat": now, "nbf": now - 5, "exp": now + 600});
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("ci-key-1".to_owned());
    let pem = std::fs::read(fixture(key)).unwrap();
    encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

/// A token file in `dir` holding `token`.
fn token_file(dir: &Path, token: &str) -> String {
    let path = dir.join("token");
    std::fs::write(&path, format!("{token}\n")).unwrap();
    path.display().to_string()
}

/// An environment with no credentials, a home of its own, and `vars`.
fn env(home: &Path, vars: &[(&str, String)]) -> Environment {
    vars.iter()
        .fold(Environment::empty().home(home), |env, (name, value)| {
            env.var(*name, value.clone())
        })
}

fn builder(emu: &EmulatorHandle, env: Environment) -> cce_autopilot::ClientBuilder {
    Client::builder()
        .environment(env)
        .endpoint(emu.url())
        .region(demo::REGION)
        .project_id(emu.project_id())
        .retry(RetryConfig::disabled())
}

/// The CN of a certificate fetched with `client`.
async fn certificate_cn(client: &Client) -> Result<String, Error> {
    let cert = client
        .cluster_cert(demo::PRIVATE_CLUSTER_ID)
        .duration(CertDuration::days(1).unwrap())
        .send()
        .await?;
    let pem = cert
        .kubeconfig
        .internal()
        .unwrap()
        .user
        .user
        .client_certificate_pem()
        .unwrap()
        .unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let (_, parsed) = X509Certificate::from_der(&pem.contents).unwrap();
    let cn = parsed.subject().iter_common_name().next().unwrap();
    Ok(cn.as_str().unwrap().to_owned())
}

#[tokio::test]
async fn every_workload_identity_gets_a_certificate_named_by_its_agency_session() {
    let emu = world(true).await;
    let home = tempfile::tempdir().unwrap();
    let file = token_file(home.path(), &id_token("ci-signing-key.pem", json!({})));
    let url = emu.url().to_owned();
    let profile = home.path().join("credentials");
    std::fs::write(
        &profile,
        format!("[basic]\nidp_id = ci\nid_token_file = {file}\niam_endpoint = {url}\n"),
    )
    .unwrap();
    let cases: Vec<(&str, Vars<'_>, String)> = vec![
        (
            "OIDC via STS",
            vec![
                (
                    "HUAWEICLOUD_OIDC_PROVIDER_URN",
                    format!("iam::{ACCOUNT}:identity-provider:ci"),
                ),
                (
                    "HUAWEICLOUD_OIDC_AGENCY_URN",
                    format!("iam::{ACCOUNT}:agency:ci-deployer"),
                ),
                ("HUAWEICLOUD_OIDC_TOKEN_FILE", file.clone()),
                ("HUAWEICLOUD_SDK_STS_ENDPOINT", url.clone()),
                // A federated identity is configured too: OIDC comes first in the chain.
                ("HUAWEICLOUD_SDK_IDP_ID", "gitlab".to_owned()),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", file.clone()),
            ],
            format!("{AGENCY_ID}:oidc-sts-session"),
        ),
        (
            "federated identity in the environment",
            vec![
                ("HUAWEICLOUD_SDK_IDP_ID", "ci".to_owned()),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", file.clone()),
                ("HUAWEICLOUD_SDK_IAM_ENDPOINT", url.clone()),
                // Keys in the environment too: the federated identity wins, as in the SDK.
                ("HUAWEICLOUD_SDK_AK", "HPUAMALLORYAK0000001".to_owned()),
                (
                    "HUAWEICLOUD_SDK_SK",
                    "mallorySecretKey000000000000000000000000".to_owned(),
                ),
            ],
            format!("{AGENCY_ID}:{SUB}"),
        ),
        (
            "federated identity in the profile file",
            vec![(
                "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
                profile.display().to_string(),
            )],
            format!("{AGENCY_ID}:{SUB}"),
        ),
        (
            "pod identity",
            vec![
                (
                    "HC_CONTAINER_CREDENTIALS_FULL_URI",
                    format!("{url}/pod-identity/credentials"),
                ),
                ("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", file.clone()),
            ],
            format!("{AGENCY_ID}:{SUB}"),
        ),
    ];
    for (source, vars, expected) in cases {
        let client = builder(&emu, env(home.path(), &vars)).build().unwrap();
        let cn = certificate_cn(&client)
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(cn, expected, "{source}");
    }
    // ECS metadata, when enabled, is asked before pod identity.
    let vars = [
        (
            "HC_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{url}/pod-identity/credentials"),
        ),
        ("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", file.clone()),
    ];
    let client = builder(&emu, env(home.path(), &vars))
        .metadata_credentials(&url)
        .build()
        .unwrap();
    assert_eq!(
        certificate_cn(&client).await.unwrap(),
        format!("{AGENCY_ID}:ecs-emulator")
    );
}

#[tokio::test]
async fn a_server_without_an_agency_moves_the_chain_on_to_pod_identity() {
    let emu = world(false).await;
    let home = tempfile::tempdir().unwrap();
    let file = token_file(home.path(), &id_token("ci-signing-key.pem", json!({})));
    let vars = [
        (
            "HC_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{}/pod-identity/credentials", emu.url()),
        ),
        ("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", file),
    ];
    let client = builder(&emu, env(home.path(), &vars))
        .metadata_credentials(emu.url())
        .build()
        .unwrap();
    assert_eq!(
        certificate_cn(&client).await.unwrap(),
        format!("{AGENCY_ID}:{SUB}")
    );
    // Without pod identity, the error lists what was tried, one line each.
    let client = builder(&emu, env(home.path(), &[]))
        .metadata_credentials(emu.url())
        .build()
        .unwrap();
    let text = certificate_cn(&client).await.unwrap_err().to_string();
    for line in [
        "OIDC via STS",
        "the environment",
        "the profile file",
        "ECS metadata",
        "Cloud Service Agency",
    ] {
        assert!(text.contains(line), "{line:?} missing from: {text}");
    }
}

#[tokio::test]
async fn refused_id_tokens_are_credential_errors_with_the_services_reason_and_no_token() {
    let emu = world(true).await;
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (
            "no key verifies it",
            id_token("stranger-key.pem", json!({})),
        ),
        (
            "issuer",
            id_token("ci-signing-key.pem", json!({"iss": "https://evil.test"})),
        ),
        (
            "audience",
            id_token("ci-signing-key.pem", json!({"aud": "other"})),
        ),
        (
            "expired",
            id_token("ci-signing-key.pem", json!({"exp": 1_000_000})),
        ),
    ];
    for (reason, token) in cases {
        let file = token_file(home.path(), &token);
        for vars in [
            vec![
                (
                    "HUAWEICLOUD_OIDC_PROVIDER_URN",
                    format!("iam::{ACCOUNT}:identity-provider:ci"),
                ),
                (
                    "HUAWEICLOUD_OIDC_AGENCY_URN",
                    format!("iam::{ACCOUNT}:agency:ci-deployer"),
                ),
                ("HUAWEICLOUD_OIDC_TOKEN_FILE", file.clone()),
                ("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url().to_owned()),
            ],
            vec![
                ("HUAWEICLOUD_SDK_IDP_ID", "ci".to_owned()),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", file.clone()),
                ("HUAWEICLOUD_SDK_IAM_ENDPOINT", emu.url().to_owned()),
            ],
        ] {
            let client = builder(&emu, env(home.path(), &vars)).build().unwrap();
            let err = certificate_cn(&client).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Credentials, "{reason}: {err}");
            let text = format!("{err} {err:?}");
            assert!(text.contains(reason), "{reason}: {text}");
            assert!(!text.contains(&token), "{reason}: the token leaked: {text}");
        }
    }
}

#[tokio::test]
async fn a_half_configured_source_is_an_error_naming_what_is_missing() {
    let emu = world(true).await;
    let home = tempfile::tempdir().unwrap();
    let profile = home.path().join("credentials");
    std::fs::write(&profile, "[basic]\nidp_id = ci\n").unwrap();
    let cases: Vec<(Vars<'_>, &str)> = vec![
        (
            vec![("HUAWEICLOUD_OIDC_PROVIDER_URN", "urn".into())],
            "HUAWEICLOUD_OIDC_AGENCY_URN",
        ),
        (
            vec![("HUAWEICLOUD_OIDC_SESSION_NAME", "s1".into())],
            "HUAWEICLOUD_OIDC_PROVIDER_URN",
        ),
        (
            vec![
                ("HUAWEICLOUD_OIDC_PROVIDER_URN", "p".into()),
                ("HUAWEICLOUD_OIDC_AGENCY_URN", "a".into()),
            ],
            "HUAWEICLOUD_OIDC_ID_TOKEN",
        ),
        (
            vec![("HUAWEICLOUD_SDK_IDP_ID", "ci".into())],
            "HUAWEICLOUD_SDK_ID_TOKEN_FILE",
        ),
        (
            vec![(
                "HC_CONTAINER_CREDENTIALS_FULL_URI",
                "http://127.0.0.1:1/x".into(),
            )],
            "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        ),
        (
            vec![(
                "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
                profile.display().to_string(),
            )],
            "id_token_file",
        ),
        (
            vec![
                ("HUAWEICLOUD_SDK_IDP_ID", "ci".into()),
                ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", "/nonexistent".into()),
                (
                    "HUAWEICLOUD_SDK_IAM_ENDPOINT",
                    "http://iam.example.test".into(),
                ),
            ],
            "in the clear",
        ),
    ];
    for (vars, named) in cases {
        // Valid keys in the environment too: a half-configured source never falls through to them.
        let mut vars = vars;
        vars.push(("HUAWEICLOUD_SDK_AK", demo::ACCESS_KEY.to_owned()));
        vars.push(("HUAWEICLOUD_SDK_SK", demo::SECRET_KEY.to_owned()));
        let err = match builder(&emu, env(home.path(), &vars)).build() {
            Ok(_) => panic!("{named}: built a client"),
            Err(err) => err,
        };
        assert!(
            err.to_string().contains(named),
            "{named:?} missing from: {err}"
        );
    }
}

#[tokio::test]
async fn credentials_the_gateway_calls_expired_are_renewed_once_and_the_call_succeeds() {
    let emu = world(true).await;
    let home = tempfile::tempdir().unwrap();
    // The ID token outlives the clock move below; the credentials do not.
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 7200;
    let file = token_file(
        home.path(),
        &id_token("ci-signing-key.pem", json!({"exp": exp})),
    );
    let vars = [
        (
            "HUAWEICLOUD_OIDC_PROVIDER_URN",
            format!("iam::{ACCOUNT}:identity-provider:ci"),
        ),
        (
            "HUAWEICLOUD_OIDC_AGENCY_URN",
            format!("iam::{ACCOUNT}:agency:ci-deployer"),
        ),
        ("HUAWEICLOUD_OIDC_TOKEN_FILE", file),
        ("HUAWEICLOUD_OIDC_DURATION_SECONDS", "900".to_owned()),
        ("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url().to_owned()),
    ];
    let client = builder(&emu, env(home.path(), &vars)).build().unwrap();
    certificate_cn(&client).await.unwrap();
    // The gateway's clock passes the credentials' expiry (within its 15-minute skew window, so the only
    // refusal is the expiry); the client's own clock still calls them fresh.
    emu.set_clock_offset_secs(901);
    certificate_cn(&client).await.unwrap();
    let seen: Vec<(String, Option<u16>)> = emu
        .requests()
        .into_iter()
        .map(|r| (r.path, r.status))
        .filter(|(path, _)| path.ends_with("/clustercert") || path.contains("/agencies/"))
        .collect();
    let cert = format!(
        "/autopilot/v3/projects/{}/clusters/{}/clustercert",
        emu.project_id(),
        demo::PRIVATE_CLUSTER_ID
    );
    let sts = "/v5/agencies/assume-with-oidc".to_owned();
    assert_eq!(
        seen,
        vec![
            (sts.clone(), Some(200)),
            (cert.clone(), Some(200)),
            (cert.clone(), Some(401)),
            (sts, Some(200)),
            (cert, Some(200)),
        ]
    );
}

#[tokio::test]
async fn agencies_are_assumed_with_the_chains_credentials_and_chain_in_order() {
    use cce_autopilot::Agency;
    let emu = world(true).await;
    let home = tempfile::tempdir().unwrap();
    let alice = [
        ("HUAWEICLOUD_SDK_AK", demo::ACCESS_KEY.to_owned()),
        ("HUAWEICLOUD_SDK_SK", demo::SECRET_KEY.to_owned()),
        ("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url().to_owned()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT", emu.url().to_owned()),
    ];
    let cases = [
        (
            vec![Agency::in_domain_id("ci-deployer", ACCOUNT)],
            "ci-deployer",
            "cce-autopilot",
        ),
        (
            vec![Agency::in_domain_name("ci-deployer", ACCOUNT).session_name("alice-session")],
            "ci-deployer",
            "alice-session",
        ),
        (
            vec![
                Agency::in_domain_id("ci-deployer", ACCOUNT),
                Agency::in_domain_id("auditor", ACCOUNT).session_name("audit-1"),
            ],
            "auditor",
            "audit-1",
        ),
    ];
    for (agencies, last, session) in cases {
        let urns: Vec<String> = agencies.iter().map(Agency::urn).collect();
        let client = agencies
            .into_iter()
            .fold(builder(&emu, env(home.path(), &alice)), |b, a| b.agency(a))
            .build()
            .unwrap();
        let me = client.caller_identity().await.unwrap();
        assert_eq!(
            me.principal_urn,
            format!("sts::{ACCOUNT}:assumed-agency:{last}/{session}")
        );
        assert_eq!(me.agencies, urns);
        assert_eq!(me.source, "env");
        assert!(me.expires_at.is_some());
        let cn = certificate_cn(&client).await.unwrap();
        assert!(cn.ends_with(&format!(":{session}")), "{cn}");
    }
    // mallory is trusted by no agency: the service's code, as a credentials error; nothing else is asked.
    let mallory = [
        ("HUAWEICLOUD_SDK_AK", "HPUAMALLORYAK0000001".to_owned()),
        (
            "HUAWEICLOUD_SDK_SK",
            "mallorySecretKey000000000000000000000000".to_owned(),
        ),
        ("HUAWEICLOUD_SDK_STS_ENDPOINT", emu.url().to_owned()),
    ];
    let client = builder(&emu, env(home.path(), &mallory))
        .agency(Agency::in_domain_id("ci-deployer", ACCOUNT))
        .build()
        .unwrap();
    let err = certificate_cn(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials, "{err}");
    assert!(err.to_string().contains("PAP5.0001"), "{err}");
    // Values the services would refuse are refused before any request.
    let err = builder(&emu, env(home.path(), &alice))
        .agency(Agency::in_domain_id("ci-deployer", ACCOUNT).duration_secs(60))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("agency duration"), "{err}");
}

//! The identity world of an identity file: ID tokens checked for real, agencies that trust whom they say,
//! temporary credentials that expire, and certificates that name the principal.

use std::path::PathBuf;

use cce_autopilot_emulator::{Emulator, EmulatorHandle, Faults, codes, demo};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::common::{self, Call, expect_error, http_client};

const ACCOUNT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const AGENCY_ID: &str = "5f4e3d2c1b0a49382716f5e4d3c2b1a0";
const MALLORY: (&str, &str) = (
    "HPUAMALLORYAK0000001",
    "mallorySecretKey000000000000000000000000",
);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/identity")
        .join(name)
}

async fn world() -> EmulatorHandle {
    Emulator::builder()
        .identity_file(fixture("world.yaml"))
        .start()
        .await
        .unwrap()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// An ID token signed with `key` (a fixture), with these claims over the good ones.
fn id_token(key: &str, changes: Value) -> String {
    let mut claims = json!({
        "iss": "https://ci.example.test",
        "aud": "cce-autopilot",
        "sub": "repo:demo:ref:main",
        "iat": now(),
        "nbf": now() - 5,
        "exp": now() + 600,
    });
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("ci-key-1".to_owned());
    let pem = std::fs::read(fixture(key)).unwrap();
    encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

fn good_token() -> String {
    id_token("ci-signing-key.pem", json!({}))
}

async fn post_json(url: String, headers: &[(&str, &str)], body: Value) -> reqwest::Response {
    let mut request = http_client()
        .post(url)
        .header("Content-Type", "application/json;charset=UTF-8");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body.to_string()).send().await.unwrap()
}

async fn iam_id_token(emu: &EmulatorHandle, idp: &str, token: &str) -> reqwest::Response {
    post_json(
        format!("{}/v3.0/OS-AUTH/id-token/tokens", emu.url()),
        &[("X-Idp-Id", idp)],
        json!({"auth": {"id_token": {"id": token}}}),
    )
    .await
}

async fn assume_with_oidc(emu: &EmulatorHandle, token: &str) -> reqwest::Response {
    post_json(
        format!("{}/v5/agencies/assume-with-oidc", emu.url()),
        &[],
        json!({
            "provider_urn": format!("iam::{ACCOUNT}:identity-provider:ci"),
            "agency_urn": format!("iam::{ACCOUNT}:agency:ci-deployer"),
            "agency_session_name": "ci-run-42",
            "id_token": token,
            "duration_seconds": 900,
        }),
    )
    .await
}

/// Temporary credentials as (access, secret, security token), from either shape.
fn credentials_of(body: &Value) -> (String, String, String) {
    let c = if body["credential"].is_object() {
        &body["credential"]
    } else {
        &body["credentials"]
    };
    let pick = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| c[*n].as_str())
            .expect("credential field")
            .to_owned()
    };
    (
        pick(&["access", "access_key_id", "accessKeyId"]),
        pick(&["secret", "secret_access_key", "secretAccessKey"]),
        pick(&["securitytoken", "security_token", "securityToken"]),
    )
}

fn signed(call: Call, (ak, sk, token): &(String, String, String)) -> Call {
    call.header("X-Security-Token", token.clone())
        .signed_by(ak, sk)
}

async fn caller(_emu: &EmulatorHandle, call: Call) -> Value {
    let response = call.send().await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn caller_identity(emu: &EmulatorHandle) -> Call {
    Call::new("GET", format!("{}/v5/caller-identity", emu.url()))
}

/// The CN of the certificate a signed cluster-certificate call gets.
async fn certificate_cn(call: Call) -> String {
    let response = call.send().await;
    assert_eq!(response.status(), 200);
    let config: cce_autopilot_model::Kubeconfig = response.json().await.unwrap();
    let (cert, _) = common::client_pems(&config);
    let der = common::pem_to_der(&cert);
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
    let cn = parsed.subject().iter_common_name().next().unwrap();
    cn.as_str().unwrap().to_owned()
}

fn cert_call(emu: &EmulatorHandle) -> Call {
    Call::cert(emu, demo::PRIVATE_CLUSTER_ID, 1)
}

#[tokio::test]
async fn an_id_token_buys_agency_credentials_through_iam_and_the_certificate_names_the_session() {
    let emu = world().await;
    let response = iam_id_token(&emu, "ci", &good_token()).await;
    assert_eq!(response.status(), 201);
    let subject = response.headers()["X-Subject-Token"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token"]["methods"], json!(["mapped"]));
    let response = post_json(
        format!("{}/v3.0/OS-CREDENTIAL/securitytokens", emu.url()),
        &[],
        json!({"auth": {"identity": {"methods": ["token"],
            "token": {"id": subject, "duration_seconds": 21600}}}}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let expires = body["credential"]["expires_at"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.contains('.'), "{expires}");
    let creds = credentials_of(&body);
    let principal = format!("{AGENCY_ID}:repo:demo:ref:main");
    assert_eq!(
        certificate_cn(signed(cert_call(&emu), &creds)).await,
        principal
    );
    let me = caller(&emu, signed(caller_identity(&emu), &creds)).await;
    assert_eq!(me["principal_id"], principal.as_str());
    assert_eq!(me["account_id"], ACCOUNT);
    assert_eq!(
        me["principal_urn"],
        format!("sts::{ACCOUNT}:assumed-agency:ci-deployer/repo:demo:ref:main").as_str()
    );
}

#[tokio::test]
async fn id_tokens_are_refused_for_signature_issuer_audience_expiry_and_provider() {
    let emu = world().await;
    let cases = [
        ("signature", id_token("stranger-key.pem", json!({})), "ci"),
        (
            "issuer",
            id_token("ci-signing-key.pem", json!({"iss": "https://evil.test"})),
            "ci",
        ),
        (
            "audience",
            id_token("ci-signing-key.pem", json!({"aud": "someone-else"})),
            "ci",
        ),
        (
            "expired",
            id_token("ci-signing-key.pem", json!({"exp": now() - 1})),
            "ci",
        ),
        (
            "not yet valid",
            id_token("ci-signing-key.pem", json!({"nbf": now() + 3600})),
            "ci",
        ),
        ("not a JWT", "not-a-token".to_owned(), "ci"),
    ];
    for (why, token, idp) in &cases {
        let message = expect_error(
            iam_id_token(&emu, idp, token).await,
            401,
            codes::IAM_UNAUTHORIZED,
        )
        .await;
        assert!(
            !message.contains(token.as_str()),
            "{why}: the token is quoted: {message}"
        );
        expect_error(
            assume_with_oidc(&emu, token).await,
            400,
            codes::STS_BAD_REQUEST,
        )
        .await;
        assert_eq!(
            post_json(
                format!("{}/pod-identity/credentials", emu.url()),
                &[("Authorization", token)],
                json!({})
            )
            .await
            .status(),
            401,
            "{why}"
        );
    }
    expect_error(
        iam_id_token(&emu, "gitlab", &good_token()).await,
        404,
        codes::IAM_NOT_FOUND,
    )
    .await;
    // The good token passes all three, so the refusals above are the token's.
    assert_eq!(iam_id_token(&emu, "ci", &good_token()).await.status(), 201);
    assert_eq!(assume_with_oidc(&emu, &good_token()).await.status(), 200);
}

#[tokio::test]
async fn agencies_are_assumed_only_by_whom_they_trust() {
    let emu = world().await;
    let assume = |agency: &str, seconds: i64| {
        Call::new("POST", format!("{}/v5/agencies/assume", emu.url()))
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(
                json!({"agency_urn": format!("iam::{ACCOUNT}:agency:{agency}"),
                       "agency_session_name": "session-1", "duration_seconds": seconds})
                .to_string(),
            )
    };
    // alice (the emulator's own key) is trusted by ci-deployer; mallory is not.
    let alice = caller(
        &emu,
        caller_identity(&emu).signed_by(demo::ACCESS_KEY, demo::SECRET_KEY),
    )
    .await;
    assert_eq!(
        alice["principal_urn"],
        format!("iam::{ACCOUNT}:user:alice").as_str()
    );
    let refused = assume("ci-deployer", 3600)
        .signed_by(MALLORY.0, MALLORY.1)
        .send()
        .await;
    expect_error(refused, 403, codes::STS_ACCESS_DENIED).await;
    let unknown = assume("nobody", 3600)
        .signed_by(demo::ACCESS_KEY, demo::SECRET_KEY)
        .send()
        .await;
    expect_error(unknown, 404, codes::STS_NOT_FOUND).await;
    let response = assume("ci-deployer", 7200)
        .signed_by(demo::ACCESS_KEY, demo::SECRET_KEY)
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["assumed_agency"]["id"],
        format!("{AGENCY_ID}:session-1").as_str()
    );
    let session = credentials_of(&body);
    // A session of ci-deployer may chain to auditor, for at most an hour (its own keys are temporary).
    let too_long = signed(assume("auditor", 7200), &session).send().await;
    expect_error(too_long, 400, codes::STS_BAD_REQUEST).await;
    let chained = signed(assume("auditor", 3600), &session).send().await;
    assert_eq!(chained.status(), 200);
    // alice is not trusted by auditor directly.
    let direct = assume("auditor", 3600)
        .signed_by(demo::ACCESS_KEY, demo::SECRET_KEY)
        .send()
        .await;
    expect_error(direct, 403, codes::STS_ACCESS_DENIED).await;
    // IAM's assume_role keeps the same trust.
    let iam = |who: (&str, &str)| {
        Call::new(
            "POST",
            format!("{}/v3.0/OS-CREDENTIAL/securitytokens", emu.url()),
        )
        .header("Content-Type", "application/json;charset=UTF-8")
        .body(
            json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
                    "agency_name": "ci-deployer", "domain_id": ACCOUNT, "duration_seconds": 900,
                    "session_user": {"name": "alice-session"}}}}})
            .to_string(),
        )
        .signed_by(who.0, who.1)
    };
    let body: Value = iam((demo::ACCESS_KEY, demo::SECRET_KEY))
        .send()
        .await
        .json()
        .await
        .unwrap();
    let creds = credentials_of(&body);
    assert_eq!(
        certificate_cn(signed(cert_call(&emu), &creds)).await,
        format!("{AGENCY_ID}:alice-session")
    );
    expect_error(iam(MALLORY).send().await, 403, codes::IAM_FORBIDDEN).await;
}

async fn metadata_credentials(emu: &EmulatorHandle) -> reqwest::Response {
    let token = http_client()
        .put(format!("{}/meta-data/latest/api/token", emu.url()))
        .header("X-Metadata-Token-Ttl-Seconds", "21600")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    http_client()
        .get(format!("{}/openstack/latest/securitykey", emu.url()))
        .header("X-Metadata-Token", token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn metadata_and_pod_identity_act_as_their_agencies() {
    let emu = world().await;
    let first: Value = metadata_credentials(&emu).await.json().await.unwrap();
    let second: Value = metadata_credentials(&emu).await.json().await.unwrap();
    assert_eq!(
        first, second,
        "the server's credentials stay until half their life has passed"
    );
    let creds = credentials_of(&first);
    let me = caller(&emu, signed(caller_identity(&emu), &creds)).await;
    assert_eq!(
        me["principal_id"],
        format!("{AGENCY_ID}:ecs-emulator").as_str()
    );

    emu.set_faults(Faults::none().with_spec("metadata=rotate").unwrap());
    let rotated: Value = metadata_credentials(&emu).await.json().await.unwrap();
    assert_ne!(credentials_of(&rotated).0, creds.0);

    let response = post_json(
        format!("{}/pod-identity/credentials", emu.url()),
        &[("Authorization", &good_token())],
        json!({}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["audience"], "service.cce.pods");
    let pod = credentials_of(&body);
    assert_eq!(
        certificate_cn(signed(cert_call(&emu), &pod)).await,
        format!("{AGENCY_ID}:repo:demo:ref:main")
    );
}

#[tokio::test]
async fn temporary_credentials_expire_on_the_emulators_clock() {
    let emu = world().await;
    let body: Value = assume_with_oidc(&emu, &good_token())
        .await
        .json()
        .await
        .unwrap();
    let creds = credentials_of(&body);
    assert_eq!(
        cert_call(&emu)
            .header("X-Security-Token", creds.2.clone())
            .signed_by(&creds.0, &creds.1)
            .send()
            .await
            .status(),
        200
    );
    emu.set_clock_offset_secs(901);
    let late = signed(cert_call(&emu), &creds).header("X-Sdk-Date", common::sdk_date(901));
    let message = expect_error(late.send().await, 401, codes::AUTH_FAILED).await;
    assert!(message.contains("expired"), "{message}");
    let unknown = (creds.0.clone(), creds.1.clone(), "forged-token".to_owned());
    emu.set_clock_offset_secs(0);
    expect_error(
        signed(cert_call(&emu), &unknown).send().await,
        401,
        codes::AUTH_FAILED,
    )
    .await;
}

#[tokio::test]
async fn without_an_identity_file_there_is_no_one_to_assume_and_no_admin_route() {
    let emu = Emulator::builder().start().await.unwrap();
    expect_error(
        assume_with_oidc(&emu, &good_token()).await,
        404,
        codes::STS_NOT_FOUND,
    )
    .await;
    let clock = http_client()
        .put(format!("{}/_emulator/clock-offset", emu.url()))
        .body("7200")
        .send()
        .await
        .unwrap();
    expect_error(clock, 404, codes::API_NOT_FOUND).await;
    // The key still names itself, as before identity files.
    let me = caller(
        &emu,
        caller_identity(&emu).signed_by(demo::ACCESS_KEY, demo::SECRET_KEY),
    )
    .await;
    assert_eq!(me["principal_id"], demo::ACCESS_KEY);

    let admin = Emulator::builder().admin(true).start().await.unwrap();
    let moved = http_client()
        .put(format!("{}/_emulator/clock-offset", admin.url()))
        .body("7200")
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 204);
    assert_eq!(admin.clock_offset_secs(), 7200);
}

#[tokio::test]
async fn identity_files_with_dangling_names_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("ci-jwks.json"), dir.path().join("ci-jwks.json")).unwrap();
    let base = std::fs::read_to_string(fixture("world.yaml")).unwrap();
    let cases = [
        (
            "agency: ci-deployer\npod_identity",
            "agency: nobody\npod_identity",
            "agency \"nobody\"",
        ),
        (
            "jwks_file: ci-jwks.json",
            "jwks_file: missing.json",
            "missing.json",
        ),
        ("\"user:alice\"", "\"user:bob\"", "user \"bob\""),
        ("\"idp:ci\"", "\"sso:ci\"", "unknown kind"),
        ("account_id: 0a1b", "account_id: zz1b", "32 hex digits"),
        ("users:", "userz:", "unknown field"),
    ];
    for (from, to, expected) in cases {
        assert!(base.contains(from), "{from}");
        let path = dir.path().join("world.yaml");
        std::fs::write(&path, base.replacen(from, to, 1)).unwrap();
        let err = Emulator::builder()
            .identity_file(&path)
            .start()
            .await
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{to}: {err}");
    }
}

#[tokio::test]
async fn kubectl_auth_whoami_names_the_agency_session_a_certificate_was_fetched_under() {
    let emu = world().await;
    let body: Value = assume_with_oidc(&emu, &good_token())
        .await
        .json()
        .await
        .unwrap();
    let creds = credentials_of(&body);
    let response = signed(cert_call(&emu), &creds).send().await;
    assert_eq!(response.status(), 200);
    let config: cce_autopilot_model::Kubeconfig = response.json().await.unwrap();
    let output = crate::stub::kubectl(&config, "internal", &["auth", "whoami", "-o", "json"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kubectl auth whoami: {stderr}");
    let review: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        review["status"]["userInfo"]["username"],
        format!("{AGENCY_ID}:ci-run-42").as_str()
    );
}

#[tokio::test]
async fn the_admin_request_log_shows_what_each_call_carried_without_its_secrets() {
    let emu = Emulator::builder()
        .identity_file(fixture("world.yaml"))
        .admin(true)
        .start()
        .await
        .unwrap();
    let token = good_token();
    assert_eq!(iam_id_token(&emu, "ci", &token).await.status(), 201);
    let response = http_client()
        .get(format!("{}/_emulator/requests", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&token), "the ID token is in the log: {text}");
    let records: Value = serde_json::from_str(&text).unwrap();
    let call = &records[0];
    assert_eq!(call["path"], "/v3.0/OS-AUTH/id-token/tokens");
    assert_eq!(call["status"], 201);
    assert_eq!(call["headers"]["x-idp-id"], "ci");
    assert_eq!(
        call["headers"]["content-type"],
        "application/json;charset=UTF-8"
    );
    assert_eq!(
        call["body_keys"],
        json!(["auth", "auth.id_token", "auth.id_token.id"])
    );
    // Secret-bearing headers are recorded as present, never with their value.
    let signed = caller_identity(&emu)
        .header("X-Security-Token", "planted-security-token")
        .signed_by(demo::ACCESS_KEY, demo::SECRET_KEY)
        .send()
        .await;
    assert_eq!(signed.status(), 200);
    let records: Value = http_client()
        .get(format!("{}/_emulator/requests", emu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/v5/caller-identity")
        .unwrap();
    assert_eq!(last["headers"]["authorization"], "<present>");
    assert_eq!(last["headers"]["x-security-token"], "<present>");
    assert!(!records.to_string().contains("planted-security-token"));
}

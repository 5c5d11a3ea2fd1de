//! The credential chain through the public API: which source signed the CCE call, the precedence
//! explicit > environment > profile file > ECS metadata, and the errors of a half-configured or empty chain.
#![allow(missing_docs)]

use crate::config_support;

use cce_autopilot::{Credentials, ErrorKind};
use config_support::{PROJECT, TempHome, builder, cce_signed_by, fetch, received_paths};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn environment_credentials_sign_the_call() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "ENVAK1", Some("ENV-TOKEN-1"))
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let env = home
        .env()
        .var("HUAWEICLOUD_SDK_AK", "ENVAK1")
        .var("HUAWEICLOUD_SDK_SK", "env-secret-1")
        .var("HUAWEICLOUD_SDK_SECURITY_TOKEN", "ENV-TOKEN-1");
    let client = builder(&server, env).build().unwrap();
    let cert = fetch(&client).await.unwrap();
    assert_eq!(cert.request_id.as_deref(), Some("req-1"));
}

#[tokio::test]
async fn cloud_sdk_aliases_are_read() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "CLOUDAK1", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let env = home
        .env()
        .var("CLOUD_SDK_AK", "CLOUDAK1")
        .var("CLOUD_SDK_SK", "cloud-secret-1");
    fetch(&builder(&server, env).build().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn huaweicloud_variables_win_over_the_cloud_sdk_aliases() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "HWAK1", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    let env = home
        .env()
        .var("CLOUD_SDK_AK", "CLOUDAK2")
        .var("CLOUD_SDK_SK", "cloud-secret-2")
        .var("HUAWEICLOUD_SDK_AK", "HWAK1")
        .var("HUAWEICLOUD_SDK_SK", "hw-secret-1");
    fetch(&builder(&server, env).build().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn profile_file_in_home_signs_the_call() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "PROFAK1", Some("PROFILE-TOKEN-1"))
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    home.write_profile(
        "# written by hcloud\n[default]\nak = OTHER\nsk = other\n\n[basic]\n  ak = PROFAK1\nsk=profile-secret-1\n\
         security_token = PROFILE-TOKEN-1\n",
    );
    fetch(&builder(&server, home.env()).build().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn credentials_file_variable_names_another_profile() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "FILEAK1", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    home.write_profile("[basic]\nak = HOMEAK\nsk = home-secret\n");
    let elsewhere = home.write(
        "elsewhere/creds.ini",
        "[basic]\nak = FILEAK1\nsk = file-secret\n",
    );
    let env = home.env().var(
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
        elsewhere.to_string_lossy(),
    );
    fetch(&builder(&server, env).build().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn explicit_credentials_win_over_the_environment_and_the_profile() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "EXPLICITAK", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    home.write_profile("[basic]\nak = PROFAK2\nsk = profile-secret\n");
    let env = home
        .env()
        .var("HUAWEICLOUD_SDK_AK", "ENVAK2")
        .var("HUAWEICLOUD_SDK_SK", "env-secret");
    let client = builder(&server, env)
        .credentials(Credentials::new("EXPLICITAK", "explicit-secret"))
        .build()
        .unwrap();
    fetch(&client).await.unwrap();
}

#[tokio::test]
async fn environment_wins_over_the_profile() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "ENVAK3", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    home.write_profile("[basic]\nak = PROFAK3\nsk = profile-secret\n");
    let env = home
        .env()
        .var("HUAWEICLOUD_SDK_AK", "ENVAK3")
        .var("HUAWEICLOUD_SDK_SK", "env-secret");
    fetch(&builder(&server, env).build().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn profile_wins_over_ecs_metadata() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "PROFAK4", None)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path_regex("^/(meta-data|openstack)/"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let home = TempHome::new();
    home.write_profile("[basic]\nak = PROFAK4\nsk = profile-secret\n");
    let client = builder(&server, home.env())
        .metadata_credentials(server.uri())
        .build()
        .unwrap();
    fetch(&client).await.unwrap();
}

#[test]
fn access_key_without_secret_key_in_the_environment_is_an_error_naming_it() {
    let home = TempHome::new();
    home.write_profile("[basic]\nak = PROFAK5\nsk = profile-secret\n");
    let env = home.env().var("HUAWEICLOUD_SDK_AK", "ENVAK5");
    let err = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .environment(env)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    let text = err.to_string();
    assert!(text.contains("HUAWEICLOUD_SDK_AK"), "{text}");
    assert!(text.contains("HUAWEICLOUD_SDK_SK"), "{text}");
}

#[test]
fn secret_key_alias_without_access_key_is_an_error_naming_it() {
    let home = TempHome::new();
    let env = home.env().var("CLOUD_SDK_SK", "lonely-secret");
    let err = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .environment(env)
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("CLOUD_SDK_SK") && text.contains("no access key"),
        "{text}"
    );
    assert!(!text.contains("lonely-secret"), "{text}");
}

#[test]
fn half_configured_profile_is_an_error_naming_the_file() {
    let home = TempHome::new();
    let file = home.write_profile("[basic]\nak = PROFAK6\n");
    let err = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .environment(home.env())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    let text = err.to_string();
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains("no `sk`"), "{text}");
}

#[test]
fn unparseable_profile_is_an_error_naming_the_file_and_line_but_not_its_text() {
    let home = TempHome::new();
    let file = home.write_profile("[basic]\nak = PROFAK7\nsk-profile-secret-on-a-bad-line\n");
    let err = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .environment(home.env())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains("line 3"), "{text}");
    assert!(!text.contains("profile-secret"), "{text}");
}

#[tokio::test]
async fn no_credentials_anywhere_is_one_error_listing_every_place() {
    let server = MockServer::start().await;
    let home = TempHome::new();
    let err = builder(&server, home.env()).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    let text = err.to_string();
    let profile = home.path().join(".huaweicloud").join("credentials");
    for place in [
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        "CLOUD_SDK_AK",
        "CLOUD_SDK_SK",
        &profile.display().to_string(),
        "(not found)",
        "ECS metadata service (disabled)",
        "To fix",
    ] {
        assert!(text.contains(place), "{place:?} missing from: {text}");
    }
    assert!(
        received_paths(&server).await.is_empty(),
        "building touches no network"
    );
}

#[test]
fn no_credentials_error_names_the_file_from_the_variable() {
    let home = TempHome::new();
    let missing = home.path().join("nowhere.ini");
    let env = home.env().var(
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
        missing.to_string_lossy(),
    );
    let err = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .environment(env)
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&missing.display().to_string()), "{text}");
    assert!(text.contains("HUAWEICLOUD_SDK_CREDENTIALS_FILE"), "{text}");
}

#[test]
fn profile_without_keys_is_reported_as_looked_at() {
    let home = TempHome::new();
    let file = home.write_profile("[basic]\nproject_id = p\n");
    let err = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .environment(home.env())
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "{}: no idp_id/id_token_file and no ak/sk in its [basic] section",
            file.display()
        )),
        "{text}"
    );
}

#[test]
fn explicit_credentials_and_project_do_not_read_the_profile() {
    let home = TempHome::new();
    home.write_profile("this is not INI\n");
    cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .credentials(Credentials::new("AK", "SK"))
        .environment(home.env())
        .build()
        .unwrap();
}

#[test]
fn debug_of_clients_never_shows_secret_keys_or_tokens() {
    let home = TempHome::new();
    home.write_profile(
        "[basic]\nak = PROFAK8\nsk = PROFILE-SECRET-8\nsecurity_token = PROFILE-TOKEN-8\n",
    );
    let env_client = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .environment(
            home.env()
                .var("HUAWEICLOUD_SDK_AK", "ENVAK8")
                .var("HUAWEICLOUD_SDK_SK", "ENV-SECRET-8")
                .var("HUAWEICLOUD_SDK_SECURITY_TOKEN", "ENV-TOKEN-8"),
        )
        .build()
        .unwrap();
    let profile_client = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .environment(home.env())
        .build()
        .unwrap();
    let lookup_client = cce_autopilot::Client::builder()
        .region("cn-north-4")
        .environment(home.env())
        .build()
        .unwrap();
    let metadata_client = cce_autopilot::Client::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id(PROJECT)
        .metadata_credentials("http://127.0.0.1:9")
        .environment(cce_autopilot::Environment::empty())
        .build()
        .unwrap();
    let debug = format!(
        "{env_client:?} {env_client:#?} {profile_client:?} {lookup_client:#?} {metadata_client:?}"
    );
    assert!(
        debug.contains("ENVAK8") && debug.contains("PROFAK8"),
        "{debug}"
    );
    for secret in [
        "ENV-SECRET-8",
        "ENV-TOKEN-8",
        "PROFILE-SECRET-8",
        "PROFILE-TOKEN-8",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
}

//! Regions and endpoints through the public API: the official table, the per-region environment override,
//! the `regions.yaml` override in both shapes, and the suggestion for a mistyped region.
#![allow(missing_docs)]

use crate::config_support;

use cce_autopilot::{Client, ClientBuilder, Credentials, Environment, ErrorKind, region};
use config_support::{PROJECT, TempHome, cce_signed_by, fetch};
use wiremock::MockServer;

fn regional(region: &str, env: Environment) -> ClientBuilder {
    Client::builder()
        .region(region)
        .project_id(PROJECT)
        .credentials(Credentials::new("REGIONAK", "region-secret"))
        .environment(env)
        .retry(cce_autopilot::RetryConfig::disabled())
}

#[test]
fn the_public_table_has_the_official_regions() {
    assert_eq!(region::known_regions().count(), 33);
    assert_eq!(
        region::default_cce_endpoint("ap-southeast-3"),
        Some("https://cce.ap-southeast-3.myhuaweicloud.com")
    );
    assert_eq!(
        region::default_iam_endpoint("cn-north-4"),
        Some("https://iam.cn-north-4.myhuaweicloud.com")
    );
    assert_eq!(region::default_iam_endpoint("cn-south-4"), None);
    assert_eq!(region::default_cce_endpoint("cn-nort-4"), None);
    assert_eq!(
        region::endpoint_env_var("ap-southeast-1"),
        "HUAWEICLOUD_SDK_REGION_CCE_AP_SOUTHEAST_1"
    );
}

#[test]
fn a_region_selects_its_endpoint_from_the_table() {
    let home = TempHome::new();
    let client = regional("cn-north-4", home.env()).build().unwrap();
    assert_eq!(
        client.endpoint(),
        "https://cce.cn-north-4.myhuaweicloud.com/"
    );
}

#[test]
fn eu_west_101_lives_under_the_eu_domain() {
    let home = TempHome::new();
    let client = regional("eu-west-101", home.env()).build().unwrap();
    assert_eq!(
        client.endpoint(),
        "https://cce.eu-west-101.myhuaweicloud.eu/"
    );
}

#[test]
fn the_region_can_come_from_the_environment() {
    let home = TempHome::new();
    let client = Client::builder()
        .project_id(PROJECT)
        .credentials(Credentials::new("REGIONAK", "region-secret"))
        .environment(home.env().var("HUAWEICLOUD_SDK_REGION", "af-south-1"))
        .build()
        .unwrap();
    assert_eq!(
        client.endpoint(),
        "https://cce.af-south-1.myhuaweicloud.com/"
    );
}

#[tokio::test]
async fn the_environment_override_is_used_and_its_first_entry_wins() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "REGIONAK", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    // A regions file that would say otherwise: the variable comes first.
    home.write(
        ".huaweicloud/regions.yaml",
        "CCE:\n  - id: cn-north-4\n    endpoint: http://127.0.0.1:9\n",
    );
    let env = home.env().var(
        "HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_4",
        format!("{},http://127.0.0.1:9", server.uri()),
    );
    let client = regional("cn-north-4", env).build().unwrap();
    assert_eq!(client.endpoint(), format!("{}/", server.uri()));
    fetch(&client).await.unwrap();
}

#[tokio::test]
async fn regions_yaml_in_home_overrides_the_table() {
    let server = MockServer::start().await;
    cce_signed_by(PROJECT, "REGIONAK", None)
        .expect(1)
        .mount(&server)
        .await;
    let home = TempHome::new();
    home.write(
        ".huaweicloud/regions.yaml",
        &format!(
            "ECS:\n  - id: cn-north-4\n    endpoint: https://ecs.example\nCCE:\n  - id: cn-north-1\n    endpoint: http://127.0.0.1:9\n  - id: cn-north-4\n    endpoint: {}\n",
            server.uri()
        ),
    );
    let client = regional("cn-north-4", home.env()).build().unwrap();
    assert_eq!(client.endpoint(), format!("{}/", server.uri()));
    fetch(&client).await.unwrap();
    // Regions the file does not list still come from the table.
    let other = regional("cn-east-3", home.env()).build().unwrap();
    assert_eq!(other.endpoint(), "https://cce.cn-east-3.myhuaweicloud.com/");
}

#[test]
fn regions_file_variable_with_an_endpoints_list() {
    let home = TempHome::new();
    let file = home.write(
        "conf/regions.yaml",
        "CCE:\n  - id: cn-north-4\n    endpoints:\n      - http://127.0.0.1:7001\n      - http://127.0.0.1:7002\n",
    );
    let env = home
        .env()
        .var("HUAWEICLOUD_SDK_REGIONS_FILE", file.to_string_lossy());
    let client = regional("cn-north-4", env).build().unwrap();
    assert_eq!(client.endpoint(), "http://127.0.0.1:7001/");
}

#[test]
fn regions_file_makes_a_region_outside_the_table_usable() {
    let home = TempHome::new();
    home.write(
        ".huaweicloud/regions.yaml",
        "CCE:\n  - id: xx-private-1\n    endpoint: http://127.0.0.1:7003\n",
    );
    let client = regional("xx-private-1", home.env()).build().unwrap();
    assert_eq!(client.endpoint(), "http://127.0.0.1:7003/");
}

#[test]
fn an_unparseable_regions_file_is_an_error_naming_it() {
    let home = TempHome::new();
    let file = home.write(".huaweicloud/regions.yaml", "CCE: [\n  - id: : :\n");
    let err = regional("cn-north-4", home.env()).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
}

#[test]
fn an_unknown_region_suggests_the_closest_known_one() {
    let home = TempHome::new();
    let err = regional("cn-nort-4", home.env()).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(
        text.contains(r#"unknown region "cn-nort-4"; did you mean cn-north-4?"#),
        "{text}"
    );
    assert!(
        text.contains("HUAWEICLOUD_SDK_REGION_CCE_CN_NORT_4"),
        "{text}"
    );
}

#[test]
fn an_explicit_endpoint_wins_over_every_region_override() {
    let home = TempHome::new();
    home.write(
        ".huaweicloud/regions.yaml",
        "CCE:\n  - id: cn-north-4\n    endpoint: http://127.0.0.1:9\n",
    );
    let env = home.env().var(
        "HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_4",
        "http://127.0.0.1:8",
    );
    let client = regional("cn-north-4", env)
        .endpoint("http://127.0.0.1:7004")
        .build()
        .unwrap();
    assert_eq!(client.endpoint(), "http://127.0.0.1:7004/");
}

#[test]
fn a_bad_override_url_names_the_variable() {
    let home = TempHome::new();
    let env = home
        .env()
        .var("HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_4", "cce.example");
    let err = regional("cn-north-4", env).build().unwrap_err();
    assert!(
        err.to_string()
            .contains("HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_4"),
        "{err}"
    );
}

//! CCE and IAM endpoints per region: the official SDK's table, and the overrides it honours
//! (an environment variable per region, then a `regions.yaml` file).
//!
//! ```
//! use cce_autopilot::region;
//!
//! assert_eq!(
//!     region::default_cce_endpoint("cn-north-4"),
//!     Some("https://cce.cn-north-4.myhuaweicloud.com")
//! );
//! assert_eq!(region::default_iam_endpoint("eu-west-101"), None);
//! assert!(region::known_regions().any(|id| id == "ap-southeast-1"));
//! ```
//!
//! A client picks its CCE endpoint in this order: an explicit endpoint URL, then the environment variable
//! `HUAWEICLOUD_SDK_REGION_CCE_<REGION_ID>` (the id upper-cased, `-` → `_`; a comma-separated list, whose first
//! entry is used), then `$HUAWEICLOUD_SDK_REGIONS_FILE` or `~/.huaweicloud/regions.yaml`, then the table.
//! The IAM endpoint (used to look up a project id) comes from the builder or the profile file, then
//! `HUAWEICLOUD_SDK_IAM_ENDPOINT`, then the table, then [`GLOBAL_IAM_ENDPOINT`].

use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::env::Environment;
use crate::{Error, Result};

/// The IAM endpoint used for a region the table has no IAM endpoint for.
pub const GLOBAL_IAM_ENDPOINT: &str = "https://iam.myhuaweicloud.com";

/// Region id, CCE endpoint, IAM endpoint.
///
/// Source: the official Python SDK, huaweicloudsdkcce / huaweicloudsdkcore 3.1.219, transcribed in
/// `../shared/api/regions.md`. Order as there.
const REGIONS: [(&str, &str, Option<&str>); 33] = [
    (
        "cn-north-1",
        "https://cce.cn-north-1.myhuaweicloud.com",
        Some("https://iam.cn-north-1.myhuaweicloud.com"),
    ),
    (
        "cn-north-2",
        "https://cce.cn-north-2.myhuaweicloud.com",
        Some("https://iam.cn-north-2.myhuaweicloud.com"),
    ),
    (
        "cn-north-4",
        "https://cce.cn-north-4.myhuaweicloud.com",
        Some("https://iam.cn-north-4.myhuaweicloud.com"),
    ),
    (
        "cn-north-9",
        "https://cce.cn-north-9.myhuaweicloud.com",
        Some("https://iam.cn-north-9.myhuaweicloud.com"),
    ),
    (
        "cn-south-1",
        "https://cce.cn-south-1.myhuaweicloud.com",
        Some("https://iam.cn-south-1.myhuaweicloud.com"),
    ),
    (
        "cn-south-2",
        "https://cce.cn-south-2.myhuaweicloud.com",
        Some("https://iam.cn-south-2.myhuaweicloud.com"),
    ),
    (
        "cn-south-4",
        "https://cce.cn-south-4.myhuaweicloud.com",
        None,
    ),
    (
        "cn-east-2",
        "https://cce.cn-east-2.myhuaweicloud.com",
        Some("https://iam.cn-east-2.myhuaweicloud.com"),
    ),
    (
        "cn-east-3",
        "https://cce.cn-east-3.myhuaweicloud.com",
        Some("https://iam.cn-east-3.myhuaweicloud.com"),
    ),
    (
        "cn-southwest-2",
        "https://cce.cn-southwest-2.myhuaweicloud.com",
        Some("https://iam.cn-southwest-2.myhuaweicloud.com"),
    ),
    (
        "ap-southeast-1",
        "https://cce.ap-southeast-1.myhuaweicloud.com",
        Some("https://iam.ap-southeast-1.myhuaweicloud.com"),
    ),
    (
        "ap-southeast-2",
        "https://cce.ap-southeast-2.myhuaweicloud.com",
        Some("https://iam.ap-southeast-2.myhuaweicloud.com"),
    ),
    (
        "ap-southeast-3",
        "https://cce.ap-southeast-3.myhuaweicloud.com",
        Some("https://iam.ap-southeast-3.myhuaweicloud.com"),
    ),
    (
        "af-south-1",
        "https://cce.af-south-1.myhuaweicloud.com",
        Some("https://iam.af-south-1.myhuaweicloud.com"),
    ),
    (
        "sa-brazil-1",
        "https://cce.sa-brazil-1.myhuaweicloud.com",
        Some("https://iam.sa-brazil-1.myhuaweicloud.com"),
    ),
    (
        "la-south-2",
        "https://cce.la-south-2.myhuaweicloud.com",
        Some("https://iam.la-south-2.myhuaweicloud.com"),
    ),
    (
        "la-north-2",
        "https://cce.la-north-2.myhuaweicloud.com",
        Some("https://iam.la-north-2.myhuaweicloud.com"),
    ),
    (
        "na-mexico-1",
        "https://cce.na-mexico-1.myhuaweicloud.com",
        Some("https://iam.na-mexico-1.myhuaweicloud.com"),
    ),
    (
        "ru-northwest-2",
        "https://cce.ru-northwest-2.myhuaweicloud.com",
        None,
    ),
    (
        "ap-southeast-4",
        "https://cce.ap-southeast-4.myhuaweicloud.com",
        Some("https://iam.ap-southeast-4.myhuaweicloud.com"),
    ),
    (
        "tr-west-1",
        "https://cce.tr-west-1.myhuaweicloud.com",
        Some("https://iam.tr-west-1.myhuaweicloud.com"),
    ),
    (
        "ae-ad-1",
        "https://cce.ae-ad-1.myhuaweicloud.com",
        Some("https://iam.ae-ad-1.myhuaweicloud.com"),
    ),
    (
        "eu-west-101",
        "https://cce.eu-west-101.myhuaweicloud.eu",
        None,
    ),
    (
        "cn-north-11",
        "https://cce.cn-north-11.myhuaweicloud.com",
        None,
    ),
    (
        "my-kualalumpur-1",
        "https://cce.my-kualalumpur-1.myhuaweicloud.com",
        Some("https://iam.my-kualalumpur-1.myhuaweicloud.com"),
    ),
    (
        "eu-west-0",
        "https://cce.eu-west-0.myhuaweicloud.com",
        Some("https://iam.eu-west-0.myhuaweicloud.com"),
    ),
    (
        "ru-moscow-1",
        "https://cce.ru-moscow-1.myhuaweicloud.com",
        Some("https://iam.ru-moscow-1.myhuaweicloud.com"),
    ),
    (
        "me-east-1",
        "https://cce.me-east-1.myhuaweicloud.com",
        Some("https://iam.me-east-1.myhuaweicloud.com"),
    ),
    (
        "cn-east-4",
        "https://cce.cn-east-4.myhuaweicloud.com",
        Some("https://iam.cn-east-4.myhuaweicloud.com"),
    ),
    (
        "af-north-1",
        "https://cce.af-north-1.myhuaweicloud.com",
        None,
    ),
    (
        "cn-east-5",
        "https://cce.cn-east-5.myhuaweicloud.com",
        Some("https://iam.cn-east-5.myhuaweicloud.com"),
    ),
    (
        "ap-southeast-5",
        "https://cce.ap-southeast-5.myhuaweicloud.com",
        None,
    ),
    (
        "cn-north-12",
        "https://cce.cn-north-12.myhuaweicloud.com",
        Some("https://iam.cn-north-12.myhuaweicloud.com"),
    ),
];

/// The region ids of the official SDK's CCE table, in its order.
pub fn known_regions() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|(id, _, _)| *id)
}

/// The CCE endpoint the official SDK's table gives `region`, without any override.
pub fn default_cce_endpoint(region: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(id, _, _)| *id == region)
        .map(|(_, cce, _)| *cce)
}

/// The IAM endpoint the official SDK's table gives `region`, without any override. `None` for a region the
/// table has no IAM endpoint for (the SDK then uses [`GLOBAL_IAM_ENDPOINT`]) and for unknown regions.
pub fn default_iam_endpoint(region: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(id, _, _)| *id == region)
        .and_then(|(_, _, iam)| *iam)
}

/// STS endpoints by region, as the official Python SDK 3.1.219 lists them
/// (`huaweicloudsdkcore/auth/endpoint.py`, `__STS_ENDPOINT_DICT`).
const STS_REGIONS: [&str; 12] = [
    "cn-north-4",
    "cn-south-1",
    "cn-east-3",
    "cn-southwest-2",
    "ap-southeast-1",
    "ap-southeast-3",
    "ap-southeast-2",
    "sa-brazil-1",
    "la-south-2",
    "af-south-1",
    "ap-southeast-4",
    "tr-west-1",
];

/// Where the SDK asks STS when neither `HUAWEICLOUD_SDK_STS_ENDPOINT` nor its table names an endpoint.
pub const DEFAULT_STS_ENDPOINT: &str = "https://sts.cn-north-4.myhuaweicloud.com";

/// The STS endpoint for `region` (`None`: unknown): `HUAWEICLOUD_SDK_STS_ENDPOINT`, else the SDK's table
/// (`https://sts.<region>.myhuaweicloud.com` for the regions it lists), else [`DEFAULT_STS_ENDPOINT`].
pub fn sts_endpoint(region: Option<&str>, env: &Environment) -> Result<Url> {
    if let Some(url) = env.get("HUAWEICLOUD_SDK_STS_ENDPOINT") {
        return endpoint_url(&url, "HUAWEICLOUD_SDK_STS_ENDPOINT");
    }
    match region.filter(|r| STS_REGIONS.contains(r)) {
        Some(region) => endpoint_url(
            &format!("https://sts.{region}.myhuaweicloud.com"),
            "the SDK's STS table",
        ),
        None => endpoint_url(DEFAULT_STS_ENDPOINT, "the SDK's default"),
    }
}

/// The environment variable that overrides the CCE endpoint of `region`, e.g.
/// `HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_4`.
pub fn endpoint_env_var(region: &str) -> String {
    format!(
        "HUAWEICLOUD_SDK_REGION_CCE_{}",
        region.to_ascii_uppercase().replace('-', "_")
    )
}

/// The CCE endpoint of `region`: env override, then the regions file, then the table.
pub fn cce_endpoint(region: &str, env: &Environment) -> Result<Url> {
    let var = endpoint_env_var(region);
    if let Some(value) = env.get(&var) {
        let first = value.split(',').map(str::trim).find(|s| !s.is_empty());
        let Some(first) = first else {
            return Err(Error::config(format!(
                "{var} holds no endpoint: set it to a URL such as https://cce.{region}.myhuaweicloud.com"
            )));
        };
        return endpoint_url(first, &var);
    }
    if let Some(path) = regions_file(env)
        && let Some(endpoint) = endpoint_from_file(&path, region)?
    {
        return endpoint_url(&endpoint, &format!("{} (region {region})", path.display()));
    }
    match default_cce_endpoint(region) {
        Some(endpoint) => endpoint_url(endpoint, "the region table"),
        None => Err(unknown_region(region)),
    }
}

/// The IAM endpoint for `region`: `explicit` (builder or profile file), then `HUAWEICLOUD_SDK_IAM_ENDPOINT`,
/// then the table, then [`GLOBAL_IAM_ENDPOINT`].
pub(crate) fn iam_endpoint(
    region: &str,
    explicit: Option<(&str, &str)>,
    env: &Environment,
) -> Result<Url> {
    if let Some((url, from)) = explicit {
        return endpoint_url(url, from);
    }
    if let Some(url) = env.get("HUAWEICLOUD_SDK_IAM_ENDPOINT") {
        return endpoint_url(&url, "HUAWEICLOUD_SDK_IAM_ENDPOINT");
    }
    let url = default_iam_endpoint(region).unwrap_or(GLOBAL_IAM_ENDPOINT);
    endpoint_url(url, "the region table")
}

pub(crate) fn endpoint_url(text: &str, from: &str) -> Result<Url> {
    let url = Url::parse(text.trim())
        .map_err(|e| Error::config(format!("invalid endpoint URL {text:?} from {from}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::config(format!(
            "invalid endpoint URL {text:?} from {from}: expected http(s)://host[:port]"
        )));
    }
    Ok(url)
}

/// `$HUAWEICLOUD_SDK_REGIONS_FILE`, else `~/.huaweicloud/regions.yaml`.
fn regions_file(env: &Environment) -> Option<PathBuf> {
    env.get("HUAWEICLOUD_SDK_REGIONS_FILE")
        .map(PathBuf::from)
        .or_else(|| {
            env.home_dir()
                .map(|home| home.join(".huaweicloud").join("regions.yaml"))
        })
}

/// The regions file: service name → entries. Other services' entries are ignored.
#[derive(Deserialize)]
struct RegionsFile {
    #[serde(rename = "CCE", alias = "cce", alias = "Cce", default)]
    cce: Option<Vec<RegionEntry>>,
}

/// One region of a service: `endpoint`, or `endpoints` (a list; the first is used).
#[derive(Deserialize)]
struct RegionEntry {
    id: String,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    endpoints: Option<Vec<String>>,
}

/// The CCE endpoint the regions file at `path` gives `region`; `Ok(None)` when there is no file or no entry.
fn endpoint_from_file(path: &Path, region: &str) -> Result<Option<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Config {
                message: format!("cannot read the regions file {}", path.display()),
                source: Some(Box::new(e)),
            });
        }
    };
    parse_regions(&text, region).map_err(|e| Error::Config {
        message: format!(
            "the regions file {} is not valid: {e}; expected `CCE: [{{id: <region>, endpoint: <url>}}]`",
            path.display()
        ),
        source: None,
    })
}

fn parse_regions(text: &str, region: &str) -> std::result::Result<Option<String>, String> {
    // An empty file (or one of comments only) is a valid, empty configuration.
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(None);
    }
    let file: RegionsFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let Some(entry) = file
        .cce
        .unwrap_or_default()
        .into_iter()
        .find(|entry| entry.id == region)
    else {
        return Ok(None);
    };
    let endpoint = entry.endpoint.filter(|e| !e.trim().is_empty()).or_else(|| {
        entry
            .endpoints
            .unwrap_or_default()
            .into_iter()
            .find(|e| !e.trim().is_empty())
    });
    match endpoint {
        Some(endpoint) => Ok(Some(endpoint)),
        None => Err(format!(
            "the CCE entry for {region} has neither `endpoint` nor `endpoints`"
        )),
    }
}

fn unknown_region(region: &str) -> Error {
    let close = closest_regions(region);
    let hint = if close.is_empty() {
        format!(
            "known regions: {}",
            known_regions().collect::<Vec<_>>().join(", ")
        )
    } else {
        format!("did you mean {}?", close.join(" or "))
    };
    Error::config(format!(
        "unknown region {region:?}; {hint} (for a region not in the table, set {} or pass an endpoint URL)",
        endpoint_env_var(region)
    ))
}

/// The known ids nearest to `region` by edit distance, when near enough to be a plausible typo.
fn closest_regions(region: &str) -> Vec<&'static str> {
    let region = region.to_ascii_lowercase();
    let limit = (region.chars().count() / 3).max(2);
    let scored: Vec<(usize, &'static str)> = known_regions()
        .map(|id| (strsim::levenshtein(&region, id), id))
        .filter(|(d, _)| *d <= limit)
        .collect();
    let Some(best) = scored.iter().map(|(d, _)| *d).min() else {
        return Vec::new();
    };
    scored
        .into_iter()
        .filter(|(d, _)| *d == best)
        .map(|(_, id)| id)
        .take(3)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_follows_the_naming_rule_except_eu_west_101() {
        for (id, cce, iam) in REGIONS {
            if id == "eu-west-101" {
                assert_eq!(cce, "https://cce.eu-west-101.myhuaweicloud.eu");
            } else {
                assert_eq!(cce, format!("https://cce.{id}.myhuaweicloud.com"));
            }
            if let Some(iam) = iam {
                assert_eq!(iam, format!("https://iam.{id}.myhuaweicloud.com"));
            }
        }
        let mut ids: Vec<_> = known_regions().collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), REGIONS.len(), "no duplicate ids");
    }

    #[test]
    fn iam_endpoint_falls_back_to_the_global_one() {
        let env = Environment::empty();
        assert_eq!(
            iam_endpoint("cn-north-4", None, &env).unwrap().as_str(),
            "https://iam.cn-north-4.myhuaweicloud.com/"
        );
        assert_eq!(
            iam_endpoint("eu-west-101", None, &env).unwrap().as_str(),
            "https://iam.myhuaweicloud.com/"
        );
        assert_eq!(
            iam_endpoint("nowhere-1", None, &env).unwrap().as_str(),
            "https://iam.myhuaweicloud.com/"
        );
    }

    #[test]
    fn iam_endpoint_order_is_explicit_env_table() {
        let env = Environment::empty().var("HUAWEICLOUD_SDK_IAM_ENDPOINT", "http://127.0.0.1:1");
        assert_eq!(
            iam_endpoint("cn-north-4", None, &env).unwrap().as_str(),
            "http://127.0.0.1:1/"
        );
        assert_eq!(
            iam_endpoint("cn-north-4", Some(("http://127.0.0.1:2", "builder")), &env)
                .unwrap()
                .as_str(),
            "http://127.0.0.1:2/"
        );
        let env = Environment::empty().var("HUAWEICLOUD_SDK_IAM_ENDPOINT", "not a url");
        let err = iam_endpoint("cn-north-4", None, &env).unwrap_err();
        assert!(
            err.to_string().contains("HUAWEICLOUD_SDK_IAM_ENDPOINT"),
            "{err}"
        );
    }

    #[test]
    fn env_var_name_upper_cases_and_replaces_dashes() {
        assert_eq!(
            endpoint_env_var("cn-north-4"),
            "HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_4"
        );
    }

    #[test]
    fn env_override_takes_the_first_of_a_list() {
        let env = Environment::empty().var(
            "HUAWEICLOUD_SDK_REGION_CCE_CN_NORTH_4",
            " http://127.0.0.1:9000 , http://127.0.0.1:9001",
        );
        assert_eq!(
            cce_endpoint("cn-north-4", &env).unwrap().as_str(),
            "http://127.0.0.1:9000/"
        );
    }

    #[test]
    fn unknown_regions_get_the_closest_suggestions() {
        assert_eq!(closest_regions("cn-nort-4"), ["cn-north-4"]);
        assert_eq!(closest_regions("CN-NORTH-4"), ["cn-north-4"]);
        assert_eq!(closest_regions("eu-west-10"), ["eu-west-101", "eu-west-0"]);
        assert!(closest_regions("mars-base-1").is_empty());
        let err = cce_endpoint("mars-base-1", &Environment::empty()).unwrap_err();
        assert!(
            err.to_string().contains("known regions: cn-north-1"),
            "{err}"
        );
    }

    #[test]
    fn regions_file_shapes() {
        let single = "CCE:\n  - id: cn-north-4\n    endpoint: http://127.0.0.1:1\n";
        assert_eq!(
            parse_regions(single, "cn-north-4").unwrap().as_deref(),
            Some("http://127.0.0.1:1")
        );
        assert_eq!(parse_regions(single, "cn-north-1").unwrap(), None);
        let list = "ECS:\n  - id: cn-north-4\n    endpoint: http://ecs\nCCE:\n  - id: cn-north-4\n    endpoints:\n      - http://127.0.0.1:2\n      - http://127.0.0.1:3\n";
        assert_eq!(
            parse_regions(list, "cn-north-4").unwrap().as_deref(),
            Some("http://127.0.0.1:2")
        );
        assert_eq!(parse_regions("# nothing\n\n", "cn-north-4").unwrap(), None);
        assert!(parse_regions("CCE: [", "cn-north-4").is_err());
        assert!(parse_regions("CCE:\n  - id: cn-north-4\n", "cn-north-4").is_err());
    }
}

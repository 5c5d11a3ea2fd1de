//! A fleet behind one address: R regions, P projects in each, C clusters in each project
//! ([`EmulatorBuilder::fleet`], `emulator serve --fleet RxPxC`), for runs across regions and projects.

use crate::builder::{ClusterConfig, EmulatorBuilder, hex_digest};
use crate::error::{EmulatorError, Result};

/// The regions of the fleet, in this order: the region table of the official Python SDK
/// (huaweicloudsdkcce 3.1.219, `CceRegion`), as `../shared/api/regions.md` transcribes it.
pub const FLEET_REGIONS: [&str; 33] = [
    "cn-north-1",
    "cn-north-2",
    "cn-north-4",
    "cn-north-9",
    "cn-south-1",
    "cn-south-2",
    "cn-south-4",
    "cn-east-2",
    "cn-east-3",
    "cn-southwest-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "af-south-1",
    "sa-brazil-1",
    "la-south-2",
    "la-north-2",
    "na-mexico-1",
    "ru-northwest-2",
    "ap-southeast-4",
    "tr-west-1",
    "ae-ad-1",
    "eu-west-101",
    "cn-north-11",
    "my-kualalumpur-1",
    "eu-west-0",
    "ru-moscow-1",
    "me-east-1",
    "cn-east-4",
    "af-north-1",
    "cn-east-5",
    "ap-southeast-5",
    "cn-north-12",
];

/// The most clusters a fleet may have (each has its CA and its API-server stub's listener).
pub const MAX_FLEET_CLUSTERS: usize = 5_000;

/// The size of a fleet: `RxPxC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FleetSize {
    /// Regions, the first of [`FLEET_REGIONS`].
    pub regions: usize,
    /// Projects per region: the region's default project, then `<region>_p2` … `<region>_pP`.
    pub projects: usize,
    /// Clusters per project, `app-1` … `app-C`.
    pub clusters: usize,
}

impl std::str::FromStr for FleetSize {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let parts: Vec<usize> = text
            .split(['x', 'X'])
            .map(|p| p.trim().parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| format!("invalid fleet {text:?}: expected RxPxC, e.g. 10x5x20"))?;
        let [regions, projects, clusters] = parts[..] else {
            return Err(format!(
                "invalid fleet {text:?}: expected RxPxC, e.g. 10x5x20"
            ));
        };
        let size = FleetSize {
            regions,
            projects,
            clusters,
        };
        size.check().map_err(|e| e.to_string())?;
        Ok(size)
    }
}

impl FleetSize {
    fn check(self) -> Result<()> {
        let invalid = |reason: String| Err(EmulatorError::InvalidConfig { reason });
        if !(1..=FLEET_REGIONS.len()).contains(&self.regions) {
            return invalid(format!(
                "a fleet has 1 to {} regions, not {}",
                FLEET_REGIONS.len(),
                self.regions
            ));
        }
        if self.projects == 0 || self.clusters == 0 {
            return invalid(
                "a fleet has at least one project per region and one cluster per project"
                    .to_owned(),
            );
        }
        let total = self
            .regions
            .saturating_mul(self.projects)
            .saturating_mul(self.clusters);
        if total > MAX_FLEET_CLUSTERS {
            return invalid(format!(
                "a fleet of {total} clusters is more than the {MAX_FLEET_CLUSTERS} this emulator serves"
            ));
        }
        Ok(())
    }
}

/// A project's id: 32 hex digits derived from its name, the same at every start.
pub(crate) fn project_id_of(name: &str) -> String {
    hex_digest("project", name)[..32].to_owned()
}

/// A cluster's id: UUID-shaped, derived from its project and name.
fn cluster_id_of(project: &str, name: &str) -> String {
    let h = hex_digest("cluster", &format!("{project}/{name}"));
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

impl EmulatorBuilder {
    /// Serves a fleet instead of the demo clusters: the first `size.regions` regions of [`FLEET_REGIONS`],
    /// `size.projects` projects in each (the region's default project, named like the region, then
    /// `<region>_p2` …), and `size.clusters` private clusters `app-1` … in every project. IAM lists every
    /// project (`GET /v3/auth/projects`, `GET /v3/projects?name=`); the emulator's region and project are
    /// the first region's default ones.
    pub fn fleet(mut self, size: FleetSize) -> Result<Self> {
        size.check()?;
        self.clusters.clear();
        self.custom_clusters = true;
        self.iam_projects.clear();
        for (r, region) in FLEET_REGIONS.iter().take(size.regions).enumerate() {
            for p in 1..=size.projects {
                let name = if p == 1 {
                    (*region).to_owned()
                } else {
                    format!("{region}_p{p}")
                };
                let project_id = project_id_of(&name);
                if r == 0 && p == 1 {
                    self.region = (*region).to_owned();
                    self.project_id = project_id.clone();
                } else {
                    self.iam_projects.push((name.clone(), project_id.clone()));
                }
                for c in 1..=size.clusters {
                    let cluster = format!("app-{c}");
                    let mut config =
                        ClusterConfig::new(cluster_id_of(&name, &cluster), Some(&cluster), false);
                    config.project_id = Some(project_id.clone());
                    self.clusters.push(config);
                }
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Emulator;

    #[test]
    fn sizes_parse_and_bounds_hold() {
        let size: FleetSize = "10x5x20".parse().unwrap();
        assert_eq!((size.regions, size.projects, size.clusters), (10, 5, 20));
        for bad in ["10x5", "0x1x1", "34x1x1", "1x0x1", "a x b x c", "10x10x100"] {
            assert!(bad.parse::<FleetSize>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_fleet_names_projects_and_clusters_like_the_cloud() {
        let b = Emulator::builder().fleet("2x2x3".parse().unwrap()).unwrap();
        assert_eq!(b.region, "cn-north-1");
        let names: Vec<&str> = b.iam_projects.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["cn-north-1_p2", "cn-north-2", "cn-north-2_p2"]);
        assert_eq!(b.clusters.len(), 12);
        assert_eq!(b.clusters[0].name.as_deref(), Some("app-1"));
        assert_eq!(b.clusters[3].name.as_deref(), Some("app-1"));
        assert_ne!(b.clusters[0].id, b.clusters[3].id);
        assert_eq!(
            b.clusters[0].project_id.as_deref(),
            Some(b.project_id.as_str())
        );
        assert!(
            b.validate().is_ok(),
            "names repeat across projects, never within one"
        );
    }
}

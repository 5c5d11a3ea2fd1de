//! The per-cluster report of a fleet run: JSON documents (inside each command's own) and a table for people.

use std::fmt::Write as _;

use cce_autopilot::Throttling;
use serde::Serialize;

use super::FleetTarget;

/// A region the run asked for and skipped.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SkippedJson {
    /// The region.
    pub region: String,
    /// Why.
    pub reason: String,
}

/// What happened to one cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Done.
    Ok,
    /// Not done: see the error.
    Failed,
    /// Left out on purpose: see the note.
    Skipped,
}

/// One cluster of the run.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FleetClusterJson {
    /// Its region.
    pub region: Option<String>,
    /// Its project's name.
    pub project: Option<String>,
    /// Its id.
    pub cluster_id: String,
    /// Its name.
    pub cluster_name: Option<String>,
    /// What happened.
    pub outcome: Outcome,
    /// Why it failed, or why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A project whose clusters could not be listed.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProjectFailureJson {
    /// Its region.
    pub region: Option<String>,
    /// Its name.
    pub project: Option<String>,
    /// The error.
    pub error: String,
}

/// How much the service slowed the run down.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ThrottlingJson {
    /// Answers that asked to slow down (429, `Retry-After`): each made the whole run wait.
    pub waits: u64,
    /// How long the run was held in all, in seconds.
    pub paused_seconds: f64,
}

impl From<Throttling> for ThrottlingJson {
    fn from(t: Throttling) -> Self {
        ThrottlingJson {
            waits: t.throttled_answers,
            paused_seconds: t.paused.as_secs_f64(),
        }
    }
}

/// The whole run, for `--format json` (the `fleet` member of each command's document).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FleetReport {
    /// Every cluster, in the order of regions, projects and the service's lists.
    pub clusters: Vec<FleetClusterJson>,
    /// Projects whose clusters could not be listed.
    pub failed_projects: Vec<ProjectFailureJson>,
    /// Regions asked for without a project of the identity.
    pub skipped_regions: Vec<SkippedJson>,
    /// Throttling.
    pub throttling: Option<ThrottlingJson>,
}

impl FleetReport {
    /// A cluster of `target`.
    pub(crate) fn push(
        &mut self,
        target: &FleetTarget,
        cluster_id: &str,
        cluster_name: Option<&str>,
        outcome: Outcome,
        detail: Option<String>,
    ) {
        self.clusters.push(FleetClusterJson {
            region: target.region.clone(),
            project: target.project.clone(),
            cluster_id: cluster_id.to_owned(),
            cluster_name: cluster_name.map(str::to_owned),
            outcome,
            detail,
        });
    }

    /// Whether some cluster or project failed.
    pub fn failed(&self) -> bool {
        !self.failed_projects.is_empty()
            || self.clusters.iter().any(|c| c.outcome == Outcome::Failed)
    }

    /// The table for stderr: one line per cluster (`done` names what was done to it), then the totals.
    pub fn text(&self, done: &str) -> String {
        let cell =
            |v: &Option<String>| crate::text::field(v.as_deref().unwrap_or("-")).into_owned();
        let rows: Vec<[String; 5]> = self
            .clusters
            .iter()
            .map(|c| {
                [
                    cell(&c.region),
                    cell(&c.project),
                    crate::text::field(c.cluster_name.as_deref().unwrap_or(&c.cluster_id))
                        .into_owned(),
                    match c.outcome {
                        Outcome::Ok => done.to_owned(),
                        Outcome::Failed => "failed".to_owned(),
                        Outcome::Skipped => "skipped".to_owned(),
                    },
                    c.detail
                        .as_deref()
                        .map(crate::text::one_line)
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let header = ["REGION", "PROJECT", "CLUSTER", "RESULT", "DETAIL"].map(str::to_owned);
        let lines: Vec<Vec<String>> = std::iter::once(header.to_vec())
            .chain(rows.into_iter().map(|r| r.to_vec()))
            .collect();
        let mut out = crate::text::columns(&lines, 2);
        for p in &self.failed_projects {
            let _ = writeln!(
                out,
                "error: project {} ({}): {}",
                cell(&p.project),
                cell(&p.region),
                crate::text::one_line(&p.error)
            );
        }
        // Regions are skipped for one reason: one line for all of them.
        if !self.skipped_regions.is_empty() {
            let names: Vec<String> = self
                .skipped_regions
                .iter()
                .map(|s| crate::text::field(&s.region).into_owned())
                .collect();
            let _ = writeln!(
                out,
                "note: {} skipped, {}: {}",
                super::super::report::plural(names.len(), "region"),
                self.skipped_regions[0].reason,
                names.join(", ")
            );
        }
        let count = |o: Outcome| self.clusters.iter().filter(|c| c.outcome == o).count();
        let projects: std::collections::BTreeSet<_> = self
            .clusters
            .iter()
            .map(|c| (&c.region, &c.project))
            .collect();
        let regions: std::collections::BTreeSet<_> =
            self.clusters.iter().map(|c| &c.region).collect();
        let _ = write!(
            out,
            "{} in {} of {}: {} {done}, {} failed, {} skipped",
            super::super::report::plural(self.clusters.len(), "cluster"),
            super::super::report::plural(projects.len(), "project"),
            super::super::report::plural(regions.len(), "region"),
            count(Outcome::Ok),
            count(Outcome::Failed),
            count(Outcome::Skipped),
        );
        if let Some(t) = self.throttling.filter(|t| t.waits > 0) {
            let _ = write!(
                out,
                "; throttled {} (waited {:.1}s in all)",
                super::super::report::plural(
                    usize::try_from(t.waits).unwrap_or(usize::MAX),
                    "time"
                ),
                t.paused_seconds
            );
        }
        out.push('\n');
        out
    }
}

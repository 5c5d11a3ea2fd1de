//! Runs across regions and projects: which projects the fleet flags select ([`targets`]), one bound on the
//! calls in flight with one progress bar ([`Runner`]), and the per-cluster report ([`report`]).

pub(crate) mod report;
mod runner;

pub(crate) use runner::Runner;

use cce_autopilot::Client;

use crate::args::{FleetArgs, GlobalArgs};
use crate::exit::CliError;

use report::SkippedJson;

/// One project the run covers, and the client for it.
#[derive(Clone, Debug)]
pub(crate) struct FleetTarget {
    /// Its region (the global option's without fleet flags).
    pub region: Option<String>,
    /// The project's name, in a fleet run (it scopes the entries' default names).
    pub project: Option<String>,
    /// The project's id, in a fleet run.
    pub project_id: Option<String>,
    /// Calls in this project; every target's client shares the credentials and the back-off.
    pub client: Client,
}

/// What the fleet flags allow, checked before any request: no `--project-id` beside them (they choose the
/// projects), and regions the client can reach.
pub(crate) fn check(global: &GlobalArgs, fleet: &FleetArgs) -> anyhow::Result<()> {
    if !fleet.is_fleet() {
        return Ok(());
    }
    if global.project_id.is_some() {
        return Err(CliError::usage(
            "--regions, --all-regions and --all-projects choose the projects: drop --project-id (or unset \
             HUAWEICLOUD_SDK_PROJECT_ID)",
        )
        .into());
    }
    if global.endpoint.is_none() {
        let env = cce_autopilot::Environment::process();
        for region in &fleet.regions {
            cce_autopilot::region::cce_endpoint(region, &env)
                .map_err(|e| CliError::usage(format!("--regions: {e}")))?;
        }
    }
    Ok(())
}

/// The global options a fleet run builds its first client from: with neither a region nor an endpoint, the
/// first region of `--regions`, else cn-north-4 — IAM lists the projects of every region from any of them.
pub(crate) fn base(global: &GlobalArgs, fleet: &FleetArgs) -> GlobalArgs {
    let mut at = global.clone();
    if fleet.is_fleet() && at.region.is_none() && at.endpoint.is_none() {
        at.region = Some(
            fleet
                .regions
                .first()
                .cloned()
                .unwrap_or_else(|| "cn-north-4".to_owned()),
        );
    }
    at
}

/// The projects the run covers: without fleet flags, the client's own; else the identity's projects (one
/// IAM call) in the regions chosen — each region's default project, or all of them with `--all-projects`.
/// A region asked for where the identity has no project is skipped, not failed.
pub(crate) async fn targets(
    global: &GlobalArgs,
    fleet: &FleetArgs,
    client: &Client,
) -> anyhow::Result<(Vec<FleetTarget>, Vec<SkippedJson>)> {
    if !fleet.is_fleet() {
        let target = FleetTarget {
            region: global.region.clone(),
            project: None,
            project_id: None,
            client: client.clone(),
        };
        return Ok((vec![target], Vec::new()));
    }
    let projects = client.projects().await?;
    let mut regions: Vec<String> = Vec::new();
    let mut add = |r: &str| {
        if !regions.iter().any(|known| known == r) {
            regions.push(r.to_owned());
        }
    };
    if !fleet.regions.is_empty() {
        fleet.regions.iter().for_each(|r| add(r));
    } else {
        cce_autopilot::region::known_regions().for_each(&mut add);
        // Every project means every project: regions the table does not know but the environment or the
        // regions file gives an endpoint (HUAWEICLOUD_SDK_REGION_CCE_*) too, when the identity has a
        // project there. Other names (not a region's) are skipped below with a debug line.
        if fleet.all_projects && !fleet.all_regions {
            let env = cce_autopilot::Environment::process();
            projects
                .iter()
                .filter(|p| cce_autopilot::region::cce_endpoint(p.region(), &env).is_ok())
                .for_each(|p| add(p.region()));
        }
    }
    // Regions named on purpose are reported when they have no project; all regions of the table are not
    // (most accounts use a few of them) unless --all-regions asked for each.
    let report_empty = !fleet.regions.is_empty() || fleet.all_regions;
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for region in &regions {
        let mut in_region: Vec<_> = projects
            .iter()
            .filter(|p| p.region() == region)
            .filter(|p| fleet.all_projects || p.name == *region)
            .filter(|p| {
                if !p.enabled {
                    tracing::debug!(project = %p.name, "project disabled: skipped");
                }
                p.enabled
            })
            .collect();
        in_region.sort_by(|a, b| (a.name != *region, &a.name).cmp(&(b.name != *region, &b.name)));
        if in_region.is_empty() {
            if report_empty {
                skipped.push(SkippedJson {
                    region: region.clone(),
                    reason: "the identity has no project there".to_owned(),
                });
            }
            continue;
        }
        // A region's endpoint is found for all its projects or for none.
        let clients: cce_autopilot::Result<Vec<Client>> = in_region
            .iter()
            .map(|p| client.in_project(region, &p.id))
            .collect();
        match clients {
            Ok(clients) => {
                targets.extend(in_region.iter().zip(clients).map(|(p, c)| FleetTarget {
                    region: Some(region.clone()),
                    project: Some(p.name.clone()),
                    project_id: Some(p.id.clone()),
                    client: c,
                }))
            }
            Err(e) => skipped.push(SkippedJson {
                region: region.clone(),
                reason: format!("no endpoint for its projects: {e}"),
            }),
        }
    }
    for project in &projects {
        if !regions.iter().any(|r| r == project.region()) {
            tracing::debug!(project = %crate::text::field(&project.name), "project outside the regions chosen: skipped");
        }
    }
    Ok((targets, skipped))
}

/// Whether an owner mark's entries are in the regions the fleet options name (`--regions`; every entry
/// without it, as `--all-regions` and `--all-projects` ask too): `refresh` and `prune` act on the entries a
/// kubeconfig holds, so the options filter them.
pub(crate) fn covers(
    fleet: &FleetArgs,
    mark: &cce_autopilot_kubeconfig::managed::OwnerMark,
) -> bool {
    fleet.regions.is_empty()
        || mark
            .region
            .as_deref()
            .is_some_and(|r| fleet.regions.iter().any(|wanted| wanted == r))
}

/// Clients for the services and identities owner marks name: one per endpoint, region and identity, each
/// mark's project made from it ([`Client::in_project`]), so that the calls of one service share their
/// credentials, connections and back-off.
pub(crate) struct MarkClients<'a> {
    global: &'a GlobalArgs,
    timeout: std::time::Duration,
    built: std::collections::HashMap<String, Client>,
}

impl<'a> MarkClients<'a> {
    pub(crate) fn new(global: &'a GlobalArgs, timeout: std::time::Duration) -> Self {
        MarkClients {
            global,
            timeout,
            built: std::collections::HashMap::new(),
        }
    }

    /// The client that asks about `mark`'s cluster, where and as whom the mark says.
    pub(crate) fn client_for(
        &mut self,
        mark: &cce_autopilot_kubeconfig::managed::OwnerMark,
    ) -> anyhow::Result<Client> {
        // A mark whose project cannot be had through `in_project` gets a client of its own project.
        let per_project = mark.endpoint.is_some() || mark.region.is_some();
        let own_project = (!per_project).then_some(&mark.project_id);
        let key =
            serde_json::to_string(&(&mark.endpoint, &mark.region, &mark.identity, own_project))?;
        let base = match self.built.get(&key) {
            Some(client) => client.clone(),
            None => {
                let client = super::common::build_client_for(self.global, self.timeout, mark)?;
                self.built.insert(key, client.clone());
                client
            }
        };
        match (&mark.project_id, per_project) {
            (Some(project), true) => {
                Ok(base.in_project(mark.region.as_deref().unwrap_or_default(), project)?)
            }
            _ => Ok(base),
        }
    }

    /// What throttling cost all of them.
    pub(crate) fn throttling(&self) -> cce_autopilot::Throttling {
        self.built
            .values()
            .fold(cce_autopilot::Throttling::default(), |sum, c| {
                let t = c.throttling();
                let mut total = sum;
                total.throttled_answers += t.throttled_answers;
                total.paused += t.paused;
                total
            })
    }
}

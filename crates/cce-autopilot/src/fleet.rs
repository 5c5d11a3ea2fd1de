//! Fleets: the projects an identity may use (IAM `GET /v3/auth/projects`), and clients for each of them
//! that share one credential chain, one connection pool and one back-off ([`crate::backoff`]).
//!
//! Hand-written like the project lookup: IAM is not the service of the OpenAPI spec (ARCHITECTURE.md).

use std::sync::Arc;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use url::Url;

use crate::backoff::Throttling;
use crate::clients::HttpClients;
use crate::env::Environment;
use crate::generated::Client as Generated;
use crate::hooks::Inner;
use crate::mapping::{decode_error, endpoint_label, failure_error, request_id_of, service_error};
use crate::pipeline::Outcome;
use crate::project::ProjectResolver;
use crate::{Client, Result, region};

/// What a client keeps to make clients for other projects and to list projects.
#[derive(Debug)]
pub(crate) struct FleetBase {
    /// The endpoint was configured (an emulator, a private gateway): every region's calls go there.
    pub(crate) explicit_endpoint: bool,
    pub(crate) env: Environment,
    /// Where `GET /v3/auth/projects` is asked.
    pub(crate) iam: Url,
    pub(crate) http: HttpClients,
}

/// A project the identity may use, as IAM lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Project {
    /// The project id (checked like every id: it goes into URL paths).
    pub id: String,
    /// Its name: a region id (the region's default project) or `<region>_<sub-project>`.
    pub name: String,
    /// Whether it may be used.
    pub enabled: bool,
}

impl Project {
    /// The region of the project: its name up to the first `_` (Huawei Cloud's rule for project names).
    pub fn region(&self) -> &str {
        self.name.split('_').next().unwrap_or_default()
    }
}

/// IAM's project list, in Keystone's shape (also the answer of the project lookup, which reads the ids).
#[derive(Deserialize)]
pub(crate) struct ProjectList {
    pub(crate) projects: Vec<ProjectEntry>,
}

/// One project of [`ProjectList`].
#[derive(Deserialize)]
pub(crate) struct ProjectEntry {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) enabled: Option<bool>,
}

impl Client {
    /// Every project the identity may use, across regions (IAM `GET /v3/auth/projects`, signed like any
    /// call, without `X-Project-Id`). Entries whose id could not go into a URL path are left out with a
    /// warning: the answer is data, never a path of ours.
    pub async fn projects(&self) -> Result<Vec<Project>> {
        let iam = &self.fleet.iam;
        let mut url = iam.clone();
        let path = format!("{}/v3/auth/projects", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url.set_query(None);
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        // Signed (or with the token) like any call, but without X-Project-Id: it lists the projects.
        let auth = self.call_auth(None).await?;
        let mut outcome = Outcome::default();
        let response = self
            .shared
            .transport
            .send(request, &auth, "keystone_list_auth_projects", &mut outcome)
            .await
            .map_err(|failure| failure_error(failure, &outcome, iam))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(service_error(status, &headers, &body, outcome.attempts));
        }
        let list: ProjectList = serde_json::from_slice(&body).map_err(|e| {
            decode_error(
                status,
                request_id_of(&headers),
                &format!("a project list (IAM at {})", endpoint_label(iam)),
                &e,
            )
        })?;
        let mut projects = Vec::with_capacity(list.projects.len());
        for p in list.projects {
            if let Err(e) = crate::check_id("project id", &p.id) {
                tracing::warn!(error = %e, "IAM listed a project whose id is unusable; skipped");
                continue;
            }
            projects.push(Project {
                id: p.id,
                name: p.name.unwrap_or_default(),
                enabled: p.enabled.unwrap_or(true),
            });
        }
        Ok(projects)
    }

    /// A client for `project_id` in `region`, sharing this one's credentials, connections and back-off:
    /// its calls go to the region's endpoint (or to this client's endpoint when one was configured, as for
    /// an emulator that serves every region). Refused before any request when the id cannot be one or
    /// the region has no endpoint.
    pub fn in_project(&self, region: &str, project_id: &str) -> Result<Client> {
        crate::check_id("project id", project_id)?;
        let endpoint = if self.fleet.explicit_endpoint {
            self.endpoint.clone()
        } else {
            region::cce_endpoint(region, &self.fleet.env)?
        };
        let project = ProjectResolver::fixed(project_id.to_owned());
        let base = endpoint.as_str().trim_end_matches('/').to_owned();
        Ok(Client {
            generated: Generated::new_with_client(
                &base,
                self.fleet.http.builder_client(),
                Inner(self.shared.clone()),
            ),
            shared: self.shared.clone(),
            project: Arc::new(project),
            endpoint,
            sts: self.sts.clone(),
            agencies: self.agencies.clone(),
            fleet: self.fleet.clone(),
        })
    }

    /// What throttling cost the calls of this client and of every client made from it so far.
    pub fn throttling(&self) -> Throttling {
        self.shared.transport.backoff.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_projects_region_is_its_name_up_to_the_first_underscore() {
        let p = |name: &str| Project {
            id: "0".into(),
            name: name.into(),
            enabled: true,
        };
        assert_eq!(p("cn-north-4").region(), "cn-north-4");
        assert_eq!(p("cn-north-4_dev").region(), "cn-north-4");
        assert_eq!(p("cn-north-4_a_b").region(), "cn-north-4");
        assert_eq!(p("MOS").region(), "MOS");
    }
}

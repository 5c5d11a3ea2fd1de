//! `GET /autopilot/v3/projects/{project_id}/clusters` and `GET …/clusters/{cluster_id}`: the clusters of
//! the project, shaped like the service's answers (the official SDK's `AutopilotCluster` model).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::auth::{self, Admitted};
use super::{ApiError, JSON_UTF8, decode_query, jackson, json_response};
use crate::codes;
use crate::state::{Cluster, Shared, lock};

/// `2026-11-28 12:00:00.123456 +0000 UTC`: how the service writes its timestamps.
fn timestamp(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06} +0000 UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// A stable, id-shaped value derived from the cluster id, for the network ids of its spec.
fn derived_id(cluster: &Cluster, purpose: &str) -> String {
    let h = crate::builder::hex_digest(purpose, &cluster.id);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// One cluster as the service shows it.
fn cluster_json(cluster: &Cluster) -> Value {
    let mut endpoints = vec![json!({"url": cluster.internal_url, "type": "Internal"})];
    if let Some(external) = &cluster.external_url {
        endpoints.push(json!({"url": external, "type": "External"}));
    }
    let phase = lock(&cluster.phase).clone();
    let mut status = json!({"phase": phase, "endpoints": endpoints});
    if phase != "Available" {
        status["reason"] = json!(format!("The cluster is {phase}"));
        status["message"] = json!(format!("The emulator set this cluster's phase to {phase}"));
    }
    let created = timestamp(cluster.created);
    json!({
        "kind": "Cluster",
        "apiVersion": "v3",
        "metadata": {
            "name": cluster.name,
            "uid": cluster.id,
            "alias": cluster.alias.as_deref().unwrap_or(&cluster.name),
            "annotations": {},
            "labels": {"FeatureGates": ""},
            "creationTimestamp": created,
            "updateTimestamp": created,
        },
        "spec": {
            "category": "Turbo",
            "type": "VirtualMachine",
            "flavor": "cce.autopilot.cluster",
            "version": cluster.version,
            "platformVersion": "cce.1.0",
            "description": "",
            "enableSnat": false,
            "enableSWRImageAccess": false,
            "ipv6enable": false,
            "hostNetwork": {"vpc": derived_id(cluster, "vpc"), "subnet": derived_id(cluster, "subnet")},
            "containerNetwork": {"mode": "eni"},
            "eniNetwork": {"subnets": [{"subnetID": derived_id(cluster, "eni-subnet")}]},
            "serviceNetwork": {"IPv4CIDR": "10.247.0.0/16"},
            "authentication": {"mode": "rbac"},
            "billingMode": 0,
            "kubeProxyMode": "iptables",
            "az": "multi_az",
            "extendParam": {"enterpriseProjectId": "0"},
        },
        "status": status,
    })
}

/// Authentication, the project, and the listing permission: what both operations check first.
async fn admit(shared: &Shared, req: Request, project_id: &str) -> Result<(), ApiError> {
    let Admitted { parts, .. } = auth::admit(shared, req).await?;
    super::cce::check_project(shared, &parts.headers, project_id)?;
    if shared
        .deny_cluster_listing
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::CLUSTER_LIST_FORBIDDEN,
            "Forbidden: the credentials' policy does not allow cce:cluster:list or cce:cluster:get",
        ));
    }
    Ok(())
}

fn answer(value: &Value) -> Result<Response, ApiError> {
    let body = jackson::to_vec(value).map_err(|e| {
        tracing::error!(error = %e, "serialising clusters failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL_ERROR,
            "Internal error: the answer could not be written",
        )
    })?;
    Ok(json_response(StatusCode::OK, JSON_UTF8, body))
}

pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let Path(project_id) =
        path.map_err(|e| super::cce::invalid(format!("the path does not decode ({e})")))?;
    let query = decode_query(req.uri().query());
    admit(&shared, req, &project_id).await?;
    let wanted = |key: &str| {
        query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let (status, version, kind) = (wanted("status"), wanted("version"), wanted("type"));
    let items: Vec<Value> = shared
        .clusters()
        .filter(|c| c.project_id == project_id)
        .filter(|c| status.as_deref().is_none_or(|s| *lock(&c.phase) == s))
        .filter(|c| version.as_deref().is_none_or(|v| c.version == v))
        .filter(|_| kind.as_deref().is_none_or(|t| t == "VirtualMachine"))
        .map(|c| cluster_json(c))
        .collect();
    answer(&json!({"kind": "List", "apiVersion": "v3", "items": items}))
}

pub(super) async fn show(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let Path((project_id, cluster_id)) =
        path.map_err(|e| super::cce::invalid(format!("the path does not decode ({e})")))?;
    admit(&shared, req, &project_id).await?;
    let cluster = shared
        .cluster_in(&project_id, &cluster_id)
        .ok_or_else(|| super::cce::cluster_not_found(&cluster_id, &project_id))?;
    answer(&cluster_json(cluster))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_look_like_the_service_s() {
        assert_eq!(
            timestamp(datetime!(2026-11-28 12:03:04.5 UTC)),
            "2026-11-28 12:03:04.500000 +0000 UTC"
        );
    }
}

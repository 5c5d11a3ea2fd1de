//! What the kubeconfig already says of a cluster's entries of ours, so that a plain re-run keeps what the
//! user chose before: a verified external endpoint (`--tls-server-name`) stays verified, and an entry that
//! leaves the plugin (`--exec` → static) takes its certificate out of the plugin's cache.

use cce_autopilot::Access;
use cce_autopilot_kubeconfig::KubeconfigFile;
use cce_autopilot_kubeconfig::managed::OwnerMark;
use serde_json::Value;

fn mark_of(value: Option<&Value>, cluster_id: &str) -> Option<OwnerMark> {
    value
        .and_then(OwnerMark::from_value)
        .filter(|m| m.cluster_id == cluster_id)
}

/// The TLS server name our external entry of `cluster_id` verifies with, if it does.
pub fn tls_server_name(file: &KubeconfigFile, cluster_id: &str) -> Option<String> {
    file.clusters.iter().find_map(|c| {
        let mark = mark_of(c.owner_mark(), cluster_id)?;
        (mark.access == Access::External.context_name())
            .then(|| c.cluster.tls_server_name.clone())
            .flatten()
    })
}

/// Whether a user entry of ours for `cluster_id` runs the plugin.
pub fn runs_the_plugin(file: &KubeconfigFile, cluster_id: &str) -> bool {
    file.users.iter().any(|u| {
        mark_of(u.owner_mark(), cluster_id).is_some_and(|m| m.credential.as_deref() == Some("exec"))
    })
}

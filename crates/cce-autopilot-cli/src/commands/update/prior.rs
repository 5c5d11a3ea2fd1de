//! What the kubeconfig already says of a cluster's entries of ours, so that a plain re-run keeps what the
//! user chose before: a verified external endpoint (`--tls-server-name`) stays verified, and an entry that
//! leaves the plugin (`--exec` → static) takes its certificate out of the plugin's cache.

use cce_autopilot::Access;
use cce_autopilot_kubeconfig::KubeconfigSet;
use cce_autopilot_kubeconfig::managed::OwnerMark;
use serde_json::Value;

/// What one cluster's entries of ours say, in every file of the set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prior {
    /// The TLS server name our external entry verifies with, if it does.
    pub tls_server_name: Option<String>,
    /// Whether a user entry of ours runs the plugin.
    pub runs_the_plugin: bool,
}

fn mark_of(value: Option<&Value>, cluster_id: &str) -> Option<OwnerMark> {
    value
        .and_then(OwnerMark::from_value)
        .filter(|m| m.cluster_id == cluster_id)
}

impl Prior {
    /// What the files of `set` say of `cluster_id`'s entries of ours.
    pub fn of(set: &KubeconfigSet, cluster_id: &str) -> Self {
        let files = || set.files().iter().map(|f| f.config());
        Prior {
            tls_server_name: files().flat_map(|f| &f.clusters).find_map(|c| {
                let mark = mark_of(c.owner_mark(), cluster_id)?;
                (mark.access == Access::External.context_name())
                    .then(|| c.cluster.tls_server_name.clone())
                    .flatten()
            }),
            runs_the_plugin: files().flat_map(|f| &f.users).any(|u| {
                mark_of(u.owner_mark(), cluster_id)
                    .is_some_and(|m| m.credential.as_deref() == Some("exec"))
            }),
        }
    }
}

//! Fetching the kubeconfigs of several clusters at once: within the run's bound on calls in flight (its
//! [`Runner`], which draws the progress bar), every outcome kept, so that one failure does not lose the others.

use cce_autopilot::{CertDuration, Client, ClusterCert};
use tokio::task::JoinSet;

use crate::commands::fleet::Runner;

/// The outcome of one cluster's call.
#[derive(Debug)]
pub struct Fetched {
    /// The cluster id, as given.
    pub cluster_id: String,
    /// The answer, or why there is none (a [`cce_autopilot::Error`] but for a panicked task).
    pub result: anyhow::Result<ClusterCert>,
}

/// Fetches the kubeconfig of every `(client, cluster id)` of `calls` (each in its client's project) through
/// `runner`; the outcomes come back in the order of `calls`.
pub async fn fetch_all(
    runner: &Runner,
    calls: &[(Client, String)],
    duration: CertDuration,
) -> Vec<Fetched> {
    runner.expect(calls.len(), "fetching kubeconfigs");
    let mut tasks = JoinSet::new();
    for (index, (client, id)) in calls.iter().enumerate() {
        let (client, id, runner) = (client.clone(), id.clone(), runner.clone());
        tasks.spawn(async move {
            let result = runner
                .call(client.cluster_cert(&id).duration(duration).send())
                .await
                .map_err(anyhow::Error::new);
            (
                index,
                Fetched {
                    cluster_id: id,
                    result,
                },
            )
        });
    }
    let mut slots: Vec<Option<Fetched>> = calls.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, fetched)) => slots[index] = Some(fetched),
            // A panicking call: its slot stays empty and is reported below.
            Err(e) => tracing::error!("a fetch task failed: {e}"),
        }
    }
    slots
        .into_iter()
        .zip(calls)
        .map(|(slot, (_, id))| {
            slot.unwrap_or_else(|| Fetched {
                cluster_id: id.clone(),
                result: Err(anyhow::anyhow!(
                    "the call was aborted (internal error; see the log)"
                )),
            })
        })
        .collect()
}

/// One line describing a failed call: the cluster id, the error, and its request id when the error
/// text does not already carry it.
pub fn failure_line(cluster_id: &str, error: &anyhow::Error) -> String {
    let mut line = format!(
        "cluster {cluster_id}: {}",
        crate::text::one_line(&format!("{error:#}"))
    );
    let request_id = error
        .chain()
        .find_map(|e| e.downcast_ref::<cce_autopilot::Error>())
        .and_then(cce_autopilot::Error::request_id);
    if let Some(request_id) = request_id
        && !line.contains(request_id)
    {
        line.push_str(&format!(" (request id {request_id})"));
    }
    line
}

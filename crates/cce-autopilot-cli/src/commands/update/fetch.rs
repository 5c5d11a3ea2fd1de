//! Fetching the kubeconfigs of several clusters at once: a few calls in flight, a progress bar on a
//! terminal, and every outcome kept, so that one failure does not lose the others.

use std::io::IsTerminal as _;
use std::sync::Arc;

use cce_autopilot::{CertDuration, Client, ClusterCert};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How many calls are in flight at once.
pub const MAX_IN_FLIGHT: usize = 4;

/// The outcome of one cluster's call.
#[derive(Debug)]
pub struct Fetched {
    /// The cluster id, as given.
    pub cluster_id: String,
    /// The answer, or why there is none (a [`cce_autopilot::Error`] but for a panicked task).
    pub result: anyhow::Result<ClusterCert>,
}

/// Fetches the kubeconfig of every cluster in `cluster_ids` with [`MAX_IN_FLIGHT`] calls at most in
/// flight; the outcomes come back in the order of `cluster_ids`. With more than one cluster and
/// stderr on a terminal, a progress bar counts the answers (nothing is drawn otherwise).
pub async fn fetch_all(
    client: &Client,
    cluster_ids: &[String],
    duration: CertDuration,
) -> Vec<Fetched> {
    let progress = progress_bar(cluster_ids.len());
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for (index, id) in cluster_ids.iter().enumerate() {
        let client = client.clone();
        let permits = Arc::clone(&permits);
        let id = id.clone();
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = permits.acquire_owned().await;
            let result = client
                .cluster_cert(&id)
                .duration(duration)
                .send()
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
    let mut slots: Vec<Option<Fetched>> = cluster_ids.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, fetched)) => {
                progress.inc(1);
                slots[index] = Some(fetched);
            }
            // A panicking call: its slot stays empty and is reported below.
            Err(e) => tracing::error!("a fetch task failed: {e}"),
        }
    }
    progress.finish_and_clear();
    slots
        .into_iter()
        .zip(cluster_ids)
        .map(|(slot, id)| {
            slot.unwrap_or_else(|| Fetched {
                cluster_id: id.clone(),
                result: Err(anyhow::anyhow!(
                    "the call was aborted (internal error; see the log)"
                )),
            })
        })
        .collect()
}

fn progress_bar(count: usize) -> ProgressBar {
    let target = if count > 1 && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(count as u64), target);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} fetching kubeconfigs {pos}/{len} {wide_bar}")
    {
        bar.set_style(style);
    }
    bar
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

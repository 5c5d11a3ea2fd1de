//! The "get cluster certificate" call: [`ClusterCertRequest`] and its answer, [`ClusterCert`].

use cce_autopilot_model::{CertDuration, Kubeconfig};

use crate::client::{Client, check_id};
use crate::mapping::request_id_of;
use crate::{Error, Result};

/// A "get cluster certificate" call being configured; finish with [`ClusterCertRequest::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct ClusterCertRequest<'a> {
    client: &'a Client,
    cluster_id: String,
    duration: Option<CertDuration>,
}

/// A fetched kubeconfig with the response metadata. The kubeconfig holds only the fields the vendor
/// document defines ([`Kubeconfig::retain_document_fields`]): nothing else the endpoint sends is kept.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClusterCert {
    /// The kubeconfig (its `Debug` redacts the client key).
    pub kubeconfig: Kubeconfig,
    /// The `Port-ID` response header: the port of the cluster's control-plane node.
    pub port_id: Option<String>,
    /// The `X-Request-Id` response header.
    pub request_id: Option<String>,
}

impl<'a> ClusterCertRequest<'a> {
    pub(crate) fn new(client: &'a Client, cluster_id: String) -> Self {
        ClusterCertRequest {
            client,
            cluster_id,
            duration: None,
        }
    }

    /// How long the client certificate is valid (required).
    pub fn duration(mut self, duration: CertDuration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// Sends the call, retrying and re-signing as configured.
    ///
    /// Refused before anything is sent: an id that cannot be a path segment, no duration, or a duration
    /// longer than five calendar years from today (UTC, on the clock the gateway taught the client), which
    /// the service refuses.
    pub async fn send(self) -> Result<ClusterCert> {
        check_id("cluster id", &self.cluster_id)?;
        let duration = self.duration.ok_or_else(|| {
            Error::invalid(
                "duration",
                "is required: call .duration(CertDuration::days(n)?) or .duration(CertDuration::MAX)",
            )
        })?;
        let client = self.client;
        duration.check_on(client.shared.transport.today_utc())?;
        let ctx = client.call_context().await?;
        let project_id = Client::project_of(&ctx).to_owned();
        let span = tracing::info_span!("cluster_cert", cluster_id = %self.cluster_id, duration = duration.get());
        let call = client
            .generated
            .create_autopilot_kubernetes_cluster_cert()
            .project_id(project_id)
            .cluster_id(self.cluster_id.clone())
            .body(duration)
            .send();
        let response =
            tracing::Instrument::instrument(client.run(ctx, "a kubeconfig", call), span).await?;
        let port_id = response
            .headers()
            .get("port-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let request_id = request_id_of(response.headers());
        let mut kubeconfig = response.into_inner();
        // The endpoint is untrusted: only the fields the vendor document defines reach anyone.
        let dropped = kubeconfig.retain_document_fields();
        if !dropped.is_empty() {
            tracing::debug!(
                ?dropped,
                request_id = request_id.as_deref(),
                "fields outside the vendor document dropped from the answer"
            );
        }
        Ok(ClusterCert {
            kubeconfig,
            port_id,
            request_id,
        })
    }
}

//! A fetched certificate as a `kube::Config` (feature `kube`), so a program can go from cluster id to
//! `kube::Client` in three lines.

use cce_autopilot_model::Access;
use kube::config::{KubeConfigOptions, Kubeconfig as KubeFile};

use crate::{ClusterCert, Error, Result};

impl ClusterCert {
    /// The kubeconfig's `access` context (internal or external) as a `kube::Config`.
    ///
    /// The external entry comes from the service with `insecure-skip-tls-verify`; kube-rs then skips server
    /// verification as kubectl does. Prefer [`Access::Internal`] where the VPC address is reachable.
    pub async fn kube_config(&self, access: Access) -> Result<kube::Config> {
        if self.kubeconfig.access(access).is_none() {
            let offered: Vec<String> = self
                .kubeconfig
                .available_access()
                .iter()
                .map(ToString::to_string)
                .collect();
            return Err(Error::invalid(
                "access",
                format!(
                    "the kubeconfig has no {access} context (it offers: {})",
                    offered.join(", ")
                ),
            ));
        }
        let json = serde_json::to_value(&self.kubeconfig).map_err(|e| Error::Config {
            message: "cannot convert the kubeconfig for kube-rs".into(),
            source: Some(Box::new(e)),
        })?;
        let file: KubeFile = serde_json::from_value(json).map_err(|e| Error::Config {
            message: "kube-rs does not accept the kubeconfig".into(),
            source: Some(Box::new(e)),
        })?;
        let options = KubeConfigOptions {
            context: Some(access.context_name().to_owned()),
            ..KubeConfigOptions::default()
        };
        kube::Config::from_custom_kubeconfig(file, &options)
            .await
            .map_err(|e| Error::Config {
                message: format!("kube-rs cannot use the {access} context"),
                source: Some(Box::new(e)),
            })
    }
}

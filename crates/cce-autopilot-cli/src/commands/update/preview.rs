//! What `update --dry-run` merges instead of a fetched answer: no certificate is asked for. The servers come
//! from the cluster list (when it could be had), the accesses from its endpoints (else from `--access`,
//! internal by default); the CA, certificate and key are placeholders, which the dry-run report shows as
//! omitted data anyway. Entry names, files, renames and collisions are exactly those of the real run.

use base64::Engine as _;
use cce_autopilot::Access;
use cce_autopilot::model::{
    AnswerCluster, AnswerContext, AnswerNamedCluster, AnswerNamedContext, AnswerNamedUser,
    AnswerUser, Kubeconfig,
};

use super::Resolved;
use crate::args::AccessArg;

/// The server of an access the cluster list did not give.
const UNKNOWN_SERVER: &str = "https://not-fetched-in-a-dry-run.invalid";

/// An answer shaped like the service's for `cluster`, without its secrets.
pub fn answer(cluster: &Resolved, wanted: Option<AccessArg>) -> Kubeconfig {
    let placeholder = base64::engine::general_purpose::STANDARD.encode("not fetched in a dry run");
    let listed = |access: Access| {
        cluster.cluster.as_ref().and_then(|c| {
            c.endpoints
                .iter()
                .find(|e| e.access == Some(access))
                .map(|e| e.url.clone())
        })
    };
    // Every answer has the internal access; the external one when the cluster has a public endpoint: the
    // list says so, else (no list) the user's --access is taken at its word.
    let external = match &cluster.cluster {
        Some(_) => listed(Access::External).is_some(),
        None => matches!(wanted, Some(AccessArg::External | AccessArg::Both)),
    };
    let mut accesses = vec![Access::Internal];
    if external {
        accesses.push(Access::External);
    }
    let mut answer = Kubeconfig {
        kind: Some("Config".to_owned()),
        api_version: Some("v1".to_owned()),
        ..Kubeconfig::default()
    };
    answer.users.push(AnswerNamedUser {
        name: "user".to_owned(),
        user: AnswerUser {
            client_certificate_data: Some(placeholder.clone()),
            client_key_data: Some(placeholder.clone()),
            ..AnswerUser::default()
        },
        ..AnswerNamedUser::default()
    });
    for access in &accesses {
        let external = *access == Access::External;
        answer.clusters.push(AnswerNamedCluster {
            name: access.cluster_name().to_owned(),
            cluster: AnswerCluster {
                server: listed(*access).unwrap_or_else(|| UNKNOWN_SERVER.to_owned()),
                // As the service answers: the CA on the internal entry, the external one insecure.
                certificate_authority_data: (!external).then(|| placeholder.clone()),
                insecure_skip_tls_verify: external.then_some(true),
                ..AnswerCluster::default()
            },
            ..AnswerNamedCluster::default()
        });
        answer.contexts.push(AnswerNamedContext {
            name: access.context_name().to_owned(),
            context: AnswerContext {
                cluster: access.cluster_name().to_owned(),
                user: "user".to_owned(),
                ..AnswerContext::default()
            },
            ..AnswerNamedContext::default()
        });
    }
    answer.current_context = accesses.last().map(|a| a.context_name().to_owned());
    answer
}

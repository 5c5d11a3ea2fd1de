//! The seam between the generated client and ours: progenitor's `exec` hook hands every attempt of a
//! generated operation to [`crate::pipeline`], the one path all of the client's requests take.
//!
//! Per-call values (how this call authenticates, what its attempts saw) travel in a task-local
//! [`CallContext`] set by the client around the generated call, because progenitor's hooks only see the
//! request and the shared client. A generated call without that context is refused before anything is sent.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use progenitor_client::{ClientHooks, OperationInfo};

use crate::generated::Client as Generated;
use crate::pipeline::{AuthMode, CallAuth, Failure, Outcome, Transport};

/// State shared by every call of one client (the generated client's "inner" value).
#[derive(Clone, Debug)]
pub(crate) struct Inner(pub(crate) Arc<Shared>);

/// What every call of one client shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) auth: AuthMode,
    pub(crate) transport: Transport,
}

/// What one call carries through the hooks.
#[derive(Clone, Debug)]
pub(crate) struct CallContext {
    pub(crate) auth: CallAuth,
    pub(crate) outcome: Arc<Mutex<Outcome>>,
}

tokio::task_local! {
    pub(crate) static CALL: CallContext;
}

/// The status of the stand-in answer `exec` returns for a refused call; never sent by a server we talk to
/// (the mapping to an error reads the refusal from the call's outcome first).
const REFUSED_STATUS: u16 = 599;

impl ClientHooks<Inner> for Generated {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        if CALL.try_with(|_| ()).is_err() {
            return Err(progenitor_client::Error::Custom(
                "refused: the generated client was called outside cce_autopilot::Client, so the request \
                 cannot be authenticated; nothing was sent"
                    .into(),
            ));
        }
        let headers = request.headers_mut();
        // progenitor adds `api-version`, which the service does not define and the official SDKs never send.
        headers.remove("api-version");
        // The official SDKs send (and sign) `Content-Type: application/json` on bodiless GETs too.
        headers.entry(reqwest::header::CONTENT_TYPE).or_insert(
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let Ok(ctx) = CALL.try_with(Clone::clone) else {
            // `pre` refused such a call already; never send it unauthenticated.
            return Ok(refused_answer());
        };
        let mut outcome = Outcome::default();
        let result = self
            .inner
            .0
            .transport
            .send(request, &ctx.auth, info.operation_id, &mut outcome)
            .await;
        *lock(&ctx.outcome) = outcome;
        match result {
            Ok(response) => Ok(response),
            Err(Failure::Refused(_) | Failure::Rejected(_)) => Ok(refused_answer()),
            Err(Failure::Transport(e)) => Err(e),
        }
    }
}

/// What `exec` returns for a call it refused (no request was made) or whose answer it would not use; the
/// reason is in the call's outcome.
fn refused_answer() -> reqwest::Response {
    let mut answer = http::Response::new(bytes::Bytes::from_static(b"{}"));
    *answer.status_mut() =
        http::StatusCode::from_u16(REFUSED_STATUS).unwrap_or(http::StatusCode::FORBIDDEN);
    reqwest::Response::from(answer)
}

pub(crate) fn lock(outcome: &Mutex<Outcome>) -> MutexGuard<'_, Outcome> {
    outcome.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use crate::{CertDuration, Client, Credentials, Environment};

    #[tokio::test]
    async fn a_generated_call_without_its_context_is_refused_and_nothing_is_sent() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok(_connection) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let client = Client::builder()
            .environment(Environment::empty())
            .endpoint(&url)
            .project_id("p")
            .credentials(Credentials::new("AK", "SK"))
            .build()
            .unwrap();
        // The generated client called directly, outside `Client`'s call context.
        let result = client
            .generated
            .create_autopilot_kubernetes_cluster_cert()
            .project_id("p")
            .cluster_id("c")
            .body(CertDuration::days(1).unwrap())
            .send()
            .await;
        let err = result.expect_err("refused");
        assert!(err.to_string().contains("nothing was sent"), "{err}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(seen.load(Ordering::SeqCst), 0, "nothing reached the server");
    }
}

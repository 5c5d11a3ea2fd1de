//! A local, faithful stand-in for Huawei Cloud CCE Autopilot's "get cluster certificate" API, with the
//! pieces a real client meets around it: the API gateway's AK/SK and token authentication, the IAM project
//! lookup, the ECS metadata credential service, and an mTLS Kubernetes API-server stub per cluster that
//! accepts the certificates the API hands out. What LocalStack is to AWS users, for this one API.
//!
//! ```
//! use cce_autopilot_emulator::{Emulator, demo_banner};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emu = Emulator::builder()          // the demo set-up: cn-north-4, demo AK/SK, two clusters
//!     .cluster("my-private-cluster")     // ...or your own clusters
//!     .public_cluster("my-public-cluster")
//!     .start()
//!     .await?;
//! assert!(emu.url().starts_with("http://127.0.0.1:"));
//! let banner = demo_banner(&emu);
//! assert_eq!(banner.lines().next(), Some(emu.url()));
//! emu.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! [`EmulatorBuilder::start`] serves on the caller's Tokio runtime. Tests that block their thread (say, on a
//! CLI process that calls the emulator) use [`EmulatorBuilder::start_background`], which gives the
//! emulator a runtime of its own and works from synchronous code too.
//!
//! # Routes (all on [`EmulatorHandle::url`])
//! IAM's and STS's identity calls and pod identity, served with an identity file
//! ([`EmulatorBuilder::identity_file`]), are documented in the crate's README.
//! - `POST /autopilot/v3/projects/{project_id}/clusters/{cluster_id}/clustercert`: body `{"duration": n}`,
//!   answers the kubeconfig of the vendor document (Jackson-style pretty JSON, `Content-Type:
//!   application/json;charset=UTF-8`, `Port-ID` header: a UUID-shaped id derived from the cluster ID).
//!   A private cluster gets `clusters: [internalCluster]`, `contexts: [internal]`,
//!   `current-context: internal`; a public one also `externalCluster` (`insecure-skip-tls-verify: true`,
//!   no CA data, an address the server certificate does not name) and `external`, which is then current.
//! - `GET /autopilot/v3/projects/{project_id}/clusters` (query `status`, `version`, `type`, `detail`) and
//!   `GET …/clusters/{cluster_id}` (query `detail`): the clusters, shaped like the official SDK's
//!   `AutopilotCluster` (name, uid, alias, phase, version, `Internal`/`External` endpoints); an unknown id
//!   is the CCE 404 below. Authenticated like the certificate call.
//! - `GET /v3/projects?name=<region>`: IAM, Keystone shape; the emulator's project for its region, none for
//!   another name, more with [`EmulatorBuilder::iam_project`]; `X-IAM-Trace-Id` header.
//! - `PUT /meta-data/latest/api/token` (needs `X-Metadata-Token-Ttl-Seconds`, 1..=21600) answers a token
//!   as text; `GET /openstack/latest/securitykey` (needs that `X-Metadata-Token`) answers
//!   `{"credential": {"access", "secret", "securitytoken", "expires_at"}}`: new temporary credentials per
//!   call, valid for [`EmulatorBuilder::temporary_credentials_ttl`].
//!
//! Every answer, errors and unknown routes included, carries a fresh `X-Request-Id` (32 hex digits) and a
//! `Date` from the emulator's clock; error bodies are `{"error_code", "error_msg", "request_id"}`.
//!
//! # Authentication (CCE and IAM routes)
//! - An `Authorization` header is verified with [`cce_autopilot_signing::verify`] (`SDK-HMAC-SHA256` or
//!   `V11-HMAC-SHA256`, whose scope region must be the emulator's) over whatever `SignedHeaders` lists,
//!   with the headers as received (so `Host` is the emulator's `127.0.0.1:<port>`).
//! - `X-Sdk-Date` more than 15 minutes from the emulator's clock: 401 `APIGW.0301`, message
//!   "... signature expired ...". The clock can run ahead or behind ([`EmulatorBuilder::clock_offset_secs`],
//!   [`EmulatorHandle::set_clock_offset_secs`]) to simulate client skew.
//! - Temporary credentials (from the metadata service) need `X-Security-Token` with their token, and that
//!   header must be among the signed headers, as the SDKs send it; they stop working at `expires_at`.
//!   A security token sent with a permanent AK is ignored.
//! - Without `Authorization`, an `X-Auth-Token` must be one of [`EmulatorBuilder::token`]'s values.
//!
//! # Error codes
//! | status | code | when |
//! |---|---|---|
//! | 401 | `APIGW.0301` | no authentication; malformed `Authorization`; unknown AK; bad signature; `X-Sdk-Date` missing, unsigned or skewed > 15 min; V11 scope of another region; temporary AK expired, without, with an unsigned, or with a wrong `X-Security-Token` |
//! | 401 | `APIGW.0307` | unknown `X-Auth-Token` ("The token must be updated.") |
//! | 404 | `APIGW.0101` | no such route or method |
//! | 429 | `APIGW.0308` | injected throttling, with `Retry-After` |
//! | 503 | `APIGW.0203` | injected unavailability, with `Retry-After` |
//! | 403 | `CCE.01403001` | path project ID is not the emulator's, or `X-Project-Id` differs from it |
//! | 400 | `CCE.01400006` | `Content-Type` missing or not `application/json`, `application/json;charset=utf-8` (any case, spaces around `;`) or `application/x-pem-file`; `multipart/form-data` too, as this operation has no form parameters |
//! | 400 | `CCE.01400001` | body not JSON (malformed JSON included), not an object, no `duration`, `duration` not an integer, or not `-1`/`1..=1827`, or more days than five calendar years from today (1826 when one leap day falls in them) |
//! | 403 | `CCE.01403002` | list or show, when the credentials may not list clusters ([`EmulatorBuilder::deny_cluster_listing`]) |
//! | 404 | `CCE.01404001` | unknown cluster |
//! | 500 | `CCE.01500001` | the emulator failed to issue a certificate |
//! | 400/401/404 | `ECS.METADATA.0400`/`0401`/`0404` | metadata: bad TTL header / bad or missing metadata token, or no agency ("Please configure Cloud Service Agency first") / no token service |
//!
//! Checks run in this order: injected faults (as at the gateway, before authentication), authentication,
//! project, `Content-Type`, body, cluster.
//!
//! # Certificates
//! Each cluster has its own CA (ECDSA P-256, CN `kubernetes`, O `cce-autopilot-emulator`, OU the cluster
//! ID, valid ten years), made at start, or kept in [`EmulatorBuilder::state_dir`]. Each call issues a new
//! ECDSA P-256 key and a certificate with CN = the caller (its `principal_id` with an identity file,
//! see the README; else the access key, or `token-user-<n>` for the n-th token) and O = `system:masters`, with client-auth usage. It is backdated one minute for clients
//! whose clock is behind: `not_before` = now − 1 min and `not_after` = `not_before` + `duration` days, so the
//! validity is exactly `duration` days; `-1` gives five calendar years (1826 or 1827 days, depending on
//! the leap days in between; 29 February maps to 28 February). The `*-data` fields are base64 of PEM.
//!
//! # API-server stubs
//! Each cluster's stub listens on `https://127.0.0.1:<port>` (the `internalCluster` server) with a server
//! certificate from the cluster CA naming `127.0.0.1`, `localhost` and `kubernetes[.default[.svc[.cluster.local]]]`.
//! A public cluster's `externalCluster` server is `https://127.0.0.2:<port>`, an address the certificate
//! does not name (another port on `127.0.0.1` where `127.0.0.2` cannot be bound). A client certificate from
//! the cluster's CA is required (checked on the emulator's clock). The stub answers what clients ask first
//! as an API server does: `GET /version` and `/version/`, `/healthz`, `/livez`, `/readyz` (text `ok`),
//! discovery (`/api`, `/api/v1`, `/apis`, `/apis/authentication.k8s.io[/v1]`), and
//! `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (`kubectl auth whoami`: the client
//! certificate's CN as the user, its O values and `system:authenticated` as the groups); anything else is a
//! Kubernetes `Status` (404 `NotFound`, 405 `MethodNotAllowed`). It records the CN of each accepted client
//! ([`EmulatorHandle::accepted_clients`]).
//!
//! # Limits
//! A request head, a request body or a stub's TLS handshake that has not arrived within the read time-out
//! ([`EmulatorBuilder::read_timeout`], default 10 s; `emulator serve --read-timeout`) closes the connection
//! without an answer, and a body declared larger than 1 MiB is refused at once (400 `CCE.01400001`). At most
//! [`EmulatorBuilder::max_connections`] connections (default 512) are served at once, so that slow clients
//! hold the emulator no longer than the read time-out.
//!
//! # Faults
//! [`Faults`] adds latency, refuses calls with 429/503 and `Retry-After`, drops connections without an
//! answer, or truncates answers (full `Content-Length`, half the body), for the first N calls or a seeded
//! random share of them; set them with [`EmulatorBuilder::faults`] or [`EmulatorHandle::set_faults`], or
//! write them as text with [`Faults::with_spec`] (what `emulator serve --fault` takes).
//! [`EmulatorHandle::requests`] logs every call with its status, request id and fault.

mod api;
mod builder;
mod clock;
pub mod codes;
mod error;
mod fault_spec;
mod faults;
mod fleet;
mod handle;
mod identity;
mod launch;
mod pki;
mod serve;
mod state;
mod stub;
mod stub_api;
mod wire;

pub use builder::{Emulator, EmulatorBuilder};
pub use error::{BoxError, EmulatorError, Result};
pub use faults::{FaultKind, FaultScope, Faults, RejectStatus, Trigger};
pub use fleet::{FLEET_REGIONS, FleetSize, MAX_FLEET_CLUSTERS};
pub use handle::{EmulatorHandle, demo_banner};
pub use identity::file::DEFAULT_ACCOUNT_ID;
pub use state::RequestRecord;
pub use wire::WireShape;

/// The demo set-up that [`Emulator::builder`] starts from.
pub mod demo {
    /// The region.
    pub const REGION: &str = "cn-north-4";
    /// The project ID (the one of the signing test vectors).
    pub const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
    /// The access key (the one of the signing test vectors).
    pub const ACCESS_KEY: &str = "HPUAEXAMPLEAK00000001";
    /// The secret key (the one of the signing test vectors). Not a secret: a demo value.
    pub const SECRET_KEY: &str = "exampleSecretKey0000000000000000000000000";
    /// The accepted `X-Auth-Token`.
    pub const TOKEN: &str = "demo-iam-token-cce-autopilot-emulator";
    /// The cluster without a public IP (the one of the signing test vectors).
    pub const PRIVATE_CLUSTER_ID: &str = "3f0c9a1e-2b4d-4c6e-8f10-123456789abc";
    /// The cluster with a public IP.
    pub const PUBLIC_CLUSTER_ID: &str = "7b2e4d6a-9c1f-4e3b-a5d8-0f1e2d3c4b5a";
    /// The name of the cluster without a public IP.
    pub const PRIVATE_CLUSTER_NAME: &str = "demo-private";
    /// The name of the cluster with a public IP.
    pub const PUBLIC_CLUSTER_NAME: &str = "demo-public";
    /// The Kubernetes version every cluster has unless configured otherwise.
    pub const CLUSTER_VERSION: &str = "v1.31";
    /// The Kubernetes version the API-server stubs report (`gitVersion` of `/version`).
    pub const KUBERNETES_VERSION: &str = crate::stub::GIT_VERSION;
}

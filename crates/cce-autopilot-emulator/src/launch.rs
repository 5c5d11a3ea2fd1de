//! Starting a configured emulator: its listeners, the cluster CAs and API-server stubs, the shared state.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;

use crate::builder::{EmulatorBuilder, hex_digest};
use crate::clock::Clock;
use crate::error::{EmulatorError, Result};
use crate::faults::FaultState;
use crate::handle::EmulatorHandle;
use crate::identity::{IdentityWorld, Principal, derived_id};
use crate::pki::ClusterCa;
use crate::serve::{Limits, serve_http};
use crate::state::{Cluster, Credential, IamProject, MetadataConfig, RequestLog, Shared};
use crate::stub::{serve_stub, tls_acceptor};

impl EmulatorBuilder {
    /// Binds the listeners, creates (or loads) the cluster CAs, and starts serving.
    pub async fn start(self) -> Result<EmulatorHandle> {
        self.validate()?;
        let clock = Clock::new(self.clock_offset_secs);
        let listener = bind(self.listen).await?;
        let local = local_addr(&listener, self.listen)?;
        let base_url = format!("http://{}", connectable(local));

        let mut clusters = Vec::new();
        let mut stubs = Vec::new();
        let names = self.cluster_names();
        for (config, name) in self.clusters.iter().zip(names) {
            let (id, public) = (&config.id, &config.public);
            let now = clock.now();
            let ca = match &self.state_dir {
                Some(dir) => ClusterCa::load_or_create(dir, id, now)?,
                None => ClusterCa::generate(id, now)?,
            };
            let acceptor = tls_acceptor(id, &ca, &clock)?;
            let internal_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
            let internal = bind(internal_addr).await?;
            let internal_url = format!("https://{}", local_addr(&internal, internal_addr)?);
            let external = if *public {
                Some(bind_external().await?)
            } else {
                None
            };
            let external_url = match &external {
                Some((listener, asked)) => {
                    Some(format!("https://{}", local_addr(listener, *asked)?))
                }
                None => None,
            };
            let cluster = Arc::new(Cluster {
                id: id.clone(),
                project_id: config
                    .project_id
                    .clone()
                    .unwrap_or_else(|| self.project_id.clone()),
                name,
                alias: config.alias.clone(),
                version: config.version.clone(),
                phase: Mutex::new(config.phase.clone()),
                created: now,
                deleted: Default::default(),
                public: *public,
                ca,
                port_id: port_id(id),
                internal_url,
                external_url,
                issued: Default::default(),
                accepted_clients: Mutex::default(),
                accepted_serials: Mutex::default(),
                rejected_handshakes: Default::default(),
            });
            stubs.push((internal, acceptor.clone(), cluster.clone()));
            if let Some((listener, _)) = external {
                stubs.push((listener, acceptor, cluster.clone()));
            }
            clusters.push(cluster);
        }

        let mut iam_projects = vec![IamProject {
            name: self.region.clone(),
            id: self.project_id.clone(),
        }];
        iam_projects.extend(self.iam_projects.iter().map(|(name, id)| IamProject {
            name: name.clone(),
            id: id.clone(),
        }));
        let identity = match &self.identity_file {
            Some(path) => Some(crate::identity::file::load(path).map_err(|reason| {
                EmulatorError::InvalidConfig {
                    reason: format!("identity file {reason}"),
                }
            })?),
            None => None,
        };
        let credentials = self.permanent_credentials(identity.as_ref());
        let shared = Arc::new(Shared {
            base_url: base_url.clone(),
            region: self.region.clone(),
            project_id: self.project_id.clone(),
            domain_id: hex_digest("domain", &self.project_id)[..32].to_owned(),
            iam_projects,
            credentials: Mutex::new(credentials),
            tokens: self.tokens.clone(),
            clusters,
            deny_cluster_listing: self.deny_cluster_listing.into(),
            clock,
            faults: Mutex::new(FaultState::new(self.faults.clone())),
            log: Mutex::new(RequestLog::default()),
            metadata: MetadataConfig {
                token_service: self.metadata_token_service,
                agency: self.metadata_agency,
                credential_ttl: time::Duration::try_from(self.credential_ttl)
                    .unwrap_or(time::Duration::hours(6)),
            },
            metadata_tokens: Mutex::default(),
            read_timeout: self.read_timeout,
            identity,
            subject_tokens: Mutex::default(),
            metadata_current: Mutex::default(),
            admin: self.admin,
        });

        let limits = Limits::new(self.read_timeout, self.max_connections);
        let mut tasks = vec![tokio::spawn(serve_http(
            listener,
            crate::api::router(shared.clone()),
            limits.clone(),
        ))];
        for (listener, acceptor, cluster) in stubs {
            tasks.push(tokio::spawn(serve_stub(
                listener,
                acceptor,
                cluster,
                limits.clone(),
            )));
        }
        tracing::info!(url = %base_url, "CCE Autopilot emulator listening");
        let (access_key, secret_key) = self.credentials[0].clone();
        Ok(EmulatorHandle::new(
            shared,
            local,
            base_url,
            tasks,
            access_key,
            secret_key,
            self.clusters.iter().map(|c| c.id.clone()).collect(),
        ))
    }

    /// Starts the emulator on a runtime of its own (one worker thread), for synchronous tests and for
    /// tests that block their thread, e.g. waiting for a CLI process (`assert_cmd`) that calls the emulator:
    /// an emulator started with [`start`](Self::start) on a single-threaded test runtime would stall
    /// while the test blocks. May be called inside or outside a Tokio runtime; dropping the handle stops
    /// the runtime.
    pub fn start_background(self) -> Result<EmulatorHandle> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cce-autopilot-emulator")
            .enable_all()
            .build()
            .map_err(|source| EmulatorError::Runtime { source })?;
        let (sender, receiver) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            let _ = sender.send(self.start().await);
        });
        let started = receiver.recv().map_err(|_| EmulatorError::Runtime {
            source: std::io::Error::other("the emulator's runtime stopped while starting"),
        });
        match started {
            Ok(Ok(handle)) => Ok(handle.with_runtime(runtime)),
            Ok(Err(err)) | Err(err) => {
                runtime.shutdown_background();
                Err(err)
            }
        }
    }
}

impl EmulatorBuilder {
    /// The permanent keys: the builder's (of user `demo` unless the identity file lists them) and the
    /// identity file's users' (their `secret_keys`, else the builder's first secret key).
    fn permanent_credentials(
        &self,
        world: Option<&IdentityWorld>,
    ) -> std::collections::HashMap<String, Credential> {
        let mut keys = std::collections::HashMap::new();
        for (ak, sk) in &self.credentials {
            let principal = match world {
                None => Principal::Key(ak.clone()),
                Some(world) => match world.user_of(ak) {
                    Some(user) => Principal::User {
                        name: user.name.clone(),
                        id: user.id.clone(),
                    },
                    None => Principal::User {
                        name: "demo".to_owned(),
                        id: derived_id(world.account_id(), "user", "demo"),
                    },
                },
            };
            let credential = Credential {
                secret: sk.clone(),
                principal,
                temporary: None,
            };
            keys.insert(ak.clone(), credential);
        }
        for user in world.map_or(&[][..], |w| &w.users[..]) {
            for (ak, sk) in &user.keys {
                let secret = match sk {
                    Some(sk) => cce_autopilot_signing::SecretKey::from(sk.clone()),
                    None if keys.contains_key(ak) => continue,
                    None => self.credentials[0].1.clone(),
                };
                let principal = Principal::User {
                    name: user.name.clone(),
                    id: user.id.clone(),
                };
                let credential = Credential {
                    secret,
                    principal,
                    temporary: None,
                };
                keys.insert(ak.clone(), credential);
            }
        }
        keys
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })
}

fn local_addr(listener: &TcpListener, asked: SocketAddr) -> Result<SocketAddr> {
    listener.local_addr().map_err(|source| EmulatorError::Bind {
        addr: asked,
        source,
    })
}

/// The public address of a cluster: `127.0.0.2`, which the server certificate does not name (Linux routes
/// all of 127/8 to loopback); where that cannot be bound, another port on `127.0.0.1`.
async fn bind_external() -> Result<(TcpListener, SocketAddr)> {
    let preferred = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 0);
    match TcpListener::bind(preferred).await {
        Ok(listener) => Ok((listener, preferred)),
        Err(err) => {
            tracing::debug!(error = %err, "cannot bind 127.0.0.2; the public address falls back to 127.0.0.1");
            let fallback = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
            Ok((bind(fallback).await?, fallback))
        }
    }
}

/// An address a client can connect to: the wildcard address becomes loopback.
fn connectable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// A UUID-shaped id derived from the cluster ID, so it is the same on every call and every run.
fn port_id(cluster_id: &str) -> String {
    let h = hex_digest("port", cluster_id);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ids_are_stable_and_uuid_shaped() {
        let id = port_id("c1");
        assert_eq!(id, port_id("c1"));
        assert_ne!(id, port_id("c2"));
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
    }
}

//! `kubeconfig export`: one Kubernetes Secret per cluster, in the shape Argo CD, Flux or Cluster API reads
//! ([`secret`]); with `--renew-within` and `--from`, only the certificates that run out soon are issued
//! again and the other Secrets are written back as they were.

pub(crate) mod secret;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cce_autopilot::certificate::{Certificate, rfc3339};
use cce_autopilot::model::Kubeconfig;
use cce_autopilot::{Access, CertDuration};
use clap::Args;
use time::OffsetDateTime;

use crate::args::{
    DEFAULT_TIMEOUT, FleetArgs, GlobalArgs, one_access, parse_cert_duration, parse_duration,
    parse_namespace,
};
use crate::exit::{self, CliError};

use super::common::build_client;
use super::fleet::report::FleetReport;
use super::fleet::{self as fleets, Runner};
use super::update::fetch;
use super::update::select::{self, Planned};
use secret::{Credentials, Secret, SecretFormat};

/// `kubeconfig export`
///
/// Writes one Kubernetes Secret per cluster in the shape its consumer reads: Argo CD's cluster Secret
/// (tlsClientConfig with the cluster CA, never insecure), Flux's kubeconfig Secret (key `value`), or
/// Cluster API's <cluster>-kubeconfig. Each carries the labels cce-autopilot.io/owner and
/// cce-autopilot.io/cluster-id and the annotation cce-autopilot.io/expires-at; the same certificates give
/// the same bytes. Apply them with `kubectl apply --server-side -f FILE`. With --renew-within and --from
/// (an earlier export, or `kubectl get secret -l cce-autopilot.io/owner=cce-autopilot -o yaml`), only the
/// certificates that expire within the window are issued again.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Whose shape: argocd, flux or capi.
    #[arg(long, value_enum)]
    pub format: SecretFormat,
    /// The cluster: its name, alias or id (repeatable).
    #[arg(
        long,
        visible_alias = "cluster-id",
        value_name = "NAME|ID",
        required_unless_present = "all"
    )]
    pub cluster: Vec<String>,
    /// Every cluster of the project, or of every project the fleet options select (only --status).
    #[arg(long, conflicts_with = "cluster")]
    pub all: bool,
    /// With --all: the phase of the clusters to export.
    #[arg(
        long,
        value_name = "PHASE",
        default_value = "Available",
        requires = "all"
    )]
    pub status: String,
    /// The Secrets' namespace [default: argocd, flux-system or default].
    #[arg(long, value_name = "NAMESPACE", value_parser = parse_namespace)]
    pub namespace: Option<String>,
    /// The endpoint the Secrets name [default: external with --tls-server-name when the cluster has one,
    /// else internal].
    #[arg(long, value_name = "ACCESS", value_parser = one_access())]
    pub access: Option<Access>,
    /// The name to expect in the API server's certificate (e.g. kubernetes): required for the external
    /// endpoint, which the service serves without one; optional for the internal one.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub tls_server_name: Option<String>,
    /// Certificate validity in days (1-1827, -1 or max for five years).
    #[arg(long, value_name = "DAYS", default_value = "30", allow_hyphen_values = true, value_parser = parse_cert_duration)]
    pub duration: CertDuration,
    /// Issue again only the certificates that expire within this (e.g. 7d); the others are kept from --from.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "from")]
    pub renew_within: Option<Duration>,
    /// The earlier export (or `kubectl get secret … -o yaml`) that --renew-within keeps Secrets from.
    #[arg(long, value_name = "FILE", requires = "renew_within")]
    pub from: Option<PathBuf>,
    /// Write to this file (0600, atomically) instead of stdout; `-` is stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    // Last: its help heading would take the options that follow it.
    /// The regions and projects of --all, and the calls in flight.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Exports; 0, or 8 when some clusters failed and the others were written.
pub async fn run(global: &GlobalArgs, args: ExportArgs) -> anyhow::Result<crate::exit::Exit> {
    fleets::check(global, &args.fleet)?;
    if args.fleet.is_fleet() && !args.all {
        return Err(
            CliError::usage("the fleet options select the clusters of --all: add --all").into(),
        );
    }
    // The earlier export is read before anything is asked of the service.
    let previous = match &args.from {
        Some(path) => previous(path, args.format)?,
        None => HashMap::new(),
    };
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| args.format.default_namespace().to_owned());
    let client = build_client(
        &fleets::base(global, &args.fleet),
        global.timeout_or(DEFAULT_TIMEOUT),
    )?;
    let (targets, skipped) = fleets::targets(global, &args.fleet, &client).await?;
    if !skipped.is_empty() {
        let regions: Vec<String> = skipped
            .iter()
            .map(|s| crate::text::field(&s.region).into_owned())
            .collect();
        say!(
            "note: {} skipped ({}): {}",
            super::report::plural(regions.len(), "region"),
            skipped[0].reason,
            regions.join(", ")
        );
    }
    let runner = Runner::new(args.fleet.concurrency, args.all || args.cluster.len() > 1);
    let mut notes = Vec::new();
    // A fleet's project that cannot be listed fails that project, not the run.
    let mut fleet = args.fleet.is_fleet().then(FleetReport::default);
    let all = args.all.then_some(args.status.as_str());
    let planned: Vec<Planned> = select::clusters(
        &targets,
        all,
        &args.cluster,
        &runner,
        fleet.as_mut(),
        &mut notes,
    )
    .await?;
    for note in &notes {
        say!("{note}");
    }
    let mut failures: Vec<(String, anyhow::Error)> = Vec::new();
    // Names first: two clusters of one name are refused before any certificate is issued; a name that
    // cannot be a Secret's or a label's fails its cluster.
    let mut names: BTreeMap<String, &Planned> = BTreeMap::new();
    let mut named: Vec<(&Planned, String)> = Vec::with_capacity(planned.len());
    for p in &planned {
        let base = secret::dns_part(p.resolved.name.as_deref().unwrap_or(&p.resolved.id));
        let name = match &targets[p.target].project {
            Some(project) => format!("{}-{base}", secret::dns_part(project)),
            None => base,
        };
        if name.is_empty()
            || !secret::label_value_ok(&name)
            || !secret::label_value_ok(&p.resolved.id)
        {
            let why = "its name or id cannot name a Secret or a label (63 characters of [a-z0-9-])";
            failures.push((p.resolved.id.clone(), CliError::usage(why).into()));
            continue;
        }
        if let Some(other) = names.insert(name.clone(), p) {
            return Err(CliError::usage(format!(
                "clusters {} and {} would both be exported as {name}",
                crate::text::field(&other.resolved.id),
                crate::text::field(&p.resolved.id)
            ))
            .into());
        }
        named.push((p, name));
    }
    let now = OffsetDateTime::now_utc();
    let horizon = args
        .renew_within
        .and_then(|w| time::Duration::try_from(w).ok())
        .map(|w| now + w);
    // What the earlier export holds for each cluster, rebuilt as this run writes it; and when it expires.
    let earlier = |p: &Planned, name: &str| {
        let old = previous.get(&(namespace.clone(), args.format.secret_name(name)))?;
        (old.ours() == Some(p.resolved.id.as_str())).then_some(())?;
        kept_secret(old, args.format, &namespace, name, &p.resolved.id)
    };
    let (mut secrets, mut kept) = (Vec::new(), 0usize);
    let mut calls = Vec::new();
    for (p, name) in &named {
        match (earlier(p, name), horizon) {
            (Some((secret, expires)), Some(horizon)) if expires > horizon => {
                secrets.push(secret);
                kept += 1;
            }
            _ => calls.push((*p, name.clone())),
        }
    }
    let pairs: Vec<_> = calls
        .iter()
        .map(|(p, _)| (targets[p.target].client.clone(), p.resolved.id.clone()))
        .collect();
    let fetched = fetch::fetch_all(&runner, &pairs, args.duration).await;
    runner.finish();
    let (mut issued, mut kept_notes) = (0usize, Vec::new());
    for (answer, (p, name)) in fetched.into_iter().zip(&calls) {
        let id = &p.resolved.id;
        let built = answer.result.and_then(|cert| {
            crate::commands::expiry::check_fresh_answer(&cert.kubeconfig, id, now)?;
            build(&args, &namespace, name, id, &cert.kubeconfig)
        });
        match built {
            Ok(s) => {
                secrets.push(s);
                issued += 1;
            }
            Err(e) => {
                // A renewal that failed leaves the earlier Secret as long as it is valid: dropping it would
                // take a working cluster out of a GitOps repository.
                if let Some((secret, expires)) = earlier(p, name).filter(|(_, t)| *t > now) {
                    secrets.push(secret);
                    kept += 1;
                    kept_notes.push(format!(
                        "cluster {id}: the earlier Secret is kept until {}",
                        rfc3339(expires)
                    ));
                }
                failures.push((id.clone(), e));
            }
        }
    }
    for (id, e) in &failures {
        say!("error: {}", fetch::failure_line(id, e));
    }
    if let Some(report) = &fleet {
        for p in &report.failed_projects {
            say!(
                "error: project {} ({}): {}",
                crate::text::field(p.project.as_deref().unwrap_or("-")),
                crate::text::field(p.region.as_deref().unwrap_or("-")),
                crate::text::one_line(&p.error)
            );
        }
    }
    let partial = !failures.is_empty() || fleet.as_ref().is_some_and(FleetReport::failed);
    if secrets.is_empty() && !failures.is_empty() {
        let (id, e) = failures.remove(0);
        return Err(CliError {
            code: exit::code_for(&e),
            message: fetch::failure_line(&id, &e),
        }
        .into());
    }
    let text = secret::write_all(&mut secrets)
        .map_err(|e| CliError::file(format!("cannot write the Secrets: {e}")))?;
    match args.output.as_deref().filter(|p| *p != Path::new("-")) {
        Some(path) => {
            super::get::write_output(path, text.as_bytes())?;
        }
        None => super::common::print_stdout(&text)?,
    }
    for note in &kept_notes {
        say!("note: {note}");
    }
    say!(
        "exported {} ({issued} issued, {kept} kept from {})",
        super::report::plural(secrets.len(), "Secret"),
        args.from
            .as_deref()
            .map_or_else(|| "-".into(), |p| p.display().to_string())
    );
    Ok(if partial { exit::PARTIAL } else { exit::OK })
}

/// Our Secrets of `format` in the earlier export at `path`, by namespace and name.
fn previous(
    path: &Path,
    format: SecretFormat,
) -> anyhow::Result<HashMap<(String, String), Secret>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::file(format!("cannot read {}: {e}", path.display())))?;
    let secrets = secret::read_all(&text)
        .map_err(|e| CliError::file(format!("{}: {}", path.display(), crate::text::field(&e))))?;
    Ok(secrets
        .into_iter()
        .filter(|s| s.format() == Some(format))
        .map(|s| ((s.metadata.namespace.clone(), s.metadata.name.clone()), s))
        .collect())
}

/// An earlier Secret of the cluster rebuilt as this run writes it (its namespace and name, no metadata of
/// another tool), and when its certificate expires — read from the certificate, not the annotation.
fn kept_secret(
    old: &Secret,
    format: SecretFormat,
    namespace: &str,
    name: &str,
    cluster_id: &str,
) -> Option<(Secret, OffsetDateTime)> {
    let parts = old.parts()?;
    let expires = not_after(&parts.cert_data).ok()?;
    let secret = Secret::build(
        format,
        namespace,
        &Credentials {
            name,
            cluster_id,
            server: &parts.server,
            ca_data: &parts.ca_data,
            cert_data: &parts.cert_data,
            key_data: &parts.key_data,
            server_name: parts.server_name.as_deref(),
            expires_at: &rfc3339(expires),
        },
    )
    .ok()?;
    Some((secret, expires))
}

/// The end of validity of a base64 PEM client certificate (decoded as the answer's own field is).
fn not_after(cert_data: &str) -> Result<OffsetDateTime, CliError> {
    let user = cce_autopilot::model::AnswerUser {
        client_certificate_data: Some(cert_data.to_owned()),
        ..Default::default()
    };
    let pem = user
        .client_certificate_pem()
        .map_err(|e| CliError::service(e.to_string()))?
        .unwrap_or_default();
    Certificate::from_pem(&pem)
        .and_then(|c| c.not_after())
        .map_err(|e| CliError::service(format!("the client certificate: {e}")))
}

/// The Secret of one answer: its endpoint, the cluster CA, the certificate and key.
fn build(
    args: &ExportArgs,
    namespace: &str,
    name: &str,
    cluster_id: &str,
    kubeconfig: &Kubeconfig,
) -> anyhow::Result<Secret> {
    // The external endpoint can be verified only with the name its certificate holds: without one, the
    // internal endpoint (whose address the certificate names) is the default.
    let external = args.tls_server_name.is_some() && kubeconfig.external().is_some();
    let access = args.access.unwrap_or(if external {
        Access::External
    } else {
        Access::Internal
    });
    let entry = kubeconfig
        .access(access)
        .ok_or_else(|| CliError::usage(format!("it has no {access} endpoint")))?;
    let cluster = &entry.cluster.cluster;
    // The cluster CA: the entry's, else (an external endpoint served insecure) the internal one's.
    let ca = cluster
        .certificate_authority_data
        .clone()
        .or_else(|| {
            kubeconfig
                .internal()
                .and_then(|i| i.cluster.cluster.certificate_authority_data.clone())
        })
        .filter(|ca| !ca.trim().is_empty())
        .ok_or_else(|| CliError::service("the answer has no cluster CA"))?;
    let server_name = match (access, &args.tls_server_name) {
        (Access::External, None) => {
            return Err(CliError::usage(
                "its external endpoint is served without a name its certificate holds; pass \
                 --tls-server-name (e.g. kubernetes) or --access internal (a Secret is never insecure)",
            )
            .into());
        }
        (_, Some(name)) => Some(name.as_str()),
        (_, None) => None,
    };
    let user = &entry.user.user;
    let (Some(cert), Some(key)) = (&user.client_certificate_data, &user.client_key_data) else {
        return Err(CliError::service("the answer has no client certificate and key").into());
    };
    let not_after = not_after(cert)?;
    let expires_at = rfc3339(not_after);
    Secret::build(
        args.format,
        namespace,
        &Credentials {
            name,
            cluster_id,
            server: &cluster.server,
            ca_data: &ca,
            cert_data: cert,
            key_data: key,
            server_name,
            expires_at: &expires_at,
        },
    )
    .map_err(|e| CliError::file(e).into())
}

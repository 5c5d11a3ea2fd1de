//! `kubeconfig inspect`: what the client certificate of each context is worth — names, validity, whether
//! its key belongs to it and whether the cluster's CA signed it — read from the kubeconfig files kubectl
//! would read. Never prints key material.

mod report;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use clap::{Args, ValueEnum};
use time::OffsetDateTime;

use crate::exit::{self, CliError};
use cce_autopilot_kubeconfig::{
    Cluster, EntryKind, KubeconfigPaths, KubeconfigSet, NamedCluster, NamedContext, NamedUser,
    PathSource, User,
};

use cce_autopilot::certificate::{self, Certificate, rfc3339};
pub use report::{
    CertStatus, CertificateReport, ContextReport, CredentialKind, ExecReport, Report, days_phrase,
};

/// `kubeconfig inspect --help`.
pub const LONG_ABOUT: &str = "\
Check the client certificates of your kubeconfig: validity, key, CA (never prints keys).

Reads the files kubectl reads (--kubeconfig FILE, else every file of KUBECONFIG, merged by \
client-go's rules, else ~/.kube/config) and reports, for each context or the one named by \
--context, its user's client certificate: subject, issuer, serial, validity and days left; whether \
the client key belongs to it; whether the CA of the context's cluster signed it. Users with an exec \
plugin, a token or nothing are reported as such. Key material is never printed.

Warnings go to stderr, among them a certificate that expires within 7 days.

Exit codes: 0 done; 2 bad flags or an unknown --context; 6 a kubeconfig file that cannot be read \
or parsed; 7 a certificate has expired.";

/// `kubeconfig inspect`: which kubeconfig, which contexts, which format (see [`LONG_ABOUT`]).
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The kubeconfig file to read (default: the KUBECONFIG list, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Inspect only this context (default: every context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
    pub format: InspectFormat,
}

/// Output formats of `kubeconfig inspect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    /// For people.
    Text,
    /// A stable JSON document for scripts.
    Json,
}

/// Reads the kubeconfig files and inspects every context (or `--context`); prints the report and the
/// warnings (stderr). Exit code [`exit::EXPIRED`] when a certificate has expired.
pub fn run(args: InspectArgs) -> anyhow::Result<crate::exit::Exit> {
    let paths = KubeconfigPaths::resolve(
        args.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG").as_deref(),
        cce_autopilot_kubeconfig::platform::process_home().as_deref(),
    )?;
    let set = KubeconfigSet::load(&paths)?;
    // kubectl refuses a --kubeconfig that does not exist; a missing default file is just empty.
    if paths.source() == PathSource::Explicit && !set.files().iter().any(|f| f.exists()) {
        let path = paths.files()[0].display();
        return Err(CliError::file(format!(
            "kubeconfig file {path} does not exist; check the --kubeconfig path"
        ))
        .into());
    }
    let report = inspect(&set, args.context.as_deref(), OffsetDateTime::now_utc())?;
    match args.format {
        InspectFormat::Text => super::common::print_stdout(&report.to_text())?,
        InspectFormat::Json => super::common::print_stdout(&report.to_json())?,
    }
    for context in &report.contexts {
        for warning in &context.warnings {
            say!("warning: context {:?}: {warning}", context.name);
        }
    }
    Ok(if report.any_expired() {
        exit::EXPIRED
    } else {
        exit::OK
    })
}

/// Inspects the contexts of the merged view of `set` (only `only` when given) at time `now`.
pub fn inspect(
    set: &KubeconfigSet,
    only: Option<&str>,
    now: OffsetDateTime,
) -> anyhow::Result<Report> {
    let merged = set.merged();
    let contexts: Vec<&NamedContext> = match only {
        Some(name) => vec![
            merged
                .contexts
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        merged.contexts.iter().map(|c| c.name.as_str()).collect();
                    let files: Vec<String> = set
                        .paths()
                        .files()
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect();
                    CliError::usage(format!(
                        "no context named {name:?} in {}; the contexts are: {}",
                        files.join(", "),
                        if names.is_empty() {
                            "(none)".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ))
                })?,
        ],
        None => merged.contexts.iter().collect(),
    };
    // By name, once: a scan per context made a large file quadratic.
    let index = Index {
        clusters: merged
            .clusters
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect(),
        users: merged.users.iter().map(|u| (u.name.as_str(), u)).collect(),
        current: merged.current_context(),
    };
    let report = Report {
        contexts: contexts
            .into_iter()
            .map(|context| inspect_context(set, &index, context, now))
            .collect(),
    };
    Ok(report)
}

/// The merged view's clusters and users by name, and its current context.
struct Index<'a> {
    clusters: std::collections::HashMap<&'a str, &'a NamedCluster>,
    users: std::collections::HashMap<&'a str, &'a NamedUser>,
    current: Option<&'a str>,
}

fn inspect_context(
    set: &KubeconfigSet,
    index: &Index<'_>,
    context: &NamedContext,
    now: OffsetDateTime,
) -> ContextReport {
    let mut warnings = Vec::new();
    let cluster_name = context.context.cluster.clone().filter(|c| !c.is_empty());
    let user_name = context.context.user.clone().filter(|u| !u.is_empty());
    let cluster = cluster_name
        .as_deref()
        .and_then(|name| index.clusters.get(name).copied());
    let user = user_name
        .as_deref()
        .and_then(|name| index.users.get(name).copied());
    if let (Some(name), None) = (&cluster_name, cluster) {
        warnings.push(format!(
            "cluster {name:?} does not exist; kubectl cannot use this context"
        ));
    }
    if let (Some(name), None) = (&user_name, user) {
        warnings.push(format!(
            "user {name:?} does not exist; kubectl cannot use this context"
        ));
    }
    let insecure = cluster.is_some_and(|c| c.cluster.insecure_skip_tls_verify == Some(true));
    if let Some(cluster) = cluster.filter(|_| insecure) {
        warnings.push(format!(
            "cluster {:?} skips TLS verification (insecure-skip-tls-verify): whoever sits between you and its \
             server can read and change the traffic; for an entry of cce-autopilot, rerun `kubeconfig update \
             --tls-server-name kubernetes` to verify it with the cluster CA",
            cluster.name
        ));
    }
    let mut report = ContextReport {
        name: context.name.clone(),
        current: index.current == Some(context.name.as_str()),
        cluster: cluster_name,
        server: cluster.and_then(|c| c.cluster.server.clone()),
        insecure,
        user: user_name,
        credential: CredentialKind::None,
        exec: None,
        certificate: None,
        key_matches: None,
        ca_verifies: None,
        warnings,
    };
    let Some(user) = user else {
        return report;
    };
    let user_dir = origin_dir(set, EntryKind::User, &user.name);
    let user = &user.user;
    report.credential = credential_kind(user);
    report.exec = user.exec.as_ref().map(|exec| ExecReport {
        command: exec.command.clone(),
        api_version: exec.api_version.clone(),
    });

    let (certificate, source) = match client_certificate(user, user_dir.as_deref()) {
        Ok(Some(found)) => found,
        Ok(None) => return report,
        Err(e) => {
            report.warnings.push(e);
            return report;
        }
    };
    let facts = match certificate.facts() {
        Ok(facts) => facts,
        Err(e) => {
            report
                .warnings
                .push(format!("cannot read the client certificate: {e}"));
            return report;
        }
    };
    let cert = certificate_report(&facts, source, now);
    report.warnings.extend(validity_warning(&cert));
    report.certificate = Some(cert);

    match key_matches(user, user_dir.as_deref(), &certificate) {
        Ok(matches) => {
            report.key_matches = Some(matches);
            if !matches {
                report.warnings.push(
                    "the client key does not belong to the client certificate: the TLS handshake will fail"
                        .to_owned(),
                );
            }
        }
        Err(e) => report.warnings.push(e),
    }

    if let Some(cluster) = cluster {
        let cluster_dir = origin_dir(set, EntryKind::Cluster, &cluster.name);
        match ca_verifies(&cluster.cluster, cluster_dir.as_deref(), &certificate) {
            Ok(Some(verifies)) => {
                report.ca_verifies = Some(verifies);
                if !verifies {
                    report.warnings.push(format!(
                        "the CA of cluster {:?} did not sign the client certificate (a certificate of another cluster?)",
                        cluster.name
                    ));
                }
            }
            Ok(None) => {}
            Err(e) => report
                .warnings
                .push(format!("cluster {:?}: {e}", cluster.name)),
        }
    }
    report
}

/// The user's client certificate and where it came from, if it has one.
fn client_certificate(
    user: &User,
    dir: Option<&Path>,
) -> Result<Option<(Certificate, String)>, String> {
    let Some((pem, source)) = read_material(
        user.client_certificate_data.as_deref(),
        user.client_certificate.as_deref(),
        dir,
        "client-certificate",
    )?
    else {
        return Ok(None);
    };
    let certificate = Certificate::from_pem(&pem)
        .map_err(|e| format!("cannot read the client certificate: {e}"))?;
    Ok(Some((certificate, source)))
}

/// Whether the user's client key belongs to `certificate`; an error when there is no key or it cannot
/// be read.
fn key_matches(user: &User, dir: Option<&Path>, certificate: &Certificate) -> Result<bool, String> {
    let (key, _) = read_material(
        user.client_key_data.as_deref(),
        user.client_key.as_deref(),
        dir,
        "client-key",
    )?
    .ok_or("the user has a client certificate but no client key")?;
    let key = std::str::from_utf8(&key).map_err(|_| "the client key is not PEM text".to_owned())?;
    certificate.matches_key(key).map_err(|e| e.to_string())
}

/// Whether the cluster's CA signed `certificate`; `None` when the cluster has no CA.
fn ca_verifies(
    cluster: &Cluster,
    dir: Option<&Path>,
    certificate: &Certificate,
) -> Result<Option<bool>, String> {
    let Some((ca, _)) = read_material(
        cluster.certificate_authority_data.as_deref(),
        cluster.certificate_authority.as_deref(),
        dir,
        "certificate-authority",
    )?
    else {
        return Ok(None);
    };
    certificate
        .verified_by(&ca)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn credential_kind(user: &User) -> CredentialKind {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    if set(&user.client_certificate_data) || set(&user.client_certificate) {
        CredentialKind::ClientCertificate
    } else if user.exec.is_some() {
        CredentialKind::Exec
    } else if set(&user.token) || user.unknown.contains_key("tokenFile") {
        CredentialKind::Token
    } else if set(&user.username) {
        CredentialKind::BasicAuth
    } else if user.unknown.contains_key("auth-provider") {
        CredentialKind::AuthProvider
    } else {
        CredentialKind::None
    }
}

fn certificate_report(
    facts: &certificate::CertificateFacts,
    source: String,
    now: OffsetDateTime,
) -> CertificateReport {
    let left = facts.not_after - now;
    let status = if now < facts.not_before {
        CertStatus::NotYetValid
    } else if left <= time::Duration::ZERO {
        CertStatus::Expired
    } else if left.unsigned_abs() < super::expiry::WARN_WITHIN {
        CertStatus::Expiring
    } else {
        CertStatus::Valid
    };
    CertificateReport {
        source,
        subject: facts.subject.clone(),
        issuer: facts.issuer.clone(),
        serial: facts.serial.clone(),
        not_before: rfc3339(facts.not_before),
        not_after: rfc3339(facts.not_after),
        days_left: left.whole_days(),
        status,
    }
}

fn validity_warning(cert: &CertificateReport) -> Option<String> {
    let renew = "fetch a new one with `cce-autopilot kubeconfig get`, or let `cce-autopilot credential` keep it fresh";
    match cert.status {
        CertStatus::Valid => None,
        CertStatus::Expiring => Some(format!(
            "the client certificate expires at {} ({}); {renew}",
            cert.not_after,
            days_phrase(cert.days_left)
        )),
        CertStatus::Expired => Some(format!(
            "the client certificate expired at {}; {renew}",
            cert.not_after
        )),
        CertStatus::NotYetValid => Some(format!(
            "the client certificate is not valid before {}; check this machine's clock",
            cert.not_before
        )),
    }
}

/// The directory of the file an entry comes from: relative paths in it are relative to that file.
fn origin_dir(set: &KubeconfigSet, kind: EntryKind, name: &str) -> Option<PathBuf> {
    let file = &set.files()[set.origin(kind, name)?];
    file.path().parent().map(Path::to_path_buf)
}

/// The PEM of a `<field>-data` (base64) or `<field>` (file) pair, and where it came from. Errors name the
/// field or file, never the content.
fn read_material(
    data: Option<&str>,
    file: Option<&str>,
    dir: Option<&Path>,
    field: &str,
) -> Result<Option<(Vec<u8>, String)>, String> {
    if let Some(data) = data.filter(|d| !d.is_empty()) {
        let compact: String = data.split_ascii_whitespace().collect();
        return base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map(|pem| Some((pem, format!("{field}-data"))))
            .map_err(|e| format!("{field}-data is not valid base64: {e}"));
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let path = match dir {
        Some(dir) => dir.join(file),
        None => PathBuf::from(file),
    };
    std::fs::read(&path)
        .map(|pem| Some((pem, path.display().to_string())))
        .map_err(|e| format!("cannot read {field} file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_are_relative_to_the_kubeconfig_that_names_them() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["x".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::create_dir(dir.path().join("pki")).unwrap();
        std::fs::write(dir.path().join("pki/cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("pki/key.pem"), key.serialize_pem()).unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "clusters:\n- name: c\n  cluster: {server: https://127.0.0.1:1, certificate-authority: pki/cert.pem}\n\
             users:\n- name: u\n  user: {client-certificate: pki/cert.pem, client-key: pki/key.pem}\n\
             contexts:\n- name: ok\n  context: {cluster: c, user: u}\n- name: dangling\n  context: {cluster: c, user: gone}\n",
        )
        .unwrap();
        let set = KubeconfigSet::load(&KubeconfigPaths::explicit(&config)).unwrap();
        let report = inspect(&set, None, OffsetDateTime::now_utc()).unwrap();
        let ok = &report.contexts[0];
        assert_eq!(ok.credential, CredentialKind::ClientCertificate);
        assert_eq!((ok.key_matches, ok.ca_verifies), (Some(true), Some(true)));
        let source = &ok.certificate.as_ref().unwrap().source;
        assert_eq!(Path::new(source), dir.path().join("pki/cert.pem"));
        assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
        let dangling = &report.contexts[1];
        assert_eq!(dangling.credential, CredentialKind::None);
        assert!(
            dangling.warnings[0].contains("\"gone\" does not exist"),
            "{:?}",
            dangling.warnings
        );
        let text = report.to_text();
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }

    #[test]
    fn days_are_phrased_for_people() {
        assert_eq!(days_phrase(30), "30 days left");
        assert_eq!(days_phrase(1), "1 day left");
        assert_eq!(days_phrase(0), "less than a day left");
        assert_eq!(days_phrase(-1), "expired 1 day ago");
        assert_eq!(days_phrase(-3), "expired 3 days ago");
    }

    #[test]
    fn status_follows_the_clock() {
        let now = OffsetDateTime::now_utc();
        let facts = |from_days: i64, to_days: i64| certificate::CertificateFacts {
            subject: String::new(),
            issuer: String::new(),
            serial: String::new(),
            not_before: now + time::Duration::days(from_days),
            not_after: now + time::Duration::days(to_days),
        };
        let status =
            |f: certificate::CertificateFacts| certificate_report(&f, String::new(), now).status;
        assert_eq!(status(facts(-1, 30)), CertStatus::Valid);
        assert_eq!(status(facts(-1, 3)), CertStatus::Expiring);
        assert_eq!(status(facts(-3, -1)), CertStatus::Expired);
        assert_eq!(status(facts(1, 3)), CertStatus::NotYetValid);
        assert_eq!(
            certificate_report(&facts(-3, -2), String::new(), now).days_left,
            -2
        );
    }
}

//! What `kubeconfig inspect` reports, and its two renderings: text for people, JSON for scripts.

use std::fmt::Write as _;

use serde::Serialize;

/// What `kubeconfig inspect` found, in the order of the merged kubeconfig's contexts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One entry per inspected context.
    pub contexts: Vec<ContextReport>,
}

/// One context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContextReport {
    /// The context's name.
    pub name: String,
    /// Whether it is the `current-context`.
    pub current: bool,
    /// The cluster entry it names.
    pub cluster: Option<String>,
    /// That cluster's `server`.
    pub server: Option<String>,
    /// Whether that cluster skips the verification of the server's certificate.
    pub insecure: bool,
    /// The user entry it names.
    pub user: Option<String>,
    /// How that user authenticates.
    pub credential: CredentialKind,
    /// The exec plugin, for an exec user.
    pub exec: Option<ExecReport>,
    /// The client certificate, when the user has one.
    pub certificate: Option<CertificateReport>,
    /// Whether the client key belongs to the certificate (`null`: no key, or unreadable).
    pub key_matches: Option<bool>,
    /// Whether the cluster's CA signed the certificate (`null`: no CA, or unreadable).
    pub ca_verifies: Option<bool>,
    /// What deserves attention, one sentence each.
    pub warnings: Vec<String>,
}

/// How a user authenticates, as kubectl would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// `client-certificate-data` or `client-certificate`.
    ClientCertificate,
    /// An `exec` credential plugin: no embedded certificate.
    Exec,
    /// A bearer `token` (or `tokenFile`).
    Token,
    /// `username` and `password`.
    BasicAuth,
    /// An `auth-provider`.
    AuthProvider,
    /// Nothing, or the user entry is missing.
    None,
}

/// An exec plugin (its arguments and environment are not shown: they may hold secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExecReport {
    /// `command`.
    pub command: String,
    /// `apiVersion`.
    pub api_version: Option<String>,
}

/// A client certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertificateReport {
    /// `client-certificate-data`, or the path of the `client-certificate` file.
    pub source: String,
    /// The subject.
    pub subject: String,
    /// The issuer.
    pub issuer: String,
    /// The serial number, colon-separated hex.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: i64,
    /// Where `now` stands in the validity.
    pub status: CertStatus,
}

/// Where the present stands in a certificate's validity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertStatus {
    /// Valid for at least [`crate::commands::expiry::WARN_WITHIN`] more.
    Valid,
    /// Valid, but for less than [`crate::commands::expiry::WARN_WITHIN`].
    Expiring,
    /// Past `not_after`.
    Expired,
    /// Before `not_before`.
    NotYetValid,
}

impl Report {
    /// Whether an inspected certificate has expired.
    pub fn any_expired(&self) -> bool {
        self.contexts.iter().any(|c| {
            c.certificate
                .as_ref()
                .is_some_and(|cert| cert.status == CertStatus::Expired)
        })
    }

    /// The JSON document (`--format json`), with a final newline.
    pub fn to_json(&self) -> String {
        // Strings, booleans and integers always serialize.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The text report (`--format text`).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.contexts.is_empty() {
            out.push_str("no contexts\n");
        }
        for (i, c) in self.contexts.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "context {:?}{}",
                c.name,
                if c.current { " (current)" } else { "" }
            );
            let mut line = |label: &str, value: &str| {
                let _ = writeln!(out, "  {label:<12}{value}");
            };
            let cluster = match (&c.cluster, &c.server) {
                (Some(name), Some(server)) => format!("{name} ({server})"),
                (Some(name), None) => name.clone(),
                (None, _) => "-".to_owned(),
            };
            line("cluster", &cluster);
            line("user", c.user.as_deref().unwrap_or("-"));
            let credential = match (c.credential, &c.exec) {
                (CredentialKind::Exec, Some(exec)) => format!(
                    "exec plugin {} ({}); no embedded certificate",
                    exec.command,
                    exec.api_version.as_deref().unwrap_or("no apiVersion")
                ),
                (CredentialKind::ClientCertificate, _) => "client certificate".to_owned(),
                (CredentialKind::Token, _) => "bearer token; no certificate".to_owned(),
                (CredentialKind::BasicAuth, _) => "basic authentication; no certificate".to_owned(),
                (CredentialKind::AuthProvider, _) => "auth provider; no certificate".to_owned(),
                (CredentialKind::None | CredentialKind::Exec, _) => "none".to_owned(),
            };
            line("credential", &credential);
            if let Some(cert) = &c.certificate {
                line("source", &cert.source);
                line("subject", &cert.subject);
                line("issuer", &cert.issuer);
                line("serial", &cert.serial);
                line("not before", &cert.not_before);
                line(
                    "not after",
                    &format!("{} ({})", cert.not_after, days_phrase(cert.days_left)),
                );
                line(
                    "status",
                    match cert.status {
                        CertStatus::Valid => "valid",
                        CertStatus::Expiring => "expiring soon",
                        CertStatus::Expired => "EXPIRED",
                        CertStatus::NotYetValid => "not yet valid",
                    },
                );
                line(
                    "key",
                    match c.key_matches {
                        Some(true) => "matches the certificate",
                        Some(false) => "DOES NOT match the certificate",
                        None => "not checked",
                    },
                );
                line(
                    "CA",
                    match c.ca_verifies {
                        Some(true) => "the cluster CA verifies the certificate",
                        Some(false) => "the cluster CA DOES NOT verify the certificate",
                        None => "not checked",
                    },
                );
            }
            for warning in &c.warnings {
                line("warning", warning);
            }
        }
        out
    }
}

/// `3 days left`, `expired 2 days ago`.
pub fn days_phrase(days_left: i64) -> String {
    match days_left {
        d if d < -1 => format!("expired {} days ago", -d),
        -1 => "expired 1 day ago".to_owned(),
        0 => "less than a day left".to_owned(),
        1 => "1 day left".to_owned(),
        d => format!("{d} days left"),
    }
}

//! `whoami`: who the credential chain signs as, as STS sees it (`GET /v5/caller-identity`), and where the
//! credentials came from. Never a secret.

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::args::{DEFAULT_TIMEOUT, GlobalArgs};
use crate::exit;

use super::common::{build_client, print_stdout};

/// How `whoami` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum WhoamiFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document, for scripts.
    Json,
}

/// `whoami`
#[derive(Debug, Args)]
pub struct WhoamiArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = WhoamiFormat::Text)]
    pub format: WhoamiFormat,
}

/// `whoami --format json`: the scripts' contract (pinned by a snapshot).
#[derive(Debug, Serialize)]
pub struct WhoamiJson {
    /// `oidc-sts`, `env-idp`, `env`, `profile-idp`, `profile`, `metadata`, `pod-identity`, `token`.
    pub source: String,
    /// The URNs of the agencies assumed, in order.
    pub agencies: Vec<String>,
    /// The account (domain) id.
    pub account_id: String,
    /// The principal's URN.
    pub principal_urn: String,
    /// The principal's id (the CN of the certificates the service issues to it).
    pub principal_id: String,
    /// When temporary credentials expire (RFC 3339, UTC), or null.
    pub expires_at: Option<String>,
}

/// Asks STS and prints who the client is.
pub async fn run(global: &GlobalArgs, args: WhoamiArgs) -> anyhow::Result<exit::Exit> {
    let client = build_client(global, global.timeout_or(DEFAULT_TIMEOUT))?;
    let me = client.caller_identity().await?;
    let json = WhoamiJson {
        source: me.source,
        agencies: me.agencies,
        account_id: me.account_id,
        principal_urn: me.principal_urn,
        principal_id: me.principal_id,
        expires_at: me
            .expires_at
            .map(|t| cce_autopilot::certificate::rfc3339(time::OffsetDateTime::from(t))),
    };
    let text = match args.format {
        WhoamiFormat::Json => format!("{}\n", serde_json::to_string_pretty(&json)?),
        WhoamiFormat::Text => {
            let mut lines = vec![
                format!("principal   {}", json.principal_urn),
                format!("id          {}", json.principal_id),
                format!("account     {}", json.account_id),
                format!("source      {}", json.source),
            ];
            lines.extend(json.agencies.iter().map(|a| format!("agency      {a}")));
            if let Some(at) = &json.expires_at {
                lines.push(format!("expires     {at}"));
            }
            crate::text::lines(&format!("{}\n", lines.join("\n"))).into_owned()
        }
    };
    print_stdout(&text)?;
    Ok(exit::OK)
}

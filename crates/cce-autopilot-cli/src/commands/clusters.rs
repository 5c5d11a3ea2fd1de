//! `clusters list`: the clusters of the project, as a table for people or JSON for scripts.

use cce_autopilot::{ClusterPhase, ClusterSummary};

use crate::args::{DEFAULT_TIMEOUT, GlobalArgs};
use crate::exit;

use super::common::{build_client, print_stdout};
use super::json::ClusterJson;
use clap::{Args, ValueEnum};

/// How `clusters list` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// An aligned table.
    #[default]
    Table,
    /// A JSON array, for scripts.
    Json,
}

/// `clusters list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only clusters in this phase, e.g. Available.
    #[arg(long, value_name = "PHASE")]
    pub status: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// Lists the clusters.
pub async fn run(global: &GlobalArgs, args: ListArgs) -> anyhow::Result<crate::exit::Exit> {
    let client = build_client(global, global.timeout_or(DEFAULT_TIMEOUT))?;
    let mut call = client.clusters();
    if let Some(status) = &args.status {
        let phase: ClusterPhase = status.parse().unwrap_or_else(|never| match never {});
        call = call.status(phase);
    }
    let clusters = call.send().await?;
    let text = match args.format {
        ListFormat::Table => table(&clusters),
        ListFormat::Json => {
            let docs: Vec<ClusterJson> = clusters.iter().map(ClusterJson::from).collect();
            serde_json::to_string_pretty(&docs)? + "\n"
        }
    };
    print_stdout(&text)?;
    Ok(exit::OK)
}

/// NAME, ID, PHASE, VERSION, ENDPOINTS, aligned.
pub fn table(clusters: &[ClusterSummary]) -> String {
    let rows: Vec<[String; 5]> = clusters
        .iter()
        .map(|c| {
            let endpoints: Vec<String> = c
                .endpoints
                .iter()
                .map(|e| match e.access {
                    Some(access) => format!("{access}={}", e.url),
                    None => e.url.clone(),
                })
                .collect();
            // Every cell is the service's text: escaped, so that no name moves the cursor or forges a row.
            [
                c.name.clone(),
                c.id.clone(),
                c.phase.to_string(),
                c.version.clone().unwrap_or_else(|| "-".to_owned()),
                if endpoints.is_empty() {
                    "-".to_owned()
                } else {
                    endpoints.join(",")
                },
            ]
            .map(|cell| crate::text::field(&cell).into_owned())
        })
        .collect();
    let header = ["NAME", "ID", "PHASE", "VERSION", "ENDPOINTS"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}   "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no clusters)\n");
    }
    out
}

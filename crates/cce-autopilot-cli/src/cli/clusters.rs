//! `clusters list`, as clap sees it.

use clap::{Args, Subcommand, ValueEnum};

/// `clusters …`
#[derive(Debug, Subcommand)]
pub enum ClustersCommand {
    /// List the clusters of the project: name, id, phase, version, endpoints.
    List(ListArgs),
}

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

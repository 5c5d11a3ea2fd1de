//! `FleetArgs`: which regions and projects a command covers, and how many calls it has in flight — one set of
//! flags for `clusters list`, `kubeconfig update`, `refresh` and `prune`.

use clap::Args;
use clap::builder::TypedValueParser as _;

/// Calls in flight at once by default, across the whole run.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The fleet options.
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "Fleet options")]
pub struct FleetArgs {
    /// These regions, comma-separated (each in its default project; every project of theirs with
    /// --all-projects).
    #[arg(
        long,
        value_name = "R1,R2",
        value_delimiter = ',',
        conflicts_with = "all_regions"
    )]
    pub regions: Vec<String>,
    /// Every region of the official SDK's table.
    #[arg(long)]
    pub all_regions: bool,
    /// Every project the identity may use (IAM), across regions, then filtered by --regions.
    #[arg(long)]
    pub all_projects: bool,
    /// How many calls are in flight at once, across the whole run.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY,
          value_parser = clap::value_parser!(u16).range(1..=512).map(usize::from))]
    pub concurrency: usize,
}

impl FleetArgs {
    /// Whether any of the region and project flags is given (else: the one project of the global options).
    pub fn is_fleet(&self) -> bool {
        !self.regions.is_empty() || self.all_regions || self.all_projects
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        fleet: FleetArgs,
    }

    #[test]
    fn regions_split_on_commas_and_bounds_hold() {
        let cli = Cli::try_parse_from(["x", "--regions", "cn-north-4,ap-southeast-1"]).unwrap();
        assert_eq!(cli.fleet.regions, ["cn-north-4", "ap-southeast-1"]);
        assert!(cli.fleet.is_fleet());
        assert_eq!(cli.fleet.concurrency, DEFAULT_CONCURRENCY);
        assert!(!Cli::try_parse_from(["x"]).unwrap().fleet.is_fleet());
        for bad in [
            &["x", "--concurrency", "0"][..],
            &["x", "--regions", "a", "--all-regions"],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}

//! `cache clear`: empties the credential plugin's cache, of one cluster or of all — what a user does after
//! rotating credentials, or to make the next kubectl run fetch a new certificate.

use crate::exit::{self, CliError};

use super::credential::cache::CredentialCache;
use super::report::plural;
use clap::Args;
use std::path::PathBuf;

/// `cache clear`
#[derive(Debug, Args)]
pub struct CacheClearArgs {
    /// Only this cluster's entries (its id, or a name the cache recorded).
    #[arg(long, visible_alias = "cluster-id", value_name = "NAME|ID")]
    pub cluster: Option<String>,
    /// The cache directory (default: CCE_AUTOPILOT_CACHE_DIR, else $XDG_CACHE_HOME/cce-autopilot/credentials,
    /// else ~/.cache/cce-autopilot/credentials; on Windows %LOCALAPPDATA%\cce-autopilot\credentials).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Removes the entries; entries a running plugin holds locked are left (it is writing them).
pub fn clear(args: CacheClearArgs) -> anyhow::Result<crate::exit::Exit> {
    let cache = CredentialCache::from_env(args.cache_dir).ok_or_else(|| {
        CliError::usage("no cache directory: set HOME, XDG_CACHE_HOME or CCE_AUTOPILOT_CACHE_DIR, or pass --cache-dir")
    })?;
    let removed = cache.clear(args.cluster.as_deref())?;
    let what = match &args.cluster {
        Some(cluster) => format!(" of cluster {cluster}"),
        None => String::new(),
    };
    say!(
        "removed {}{what} from {}",
        plural(removed.len(), "cached certificate"),
        cache.dir().display()
    );
    Ok(exit::OK)
}

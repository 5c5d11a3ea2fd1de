//! The identity file of `emulator serve --identity-file`: YAML, paths relative to the file's directory.
//! Every reference is checked when the file is read, so a typo stops the emulator at start, not a test later.

use std::path::Path;

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use serde::Deserialize;

use super::{Agency, IdentityWorld, Provider, Trust, User, derived_id};

/// The account id when the file names none (printed by `emulator serve`).
pub const DEFAULT_ACCOUNT_ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    account_id: Option<String>,
    #[serde(default)]
    users: Vec<UserDoc>,
    #[serde(default)]
    identity_providers: Vec<ProviderDoc>,
    #[serde(default)]
    agencies: Vec<AgencyDoc>,
    metadata: Option<MetadataDoc>,
    pod_identity: Option<PodIdentityDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserDoc {
    name: String,
    #[serde(default)]
    access_keys: Vec<String>,
    #[serde(default)]
    secret_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderDoc {
    name: String,
    issuer: String,
    client_id: String,
    jwks_file: String,
    agency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyDoc {
    name: String,
    id: Option<String>,
    #[serde(default)]
    trusted: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetadataDoc {
    agency: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PodIdentityDoc {
    provider: String,
    agency: String,
}

/// Reads and checks the identity file at `path`; the message of an error names the file and the entry.
pub(crate) fn load(path: &Path) -> Result<IdentityWorld, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: FileDoc =
        serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    build(doc, dir).map_err(|e| format!("{}: {e}", path.display()))
}

fn hex32(what: &str, value: &str) -> Result<(), String> {
    if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!("{what} {value:?} must be 32 hex digits"))
    }
}

fn plain_name(what: &str, value: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} {value:?} must be 1 to 64 letters, digits, '-', '_' or '.'"
        ))
    }
}

fn build(doc: FileDoc, dir: &Path) -> Result<IdentityWorld, String> {
    let account_id = doc
        .account_id
        .unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned());
    hex32("account_id", &account_id)?;
    let mut users = Vec::new();
    for u in doc.users {
        plain_name("user name", &u.name)?;
        if u.secret_keys.len() > u.access_keys.len() {
            return Err(format!(
                "user {}: more secret_keys than access_keys",
                u.name
            ));
        }
        let keys = u
            .access_keys
            .iter()
            .enumerate()
            .map(|(i, ak)| (ak.clone(), u.secret_keys.get(i).cloned()))
            .collect();
        users.push(User {
            id: derived_id(&account_id, "user", &u.name),
            name: u.name,
            keys,
        });
    }
    let mut providers = Vec::new();
    for p in doc.identity_providers {
        plain_name("identity provider name", &p.name)?;
        let jwks_path = dir.join(&p.jwks_file);
        let text = std::fs::read_to_string(&jwks_path)
            .map_err(|e| format!("identity provider {}: {}: {e}", p.name, jwks_path.display()))?;
        let keys: JwkSet = serde_json::from_str(&text).map_err(|e| {
            format!(
                "identity provider {}: {} is not a JWK set: {e}",
                p.name,
                jwks_path.display()
            )
        })?;
        let rsa = keys
            .keys
            .iter()
            .filter(|k| matches!(k.algorithm, AlgorithmParameters::RSA(_)))
            .count();
        if rsa == 0 || keys.keys.iter().any(|k| !rs256_only(k)) {
            return Err(format!(
                "identity provider {}: {} must hold RSA keys (RS256) only, at least one",
                p.name,
                jwks_path.display()
            ));
        }
        providers.push(Provider {
            name: p.name,
            issuer: p.issuer,
            client_id: p.client_id,
            keys,
            agency: p.agency,
        });
    }
    let mut agencies = Vec::new();
    for a in doc.agencies {
        plain_name("agency name", &a.name)?;
        let id = match a.id {
            Some(id) => {
                hex32(&format!("agency {} id", a.name), &id)?;
                id
            }
            None => derived_id(&account_id, "agency", &a.name),
        };
        let trusted = a
            .trusted
            .iter()
            .map(|t| parse_trust(t).map_err(|e| format!("agency {}: {e}", a.name)))
            .collect::<Result<_, _>>()?;
        agencies.push(Agency {
            name: a.name,
            id,
            trusted,
        });
    }
    let world = IdentityWorld {
        account_id,
        users,
        providers,
        agencies,
        metadata_agency: doc.metadata.map(|m| m.agency),
        pod_identity: doc.pod_identity.map(|p| (p.provider, p.agency)),
    };
    check_references(&world)?;
    Ok(world)
}

fn rs256_only(key: &jsonwebtoken::jwk::Jwk) -> bool {
    matches!(key.algorithm, AlgorithmParameters::RSA(_))
        && key
            .common
            .key_algorithm
            .is_none_or(|alg| alg == jsonwebtoken::jwk::KeyAlgorithm::RS256)
}

fn parse_trust(entry: &str) -> Result<Trust, String> {
    let (kind, name) = entry.split_once(':').ok_or_else(|| {
        format!("trusted entry {entry:?} must be idp:<name>, ak:<access key>, user:<name> or agency:<name>")
    })?;
    let name = name.to_owned();
    match kind {
        "idp" => Ok(Trust::Idp(name)),
        "ak" => Ok(Trust::AccessKey(name)),
        "user" => Ok(Trust::User(name)),
        "agency" => Ok(Trust::Agency(name)),
        _ => Err(format!(
            "trusted entry {entry:?}: unknown kind {kind:?} (idp, ak, user or agency)"
        )),
    }
}

fn check_references(world: &IdentityWorld) -> Result<(), String> {
    let unique = |what: &str, names: Vec<&str>| -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        match names.into_iter().find(|n| !seen.insert(*n)) {
            Some(twice) => Err(format!("{what} {twice:?} is defined twice")),
            None => Ok(()),
        }
    };
    unique(
        "user",
        world.users.iter().map(|u| u.name.as_str()).collect(),
    )?;
    unique(
        "access key",
        world
            .users
            .iter()
            .flat_map(|u| u.keys.iter().map(|(k, _)| k.as_str()))
            .collect(),
    )?;
    unique(
        "identity provider",
        world.providers.iter().map(|p| p.name.as_str()).collect(),
    )?;
    unique(
        "agency",
        world.agencies.iter().map(|a| a.name.as_str()).collect(),
    )?;
    let agency = |what: String, name: &str| match world.agency(name) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{what} names agency {name:?}, which is not defined"
        )),
    };
    let provider = |what: String, name: &str| match world.provider(name) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{what} names identity provider {name:?}, which is not defined"
        )),
    };
    for p in &world.providers {
        if let Some(name) = &p.agency {
            agency(format!("identity provider {}", p.name), name)?;
        }
    }
    for a in &world.agencies {
        for trust in &a.trusted {
            match trust {
                Trust::Idp(name) => provider(format!("agency {}", a.name), name)?,
                Trust::User(name) if !world.users.iter().any(|u| &u.name == name) => {
                    return Err(format!(
                        "agency {} trusts user {name:?}, which is not defined",
                        a.name
                    ));
                }
                Trust::Agency(name) => agency(format!("agency {}", a.name), name)?,
                _ => {}
            }
        }
    }
    if let Some(name) = &world.metadata_agency {
        agency("metadata".to_owned(), name)?;
    }
    if let Some((p, a)) = &world.pod_identity {
        provider("pod_identity".to_owned(), p)?;
        agency("pod_identity".to_owned(), a)?;
    }
    Ok(())
}

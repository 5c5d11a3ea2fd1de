//! `cargo xtask codegen [--check]`: writes (or checks) every generated file: the client crate's copy of
//! the API contract (its `build.rs` reads it, so the published crate builds on its own), the reviewable
//! copy of the client generated from it, and the man page from the command's definition.
//!
//! The client is generated at build time (`crates/cce-autopilot/build.rs`); the copy written here exists so
//! that reviewers see what the contract turns into, and so that a spec change shows up in the diff.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The reviewable copy of the generated client. Not compiled.
const CLIENT_COPY: &str = "crates/cce-autopilot/generated/client.rs";
/// The client crate's own copy of the contract, which its `build.rs` reads (so the packaged crate builds).
const CLIENT_SPEC: &str = "crates/cce-autopilot/openapi/cce-autopilot.yaml";
/// The man page of the command, generated from its clap definition.
const MAN_PAGE: &str = "docs/man/cce-autopilot.1";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every generated (or copied) file with the contents it must have.
fn expected(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let spec_path = root.join(cce_autopilot_codegen::SPEC_PATH);
    let spec = std::fs::read_to_string(&spec_path)
        .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let client = cce_autopilot_codegen::generate(&spec).map_err(|e| e.to_string())?;
    let man = cce_autopilot_cli::cli::man_page()
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    let man = String::from_utf8(man).map_err(|e| format!("the man page is not UTF-8: {e}"))?;
    Ok(vec![
        (root.join(CLIENT_SPEC), spec),
        (root.join(CLIENT_COPY), client),
        (root.join(MAN_PAGE), man),
    ])
}

/// Names the stale files, or `Ok` when every generated file is fresh.
fn check(root: &Path) -> Result<(), String> {
    let mut stale = Vec::new();
    for (path, want) in expected(root)? {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            let line = have
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
            stale.push(format!(
                "{} (first difference at line {})",
                path.display(),
                line + 1
            ));
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "generated files are stale: {}\nrun `cargo xtask codegen` and commit the result",
            stale.join(", ")
        ))
    }
}

fn write(root: &Path) -> Result<(), String> {
    for (path, contents) in expected(root)? {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "wrote {}",
            path.strip_prefix(root).unwrap_or(&path).display()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["codegen"] => write(&root),
        ["codegen", "--check"] => check(&root).map(|()| println!("generated files are fresh")),
        _ => Err("usage: cargo xtask codegen [--check]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec edited without `cargo xtask codegen` fails `cargo test` here.
    #[test]
    fn generated_files_are_fresh() {
        if let Err(message) = check(&workspace_root()) {
            panic!("{message}");
        }
    }

    #[test]
    fn a_stale_copy_is_reported_with_its_path() {
        let dir = std::env::temp_dir().join(format!("xtask-check-{}", std::process::id()));
        let spec = dir.join(cce_autopilot_codegen::SPEC_PATH);
        std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
        std::fs::copy(
            workspace_root().join(cce_autopilot_codegen::SPEC_PATH),
            &spec,
        )
        .unwrap();
        write(&dir).unwrap();
        assert_eq!(check(&dir), Ok(()));
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(
            &spec,
            text.replace(
                "Get the cluster certificate",
                "Get the cluster certificate!",
            ),
        )
        .unwrap();
        let err = check(&dir).unwrap_err();
        assert!(err.contains(CLIENT_COPY), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

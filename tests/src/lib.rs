//! Cross-crate contract tests; they live in `tests/tests/`. This library only holds shared helpers.

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The API contract's text.
pub fn spec_text() -> String {
    let path = workspace_root().join("openapi/cce-autopilot.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

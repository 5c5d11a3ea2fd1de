//! Generates the operations' client from the OpenAPI contract at build time.
//!
//! The contract is read from this crate's own copy (`openapi/` beside this file), so that the packaged
//! crate builds on its own; `cargo xtask codegen` keeps the copy identical to the workspace's `openapi/`.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let spec_path = manifest.join(cce_autopilot_codegen::SPEC_PATH);
    println!("cargo::rerun-if-changed={}", spec_path.display());
    let spec = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("cannot read the API contract {}: {e}", spec_path.display()));
    let source = cce_autopilot_codegen::generate(&spec).unwrap_or_else(|e| {
        panic!(
            "cannot generate the client from {}: {e}",
            spec_path.display()
        )
    });
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("generated.rs");
    std::fs::write(&out, source).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

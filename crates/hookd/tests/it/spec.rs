//! The spec walk: every path and method of Svix's OpenAPI spec gets one well-formed call, and
//! hookd must answer with a status the spec documents and a body its schema accepts.
//!
//! Needs a Python with `jsonschema`, named by `HOOKD_TEST_PYTHON` (`.ci/run` makes one). The spec
//! is vendored as `tests/sdk/svix-openapi.json` (Svix API 1.1.1, from the MIT-licensed
//! svix-webhooks repository); `HOOKD_TEST_SVIX_SPEC` names another copy, e.g. a newer one.

use std::path::PathBuf;

use crate::process::{Hookd, create_token};

fn spec() -> PathBuf {
    match std::env::var_os("HOOKD_TEST_SVIX_SPEC") {
        Some(path) => PathBuf::from(path),
        None => concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/svix-openapi.json").into(),
    }
}

#[test]
fn every_operation_of_the_svix_spec_answers_as_the_spec_says() {
    let Ok(python) = std::env::var("HOOKD_TEST_PYTHON") else {
        eprintln!("skipped: set HOOKD_TEST_PYTHON to a Python with jsonschema");
        return;
    };
    let spec = spec();
    assert!(
        spec.is_file(),
        "the Svix OpenAPI spec is missing: expected it at {} (HOOKD_TEST_SVIX_SPEC names it)",
        spec.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let hookd = Hookd::start(dir.path());
    let server = hookd.base.trim_end_matches("/api/v1").to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/spec_walk.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&spec)
        .args([&server, &token])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the spec walk failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("operations answered as the spec says"),
        "{stdout}"
    );
}

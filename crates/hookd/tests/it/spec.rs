//! The spec walk: every path and method of Svix's OpenAPI spec gets one well-formed call, and
//! hookd must answer with a status the spec documents and a body its schema accepts.
//!
//! Needs a Python with `jsonschema`, named by `HOOKD_TEST_PYTHON` (`.ci/run` makes one), and
//! the spec at `../shared/reference/svix-openapi.json` beside the repository.

use crate::process::{Hookd, create_token};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/svix-openapi.json"
);

#[test]
fn every_operation_of_the_svix_spec_answers_as_the_spec_says() {
    let Ok(python) = std::env::var("HOOKD_TEST_PYTHON") else {
        eprintln!("skipped: set HOOKD_TEST_PYTHON to a Python with jsonschema");
        return;
    };
    assert!(
        std::path::Path::new(SPEC).is_file(),
        "the Svix OpenAPI spec is missing: expected it at {SPEC} (../shared/reference/ beside \
         the repository)"
    );
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let hookd = Hookd::start(dir.path());
    let server = hookd.base.trim_end_matches("/api/v1").to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/spec_walk.py");
    let out = std::process::Command::new(python)
        .args([script, SPEC, &server, &token])
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

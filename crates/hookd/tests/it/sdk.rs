//! The official `svix` Python SDK against a real hookd: create, read, update, delete, send and
//! list attempts, with deliveries verified by the `svix` and `standardwebhooks` libraries.
//!
//! Needs a Python with `svix` and `standardwebhooks` installed, named by `HOOKD_TEST_PYTHON`
//! (`.ci/run` makes one); without it the test says so and does nothing.

use crate::process::{Hookd, create_token};

#[test]
fn the_official_python_sdk_drives_hookd() {
    let Ok(python) = std::env::var("HOOKD_TEST_PYTHON") else {
        eprintln!("skipped: set HOOKD_TEST_PYTHON to a Python with svix and standardwebhooks");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let hookd = Hookd::start(dir.path());
    let server = hookd.base.trim_end_matches("/api/v1").to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/svix_sdk.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&server)
        .arg(&token)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all SDK checks passed"), "{stdout}");
}

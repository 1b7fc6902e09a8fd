//! The command line: documented defaults, and refusing bad config with a clear message.

use crate::process::hookd;

#[test]
fn config_default_prints_the_documented_defaults() {
    let out = hookd().args(["config", "default"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:8071\""));
    assert!(text.contains("endpoint_verification = \"required\""));
}

#[test]
fn serve_refuses_bad_config_and_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = hookd()
        .args(["serve", "--listen", "nonsense", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listen"), "{err}");

    let out = hookd()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("HOOKD_DELIVERY_TIMEOUT", "soon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("delivery_timeout"), "{err}");
}

//! The key that seals endpoint secrets: generated once on SQLite, required on PostgreSQL.

use crate::process::{create_token, hookd};

#[test]
fn a_sqlite_node_makes_its_secret_key_file_once_readable_only_by_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    create_token(dir.path());
    let path = dir.path().join("secret.key");
    let first = std::fs::read_to_string(&path).expect("the key file is made at first start");
    create_token(dir.path());

    assert_eq!(std::fs::read_to_string(&path).unwrap(), first, "made once");
    assert_eq!(first.trim().len(), 44, "base64 of 32 bytes");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_postgresql_node_refuses_to_start_without_a_secret_key() {
    let out = hookd()
        .args(["serve", "--database", "postgres://hookd@127.0.0.1:1/hookd"])
        .env_remove("HOOKD_SECRET_KEY")
        .output()
        .unwrap();

    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("secret_key") && err.contains("PostgreSQL"),
        "{err}"
    );
}

#[test]
fn a_secret_key_that_is_not_32_bytes_of_base64_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = hookd()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("HOOKD_SECRET_KEY", "c2hvcnQ=")
        .output()
        .unwrap();

    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("secret_key"), "{err}");
    assert!(!err.contains("c2hvcnQ="), "the value is not echoed: {err}");
}

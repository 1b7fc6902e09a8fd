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

/// `hookd token` with `--data-dir`: its output and whether it succeeded.
fn token(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = crate::process::hookd()
        .arg("token")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run hookd");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn token_list_names_tokens_by_id_and_revoke_takes_an_id_or_the_token_but_never_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let first = crate::process::create_token(dir.path());
    let second = crate::process::create_token(dir.path());
    let (ok, listed) = token(dir.path(), &["list"]);
    assert!(ok, "{listed}");
    let ids: Vec<&str> = listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.starts_with("tok_"))
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert!(
        !listed.contains(&first) && !listed.contains(&second),
        "no token is printed: {listed}"
    );

    let (ok, said) = token(dir.path(), &["revoke", ids[0]]);
    assert!(ok, "{said}");
    let (_, after) = token(dir.path(), &["list"]);
    assert!(!after.contains(ids[0]) && after.contains(ids[1]), "{after}");

    let (ok, said) = token(dir.path(), &["revoke", "tok_0000000000000000"]);
    assert!(!ok && said.contains("no admin token"), "{said}");
    // Oldest first: the one left is the second token, named here by the token itself.
    let (ok, said) = token(dir.path(), &["revoke", &second]);
    assert!(
        !ok && said.contains("only admin token"),
        "the last one stays: {said}"
    );
}

//! A first start as a new user meets it: the admin token appears once the server is up, a
//! later start says that one exists, and a second `serve` on the same data directory refuses.

use std::process::Stdio;

use crate::process::{Hookd, create_token, hookd};

#[test]
fn the_first_token_appears_only_once_the_server_listens_and_later_starts_say_one_exists() {
    let dir = tempfile::tempdir().unwrap();
    // The port is taken: the start fails, and must not make a token it then forgets.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = hookd()
        .args([
            "serve",
            "--listen",
            &taken.local_addr().unwrap().to_string(),
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        !said.contains("hk_admin_"),
        "no token from a failed start: {said}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));

    let mut first = Hookd::start(dir.path());
    let text = first.announcement();
    assert!(
        text.contains("shown only this once") && text.contains("hk_admin_"),
        "{text}"
    );
    drop(first);

    let mut again = Hookd::start(dir.path());
    let text = again.announcement();
    assert!(!text.contains("hk_admin_"), "{text}");
    assert!(
        text.contains("exists already; `hookd token create` makes another"),
        "{text}"
    );
}

#[test]
fn serve_without_a_first_token_makes_none_and_says_how_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = hookd()
        .args([
            "serve",
            "--no-first-token",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        line.trim(),
        "No API token exists yet; `hookd token create` makes one."
    );
    // None was made: the next plain start makes the first.
    let mut hookd = Hookd::start(dir.path());
    assert!(hookd.announcement().contains("shown only this once"));
}

#[test]
fn a_second_serve_on_the_same_data_directory_refuses_to_start_and_names_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let first = Hookd::start(dir.path());
    let out = hookd()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "the second serve started");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("another hookd (pid {})", first.child.id())),
        "{err}"
    );
    assert!(err.contains("--data-dir"), "says what to do: {err}");

    // The commands documented as safe beside a running server still run.
    create_token(dir.path());
    crate::prune::prune(dir.path(), "30d");

    // The lock goes with the process, however it ends.
    let mut first = first;
    first.kill_9();
    drop(Hookd::start(dir.path()));
}

//! Shell completions and man pages, generated from the command line's own definition.

use crate::process::hookd;

fn stdout_of(args: &[&str]) -> String {
    let out = hookd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_bash_zsh_and_fish_know_the_commands_and_their_flags() {
    for (shell, marker) in [
        ("bash", "complete -F _hookd"),
        ("zsh", "#compdef hookd"),
        ("fish", "complete -c hookd"),
    ] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {marker:?} missing");
        for word in ["serve", "listen", "allow-network", "older-than"] {
            assert!(script.contains(word), "{shell}: {word:?} missing");
        }
    }
    let out = hookd().args(["completions", "tcsh"]).output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn the_man_pages_describe_each_command_and_its_options() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH hookd 1"),
        "{page}"
    );
    assert!(
        page.contains("serve") && page.contains("listen"),
        "lists the commands"
    );

    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    stdout_of(&["man", "--out-dir", out_dir.to_str().unwrap()]);
    let serve = std::fs::read_to_string(out_dir.join("hookd-serve.1")).expect("a page per command");
    assert!(
        serve.contains("allow\\-network") && serve.contains("HOOKD_ALLOWED_NETWORKS"),
        "{serve}"
    );
    assert!(out_dir.join("hookd-config-check.1").is_file());
    assert!(out_dir.join("hookd.1").is_file());
}

//! Configuration as an operator meets it: errors that say which option, where its value came
//! from and what is wrong; unknown variables as warnings; `config check`; `serve --help`.

use std::process::Output;

use crate::process::{Hookd, hookd};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// No source path, no Rust type: the words figment and serde would use otherwise.
fn assert_plain(text: &str) {
    for internal in [".rs:", "alloc::", "String", "usize", "hookd_server::"] {
        assert!(!text.contains(internal), "{internal:?} in {text}");
    }
}

/// Flags, variables, and what the error must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn a_bad_option_names_itself_where_it_came_from_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hookd.toml");
    std::fs::write(&file, "max_in_flight = \"many\"\n").unwrap();
    let cases: [Case; 4] = [
        (
            &["--role", "foo"],
            &[],
            &["--role", "foo", "all, api, worker"],
        ),
        (
            &[],
            &[("HOOKD_ROLE", "foo")],
            &[
                "role (HOOKD_ROLE)",
                "\"foo\" is not one of all, api, worker",
            ],
        ),
        (
            &[],
            &[("HOOKD_MAX_IN_FLIGHT", "lots")],
            &["max_in_flight (HOOKD_MAX_IN_FLIGHT)", "a whole number"],
        ),
        (
            &["--config", file.to_str().unwrap()],
            &[],
            &["max_in_flight (", "hookd.toml)"],
        ),
    ];
    for (args, env, expected) in cases {
        let out = hookd()
            .args(["serve", "--data-dir"])
            .arg(dir.path())
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} {env:?} started");
        let err = stderr(&out);
        for part in expected {
            assert!(err.contains(part), "{part:?} missing from: {err}");
        }
        assert_plain(&err);
    }
}

#[test]
fn an_unknown_key_in_a_config_file_stops_serve_but_an_unknown_variable_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hookd.toml");
    std::fs::write(&file, "retry_shedule = []\n").unwrap();
    let out = hookd()
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("`retry_shedule` is not an option"), "{err}");
    assert!(err.contains("hookd.toml"), "names the file: {err}");
    assert_plain(&err);

    // The example receiver's variable, set in the same shell, must not stop the server.
    let hookd = Hookd::start_with(
        dir.path(),
        &[("HOOKD_SECRET", "whsec_c2VjcmV0"), ("HOOKD_LISTN", "x")],
    );
    let log = hookd.log.text();
    for name in ["HOOKD_SECRET", "HOOKD_LISTN"] {
        assert!(
            log.lines().any(|line| line.contains("WARN")
                && line.contains(&format!("{name} is not a hookd option"))),
            "no warning names {name}:\n{log}"
        );
    }
    assert!(!log.contains("c2VjcmV0"), "the value is not echoed:\n{log}");
}

#[test]
fn config_check_prints_each_option_in_effect_with_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hookd.toml");
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    std::fs::write(
        &file,
        format!("delivery_timeout = \"20s\"\nsecret_key = \"{key}\"\n"),
    )
    .unwrap();
    let out = hookd()
        .args(["config", "check", "--config"])
        .arg(&file)
        .args(["--listen", "127.0.0.1:9999"])
        .env("HOOKD_MAX_IN_FLIGHT", "100")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |key: &str| {
        text.lines()
            .find(|line| line.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key}:\n{text}"))
            .to_owned()
    };
    assert!(
        line("listen").contains("\"127.0.0.1:9999\"") && line("listen").ends_with("# --listen"),
        "{text}"
    );
    assert!(
        line("max_in_flight").contains("100")
            && line("max_in_flight").ends_with("# HOOKD_MAX_IN_FLIGHT"),
        "{text}"
    );
    assert!(
        line("delivery_timeout").contains("\"20s\"")
            && line("delivery_timeout").ends_with("hookd.toml"),
        "{text}"
    );
    assert!(line("retry_jitter").ends_with("# default"), "{text}");
    assert!(line("secret_key").contains("not shown"), "{text}");
    assert!(
        !text.contains(key),
        "the secret key is never printed:\n{text}"
    );
    // What it prints is a config file that gives the same options.
    let again = dir.path().join("again.toml");
    let without_secret: String = text
        .lines()
        .filter(|l| !l.starts_with("secret_key"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&again, without_secret).unwrap();
    let out = hookd()
        .args(["config", "check", "--config"])
        .arg(&again)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let out = hookd()
        .args(["config", "check", "--config"])
        .arg(&file)
        .env("HOOKD_DELIVERY_LEASE", "1s")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("delivery_lease (HOOKD_DELIVERY_LEASE)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn serve_help_shows_each_flags_default_and_variable() {
    let out = hookd().args(["serve", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for (flag, default, variable) in [
        (
            "--listen",
            "[default: 127.0.0.1:8071]",
            "[env: HOOKD_LISTEN]",
        ),
        (
            "--data-dir",
            "[default: ./hookd-data]",
            "[env: HOOKD_DATA_DIR]",
        ),
        ("--database", "[default: unset]", "[env: HOOKD_DATABASE]"),
        (
            "--allow-network",
            "[default: none]",
            "[env: HOOKD_ALLOWED_NETWORKS]",
        ),
        (
            "--endpoint-verification",
            "[default: required]",
            "[env: HOOKD_ENDPOINT_VERIFICATION]",
        ),
        ("--role", "[default: all]", "[env: HOOKD_ROLE]"),
    ] {
        let line = help
            .lines()
            .find(|line| line.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("no {flag}:\n{help}"));
        assert!(line.contains(default) && line.contains(variable), "{line}");
    }
}

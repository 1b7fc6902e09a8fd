//! README.md, followed to the letter: its `sh` blocks and its Python example run in order, in the
//! terminals they name, against a real hookd, a real receiver and a stand-in for "your app", so
//! an example that stops working fails here. `cargo` and `hookd` are what the reader would have
//! after the install step (a `cargo` that runs the already built binaries for `cargo run`), and
//! `curl` fails on an error status. The PostgreSQL steps run when `HOOKD_TEST_POSTGRES_URL` is set.

mod markdown;
mod shell;

use std::path::{Path, PathBuf};

use markdown::{Block, Lang, Step};
use shell::Session;

/// README commands this test does not run, and what does: each must still be in the README.
const RUN_ELSEWHERE: [(&str, &str); 2] = [
    (
        "cargo test --workspace --all-features",
        "the suite itself: .ci/run runs it",
    ),
    (
        "cargo install --locked --path crates/hookd --profile dist",
        "package.rs, which builds the Debian package from the same build",
    ),
];

pub fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap()
}

pub fn run_elsewhere(command: &str) -> bool {
    let command = command.split(" #").next().unwrap_or_default().trim();
    RUN_ELSEWHERE
        .iter()
        .any(|(elsewhere, _)| command == *elsewhere)
}

#[test]
fn the_commands_the_readme_says_run_elsewhere_are_still_in_it() {
    let readme = readme();
    for (command, by) in RUN_ELSEWHERE {
        assert!(
            readme.contains(command),
            "{command} (run by {by}) is gone from the README"
        );
    }
}

#[test]
fn the_readme_from_the_first_command_to_hookd_listen_works_as_written() {
    let Some(curl) = find_program("curl") else {
        eprintln!("skipped: the quickstart needs curl, which is not on PATH");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let your_app = runtime.block_on(your_app());
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let cwd = dir.path().join("repo");
    std::fs::create_dir_all(&cwd).unwrap();
    install(&bin, &curl);
    let api = free_port();
    let replace = vec![
        ("8071".to_owned(), api.clone()),
        ("9000".to_owned(), free_port()),
        ("3000".to_owned(), your_app.to_string()),
    ];
    // The defaults point at port 8071; here they point at the port that stands for it.
    let env = [
        ("HOOKD_LISTEN", format!("127.0.0.1:{api}")),
        ("HOOKD_SERVER", format!("http://127.0.0.1:{api}")),
    ];
    let mut session = Session::new(&cwd, &bin, replace, &env);
    let blocks = markdown::blocks(&readme());
    let quickstart = blocks
        .iter()
        .filter(|b| !b.shell.as_deref().unwrap_or("").starts_with("node"));
    for (n, block) in quickstart.enumerate() {
        run_block(&mut session, block, n);
    }
    session.stop_all();
}

#[test]
fn the_readmes_postgresql_steps_work_as_written() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(scratch) = runtime.block_on(crate::multinode::Scratch::create()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    install(&bin, Path::new("/usr/bin/curl"));
    let replace = vec![
        (
            "postgres://hookd:secret@db.internal:5432/hookd".to_owned(),
            scratch.url.clone(),
        ),
        ("0.0.0.0".to_owned(), "127.0.0.1".to_owned()),
        ("8071".to_owned(), free_port()),
    ];
    let mut session = Session::new(dir.path(), &bin, replace, &[]);
    let blocks = markdown::blocks(&readme());
    let nodes: Vec<&Block> = blocks
        .iter()
        .filter(|b| b.shell.as_deref().unwrap_or("").starts_with("node"))
        .collect();
    assert!(nodes.len() >= 2, "the README's PostgreSQL steps are gone");
    for (n, block) in nodes.into_iter().enumerate() {
        run_block(&mut session, block, n);
    }
    // The token `hookd token create` printed works on the node that started after it.
    session.run(
        "node 1",
        "curl -s -H \"Authorization: Bearer hk_admin_...\" localhost:8071/api/v1/app",
    );
    session.stop_all();
    drop(session);
    runtime.block_on(scratch.remove());
}

fn run_block(session: &mut Session, block: &Block, n: usize) {
    let own = format!("block {n}");
    let shell = block.shell.clone().unwrap_or(own.clone());
    if block.lang == Lang::Python {
        return run_python(session, block, &shell);
    }
    for step in &block.steps {
        match step {
            Step::Run(command) if run_elsewhere(command) => {}
            Step::Run(command) => session.run(&shell, command),
            Step::Expect { shell: other, text } => {
                session.expect(other.as_deref().unwrap_or(&shell), text)
            }
        }
    }
    if block.shell.is_none() {
        // A block without a terminal stands alone, like the two commands at the top.
        session.interrupt(&own);
    }
}

/// "save this as `send.py` and run `python3 send.py`", with the test's Python.
fn run_python(session: &mut Session, block: &Block, shell: &str) {
    let Ok(python) = std::env::var("HOOKD_TEST_PYTHON") else {
        eprintln!(
            "skipped the README's Python example: set HOOKD_TEST_PYTHON to a Python with svix"
        );
        return;
    };
    for step in &block.steps {
        match step {
            Step::Run(code) => {
                std::fs::write(session.cwd.join("send.py"), session.localize(code)).unwrap();
                session.run(shell, &format!("'{python}' send.py"));
            }
            Step::Expect { shell: other, text } => {
                session.expect(other.as_deref().unwrap_or(shell), text)
            }
        }
    }
}

/// `hookd` as the install step leaves it, a `cargo` whose `cargo run` runs what is built, and
/// a `curl` that fails on an error status (`-s` alone would hide a 4xx).
fn install(bin: &Path, curl: &Path) {
    std::fs::create_dir_all(bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_hookd"), bin.join("hookd")).unwrap();
    let receiver = receiver_example();
    let cargo = format!(
        "#!/bin/sh\n\
         # The README test's cargo: what `cargo run` would build is built already.\n\
         case \"$*\" in\n\
         \"run --release -- \"*) shift 3; exec hookd \"$@\";;\n\
         \"run -p hookd-receiver --example receiver -- \"*) shift 6; exec '{}' \"$@\";;\n\
         *) echo \"the README test does not run: cargo $*\" >&2; exit 97;;\n\
         esac\n",
        receiver.display()
    );
    let curl = format!(
        "#!/bin/sh\nexec '{}' --fail-with-body --max-time 30 \"$@\"\n",
        curl.display()
    );
    for (name, script) in [("cargo", cargo), ("curl", curl)] {
        let path = bin.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
}

/// The receiver example's binary: the workspace's test run builds it beside the test binaries;
/// a run of this crate's tests alone builds it here.
fn receiver_example() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_hookd"));
    let example = bin.parent().unwrap().join("examples").join("receiver");
    if !example.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "-p",
                "hookd-receiver",
                "--all-features",
                "--example",
                "receiver",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "building the receiver example failed");
    }
    example
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port().to_string()
}

/// "Your app" of `hookd listen --forward-to`: takes any webhook with `{"ok":true}`.
async fn your_app() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app =
        axum::Router::new().fallback(|| async { axum::Json(serde_json::json!({"ok": true})) });
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

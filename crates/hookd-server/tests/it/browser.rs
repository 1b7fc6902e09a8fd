//! Running the UI scripts of `tests/ui/` in Debian's Chromium through npm's playwright-core:
//! `HOOKD_TEST_CHROMIUM` names the browser, `HOOKD_TEST_NODE_MODULES` the folder that holds
//! `playwright-core`. Without them a test says it skipped, and why. One script runs at a
//! time, so that the first-paint figure is not measured beside another browser.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

pub struct Browser {
    chromium: PathBuf,
    node_modules: PathBuf,
}

impl Browser {
    /// The browser and its driver, or `None` after printing why the test skips.
    pub fn from_env(test: &str) -> Option<Browser> {
        let why = match (
            std::env::var_os("HOOKD_TEST_CHROMIUM"),
            std::env::var_os("HOOKD_TEST_NODE_MODULES"),
        ) {
            (None, _) => {
                "HOOKD_TEST_CHROMIUM is not set (the path of Debian's chromium)".to_owned()
            }
            (_, None) => "HOOKD_TEST_NODE_MODULES is not set (npm's playwright-core)".to_owned(),
            (Some(chromium), Some(modules)) => {
                let (chromium, node_modules) = (PathBuf::from(chromium), PathBuf::from(modules));
                if !chromium.exists() {
                    format!("{} does not exist", chromium.display())
                } else if !node_modules.join("playwright-core").exists() {
                    format!("{} holds no playwright-core", node_modules.display())
                } else if std::process::Command::new("node")
                    .arg("--version")
                    .output()
                    .is_err()
                {
                    "node is not on PATH".to_owned()
                } else {
                    return Some(Browser {
                        chromium,
                        node_modules,
                    });
                }
            }
        };
        eprintln!("skipped {test}: {why}; `bash .ci/run` installs Chromium and playwright-core");
        None
    }

    /// Runs `tests/ui/<script>` with `fixture` (as `HOOKD_UI_FIXTURE`); fails the test if the
    /// script fails. Returns what it printed.
    pub async fn run(&self, script: &str, fixture: &Value) -> String {
        let _turn = ONE_AT_A_TIME.lock().await;
        let path = ui_dir().join(script);
        let child = Command::new("node")
            .arg(&path)
            .env("HOOKD_TEST_CHROMIUM", &self.chromium)
            .env("HOOKD_TEST_NODE_MODULES", &self.node_modules)
            .env("HOOKD_UI_FIXTURE", fixture.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let output = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
            .await
            .expect("the script finishes within 5 minutes")
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        println!("{stdout}");
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{script} failed:\n{stdout}");
        assert!(
            stdout.contains("all steps passed"),
            "{script} did not finish"
        );
        stdout
    }
}

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui")
}

/// Where screenshots go: `target/ui-screenshots` of the workspace.
pub fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots")
}

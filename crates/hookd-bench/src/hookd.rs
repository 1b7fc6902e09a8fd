//! Hookd: the server under test. Either a `hookd serve` child process the benchmark starts on
//! a fresh data dir (so its CPU time and memory can be read from /proc), or one already running,
//! given by URL and token. Either way it is driven through its public API only.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hookd_receiver::Secret;
use serde_json::{Value, json};

use crate::BenchError;

/// The key that seals endpoint secrets in a database the bench set up for itself.
const BENCH_SECRET_KEY: &str = "aG9va2QtYmVuY2gtb25seS1rZXktMzItYnl0ZXMhISE=";

/// How to start `hookd serve`.
#[derive(Clone, Debug)]
pub struct Launcher {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    /// `postgres://...`: passed on as `--database`; otherwise SQLite in `data_dir`.
    pub database: Option<String>,
}

/// A hookd to benchmark, and its API.
pub struct Hookd {
    pub base: String,
    pub token: String,
    pub pid: Option<u32>,
    child: Option<Child>,
    http: reqwest::Client,
}

impl Launcher {
    /// Spawns `hookd serve` on a free port and waits until it listens. `token` is the admin
    /// token from an earlier start on the same data; without it, the token hookd prints on a
    /// first start is used, or one is made with `hookd token create`.
    pub async fn start(
        &self,
        env: &[(&str, &str)],
        token: Option<String>,
    ) -> Result<Hookd, BenchError> {
        let mut command = self.command("serve");
        command
            .args(["--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| BenchError::Start(format!("{}: {e}", self.bin.display())))?;
        let printed_token = read_token(child.stdout.take().expect("piped"));
        let stderr = child.stderr.take().expect("piped");
        let addr = tokio::task::spawn_blocking(move || read_address(stderr))
            .await
            .map_err(|e| BenchError::Start(e.to_string()))??;
        let token = match token {
            Some(token) => token,
            None => match printed_token.recv_timeout(Duration::from_millis(500)) {
                Ok(token) => token,
                Err(_) => self.create_token()?,
            },
        };
        Ok(Hookd {
            base: format!("http://{addr}/api/v1"),
            token,
            pid: Some(child.id()),
            child: Some(child),
            http: http_client(),
        })
    }

    fn command(&self, subcommand: &str) -> Command {
        let mut command = Command::new(&self.bin);
        command.arg(subcommand);
        if subcommand == "token" {
            command.arg("create");
        }
        command.arg("--data-dir").arg(&self.data_dir);
        if let Some(database) = &self.database {
            command.args(["--database", database]);
            // Nodes sharing PostgreSQL need one key for endpoint secrets; the bench's own
            // throwaway database gets a fixed one unless the caller set theirs.
            if std::env::var_os("HOOKD_SECRET_KEY").is_none() && has_option(&self.bin, "secret_key")
            {
                command.env("HOOKD_SECRET_KEY", BENCH_SECRET_KEY);
            }
        }
        command
            .env("HOOKD_ALLOWED_NETWORKS", "127.0.0.0/8")
            .env("HOOKD_LOG", "info");
        command
    }

    fn create_token(&self) -> Result<String, BenchError> {
        let out = self.command("token").output()?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            return Err(BenchError::Start(format!("hookd token create: {why}")));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// Whether the hookd at `bin` has the config option `name` (`hookd config default` lists them
/// all), so the bench can drive older and newer builds alike.
pub fn has_option(bin: &Path, name: &str) -> bool {
    Command::new(bin)
        .args(["config", "default"])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(name))
}

/// Watches stdout for the admin token a first start prints, and keeps draining it.
fn read_token(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (found, token) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(token) = line.split_whitespace().find(|w| w.starts_with("hk_admin_")) {
                let _ = found.send(token.to_owned());
            }
        }
    });
    token
}

/// Reads stderr up to `hookd is listening on http://ADDR`, then drains the rest in a thread.
fn read_address(stderr: std::process::ChildStderr) -> Result<String, BenchError> {
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        if let Some(at) = line.find("listening on http://") {
            let rest = &line[at + "listening on http://".len()..];
            let addr = rest.split_whitespace().next().unwrap_or_default();
            let addr = addr.trim_end_matches(['"', ',']).to_owned();
            std::thread::spawn(move || lines.for_each(drop));
            return Ok(addr);
        }
        seen.push(line);
    }
    Err(BenchError::Start(format!(
        "hookd exited: {}",
        seen.join("\n")
    )))
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a plain HTTP client builds")
}

impl Hookd {
    /// A hookd that is already running; `pid`, if given, is read for CPU and memory.
    pub fn external(base: &str, token: &str, pid: Option<u32>) -> Hookd {
        Hookd {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            pid,
            child: None,
            http: http_client(),
        }
    }

    /// SIGKILL: nothing of hookd's shutdown runs, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn msg_url(&self, app: &str) -> String {
        format!("{}/app/{app}/msg", self.base)
    }

    /// Creates an application; returns its id.
    pub async fn create_app(&self, name: &str) -> Result<String, BenchError> {
        let created = self
            .call("POST", "/app", Some(json!({ "name": name })))
            .await?;
        id_of(&created, "application")
    }

    /// Creates an endpoint (hookd challenges `url` first); returns its id and secret.
    pub async fn create_endpoint(
        &self,
        app: &str,
        url: &str,
    ) -> Result<(String, Secret), BenchError> {
        let path = format!("/app/{app}/endpoint");
        let created = self
            .call("POST", &path, Some(json!({ "url": url })))
            .await?;
        let id = id_of(&created, "endpoint")?;
        let secret = self
            .call("GET", &format!("{path}/{id}/secret"), None)
            .await?;
        let key = secret["key"].as_str().unwrap_or_default();
        let secret = Secret::parse(key).map_err(|e| api("endpoint secret", e.to_string()))?;
        Ok((id, secret))
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, BenchError> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a known method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(api(path, format!("status {status}: {text}")));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

impl Drop for Hookd {
    fn drop(&mut self) {
        self.kill();
    }
}

fn id_of(created: &Value, what: &str) -> Result<String, BenchError> {
    created["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| api(what, format!("no id in {created}")))
}

fn api(what: &str, detail: String) -> BenchError {
    BenchError::Api {
        what: what.to_owned(),
        detail,
    }
}

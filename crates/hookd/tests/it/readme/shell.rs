//! Terminals that run the README's commands as a reader would: each shell keeps its exported
//! variables; a server, receiver or `hookd listen` keeps running in its terminal until the next
//! one there (Ctrl-C first); a placeholder such as `whsec_...` becomes the latest such value any
//! command printed; the README's ports become free ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::markdown::shows;
use crate::process::Log;

const COMMAND_LIMIT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(30);

/// What a long-running command prints once it is ready, by how it starts.
const LONG_RUNNING: [(&str, &str); 4] = [
    ("cargo run --release -- serve", "listening on http://"),
    ("hookd serve", "listening on http://"),
    (
        "cargo run -p hookd-receiver --example receiver",
        "receiver listening on",
    ),
    ("hookd listen", "Waiting for events"),
];

/// Placeholders and the characters of the values they stand for.
const PLACEHOLDERS: [(&str, &str); 4] = [
    ("hk_admin_", "_-"),
    ("whsec_", "+/="),
    ("msg_", ""),
    ("ep_", ""),
];

pub struct Session {
    pub cwd: PathBuf,
    base_env: BTreeMap<String, String>,
    /// Text in the README and what the test puts in its place (ports, addresses).
    replace: Vec<(String, String)>,
    shells: BTreeMap<String, Shell>,
    /// Everything commands printed on stdout, in order, for the placeholders.
    transcript: Log,
}

#[derive(Default)]
struct Shell {
    env: BTreeMap<String, String>,
    screen: Log,
    running: Option<Child>,
    /// The last command that ran to its end here, if it only reads.
    last_read: Option<String>,
}

impl Session {
    pub fn new(
        cwd: &Path,
        bin: &Path,
        replace: Vec<(String, String)>,
        env: &[(&str, String)],
    ) -> Session {
        let mut base_env: BTreeMap<String, String> = std::env::vars()
            .filter(|(name, _)| !name.starts_with("HOOKD_") || name.starts_with("HOOKD_TEST_"))
            .collect();
        let path = format!(
            "{}:{}",
            bin.display(),
            base_env.get("PATH").cloned().unwrap_or_default()
        );
        base_env.insert("PATH".into(), path);
        for (name, value) in env {
            base_env.insert((*name).to_owned(), value.clone());
        }
        Session {
            cwd: cwd.to_owned(),
            base_env,
            replace,
            shells: BTreeMap::new(),
            transcript: Log::default(),
        }
    }

    fn shell(&mut self, name: &str) -> &mut Shell {
        let base = &self.base_env;
        self.shells.entry(name.to_owned()).or_insert_with(|| Shell {
            env: base.clone(),
            ..Shell::default()
        })
    }

    /// The README's text as the test runs it.
    pub fn localize(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (from, to) in &self.replace {
            text = text.replace(from, to);
        }
        for (prefix, extra) in PLACEHOLDERS {
            let placeholder = format!("{prefix}...");
            if text.contains(&placeholder) {
                let value = self
                    .latest(prefix, extra)
                    .unwrap_or_else(|| panic!("nothing printed a {placeholder} yet"));
                text = text.replace(&placeholder, &value);
            }
        }
        text
    }

    fn latest(&self, prefix: &str, extra: &str) -> Option<String> {
        let text = self.transcript.text();
        text.rmatch_indices(prefix).find_map(|(at, _)| {
            let value: String = text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || extra.contains(*c))
                .collect();
            (!value.is_empty()).then(|| format!("{prefix}{value}"))
        })
    }

    pub fn run(&mut self, shell: &str, command: &str) {
        let command = self.localize(command);
        if command.starts_with("export ") {
            return self.export(shell, &command);
        }
        let without_env = command
            .split_whitespace()
            .skip_while(|word| word.contains('='))
            .collect::<Vec<_>>()
            .join(" ");
        match LONG_RUNNING
            .iter()
            .find(|(start, _)| without_env.starts_with(start))
        {
            Some((_, ready)) => self.start(shell, &command, ready),
            None => self.finish(shell, &command),
        }
    }

    fn export(&mut self, shell: &str, command: &str) {
        let env = self.shell(shell).env.clone();
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{command}\nexec env -0"))
            .env_clear()
            .envs(&env)
            .current_dir(&self.cwd)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exported = String::from_utf8(out.stdout).unwrap();
        self.shell(shell).env = exported
            .split('\0')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
    }

    /// Runs a command to its end, as `sh` would; it must succeed.
    fn finish(&mut self, shell: &str, command: &str) {
        let reads = (command.starts_with("curl ") && !command.contains(" -X "))
            || command.starts_with("hookd attempts ");
        self.shell(shell).last_read = reads.then(|| command.to_owned());
        let mut sh = self.command(shell, "sh");
        let child = sh.arg("-c").arg(command).spawn().unwrap();
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || done.send(child.wait_with_output()));
        let out = result
            .recv_timeout(COMMAND_LIMIT)
            .unwrap_or_else(|_| panic!("{command} did not end"))
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "`{command}` failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        for line in stdout.lines() {
            self.transcript.push(line.to_owned());
        }
        let screen = &self.shell(shell).screen;
        for line in stdout.lines().chain(stderr.lines()) {
            screen.push(line.to_owned());
        }
    }

    /// `program` as `shell` runs it: its variables, the session's directory, output piped.
    fn command(&mut self, shell: &str, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .envs(&self.shell(shell).env)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Starts a command that runs until stopped, and waits until it says it is ready.
    fn start(&mut self, shell: &str, command: &str, ready: &str) {
        self.interrupt(shell);
        // What follows ` #` is the README's comment.
        let mut words = command
            .split_whitespace()
            .take_while(|word| !word.starts_with('#'));
        let mut assignments = Vec::new();
        let program = loop {
            let word = words.next().expect("a program");
            match word.split_once('=') {
                Some((name, value)) => assignments.push((name.to_owned(), value.to_owned())),
                None => break word,
            }
        };
        let mut program = self.command(shell, program);
        let mut child = program.args(words).envs(assignments).spawn().unwrap();
        let screen = Log::default();
        follow(
            child.stdout.take().unwrap(),
            [screen.clone(), self.transcript.clone()],
            false,
        );
        // Its stderr ends when it does: nothing more will come.
        follow(
            child.stderr.take().unwrap(),
            [screen.clone(), Log::default()],
            true,
        );
        screen
            .wait_for(ready, COMMAND_LIMIT)
            .unwrap_or_else(|all| panic!("`{command}` did not start:\n{all}"));
        let shell = self.shell(shell);
        shell.screen = screen;
        shell.running = Some(child);
    }

    /// Ctrl-C to what runs in `shell`, and waits for it to end.
    pub fn interrupt(&mut self, shell: &str) {
        if let Some(mut child) = self.shell(shell).running.take() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-INT", &pid]).status();
            let _ = child.wait();
        }
    }

    /// Waits until `shell` shows a line like `pattern`. After a command that only reads, such
    /// as a list of attempts, it looks again as a reader would: what it shows is recorded a
    /// moment after the delivery that the other terminal showed.
    pub fn expect(&mut self, shell: &str, pattern: &str) {
        let pattern = self.localize(pattern);
        let screen = self.shell(shell).screen.clone();
        if let Some(command) = self.shell(shell).last_read.clone() {
            let deadline = std::time::Instant::now() + WAIT;
            while screen
                .wait_until(|line| shows(line, &pattern), Duration::ZERO)
                .is_err()
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(100));
                self.finish(shell, &command);
            }
        }
        screen
            .wait_until(|line| shows(line, &pattern), WAIT)
            .unwrap_or_else(|all| panic!("{shell} never showed {pattern:?}:\n{all}"));
    }

    pub fn stop_all(&mut self) {
        let names: Vec<String> = self.shells.keys().cloned().collect();
        for name in names {
            self.interrupt(&name);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for shell in self.shells.values_mut() {
            if let Some(mut child) = shell.running.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Copies each line of `pipe` into every log of `into`; `close`: and closes them at its end.
fn follow<const N: usize>(pipe: impl std::io::Read + Send + 'static, into: [Log; N], close: bool) {
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(pipe)) {
            let Ok(line) = line else { break };
            for log in &into {
                log.push(line.clone());
            }
        }
        if close {
            into.iter().for_each(Log::close);
        }
    });
}

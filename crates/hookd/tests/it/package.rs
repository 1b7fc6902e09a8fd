//! The README's install step and the Debian package, built from one `dist` build: `cargo install`
//! gives a working `hookd`, and `crates/hookd/debian/package` a package with the binary, the
//! systemd unit and its user, the commented config, man pages and completions, whose unit
//! `systemd-analyze` accepts. Needs `cargo deb` (`.ci/run` installs it); without it, says so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Cargo at the lowest priority: its optimized build runs beside the suite's other tests, some
/// of which wait on deadlines.
fn cargo() -> Command {
    let mut command = Command::new("nice");
    command.args(["-n", "19"]);
    command.arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
}

fn ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_install_step_and_the_debian_package_give_a_working_hookd_and_a_sound_unit() {
    if !cargo()
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: cargo deb is not installed (cargo install --locked cargo-deb)");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    install_as_the_readme_says(root.path());
    let deb = build_package();

    let listing = ok(
        "dpkg-deb -c",
        Command::new("dpkg-deb")
            .arg("-c")
            .arg(&deb)
            .output()
            .unwrap(),
    );
    for path in [
        "./usr/bin/hookd",
        "./etc/hookd/hookd.toml",
        "./usr/lib/systemd/system/hookd.service",
        "./usr/lib/sysusers.d/hookd.conf",
        "./usr/share/man/man1/hookd.1.gz",
        "./usr/share/man/man1/hookd-serve.1.gz",
        "./usr/share/bash-completion/completions/hookd",
        "./usr/share/zsh/vendor-completions/_hookd",
        "./usr/share/fish/vendor_completions.d/hookd.fish",
        "./usr/share/doc/hookd/copyright",
    ] {
        assert!(
            listing.lines().any(|line| line.ends_with(path)),
            "{path} is not in the package:\n{listing}"
        );
    }
    let control = tempfile::tempdir().unwrap();
    dpkg_deb("-e", &deb, control.path());
    let conffiles = std::fs::read_to_string(control.path().join("conffiles")).unwrap();
    assert!(conffiles.contains("/etc/hookd/hookd.toml"), "{conffiles}");
    let postinst = std::fs::read_to_string(control.path().join("postinst")).unwrap();
    assert!(
        postinst.contains("systemd-sysusers") && postinst.contains("deb-systemd-helper"),
        "the package makes the user and enables the unit:\n{postinst}"
    );

    let tree = tempfile::tempdir().unwrap();
    dpkg_deb("-x", &deb, tree.path());

    // The packaged config is valid as it stands, and points hookd at the state directory.
    let hookd = tree.path().join("usr/bin/hookd");
    let check = Command::new(&hookd)
        .args(["config", "check", "--config"])
        .arg(tree.path().join("etc/hookd/hookd.toml"))
        .output()
        .unwrap();
    assert!(ok("config check", check).contains("data_dir = \"/var/lib/hookd\""));
    verify_unit(tree.path());
}

/// `dpkg-deb -e` (control files) or `-x` (the files) of `deb` into `dir`.
fn dpkg_deb(what: &str, deb: &Path, dir: &Path) {
    let out = Command::new("dpkg-deb")
        .arg(what)
        .arg(deb)
        .arg(dir)
        .output()
        .unwrap();
    ok(&format!("dpkg-deb {what}"), out);
}

/// Runs the README's `cargo install` line into `root`, on the repository's target directory.
fn install_as_the_readme_says(root: &Path) {
    let readme = crate::readme::readme();
    let line = readme
        .lines()
        .find(|line| line.starts_with("cargo install --locked --path crates/hookd"))
        .expect("the README's install step");
    assert!(
        crate::readme::run_elsewhere(line),
        "the README test leaves it to this one"
    );
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    let out = cargo()
        .args(&args)
        .arg("--root")
        .arg(root)
        .current_dir(REPO)
        .output()
        .unwrap();
    ok(line, out);
    let hookd = root.join("bin/hookd");
    let version = ok(
        "hookd --version",
        Command::new(&hookd).arg("--version").output().unwrap(),
    );
    assert!(version.starts_with("hookd "), "{version}");
    let size = std::fs::metadata(&hookd).unwrap().len();
    assert!(
        size < 40 << 20,
        "the installed binary is {size} bytes: debug info left in?"
    );
}

fn build_package() -> PathBuf {
    let out = Command::new("nice")
        .args(["-n", "19", "bash", "crates/hookd/debian/package"])
        .current_dir(REPO)
        .output()
        .unwrap();
    ok("crates/hookd/debian/package", out);
    let name = format!("hookd_{}-1_", env!("CARGO_PKG_VERSION"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(REPO).join("target"), PathBuf::from);
    let debs = target.join("debian");
    std::fs::read_dir(&debs)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&name)
        })
        .unwrap_or_else(|| panic!("no {name}*.deb in {}", debs.display()))
}

/// `systemd-analyze verify` on the unit as installed (beside the system's own units, which it
/// refers to), with no warning at all; and its exposure stays low.
fn verify_unit(tree: &Path) {
    let units = tree.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    for entry in std::fs::read_dir("/usr/lib/systemd/system").unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), units.join(entry.file_name())).unwrap();
        }
    }
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", tree.display()))
        .arg("/usr/lib/systemd/system/hookd.service")
        .output()
        .unwrap();
    let warnings = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && warnings.trim().is_empty(),
        "systemd-analyze verify:\n{warnings}"
    );

    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(format!("--root={}", tree.display()))
        .arg("hookd.service")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let level: f64 = report
        .lines()
        .find_map(|line| line.split("exposure level for hookd.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level:\n{report}"));
    assert!(level <= 2.0, "exposure {level} (OK is below 4):\n{report}");
}

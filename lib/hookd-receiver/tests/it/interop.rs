//! Interop with the libraries receivers already use: signatures hookd makes verify with the
//! Python `standardwebhooks` and `svix` libraries and the npm `standardwebhooks` package, theirs
//! verify with hookd's, and every negative case is refused by both sides.
//!
//! The scripts in `tests/interop/` drive those libraries. They run when `HOOKD_TEST_PYTHON` names
//! a Python that has `standardwebhooks` and `svix`, and `HOOKD_TEST_NODE_MODULES` a
//! `node_modules` folder holding `standardwebhooks` (`HOOKD_TEST_NODE` picks the node binary);
//! `.ci/run` installs both and sets the variables. Unset, each test says so and passes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hookd_receiver::{Headers, Secret, Verifier, VerifyError, sign};
use serde_json::{Value, json};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

fn python() -> Option<Command> {
    let python = std::env::var_os("HOOKD_TEST_PYTHON")?;
    let mut command = Command::new(python);
    command.arg(script("interop.py"));
    Some(command)
}

fn node() -> Option<Command> {
    let modules = std::env::var_os("HOOKD_TEST_NODE_MODULES")?;
    let node = std::env::var_os("HOOKD_TEST_NODE").unwrap_or_else(|| "node".into());
    let mut command = Command::new(node);
    command.arg(script("interop.cjs")).env("NODE_PATH", modules);
    Some(command)
}

/// Runs a script with `request` on stdin; its answer, per library.
fn run(mut command: Command, request: &Value) -> BTreeMap<String, Value> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script answers JSON")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Keys of the lengths senders use: the spec's least (24 bytes), Svix's (32) and the most (64).
fn secret(len: usize, seed: u8) -> Secret {
    Secret::from_bytes(
        (0..len)
            .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
            .collect(),
    )
}

fn bare(secret: &Secret) -> String {
    secret.to_whsec()["whsec_".len()..].to_owned()
}

const BODIES: [&str; 4] = [
    r#"{"type":"invoice.paid","data":{"amount":4200}}"#,
    r#"{"name": "Zoë ✓ 日本", "emoji": "🚀"}"#,
    "{\n  \"lines\": [1, 2, 3]\n}\n",
    "",
];

struct Expected {
    name: &'static str,
    ok: bool,
    /// For a refusal every library words the same way, what its error says.
    reason: Option<&'static str>,
}

/// Deliveries signed by hookd, each with whether a correct receiver accepts it.
fn signed_by_hookd() -> (Vec<Value>, Vec<Expected>) {
    let now = now();
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    let mut add =
        |name: &'static str, ok: bool, secret_text: String, body: &str, headers: Value| {
            cases.push(json!({ "secret": secret_text, "body": body, "headers": headers }));
            let reason = match name {
                "timestamp 10 minutes old" => Some("too old"),
                "timestamp 10 minutes ahead" => Some("too new"),
                "missing webhook-signature" => Some("Missing required headers"),
                "wrong secret" | "tampered body" | "unknown version only" => {
                    Some("No matching signature")
                }
                _ => None,
            };
            expected.push(Expected { name, ok, reason });
        };
    let headers = |id: &str, ts: i64, signature: String| json!({ "webhook-id": id, "webhook-timestamp": ts.to_string(), "webhook-signature": signature });
    let (s24, s32, s64) = (secret(24, 1), secret(32, 2), secret(64, 3));

    for (i, (name, secret, text)) in [
        ("24-byte whsec_ secret", &s24, s24.to_whsec()),
        ("32-byte whsec_ secret", &s32, s32.to_whsec()),
        ("64-byte secret without whsec_", &s64, bare(&s64)),
    ]
    .into_iter()
    .enumerate()
    {
        for body in BODIES {
            let id = format!("msg_{i}");
            let signature = sign(secret, &id, now, body.as_bytes());
            add(name, true, text.clone(), body, headers(&id, now, signature));
        }
    }
    let body = BODIES[0].as_bytes();
    let right = sign(&s32, "msg_r", now, body);
    let other = sign(&s24, "msg_r", now, body);
    let junk_v1a = format!(
        "v1a,{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 64])
    );
    let several = format!("{other} {junk_v1a} {right}");
    add(
        "several signatures, one right",
        true,
        s32.to_whsec(),
        BODIES[0],
        headers("msg_r", now, several),
    );

    let old = sign(&s32, "msg_o", now - 600, body);
    add(
        "timestamp 10 minutes old",
        false,
        s32.to_whsec(),
        BODIES[0],
        headers("msg_o", now - 600, old),
    );
    let new = sign(&s32, "msg_n", now + 600, body);
    add(
        "timestamp 10 minutes ahead",
        false,
        s32.to_whsec(),
        BODIES[0],
        headers("msg_n", now + 600, new),
    );
    let truncated = right[..right.len() - 8].to_owned();
    add(
        "truncated signature",
        false,
        s32.to_whsec(),
        BODIES[0],
        headers("msg_r", now, truncated),
    );
    let v2 = right.replacen("v1,", "v2,", 1);
    add(
        "unknown version only",
        false,
        s32.to_whsec(),
        BODIES[0],
        headers("msg_r", now, v2),
    );
    add(
        "missing webhook-signature",
        false,
        s32.to_whsec(),
        BODIES[0],
        json!({ "webhook-id": "msg_r", "webhook-timestamp": now.to_string() }),
    );
    add(
        "wrong secret",
        false,
        s24.to_whsec(),
        BODIES[0],
        headers("msg_r", now, right.clone()),
    );
    add(
        "tampered body",
        false,
        s32.to_whsec(),
        "{}",
        headers("msg_r", now, right),
    );
    (cases, expected)
}

fn check_foreign_verdicts(results: &BTreeMap<String, Value>, expected: &[Expected]) {
    for (library, result) in results {
        let verdicts = result["verify"].as_array().unwrap();
        assert_eq!(verdicts.len(), expected.len());
        for (verdict, expected) in verdicts.iter().zip(expected) {
            assert_eq!(
                verdict["ok"].as_bool(),
                Some(expected.ok),
                "{library} on `{}`: {verdict}",
                expected.name
            );
            if let Some(reason) = expected.reason {
                let error = verdict["error"].as_str().unwrap_or_default();
                assert!(
                    error.contains(reason),
                    "{library} on `{}`: {error}",
                    expected.name
                );
            }
        }
        println!("{library}: {} verdicts as expected", verdicts.len());
    }
}

/// What the foreign libraries are asked to sign: (secret, id, timestamp offset, body).
fn to_sign() -> Vec<(Secret, String, i64, &'static str)> {
    let mut cases = Vec::new();
    for (i, body) in BODIES.iter().enumerate() {
        cases.push((secret(24 + 8 * i, i as u8), format!("msg_s{i}"), 0, *body));
    }
    cases.push((secret(32, 9), "msg_old".into(), -600, BODIES[0]));
    cases.push((secret(32, 9), "msg_new".into(), 600, BODIES[0]));
    cases
}

fn verify_with_hookd(
    secret: &Secret,
    id: &str,
    ts: i64,
    signature: &str,
    body: &str,
) -> Result<(), VerifyError> {
    let ts = ts.to_string();
    let headers = Headers {
        id,
        timestamp: &ts,
        signature,
    };
    Verifier::new(secret.clone()).verify(&headers, body.as_bytes(), now())
}

fn check_foreign_signatures(results: &BTreeMap<String, Value>, now: i64) {
    let cases = to_sign();
    for (library, result) in results {
        let signatures: Vec<&str> = result["sign"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(signatures.len(), cases.len());
        for ((secret, id, offset, body), theirs) in cases.iter().zip(&signatures) {
            let ts = now + offset;
            assert_eq!(
                *theirs,
                sign(secret, id, ts, body.as_bytes()),
                "{library} signs as hookd does"
            );
            let expected = match offset {
                0 => Ok(()),
                o if *o < 0 => Err(VerifyError::TimestampTooOld),
                _ => Err(VerifyError::TimestampTooNew),
            };
            assert_eq!(
                verify_with_hookd(secret, id, ts, theirs, body),
                expected,
                "{library}: {id}"
            );
        }

        // The negative cases, each refused for its own reason.
        let (key, id, _, body) = &cases[0];
        let theirs = signatures[0];
        let refused =
            |signature: &str, key: &Secret| verify_with_hookd(key, id, now, signature, body);
        assert_eq!(
            refused(&theirs[..theirs.len() - 8], key),
            Err(VerifyError::MalformedSignature)
        );
        assert_eq!(refused("v1,", key), Err(VerifyError::MalformedSignature));
        assert_eq!(
            refused(&theirs.replacen("v1,", "v2,", 1), key),
            Err(VerifyError::NoKnownSignature)
        );
        assert_eq!(
            refused(theirs, &secret(32, 200)),
            Err(VerifyError::NoSignatureMatched)
        );
        let ts = now.to_string();
        let only_id_and_ts = |name: &str| match name {
            "webhook-id" => Some(id.as_str()),
            "webhook-timestamp" => Some(ts.as_str()),
            _ => None,
        };
        assert_eq!(
            Headers::from_lookup(only_id_and_ts),
            Err(VerifyError::MissingHeader("webhook-signature"))
        );
        // Under the svix-* names, as Svix sends by default.
        let svix = |name: &str| match name {
            "svix-id" => Some(id.as_str()),
            "svix-timestamp" => Some(ts.as_str()),
            "svix-signature" => Some(theirs),
            _ => None,
        };
        let headers = Headers::from_lookup(svix).unwrap();
        assert_eq!(
            Verifier::new(key.clone()).verify(&headers, body.as_bytes(), now),
            Ok(())
        );
        println!(
            "{library}: {} signatures verified by hookd",
            signatures.len()
        );
    }
}

fn sign_request(now: i64) -> Vec<Value> {
    to_sign()
        .into_iter()
        .map(|(secret, id, offset, body)| {
            json!({ "secret": secret.to_whsec(), "id": id, "timestamp": now + offset, "body": body })
        })
        .collect()
}

fn interop(foreign: Option<Command>, variable: &str) {
    let Some(command) = foreign else {
        println!("skipped: set {variable} to run the interop test");
        return;
    };
    let (verify, expected) = signed_by_hookd();
    let now = now();
    let results = run(
        command,
        &json!({ "verify": verify, "sign": sign_request(now) }),
    );
    assert!(!results.is_empty());
    check_foreign_verdicts(&results, &expected);
    check_foreign_signatures(&results, now);
}

#[test]
fn hookd_and_the_python_standardwebhooks_and_svix_libraries_verify_each_other() {
    interop(python(), "HOOKD_TEST_PYTHON");
}

#[test]
fn hookd_and_the_npm_standardwebhooks_package_verify_each_other() {
    interop(node(), "HOOKD_TEST_NODE_MODULES");
}

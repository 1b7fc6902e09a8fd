//! A complete webhook receiver in the standard library alone: answers hookd's ownership
//! challenge and verifies every delivery's signature.
//!
//! ```sh
//! cargo run -p hookd-receiver --example receiver -- 127.0.0.1:9000
//! HOOKD_SECRET=whsec_... cargo run -p hookd-receiver --example receiver -- 127.0.0.1:9000
//! ```
//!
//! A real receiver would use its web framework; the parts that matter are the same: read the
//! raw body, verify before parsing, answer 2xx quickly, deduplicate on `webhook-id`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{SystemTime, UNIX_EPOCH};

use hookd_receiver::{Headers, Secret, Verifier, answer_challenge, challenge_from_query};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let verifier = match std::env::var("HOOKD_SECRET") {
        Ok(s) => Some(Verifier::new(
            Secret::parse(&s).expect("HOOKD_SECRET is a whsec_ secret"),
        )),
        Err(_) => None,
    };
    let listener = TcpListener::bind(&addr)?;
    println!("receiver listening on http://{addr}/hook");
    if verifier.is_none() {
        println!("(no HOOKD_SECRET set: deliveries are shown but not verified)");
    }
    for stream in listener.incoming() {
        if let Err(e) = handle(stream?, verifier.as_ref()) {
            eprintln!("request failed: {e}");
        }
    }
    Ok(())
}

fn handle(mut stream: TcpStream, verifier: Option<&Verifier>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;

    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let reply = if method == "GET" {
        match challenge_from_query(query) {
            Some(token) => {
                println!("challenge answered");
                answer_challenge(&token)
            }
            None => String::new(),
        }
    } else {
        show_delivery(&headers, &body, verifier);
        String::new()
    };
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-content-type-options: nosniff\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    )
}

fn show_delivery(headers: &HashMap<String, String>, body: &[u8], verifier: Option<&Verifier>) {
    let id = headers.get("webhook-id").map(String::as_str).unwrap_or("?");
    println!("event {id}: {}", String::from_utf8_lossy(body));
    let Some(verifier) = verifier else { return };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let verdict = Headers::from_lookup(|name| headers.get(name).map(String::as_str))
        .and_then(|h| verifier.verify(&h, body, now));
    match verdict {
        Ok(()) => println!("  signature: valid"),
        Err(e) => println!("  signature: INVALID ({e})"),
    }
}

//! Config: every server option as a typed value, with the documented defaults.
//!
//! The binary layers defaults, a TOML file and `HOOKD_*` variables into this struct once, at
//! start-up; `validate` refuses what cannot work, so a bad option stops the process before it
//! listens rather than failing later. A leaf of the crate: the rules options are checked
//! against (the lease rule, `Breaker`) live here, and the modules that apply them import them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hookd_core::SignatureType;
use hookd_core::net::AllowList;
use hookd_core::retry::RetryPolicy;
use hookd_store::{Database, PostgresOptions, SecretKey, Sharing};
use serde::{Deserialize, Serialize};

/// What a lease must still cover after a request's timeout when the request starts: time for
/// the commit loop to write the outcome, retries included. The worker gives back a delivery
/// whose lease no longer covers it.
pub const RECORD_ALLOWANCE: Duration = Duration::from_secs(10);

/// The shortest `delivery_lease` that lets a claimed delivery wait one full round of requests
/// in its lane and still be sent.
pub fn shortest_lease(delivery_timeout: Duration) -> Duration {
    delivery_timeout * 2 + RECORD_ALLOWANCE
}

/// When an endpoint's circuit opens (`worker::circuit`) and how long it stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breaker {
    /// Attempts in a row without an answer that open the circuit; 0 never opens it.
    pub after: u32,
    /// How long the first opening holds deliveries before a probe.
    pub pause: Duration,
    /// The longest pause, however many probes failed.
    pub max_pause: Duration,
}

/// Whether a new or changed endpoint URL must echo a challenge before it is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointVerification {
    Required,
    Off,
}

/// Which names the signature headers of a delivery carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureHeaders {
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature` (Standard Webhooks).
    Webhook,
    /// `svix-id`, `svix-timestamp`, `svix-signature`.
    Svix,
    Both,
}

/// What generated endpoint secrets sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefaultSignatureType {
    /// `whsec_` secrets, `v1` signatures.
    Hmac,
    /// `whsk_` keys, `v1a` signatures; receivers hold the `whpk_` public key.
    Ed25519,
}

/// A secret as configured; `Debug` never prints it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigSecret(pub String);

impl std::fmt::Debug for ConfigSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("**redacted**")
    }
}

/// What one node does. Nodes on a shared database can be scaled apart: API nodes take
/// messages, worker nodes deliver them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The API and the delivery worker.
    All,
    /// The API only: messages are stored and queued, and other nodes deliver them.
    Api,
    /// The delivery worker only; the listen address serves just `/api/v1/health`.
    Worker,
}

impl Role {
    pub fn serves_api(self) -> bool {
        matches!(self, Role::All | Role::Api)
    }

    pub fn runs_worker(self) -> bool {
        matches!(self, Role::All | Role::Worker)
    }
}

/// The server's options as read from file and environment, before validation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    /// `postgres://...` or `sqlite:PATH`; none: `hookd.db` in `data_dir`.
    pub database: Option<String>,
    pub database_pool_size: u32,
    pub database_statement_timeout: String,
    pub role: Role,
    pub endpoint_verification: EndpointVerification,
    pub challenge_timeout: String,
    pub delivery_timeout: String,
    pub delivery_lease: String,
    pub retry_schedule: Vec<String>,
    pub retry_jitter: f64,
    pub min_backoff_after_throttle: String,
    pub max_retry_after: String,
    pub signature_headers: SignatureHeaders,
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_networks: Vec<String>,
    pub max_payload_bytes: usize,
    pub max_in_flight: usize,
    pub max_in_flight_per_endpoint: usize,
    /// Attempts in a row without an answer after which an endpoint's deliveries are held and
    /// it is probed; 0: never.
    pub unreachable_after: u32,
    pub unreachable_pause: String,
    pub unreachable_max_pause: String,
    /// Base64 of the 32-byte key that seals endpoint secrets in the database.
    pub secret_key: Option<ConfigSecret>,
    pub default_signature_type: DefaultSignatureType,
    /// The pages that may embed the customer portal in a frame (CSP `frame-ancestors`).
    #[serde(deserialize_with = "string_or_list")]
    pub portal_frame_ancestors: Vec<String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            listen: "127.0.0.1:8071".into(),
            data_dir: PathBuf::from("./hookd-data"),
            database: None,
            database_pool_size: 10,
            database_statement_timeout: "30s".into(),
            role: Role::All,
            endpoint_verification: EndpointVerification::Required,
            challenge_timeout: "10s".into(),
            delivery_timeout: "15s".into(),
            delivery_lease: "2m".into(),
            retry_schedule: ["0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"]
                .map(String::from)
                .to_vec(),
            retry_jitter: 0.2,
            min_backoff_after_throttle: "60s".into(),
            max_retry_after: "24h".into(),
            signature_headers: SignatureHeaders::Webhook,
            allowed_networks: Vec::new(),
            max_payload_bytes: 1024 * 1024,
            max_in_flight: 512,
            max_in_flight_per_endpoint: 64,
            unreachable_after: 5,
            unreachable_pause: "5s".into(),
            unreachable_max_pause: "5m".into(),
            secret_key: None,
            default_signature_type: DefaultSignatureType::Hmac,
            portal_frame_ancestors: vec!["'self'".into()],
        }
    }
}

/// The validated configuration the server runs on.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: Database,
    pub role: Role,
    pub endpoint_verification: EndpointVerification,
    pub challenge_timeout: Duration,
    pub delivery_timeout: Duration,
    /// How long a claimed delivery is this node's before other nodes may take it over.
    pub delivery_lease: Duration,
    pub retry: RetryPolicy,
    pub signature_headers: SignatureHeaders,
    pub allowed_networks: AllowList,
    pub max_payload_bytes: usize,
    /// Delivery requests in flight at once on this node.
    pub max_in_flight: usize,
    /// Delivery requests in flight at once to one endpoint, over the whole cluster: on a shared
    /// database the claim counts every node's live leases of the endpoint; on SQLite, one
    /// process, its lanes hold it.
    pub max_in_flight_per_endpoint: usize,
    /// When an endpoint that does not answer has its deliveries held and is probed instead.
    pub breaker: Breaker,
    /// The key that seals endpoint secrets; `None` on SQLite means the key file in `data_dir`.
    pub secret_key: Option<SecretKey>,
    pub default_signature_type: SignatureType,
    /// The sources of the portal's `frame-ancestors`, checked, space-separated.
    pub portal_frame_ancestors: String,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid config: {field}: {problem}")]
pub struct ConfigError {
    pub field: &'static str,
    pub problem: String,
}

fn bad(field: &'static str, problem: impl ToString) -> ConfigError {
    ConfigError {
        field,
        problem: problem.to_string(),
    }
}

fn duration(field: &'static str, value: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value).map_err(|e| bad(field, format!("{value:?}: {e}")))
}

/// A list, or one comma-separated string (the form an environment variable takes).
fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        OneOrMany::Many(v) => v,
    })
}

impl RawConfig {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let listen = self
            .listen
            .parse()
            .map_err(|e| bad("listen", format!("{:?}: {e} (want host:port)", self.listen)))?;
        let schedule = self
            .retry_schedule
            .iter()
            .map(|d| duration("retry_schedule", d))
            .collect::<Result<Vec<_>, _>>()?;
        if schedule.is_empty() {
            return Err(bad("retry_schedule", "needs at least one entry"));
        }
        if !(0.0..=1.0).contains(&self.retry_jitter) {
            return Err(bad("retry_jitter", "must be between 0 and 1"));
        }
        let allowed_networks = AllowList::parse(&self.allowed_networks).map_err(|e| {
            bad(
                "allowed_networks",
                format!("{e} (want CIDRs like 127.0.0.1/32)"),
            )
        })?;
        for (field, value) in [
            ("max_payload_bytes", self.max_payload_bytes),
            ("max_in_flight", self.max_in_flight),
            (
                "max_in_flight_per_endpoint",
                self.max_in_flight_per_endpoint,
            ),
        ] {
            if value == 0 {
                return Err(bad(field, "must be at least 1"));
            }
        }
        let database = self.database()?;
        let secret_key = self.secret_key(database.sharing())?;
        if self.role != Role::All && database.sharing() == Sharing::ThisProcess {
            return Err(bad(
                "role",
                "\"api\" and \"worker\" need a database that nodes share: set database = \"postgres://...\"",
            ));
        }
        let delivery_timeout = duration("delivery_timeout", &self.delivery_timeout)?;
        let delivery_lease = duration("delivery_lease", &self.delivery_lease)?;
        let shortest = shortest_lease(delivery_timeout);
        if delivery_lease < shortest {
            return Err(bad(
                "delivery_lease",
                format!(
                    "{} is too short for a delivery_timeout of {}: at least {}",
                    self.delivery_lease,
                    self.delivery_timeout,
                    humantime::format_duration(shortest)
                ),
            ));
        }
        let portal_frame_ancestors = frame_ancestors(&self.portal_frame_ancestors)?;
        Ok(Config {
            listen,
            portal_frame_ancestors,
            database,
            role: self.role,
            data_dir: self.data_dir,
            endpoint_verification: self.endpoint_verification,
            challenge_timeout: duration("challenge_timeout", &self.challenge_timeout)?,
            delivery_timeout,
            delivery_lease,
            retry: RetryPolicy {
                schedule,
                jitter: self.retry_jitter,
                min_backoff_after_throttle: duration(
                    "min_backoff_after_throttle",
                    &self.min_backoff_after_throttle,
                )?,
                max_retry_after: duration("max_retry_after", &self.max_retry_after)?,
            },
            signature_headers: self.signature_headers,
            allowed_networks,
            max_payload_bytes: self.max_payload_bytes,
            max_in_flight: self.max_in_flight,
            max_in_flight_per_endpoint: self.max_in_flight_per_endpoint,
            breaker: Breaker {
                after: self.unreachable_after,
                pause: duration("unreachable_pause", &self.unreachable_pause)?,
                max_pause: duration("unreachable_max_pause", &self.unreachable_max_pause)?,
            },
            secret_key,
            default_signature_type: match self.default_signature_type {
                DefaultSignatureType::Hmac => SignatureType::Hmac,
                DefaultSignatureType::Ed25519 => SignatureType::Ed25519,
            },
        })
    }
}

/// The sources as one CSP source list. Each must be a keyword (`'self'`, `'none'`), `*`, a
/// scheme (`https:`) or an origin (`https://dash.example.com`, `https://*.example.com:8443`):
/// nothing that could end the directive or add another.
fn frame_ancestors(sources: &[String]) -> Result<String, ConfigError> {
    const FIELD: &str = "portal_frame_ancestors";
    if sources.is_empty() {
        return Err(bad(
            FIELD,
            "needs at least one source; \"'none'\" forbids every frame",
        ));
    }
    for source in sources {
        let keyword = matches!(source.as_str(), "'self'" | "'none'" | "*");
        let plain = source.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'.' | b'-' | b'*' | b'_')
        });
        if !keyword && (!plain || source.is_empty()) {
            return Err(bad(
                FIELD,
                format!(
                    "{source:?} is not a frame source: use 'self', 'none', or origins such as \
                     https://dashboard.example.com"
                ),
            ));
        }
    }
    if sources.len() > 1 && sources.iter().any(|s| s == "'none'") {
        return Err(bad(FIELD, "'none' cannot stand beside other sources"));
    }
    Ok(sources.join(" "))
}

impl RawConfig {
    /// The configured key; required where nodes share the database, since each must open
    /// what the others sealed.
    fn secret_key(&self, sharing: Sharing) -> Result<Option<SecretKey>, ConfigError> {
        let text = self
            .secret_key
            .as_ref()
            .map(|k| k.0.trim())
            .unwrap_or_default();
        if text.is_empty() {
            return match sharing {
                Sharing::ThisProcess => Ok(None),
                Sharing::Nodes => Err(bad(
                    "secret_key",
                    "required with PostgreSQL: every node seals endpoint secrets with the same \
                     key. Set it (or HOOKD_SECRET_KEY) to base64 of 32 random bytes, e.g. from \
                     `openssl rand -base64 32`",
                )),
            };
        }
        SecretKey::from_base64(text).map(Some).map_err(|e| {
            bad(
                "secret_key",
                format!("{e}, e.g. from `openssl rand -base64 32`"),
            )
        })
    }

    fn database(&self) -> Result<Database, ConfigError> {
        let url = self.database.as_deref().map(str::trim).unwrap_or_default();
        if url.is_empty() {
            return Ok(Database::Sqlite(self.data_dir.join("hookd.db")));
        }
        if self.database_pool_size == 0 {
            return Err(bad("database_pool_size", "must be at least 1"));
        }
        let statement_timeout = duration(
            "database_statement_timeout",
            &self.database_statement_timeout,
        )?;
        if statement_timeout.is_zero() {
            return Err(bad("database_statement_timeout", "must be more than 0s"));
        }
        let options = PostgresOptions {
            pool_size: self.database_pool_size,
            statement_timeout,
        };
        Database::from_url(url, options).map_err(|e| bad("database", e))
    }
}

impl Default for Config {
    fn default() -> Self {
        RawConfig::default()
            .validate()
            .expect("the defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::frame_ancestors;

    fn sources(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn frame_ancestors_are_keywords_schemes_or_origins_and_nothing_that_escapes() {
        let ok = frame_ancestors(&sources(&["'self'", "https://*.example.com:8443", "http:"]));
        assert_eq!(ok.unwrap(), "'self' https://*.example.com:8443 http:");
        for bad in ["https://a.com; script-src *", "'unsafe-inline'", "a b", ""] {
            assert!(frame_ancestors(&sources(&[bad])).is_err(), "{bad:?}");
        }
        assert!(frame_ancestors(&[]).is_err());
        assert!(frame_ancestors(&sources(&["'none'", "'self'"])).is_err());
    }
}

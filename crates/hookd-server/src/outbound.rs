//! Outbound: every request hookd makes to a receiver goes through here, guarded against SSRF.
//!
//! Only http and https. IP-literal hosts are vetted here (the connector never asks a resolver
//! about them); names go through `GuardedResolver`, which resolves, vets every address and hands
//! the connector only what it vetted, so a DNS answer cannot change between check and connect.
//! The client is hyper-util's pooled one with rustls and the platform's certificate verifier:
//! it has no proxy support and follows no redirects, and response bodies are read only up to a
//! cap.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hookd_core::FailureReason;
use hookd_core::net::{AllowList, ForbiddenAddress, vet};
use http::header::{
    ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER,
    USER_AGENT as USER_AGENT_HEADER,
};
use http::{Method, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use url::Url;

pub const USER_AGENT: &str = concat!("hookd/", env!("CARGO_PKG_VERSION"));

/// How long hookd waits for a TCP connection to a receiver's address.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle time before TCP keep-alive probes a connection, and the time between probes.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// How long data sent to a receiver may go unacknowledged before the connection is dropped.
#[cfg(target_os = "linux")]
const USER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an unused connection to a receiver stays in the pool.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A request that did not produce an HTTP answer, or was never sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    pub reason: FailureReason,
    pub detail: String,
}

/// The receiver's answer, its body cut at the cap.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<Duration>,
    pub location: Option<String>,
    pub elapsed: Duration,
}

/// One request to make.
pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<&'a [u8]>,
    pub timeout: Duration,
    pub body_cap: usize,
}

type Connector = HttpsConnector<HttpConnector<GuardedResolver>>;

#[derive(Clone)]
pub struct Outbound {
    client: Client<Connector, Full<Bytes>>,
    allow: AllowList,
    /// Receiver URLs parsed and vetted already: every attempt at an endpoint names the same
    /// one, and the allow-list does not change.
    vetted: Arc<Mutex<HashMap<String, Url>>>,
}

/// The most vetted URLs kept; past it they are vetted again from scratch.
const VETTED_KEPT: usize = 1024;

impl Outbound {
    pub fn new(allow: AllowList) -> Outbound {
        let mut tcp = HttpConnector::new_with_resolver(GuardedResolver {
            allow: allow.clone(),
        });
        // The TLS layer above takes https; this one must let it through.
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
        // A pooled connection whose peer vanished is found out in under a minute, not after
        // the kernel's retransmissions give up (about 15 minutes of timed-out deliveries).
        tcp.set_keepalive(Some(KEEPALIVE));
        tcp.set_keepalive_interval(Some(KEEPALIVE));
        tcp.set_keepalive_retries(Some(3));
        #[cfg(target_os = "linux")]
        tcp.set_tcp_user_timeout(Some(USER_TIMEOUT));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_platform_verifier(provider)
            .expect("aws-lc-rs supports the safe default TLS versions")
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build(connector);
        Outbound {
            client,
            allow,
            vetted: Arc::default(),
        }
    }

    /// Parses a receiver URL and refuses what hookd must never call: other schemes, and hosts
    /// that are forbidden IP literals.
    pub fn vet_url(&self, raw: &str) -> Result<Url, Failed> {
        let mut vetted = self.vetted.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(url) = vetted.get(raw) {
            return Ok(url.clone());
        }
        let url = self.vet_new(raw)?;
        if vetted.len() >= VETTED_KEPT {
            vetted.clear();
        }
        vetted.insert(raw.to_owned(), url.clone());
        Ok(url)
    }

    fn vet_new(&self, raw: &str) -> Result<Url, Failed> {
        let url = Url::parse(raw).map_err(|e| blocked(format!("invalid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(blocked(format!(
                "scheme {:?} is not allowed (http or https only)",
                url.scheme()
            )));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(v4.into()),
            Some(url::Host::Ipv6(v6)) => Some(v6.into()),
            Some(url::Host::Domain(_)) => None,
            None => return Err(blocked("the URL has no host".into())),
        };
        if let Some(ip) = ip {
            vet(ip, &self.allow).map_err(|e| blocked(e.to_string()))?;
        }
        Ok(url)
    }

    /// Sends the request; an HTTP answer of any status is `Ok`.
    pub async fn send(&self, request: Request<'_>) -> Result<Answer, Failed> {
        let started = Instant::now();
        let timeout = request.timeout;
        let work = self.send_and_read(request, started);
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(timed_out(timeout)),
        }
    }

    async fn send_and_read(
        &self,
        request: Request<'_>,
        started: Instant,
    ) -> Result<Answer, Failed> {
        // The URL was normalised by `vet_url` (IP literals in every spelling included), and
        // the connector sees exactly this text.
        let mut url = request.url;
        let mut headers = request.headers;
        // Credentials in the URL go as Basic authorization (unless the endpoint's own headers
        // set one), never on the wire in the URL itself.
        if let Some(credentials) = basic_credentials(&url) {
            if !headers.contains_key(AUTHORIZATION) {
                headers.insert(AUTHORIZATION, credentials);
            }
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        let uri = Uri::try_from(url.as_str()).map_err(|e| blocked(format!("invalid URL: {e}")))?;
        if !headers.contains_key(USER_AGENT_HEADER) {
            headers.insert(USER_AGENT_HEADER, HeaderValue::from_static(USER_AGENT));
        }
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        }
        let body = request.body.map(Bytes::copy_from_slice).unwrap_or_default();
        let mut outgoing = http::Request::new(Full::new(body));
        *outgoing.method_mut() = request.method;
        *outgoing.uri_mut() = uri;
        *outgoing.headers_mut() = headers;
        let response = self
            .client
            .request(outgoing)
            .await
            .map_err(|e| classify(&e, request.timeout))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut incoming = response.into_body();
        let mut body = Vec::new();
        while body.len() < request.body_cap {
            match incoming.frame().await {
                Some(Ok(frame)) => {
                    if let Some(chunk) = frame.data_ref() {
                        body.extend_from_slice(chunk);
                    }
                }
                None => break,
                // The status is what counts; a body cut short is still an answer.
                Some(Err(_)) => break,
            }
        }
        body.truncate(request.body_cap);
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            retry_after,
            location,
            elapsed: started.elapsed(),
        })
    }
}

/// `Basic` authorization from the URL's user name and password (percent-decoded), if it has
/// either.
fn basic_credentials(url: &Url) -> Option<HeaderValue> {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |part: &str| percent_encoding::percent_decode_str(part).collect::<Vec<u8>>();
    let mut pair = decode(url.username());
    pair.push(b':');
    pair.extend(decode(url.password().unwrap_or_default()));
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
    let mut value = HeaderValue::try_from(format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn blocked(detail: String) -> Failed {
    Failed {
        reason: FailureReason::Blocked,
        detail,
    }
}

fn timed_out(after: Duration) -> Failed {
    Failed {
        reason: FailureReason::Timeout,
        detail: format!(
            "no complete answer within {}",
            humantime::format_duration(after)
        ),
    }
}

/// Sorts a transport error into a failure reason by looking through its causes.
fn classify(error: &(dyn StdError + 'static), timeout: Duration) -> Failed {
    let mut reason = FailureReason::Connect;
    let mut deepest = error.to_string();
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(forbidden) = current.downcast_ref::<BlockedHost>() {
            return blocked(forbidden.to_string());
        }
        if let Some(dns) = current.downcast_ref::<DnsFailure>() {
            return Failed {
                reason: FailureReason::Dns,
                detail: dns.to_string(),
            };
        }
        if current.downcast_ref::<rustls::Error>().is_some() {
            reason = FailureReason::Tls;
        }
        deepest = current.to_string();
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                return Failed {
                    reason: FailureReason::Timeout,
                    detail: format!(
                        "could not connect within {}",
                        humantime::format_duration(CONNECT_TIMEOUT.min(timeout))
                    ),
                };
            }
            // An io::Error's `source` skips the error it wraps; the TLS layer's errors hide
            // there.
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
    }
    Failed {
        reason,
        detail: deepest,
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    let wait = at - OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to a forbidden address: {source}")]
struct BlockedHost {
    host: String,
    #[source]
    source: ForbiddenAddress,
}

#[derive(Debug, thiserror::Error)]
#[error("could not resolve {host}: {problem}")]
struct DnsFailure {
    host: String,
    problem: String,
}

type BoxError = Box<dyn StdError + Send + Sync>;

/// Resolves a host name, and refuses it if any of its addresses is forbidden.
#[derive(Clone)]
struct GuardedResolver {
    allow: AllowList,
}

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow = self.allow.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host(format!("{host}:0")).await;
            let addrs: Vec<SocketAddr> = match found {
                Ok(addrs) => addrs.collect(),
                Err(e) => {
                    return Err(Box::new(DnsFailure {
                        host,
                        problem: e.to_string(),
                    }) as BoxError);
                }
            };
            if addrs.is_empty() {
                return Err(Box::new(DnsFailure {
                    host,
                    problem: "no addresses".into(),
                }) as BoxError);
            }
            for addr in &addrs {
                if let Err(source) = vet(addr.ip(), &allow) {
                    return Err(Box::new(BlockedHost { host, source }) as BoxError);
                }
            }
            Ok(addrs.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_hosts_are_vetted_in_every_spelling() {
        let outbound = Outbound::new(AllowList::default());
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "http://[fd00:ec2::254]/",
            "ftp://example.com/",
            "file:///etc/passwd",
        ] {
            let failed = outbound.vet_url(url).expect_err(url);
            assert_eq!(failed.reason, FailureReason::Blocked, "{url}");
        }
        assert!(outbound.vet_url("https://93.184.215.14/hook").is_ok());
        assert!(outbound.vet_url("https://example.com/hook").is_ok());
    }

    #[test]
    fn a_url_vetted_once_is_the_same_url_again_and_a_refused_one_stays_refused() {
        let outbound = Outbound::new(AllowList::default());
        let first = outbound.vet_url("https://example.com/hook?a=1").unwrap();
        let again = outbound.vet_url("https://example.com/hook?a=1").unwrap();
        assert_eq!(first, again);
        assert_eq!(again.as_str(), "https://example.com/hook?a=1");
        for _ in 0..2 {
            let refused = outbound.vet_url("http://169.254.169.254/").unwrap_err();
            assert_eq!(refused.reason, FailureReason::Blocked);
        }
        for n in 0..VETTED_KEPT + 10 {
            outbound
                .vet_url(&format!("https://example.com/{n}"))
                .unwrap();
        }
        assert!(outbound.vetted.lock().unwrap().len() <= VETTED_KEPT);
    }

    #[test]
    fn the_allow_list_opens_literal_loopback() {
        let allow = AllowList::parse(&["127.0.0.0/8".to_string()]).unwrap();
        let outbound = Outbound::new(allow);
        assert!(outbound.vet_url("http://127.0.0.1:8080/").is_ok());
        assert!(outbound.vet_url("http://10.0.0.1/").is_err());
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}

//! `Client` (feature `client`): a typed client for the calls hookd's own commands make
//! (`hookd listen`, `send`, `attempts`, `resend`). Any Svix SDK works against hookd as well; this
//! one exists so the binary needs no SDK.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::{
    ApplicationIn, ApplicationOut, EndpointIn, EndpointOut, HttpErrorOut, ListResponse,
    MessageAttemptOut, MessageIn, MessageOut, ValidationError,
};

/// An API token. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(**redacted**)")
    }
}

impl std::str::FromStr for Token {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Token, Self::Err> {
        Ok(Token::new(s))
    }
}

/// A call that did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("`{0}` is not an http(s) URL of a hookd server")]
    BadServerUrl(String),
    #[error("cannot reach the hookd server at {url}: {}", causes(source))]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status; `detail` is its message.
    #[error("the server answered {status}: {detail}")]
    Api {
        status: StatusCode,
        code: Option<String>,
        detail: String,
    },
    #[error("the server's answer to {url} is not what hookd sends: {source}")]
    UnexpectedAnswer {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

impl ClientError {
    /// The HTTP status of an API error, if that is what this is.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Which attempts to list, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptsOf<'a> {
    Message(&'a str),
    Endpoint(&'a str),
}

/// A client of one hookd server's `/api/v1`, authenticated with one token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    api: Url,
    token: Token,
}

impl Client {
    /// `server` is the server's base URL (`http://127.0.0.1:8071`); a trailing `/api/v1` is
    /// accepted too.
    pub fn new(server: &str, token: Token) -> Result<Client, ClientError> {
        let bad = || ClientError::BadServerUrl(server.to_owned());
        let mut api = Url::parse(server).map_err(|_| bad())?;
        if !matches!(api.scheme(), "http" | "https") || api.cannot_be_a_base() {
            return Err(bad());
        }
        {
            let mut path = api.path_segments_mut().map_err(|_| bad())?;
            path.pop_if_empty();
        }
        if !api.path().ends_with("/api/v1") {
            api.path_segments_mut()
                .map_err(|_| bad())?
                .extend(["api", "v1"]);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("hookd-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| ClientError::Unreachable {
                url: server.to_owned(),
                source,
            })?;
        Ok(Client { http, api, token })
    }

    pub async fn get_application(&self, app: &str) -> Result<ApplicationOut, ClientError> {
        self.call(Method::GET, &["app", app], None::<&()>).await
    }

    pub async fn create_application(
        &self,
        application: &ApplicationIn,
    ) -> Result<ApplicationOut, ClientError> {
        self.call(Method::POST, &["app"], Some(application)).await
    }

    /// Creates an endpoint; the server runs the ownership challenge before it answers.
    pub async fn create_endpoint(
        &self,
        app: &str,
        endpoint: &EndpointIn,
    ) -> Result<EndpointOut, ClientError> {
        self.call(Method::POST, &["app", app, "endpoint"], Some(endpoint))
            .await
    }

    pub async fn delete_endpoint(&self, app: &str, endpoint: &str) -> Result<(), ClientError> {
        self.call_for_status(Method::DELETE, &["app", app, "endpoint", endpoint])
            .await
    }

    pub async fn create_message(
        &self,
        app: &str,
        message: &MessageIn,
    ) -> Result<MessageOut, ClientError> {
        self.call(Method::POST, &["app", app, "msg"], Some(message))
            .await
    }

    pub async fn get_message(&self, app: &str, msg: &str) -> Result<MessageOut, ClientError> {
        self.call(Method::GET, &["app", app, "msg", msg], None::<&()>)
            .await
    }

    /// One page of attempts, newest first.
    pub async fn list_attempts(
        &self,
        app: &str,
        of: AttemptsOf<'_>,
        limit: u16,
    ) -> Result<ListResponse<MessageAttemptOut>, ClientError> {
        let (kind, id) = match of {
            AttemptsOf::Message(msg) => ("msg", msg),
            AttemptsOf::Endpoint(endpoint) => ("endpoint", endpoint),
        };
        let mut url = self.url(&["app", app, "attempt", kind, id]);
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        self.send(Method::GET, url, None::<&()>).await
    }

    /// Sends a message to an endpoint again (202): a new attempt, triggered manually.
    pub async fn resend(&self, app: &str, msg: &str, endpoint: &str) -> Result<(), ClientError> {
        let path = ["app", app, "msg", msg, "endpoint", endpoint, "resend"];
        self.call_for_status(Method::POST, &path).await
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.api.clone();
        url.path_segments_mut()
            .expect("checked to be a base in new")
            .extend(segments);
        url
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        self.send(method, self.url(segments), body).await
    }

    async fn call_for_status(&self, method: Method, segments: &[&str]) -> Result<(), ClientError> {
        let url = self.url(segments);
        self.exchange(method, url, None::<&()>).await.map(|_| ())
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let text = self.exchange(method, url.clone(), body).await?;
        serde_json::from_str(&text).map_err(|source| ClientError::UnexpectedAnswer {
            url: url.to_string(),
            source,
        })
    }

    /// Makes the request; the body of a 2xx answer, or the error the server gave.
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<&impl Serialize>,
    ) -> Result<String, ClientError> {
        let unreachable = |source| ClientError::Unreachable {
            url: url.to_string(),
            source,
        };
        let mut request = self
            .http
            .request(method, url.clone())
            .bearer_auth(&self.token.0);
        if let Some(body) = body {
            let json = serde_json::to_vec(body).expect("wire types always serialize");
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(api_error(status, &text))
        }
    }
}

/// What caused an error, `: `-separated. reqwest's own message only repeats the URL.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

/// The error body, read as the API writes it (`{code, detail}`, or the 422 list).
fn api_error(status: StatusCode, body: &str) -> ClientError {
    if let Ok(error) = serde_json::from_str::<HttpErrorOut>(body) {
        return ClientError::Api {
            status,
            code: Some(error.code),
            detail: error.detail,
        };
    }
    let detail = match serde_json::from_str::<ValidationError>(body) {
        Ok(invalid) => invalid
            .detail
            .iter()
            .map(|item| format!("{}: {}", item.loc.join("."), item.msg))
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) if body.trim().is_empty() => {
            status.canonical_reason().unwrap_or("no detail").to_owned()
        }
        Err(_) => body.chars().take(300).collect(),
    };
    ClientError::Api {
        status,
        code: None,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(server: &str) -> String {
        Client::new(server, Token::new("t"))
            .unwrap()
            .api
            .to_string()
    }

    #[test]
    fn the_api_url_is_found_with_or_without_api_v1_and_a_slash() {
        for server in [
            "http://h:1",
            "http://h:1/",
            "http://h:1/api/v1",
            "http://h:1/api/v1/",
        ] {
            assert_eq!(api(server), "http://h:1/api/v1", "{server}");
        }
        assert_eq!(api("https://h/prefix"), "https://h/prefix/api/v1");
    }

    #[test]
    fn a_server_that_is_no_http_url_is_refused() {
        for server in ["h:1", "ftp://h", "mailto:x@y", ""] {
            assert!(
                matches!(
                    Client::new(server, Token::new("t")),
                    Err(ClientError::BadServerUrl(_))
                ),
                "{server}"
            );
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        let client = Client::new("http://h", Token::new("t")).unwrap();
        assert_eq!(
            client.url(&["app", "a/b?c"]).as_str(),
            "http://h/api/v1/app/a%2Fb%3Fc"
        );
    }

    #[test]
    fn error_bodies_are_read_in_both_shapes() {
        let err = api_error(
            StatusCode::NOT_FOUND,
            r#"{"code":"not_found","detail":"application not found"}"#,
        );
        assert_eq!(
            err.to_string(),
            "the server answered 404 Not Found: application not found"
        );
        let err = api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            r#"{"detail":[{"loc":["body","url"],"msg":"bad url","type":"value_error"}]}"#,
        );
        assert!(err.to_string().ends_with("body.url: bad url"), "{err}");
        assert_eq!(
            api_error(StatusCode::BAD_GATEWAY, "").to_string(),
            "the server answered 502 Bad Gateway: Bad Gateway"
        );
    }

    #[test]
    fn debug_does_not_print_the_token() {
        let client = Client::new("http://h", Token::new("hk_secret")).unwrap();
        assert!(!format!("{client:?}").contains("hk_secret"));
    }
}

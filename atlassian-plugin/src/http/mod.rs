//! The one HTTP client of a connector instance, and how HTTP failures become connector errors.
//!
//! Every request goes through [`Http::send`]: the URL is built from the API's base by segments
//! (ids are percent-encoded, the host can never change), redirects are refused (credentials are
//! never forwarded), bodies are size-limited, and 429/5xx and transport failures are retried per
//! [`retry::RetryPolicy`] inside the operation's deadline.

pub mod governor;
pub mod retry;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use connector_api::{ConnectorError, ErrorKind, LogLevel, Result, Secret};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use crate::call_log;
use governor::Governor;
use retry::{RetryPolicy, retryable_status, server_wait};

/// The largest response body read; more is an error, never an allocation.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// How an API authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `Authorization: Bearer`.
    Bearer(Secret),
    /// `Authorization: Basic email:token`.
    Basic {
        /// The account's email.
        email: String,
        /// The API token.
        token: Secret,
    },
}

/// One remote API: where it is, how it authenticates, and how to name it in errors.
#[derive(Debug, Clone)]
pub struct Api {
    /// `SCIM`, `Jira` or `Confluence`.
    pub name: &'static str,
    /// The base URL, ending in `/`.
    pub base: Url,
    /// The credential.
    pub auth: Auth,
    /// The configuration fields of the credential, for error messages.
    pub credential: &'static str,
    /// Where in Atlassian administration the credential is fixed.
    pub credential_fix: &'static str,
    /// The rate governor of this credential, shared by the APIs that use it.
    pub governor: Arc<Governor>,
}

impl Api {
    /// An API at `base` (a trailing `/` is added).
    pub fn new(
        name: &'static str,
        base: &str,
        auth: Auth,
        credential: &'static str,
        credential_fix: &'static str,
        governor: Arc<Governor>,
    ) -> Result<Api> {
        let mut base = Url::parse(base.trim())
            .map_err(|e| ConnectorError::invalid_config(name, format!("not a URL: {e}")))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Api {
            name,
            base,
            auth,
            credential,
            credential_fix,
            governor,
        })
    }

    /// The URL of `segments` below the base, each percent-encoded, with `query`.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("an http(s) base URL has a path");
            path.pop_if_empty();
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }
}

/// A response that was not retried away.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, at most [`MAX_BODY`] bytes.
    pub body: Bytes,
    /// Whether an earlier attempt of this request may have been applied (its response was lost).
    pub maybe_applied_before: bool,
}

impl Reply {
    /// The body as JSON of type `T`; a malformed body is an error naming the API and the field.
    pub fn json<T: DeserializeOwned>(&self, api: &Api, what: &str) -> Result<T> {
        // Tracking the path costs a tenth of a reconciliation's parsing: read fast, and read
        // again to locate the fault only when there is one.
        if let Ok(value) = serde_json::from_slice(&self.body) {
            return Ok(value);
        }
        let de = &mut serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
            ConnectorError::new(
                ErrorKind::ConnectionFailed,
                format!(
                    "{} answered {what} that could not be read (at `{}`): {}",
                    api.name,
                    e.path(),
                    e.inner()
                ),
            )
            .with_details(json!({ "api": api.name, "status": self.status.as_u16() }))
        })
    }

    /// Whether the status is one of `ok`.
    pub fn is(&self, ok: &[u16]) -> bool {
        ok.contains(&self.status.as_u16())
    }
}

/// A request: what to send and whether it may be sent twice.
#[derive(Debug)]
pub struct Request<'a> {
    /// The method.
    pub method: Method,
    /// The URL (from [`Api::url`]).
    pub url: Url,
    /// The JSON body.
    pub body: Option<&'a Value>,
    /// Whether the request may be resent after a lost response (reads, idempotent writes, and
    /// creates whose duplicates the caller resolves).
    pub resend_safe: bool,
}

impl<'a> Request<'a> {
    /// How errors and log lines name the request: `SCIM GET /scim/directory/…/Users`, no query.
    fn label(&self, api: &Api) -> String {
        format!("{} {} {}", api.name, self.method, self.url.path())
    }

    /// A GET: always safe to resend.
    pub fn get(url: Url) -> Self {
        Request {
            method: Method::GET,
            url,
            body: None,
            resend_safe: true,
        }
    }

    /// A write with a JSON body.
    pub fn write(method: Method, url: Url, body: Option<&'a Value>, resend_safe: bool) -> Self {
        Request {
            method,
            url,
            body,
            resend_safe,
        }
    }
}

/// The client.
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
    request_timeout: Duration,
    redactor: Redactor,
}

impl Http {
    /// A client with rustls, no redirects, the given per-request timeout and retry budget, and at
    /// most `concurrency` requests in flight.
    pub fn new(
        request_timeout: Duration,
        retry_budget: u32,
        concurrency: usize,
        redactor: Redactor,
    ) -> Result<Http> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(request_timeout.min(Duration::from_secs(10)))
            .user_agent(concat!(
                "idhub-atlassian-connector/",
                env!("CARGO_PKG_VERSION")
            ))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(concurrency.max(1) * 2)
            .build()
            .map_err(|e| {
                ConnectorError::internal(format!("the HTTP client could not be built: {e}"))
            })?;
        Ok(Http {
            client,
            policy: RetryPolicy::new(retry_budget),
            request_timeout,
            redactor,
        })
    }

    /// The secret scrubber of this connector.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Sends `request` to `api`, retrying what is retryable until `deadline`; answers the last
    /// response whatever its status, or a typed error when none arrived.
    pub async fn send(&self, api: &Api, request: Request<'_>, deadline: Instant) -> Result<Reply> {
        if request.url.origin() != api.base.origin() {
            return Err(ConnectorError::internal(format!(
                "refusing to send {} credentials to {}",
                api.name,
                request.url.origin().ascii_serialization()
            )));
        }
        let mut attempt = 0u32;
        let mut maybe_applied = false;
        loop {
            let now = Instant::now();
            let remaining = deadline.saturating_duration_since(now);
            if remaining.is_zero() {
                return Err(self.deadline_error(api, &request, maybe_applied));
            }
            let permit = api.governor.acquire().await;
            let started = Instant::now();
            let outcome = self
                .attempt(api, &request, remaining.min(self.request_timeout))
                .await;
            drop(permit);
            self.log_attempt(api, &request, &outcome, started.elapsed());
            match &outcome {
                Ok(reply) if reply.status.as_u16() == 429 => {
                    if let Some(pace) = api.governor.on_throttle() {
                        call_log::log(LogLevel::Info, || {
                            format!("{} answered 429: pacing at {pace:.1} requests/s", api.name)
                        });
                    }
                }
                Ok(reply) if reply.status.is_success() => api.governor.on_success(),
                _ => {}
            }
            let wait = match &outcome {
                Ok(reply) if retryable_status(reply.status) => {
                    server_wait(&reply.headers).unwrap_or_else(|| self.policy.backoff(attempt))
                }
                Ok(_) => {
                    let mut reply = outcome.expect("matched Ok");
                    reply.maybe_applied_before = maybe_applied;
                    return Ok(reply);
                }
                Err(failure) if failure.resendable(&request) => self.policy.backoff(attempt),
                Err(failure) => return Err(failure.to_error(api, &request, &self.redactor)),
            };
            if let Err(failure) = &outcome {
                maybe_applied |= failure.maybe_sent;
            }
            let out_of_budget = attempt >= self.policy.budget;
            let out_of_time = Instant::now() + wait >= deadline;
            if out_of_budget || out_of_time {
                // Info, not a warning: the caller gets the error; this line explains it.
                call_log::log(LogLevel::Info, || {
                    format!(
                        "{}: giving up after {} attempts, {}",
                        request.label(api),
                        attempt + 1,
                        if out_of_budget {
                            "the retry budget is spent"
                        } else {
                            "the next retry would pass the deadline"
                        }
                    )
                });
                return match outcome {
                    Ok(mut reply) => {
                        reply.maybe_applied_before = maybe_applied;
                        Ok(reply)
                    }
                    Err(failure) => Err(failure.to_error(api, &request, &self.redactor)),
                };
            }
            call_log::log(LogLevel::Info, || {
                format!(
                    "{}: retry {} of {} in {} ms",
                    request.label(api),
                    attempt + 1,
                    self.policy.budget,
                    wait.as_millis()
                )
            });
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One line per attempt: what was sent, what came back, how long it took. URLs carry ids
    /// and filters, never a credential; the redactor is applied all the same.
    fn log_attempt(
        &self,
        api: &Api,
        request: &Request<'_>,
        outcome: &std::result::Result<Reply, Failure>,
        took: Duration,
    ) {
        let target = match request.url.query() {
            Some(query) => format!("{}?{query}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        // Debug whatever the status: a 404 or 409 is often the answer sought (is it there? is
        // it taken?), a 429 or 503 is retried; the caller reports what is an error.
        let result = match outcome {
            Ok(reply) if reply.status.is_success() => reply.status.to_string(),
            Ok(reply) => format!("{}: {}", reply.status, server_detail(&reply.body)),
            Err(failure) => failure.message.clone(),
        };
        call_log::log(LogLevel::Debug, || {
            self.redactor.clean(&format!(
                "{} {} {target} -> {result} in {} ms",
                api.name,
                request.method,
                took.as_millis()
            ))
        });
    }

    async fn attempt(
        &self,
        api: &Api,
        request: &Request<'_>,
        timeout: Duration,
    ) -> std::result::Result<Reply, Failure> {
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .timeout(timeout)
            .header("accept", "application/json");
        builder = match &api.auth {
            Auth::Bearer(key) => builder.bearer_auth(key.expose()),
            Auth::Basic { email, token } => builder.basic_auth(email, Some(token.expose())),
        };
        if let Some(body) = request.body {
            let content_type = if api.name == "SCIM" {
                "application/scim+json"
            } else {
                "application/json"
            };
            builder = builder
                .header("content-type", content_type)
                .body(body.to_string());
        }
        let mut response = builder.send().await.map_err(Failure::from_reqwest)?;
        let status = response.status();
        let headers = response.headers().clone();
        if status.is_redirection() {
            let target = headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .to_owned();
            return Err(Failure {
                message: format!(
                    "redirected to {target}; redirects are refused so that credentials stay with {}",
                    api.base.origin().ascii_serialization()
                ),
                maybe_sent: true,
                transport: false,
                timed_out: false,
            });
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY {
                        return Err(Failure {
                            message: format!("the response body exceeds {MAX_BODY} bytes"),
                            maybe_sent: true,
                            transport: false,
                            timed_out: false,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(Failure {
                        maybe_sent: true,
                        ..Failure::from_reqwest(e)
                    });
                }
            }
        }
        Ok(Reply {
            status,
            headers,
            body: Bytes::from(body),
            maybe_applied_before: false,
        })
    }

    fn deadline_error(
        &self,
        api: &Api,
        request: &Request<'_>,
        maybe_applied: bool,
    ) -> ConnectorError {
        let outcome = if maybe_applied && request.method != Method::GET {
            " (the change may have been applied)"
        } else {
            ""
        };
        ConnectorError::new(
            ErrorKind::Timeout,
            format!(
                "{}: the operation's deadline passed{outcome}",
                request.label(api)
            ),
        )
        .with_details(json!({ "api": api.name, "maybe_applied": maybe_applied }))
    }

    /// The typed error of a response that is not a success.
    pub fn status_error(&self, api: &Api, reply: &Reply) -> ConnectorError {
        let detail = self.redactor.clean(&server_detail(&reply.body));
        let status = reply.status.as_u16();
        let scim_type = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("scimType").and_then(Value::as_str).map(str::to_owned));
        let details =
            json!({ "api": api.name, "status": status, "detail": detail, "scim_type": scim_type });
        let (kind, message) = match status {
            400 if scim_type.as_deref() == Some("invalidFilter") => (
                ErrorKind::InvalidFilter,
                format!("{} refused the filter: {detail}", api.name),
            ),
            400 => (
                ErrorKind::InvalidAttributeValue,
                format!("{} refused the request: {detail}", api.name),
            ),
            401 => (
                ErrorKind::InvalidCredentials,
                format!(
                    "{} rejected the {} ({detail}); {}",
                    api.name, api.credential, api.credential_fix
                ),
            ),
            403 => (
                ErrorKind::PermissionDenied,
                format!(
                    "{} denied the request to the {} ({detail})",
                    api.name, api.credential
                ),
            ),
            404 => (
                ErrorKind::UnknownUid,
                format!("{} found no such object: {detail}", api.name),
            ),
            409 => (
                ErrorKind::AlreadyExists,
                format!("{} reports a conflict: {detail}", api.name),
            ),
            429 => (
                ErrorKind::RateLimited,
                format!(
                    "{} is rate limiting the connector and the retry budget or deadline ran out",
                    api.name
                ),
            ),
            500..=599 => (
                ErrorKind::ConnectionFailed,
                format!(
                    "{} failed with HTTP {status} after retries: {detail}",
                    api.name
                ),
            ),
            _ => (
                ErrorKind::Internal,
                format!(
                    "{} answered an unexpected HTTP {status}: {detail}",
                    api.name
                ),
            ),
        };
        ConnectorError::new(kind, message).with_details(details)
    }
}

/// A request that got no usable response.
#[derive(Debug)]
struct Failure {
    message: String,
    /// Whether the request may have reached the server.
    maybe_sent: bool,
    /// Whether the failure is a transport one (connection, timeout, broken body).
    transport: bool,
    /// Whether the request ran out of time.
    timed_out: bool,
}

impl Failure {
    fn from_reqwest(e: reqwest::Error) -> Failure {
        let maybe_sent = !e.is_connect();
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the response broke off"
        } else {
            "the connection failed"
        };
        // reqwest's own text carries the URL, never a header.
        let mut message = format!("{kind}: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        Failure {
            message,
            maybe_sent,
            transport: true,
            timed_out: e.is_timeout(),
        }
    }

    fn resendable(&self, request: &Request<'_>) -> bool {
        self.transport && (request.resend_safe || !self.maybe_sent)
    }

    fn to_error(&self, api: &Api, request: &Request<'_>, redactor: &Redactor) -> ConnectorError {
        let message = redactor.clean(&format!("{}: {}", request.label(api), self.message));
        if self.timed_out && request.method == Method::GET {
            ConnectorError::new(ErrorKind::Timeout, message)
                .with_details(json!({ "api": api.name, "maybe_applied": false }))
        } else if self.transport && self.maybe_sent && request.method != Method::GET {
            ConnectorError::new(
                ErrorKind::Timeout,
                format!("{message}; the outcome is unknown"),
            )
            .with_details(json!({ "api": api.name, "maybe_applied": true }))
        } else {
            ConnectorError::new(ErrorKind::ConnectionFailed, message)
                .with_details(json!({ "api": api.name }))
        }
    }
}

/// The human part of an error body: SCIM `detail`, the `{error}` failure body, Jira
/// `errorMessages`/`errors`, Confluence `message`; else the start of the body.
pub fn server_detail(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        return if text.is_empty() {
            "no details".into()
        } else {
            text.chars().take(200).collect()
        };
    };
    let mut parts: Vec<String> = Vec::new();
    for key in ["detail", "error", "message"] {
        if let Some(s) = value.get(key).and_then(Value::as_str) {
            parts.push(s.to_owned());
        }
    }
    if let Some(messages) = value.get("errorMessages").and_then(Value::as_array) {
        parts.extend(messages.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    if let Some(errors) = value.get("errors").and_then(Value::as_object) {
        parts.extend(
            errors
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(&v.to_string()))),
        );
    }
    if parts.is_empty() {
        value.to_string().chars().take(200).collect()
    } else {
        parts.join("; ").chars().take(500).collect()
    }
}

/// Removes every configured secret (and its Basic-auth encoding) from text that leaves the
/// connector: server answers can echo what they received.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A scrubber of these secrets; for a Basic pair, pass `email:token` too.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        use base64::Engine;
        let mut all = Vec::new();
        for s in secrets.into_iter().filter(|s| s.len() >= 4) {
            all.push(base64::engine::general_purpose::STANDARD.encode(&s));
            all.push(s);
        }
        // Longest first, so that a secret inside another is not half-replaced.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor { secrets: all }
    }

    /// `text` with every secret replaced by `[REDACTED]`.
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), connector_api::REDACTED);
            }
        }
        out
    }

    /// An error with every secret removed from its message and details.
    pub fn clean_error(&self, mut error: ConnectorError) -> ConnectorError {
        error.message = self.clean(&error.message);
        if !error.details.is_null() {
            let text = self.clean(&error.details.to_string());
            error.details = serde_json::from_str(&text).unwrap_or(Value::Null);
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_segments_and_keep_the_host() {
        let api = Api::new(
            "SCIM",
            "https://api.atlassian.com/scim/directory/d-1",
            Auth::Bearer(Secret::new("k")),
            "Directory API Key",
            "",
            Arc::new(Governor::new(1)),
        )
        .unwrap();
        let url = api.url(
            &["Users", "../../admin?x=1"],
            &[("filter", "userName eq \"a b\"")],
        );
        assert_eq!(url.host_str(), Some("api.atlassian.com"));
        assert_eq!(
            url.path(),
            "/scim/directory/d-1/Users/..%2F..%2Fadmin%3Fx=1"
        );
        assert!(
            url.query()
                .unwrap()
                .starts_with("filter=userName+eq+%22a+b%22")
        );
    }

    #[test]
    fn server_details_of_every_api() {
        assert_eq!(
            server_detail(br#"{"status":"409","detail":"taken"}"#),
            "taken"
        );
        assert_eq!(
            server_detail(br#"{"error":"Missing authorization header","traceId":"x"}"#),
            "Missing authorization header"
        );
        assert_eq!(
            server_detail(br#"{"errorMessages":["no"],"errors":{"name":"bad"}}"#),
            "no; name: bad"
        );
        assert_eq!(
            server_detail(br#"{"statusCode":404,"message":"gone"}"#),
            "gone"
        );
        assert_eq!(server_detail(b"<html>oops</html>"), "<html>oops</html>");
        assert_eq!(server_detail(b""), "no details");
    }

    #[test]
    fn the_redactor_removes_secrets_and_their_encodings() {
        let r = Redactor::new([
            "tok3n-secret".to_owned(),
            "svc@x.io:tok3n-secret".to_owned(),
        ]);
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("svc@x.io:tok3n-secret");
        let text = format!("echo: Basic {basic} and Bearer tok3n-secret");
        let clean = r.clean(&text);
        assert!(
            !clean.contains("tok3n") && !clean.contains(&basic),
            "{clean}"
        );
        let err = r.clean_error(
            ConnectorError::internal("x tok3n-secret").with_details(json!({"d": "tok3n-secret"})),
        );
        assert!(!err.message.contains("tok3n") && !err.details.to_string().contains("tok3n"));
    }
}

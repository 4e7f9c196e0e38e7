//! The one HTTP client of a connector instance: how a request is sent, retried and paced.
//!
//! Every request goes through [`Http::send`]: the URL is built from the API's base by segments
//! (ids are percent-encoded, the host can never change), redirects are refused (credentials are
//! never forwarded), bodies are size-limited, and 429/5xx and transport failures are retried per
//! [`retry::RetryPolicy`] inside the operation's deadline.

mod endpoint;
mod error;
pub(crate) mod governor;
mod retry;

pub(crate) use endpoint::Endpoint;
pub use error::server_detail;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use connector_api::{ConnectorError, ErrorKind, LogLevel, Result, Secret};
use error::Failure;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use crate::credentials::Credential;
use connector_api::redact::Redactor;
use connector_api::rt;
use governor::{Governor, Scope};
use retry::{RetryPolicy, retryable_status, server_wait};

/// The largest response body read; more is an error, never an allocation.
pub(crate) const MAX_BODY: usize = 32 * 1024 * 1024;

/// How an API authenticates.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// Nothing: a public resource (the site's tenant info).
    None,
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
pub(crate) struct Api {
    /// `SCIM`, `Jira` or `Confluence`.
    pub name: &'static str,
    /// The base URL, ending in `/`.
    pub base: Url,
    /// The credential.
    pub auth: Auth,
    /// Which credential it sends, for error messages.
    pub credential: Credential,
    /// The rate governor of this credential, shared by the APIs that use it.
    pub governor: Arc<Governor>,
}

impl Api {
    /// An API at `base` (a trailing `/` is added), already validated as a URL.
    pub(crate) fn new(
        name: &'static str,
        mut base: Url,
        auth: Auth,
        credential: Credential,
        governor: Arc<Governor>,
    ) -> Api {
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Api {
            name,
            base,
            auth,
            credential,
            governor,
        }
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
pub(crate) struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, at most the request's `max_body` bytes.
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
pub(crate) struct Request<'a> {
    /// The method.
    pub method: Method,
    /// The URL (from [`Api::url`]).
    pub url: Url,
    /// The JSON body.
    pub body: Option<&'a Value>,
    /// Whether the request may be resent after a lost response (reads, idempotent writes, and
    /// creates whose duplicates the caller resolves).
    pub resend_safe: bool,
    /// The largest response body accepted ([`MAX_BODY`] unless the resource needs more).
    pub max_body: usize,
}

impl<'a> Request<'a> {
    /// How errors and log lines name the request: `SCIM GET /scim/directory/…/Users`, no query.
    pub(crate) fn label(&self, api: &Api) -> String {
        format!("{} {} {}", api.name, self.method, self.url.path())
    }

    /// The endpoint a rate limit may apply to: the method and the path below the API's base,
    /// ids (segments of more than 3 characters with a digit) as `*`, no query:
    /// `GET rest/api/3/group/member`, `PATCH Users/*`.
    pub(crate) fn endpoint(&self, api: &Api) -> String {
        let below = self
            .url
            .path()
            .strip_prefix(api.base.path())
            .unwrap_or(self.url.path());
        let segments: Vec<&str> = below
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.len() > 3 && s.bytes().any(|b| b.is_ascii_digit()) {
                    true => "*",
                    false => s,
                },
            )
            .collect();
        format!("{} {}", self.method, segments.join("/"))
    }

    /// A GET: always safe to resend.
    pub fn get(url: Url) -> Self {
        Request {
            method: Method::GET,
            url,
            body: None,
            resend_safe: true,
            max_body: MAX_BODY,
        }
    }

    /// The same request, accepting bodies of up to `bytes`.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// A write with a JSON body.
    pub fn write(method: Method, url: Url, body: Option<&'a Value>, resend_safe: bool) -> Self {
        Request {
            method,
            url,
            body,
            resend_safe,
            max_body: MAX_BODY,
        }
    }
}

/// The client.
#[derive(Debug)]
pub(crate) struct Http {
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

    /// The typed error of a response that is not a success.
    pub fn status_error(&self, api: &Api, reply: &Reply) -> ConnectorError {
        error::status_error(api, &self.redactor, reply)
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
        let endpoint = request.endpoint(api);
        let mut attempt = 0u32;
        let mut maybe_applied = false;
        loop {
            let now = Instant::now();
            let remaining = deadline.saturating_duration_since(now);
            if remaining.is_zero() {
                return Err(self.deadline_error(api, &request, maybe_applied));
            }
            let permit = api.governor.acquire(&endpoint).await;
            if let Some(scope) = permit.paced_by {
                rt::log(LogLevel::Debug, || {
                    let whose = match scope {
                        Scope::Endpoint => "its endpoint's",
                        Scope::Credential => "the credential's",
                    };
                    format!(
                        "{}: waited {} ms for {whose} pace",
                        request.label(api),
                        now.elapsed().as_millis()
                    )
                });
            }
            let started = Instant::now();
            let outcome = self
                .attempt(api, &request, remaining.min(self.request_timeout))
                .await;
            drop(permit);
            self.log_attempt(api, &request, &outcome, started.elapsed());
            match &outcome {
                Ok(reply) if reply.status.as_u16() == 429 => {
                    let scope = Scope::of(&reply.headers);
                    if let Some(pace) = api.governor.on_throttle(&endpoint, scope) {
                        rt::log(LogLevel::Info, || match scope {
                            Scope::Endpoint => format!(
                                "{} answered 429 for {endpoint} only: pacing that endpoint at {pace:.1} requests/s",
                                api.name
                            ),
                            Scope::Credential => format!(
                                "{} answered 429: pacing every request at {pace:.1} requests/s",
                                api.name
                            ),
                        });
                    }
                }
                Ok(reply) if reply.status.is_success() => api.governor.on_success(&endpoint),
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
                rt::log(LogLevel::Info, || {
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
            rt::log(LogLevel::Info, || {
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
        rt::log(LogLevel::Debug, || {
            let result = match outcome {
                Ok(reply) if reply.status.is_success() => reply.status.to_string(),
                Ok(reply) => {
                    // Cleaned whole, then cut (see `error::status_error`).
                    let body = self
                        .redactor
                        .clean(&String::from_utf8_lossy(&reply.body))
                        .into_owned();
                    format!("{}: {}", reply.status, server_detail(body.as_bytes()))
                }
                Err(failure) => failure.message.clone(),
            };
            let line = format!(
                "{} {} {target} -> {result} in {} ms",
                api.name,
                request.method,
                took.as_millis()
            );
            self.redactor.clean(&line).into_owned()
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
            Auth::None => builder,
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
                too_large: false,
            });
        }
        // Sized once from the announced length, up to a page's worth: a length is a claim, and
        // a larger body grows as it really arrives.
        const RESERVED_AT_MOST: u64 = 4 << 20;
        let announced = response.content_length().unwrap_or(0);
        let mut body = Vec::with_capacity(announced.min(RESERVED_AT_MOST) as usize);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > request.max_body {
                        return Err(Failure {
                            message: format!(
                                "the response body exceeds {} bytes",
                                request.max_body
                            ),
                            maybe_sent: true,
                            transport: false,
                            timed_out: false,
                            too_large: true,
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
}

#[cfg(test)]
mod tests;

//! The HTTP side: one blocking `ureq` agent with timeouts, JSON in and out, the server's error
//! body parsed into [`Error::Api`], and retries with exponential backoff for the requests that
//! are safe to repeat.
//!
//! What is safe to repeat: a GET, a POST that carries an `Idempotency-Key` (the server then
//! answers a replay with the first result), and a POST the server makes repeatable by itself
//! ([`ApiRequest::repeatable`]: call-next answers the doctor's current patient). Nothing else
//! is retried, because a request whose
//! answer was lost may already have taken effect: repeating an OTP request would send a second
//! SMS, repeating "add family member" would add the person twice. PUT is idempotent in HTTP's
//! terms, but a replay could still overwrite an edit made on another device in between, so it
//! is not retried either.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use sanjeevani_types::ErrorBody;
use serde::de::DeserializeOwned;
use serde::Serialize;
use ureq::http::{self, Method};
use ureq::Agent;

use crate::error::Error;
use crate::logging::{self, LogLevel};

/// Every endpoint lives under this prefix of the server's address.
const API_PREFIX: &str = "/api/v1";

/// Connecting on a weak rural mobile connection can take several seconds; more than this
/// means the network is effectively down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest silence while waiting for (part of) an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for one attempt, so a trickling connection cannot hold a call forever.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an interactive call may take in all, retries included, unless the app sets its
/// own ([`Api::set_deadline`]): a person is waiting on the screen. A body larger than
/// [`LARGE_BODY`] (a report shared in a call) gets [`ATTEMPT_TIMEOUT`] per attempt instead.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);
const LARGE_BODY: usize = 64 * 1024;

/// How often and how patiently safe requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles before each further one.
    pub first_delay: Duration,
}

impl RetryPolicy {
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(300),
    };

    /// The wait after failed attempt number `attempt` (0-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        self.first_delay
            .saturating_mul(2u32.saturating_pow(attempt))
    }
}

/// One request to the API.
#[derive(Debug, Clone)]
pub struct ApiRequest<'a> {
    method: Method,
    path: &'a str,
    token: Option<&'a str>,
    body: Option<Vec<u8>>,
    idempotency_key: Option<String>,
    /// The server answers a repeat of this POST with the same result, with no key.
    repeatable: bool,
    if_none_match: Option<&'a str>,
    /// The path is at the server's root, outside `/api/v1` (`/.well-known/jwks.json`).
    outside_api: bool,
}

impl<'a> ApiRequest<'a> {
    pub fn get(path: &'a str) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: &'a str) -> Self {
        Self::new(Method::POST, path)
    }

    pub fn put(path: &'a str) -> Self {
        Self::new(Method::PUT, path)
    }

    fn new(method: Method, path: &'a str) -> Self {
        Self {
            method,
            path,
            token: None,
            body: None,
            idempotency_key: None,
            repeatable: false,
            if_none_match: None,
            outside_api: false,
        }
    }

    /// A path at the server's root rather than under `/api/v1`.
    pub fn outside_api(mut self) -> Self {
        self.outside_api = true;
        self
    }

    /// Sends the session token as `Authorization: Bearer`.
    pub fn bearer(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }

    pub fn json<B: Serialize>(mut self, body: &B) -> Self {
        // Serialising our own request types cannot fail: they hold only strings, numbers and
        // dates.
        self.body = Some(serde_json::to_vec(body).expect("request bodies serialise"));
        self
    }

    /// Marks a POST as safe to repeat: the server answers a replay with the first result.
    pub fn idempotency_key(mut self, key: String) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Marks a POST the server itself makes safe to repeat (no key needed): a repeat changes
    /// nothing and answers as the first time did (call-next answers the doctor's current
    /// patient).
    pub fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    /// A conditional GET: an unchanged resource answers 304 with no body.
    pub fn if_none_match(mut self, etag: Option<&'a str>) -> Self {
        self.if_none_match = etag;
        self
    }

    fn is_safe_to_repeat(&self) -> bool {
        self.method == Method::GET
            || (self.method == Method::POST && (self.idempotency_key.is_some() || self.repeatable))
    }
}

/// A successful answer's status and body text (empty for 304 Not Modified), with the headers
/// mobile-core acts on.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub etag: Option<String>,
    /// `Idempotent-Replayed: true`: the server answered a repeated request with the first
    /// answer (a booking, a dispense) or the doctor's current patient (call-next).
    pub replayed: bool,
}

impl Answer {
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.body).map_err(|e| Error::UnexpectedAnswer {
            status: self.status,
            details: format!("{e} in {}", excerpt(&self.body)),
        })
    }
}

/// The API at one server address.
#[derive(Debug, Clone)]
pub struct Api {
    agent: Agent,
    base_url: String,
    retry: RetryPolicy,
    /// Shared by every copy (the queue watch's too): the app's deadline in milliseconds, and
    /// whether the client was closed.
    limits: Arc<Limits>,
}

#[derive(Debug)]
struct Limits {
    deadline_ms: AtomicU64,
    closed: AtomicBool,
    /// The proxy the app passed (the platform's system proxy); `None`: the environment's
    /// (`HTTPS_PROXY`, `ALL_PROXY`, read by ureq), if any.
    proxy: RwLock<Option<ureq::Proxy>>,
}

impl Api {
    /// `base_url` is the server's address, such as `https://sanjeevani.example.in`; the
    /// `/api/v1` prefix is added here.
    pub fn new(base_url: &str, retry: RetryPolicy) -> Result<Self, Error> {
        let base_url = check_base_url(base_url)?;
        let agent: Agent = Agent::config_builder()
            // Error answers are read here, not turned into ureq errors, to parse their body.
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .timeout_per_call(Some(ATTEMPT_TIMEOUT))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(crate::tls::root_certs())
                    .build(),
            )
            .user_agent(concat!(
                "sanjeevani-mobile-core/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .into();
        Ok(Self {
            agent,
            base_url,
            retry,
            limits: Arc::new(Limits {
                deadline_ms: AtomicU64::new(DEFAULT_DEADLINE.as_millis() as u64),
                closed: AtomicBool::new(false),
                proxy: RwLock::new(None),
            }),
        })
    }

    /// How long each call may take in all, retries included (at least 100 ms).
    pub fn set_deadline(&self, deadline: Duration) {
        let ms = deadline.as_millis().clamp(100, u64::MAX as u128) as u64;
        self.limits.deadline_ms.store(ms, Ordering::Relaxed);
    }

    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.limits.deadline_ms.load(Ordering::Relaxed))
    }

    /// Sends every later request through the HTTP proxy at `url` (`http://host:port`, with
    /// `user:password@` if it needs them), or, with `None`, through the environment's proxy if
    /// one is set.
    pub fn set_proxy(&self, url: Option<&str>) -> Result<(), Error> {
        let proxy = url
            .map(|url| {
                ureq::Proxy::new(url.trim()).map_err(|_| Error::InvalidInput {
                    field: "proxy_url",
                    code: "invalid_url",
                    message: "must be a proxy address such as http://10.0.0.1:3128".into(),
                })
            })
            .transpose()?;
        *self
            .limits
            .proxy
            .write()
            .unwrap_or_else(PoisonError::into_inner) = proxy;
        Ok(())
    }

    /// The request's configuration with the app's proxy, if it set one.
    fn with_proxy<S: ureq::AsSendBody>(
        &self,
        config: ureq::config::ConfigBuilder<ureq::typestate::HttpCrateScope<S>>,
    ) -> ureq::config::ConfigBuilder<ureq::typestate::HttpCrateScope<S>> {
        match self
            .limits
            .proxy
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            Some(proxy) => config.proxy(Some(proxy)),
            None => config,
        }
    }

    /// No request starts after this: calls fail at once with [`Error::Closed`]; one already
    /// waiting on the network gives up at its deadline.
    pub fn close(&self) {
        self.limits.closed.store(true, Ordering::Relaxed);
    }

    /// The server's address, without the API prefix (the call's WebSocket is derived from it).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The same server with another retry policy (the queue watcher keeps its own backoff).
    pub fn with_retry(&self, retry: RetryPolicy) -> Self {
        Self {
            retry,
            ..self.clone()
        }
    }

    /// Sends a request, retrying it when safe, and returns a 2xx answer or the error.
    pub fn send(&self, request: ApiRequest<'_>) -> Result<Answer, Error> {
        let attempts = if request.is_safe_to_repeat() {
            self.retry.attempts.max(1)
        } else {
            1
        };
        let large = request.body.as_ref().is_some_and(|b| b.len() > LARGE_BODY);
        let budget = if large {
            ATTEMPT_TIMEOUT
        } else {
            self.deadline()
        };
        let ends = Instant::now() + budget;
        let mut attempt = 0;
        loop {
            if self.limits.closed.load(Ordering::Relaxed) {
                return Err(Error::Closed);
            }
            let left = ends.saturating_duration_since(Instant::now());
            let started = Instant::now();
            let result = self.send_once(&request, left.max(Duration::from_millis(1)));
            log_attempt(&request, &result, started.elapsed());
            match result {
                Err(error) if attempt + 1 < attempts && is_transient(&error) => {
                    let wait = self.retry.delay_after(attempt);
                    if Instant::now() + wait >= ends {
                        return Err(error);
                    }
                    thread::sleep(wait);
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// Opens a server-sent event stream (`text/event-stream`) at `path` under `/api/v1`: the
    /// answer's headers must arrive within the call deadline; then the body is read for as long
    /// as the server keeps it open, each read waiting at most `silence` (the server's keepalive
    /// comes well within it, so a longer silence is a dead connection).
    pub fn open_stream(
        &self,
        path: &str,
        silence: Duration,
    ) -> Result<impl std::io::Read + Send + 'static, Error> {
        if self.limits.closed.load(Ordering::Relaxed) {
            return Err(Error::Closed);
        }
        let request = http::Request::builder()
            .method(Method::GET)
            .uri(format!("{}{API_PREFIX}{path}", self.base_url))
            .header("accept", "text/event-stream")
            // A compressed stream could be held back until a compression block fills.
            .header("accept-encoding", "identity")
            .body(())
            .map_err(ureq::Error::from)?;
        let request = self
            .with_proxy(self.agent.configure_request(request))
            .timeout_global(None)
            .timeout_per_call(None)
            .timeout_recv_response(Some(self.deadline()))
            .timeout_per_read(Some(silence))
            .build();
        let mut response = self.agent.run(request)?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.body_mut().read_to_string().unwrap_or_default();
            return Err(Error::UnexpectedAnswer {
                status,
                details: excerpt(&body),
            });
        }
        Ok(response.into_body().into_reader())
    }

    /// `request` limited to `time` in all.
    fn within<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
        time: Duration,
    ) -> http::Request<S> {
        self.with_proxy(self.agent.configure_request(request))
            .timeout_global(Some(time))
            .build()
    }

    /// One attempt, given `time` in all (connecting, sending, reading the answer).
    fn send_once(&self, request: &ApiRequest<'_>, time: Duration) -> Result<Answer, Error> {
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(format!(
                "{}{}{}",
                self.base_url,
                if request.outside_api { "" } else { API_PREFIX },
                request.path
            ))
            .header("accept", "application/json");
        if let Some(token) = request.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if let Some(key) = &request.idempotency_key {
            builder = builder.header("idempotency-key", key.as_str());
        }
        if let Some(etag) = request.if_none_match {
            builder = builder.header("if-none-match", etag);
        }
        let response = match &request.body {
            Some(body) => self.agent.run(
                self.within(
                    builder
                        .header("content-type", "application/json")
                        .body(body.as_slice())
                        .map_err(ureq::Error::from)?,
                    time,
                ),
            ),
            None => self
                .agent
                .run(self.within(builder.body(()).map_err(ureq::Error::from)?, time)),
        };
        let mut response = response?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(|value| value.trim().to_owned())
        };
        let retry_after_seconds = header("retry-after").and_then(|value| value.parse().ok());
        let etag = header("etag");
        let replayed = header("idempotent-replayed").is_some_and(|value| value == "true");
        let body = response.body_mut().read_to_string()?;
        if (200..300).contains(&status) || (status == 304 && request.if_none_match.is_some()) {
            return Ok(Answer {
                status,
                body,
                etag,
                replayed,
            });
        }
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(body) => Err(Error::Api {
                status,
                body,
                retry_after_seconds,
            }),
            Err(_) => Err(Error::UnexpectedAnswer {
                status,
                details: excerpt(&body),
            }),
        }
    }
}

/// One line per attempt: the method, the path's shape (no ids), and the status or the kind of
/// failure. Never a header or a body: they carry the token, OTPs and health details.
fn log_attempt(request: &ApiRequest<'_>, result: &Result<Answer, Error>, took: Duration) {
    let shape = || format!("{} {}", request.method, logging::path_shape(request.path));
    let ms = took.as_millis();
    match result {
        Ok(answer) => logging::log(LogLevel::Debug, "http", || {
            format!("{} -> {} in {ms} ms", shape(), answer.status)
        }),
        Err(Error::Api { status, body, .. }) => logging::log(LogLevel::Info, "http", || {
            format!("{} -> {status} {} in {ms} ms", shape(), body.code)
        }),
        Err(Error::UnexpectedAnswer { status, .. }) => logging::log(LogLevel::Warn, "http", || {
            format!(
                "{} -> {status}, an answer this version cannot read",
                shape()
            )
        }),
        Err(Error::Transport(cause)) => logging::log(LogLevel::Warn, "http", || {
            format!(
                "{} failed after {ms} ms: {}",
                shape(),
                transport_kind(cause)
            )
        }),
        Err(_) => {}
    }
}

/// What kind of network failure, in words that carry no address part beyond the host.
fn transport_kind(error: &ureq::Error) -> &'static str {
    match error {
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::ConnectionFailed => "connection failed",
        ureq::Error::Io(_) => "connection lost",
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS failure",
        _ => "network error",
    }
}

/// Failures that another attempt may cure: no answer at all, or a gateway or server that is
/// briefly unavailable.
fn is_transient(error: &Error) -> bool {
    match error {
        Error::Transport(ureq::Error::BadUri(_) | ureq::Error::Http(_)) => false,
        Error::Transport(_) => true,
        Error::Api { status, .. } | Error::UnexpectedAnswer { status, .. } => {
            matches!(status, 502..=504)
        }
        _ => false,
    }
}

/// The start of a body, for error details (a proxy's HTML page can be long).
fn excerpt(body: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut text: String = body.chars().take(MAX_CHARS).collect();
    if body.chars().count() > MAX_CHARS {
        text.push('…');
    }
    text
}

/// Checks the server address and removes a trailing slash. Plain `http://` is accepted only
/// for this device and the Android emulator's alias of the development machine: anywhere else
/// the session token would cross the network unencrypted.
fn check_base_url(input: &str) -> Result<String, Error> {
    let invalid = |message: &str| Error::InvalidInput {
        field: "base_url",
        code: "invalid_url",
        message: message.into(),
    };
    let trimmed = input.trim().trim_end_matches('/');
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| invalid("must start with https://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() || trimmed.contains(['?', '#', ' ']) {
        return Err(invalid(
            "must be a server address such as https://example.in",
        ));
    }
    let local =
        host == "localhost" || host == "::1" || host.starts_with("127.") || host == "10.0.2.2";
    match scheme {
        "https" => Ok(trimmed.to_owned()),
        "http" if local => Ok(trimmed.to_owned()),
        "http" => Err(invalid("must use https:// (plain http only for localhost)")),
        _ => Err(invalid("must start with https://")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    const NO_WAIT: RetryPolicy = RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(1),
    };

    /// A tiny HTTP server answering each connection with the next canned answer (the last one
    /// repeats), counting the requests it saw.
    fn canned_server(answers: Vec<String>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut content_length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        content_length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; content_length];
                let _ = reader.read_exact(&mut body);
                let index = counter.fetch_add(1, Ordering::SeqCst);
                let answer = &answers[index.min(answers.len() - 1)];
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (address, seen)
    }

    fn http_answer(status_line: &str, content_type: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status_line}\r\ncontent-type: {content_type}\r\nconnection: close\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    fn unavailable() -> String {
        http_answer(
            "503 Service Unavailable",
            "application/problem+json",
            r#"{"code":"database_unavailable","message":"try again","status":503}"#,
        )
    }

    fn ok() -> String {
        http_answer("200 OK", "application/json", "[]")
    }

    #[test]
    fn a_get_is_retried_after_a_brief_outage() {
        let (address, seen) = canned_server(vec![unavailable(), unavailable(), ok()]);
        let api = Api::new(&address, NO_WAIT).unwrap();
        let answer = api.send(ApiRequest::get("/patients")).unwrap();
        assert_eq!(answer.body, "[]");
        assert_eq!(seen.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_get_gives_up_after_the_last_attempt() {
        let (address, seen) = canned_server(vec![unavailable()]);
        let api = Api::new(&address, NO_WAIT).unwrap();
        let error = api.send(ApiRequest::get("/patients")).unwrap_err();
        assert!(matches!(error, Error::Api { status: 503, .. }), "{error:?}");
        assert_eq!(seen.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_post_without_idempotency_key_is_sent_once() {
        let (address, seen) = canned_server(vec![unavailable(), ok()]);
        let api = Api::new(&address, NO_WAIT).unwrap();
        let error = api
            .send(ApiRequest::post("/patients").json(&serde_json::json!({"name": "x"})))
            .unwrap_err();
        assert!(matches!(error, Error::Api { status: 503, .. }), "{error:?}");
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_post_with_idempotency_key_is_retried() {
        let (address, seen) = canned_server(vec![unavailable(), ok()]);
        let api = Api::new(&address, NO_WAIT).unwrap();
        api.send(
            ApiRequest::post("/bookings")
                .json(&serde_json::json!({}))
                .idempotency_key("k-1".into()),
        )
        .unwrap();
        assert_eq!(seen.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_repeatable_post_is_retried_without_a_key() {
        let (address, seen) = canned_server(vec![unavailable(), ok()]);
        let api = Api::new(&address, NO_WAIT).unwrap();
        api.send(ApiRequest::post("/opd-sessions/s/call-next").repeatable())
            .unwrap();
        assert_eq!(seen.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_unreachable_server_is_a_transport_error_after_retries() {
        // Bind then drop: the port is free, so connecting is refused at once.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api = Api::new(&format!("http://127.0.0.1:{port}"), NO_WAIT).unwrap();
        let error = api.send(ApiRequest::get("/auth/me")).unwrap_err();
        assert!(matches!(error, Error::Transport(_)), "{error:?}");
    }

    #[test]
    fn a_non_json_error_page_is_an_unexpected_answer() {
        let (address, _) = canned_server(vec![http_answer(
            "502 Bad Gateway",
            "text/html",
            "<h1>oops</h1>",
        )]);
        let api = Api::new(&address, NO_WAIT).unwrap();
        let error = api.send(ApiRequest::get("/patients")).unwrap_err();
        assert!(
            matches!(&error, Error::UnexpectedAnswer { status: 502, details } if details.contains("oops")),
            "{error:?}"
        );
    }

    #[test]
    fn backoff_doubles() {
        let policy = RetryPolicy::DEFAULT;
        assert_eq!(policy.delay_after(0), Duration::from_millis(300));
        assert_eq!(policy.delay_after(1), Duration::from_millis(600));
        assert_eq!(policy.delay_after(2), Duration::from_millis(1200));
    }

    #[test]
    fn plain_http_is_only_for_this_device_and_the_emulator_host() {
        for ok in [
            "https://sanjeevani.example.in",
            "https://sanjeevani.example.in/",
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://10.0.2.2:8080",
            "http://[::1]:8080",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            check_base_url("https://example.in/").unwrap(),
            "https://example.in"
        );
        for bad in [
            "",
            "example.in",
            "http://example.in",
            "ftp://example.in",
            "https://",
            "https://example.in?x=1",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }
}

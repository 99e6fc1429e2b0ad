//! Talking to the platform: the routes the journeys use, what came back from one request, and
//! the client that times each request into the [`Metrics`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::Error;
use crate::metrics::Metrics;

/// A route as the report names it: method and templated path, so every `GET /v1/users/{id}`
/// is counted together whatever the id. A name may carry a note, e.g. the profile reads made
/// while waiting for a new account's profile, which are expected to see `404` for a while.
///
/// ```
/// use platform_loadgen::Route;
/// assert_eq!(Route::USER.name, "GET /v1/users/{id}");
/// ```
#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    /// The name in the report: `METHOD /templated/path`, possibly with a note.
    pub name: &'static str,
}

impl Route {
    pub const REGISTER: Route = Route::new(Method::POST, "POST /v1/auth/register");
    pub const LOGIN: Route = Route::new(Method::POST, "POST /v1/auth/login");
    pub const ME: Route = Route::new(Method::GET, "GET /v1/users/me");
    /// Reads of a new account's profile until it exists (it is created from an event).
    pub const ME_UNTIL_CREATED: Route = Route::new(Method::GET, "GET /v1/users/me (until created)");
    pub const PATCH_ME: Route = Route::new(Method::PATCH, "PATCH /v1/users/me");
    pub const USER: Route = Route::new(Method::GET, "GET /v1/users/{id}");
    pub const UPLOAD: Route = Route::new(Method::POST, "POST /v1/media");
    pub const MEDIA: Route = Route::new(Method::GET, "GET /v1/media/{id}");
    pub const AVATAR: Route = Route::new(Method::PUT, "PUT /v1/users/me/avatar");

    /// A route of your own, e.g. for a harness that sends other requests through the recorder.
    pub const fn new(method: Method, name: &'static str) -> Self {
        Self { method, name }
    }
}

/// What one request came to.
///
/// ```
/// use platform_loadgen::Outcome;
/// assert!(Outcome::answer(201, "{}").acknowledged());
/// assert!(!Outcome::Timeout.acknowledged());
/// ```
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The platform answered, with any status.
    Answer(Answer),
    /// No complete answer within the per-request timeout: the request may or may not have
    /// taken effect.
    Timeout,
    /// The connection failed or broke (refused, reset, unreadable body).
    Transport(String),
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// `Retry-After` in seconds, when the platform sent one (429, 503).
    pub retry_after: Option<Duration>,
}

impl Outcome {
    /// An answer with `status` and `body`, as tests and stubs build them.
    pub fn answer(status: u16, body: &str) -> Self {
        Self::Answer(Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: body.as_bytes().to_vec(),
            retry_after: None,
        })
    }

    /// The platform said yes (2xx): for a write, it is promised to take effect.
    pub fn acknowledged(&self) -> bool {
        matches!(self, Self::Answer(a) if a.status.is_success())
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Answer(a) => Some(a.status),
            _ => None,
        }
    }

    /// The body of a 2xx answer parsed as `T`; `None` for anything else.
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        match self {
            Self::Answer(a) if a.status.is_success() => serde_json::from_slice(&a.body).ok(),
            _ => None,
        }
    }

    /// How long to hold off before the next request: the `Retry-After` of a 429 or 503
    /// (capped, so a long one does not idle a whole run), else nothing.
    pub(crate) fn back_off(&self) -> Option<Duration> {
        const CAP: Duration = Duration::from_secs(5);
        match self {
            Self::Answer(a)
                if matches!(
                    a.status,
                    StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                ) =>
            {
                Some(a.retry_after.unwrap_or(Duration::from_secs(1)).min(CAP))
            }
            _ => None,
        }
    }

    /// A short description for the ledger and the verifier's messages: `503`, `timeout`, ….
    pub fn describe(&self) -> String {
        match self {
            Self::Answer(a) => a.status.as_u16().to_string(),
            Self::Timeout => "timeout".into(),
            Self::Transport(e) => format!("transport error: {e}"),
        }
    }
}

/// The body of a request.
pub(crate) enum Body {
    Empty,
    Json(serde_json::Value),
    Png(Vec<u8>),
}

/// The one HTTP client of a run or a verification: every request goes to `base`, with the
/// per-request timeout, never following redirects (so nothing but the given URL is reached).
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: Arc<str>,
    metrics: Option<Arc<Metrics>>,
}

impl Api {
    pub(crate) fn new(
        url: &str,
        timeout: Duration,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, Error> {
        let base = url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(base).map_err(|e| Error::Config(format!("--url: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Config("--url must be http:// or https://".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("platform-loadgen/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: base.into(),
            metrics,
        })
    }

    /// Sends one request to `path` (below the base URL) and reads the whole answer, timing it
    /// under `route`.
    pub(crate) async fn send(
        &self,
        route: &Route,
        path: &str,
        token: Option<&str>,
        body: Body,
    ) -> Outcome {
        let mut request = self
            .http
            .request(route.method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        request = match body {
            Body::Empty => request,
            Body::Json(value) => request.json(&value),
            Body::Png(bytes) => request.header(CONTENT_TYPE, "image/png").body(bytes),
        };
        let started = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                match response.bytes().await {
                    Ok(body) => Outcome::Answer(Answer {
                        status,
                        body: body.to_vec(),
                        retry_after,
                    }),
                    Err(e) => failure(&e),
                }
            }
            Err(e) => failure(&e),
        };
        if let Some(metrics) = &self.metrics {
            metrics.record(route.name, started.elapsed(), &outcome);
        }
        outcome
    }
}

fn failure(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        return Outcome::Timeout;
    }
    // reqwest's own message is generic ("error sending request"); the cause says what broke.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message = cause.to_string();
        source = cause.source();
    }
    Outcome::Transport(message)
}

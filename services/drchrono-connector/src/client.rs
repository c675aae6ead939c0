//! The DrChrono API client for one sync of one tenant: the access token, retries with
//! `Retry-After` or backoff, the request budget, and paging by `next` links.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use serde_json::Value;

use crate::config::Limits;
use crate::oauth::{AccessToken, AuthError, TOKEN_ENDPOINT, TokenSource};

/// An error that ends a sync's reads.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The access token could not be obtained.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// DrChrono returned an error status that retrying does not fix.
    #[error("GET {endpoint} failed with status {status}: {message}{hint}")]
    Status {
        /// The endpoint, such as `/api/users`.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        message: String,
        /// The fix, for statuses that have a known one.
        hint: &'static str,
    },
    /// Every attempt failed with a retryable error.
    #[error("GET {endpoint}: gave up after {attempts} attempts; the last error was: {last}")]
    RetriesExhausted {
        /// The endpoint.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// A page is valid JSON but not a `{previous, next, data}` page.
    #[error("GET {endpoint}: the response is not a page of records: {reason}")]
    NotAPage {
        /// The endpoint.
        endpoint: String,
        /// The reason.
        reason: String,
    },
    /// A `next` link points away from the configured API, where the token must not go.
    #[error(
        "GET {endpoint}: the `next` link `{link}` is not under api_url `{api_url}`; the access token is sent only to api_url"
    )]
    ForeignLink {
        /// The endpoint.
        endpoint: String,
        /// The link.
        link: String,
        /// The configured API.
        api_url: String,
    },
    /// The sync would exceed its request budget.
    #[error(
        "the sync reached its request budget of {budget} requests at {endpoint}; raise limits.request_budget if the practice is this large"
    )]
    BudgetExhausted {
        /// The endpoint that would have gone over.
        endpoint: String,
        /// The budget.
        budget: u64,
    },
}

impl ApiError {
    /// Returns the endpoint of the failed request, or `token` for the token endpoint.
    pub fn endpoint(&self) -> &str {
        match self {
            Self::Auth(_) => TOKEN_ENDPOINT,
            Self::Status { endpoint, .. }
            | Self::RetriesExhausted { endpoint, .. }
            | Self::NotAPage { endpoint, .. }
            | Self::ForeignLink { endpoint, .. }
            | Self::BudgetExhausted { endpoint, .. } => endpoint,
        }
    }
}

/// The cost of one sync's requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Requests sent, retries and token requests included, by endpoint and status (0 for
    /// a request that got no complete response).
    pub requests: BTreeMap<(String, u16), u64>,
    /// Time spent waiting for `Retry-After` or backoff.
    pub throttled: Duration,
    /// Pages read.
    pub pages: u64,
    /// Access tokens obtained.
    pub token_refreshes: u64,
}

impl RequestStats {
    /// Counts all requests sent, token requests included.
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }

    /// Returns how many requests to `endpoint` got `status`.
    pub fn count_of(&self, endpoint: &str, status: u16) -> u64 {
        self.requests.get(&(endpoint.to_owned(), status)).copied().unwrap_or(0)
    }

    pub(crate) fn count(&mut self, endpoint: &str, status: u16) {
        *self.requests.entry((endpoint.to_owned(), status)).or_default() += 1;
    }
}

/// Waits between attempts: `Retry-After` when the server sent one, else exponential
/// backoff with jitter, both capped at `limits.backoff_max_ms`.
pub struct Backoff {
    base_ms: u64,
    max_ms: u64,
    jitter: RandomState,
    draws: u64,
}

impl Backoff {
    /// Creates the backoff of `limits`.
    pub fn new(limits: &Limits) -> Self {
        Self {
            base_ms: limits.backoff_base_ms,
            max_ms: limits.backoff_max_ms,
            jitter: RandomState::new(),
            draws: 0,
        }
    }

    /// Sleeps before attempt `attempt + 1` and returns the time slept.
    pub async fn wait(&mut self, attempt: u32, retry_after: Option<&str>) -> Duration {
        let wait = self.delay(attempt, retry_after);
        tokio::time::sleep(wait).await;
        wait
    }

    /// Returns the wait before attempt `attempt + 1`. Backoff uses "equal jitter": half
    /// the exponential delay plus a random share of the other half, so tenants throttled
    /// together do not retry together.
    pub fn delay(&mut self, attempt: u32, retry_after: Option<&str>) -> Duration {
        let cap = Duration::from_millis(self.max_ms);
        if let Some(wait) = retry_after.and_then(parse_retry_after) {
            return wait.min(cap);
        }
        let exponent = attempt.saturating_sub(1).min(20);
        let full = self.base_ms.saturating_mul(1 << exponent).min(self.max_ms);
        self.draws += 1;
        let half = full / 2;
        let extra = if half == 0 { 0 } else { self.jitter.hash_one(self.draws) % (half + 1) };
        Duration::from_millis(half + extra)
    }
}

/// Parses `Retry-After` given in whole or fractional seconds. An HTTP date or a negative
/// or unreadable value returns `None`, so the caller backs off instead.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(seconds.min(86_400.0)))
}

pub(crate) fn retry_after(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Describes a reqwest error with its causes. DrChrono URLs carry no secrets.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Builds the HTTP client: rustls with the Mozilla roots, a timeout per request, and
/// HTTPS only unless plain HTTP to loopback was allowed (the configuration check limits
/// it to loopback hosts).
pub fn http_client(limits: &Limits, allow_plain_http: bool) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(limits.request_timeout())
        .https_only(!allow_plain_http)
        .user_agent(concat!("rollcall-drchrono-connector/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| describe(&error))
}

/// The API client for one tenant during one sync.
pub struct ApiClient<'a> {
    http: &'a reqwest::Client,
    api_url: String,
    limits: Limits,
    tokens: TokenSource<'a>,
    access: Option<AccessToken>,
    backoff: Backoff,
    stats: RequestStats,
    last_request: Option<tokio::time::Instant>,
}

impl<'a> ApiClient<'a> {
    /// Creates a client. `api_url` is the API's base URL without a trailing slash.
    pub fn new(
        http: &'a reqwest::Client,
        api_url: &str,
        tokens: TokenSource<'a>,
        limits: Limits,
    ) -> Self {
        Self {
            http,
            api_url: api_url.trim_end_matches('/').to_owned(),
            backoff: Backoff::new(&limits),
            limits,
            tokens,
            access: None,
            stats: RequestStats::default(),
            last_request: None,
        }
    }

    /// Returns the cost of the requests so far.
    pub fn stats(&self) -> &RequestStats {
        &self.stats
    }

    /// Returns the API's base URL.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Reads every page of `endpoint` (such as `/api/users`) with `query`, following each
    /// page's `next` link until it is null, and returns the pages as DrChrono sent them.
    pub async fn get_pages(&mut self, endpoint: &str, query: &str) -> Result<Vec<Value>, ApiError> {
        let mut pages = Vec::new();
        let mut next = Some(format!("{}{endpoint}?{query}", self.api_url));
        while let Some(url) = next {
            let page = self.get(endpoint, &url).await?;
            next = self.next_link(endpoint, &page)?;
            self.stats.pages += 1;
            pages.push(page);
        }
        Ok(pages)
    }

    /// Returns the page's `next` link, checked to stay under `api_url`.
    fn next_link(&self, endpoint: &str, page: &Value) -> Result<Option<String>, ApiError> {
        let not_a_page = |reason: &str| ApiError::NotAPage {
            endpoint: endpoint.to_owned(),
            reason: reason.to_owned(),
        };
        let Some(fields) = page.as_object() else {
            return Err(not_a_page("it is not a JSON object"));
        };
        if !fields.get("data").is_some_and(Value::is_array) {
            return Err(not_a_page("it has no `data` list"));
        }
        let link = match fields.get("next") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(link)) if link.trim().is_empty() => return Ok(None),
            Some(Value::String(link)) => link.trim(),
            Some(_) => return Err(not_a_page("`next` is neither a URL nor null")),
        };
        let absolute =
            if link.starts_with('/') { format!("{}{link}", self.api_url) } else { link.to_owned() };
        let under_api = absolute
            .strip_prefix(&self.api_url)
            .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'));
        if !under_api {
            return Err(ApiError::ForeignLink {
                endpoint: endpoint.to_owned(),
                link: link.to_owned(),
                api_url: self.api_url.clone(),
            });
        }
        Ok(Some(absolute))
    }

    /// Sends one GET with retries and returns its JSON body.
    ///
    /// Retried: 429 and 5xx (after `Retry-After` when sent, else backoff), network
    /// errors, timeouts and bodies that are not complete JSON (backoff), and one 401 after
    /// a token refresh. Every other status fails at once.
    async fn get(&mut self, endpoint: &str, url: &str) -> Result<Value, ApiError> {
        let mut refreshed = false;
        let mut last = String::new();
        let mut attempt = 0;
        while attempt < self.limits.max_attempts {
            attempt += 1;
            self.ensure_token().await?;
            self.spend(endpoint)?;
            self.pace().await;
            let token = self.access.as_ref().map(|t| t.0.as_str()).unwrap_or_default();
            let sent = self.http.get(url).bearer_auth(token).send().await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    self.stats.count(endpoint, 0);
                    last = describe(&error);
                    tracing::warn!(endpoint, attempt, error = %last, "DrChrono request failed, retrying");
                    self.stats.throttled += self.backoff.wait(attempt, None).await;
                    continue;
                }
            };
            let status = response.status().as_u16();
            let wait_hint = retry_after(&response);
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(error) => {
                    // The connection closed or timed out before the body ended.
                    self.stats.count(endpoint, 0);
                    last = format!("the response body was cut off: {}", describe(&error));
                    tracing::warn!(endpoint, attempt, error = %last, "DrChrono response incomplete, retrying");
                    self.stats.throttled += self.backoff.wait(attempt, None).await;
                    continue;
                }
            };
            self.stats.count(endpoint, status);
            match status {
                200..=299 => match serde_json::from_slice::<Value>(&body) {
                    Ok(value) => return Ok(value),
                    Err(error) => {
                        tracing::warn!(endpoint, attempt, %error, "DrChrono response is not valid JSON, retrying");
                        last = format!("the body is not valid JSON: {error}");
                        self.stats.throttled += self.backoff.wait(attempt, None).await;
                    }
                },
                401 if !refreshed => {
                    // The access token expired or was revoked during the sync; one fresh
                    // token is worth a retry, a second 401 is not.
                    tracing::info!(endpoint, "DrChrono rejected the access token, refreshing it");
                    refreshed = true;
                    self.access = None;
                    attempt -= 1;
                }
                429 | 500..=599 => {
                    tracing::warn!(endpoint, attempt, status, retry_after = ?wait_hint, "DrChrono throttled or failed, retrying");
                    last = format!("status {status}: {}", snippet(&body));
                    self.stats.throttled += self.backoff.wait(attempt, wait_hint.as_deref()).await;
                }
                _ => {
                    let hint = match status {
                        401 => {
                            "; the access token was rejected twice, so check that the API application is still authorized"
                        }
                        403 => {
                            "; the authorization lacks a scope: grant user:read and billing:read (the audit log) and authorize again"
                        }
                        _ => "",
                    };
                    return Err(ApiError::Status {
                        endpoint: endpoint.to_owned(),
                        status,
                        message: snippet(&body),
                        hint,
                    });
                }
            }
        }
        Err(ApiError::RetriesExhausted { endpoint: endpoint.to_owned(), attempts: attempt, last })
    }

    async fn ensure_token(&mut self) -> Result<(), ApiError> {
        if self.access.is_some() {
            return Ok(());
        }
        self.spend(TOKEN_ENDPOINT)?;
        self.pace().await;
        let token = self
            .tokens
            .refresh(self.http, &self.limits, &mut self.backoff, &mut self.stats)
            .await?;
        self.stats.token_refreshes += 1;
        self.access = Some(token);
        Ok(())
    }

    /// Waits until `limits.min_request_interval_ms` has passed since the last request.
    async fn pace(&mut self) {
        let interval = Duration::from_millis(self.limits.min_request_interval_ms);
        if let Some(last) = self.last_request {
            tokio::time::sleep_until(last + interval).await;
        }
        self.last_request = Some(tokio::time::Instant::now());
    }

    fn spend(&self, endpoint: &str) -> Result<(), ApiError> {
        if self.stats.total() >= self.limits.request_budget {
            return Err(ApiError::BudgetExhausted {
                endpoint: endpoint.to_owned(),
                budget: self.limits.request_budget,
            });
        }
        Ok(())
    }
}

/// Returns the first 200 bytes of a body as text, for error messages.
fn snippet(body: &[u8]) -> String {
    let end = body.len().min(200);
    String::from_utf8_lossy(body.get(..end).unwrap_or_default()).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0.25 "), Some(Duration::from_millis(250)));
    }

    #[test]
    fn retry_after_rejects_dates_and_negatives() {
        assert_eq!(parse_retry_after("Sat, 05 Dec 2026 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-2"), None);
        assert_eq!(parse_retry_after("inf"), None);
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let limits = Limits { backoff_base_ms: 1_000, backoff_max_ms: 5_000, ..Limits::default() };
        let mut backoff = Backoff::new(&limits);
        let first = backoff.delay(1, None);
        assert!(first >= Duration::from_millis(500), "{first:?}");
        assert!(first <= Duration::from_millis(1_000), "{first:?}");
        let late = backoff.delay(10, None);
        assert!(late >= Duration::from_millis(2_500), "{late:?}");
        assert!(late <= Duration::from_millis(5_000), "{late:?}");
        assert_eq!(backoff.delay(1, Some("120")), Duration::from_millis(5_000));
        assert_eq!(backoff.delay(1, Some("2")), Duration::from_secs(2));
    }
}

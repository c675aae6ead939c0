//! [`VendorClient`]: sends an adapter's API requests to one tenant's vendor account.
//!
//! TLS is required: a base URL must be `https`, except `http` to a loopback address when
//! [`ClientOptions::allow_plain_http_loopback`] is set, which only the test doubles use.
//! Each request has a timeout. 5xx and network failures back off exponentially within a
//! bounded number of attempts.
//!
//! A 429 pauses the whole connection, not only the request that got it, because a
//! vendor's rate limit counts every request of the account ([`crate::throttle`]). The
//! pause lasts until the `Retry-After` instant (seconds or an HTTP date), or for an
//! exponential backoff with jitter when the vendor sends none. While it lasts, every new
//! call of the client sends nothing and returns [`LookupError::Paused`]. The call that got
//! the 429 waits for the end itself if the pause is at most
//! [`ClientOptions::max_retry_after`] and attempts are left. Otherwise it returns
//! [`LookupError::RateLimited`], and the caller retries later.
//!
//! The pause starts at every 429, including one the call then waits out. Pausing only
//! after the call gives up would let the poll and other callers keep sending while the
//! first call waits, and each of those requests counts against the vendor's limit again.
//!
//! The secret part of the credential ([`ApiSecret`]) is read again for each request, or
//! for each token request with OAuth, so a rotated secret file takes effect without a
//! restart. After a 401 or 403 the client reads it once more, and sends again only when
//! it changed: that covers a rotation that lands while a request is in flight.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use rustls::AlertDescription;
use serde_json::Value;

use crate::auth::sha256;
use crate::error::LookupError;
use crate::model::{ApiMethod, ApiRequest, WorkerRecord};
use crate::secret::ApiSecret;
use crate::throttle::{Throttle, ThrottleObserver};
use crate::vendors::{VendorAdapter, adp};

/// The maximum number of pages read from a worker list, so a vendor that keeps returning
/// a next cursor cannot keep the poll running. 1,000 pages of 100 workers is far above
/// the staff of any medical practice.
pub const MAX_PAGES: usize = 1000;

/// The credential the client sends to the vendor's API.
#[derive(Clone)]
pub enum ApiAuth {
    /// No `Authorization` header; ADP's mutual TLS still applies.
    None,
    /// HTTP Basic, as BambooHR (API key and `x`) and HiBob (service user) use it.
    Basic {
        /// The user name or API key.
        user: String,
        /// The password.
        password: ApiSecret,
    },
    /// A static bearer token (Gusto, Rippling).
    Bearer(ApiSecret),
    /// OAuth 2.0 client credentials (Paychex, Paylocity, ADP): a token is fetched from
    /// `token_url` and reused until a minute before it expires.
    ClientCredentials {
        /// The token endpoint.
        token_url: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: ApiSecret,
    },
}

impl std::fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiAuth::None => f.write_str("None"),
            ApiAuth::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
            ApiAuth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            ApiAuth::ClientCredentials { token_url, client_id, .. } => {
                write!(f, "ClientCredentials({token_url}, {client_id}, <redacted>)")
            }
        }
    }
}

/// The settings of one tenant's connection to one vendor's API.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The API's base URL, such as `https://api.hibob.com`.
    pub base_url: String,
    /// The credential.
    pub auth: ApiAuth,
    /// The time one request may take, connection included.
    pub timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The wait before the second attempt; each later wait doubles, up to `max_backoff`.
    pub first_backoff: Duration,
    /// The maximum wait between two attempts.
    pub max_backoff: Duration,
    /// The maximum pause after a 429 that the call which got it waits out. A longer
    /// pause makes the call return [`LookupError::RateLimited`].
    pub max_retry_after: Duration,
    /// Allows `http` to a loopback address, for the local test doubles only.
    pub allow_plain_http_loopback: bool,
    /// A PEM client certificate and key for mutual TLS (ADP).
    pub client_identity_pem: Option<Vec<u8>>,
    /// PEM CA certificates trusted in addition to the Mozilla roots, for a vendor endpoint
    /// behind a private CA and for tests. `None`, the default, trusts the Mozilla roots
    /// only. The server's certificate is verified either way.
    pub extra_root_pem: Option<Vec<u8>>,
}

impl ClientOptions {
    /// Builds options with the defaults: a 15 s timeout, 4 attempts, backoff from
    /// 500 ms to 30 s, and `Retry-After` waits up to 120 s.
    pub fn new(base_url: impl Into<String>, auth: ApiAuth) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            timeout: Duration::from_secs(15),
            max_attempts: 4,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            allow_plain_http_loopback: false,
            client_identity_pem: None,
            extra_root_pem: None,
        }
    }
}

/// One response, after retries.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// ADP's `adp-msg-msgid` header, when present.
    pub message_id: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// One message pulled from ADP's event notification queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// The id to delete it by, from `adp-msg-msgid`.
    pub message_id: String,
    /// The message body.
    pub body: Vec<u8>,
}

/// A client of one tenant's account at one vendor.
#[derive(Debug)]
pub struct VendorClient {
    vendor: &'static str,
    http: reqwest::Client,
    base: Url,
    options: ClientOptions,
    /// The OAuth access token and the instant it stops being reused.
    token: Mutex<Option<(String, Instant)>>,
    /// The pause after a 429, shared by every call.
    throttle: Throttle,
    /// Runs for each 429 received.
    on_throttled: Option<ThrottleObserver>,
    /// The SHA-256 of the secret last read from a file, to log a rotation once.
    secret_digest: Mutex<Option<[u8; 32]>>,
}

impl VendorClient {
    /// Builds a client. Fails when a URL is not `https` (or loopback `http` where
    /// allowed), the client identity is not a PEM certificate and key, or the extra root
    /// certificates are not PEM certificates.
    pub fn new(vendor: &'static str, options: ClientOptions) -> Result<Self, LookupError> {
        let base = checked_url(&options.base_url, options.allow_plain_http_loopback)?;
        if let ApiAuth::ClientCredentials { token_url, .. } = &options.auth {
            checked_url(token_url, options.allow_plain_http_loopback)?;
        }
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .https_only(!options.allow_plain_http_loopback)
            .user_agent(concat!("rollcall-hr-vendors/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &options.client_identity_pem {
            let identity = reqwest::Identity::from_pem(pem).map_err(|error| {
                LookupError::Config(format!(
                    "the client certificate and key are not usable PEM: {}",
                    error_chain(&error)
                ))
            })?;
            builder = builder.identity(identity);
        }
        if let Some(pem) = &options.extra_root_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem).map_err(|error| {
                LookupError::Config(format!(
                    "the extra root certificates are not usable PEM: {}",
                    error_chain(&error)
                ))
            })?;
            if roots.is_empty() {
                return Err(LookupError::Config(
                    "the extra root certificates contain no PEM certificate".to_owned(),
                ));
            }
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let http = builder.build().map_err(|error| {
            LookupError::Config(format!("cannot build the HTTP client: {error}"))
        })?;
        let throttle = Throttle::new(options.first_backoff, options.max_backoff);
        Ok(Self {
            vendor,
            http,
            base,
            options,
            token: Mutex::new(None),
            throttle,
            on_throttled: None,
            secret_digest: Mutex::new(None),
        })
    }

    /// Sets a callback that runs for each 429 the client receives, including those it
    /// waits out within a call, such as a metric's increment.
    pub fn on_throttled(&mut self, observer: impl Fn() + Send + Sync + 'static) {
        self.on_throttled = Some(ThrottleObserver(Box::new(observer)));
    }

    /// Returns the time left until the pause after a 429 ends, or `None` when the
    /// connection is not paused.
    pub fn paused_for(&self) -> Option<Duration> {
        self.throttle.remaining()
    }

    /// Reads one worker. A 404, or a response that names no such worker, is
    /// [`LookupError::NotFound`], which the caller retries later, because a vendor may
    /// send a webhook before its API shows the new worker.
    pub async fn fetch_worker(
        &self,
        adapter: &dyn VendorAdapter,
        worker_id: &str,
    ) -> Result<WorkerRecord, LookupError> {
        let request = adapter.worker_request(worker_id);
        let response = self.send(&request).await?;
        let not_found =
            || LookupError::NotFound { vendor: self.vendor, worker_id: worker_id.to_owned() };
        match response.status {
            200 => {}
            404 => return Err(not_found()),
            status => return Err(self.status_error(&request, status)),
        }
        adapter
            .parse_worker(worker_id, &response.body)
            .map_err(|source| LookupError::Parse { vendor: self.vendor, source })?
            .ok_or_else(not_found)
    }

    /// Lists the worker ids of every page, for the daily poll.
    pub async fn list_workers(
        &self,
        adapter: &dyn VendorAdapter,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, LookupError> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let request = adapter.list_request(cursor.as_deref(), since);
            let response = self.send(&request).await?;
            if !matches!(response.status, 200 | 204) {
                return Err(self.status_error(&request, response.status));
            }
            let page = adapter
                .parse_list(cursor.as_deref(), &response.body)
                .map_err(|source| LookupError::Parse { vendor: self.vendor, source })?;
            ids.extend(page.worker_ids);
            match page.next_cursor {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                _ => return Ok(ids),
            }
        }
        tracing::warn!(
            vendor = self.vendor,
            pages = MAX_PAGES,
            "worker list cut at the page limit"
        );
        Ok(ids)
    }

    /// Pulls the next message from ADP's event notification queue; `None` when it is empty.
    pub async fn next_queue_message(&self) -> Result<Option<QueueMessage>, LookupError> {
        let request = adp::queue_request();
        let response = self.send(&request).await?;
        match response.status {
            204 => Ok(None),
            200 => {
                let message_id = response.message_id.ok_or(LookupError::Parse {
                    vendor: self.vendor,
                    source: crate::error::ParseError::MissingField {
                        what: "ADP queue response",
                        field: adp::MESSAGE_ID_HEADER,
                    },
                })?;
                Ok(Some(QueueMessage { message_id, body: response.body }))
            }
            status => Err(self.status_error(&request, status)),
        }
    }

    /// Deletes a processed message from ADP's queue.
    pub async fn delete_queue_message(&self, message_id: &str) -> Result<(), LookupError> {
        let request = adp::delete_request(message_id);
        let response = self.send(&request).await?;
        match response.status {
            200..=299 | 404 => Ok(()),
            status => Err(self.status_error(&request, status)),
        }
    }

    /// Sends one request with the retries and the pause the module documents and returns
    /// the final response, whatever its status, except 401, 403 and 429, which are errors.
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, LookupError> {
        let url = self
            .base
            .join(request.path.trim_start_matches('/'))
            .map_err(|error| LookupError::Config(format!("invalid request path: {error}")))?;
        let mut refreshed = false;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.options.max_attempts.max(1);
            while let Some(left) = self.throttle.remaining() {
                // Only a call that already sent, and so may have caused the pause, waits.
                if attempt == 1 {
                    let retry_after_seconds = whole_seconds(left);
                    return Err(LookupError::Paused { vendor: self.vendor, retry_after_seconds });
                }
                if left > self.options.max_retry_after {
                    let retry_after_seconds = whole_seconds(left);
                    return Err(LookupError::RateLimited {
                        vendor: self.vendor,
                        retry_after_seconds,
                    });
                }
                tokio::time::sleep(left).await;
            }
            let authorization = self.authorization().await?;
            let outcome = self.send_once(request, url.clone(), authorization.clone()).await;
            let response = match outcome {
                Ok(response) => response,
                Err(message) if !last => {
                    tracing::warn!(vendor = self.vendor, path = request.path_only(), attempt, error = %message, "vendor request failed, retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
                Err(message) => return Err(LookupError::Network { vendor: self.vendor, message }),
            };
            if response.0.status != 429 {
                self.throttle.reset_streak();
            }
            match response.0.status {
                status @ (401 | 403) => {
                    if refreshed || !self.credential_may_have_changed(&authorization).await? {
                        return Err(LookupError::Unauthorized { vendor: self.vendor, status });
                    }
                    refreshed = true;
                    tracing::info!(
                        vendor = self.vendor,
                        path = request.path_only(),
                        status,
                        "vendor rejected the API credential; retrying once with it read again"
                    );
                }
                429 => {
                    let pause = self.throttled(request.path_only(), response.1);
                    if last || pause > self.options.max_retry_after {
                        return Err(LookupError::RateLimited {
                            vendor: self.vendor,
                            retry_after_seconds: whole_seconds(pause).max(1),
                        });
                    }
                    // The next attempt waits for the pause at the top of the loop.
                }
                500..=599 if !last => {
                    tracing::warn!(
                        vendor = self.vendor,
                        path = request.path_only(),
                        attempt,
                        status = response.0.status,
                        "vendor server error, retrying"
                    );
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                _ => return Ok(response.0),
            }
        }
    }

    /// Sends one attempt. Returns the response and its `Retry-After` wait, or the
    /// client's message for a request that got no complete response.
    async fn send_once(
        &self,
        request: &ApiRequest,
        url: Url,
        authorization: Option<String>,
    ) -> Result<(ApiResponse, Option<Duration>), String> {
        let mut builder = match request.method {
            ApiMethod::Get => self.http.get(url),
            ApiMethod::Post => self.http.post(url),
            ApiMethod::Put => self.http.put(url),
            ApiMethod::Delete => self.http.delete(url),
        };
        builder = builder.header(reqwest::header::ACCEPT, "application/json");
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value);
        }
        if let Some(json) = &request.json {
            builder = builder.header(CONTENT_TYPE, "application/json").body(json.to_string());
        }
        let response = builder.send().await.map_err(|error| self.transport_message(&error))?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let retry_after =
            headers.get(RETRY_AFTER).and_then(|value| parse_retry_after(value, Utc::now()));
        let message_id = headers
            .get(adp::MESSAGE_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(|error| self.transport_message(&error))?.to_vec();
        Ok((ApiResponse { status, message_id, body }, retry_after))
    }

    /// Records a 429: pauses the connection, runs the observer and logs the pause.
    /// Returns the pause.
    fn throttled(&self, path: &str, retry_after: Option<Duration>) -> Duration {
        let pause = self.throttle.record(retry_after);
        if let Some(observer) = &self.on_throttled {
            (observer.0)();
        }
        tracing::info!(
            vendor = self.vendor,
            path,
            retry_after_sent = retry_after.is_some(),
            pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            "vendor rate limit: connection paused"
        );
        pause
    }

    /// Decides after a 401 or 403 whether one more attempt may succeed: with OAuth, the
    /// cached token is dropped, so the next attempt fetches a new one with the secret
    /// read again. Otherwise the secret is read again and compared with the one `sent`.
    async fn credential_may_have_changed(
        &self,
        sent: &Option<String>,
    ) -> Result<bool, LookupError> {
        if self.uses_tokens() {
            self.forget_token();
            return Ok(true);
        }
        Ok(self.authorization().await? != *sent)
    }

    /// Reads the secret part of the credential, logging once when a file's content
    /// changed since the last read.
    fn read_secret(&self, secret: &ApiSecret) -> Result<String, LookupError> {
        let value = secret
            .read()
            .map_err(|source| LookupError::Credential { vendor: self.vendor, source })?;
        if let Some(path) = secret.file() {
            let digest = sha256(value.as_bytes());
            let mut last = self.secret_digest.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|last| last != digest) {
                tracing::info!(
                    vendor = self.vendor,
                    path = %path.display(),
                    "vendor API credential file changed; sending the new credential"
                );
            }
            *last = Some(digest);
        }
        Ok(value)
    }

    /// Returns the `Authorization` value, fetching an OAuth token when none is cached.
    async fn authorization(&self) -> Result<Option<String>, LookupError> {
        use base64::Engine as _;
        match &self.options.auth {
            ApiAuth::None => Ok(None),
            ApiAuth::Basic { user, password } => {
                let pair = format!("{user}:{}", self.read_secret(password)?);
                Ok(Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )))
            }
            ApiAuth::Bearer(token) => Ok(Some(format!("Bearer {}", self.read_secret(token)?))),
            ApiAuth::ClientCredentials { token_url, client_id, client_secret } => {
                if let Some(token) = self.cached_token() {
                    return Ok(Some(format!("Bearer {token}")));
                }
                let secret = self.read_secret(client_secret)?;
                let fetched = match self.fetch_token(token_url, client_id, &secret).await {
                    // The secret file may have been rotated while the token request was in
                    // flight: read it again, and ask once more only when it changed.
                    Err(error @ LookupError::Unauthorized { .. }) => {
                        let again = self.read_secret(client_secret)?;
                        if again == secret {
                            return Err(error);
                        }
                        self.fetch_token(token_url, client_id, &again).await
                    }
                    other => other,
                };
                let (token, lifetime) = fetched?;
                // Reuse it until a minute before it expires.
                let until = Instant::now() + lifetime.saturating_sub(Duration::from_secs(60));
                if let Ok(mut slot) = self.token.lock() {
                    *slot = Some((token.clone(), until));
                }
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// Requests a client-credentials token (RFC 6749 section 4.4), with the client id and
    /// secret as HTTP Basic.
    async fn fetch_token(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<(String, Duration), LookupError> {
        let response = self
            .http
            .post(token_url)
            .basic_auth(client_id, Some(client_secret))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|error| LookupError::Network {
                vendor: self.vendor,
                message: self.transport_message(&error),
            })?;
        let status = response.status().as_u16();
        if matches!(status, 400 | 401 | 403) {
            return Err(LookupError::Unauthorized { vendor: self.vendor, status });
        }
        if status == 429 {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| parse_retry_after(value, Utc::now()));
            let pause = self.throttled("(token endpoint)", retry_after);
            let retry_after_seconds = whole_seconds(pause).max(1);
            return Err(LookupError::RateLimited { vendor: self.vendor, retry_after_seconds });
        }
        if status != 200 {
            return Err(LookupError::Status {
                vendor: self.vendor,
                path: "(token endpoint)".into(),
                status,
            });
        }
        let bytes = response.bytes().await.map_err(|error| LookupError::Network {
            vendor: self.vendor,
            message: self.transport_message(&error),
        })?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|error| LookupError::Parse {
            vendor: self.vendor,
            source: crate::error::ParseError::Syntax {
                what: "token response",
                format: "JSON",
                message: error.to_string(),
            },
        })?;
        let token = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty());
        let token = token.ok_or(LookupError::Parse {
            vendor: self.vendor,
            source: crate::error::ParseError::MissingField {
                what: "token response",
                field: "/access_token",
            },
        })?;
        // RFC 6749 makes `expires_in` optional; without it the token is kept 5 minutes.
        let lifetime = body.get("expires_in").and_then(Value::as_u64).unwrap_or(300);
        Ok((token.to_owned(), Duration::from_secs(lifetime)))
    }

    fn cached_token(&self) -> Option<String> {
        let slot = self.token.lock().ok()?;
        slot.as_ref().filter(|(_, until)| Instant::now() < *until).map(|(token, _)| token.clone())
    }

    fn forget_token(&self) {
        if let Ok(mut slot) = self.token.lock() {
            *slot = None;
        }
    }

    fn uses_tokens(&self) -> bool {
        matches!(self.options.auth, ApiAuth::ClientCredentials { .. })
    }

    /// Returns the wait after failed attempt `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempt.saturating_sub(1));
        self.options.first_backoff.saturating_mul(factor).min(self.options.max_backoff)
    }

    /// Describes a request that got no complete response: the HTTP client's message with
    /// its causes, and the fix when the server rejected the TLS client certificate.
    ///
    /// NOTE: a rejected certificate stays a [`LookupError::Network`], which is retried and
    /// counts as transient, although only a change of configuration fixes it.
    fn transport_message(&self, error: &reqwest::Error) -> String {
        let message = error_chain(error);
        if !rejected_client_certificate(error) {
            return message;
        }
        let fix = if self.options.client_identity_pem.is_some() {
            "the server rejected the configured TLS client certificate: check that the \
             client certificate and key are the ones the vendor issued, signed by its CA \
             and not expired"
        } else {
            "the server requires a TLS client certificate and none is configured, so set \
             the client certificate and key (PEM) that the vendor issued"
        };
        format!("{message}; {fix}")
    }

    fn status_error(&self, request: &ApiRequest, status: u16) -> LookupError {
        LookupError::Status { vendor: self.vendor, path: request.path_only().to_owned(), status }
    }
}

/// Returns an error's message followed by those of its causes, because reqwest's message
/// leaves out the cause, such as the TLS alert.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // Some wrappers repeat their cause's message in their own.
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Returns whether `error` comes from a TLS alert that a server sends to reject the
/// client's certificate.
fn rejected_client_certificate(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(rustls::Error::AlertReceived(alert)) = cause.downcast_ref::<rustls::Error>()
            && CLIENT_CERTIFICATE_ALERTS.contains(alert)
        {
            return true;
        }
        // The rustls error reaches reqwest inside one or more `io::Error`s, and
        // `io::Error::source` skips the error it wraps.
        source = match cause.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => cause.source(),
        };
    }
    false
}

/// The TLS alerts a server sends when the client's certificate is missing or not
/// accepted. `handshake_failure` is left out, because servers also send it when no cipher
/// suite or version is shared.
const CLIENT_CERTIFICATE_ALERTS: [AlertDescription; 8] = [
    AlertDescription::CertificateRequired,
    AlertDescription::BadCertificate,
    AlertDescription::UnsupportedCertificate,
    AlertDescription::CertificateRevoked,
    AlertDescription::CertificateExpired,
    AlertDescription::CertificateUnknown,
    AlertDescription::UnknownCA,
    AlertDescription::AccessDenied,
];

/// Returns `duration` in seconds, rounded up, so a caller that waits that long waits
/// long enough.
fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs().saturating_add(u64::from(duration.subsec_nanos() > 0))
}

/// Parses a URL and requires `https`, or `http` to a loopback host when `allow_loopback`.
fn checked_url(text: &str, allow_loopback: bool) -> Result<Url, LookupError> {
    let mut url = Url::parse(text)
        .map_err(|error| LookupError::Config(format!("`{text}` is not a URL: {error}")))?;
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback => {}
        "http" => {
            return Err(LookupError::Config(format!(
                "`{text}` is plain http; use https (plain http is allowed only to a loopback test double)"
            )));
        }
        other => {
            return Err(LookupError::Config(format!("`{text}` has scheme `{other}`; use https")));
        }
    }
    // `Url::join` replaces the last segment unless the base ends with a slash.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Parses `Retry-After`: whole seconds, or an HTTP date (RFC 9110 section 10.2.3).
pub fn parse_retry_after(value: &HeaderValue, now: DateTime<Utc>) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = DateTime::parse_from_rfc2822(text).ok()?.with_timezone(&Utc);
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_rejected_off_loopback() {
        let options = ClientOptions::new("http://api.hibob.com", ApiAuth::None);
        assert!(matches!(VendorClient::new("hibob", options), Err(LookupError::Config(_))));
        let mut options = ClientOptions::new("http://api.hibob.com", ApiAuth::None);
        options.allow_plain_http_loopback = true;
        assert!(matches!(VendorClient::new("hibob", options), Err(LookupError::Config(_))));
    }

    #[test]
    fn plain_http_to_loopback_needs_opt_in() {
        let options = ClientOptions::new("http://127.0.0.1:9", ApiAuth::None);
        assert!(VendorClient::new("hibob", options).is_err());
        let mut options = ClientOptions::new("http://127.0.0.1:9", ApiAuth::None);
        options.allow_plain_http_loopback = true;
        assert!(VendorClient::new("hibob", options).is_ok());
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now =
            DateTime::parse_from_rfc3339("2026-12-01T08:49:30Z").map(|d| d.with_timezone(&Utc));
        let now = now.unwrap_or_default();
        let seconds = HeaderValue::from_static("7");
        assert_eq!(parse_retry_after(&seconds, now), Some(Duration::from_secs(7)));
        let date = HeaderValue::from_static("Tue, 01 Dec 2026 08:49:37 GMT");
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(7)));
        let junk = HeaderValue::from_static("soon");
        assert_eq!(parse_retry_after(&junk, now), None);
    }
}

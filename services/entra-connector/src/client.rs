//! The Graph client for one sync of one tenant: token acquisition, retries with backoff,
//! `Retry-After`, the request budget and `@odata.nextLink` paging.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use serde_json::Value;

use crate::auth::{CachedToken, Credential};
use crate::config::Limits;
use crate::permissions::DENIED_CODE;
use crate::transport::{HttpMethod, HttpRequest, HttpResponse, Transport, TransportError};

/// An error that ends a Graph request, after retries or at once.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an error that retrying does not fix.
    #[error("{endpoint}: Graph answered {status} {code}: {message}")]
    Status {
        /// The endpoint label, such as `users`.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// Graph's `error.code`, or empty.
        code: String,
        /// Graph's `error.message`, or the start of the body.
        message: String,
    },
    /// Graph returned `403 Authorization_RequestDenied`: the access token lacks an
    /// application permission that the request needs.
    #[error(
        "{method} {path} was denied with 403 {code} because the app's token lacks an application permission the request needs; grant {needed} to the app and consent again in this tenant (Graph's message: {message})",
        needed = permissions.join(" and ")
    )]
    PermissionDenied {
        /// The endpoint label, such as `users`.
        endpoint: String,
        /// The HTTP method of the request.
        method: &'static str,
        /// The path pattern of the request, such as `/v1.0/users`.
        path: &'static str,
        /// The permissions the request needs, from [`crate::permissions::GRAPH_REQUESTS`].
        permissions: &'static [&'static str],
        /// Graph's `error.code`.
        code: String,
        /// Graph's `error.message`.
        message: String,
    },
    /// Every attempt failed with a retryable error.
    #[error("{endpoint}: gave up after {attempts} attempts; the last error was: {last}")]
    RetriesExhausted {
        /// The endpoint label.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// The token endpoint rejected the app's credentials.
    #[error(
        "the token request for directory {directory} failed with {status}: {message}; check the app's client id, secret and admin consent in that tenant"
    )]
    Token {
        /// The directory id.
        directory: String,
        /// The HTTP status.
        status: u16,
        /// The `error_description` or body.
        message: String,
    },
    /// The sync would exceed its request budget.
    #[error(
        "the sync reached its request budget of {budget} requests at {endpoint}; raise limits.request_budget if the tenant is this large"
    )]
    BudgetExhausted {
        /// The endpoint that would have gone over.
        endpoint: String,
        /// The budget.
        budget: u64,
    },
}

impl GraphError {
    /// Builds the error for a `403` of the request labelled `endpoint`:
    /// [`GraphError::PermissionDenied`] when Graph's code is `Authorization_RequestDenied`
    /// and the permission table lists the endpoint, else [`GraphError::Status`].
    pub fn forbidden(endpoint: &str, code: String, message: String) -> Self {
        match crate::permissions::request_for(endpoint) {
            Some(request) if code == DENIED_CODE && !request.permissions.is_empty() => {
                tracing::warn!(
                    endpoint,
                    method = request.method,
                    path = request.path,
                    permissions = %request.permissions.join(","),
                    "graph denied the request; the app lacks an application permission"
                );
                Self::PermissionDenied {
                    endpoint: endpoint.to_owned(),
                    method: request.method,
                    path: request.path,
                    permissions: request.permissions,
                    code,
                    message,
                }
            }
            _ => Self::Status { endpoint: endpoint.to_owned(), status: 403, code, message },
        }
    }

    /// Graph's error code, when Graph sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { code, .. } | Self::PermissionDenied { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Returns the permissions a denied request needs, or an empty list for other errors.
    pub fn missing_permissions(&self) -> &'static [&'static str] {
        match self {
            Self::PermissionDenied { permissions, .. } => permissions,
            _ => &[],
        }
    }

    /// Returns the endpoint label of the failed request, or `token` for the token endpoint.
    pub fn endpoint(&self) -> &str {
        match self {
            Self::Status { endpoint, .. }
            | Self::PermissionDenied { endpoint, .. }
            | Self::RetriesExhausted { endpoint, .. }
            | Self::BudgetExhausted { endpoint, .. } => endpoint,
            Self::Token { .. } => "token",
        }
    }

    /// The HTTP status, when Graph answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::PermissionDenied { .. } => Some(403),
            _ => None,
        }
    }
}

/// The cost of one sync's requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Requests sent, retries and token requests included, by endpoint label and status
    /// (0 for a request that got no response).
    pub requests: BTreeMap<(String, u16), u64>,
    /// Time spent waiting for `Retry-After` or backoff.
    pub throttled: Duration,
    /// Pages read.
    pub pages: u64,
}

impl RequestStats {
    /// Counts all requests sent, token requests included.
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }

    /// Graph resource units the requests cost, estimated from Graph's published base
    /// costs for identity reads: `GET users` 2, `GET groups/{id}/transitiveMembers` 5,
    /// everything else 1; `$select` takes 1 off and `$expand` adds 1, never below 1.
    /// Token requests cost nothing. A `$batch` counts 20, the most inner requests it carries.
    pub fn resource_units(&self) -> u64 {
        self.requests.iter().map(|((endpoint, _), count)| resource_units(endpoint) * count).sum()
    }

    /// Requests sent to Graph, token requests left out.
    pub fn graph_requests(&self) -> u64 {
        self.requests
            .iter()
            .filter(|((endpoint, _), _)| endpoint != TOKEN_ENDPOINT)
            .map(|(_, count)| count)
            .sum()
    }
}

const TOKEN_ENDPOINT: &str = "token";

/// Estimated resource units of one request to `endpoint`, with the `$select` and
/// `$expand` the sync sends there.
fn resource_units(endpoint: &str) -> u64 {
    match endpoint {
        TOKEN_ENDPOINT => 0,
        // Base 2, $select -1, $expand +1.
        "users" => 2,
        // Base 5, $select -1.
        "groups/transitiveMembers" => 4,
        // 20 inner requests of base 1.
        "$batch" => 20,
        _ => 1,
    }
}

/// The Graph client for one tenant during one sync.
pub struct GraphClient<'a, T: Transport> {
    transport: &'a T,
    authority_url: String,
    directory_id: String,
    client_id: String,
    credential: &'a Credential,
    limits: Limits,
    token: Option<CachedToken>,
    stats: RequestStats,
    jitter: RandomState,
    jitter_counter: u64,
}

impl<'a, T: Transport> GraphClient<'a, T> {
    /// Creates a client. `authority_url` is the identity platform's base URL.
    pub fn new(
        transport: &'a T,
        authority_url: &str,
        directory_id: &str,
        client_id: &str,
        credential: &'a Credential,
        limits: Limits,
    ) -> Self {
        Self {
            transport,
            authority_url: authority_url.trim_end_matches('/').to_owned(),
            directory_id: directory_id.to_owned(),
            client_id: client_id.to_owned(),
            credential,
            limits,
            token: None,
            stats: RequestStats::default(),
            jitter: RandomState::new(),
            jitter_counter: 0,
        }
    }

    /// Returns the cost of the requests so far.
    pub fn stats(&self) -> &RequestStats {
        &self.stats
    }

    /// Reads every page of a collection, following `@odata.nextLink`, and returns the
    /// pages as Graph sent them.
    pub async fn get_pages(&mut self, endpoint: &str, url: &str) -> Result<Vec<Value>, GraphError> {
        let mut pages = Vec::new();
        let mut next = Some(url.to_owned());
        while let Some(url) = next {
            let page = self.send_json(endpoint, HttpMethod::Get, &url, Vec::new()).await?;
            next = page.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
            self.stats.pages += 1;
            pages.push(page);
        }
        Ok(pages)
    }

    /// Reads one response object.
    pub async fn get(&mut self, endpoint: &str, url: &str) -> Result<Value, GraphError> {
        let value = self.send_json(endpoint, HttpMethod::Get, url, Vec::new()).await?;
        self.stats.pages += 1;
        Ok(value)
    }

    /// Posts a JSON body (a `$batch`) and returns the JSON response.
    pub async fn post(
        &mut self,
        endpoint: &str,
        url: &str,
        body: &Value,
    ) -> Result<Value, GraphError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.send_json(endpoint, HttpMethod::Post, url, bytes).await
    }

    /// Sends a `PATCH` with a JSON body and returns the JSON response, or `Value::Null`
    /// for Graph's usual `204 No Content`.
    pub async fn patch(
        &mut self,
        endpoint: &str,
        url: &str,
        body: &Value,
    ) -> Result<Value, GraphError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.send_json(endpoint, HttpMethod::Patch, url, bytes).await
    }

    /// Sends a `DELETE` and returns `Value::Null` for Graph's usual `204 No Content`.
    pub async fn delete(&mut self, endpoint: &str, url: &str) -> Result<Value, GraphError> {
        self.send_json(endpoint, HttpMethod::Delete, url, Vec::new()).await
    }

    /// Sends one Graph request with retries and returns its JSON body, or `Value::Null`
    /// for a `204 No Content`.
    ///
    /// Retried: 429, 500, 502, 503 and 504 (after `Retry-After` when sent, else
    /// backoff), network errors and bodies that are not complete JSON (backoff), and one
    /// `401` after a fresh token. A `403` for a missing permission is returned as
    /// [`GraphError::PermissionDenied`], and every other status as [`GraphError::Status`],
    /// at once.
    async fn send_json(
        &mut self,
        endpoint: &str,
        method: HttpMethod,
        url: &str,
        body: Vec<u8>,
    ) -> Result<Value, GraphError> {
        let mut refreshed = false;
        let mut last = String::new();
        let mut attempt = 0;
        while attempt < self.limits.max_attempts {
            attempt += 1;
            let token = self.access_token().await?;
            self.spend(endpoint)?;
            let request = HttpRequest {
                method,
                url: url.to_owned(),
                headers: vec![
                    ("Authorization".into(), format!("Bearer {}", token.as_str())),
                    ("Accept".into(), "application/json".into()),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: body.clone(),
            };
            let response = match self.transport.send(request).await {
                Ok(response) => response,
                Err(TransportError::Network { message, .. }) => {
                    self.count(endpoint, 0);
                    tracing::warn!(endpoint, attempt, error = %message, "graph request failed, retrying");
                    last = message;
                    self.back_off(attempt, None).await;
                    continue;
                }
            };
            self.count(endpoint, response.status);
            match response.status {
                // Graph returns 204 with no body for a successful PATCH and for some actions.
                204 => return Ok(Value::Null),
                200..=299 => match serde_json::from_slice::<Value>(&response.body) {
                    Ok(value) => return Ok(value),
                    Err(error) => {
                        tracing::warn!(endpoint, attempt, %error, "graph response body is not complete JSON, retrying");
                        last = format!("incomplete JSON body: {error}");
                        self.back_off(attempt, None).await;
                    }
                },
                401 if !refreshed => {
                    // An access token can expire or be revoked in the middle of a sync, so
                    // one fresh token is worth a retry. A second 401 is not.
                    tracing::info!(
                        endpoint,
                        "graph rejected the access token, requesting a new one"
                    );
                    refreshed = true;
                    self.token = None;
                    attempt -= 1;
                }
                429 | 500 | 502 | 503 | 504 => {
                    let (code, message) = error_parts(&response);
                    tracing::warn!(endpoint, attempt, status = response.status, code, retry_after = ?response.retry_after, "graph throttled or failed, retrying");
                    last = format!("{} {code}: {message}", response.status);
                    self.back_off(attempt, response.retry_after.as_deref()).await;
                }
                403 => {
                    let (code, message) = error_parts(&response);
                    return Err(GraphError::forbidden(endpoint, code, message));
                }
                status => {
                    let (code, message) = error_parts(&response);
                    return Err(GraphError::Status {
                        endpoint: endpoint.to_owned(),
                        status,
                        code,
                        message,
                    });
                }
            }
        }
        Err(GraphError::RetriesExhausted { endpoint: endpoint.to_owned(), attempts: attempt, last })
    }

    fn spend(&mut self, endpoint: &str) -> Result<(), GraphError> {
        if self.stats.total() >= self.limits.request_budget {
            return Err(GraphError::BudgetExhausted {
                endpoint: endpoint.to_owned(),
                budget: self.limits.request_budget,
            });
        }
        Ok(())
    }

    fn count(&mut self, endpoint: &str, status: u16) {
        *self.stats.requests.entry((endpoint.to_owned(), status)).or_default() += 1;
    }

    /// Waits before attempt `attempt + 1`: `Retry-After` (whole or fractional seconds)
    /// when the server sent one, else exponential backoff with jitter. Both are capped
    /// at `limits.backoff_max_ms`.
    async fn back_off(&mut self, attempt: u32, retry_after: Option<&str>) {
        let cap = Duration::from_millis(self.limits.backoff_max_ms);
        let wait = match retry_after.and_then(parse_retry_after) {
            Some(wait) => wait.min(cap),
            None => self.backoff_delay(attempt).min(cap),
        };
        self.stats.throttled += wait;
        tokio::time::sleep(wait).await;
    }

    /// "Equal jitter": half the exponential delay, plus a random share of the other half,
    /// so that tenants throttled together do not retry together.
    fn backoff_delay(&mut self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let full = self.limits.backoff_base_ms.saturating_mul(1 << exponent);
        let full = full.min(self.limits.backoff_max_ms);
        self.jitter_counter += 1;
        let random = self.jitter.hash_one(self.jitter_counter);
        let half = full / 2;
        let extra = if half == 0 { 0 } else { random % (half + 1) };
        Duration::from_millis(half + extra)
    }

    /// Returns a fresh access token, requesting one when there is none or it is old.
    async fn access_token(&mut self) -> Result<zeroize::Zeroizing<String>, GraphError> {
        if let Some(token) = &self.token
            && token.is_fresh()
        {
            return Ok(token.value.clone());
        }
        let url = format!("{}/{}/oauth2/v2.0/token", self.authority_url, self.directory_id);
        let mut fields = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", self.client_id.clone()),
            ("scope", "https://graph.microsoft.com/.default".to_owned()),
        ];
        let credential_fields =
            self.credential.form_fields(&self.client_id, &url).map_err(|error| {
                GraphError::Token {
                    directory: self.directory_id.clone(),
                    status: 0,
                    message: error.to_string(),
                }
            })?;
        fields.extend(credential_fields);
        let body = zeroize::Zeroizing::new(form_encode(&fields));
        let mut attempt = 0;
        let mut last = String::new();
        while attempt < self.limits.max_attempts {
            attempt += 1;
            self.spend(TOKEN_ENDPOINT)?;
            let request = HttpRequest {
                method: HttpMethod::Post,
                url: url.clone(),
                headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
                body: body.as_bytes().to_vec(),
            };
            let response = match self.transport.send(request).await {
                Ok(response) => response,
                Err(TransportError::Network { message, .. }) => {
                    self.count(TOKEN_ENDPOINT, 0);
                    last = message;
                    self.back_off(attempt, None).await;
                    continue;
                }
            };
            self.count(TOKEN_ENDPOINT, response.status);
            match response.status {
                200 => {
                    let parsed: Value =
                        serde_json::from_slice(&response.body).unwrap_or(Value::Null);
                    let Some(token) = parsed.get("access_token").and_then(Value::as_str) else {
                        last = "the token response has no access_token".into();
                        self.back_off(attempt, None).await;
                        continue;
                    };
                    let expires_in =
                        parsed.get("expires_in").and_then(Value::as_u64).unwrap_or(3599);
                    let cached = CachedToken::new(token.to_owned(), expires_in);
                    let value = cached.value.clone();
                    self.token = Some(cached);
                    tracing::debug!(directory = %self.directory_id, "access token acquired");
                    return Ok(value);
                }
                429 | 500..=599 => {
                    last = format!("status {}", response.status);
                    self.back_off(attempt, response.retry_after.as_deref()).await;
                }
                status => {
                    let parsed: Value =
                        serde_json::from_slice(&response.body).unwrap_or(Value::Null);
                    let message = parsed
                        .get("error_description")
                        .and_then(Value::as_str)
                        .unwrap_or("no error_description")
                        .to_owned();
                    return Err(GraphError::Token {
                        directory: self.directory_id.clone(),
                        status,
                        message,
                    });
                }
            }
        }
        Err(GraphError::RetriesExhausted {
            endpoint: TOKEN_ENDPOINT.to_owned(),
            attempts: attempt,
            last,
        })
    }
}

/// Parses `Retry-After` as whole or fractional seconds. Graph sends seconds; an HTTP date
/// or a negative or unparsable value is ignored, so the caller backs off instead.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(seconds.min(86_400.0)))
}

fn error_parts(response: &HttpResponse) -> (String, String) {
    let parsed: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let error = parsed.get("error");
    let code =
        error.and_then(|e| e.get("code")).and_then(Value::as_str).unwrap_or_default().to_owned();
    let message = match error.and_then(|e| e.get("message")).and_then(Value::as_str) {
        Some(message) => message.to_owned(),
        None => {
            String::from_utf8_lossy(response.body.get(..200).unwrap_or(&response.body)).into_owned()
        }
    };
    (code, message)
}

fn form_encode(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_whole_and_fractional() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after(" 1.25 "), Some(Duration::from_millis(1250)));
    }

    #[test]
    fn retry_after_rejects_dates_and_negatives() {
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("NaN"), None);
    }

    #[test]
    fn form_encoding_escapes_reserved() {
        let encoded = form_encode(&[("scope", "https://graph.microsoft.com/.default".into())]);
        assert_eq!(encoded, "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default");
    }
}

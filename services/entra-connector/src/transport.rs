//! The HTTP seam: [`Transport`] sends one request and returns status, headers and body.
//! [`HttpTransport`] is the reqwest implementation; tests may supply their own.

use std::future::Future;
use std::time::Duration;

/// One HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: HttpMethod,
    /// The absolute URL.
    pub url: String,
    /// Header names and values. The access token is added here, so never log them.
    pub headers: Vec<(String, String)>,
    /// The body, empty for `GET`.
    pub body: Vec<u8>,
}

/// The HTTP methods the connector and remediation use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// A read.
    Get,
    /// The token request, JSON batches and actions such as `revokeSignInSessions`.
    Post,
    /// A change of an object's properties, such as `accountEnabled`.
    Patch,
    /// A removal, such as a group member's `$ref`.
    Delete,
}

/// One HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<String>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// The failure of a request that got no complete response.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The connection failed, timed out or closed before the body ended.
    #[error("request to {url} failed: {message}")]
    Network {
        /// The URL, without query secrets (Graph URLs carry none).
        url: String,
        /// The client's message.
        message: String,
    },
}

/// Sends HTTP requests. Implementations must not retry: the Graph client does.
pub trait Transport: Send + Sync {
    /// Sends one request and reads the whole body.
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>> + Send;
}

/// [`Transport`] on reqwest with rustls.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// Builds a client with a per-request timeout.
    pub fn new(timeout: Duration) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("rollcall-entra-connector/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| TransportError::Network {
                url: String::new(),
                message: error.to_string(),
            })?;
        Ok(Self { client })
    }
}

impl Transport for HttpTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let network = |error: reqwest::Error| TransportError::Network {
            url: request.url.clone(),
            message: error.to_string(),
        };
        let mut builder = match request.method {
            HttpMethod::Get => self.client.get(&request.url),
            HttpMethod::Post => self.client.post(&request.url).body(request.body.clone()),
            HttpMethod::Patch => self.client.patch(&request.url).body(request.body.clone()),
            HttpMethod::Delete => self.client.delete(&request.url),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let response = builder.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(network)?.to_vec();
        Ok(HttpResponse { status, retry_after, body })
    }
}

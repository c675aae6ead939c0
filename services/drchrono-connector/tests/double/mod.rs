//! A double of the DrChrono API (v4) and its OAuth token endpoint, served over loopback
//! with axum for the connector's tests.
//!
//! It serves the records of a saved API dump (by default the example practice in
//! `testdata/field-cases/ehr-exports/drchrono/example.json`) as the documented pages:
//! `{"previous", "next", "data"}`, `cursor` and `page_size` query parameters, and a `next`
//! link that is an absolute URL. `/api/audit_log` requires `since`, `date` or
//! `date_range`, as DrChrono documents, and filters on `type`. The token endpoint
//! implements the refresh token grant with rotation: every refresh returns a new refresh
//! token and revokes the one it consumed.
//!
//! Faults are queued per endpoint and page and each is used once: a status with an
//! optional `Retry-After`, a body that is not JSON, and a connection that closes half way
//! through the page.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    reason = "test support: each test uses a different part, and a broken double should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

/// The client id the double accepts.
pub const CLIENT_ID: &str = "synthetic-client-id";
/// The client secret the double accepts.
pub const CLIENT_SECRET: &str = "synthetic-client-secret";
/// The refresh token the double starts with.
pub const FIRST_REFRESH_TOKEN: &str = "synthetic-refresh-0";

/// The endpoints the double serves, as the dump keys them.
pub const ENDPOINTS: [&str; 5] =
    ["/api/users", "/api/doctors", "/api/staff", "/api/user_groups", "/api/audit_log"];

/// A fault the double injects into one response.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Returns this status with an error body, and `Retry-After` when given.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header value.
        retry_after: Option<String>,
    },
    /// Returns 200 with a body that is not JSON.
    MalformedJson,
    /// Sends the first part of the page and closes the connection.
    DropConnection,
    /// Holds the page back this long before sending it, so a client timeout fires first.
    Stall(std::time::Duration),
    /// Invalidates every access token issued so far and returns 401, as when the
    /// access token expires during a sync.
    ExpireAccessTokens,
}

/// One queued fault: the endpoint, the page (0-based; `None` for any page) and the fault.
#[derive(Debug, Clone)]
struct Queued {
    endpoint: String,
    page: Option<usize>,
    fault: Fault,
}

#[derive(Debug, Default)]
struct Inner {
    base: String,
    /// The base of `next` and `previous` links when it differs from `base`.
    link_base: Option<String>,
    records: BTreeMap<String, Vec<Value>>,
    refresh_token: String,
    access_tokens: BTreeSet<String>,
    issued: u64,
    faults: VecDeque<Queued>,
    /// Every request as `METHOD path?query`, in order.
    log: Vec<String>,
    /// When each API request (not the token endpoint's) arrived, in order.
    api_arrivals: Vec<std::time::Instant>,
    default_page_size: usize,
}

/// The double. Clones share the same state.
#[derive(Debug, Clone)]
pub struct DrChronoDouble {
    inner: Arc<Mutex<Inner>>,
}

/// Returns the path of the example dump.
pub fn example_dump() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/field-cases/ehr-exports/drchrono/example.json")
}

impl DrChronoDouble {
    /// Creates a double serving the records of the example dump.
    pub fn example() -> Self {
        let dump: Value = serde_json::from_slice(&std::fs::read(example_dump()).unwrap()).unwrap();
        Self::from_dump(&dump)
    }

    /// Creates a double serving the records of every page of a dump's responses.
    pub fn from_dump(dump: &Value) -> Self {
        let mut records: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (key, pages) in dump["responses"].as_object().unwrap() {
            let endpoint = key.split('?').next().unwrap().to_owned();
            let list = records.entry(endpoint).or_default();
            for page in pages.as_array().unwrap() {
                list.extend(page["data"].as_array().unwrap().iter().cloned());
            }
        }
        let inner = Inner {
            records,
            refresh_token: FIRST_REFRESH_TOKEN.to_owned(),
            default_page_size: 3,
            ..Inner::default()
        };
        Self { inner: Arc::new(Mutex::new(inner)) }
    }

    /// Serves on a free port of 127.0.0.1 and returns the base URL.
    pub async fn spawn(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        self.inner.lock().unwrap().base = base.clone();
        let router =
            Router::new().route("/o/token/", post(token)).fallback(api).with_state(self.clone());
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        base
    }

    /// Changes the records of `endpoint` with `edit`.
    pub fn edit_records(&self, endpoint: &str, edit: impl FnOnce(&mut Vec<Value>)) {
        let mut inner = self.inner.lock().unwrap();
        edit(inner.records.entry(endpoint.to_owned()).or_default());
    }

    /// Queues a fault for the next request to `endpoint` on `page` (any page if `None`).
    pub fn push_fault(&self, endpoint: &str, page: Option<usize>, fault: Fault) {
        let queued = Queued { endpoint: endpoint.to_owned(), page, fault };
        self.inner.lock().unwrap().faults.push_back(queued);
    }

    /// Makes every access token issued so far invalid, as when they expire.
    pub fn expire_access_tokens(&self) {
        self.inner.lock().unwrap().access_tokens.clear();
    }

    /// Revokes the current refresh token, as when the practice removes the authorization.
    pub fn revoke_refresh_token(&self) {
        // A token the connector never received, so nothing it sends matches.
        self.inner.lock().unwrap().refresh_token = "synthetic-refresh-never-issued".to_owned();
    }

    /// Replaces the refresh token the double accepts, as a new consent does.
    pub fn set_refresh_token(&self, token: &str) {
        self.inner.lock().unwrap().refresh_token = token.to_owned();
    }

    /// Returns the refresh token the double accepts now.
    pub fn current_refresh_token(&self) -> String {
        self.inner.lock().unwrap().refresh_token.clone()
    }

    /// Returns every request so far as `METHOD path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().log.clone()
    }

    /// Returns when each API request arrived, in order.
    pub fn api_arrivals(&self) -> Vec<std::time::Instant> {
        self.inner.lock().unwrap().api_arrivals.clone()
    }

    /// Makes `next` and `previous` links point at `base` instead of the double.
    pub fn set_link_base(&self, base: &str) {
        self.inner.lock().unwrap().link_base = Some(base.to_owned());
    }

    /// Sets the page size used when a request sends none.
    pub fn set_default_page_size(&self, size: usize) {
        self.inner.lock().unwrap().default_page_size = size.max(1);
    }
}

/// Serves the refresh token grant with rotation (RFC 6749 section 6).
async fn token(State(double): State<DrChronoDouble>, body: Bytes) -> Response {
    let form: BTreeMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let mut inner = double.inner.lock().unwrap();
    inner.log.push("POST /o/token/".to_owned());
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return error(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}));
    }
    if field("grant_type") != "refresh_token" {
        return error(StatusCode::BAD_REQUEST, json!({"error": "unsupported_grant_type"}));
    }
    if field("refresh_token") != inner.refresh_token {
        return error(StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}));
    }
    inner.issued += 1;
    let access = format!("synthetic-access-{}", inner.issued);
    let refresh = format!("synthetic-refresh-{}", inner.issued);
    inner.access_tokens.insert(access.clone());
    inner.refresh_token = refresh.clone();
    let body = json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": 172_800,
        "scope": "user:read billing:read",
    });
    json_response(StatusCode::OK, serde_json::to_vec(&body).unwrap())
}

/// Serves one page of an endpoint, after the delay of a queued [`Fault::Stall`].
async fn api(
    State(double): State<DrChronoDouble>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (response, stall) = page(&double, &method, &uri, &headers);
    if let Some(wait) = stall {
        tokio::time::sleep(wait).await;
    }
    response
}

/// Builds the response to one API request and the time to hold it back.
fn page(
    double: &DrChronoDouble,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> (Response, Option<std::time::Duration>) {
    let mut inner = double.inner.lock().unwrap();
    let path = uri.path().trim_end_matches('/').to_owned();
    let query: BTreeMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    inner.log.push(format!("{method} {}", uri.path_and_query().map_or("", |p| p.as_str())));
    inner.api_arrivals.push(std::time::Instant::now());

    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let expire = inner
        .faults
        .iter()
        .position(|queued| queued.endpoint == path && queued.fault == Fault::ExpireAccessTokens);
    if let Some(index) = expire {
        inner.faults.remove(index);
        inner.access_tokens.clear();
    }
    if !inner.access_tokens.contains(bearer) {
        return (error(StatusCode::UNAUTHORIZED, json!({"detail": "Invalid token."})), None);
    }
    if *method != Method::GET || !ENDPOINTS.contains(&path.as_str()) {
        return (error(StatusCode::NOT_FOUND, json!({"detail": "Not found."})), None);
    }
    if path == "/api/audit_log"
        && !["since", "date", "date_range"].iter().any(|name| query.contains_key(*name))
    {
        let detail = "Either since, date or date_range parameter must be specified";
        return (error(StatusCode::BAD_REQUEST, json!({"detail": detail})), None);
    }

    let page_size = query
        .get("page_size")
        .and_then(|size| size.parse::<usize>().ok())
        .filter(|size| *size > 0)
        .unwrap_or(inner.default_page_size);
    let offset = query.get("cursor").and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    let page_index = offset / page_size;

    let position = inner.faults.iter().position(|queued| {
        queued.endpoint == path && queued.page.is_none_or(|page| page == page_index)
    });
    let fault = position.and_then(|index| inner.faults.remove(index)).map(|queued| queued.fault);

    let mut records: Vec<Value> = inner.records.get(&path).cloned().unwrap_or_default();
    if path == "/api/audit_log"
        && let Some(kind) = query.get("type")
    {
        records.retain(|record| record["type"].as_str() == Some(kind.as_str()));
    }
    let data: Vec<Value> = records.iter().skip(offset).take(page_size).cloned().collect();
    let link = |cursor: usize| {
        let mut rest: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| *k != "cursor")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        rest.push(("cursor".to_owned(), cursor.to_string()));
        let encoded: String =
            form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
        let base = inner.link_base.as_deref().unwrap_or(&inner.base);
        format!("{base}{path}?{encoded}")
    };
    let next = (offset + page_size < records.len()).then(|| link(offset + page_size));
    let previous = (offset > 0).then(|| link(offset.saturating_sub(page_size)));
    let page = json!({"previous": previous, "next": next, "data": data});
    let body = serde_json::to_vec(&page).unwrap();

    let response = match fault {
        None => json_response(StatusCode::OK, body),
        Some(Fault::Stall(wait)) => return (json_response(StatusCode::OK, body), Some(wait)),
        Some(Fault::Status { status, retry_after }) => {
            let status = StatusCode::from_u16(status).unwrap();
            let mut response = error(status, json!({"detail": "Injected by the test."}));
            if let Some(value) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, value.parse().unwrap());
            }
            response
        }
        Some(Fault::ExpireAccessTokens) => unreachable!("handled before the token check"),
        Some(Fault::MalformedJson) => {
            let cut = body.len() / 2;
            json_response(StatusCode::OK, body[..cut].to_vec())
        }
        Some(Fault::DropConnection) => {
            // A streamed body that fails after its first half makes hyper close the
            // connection before the chunked body ends.
            let half = Bytes::copy_from_slice(&body[..body.len() / 2]);
            let parts: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "dropped by the test",
                )),
            ];
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(futures_util::stream::iter(parts)))
                .unwrap()
        }
    };
    (response, None)
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn error(status: StatusCode, body: Value) -> Response {
    json_response(status, serde_json::to_vec(&body).unwrap())
}

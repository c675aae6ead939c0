//! A local double of every vendor's worker API, served by axum on 127.0.0.1, for tests.
//! A test can serve it over a listener of its own, such as one that performs a TLS
//! handshake ([`VendorDouble::start_on`]).
//!
//! Each vendor's API sits under `/{vendor}` (`http://127.0.0.1:PORT/hibob`), with the
//! paths and response shapes of its adapter. The double keeps one worker table per
//! vendor, which a test changes while the double runs (a late termination, a rescinded
//! one). It also keeps a queue of faults for the next requests: a status such as 401 or
//! 500, or 429 with `Retry-After`. A fault can also be aimed at one path, such as one
//! worker's lookup, once or until it is removed. A worker not in the table gets 404, as a
//! worker the vendor does not show yet. Every request is recorded, method and path, for
//! assertions.
//!
//! Like a vendor, the double keeps its rate limit in force after a 429 with
//! `Retry-After: N` (whole seconds): a request to the same vendor within those N seconds
//! gets 429 again and is also recorded apart ([`VendorDouble::early_requests`]). By
//! default any `Authorization` header is accepted. [`VendorDouble::require_secret`] makes
//! one vendor accept only one secret, as after a credential rotation.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::sha256;
use crate::vendors::Vendor;

/// A worker as the double serves it, in every vendor's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureWorker {
    /// The termination date, in the vendor's meaning; `None` for an active worker.
    pub termination_date: Option<NaiveDate>,
    /// HiBob's site name.
    pub site: Option<String>,
    /// The work e-mail address.
    pub email: Option<String>,
}

impl FixtureWorker {
    /// Builds an active worker.
    pub fn active() -> Self {
        Self { termination_date: None, site: None, email: None }
    }

    /// Builds a worker terminated on `date` (`YYYY-MM-DD`); an invalid date gives an
    /// active worker.
    pub fn terminated(date: &str) -> Self {
        Self {
            termination_date: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            ..Self::active()
        }
    }
}

/// A fault the next request gets instead of its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status with an empty JSON object.
    Status(u16),
    /// 429 with this `Retry-After` value.
    RateLimited(String),
}

#[derive(Debug, Default)]
struct DoubleState {
    workers: Mutex<BTreeMap<(Vendor, String), FixtureWorker>>,
    faults: Mutex<VecDeque<Fault>>,
    /// Faults queued for one path each, oldest first.
    path_faults: Mutex<Vec<(String, Fault)>>,
    /// Faults that every request to a path gets, by path.
    persistent_faults: Mutex<BTreeMap<String, Fault>>,
    requests: Mutex<Vec<String>>,
    queue: Mutex<VecDeque<(String, Vec<u8>)>>,
    verified: Mutex<Vec<(String, String)>>,
    /// The one secret each vendor accepts, where one is required.
    secrets: Mutex<BTreeMap<Vendor, String>>,
    /// The end of each vendor's last `Retry-After` wait.
    retry_after_ends: Mutex<BTreeMap<Vendor, Instant>>,
    /// Requests that arrived before their vendor's `Retry-After` wait ended.
    early: Mutex<Vec<String>>,
    hook: Mutex<Option<RequestHook>>,
}

/// A test's callback, run with each request as `METHOD /path` before the double responds.
#[derive(Clone)]
struct RequestHook(Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for RequestHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestHook")
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The running double. Dropping it stops the server.
#[derive(Debug)]
pub struct VendorDouble {
    address: SocketAddr,
    /// The scheme of the URLs the double returns: `http`, or `https` on a TLS listener.
    scheme: &'static str,
    state: Arc<DoubleState>,
    server: JoinHandle<()>,
}

impl Drop for VendorDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl VendorDouble {
    /// Starts the double on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        Self::start_on(listener, "http").await
    }

    /// Starts the double on `listener`, such as a TLS listener a test built on a loopback
    /// socket. The URLs the double returns use `scheme`, which is `https` for TLS.
    pub async fn start_on<L>(listener: L, scheme: &'static str) -> std::io::Result<Self>
    where
        L: axum::serve::Listener<Addr = SocketAddr>,
    {
        let address = listener.local_addr()?;
        let state = Arc::new(DoubleState::default());
        let router = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { address, scheme, state, server })
    }

    /// Returns the base URL of `vendor`'s API on the double.
    pub fn base_url(&self, vendor: Vendor) -> String {
        format!("{}://{}/{}", self.scheme, self.address, vendor.as_str())
    }

    /// Returns the OAuth token URL of `vendor` on the double.
    pub fn token_url(&self, vendor: Vendor) -> String {
        format!("{}://{}/{}/oauth/token", self.scheme, self.address, vendor.as_str())
    }

    /// Adds or replaces a worker.
    pub fn set_worker(&self, vendor: Vendor, worker_id: &str, worker: FixtureWorker) {
        lock(&self.state.workers).insert((vendor, worker_id.to_owned()), worker);
    }

    /// Removes a worker, so that reads of it get 404.
    pub fn remove_worker(&self, vendor: Vendor, worker_id: &str) {
        lock(&self.state.workers).remove(&(vendor, worker_id.to_owned()));
    }

    /// Queues a fault for the next request.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.state.faults).push_back(fault);
    }

    /// Queues a fault for the next request to `path` only. `path` is as
    /// [`VendorDouble::requests`] records it, without the query, such as
    /// `/hibob/v1/people/42`. Requests to other paths, such as an OAuth token or ADP's
    /// queue, do not take it.
    pub fn push_fault_at(&self, path: &str, fault: Fault) {
        lock(&self.state.path_faults).push((path.to_owned(), fault));
    }

    /// Makes every request to `path` (as in [`VendorDouble::push_fault_at`]) get `fault`
    /// until this is called again with `None`, as a vendor rejects a revoked credential
    /// until it is restored. Queued faults are taken first.
    pub fn set_persistent_fault(&self, path: &str, fault: Option<Fault>) {
        let mut persistent = lock(&self.state.persistent_faults);
        match fault {
            Some(fault) => persistent.insert(path.to_owned(), fault),
            None => persistent.remove(path),
        };
    }

    /// Puts a message into ADP's event notification queue.
    pub fn push_adp_message(&self, message_id: &str, body: &[u8]) {
        lock(&self.state.queue).push_back((message_id.to_owned(), body.to_vec()));
    }

    /// Returns the number of messages left in ADP's queue.
    pub fn adp_queue_len(&self) -> usize {
        lock(&self.state.queue).len()
    }

    /// Returns the Gusto subscriptions verified so far, with their tokens.
    pub fn verified_subscriptions(&self) -> Vec<(String, String)> {
        lock(&self.state.verified).clone()
    }

    /// Returns every request so far as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state.requests).clone()
    }

    /// Returns the requests, as in [`VendorDouble::requests`], that reached a vendor
    /// before the `Retry-After` of its last 429 had passed. A client that honours
    /// `Retry-After` across all its calls sends none.
    pub fn early_requests(&self) -> Vec<String> {
        lock(&self.state.early).clone()
    }

    /// Makes `vendor` accept only `secret`, or any credential again with `None`. The
    /// secret is accepted as the Basic password, as the bearer token, and as the OAuth
    /// client secret at the token endpoint, whose access tokens are then accepted only
    /// while that secret is the required one. Anything else gets 401.
    pub fn require_secret(&self, vendor: Vendor, secret: Option<&str>) {
        let mut secrets = lock(&self.state.secrets);
        match secret {
            Some(secret) => secrets.insert(vendor, secret.to_owned()),
            None => secrets.remove(&vendor),
        };
    }

    /// Runs `hook` with each request as `METHOD /path`, without the query, before the
    /// double responds, such as to rewrite a secret file while a request is in flight.
    pub fn on_request(&self, hook: impl Fn(&str) + Send + Sync + 'static) {
        *lock(&self.state.hook) = Some(RequestHook(Arc::new(hook)));
    }
}

/// Returns the access token the double issues for an OAuth client secret.
fn access_token(secret: Option<&str>) -> String {
    match secret {
        Some(secret) => format!("double-token-{}", hex::encode(sha256(secret.as_bytes()))),
        None => "double-token".to_owned(),
    }
}

/// Returns whether an `Authorization` value carries `secret`: as the Basic password, as
/// the bearer token, or as the access token issued for it.
fn carries_secret(authorization: &str, secret: &str) -> bool {
    use base64::Engine as _;
    let Some((scheme, value)) = authorization.split_once(' ') else { return false };
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim());
        let pair = decoded.ok().and_then(|bytes| String::from_utf8(bytes).ok());
        return pair.is_some_and(|pair| pair.split_once(':').is_some_and(|(_, p)| p == secret));
    }
    scheme.eq_ignore_ascii_case("bearer")
        && (value == secret || value == access_token(Some(secret)))
}

/// Returns the vendor named by the first segment of `path`.
fn vendor_of(path: &str) -> Option<Vendor> {
    path.split('/').find(|segment| !segment.is_empty()).and_then(Vendor::parse)
}

/// Records a request that arrived within its vendor's `Retry-After` wait and returns the
/// 429 response with the seconds left, as a vendor does.
fn early_response(state: &DoubleState, vendor: Vendor, request: &str) -> Option<Response> {
    let end = *lock(&state.retry_after_ends).get(&vendor)?;
    let left = end.checked_duration_since(Instant::now()).filter(|left| !left.is_zero())?;
    lock(&state.early).push(request.to_owned());
    let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    Some(fault_response(Fault::RateLimited(seconds.to_string())))
}

/// Starts `vendor`'s `Retry-After` wait when `fault` is a 429 with whole seconds.
fn start_retry_after(state: &DoubleState, vendor: Option<Vendor>, fault: &Fault) {
    let Fault::RateLimited(value) = fault else { return };
    let seconds = value.trim().parse::<u64>().ok().filter(|seconds| *seconds > 0);
    let (Some(vendor), Some(seconds)) = (vendor, seconds) else { return };
    let Some(end) = Instant::now().checked_add(Duration::from_secs(seconds)) else { return };
    let mut ends = lock(&state.retry_after_ends);
    let current = ends.entry(vendor).or_insert(end);
    *current = (*current).max(end);
}

async fn handle(
    State(state): State<Arc<DoubleState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or_default().to_owned();
    let request = format!("{method} {target}");
    lock(&state.requests).push(request.clone());
    let hook = lock(&state.hook).clone();
    if let Some(hook) = hook {
        (hook.0)(&format!("{method} {}", uri.path()));
    }
    let vendor = vendor_of(uri.path());
    if let Some(early) = vendor.and_then(|vendor| early_response(&state, vendor, &request)) {
        return early;
    }
    if let Some(fault) = take_fault(&state, uri.path()) {
        start_retry_after(&state, vendor, &fault);
        return fault_response(fault);
    }
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        return reply(StatusCode::UNAUTHORIZED, json!({ "error": "missing Authorization" }));
    };
    let required = vendor.and_then(|vendor| lock(&state.secrets).get(&vendor).cloned());
    if let Some(secret) = &required {
        let sent = authorization.to_str().unwrap_or_default();
        if !carries_secret(sent, secret) {
            return reply(StatusCode::UNAUTHORIZED, json!({ "error": "invalid credential" }));
        }
    }
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let Some((vendor, rest)) = segments.split_first() else {
        return reply(StatusCode::NOT_FOUND, json!({}));
    };
    let Some(vendor) = Vendor::parse(vendor) else {
        return reply(StatusCode::NOT_FOUND, json!({}));
    };
    if rest == ["oauth", "token"] && method == Method::POST {
        let token = access_token(required.as_deref());
        return reply(StatusCode::OK, json!({ "access_token": token, "expires_in": 3600 }));
    }
    let workers = lock(&state.workers).clone();
    let of_vendor: Vec<(&String, &FixtureWorker)> =
        workers.iter().filter(|((v, _), _)| *v == vendor).map(|((_, id), w)| (id, w)).collect();
    let find = |id: &str| workers.get(&(vendor, id.to_owned())).cloned();
    route(&state, vendor, &method, rest, &of_vendor, &find, &body)
}

/// Returns the fault the request to `path` gets: the next queued one for any path, else
/// the next queued one for `path`, else the persistent one for `path`.
fn take_fault(state: &DoubleState, path: &str) -> Option<Fault> {
    if let Some(fault) = lock(&state.faults).pop_front() {
        return Some(fault);
    }
    let mut queued = lock(&state.path_faults);
    if let Some(position) = queued.iter().position(|(at, _)| at == path) {
        return Some(queued.remove(position).1);
    }
    lock(&state.persistent_faults).get(path).cloned()
}

fn route(
    state: &DoubleState,
    vendor: Vendor,
    method: &Method,
    rest: &[&str],
    all: &[(&String, &FixtureWorker)],
    find: &dyn Fn(&str) -> Option<FixtureWorker>,
    body: &[u8],
) -> Response {
    let ids = || all.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>();
    let found = |id: &str, render: &dyn Fn(&str, &FixtureWorker) -> Value| match find(id) {
        Some(worker) => reply(StatusCode::OK, render(id, &worker)),
        None => reply(StatusCode::NOT_FOUND, json!({ "message": "not found" })),
    };
    match (vendor, rest) {
        (Vendor::BambooHr, ["api", "v1", "employees", "changed"]) => {
            let employees: serde_json::Map<String, Value> = ids()
                .into_iter()
                .map(|id| (id.to_owned(), json!({ "id": id, "action": "Updated" })))
                .collect();
            reply(StatusCode::OK, json!({ "employees": employees }))
        }
        (Vendor::BambooHr, ["api", "v1", "employees", id]) => found(id, &bamboohr),
        (Vendor::HiBob, ["v1", "people", "search"]) => {
            let employees: Vec<Value> = ids().into_iter().map(|id| json!({ "id": id })).collect();
            reply(StatusCode::OK, json!({ "employees": employees }))
        }
        (Vendor::HiBob, ["v1", "people", id]) if method == Method::POST => found(id, &hibob),
        (Vendor::Gusto, ["v1", "employees", id, "terminations"]) => found(id, &gusto),
        (Vendor::Gusto, ["v1", "companies", _, "employees"]) => {
            let employees: Vec<Value> = ids().into_iter().map(|id| json!({ "uuid": id })).collect();
            reply(StatusCode::OK, Value::Array(employees))
        }
        (Vendor::Gusto, ["v1", "webhook_subscriptions", uuid, "verify"])
            if method == Method::PUT =>
        {
            let sent: Value = serde_json::from_slice(body).unwrap_or_default();
            let token = sent.get("verification_token").and_then(Value::as_str).unwrap_or_default();
            lock(&state.verified).push(((*uuid).to_owned(), token.to_owned()));
            reply(StatusCode::OK, json!({ "uuid": uuid, "status": "verified" }))
        }
        (Vendor::Paychex, ["companies", _, "workers"]) => {
            let content: Vec<Value> =
                ids().into_iter().map(|id| json!({ "workerId": id })).collect();
            reply(StatusCode::OK, json!({ "content": content }))
        }
        (Vendor::Paychex, ["workers", id]) => found(id, &paychex),
        (Vendor::Paylocity, ["apiHub", "coreHr", "v1", "companies", _, "employees"]) => {
            let employees: Vec<Value> = ids().into_iter().map(|id| json!({ "id": id })).collect();
            reply(StatusCode::OK, Value::Array(employees))
        }
        (Vendor::Paylocity, ["apiHub", "coreHr", "v1", "companies", _, "employees", id]) => {
            found(id, &paylocity)
        }
        (Vendor::Rippling, ["workers"]) => {
            let results: Vec<Value> = ids().into_iter().map(|id| json!({ "id": id })).collect();
            reply(StatusCode::OK, json!({ "results": results, "next_link": null }))
        }
        (Vendor::Rippling, ["workers", id]) => found(id, &rippling),
        (Vendor::AdpWorkforceNow, ["hr", "v2", "workers"]) => {
            let workers: Vec<Value> =
                ids().into_iter().map(|id| json!({ "associateOID": id })).collect();
            reply(StatusCode::OK, json!({ "workers": workers }))
        }
        (Vendor::AdpWorkforceNow, ["hr", "v2", "workers", id]) => found(id, &adp),
        (Vendor::AdpWorkforceNow, ["core", "v1", "event-notification-messages"]) => {
            let Some((id, message)) = lock(&state.queue).front().cloned() else {
                return StatusCode::NO_CONTENT.into_response();
            };
            let mut response = (StatusCode::OK, message).into_response();
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert("adp-msg-msgid", value);
            }
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        (Vendor::AdpWorkforceNow, ["core", "v1", "event-notification-messages", id])
            if method == Method::DELETE =>
        {
            let mut queue = lock(&state.queue);
            let before = queue.len();
            queue.retain(|(queued, _)| queued != id);
            let status = if queue.len() < before { StatusCode::OK } else { StatusCode::NOT_FOUND };
            status.into_response()
        }
        _ => reply(StatusCode::NOT_FOUND, json!({ "message": "no such path on the double" })),
    }
}

fn date(worker: &FixtureWorker) -> Value {
    worker.termination_date.map(|d| Value::String(d.to_string())).unwrap_or(Value::Null)
}

fn bamboohr(id: &str, worker: &FixtureWorker) -> Value {
    let terminated = worker.termination_date.is_some();
    json!({
        "id": id,
        "status": if terminated { "Inactive" } else { "Active" },
        "employmentHistoryStatus": if terminated { "Terminated" } else { "Full-Time" },
        "terminationDate": worker.termination_date.map(|d| d.to_string()).unwrap_or_else(|| "0000-00-00".into()),
        "workEmail": worker.email,
    })
}

fn hibob(id: &str, worker: &FixtureWorker) -> Value {
    let terminated = worker.termination_date.is_some();
    json!({
        "id": id,
        "email": worker.email,
        "internal": {
            "status": if terminated { "Inactive" } else { "Active" },
            "lifecycleStatus": if terminated { "terminated" } else { "employed" },
            "terminationDate": date(worker),
        },
        "work": { "site": worker.site },
    })
}

fn gusto(id: &str, worker: &FixtureWorker) -> Value {
    match worker.termination_date {
        Some(day) => json!([{
            "uuid": format!("termination-{id}"),
            "employee_uuid": id,
            "active": true,
            "effective_date": day.to_string(),
            "run_termination_payroll": false,
        }]),
        None => json!([]),
    }
}

fn paychex(id: &str, worker: &FixtureWorker) -> Value {
    let status = match worker.termination_date {
        Some(day) => {
            json!({ "statusType": "TERMINATED", "effectiveDate": format!("{day}T00:00:00Z"), "statusReason": "RESIGNED" })
        }
        None => json!({ "statusType": "ACTIVE", "effectiveDate": "2024-01-02T00:00:00Z" }),
    };
    json!({ "content": [{ "workerId": id, "currentStatus": status }] })
}

fn paylocity(id: &str, worker: &FixtureWorker) -> Value {
    let status = match worker.termination_date {
        Some(day) => {
            json!({ "status": "T", "statusType": "Terminated", "effectiveDate": day.to_string(), "changeReason": "Resigned" })
        }
        None => json!({ "status": "A", "statusType": "Active", "effectiveDate": "2024-01-02" }),
    };
    json!({ "id": id, "currentStatus": status })
}

fn rippling(id: &str, worker: &FixtureWorker) -> Value {
    json!({
        "id": id,
        "status": if worker.termination_date.is_some() { "TERMINATED" } else { "ACTIVE" },
        "end_date": date(worker),
        "work_email": worker.email,
    })
}

fn adp(id: &str, worker: &FixtureWorker) -> Value {
    let code = if worker.termination_date.is_some() { "Terminated" } else { "Active" };
    json!({ "workers": [{
        "associateOID": id,
        "workerStatus": { "statusCode": { "codeValue": code } },
        "workerDates": { "terminationDate": date(worker) },
    }] })
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            reply(status, json!({}))
        }
        Fault::RateLimited(retry_after) => {
            let mut response = reply(StatusCode::TOO_MANY_REQUESTS, json!({}));
            if let Ok(value) = HeaderValue::from_str(&retry_after) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

//! The HTTP application: routes, shared state, the webhook endpoint and the pieces the
//! SCIM endpoints share with it (body limit, rate limit, store errors, publishing).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_proto::{HrEvent, HrEventSender, hr_event_to_proto};
use rollcall_store::{Store, StoreError};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::body::{self, BodyError};
use crate::metrics::{HrWebhookMetrics, ReasonLabels, SenderLabels};
use crate::ratelimit::RateLimiter;
use crate::scim;
use crate::signature::{self, SigningKey};
use crate::vendors::{self, VendorConnections};

/// The UUID v5 namespace of webhook event ids. An event id is
/// `UUIDv5(WEBHOOK_EVENT_NAMESPACE, "<tenant>/<webhook-id>")`, so a redelivery of one
/// webhook gets the id of the first delivery, and two tenants' senders that happen to use
/// the same `webhook-id` get different ids. The value is fixed: changing it would give
/// redeliveries new ids.
pub const WEBHOOK_EVENT_NAMESPACE: Uuid =
    Uuid::from_u128(0x6b1f_35c2_8f0e_4c55_9a43_2d7e_51c0_a9e1);

/// Returns the event id of webhook `webhook_id` of `tenant`.
pub fn webhook_event_id(tenant: &TenantId, webhook_id: &str) -> Uuid {
    Uuid::new_v5(&WEBHOOK_EVENT_NAMESPACE, format!("{tenant}/{webhook_id}").as_bytes())
}

/// The credentials of one configured tenant.
#[derive(Debug)]
pub struct TenantAuth {
    /// The tenant.
    pub id: TenantId,
    /// Keys that sign its webhooks.
    pub keys: Vec<SigningKey>,
    /// SHA-256 of its SCIM bearer token. The digest is compared, so the comparison takes
    /// the same time whatever the token's length.
    pub scim_token_digest: Option<[u8; 32]>,
}

/// The state every request handler reads.
#[derive(Debug)]
pub struct AppState {
    /// The configured tenants by id.
    pub tenants: HashMap<String, TenantAuth>,
    /// The system of record.
    pub store: Store,
    /// Publishes committed events.
    pub publisher: Publisher,
    /// How long one publish may take.
    pub publish_timeout: Duration,
    /// Counters.
    pub metrics: HrWebhookMetrics,
    /// Per-tenant token buckets.
    pub limiter: RateLimiter,
    /// Largest body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The tenants' HR vendor connections.
    pub vendors: VendorConnections,
    /// Wakes the vendor resolver when a delivery is committed.
    pub vendor_wake: Notify,
}

/// Builds the routes of the HR intake server.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/tenants/{tenant}/hr/events", post(webhook))
        .route("/v1/tenants/{tenant}/hr/vendors/{vendor}", post(vendors::route::delivery))
        .route(
            "/v1/tenants/{tenant}/hr/vendors/{vendor}/{token}",
            post(vendors::route::delivery_with_token),
        )
        .route("/scim/v2/{tenant}/ServiceProviderConfig", get(scim::service_provider_config))
        .route("/scim/v2/{tenant}/Users", post(scim::create).get(scim::list))
        .route(
            "/scim/v2/{tenant}/Users/{id}",
            get(scim::read).put(scim::replace).patch(scim::patch).delete(scim::delete),
        )
        .fallback(not_found)
        .with_state(state)
}

/// Returns 404 with a problem body for paths outside the routes.
async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not found",
        "the paths are /v1/tenants/{tenant}/hr/events, /v1/tenants/{tenant}/hr/vendors/{vendor} and /scim/v2/{tenant}/Users",
        &[],
    )
}

/// Builds an RFC 9457 problem response.
pub fn problem(status: StatusCode, title: &str, detail: &str, extra: &[(&str, Value)]) -> Response {
    let mut body = json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let Value::Object(map) = &mut body {
        for (key, value) in extra {
            map.insert((*key).to_owned(), value.clone());
        }
    }
    json_response(status, "application/problem+json", &body)
}

/// Builds a JSON response with `content_type`.
pub fn json_response(status: StatusCode, content_type: &'static str, body: &Value) -> Response {
    let text = body.to_string();
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], text).into_response()
}

/// The reason a request body could not be read.
#[derive(Debug)]
pub enum ReadFailure {
    /// Longer than the limit: 413.
    TooLarge,
    /// The connection failed while reading: 400.
    Broken,
}

impl AppState {
    /// Reads the request body up to the limit. A `Content-Length` above the limit is
    /// rejected before anything is read.
    pub async fn read_body(&self, headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ReadFailure> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max_body_bytes as u64) {
            return Err(ReadFailure::TooLarge);
        }
        match Limited::new(body, self.max_body_bytes).collect().await {
            Ok(collected) => Ok(collected.to_bytes().to_vec()),
            Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
                Err(ReadFailure::TooLarge)
            }
            Err(_) => Err(ReadFailure::Broken),
        }
    }

    /// Takes a token from the tenant's bucket, or returns the seconds to wait, rounded
    /// up, for `Retry-After`.
    pub fn rate_limit(&self, tenant: &str) -> Result<(), u64> {
        self.limiter.take(tenant, Instant::now()).map_err(|wait| {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            seconds.max(1)
        })
    }

    /// Publishes a committed event. A failure is logged and counted, and returns `false`:
    /// the row is committed, so the engine's reconcile reads it from the store.
    pub async fn publish(&self, event: &HrEvent) -> bool {
        let sender = sender_label(event.sender);
        let message = hr_event_to_proto(event);
        let failure = match tokio::time::timeout(
            self.publish_timeout,
            self.publisher.publish(&message),
        )
        .await
        {
            Ok(Ok(_)) => return true,
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no ack within {} s", self.publish_timeout.as_secs()),
        };
        tracing::warn!(
            tenant = %event.tenant, event_id = %event.event_id, sender, error = %failure,
            "HR event committed but not published; the engine's reconcile reads it from the store"
        );
        self.metrics
            .publish_failures
            .get_or_create(&SenderLabels { sender: sender.to_owned() })
            .inc();
        false
    }

    /// Counts an event committed for the first time.
    pub fn committed(&self, event: &HrEvent) {
        let labels = SenderLabels { sender: sender_label(event.sender).to_owned() };
        self.metrics.events_committed.get_or_create(&labels).inc();
    }
}

fn sender_label(sender: HrEventSender) -> &'static str {
    match sender {
        HrEventSender::Webhook => "webhook",
        HrEventSender::Scim => "scim",
        HrEventSender::RosterFile => "roster_file",
        HrEventSender::VendorPoll => "vendor_poll",
    }
}

/// The response class of a store error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFailure {
    /// The tenant is configured but not in the store: 404.
    UnknownTenant,
    /// PostgreSQL cannot be reached or has no free connection: 503, so the sender retries.
    Unavailable,
    /// Anything else: 500.
    Internal,
}

/// Sorts a store error into its response class.
pub fn classify(error: &StoreError) -> StoreFailure {
    match error {
        StoreError::UnknownTenant { .. } => StoreFailure::UnknownTenant,
        StoreError::Database { source, .. } | StoreError::Connect { source, .. } => {
            if unavailable(source) { StoreFailure::Unavailable } else { StoreFailure::Internal }
        }
        _ => StoreFailure::Internal,
    }
}

fn unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            // Class 08 is "connection exception". 57P01 to 57P03 mean the server is shutting
            // down or starting, and 3D000 is a database that does not exist (yet).
            code.starts_with("08") || code.starts_with("57P") || code == "3D000"
        }),
        _ => false,
    }
}

async fn webhook(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let span = rollcall_runtime::work_span("hr_webhook", Some(&tenant), Some("webhook"));
    let response = receive_webhook(&state, &tenant, &headers, body).instrument(span.clone()).await;
    let status = response.status().as_u16();
    if status >= 400 {
        // The status only: the problem body may quote the sender's values.
        span.in_scope(|| tracing::info!(status, "webhook request rejected"));
    }
    state.metrics.request("webhook", status);
    response
}

/// Receives one webhook: authenticates it, commits its event, then publishes it.
async fn receive_webhook(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let Some(auth) = state.tenants.get(tenant) else {
        return problem(
            StatusCode::NOT_FOUND,
            "Unknown tenant",
            "this service has no tenant with that id",
            &[],
        );
    };
    let (body, verified) = match authenticate(state, auth, headers, body).await {
        Ok(authenticated) => authenticated,
        Err(response) => return response,
    };
    if let Err(seconds) = state.rate_limit(tenant) {
        return too_many_requests(seconds);
    }
    let event = match webhook_event(auth, &verified, &body) {
        Ok(event) => event,
        Err(response) => return *response,
    };

    let new = match state.store.tenant(&auth.id).record_hr_event(&event).await {
        Ok(new) => new,
        Err(error) => return store_problem(&error),
    };
    // A replay is not published again: the row keeps the first delivery's content, and
    // the engine reads a lost first publish from the store.
    let published = if new {
        state.committed(&event);
        state.publish(&event).await
    } else {
        false
    };
    tracing::info!(
        event_id = %event.event_id, key_id = %verified.key_id, new, published,
        "HR event received"
    );
    let body =
        json!({ "event_id": event.event_id.to_string(), "new": new, "published": published });
    json_response(StatusCode::OK, "application/json", &body)
}

/// Reads the body within the limit and verifies its signature.
async fn authenticate(
    state: &AppState,
    auth: &TenantAuth,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<u8>, signature::Verified), Response> {
    let body = match state.read_body(headers, body).await {
        Ok(body) => body,
        Err(ReadFailure::TooLarge) => {
            let detail = format!("the body is larger than {} bytes", state.max_body_bytes);
            return Err(problem(StatusCode::PAYLOAD_TOO_LARGE, "Body too large", &detail, &[]));
        }
        Err(ReadFailure::Broken) => {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "Body not read",
                "the request body could not be read",
                &[],
            ));
        }
    };
    let now = Utc::now().timestamp();
    match signature::verify(&auth.keys, headers, &body, now) {
        Ok(verified) => Ok((body, verified)),
        Err(rejection) => {
            let reason = rejection.reason();
            let labels = ReasonLabels { reason: reason.to_owned() };
            state.metrics.signature_rejections.get_or_create(&labels).inc();
            tracing::info!(reason, "webhook signature rejected");
            Err(problem(
                StatusCode::UNAUTHORIZED,
                "Signature not accepted",
                &rejection.detail(),
                &[("reason", json!(reason))],
            ))
        }
    }
}

/// Parses the body into the HR event it records, with the event id derived from the
/// tenant and `webhook-id`.
fn webhook_event(
    auth: &TenantAuth,
    verified: &signature::Verified,
    body: &[u8],
) -> Result<HrEvent, Box<Response>> {
    let parsed = match body::parse(body) {
        Ok(parsed) => parsed,
        Err(BodyError::Syntax(message)) => {
            return Err(Box::new(problem(
                StatusCode::BAD_REQUEST,
                "Body is not a JSON object",
                &message,
                &[],
            )));
        }
        Err(BodyError::Field { field, message }) => {
            let detail = format!("`{field}` {message}");
            return Err(Box::new(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid HR event",
                &detail,
                &[("field", json!(field))],
            )));
        }
    };
    Ok(HrEvent {
        event_id: webhook_event_id(&auth.id, &verified.webhook_id),
        tenant: auth.id.clone(),
        event_type: parsed.event_type,
        employee_id: parsed.employee_id,
        effective_at: parsed.effective_at,
        time_zone: parsed.time_zone,
        reason: parsed.reason,
        manager_employee_id: parsed.manager_employee_id,
        received_at: Utc::now(),
        sender: HrEventSender::Webhook,
        worker: parsed.worker,
        corrected_event_id: parsed.corrected_event_id,
    })
}

/// Builds the 429 response with `Retry-After`.
pub fn too_many_requests(seconds: u64) -> Response {
    let detail = format!("the tenant's request rate is over its limit; retry after {seconds} s");
    let mut response = problem(StatusCode::TOO_MANY_REQUESTS, "Too many requests", &detail, &[]);
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Builds the response to a store error on the webhook endpoint and logs the error. Its
/// text names the tenant and operation but contains no request content.
pub fn store_problem(error: &StoreError) -> Response {
    match classify(error) {
        StoreFailure::UnknownTenant => {
            problem(StatusCode::NOT_FOUND, "Unknown tenant", "the tenant is not in the store", &[])
        }
        StoreFailure::Unavailable => {
            tracing::warn!(error = %error, "the store is unavailable");
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Store unavailable",
                "the event was not recorded; send it again later",
                &[],
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            response
        }
        StoreFailure::Internal => {
            tracing::error!(error = %error, "recording the HR event failed");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Not recorded",
                "the event was not recorded",
                &[],
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The event id in the example of `docs/services/hr-webhook.md`.
    #[test]
    fn event_id_matches_documentation() {
        let tenant = TenantId::new("harborview").unwrap();
        let id = webhook_event_id(&tenant, "msg_2Zx7Hq4VhJm1");
        assert_eq!(id.to_string(), "e42c6591-76e7-5911-bb91-5084b98feb44");
        assert_ne!(id, webhook_event_id(&TenantId::new("lakeside").unwrap(), "msg_2Zx7Hq4VhJm1"));
    }
}

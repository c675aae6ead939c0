//! `POST /v1/tenants/{tenant}/hr/vendors/{vendor}` (and `.../{vendor}/{url token}`): one
//! delivery from a tenant's HR vendor, verified in the vendor's scheme and committed to
//! PostgreSQL before the 2xx. The worker is read back later by the resolver.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use rollcall_hr_vendors::vendors::gusto;
use rollcall_hr_vendors::{Delivery, ParseError, Vendor};
use rollcall_store::{VendorDelivery, VendorDeliverySender};
use serde_json::json;
use tracing::Instrument as _;
use uuid::Uuid;

use super::VendorConnection;
use crate::app::{AppState, ReadFailure, json_response, problem, store_problem, too_many_requests};
use crate::metrics::ReasonLabels;

/// The UUID v5 namespace of vendor delivery ids. The names hashed in it are
/// `<tenant>/<vendor>/<deduplication key>` and, for the poll,
/// `<tenant>/<vendor>/poll/<interval seconds>/<interval number>/<worker>`. The value is fixed: changing it would commit
/// redeliveries again.
pub const VENDOR_DELIVERY_NAMESPACE: Uuid =
    Uuid::from_u128(0x3d9a_71c4_5b2e_4f08_8c61_e7a0_2b94_d5f3);

/// Receives a delivery on the route without a URL token.
pub async fn delivery(
    State(state): State<Arc<AppState>>,
    Path((tenant, vendor)): Path<(String, String)>,
    request: Request,
) -> Response {
    handle(&state, &tenant, &vendor, None, request).await
}

/// Receives a delivery on the route with a URL token.
pub async fn delivery_with_token(
    State(state): State<Arc<AppState>>,
    Path((tenant, vendor, token)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    handle(&state, &tenant, &vendor, Some(token), request).await
}

async fn handle(
    state: &AppState,
    tenant: &str,
    vendor: &str,
    token: Option<String>,
    request: Request,
) -> Response {
    let span = rollcall_runtime::work_span("hr_vendor_delivery", Some(tenant), Some(vendor));
    let response = receive(state, tenant, vendor, token, request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    if status >= 400 {
        span.in_scope(|| tracing::info!(status, "vendor delivery rejected"));
    }
    state.metrics.request("vendor", status);
    response
}

async fn receive(
    state: &AppState,
    tenant: &str,
    vendor_name: &str,
    token: Option<String>,
    request: Request,
) -> Response {
    let connection = Vendor::parse(vendor_name)
        .and_then(|vendor| state.vendors.get(&(tenant.to_owned(), vendor)));
    let (Some(connection), Some(auth)) = (connection, state.tenants.get(tenant)) else {
        return problem(
            StatusCode::NOT_FOUND,
            "Unknown vendor connection",
            "this service has no connection to that vendor for that tenant",
            &[],
        );
    };
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let (parts, body) = request.into_parts();
    let body = match state.read_body(&parts.headers, body).await {
        Ok(body) => body,
        Err(ReadFailure::TooLarge) => {
            let detail = format!("the body is larger than {} bytes", state.max_body_bytes);
            return problem(StatusCode::PAYLOAD_TOO_LARGE, "Body too large", &detail, &[]);
        }
        Err(ReadFailure::Broken) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Body not read",
                "the request body could not be read",
                &[],
            );
        }
    };
    if connection.vendor == Vendor::Gusto
        && let Some(handshake) = gusto::handshake(&body)
    {
        return gusto_handshake(connection, &handshake).await;
    }

    let delivery =
        Delivery { headers: &parts.headers, body: &body, peer, url_token: token.as_deref() };
    let verified = match connection.adapter.verify(&delivery, &connection.credentials, Utc::now()) {
        Ok(verified) => verified,
        Err(rejection) => {
            let reason = rejection.reason();
            let labels = ReasonLabels { reason: reason.to_owned() };
            state.metrics.signature_rejections.get_or_create(&labels).inc();
            tracing::info!(reason, "vendor delivery not verified");
            return problem(
                StatusCode::UNAUTHORIZED,
                "Delivery not verified",
                &rejection.to_string(),
                &[("reason", json!(reason))],
            );
        }
    };
    if let Err(seconds) = state.rate_limit(tenant) {
        return too_many_requests(seconds);
    }
    let notices = match connection.adapter.notices(&body) {
        Ok(notices) => notices,
        Err(error) => return parse_problem(&error),
    };

    let now = Utc::now();
    let vendor = connection.vendor;
    let deliveries: Vec<VendorDelivery> = notices
        .into_iter()
        .map(|notice| VendorDelivery {
            delivery_id: match &notice.dedupe_key {
                Some(key) => Uuid::new_v5(
                    &VENDOR_DELIVERY_NAMESPACE,
                    format!("{tenant}/{vendor}/{key}").as_bytes(),
                ),
                None => Uuid::new_v4(),
            },
            vendor: vendor.as_str().to_owned(),
            worker_id: notice.worker_id,
            event: notice.event,
            sender: VendorDeliverySender::Webhook,
            received_at: now,
            attempts: 0,
        })
        .collect();
    let new = match state.store.tenant(&auth.id).record_vendor_deliveries(&deliveries).await {
        Ok(new) => new,
        Err(error) => return store_problem(&error),
    };
    if new > 0 {
        state.vendor_wake.notify_one();
    }
    let ids: Vec<String> = deliveries.iter().map(|d| d.delivery_id.to_string()).collect();
    tracing::info!(key_id = %verified.key_id, deliveries = ids.len(), new, "vendor delivery committed");
    json_response(StatusCode::OK, "application/json", &json!({ "deliveries": ids, "new": new }))
}

/// Completes Gusto's subscription handshake for the configured subscription only, so a
/// stranger cannot make the service call Gusto for another one.
async fn gusto_handshake(connection: &VendorConnection, handshake: &gusto::Handshake) -> Response {
    if connection.gusto_subscription.as_deref() != Some(handshake.subscription_uuid.as_str()) {
        tracing::warn!(subscription = %handshake.subscription_uuid, "Gusto handshake for a subscription that is not configured");
        return problem(
            StatusCode::UNAUTHORIZED,
            "Delivery not verified",
            "the handshake names a subscription that is not configured as gusto_subscription_uuid",
            &[("reason", json!("unknown_subscription"))],
        );
    }
    match connection.client.send(&gusto::verify_subscription_request(handshake)).await {
        Ok(response) if (200..300).contains(&response.status) => {
            // NOTE: the token is not stored; the administrator adds it to signing_keys,
            // because every later delivery is signed with it.
            tracing::info!(subscription = %handshake.subscription_uuid, "Gusto subscription verified");
            json_response(StatusCode::OK, "application/json", &json!({ "verified": true }))
        }
        Ok(response) => {
            tracing::warn!(
                status = response.status,
                "Gusto rejected the subscription verification"
            );
            problem(
                StatusCode::BAD_GATEWAY,
                "Handshake failed",
                "Gusto rejected the verification",
                &[],
            )
        }
        Err(error) => {
            tracing::warn!(error = %error, "Gusto subscription verification failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Handshake failed",
                "Gusto could not be reached; it sends the handshake again",
                &[],
            )
        }
    }
}

fn parse_problem(error: &ParseError) -> Response {
    let status = match error {
        ParseError::Syntax { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    problem(status, "Invalid vendor delivery", &error.to_string(), &[])
}

//! The daily poll and ADP's queue: the safety net for webhooks that were dropped, late
//! (Paylocity sends future-dated terminations when payroll makes them current) or never
//! sent (ADP pushes nothing; Gusto and Rippling need partner approval).
//!
//! The poll commits one delivery per worker in the vendor's list, with sender
//! `vendor_poll`, and the resolver reads each back. Its delivery ids are derived from the
//! poll interval the poll falls in, so two replicas polling in the same interval commit
//! each worker once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;
use rollcall_hr_vendors::vendors::adp::MESSAGE_ID_HEADER;
use rollcall_hr_vendors::{LookupError, Vendor};
use rollcall_store::{StoreError, VendorDelivery, VendorDeliverySender};
use uuid::Uuid;

use super::VendorConnection;
use super::route::VENDOR_DELIVERY_NAMESPACE;
use crate::app::AppState;

/// The maximum number of messages one pass takes from ADP's queue, so one busy tenant
/// cannot hold the loop.
const MAX_QUEUE_MESSAGES: usize = 100;

/// A failed poll or queue pass.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The vendor's API failed.
    #[error(transparent)]
    Vendor(#[from] LookupError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How far before the last poll a "changed since" list starts, so that a change recorded
/// by the vendor shortly before that poll, or in another time zone's day, is listed again.
const SINCE_MARGIN_DAYS: i64 = 1;

/// The shortest look-back of a "changed since" list, for a connection never polled.
const SINCE_MIN_DAYS: i64 = 2;

/// Returns where a "changed since" list starts: a day before the last poll that recorded
/// workers, and at least two days back. After an outage of any length the list therefore
/// covers every change since the last poll that got through.
pub fn list_since(last_poll: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    let floor = now - chrono::TimeDelta::days(SINCE_MIN_DAYS);
    last_poll.map_or(floor, |last| (last - chrono::TimeDelta::days(SINCE_MARGIN_DAYS)).min(floor))
}

/// Commits a poll delivery for every worker in `connection`'s list; `last_poll` is when
/// the last poll recorded workers. Returns the number of new deliveries.
pub async fn poll_vendor(
    state: &AppState,
    tenant: &TenantId,
    connection: &VendorConnection,
    interval: Duration,
    last_poll: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<u64, PollError> {
    let since = list_since(last_poll, now);
    let ids = connection.client.list_workers(connection.adapter.as_ref(), since).await?;
    let seconds = i64::try_from(interval.as_secs().max(1)).unwrap_or(i64::MAX);
    let slot = now.timestamp().div_euclid(seconds);
    let vendor = connection.vendor;
    let deliveries: Vec<VendorDelivery> = ids
        .into_iter()
        .filter(|id| !id.is_empty())
        .map(|worker_id| VendorDelivery {
            delivery_id: Uuid::new_v5(
                &VENDOR_DELIVERY_NAMESPACE,
                format!("{tenant}/{vendor}/poll/{seconds}/{slot}/{worker_id}").as_bytes(),
            ),
            vendor: vendor.as_str().to_owned(),
            worker_id,
            event: "poll".to_owned(),
            sender: VendorDeliverySender::Poll,
            received_at: now,
            attempts: 0,
        })
        .collect();
    let new = state.store.tenant(tenant).record_vendor_deliveries(&deliveries).await?;
    tracing::info!(tenant = %tenant, vendor = %vendor, workers = deliveries.len(), new, "vendor worker list polled");
    if new > 0 {
        state.vendor_wake.notify_one();
    }
    Ok(new)
}

/// Takes the messages in ADP's queue: each is committed as deliveries, then deleted, so
/// a failure in between serves it again and its event ids make the repeat one row.
/// Returns the number of messages taken.
pub async fn pull_adp_queue(
    state: &AppState,
    tenant: &TenantId,
    connection: &VendorConnection,
    now: DateTime<Utc>,
) -> Result<usize, PollError> {
    let mut taken = 0;
    while taken < MAX_QUEUE_MESSAGES {
        let Some(message) = connection.client.next_queue_message().await? else { break };
        match connection.adapter.notices(&message.body) {
            Ok(notices) => {
                let deliveries: Vec<VendorDelivery> = notices
                    .into_iter()
                    .map(|notice| {
                        let key = notice.dedupe_key.unwrap_or_else(|| message.message_id.clone());
                        VendorDelivery {
                            delivery_id: Uuid::new_v5(
                                &VENDOR_DELIVERY_NAMESPACE,
                                format!("{tenant}/{}/{key}", Vendor::AdpWorkforceNow).as_bytes(),
                            ),
                            vendor: Vendor::AdpWorkforceNow.as_str().to_owned(),
                            worker_id: notice.worker_id,
                            event: notice.event,
                            sender: VendorDeliverySender::Webhook,
                            received_at: now,
                            attempts: 0,
                        }
                    })
                    .collect();
                state.store.tenant(tenant).record_vendor_deliveries(&deliveries).await?;
            }
            Err(error) => {
                // A message that cannot be parsed would block the queue for good; it is
                // logged with its id, for ADP support, and removed.
                tracing::error!(tenant = %tenant, header = MESSAGE_ID_HEADER, message_id = %message.message_id, error = %error, "ADP queue message not understood; deleting it");
            }
        }
        connection.client.delete_queue_message(&message.message_id).await?;
        taken += 1;
    }
    if taken > 0 {
        state.vendor_wake.notify_one();
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::list_since;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn since_without_poll_two_days() {
        let now = at("2026-12-05T12:00:00Z");
        assert_eq!(list_since(None, now), now - TimeDelta::days(2));
    }

    #[test]
    fn since_after_daily_poll_two_days() {
        let now = at("2026-12-05T12:00:00Z");
        let last = at("2026-12-04T12:00:00Z");
        assert_eq!(list_since(Some(last), now), at("2026-12-03T12:00:00Z"));
    }

    #[test]
    fn since_after_outage_covers_it() {
        let now = at("2026-12-05T12:00:00Z");
        let last = at("2026-11-20T08:30:00Z");
        assert_eq!(list_since(Some(last), now), at("2026-11-19T08:30:00Z"));
    }
}

//! The resolver: reads the worker of each committed vendor delivery back from the
//! vendor's API, retrying with backoff until the read succeeds, and records what changed.
//!
//! [`decide`] compares the read with what Rollcall last read about the worker:
//!
//! | read | last known | recorded |
//! | --- | --- | --- |
//! | terminated at T | not terminated, or terminated at another instant | a termination at T |
//! | terminated at T | terminated at T | nothing |
//! | active | terminated | a correction of the recorded termination, which cancels its leaver |
//! | active | active or unknown | nothing |
//!
//! Event ids are derived from the tenant, vendor, worker and instant, so a webhook and the
//! poll that see the same termination record one event: the first to resolve sets its
//! sender.
//!
//! A 429 pauses the vendor connection in its client, for the resolver and the poll alike.
//! A delivery whose read finds the connection paused sends nothing and is postponed to
//! the end of the pause, so the rest of the pass goes on with the other vendors.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rollcall_core::TenantId;
use rollcall_core::model::{Worker, WorkerStatus};
use rollcall_hr_vendors::throttle::MAX_PAUSE;
use rollcall_hr_vendors::{EmploymentStatus, LookupError, Vendor, WorkerRecord};
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use rollcall_store::{StoreError, VendorDelivery, VendorDeliverySender, VendorWorkerState};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::app::AppState;

/// The UUID v5 namespace of the HR events derived from vendor reads. The names hashed in
/// it are `<tenant>/<vendor>/<worker>/termination/<instant, RFC 3339 in UTC>` and
/// `<tenant>/<vendor>/<worker>/rescinded/<termination event id>`. The value is fixed:
/// changing it would record known terminations again.
pub const VENDOR_EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x9e41_07b3_6c2d_4a58_b1f7_3d0c_8e62_a5f4);

/// Deliveries read per tenant and pass; the rest wait for the next pass.
const BATCH: i64 = 100;

/// The maximum wait between two reads of one delivery: deliveries are retried until
/// they resolve, at least once an hour.
const MAX_RETRY_WAIT: TimeDelta = TimeDelta::hours(1);

/// Returns the event id of a termination at `effective_at`.
pub fn termination_event_id(
    tenant: &TenantId,
    vendor: Vendor,
    worker_id: &str,
    effective_at: DateTime<Utc>,
) -> Uuid {
    let instant = effective_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let name = format!("{tenant}/{vendor}/{worker_id}/termination/{instant}");
    Uuid::new_v5(&VENDOR_EVENT_NAMESPACE, name.as_bytes())
}

/// Returns the event id of the correction that reverses termination event `termination`.
pub fn rescinded_event_id(
    tenant: &TenantId,
    vendor: Vendor,
    worker_id: &str,
    termination: Uuid,
) -> Uuid {
    let name = format!("{tenant}/{vendor}/{worker_id}/rescinded/{termination}");
    Uuid::new_v5(&VENDOR_EVENT_NAMESPACE, name.as_bytes())
}

/// Decides what a read records (see the module documentation). Returns the event, if
/// any, and the worker's new known state.
pub fn decide(
    tenant: &TenantId,
    vendor: Vendor,
    delivery: &VendorDelivery,
    record: &WorkerRecord,
    known: Option<&VendorWorkerState>,
    now: DateTime<Utc>,
) -> (Option<HrEvent>, VendorWorkerState) {
    let sender = match delivery.sender {
        VendorDeliverySender::Webhook => HrEventSender::Webhook,
        VendorDeliverySender::Poll => HrEventSender::VendorPoll,
    };
    let worker_id = delivery.worker_id.as_str();
    match &record.status {
        EmploymentStatus::Terminated { effective_at, .. } => {
            let effective_at = *effective_at;
            if let Some(known) = known.filter(|k| k.terminated_at == Some(effective_at)) {
                return (None, known.clone());
            }
            let event_id = termination_event_id(tenant, vendor, worker_id, effective_at);
            let mut worker = worker(record, worker_id);
            worker.status = WorkerStatus::Terminated;
            worker.terminated_at = Some(effective_at);
            let event = HrEvent {
                event_id,
                tenant: tenant.clone(),
                event_type: HrEventType::Termination,
                employee_id: worker_id.to_owned(),
                effective_at,
                time_zone: record.time_zone,
                reason: record.reason.clone(),
                manager_employee_id: None,
                received_at: now,
                sender,
                worker: Some(worker),
                corrected_event_id: None,
            };
            let state = VendorWorkerState {
                terminated_at: Some(effective_at),
                termination_event_id: Some(event_id),
            };
            (Some(event), state)
        }
        EmploymentStatus::Active => {
            let active = VendorWorkerState { terminated_at: None, termination_event_id: None };
            let Some(termination) = known.and_then(|k| k.termination_event_id) else {
                return (None, active);
            };
            // The vendor no longer shows the termination: it was rescinded or corrected.
            let event = HrEvent {
                event_id: rescinded_event_id(tenant, vendor, worker_id, termination),
                tenant: tenant.clone(),
                event_type: HrEventType::Correction,
                employee_id: worker_id.to_owned(),
                effective_at: now,
                time_zone: record.time_zone,
                reason: Some(format!("{vendor} no longer shows the termination")),
                manager_employee_id: None,
                received_at: now,
                sender,
                worker: Some(worker(record, worker_id)),
                corrected_event_id: Some(termination),
            };
            (Some(event), active)
        }
    }
}

fn worker(record: &WorkerRecord, worker_id: &str) -> Worker {
    let mut worker = Worker::new(worker_id);
    worker.email = record.email.clone();
    if !record.status_raw.is_empty() {
        worker.status_raw = record.status_raw.clone();
    }
    worker
}

/// The counts of one pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResolvePass {
    /// Deliveries read and resolved.
    pub resolved: u64,
    /// New HR events committed.
    pub events: u64,
    /// Deliveries whose read failed and was rescheduled.
    pub retried: u64,
}

/// Reads every due delivery of every tenant with vendors once. A failed read is retried
/// `first_retry_wait` later, then twice as long after each further failure.
pub async fn resolve_due(
    state: &AppState,
    now: DateTime<Utc>,
    first_retry_wait: TimeDelta,
) -> Result<ResolvePass, StoreError> {
    let mut tenants: Vec<&String> = state.vendors.keys().map(|(tenant, _)| tenant).collect();
    tenants.sort();
    tenants.dedup();
    let mut pass = ResolvePass::default();
    for tenant in tenants {
        let Some(auth) = state.tenants.get(tenant) else { continue };
        let span = rollcall_runtime::work_span("hr_vendor_resolve", Some(tenant), None);
        resolve_tenant(state, &auth.id, now, first_retry_wait, &mut pass).instrument(span).await?;
    }
    Ok(pass)
}

async fn resolve_tenant(
    state: &AppState,
    tenant: &TenantId,
    now: DateTime<Utc>,
    first_retry_wait: TimeDelta,
    pass: &mut ResolvePass,
) -> Result<(), StoreError> {
    let scope = state.store.tenant(tenant);
    // One log line per vendor and outcome per pass: a revoked credential fails every
    // delivery of the vendor alike, and `vendor_reads_total` counts them all.
    let mut logged: HashSet<(String, &'static str)> = HashSet::new();
    for delivery in scope.due_vendor_deliveries(now, BATCH).await? {
        let connection = Vendor::parse(&delivery.vendor)
            .and_then(|vendor| state.vendors.get(&(tenant.to_string(), vendor)));
        let Some(connection) = connection else {
            let error =
                format!("vendor `{}` is no longer configured for the tenant", delivery.vendor);
            tracing::warn!(delivery_id = %delivery.delivery_id, vendor = %delivery.vendor, "{error}");
            scope.retry_vendor_delivery(delivery.delivery_id, now + MAX_RETRY_WAIT, &error).await?;
            pass.retried += 1;
            continue;
        };
        let read =
            connection.client.fetch_worker(connection.adapter.as_ref(), &delivery.worker_id).await;
        let outcome = read_outcome(&read);
        if outcome != PAUSED {
            state.metrics.vendor_read(&delivery.vendor, outcome);
        }
        let record = match read {
            Ok(record) => record,
            Err(error) => {
                let wait = retry_wait(first_retry_wait, delivery.attempts, &error);
                let next = (now + wait).max(pause_end(connection.client.paused_for()));
                if logged.insert((delivery.vendor.clone(), outcome)) {
                    log_failure(&delivery, &error, next);
                }
                // A read the pause kept from being sent is no attempt, so it does not
                // lengthen the delivery's later retry waits.
                if matches!(error, LookupError::Paused { .. }) {
                    scope
                        .postpone_vendor_delivery(delivery.delivery_id, next, &error.to_string())
                        .await?;
                } else {
                    scope
                        .retry_vendor_delivery(delivery.delivery_id, next, &error.to_string())
                        .await?;
                }
                pass.retried += 1;
                continue;
            }
        };
        let known = scope.vendor_worker_state(&delivery.vendor, &delivery.worker_id).await?;
        let (event, new_state) =
            decide(tenant, connection.vendor, &delivery, &record, known.as_ref(), now);
        let new = scope.resolve_vendor_delivery(&delivery, event.as_ref(), &new_state, now).await?;
        pass.resolved += 1;
        if let (true, Some(event)) = (new, event) {
            pass.events += 1;
            state.committed(&event);
            let published = state.publish(&event).await;
            tracing::info!(
                delivery_id = %delivery.delivery_id, event_id = %event.event_id,
                vendor = %delivery.vendor, event_type = ?event.event_type, published,
                "HR event recorded from a vendor read"
            );
        }
    }
    Ok(())
}

/// The outcome of a read that sent nothing because the connection is paused. It is not a
/// read, so `vendor_reads_total` does not count it.
const PAUSED: &str = "paused";

/// Returns the `outcome` label of a read.
fn read_outcome<T>(read: &Result<T, LookupError>) -> &'static str {
    match read {
        Ok(_) => "ok",
        Err(LookupError::NotFound { .. }) => "not_found",
        Err(LookupError::RateLimited { .. }) => "rate_limited",
        Err(LookupError::Paused { .. }) => PAUSED,
        Err(LookupError::Unauthorized { .. }) => "unauthorized",
        Err(_) => "failed",
    }
}

/// Returns the wait before the next read after `attempts` failed ones: exponential from
/// `first` up to an hour, and at least the vendor's `Retry-After`. A read that found the
/// connection paused waits for the rest of the pause only.
fn retry_wait(first: TimeDelta, attempts: i32, error: &LookupError) -> TimeDelta {
    let doublings = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    let wait = first
        .checked_mul(2_i32.saturating_pow(doublings))
        .unwrap_or(MAX_RETRY_WAIT)
        .min(MAX_RETRY_WAIT);
    match error {
        LookupError::RateLimited { retry_after_seconds, .. } => {
            wait.max(requested_wait(*retry_after_seconds))
        }
        LookupError::Paused { retry_after_seconds, .. } => requested_wait(*retry_after_seconds),
        _ => wait,
    }
}

/// Returns a vendor's requested wait, cut to the client's maximum pause, so that adding it
/// to an instant cannot overflow.
fn requested_wait(seconds: u64) -> TimeDelta {
    let wait = Duration::from_secs(seconds).min(MAX_PAUSE);
    TimeDelta::from_std(wait).unwrap_or(TimeDelta::days(1))
}

/// Returns the instant a connection's pause ends, given the time left, rounded up to the
/// next millisecond so that a delivery is not due before the client sends again. Returns
/// the distant past when the connection is not paused.
fn pause_end(left: Option<Duration>) -> DateTime<Utc> {
    let left = left.map(|left| left.min(MAX_PAUSE) + Duration::from_millis(1));
    let left = left.and_then(|left| TimeDelta::from_std(left).ok());
    left.and_then(|left| Utc::now().checked_add_signed(left)).unwrap_or(DateTime::UNIX_EPOCH)
}

fn log_failure(delivery: &VendorDelivery, error: &LookupError, next: DateTime<Utc>) {
    let attempts = delivery.attempts + 1;
    if let LookupError::Paused { .. } = error {
        tracing::info!(delivery_id = %delivery.delivery_id, vendor = %delivery.vendor, next_attempt_at = %next, "vendor read postponed: the connection is paused after a 429");
    } else if error.is_transient() {
        tracing::warn!(delivery_id = %delivery.delivery_id, vendor = %delivery.vendor, attempts, next_attempt_at = %next, error = %error, "vendor read failed; retrying later");
    } else {
        // Credentials or the vendor's response need a person; the delivery stays queued.
        tracing::error!(delivery_id = %delivery.delivery_id, vendor = %delivery.vendor, attempts, next_attempt_at = %next, error = %error, "vendor read failed; fix the tenant's vendor settings");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantId {
        TenantId::new("harborview").unwrap()
    }

    fn delivery(sender: VendorDeliverySender) -> VendorDelivery {
        VendorDelivery {
            delivery_id: Uuid::nil(),
            vendor: "hibob".into(),
            worker_id: "w1".into(),
            event: "employee.left".into(),
            sender,
            received_at: DateTime::UNIX_EPOCH,
            attempts: 0,
        }
    }

    fn record(status: EmploymentStatus) -> WorkerRecord {
        WorkerRecord {
            worker_id: "w1".into(),
            status,
            status_raw: "terminated".into(),
            time_zone: chrono_tz::America::New_York,
            email: None,
            reason: None,
        }
    }

    fn terminated(at: &str) -> EmploymentStatus {
        let effective_at: DateTime<Utc> = at.parse().unwrap();
        EmploymentStatus::Terminated { effective_at, date: effective_at.date_naive() }
    }

    #[test]
    fn new_termination_recorded_with_sender() {
        let now = DateTime::UNIX_EPOCH;
        let read = record(terminated("2026-12-01T05:00:00Z"));
        let (event, state) = decide(
            &tenant(),
            Vendor::HiBob,
            &delivery(VendorDeliverySender::Poll),
            &read,
            None,
            now,
        );
        let event = event.map(|e| (e.event_type, e.sender, e.effective_at.to_rfc3339()));
        assert_eq!(
            event,
            Some((
                HrEventType::Termination,
                HrEventSender::VendorPoll,
                "2026-12-01T05:00:00+00:00".into()
            ))
        );
        assert!(state.termination_event_id.is_some());
    }

    #[test]
    fn known_termination_records_nothing() {
        let now = DateTime::UNIX_EPOCH;
        let read = record(terminated("2026-12-01T05:00:00Z"));
        let (_, known) = decide(
            &tenant(),
            Vendor::HiBob,
            &delivery(VendorDeliverySender::Webhook),
            &read,
            None,
            now,
        );
        let (event, state) = decide(
            &tenant(),
            Vendor::HiBob,
            &delivery(VendorDeliverySender::Poll),
            &read,
            Some(&known),
            now,
        );
        assert_eq!(event, None);
        assert_eq!(state, known);
    }

    #[test]
    fn moved_date_records_new_termination() {
        let now = DateTime::UNIX_EPOCH;
        let first = record(terminated("2026-12-01T05:00:00Z"));
        let (_, known) = decide(
            &tenant(),
            Vendor::HiBob,
            &delivery(VendorDeliverySender::Webhook),
            &first,
            None,
            now,
        );
        let moved = record(terminated("2026-12-08T05:00:00Z"));
        let (event, state) = decide(
            &tenant(),
            Vendor::HiBob,
            &delivery(VendorDeliverySender::Webhook),
            &moved,
            Some(&known),
            now,
        );
        assert_eq!(event.map(|e| e.event_type), Some(HrEventType::Termination));
        assert_ne!(state.termination_event_id, known.termination_event_id);
    }

    #[test]
    fn rescinded_termination_corrected() {
        let now = DateTime::UNIX_EPOCH;
        let first = record(terminated("2026-12-01T05:00:00Z"));
        let (_, known) = decide(
            &tenant(),
            Vendor::HiBob,
            &delivery(VendorDeliverySender::Webhook),
            &first,
            None,
            now,
        );
        let active = record(EmploymentStatus::Active);
        let (event, state) = decide(
            &tenant(),
            Vendor::HiBob,
            &delivery(VendorDeliverySender::Webhook),
            &active,
            Some(&known),
            now,
        );
        let event = event
            .map(|e| (e.event_type, e.corrected_event_id, e.worker.and_then(|w| w.terminated_at)));
        assert_eq!(event, Some((HrEventType::Correction, known.termination_event_id, None)));
        assert_eq!(state.termination_event_id, None);
    }

    #[test]
    fn active_unknown_worker_records_nothing() {
        let active = record(EmploymentStatus::Active);
        let (event, _) = decide(
            &tenant(),
            Vendor::HiBob,
            &delivery(VendorDeliverySender::Poll),
            &active,
            None,
            DateTime::UNIX_EPOCH,
        );
        assert_eq!(event, None);
    }

    #[test]
    fn retry_wait_grows_and_honors_retry_after() {
        let network = LookupError::Network { vendor: "hibob", message: "reset".into() };
        let first = TimeDelta::seconds(30);
        assert_eq!(retry_wait(first, 0, &network), TimeDelta::seconds(30));
        assert_eq!(retry_wait(first, 3, &network), TimeDelta::seconds(240));
        assert_eq!(retry_wait(first, 40, &network), MAX_RETRY_WAIT);
        let limited = LookupError::RateLimited { vendor: "hibob", retry_after_seconds: 900 };
        assert_eq!(retry_wait(first, 0, &limited), TimeDelta::seconds(900));
    }

    #[test]
    fn retry_wait_cuts_huge_retry_after() {
        let first = TimeDelta::seconds(30);
        let huge = LookupError::RateLimited { vendor: "hibob", retry_after_seconds: u64::MAX };
        assert_eq!(retry_wait(first, 0, &huge), TimeDelta::days(1));
        let now: DateTime<Utc> = "2026-12-01T00:00:00Z".parse().unwrap();
        let next: DateTime<Utc> = "2026-12-02T00:00:00Z".parse().unwrap();
        assert_eq!(now + retry_wait(first, 0, &huge), next);
    }

    #[test]
    fn paused_read_waits_for_pause_only() {
        let paused = LookupError::Paused { vendor: "hibob", retry_after_seconds: 3 };
        assert_eq!(retry_wait(TimeDelta::seconds(30), 5, &paused), TimeDelta::seconds(3));
        assert_eq!(pause_end(None), DateTime::UNIX_EPOCH);
        let before = Utc::now();
        let end = pause_end(Some(Duration::from_secs(3)));
        assert!(end > before + TimeDelta::seconds(3), "{end} after {before}");
    }
}

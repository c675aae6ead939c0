//! HR vendor deliveries and the last known state of each vendor worker, for the HR
//! webhook service's vendor adapters (`0015_hr_vendor_deliveries.sql`).

use chrono::{DateTime, Utc};
use rollcall_proto::HrEvent;
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The channel through which a vendor delivery reached Rollcall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorDeliverySender {
    /// A webhook, or a message from a vendor's event queue.
    Webhook,
    /// The daily poll of the vendor's worker list.
    Poll,
}

impl VendorDeliverySender {
    fn as_str(self) -> &'static str {
        match self {
            VendorDeliverySender::Webhook => "webhook",
            VendorDeliverySender::Poll => "vendor_poll",
        }
    }
}

/// One committed vendor delivery: a worker to read back from the vendor's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorDelivery {
    /// The delivery id.
    pub delivery_id: Uuid,
    /// The vendor's name, such as `hibob`.
    pub vendor: String,
    /// The vendor's id of the worker.
    pub worker_id: String,
    /// The vendor's event name, or `poll`.
    pub event: String,
    /// Webhook or poll.
    pub sender: VendorDeliverySender,
    /// When Rollcall committed it.
    pub received_at: DateTime<Utc>,
    /// Failed reads so far.
    pub attempts: i32,
}

/// The state of one vendor worker as Rollcall last read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorWorkerState {
    /// The instant employment ends, or `None` for a worker last read active.
    pub terminated_at: Option<DateTime<Utc>>,
    /// The termination event recorded for `terminated_at`.
    pub termination_event_id: Option<Uuid>,
}

impl TenantScope<'_> {
    /// Commits vendor deliveries, skipping those whose id is stored already. Returns how
    /// many are new. All are committed in one transaction, so a delivery that names
    /// several workers is accepted whole or not at all.
    pub async fn record_vendor_deliveries(
        &self,
        deliveries: &[VendorDelivery],
    ) -> Result<u64, StoreError> {
        const OPERATION: &str = "record vendor deliveries";
        for delivery in deliveries {
            check_text(&delivery.vendor, "vendor")?;
            check_text(&delivery.worker_id, "worker_id")?;
            check_text(&delivery.event, "event")?;
        }
        let mut tx = self.begin(OPERATION).await?;
        let mut inserted = 0;
        for delivery in deliveries {
            inserted += sqlx::query(
                "INSERT INTO rollcall.hr_vendor_deliveries \
                   (tenant_id, delivery_id, vendor, worker_id, event, sender, received_at, \
                    next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (tenant_id, delivery_id) DO NOTHING",
            )
            .bind(self.tenant_str())
            .bind(delivery.delivery_id)
            .bind(&delivery.vendor)
            .bind(&delivery.worker_id)
            .bind(&delivery.event)
            .bind(delivery.sender.as_str())
            .bind(to_micros(delivery.received_at))
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?
            .rows_affected();
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(inserted)
    }

    /// Lists up to `limit` unresolved deliveries due at `now`, oldest first.
    pub async fn due_vendor_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<VendorDelivery>, StoreError> {
        const OPERATION: &str = "read due vendor deliveries";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT delivery_id, vendor, worker_id, event, sender, received_at, attempts \
             FROM rollcall.hr_vendor_deliveries \
             WHERE tenant_id = $1 AND resolved_at IS NULL AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at, received_at, delivery_id LIMIT $3",
        )
        .bind(self.tenant_str())
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.vendor_delivery(row)).collect()
    }

    /// Counts the unresolved deliveries.
    pub async fn unresolved_vendor_delivery_count(&self) -> Result<i64, StoreError> {
        const OPERATION: &str = "count unresolved vendor deliveries";
        let mut tx = self.begin(OPERATION).await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rollcall.hr_vendor_deliveries \
             WHERE tenant_id = $1 AND resolved_at IS NULL",
        )
        .bind(self.tenant_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(count)
    }

    /// Returns when `vendor`'s worker list was last polled: the latest poll delivery.
    pub async fn last_vendor_poll(
        &self,
        vendor: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        const OPERATION: &str = "read the last vendor poll";
        let mut tx = self.begin(OPERATION).await?;
        let last: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT max(received_at) FROM rollcall.hr_vendor_deliveries \
             WHERE tenant_id = $1 AND vendor = $2 AND sender = 'vendor_poll'",
        )
        .bind(self.tenant_str())
        .bind(vendor)
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(last)
    }

    /// Records a failed read: one more attempt, the next at `next_attempt_at`.
    pub async fn retry_vendor_delivery(
        &self,
        delivery_id: Uuid,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "reschedule a vendor delivery";
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "UPDATE rollcall.hr_vendor_deliveries \
             SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4 \
             WHERE tenant_id = $1 AND delivery_id = $2 AND resolved_at IS NULL",
        )
        .bind(self.tenant_str())
        .bind(delivery_id)
        .bind(to_micros(next_attempt_at))
        .bind(error.chars().filter(|c| *c != '\0').take(500).collect::<String>())
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(())
    }

    /// Moves an unresolved delivery to `next_attempt_at` without counting an attempt,
    /// for a read that was not sent (the vendor connection is paused after a 429), so the
    /// pause does not lengthen the delivery's later retry waits. `reason` replaces the
    /// last error.
    pub async fn postpone_vendor_delivery(
        &self,
        delivery_id: Uuid,
        next_attempt_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "postpone a vendor delivery";
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "UPDATE rollcall.hr_vendor_deliveries SET next_attempt_at = $3, last_error = $4 \
             WHERE tenant_id = $1 AND delivery_id = $2 AND resolved_at IS NULL",
        )
        .bind(self.tenant_str())
        .bind(delivery_id)
        .bind(to_micros(next_attempt_at))
        .bind(reason.chars().filter(|c| *c != '\0').take(500).collect::<String>())
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(())
    }

    /// Returns what Rollcall last read about a vendor worker.
    pub async fn vendor_worker_state(
        &self,
        vendor: &str,
        worker_id: &str,
    ) -> Result<Option<VendorWorkerState>, StoreError> {
        const OPERATION: &str = "read a vendor worker's state";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(
            "SELECT terminated_at, termination_event_id FROM rollcall.hr_vendor_workers \
             WHERE tenant_id = $1 AND vendor = $2 AND worker_id = $3",
        )
        .bind(self.tenant_str())
        .bind(vendor)
        .bind(worker_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        row.map(|row| {
            Ok(VendorWorkerState {
                terminated_at: row.try_get("terminated_at").map_err(self.db(OPERATION))?,
                termination_event_id: row
                    .try_get("termination_event_id")
                    .map_err(self.db(OPERATION))?,
            })
        })
        .transpose()
    }

    /// Resolves a delivery in one transaction: records `event` when given (as
    /// [`TenantScope::record_hr_event`] does), stores the worker's new state and marks the
    /// delivery resolved. Returns `true` when the event is new.
    pub async fn resolve_vendor_delivery(
        &self,
        delivery: &VendorDelivery,
        event: Option<&HrEvent>,
        state: &VendorWorkerState,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "resolve a vendor delivery";
        let mut tx = self.begin(OPERATION).await?;
        let new = match event {
            Some(event) => self.insert_hr_event_in(&mut tx, event).await?,
            None => false,
        };

        sqlx::query(
            "INSERT INTO rollcall.hr_vendor_workers \
               (tenant_id, vendor, worker_id, terminated_at, termination_event_id, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, vendor, worker_id) DO UPDATE \
             SET terminated_at = $4, termination_event_id = $5, checked_at = $6",
        )
        .bind(self.tenant_str())
        .bind(&delivery.vendor)
        .bind(&delivery.worker_id)
        .bind(state.terminated_at.map(to_micros))
        .bind(state.termination_event_id)
        .bind(to_micros(now))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;

        sqlx::query(
            "UPDATE rollcall.hr_vendor_deliveries \
             SET resolved_at = $3, event_id = $4, last_error = NULL \
             WHERE tenant_id = $1 AND delivery_id = $2",
        )
        .bind(self.tenant_str())
        .bind(delivery.delivery_id)
        .bind(to_micros(now))
        .bind(event.map(|event| event.event_id))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(new)
    }

    fn vendor_delivery(&self, row: &PgRow) -> Result<VendorDelivery, StoreError> {
        const OPERATION: &str = "read a vendor delivery";
        let get_text = |column: &str| -> Result<String, StoreError> {
            row.try_get(column).map_err(self.db(OPERATION))
        };
        let sender = match get_text("sender")?.as_str() {
            "vendor_poll" => VendorDeliverySender::Poll,
            _ => VendorDeliverySender::Webhook,
        };
        Ok(VendorDelivery {
            delivery_id: row.try_get("delivery_id").map_err(self.db(OPERATION))?,
            vendor: get_text("vendor")?,
            worker_id: get_text("worker_id")?,
            event: get_text("event")?,
            sender,
            received_at: row.try_get("received_at").map_err(self.db(OPERATION))?,
            attempts: row.try_get("attempts").map_err(self.db(OPERATION))?,
        })
    }
}

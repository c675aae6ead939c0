//! HR events and the ids of processed messages: the records that make consumers of
//! at-least-once deliveries act once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_core::TenantId;
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::error::StoreError;
use crate::json::{self, WorkerJson, check_text};
use crate::scope::TenantScope;
use crate::time::to_micros;

impl TenantScope<'_> {
    /// Records that `consumer` processed the message `message_id` (its `Nats-Msg-Id`).
    /// Returns `true` the first time and `false` for a message recorded before, which the
    /// consumer should acknowledge without acting on it again.
    pub async fn record_processed_message(
        &self,
        consumer: &str,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "record a processed message";
        check_text(consumer, "consumer")?;
        check_text(message_id, "message_id")?;
        let mut tx = self.begin(OPERATION).await?;
        let inserted = sqlx::query(
            "INSERT INTO rollcall.processed_messages (tenant_id, consumer, message_id) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(self.tenant_str())
        .bind(consumer)
        .bind(message_id)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected()
            == 1;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(inserted)
    }

    /// Stores an HR event unless one with its event id is stored already. Returns `true`
    /// when the event is new.
    pub async fn record_hr_event(&self, event: &HrEvent) -> Result<bool, StoreError> {
        const OPERATION: &str = "record an HR event";
        let mut tx = self.begin(OPERATION).await?;
        let inserted = self.insert_hr_event_in(&mut tx, event).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(inserted)
    }

    /// Inserts an HR event in the caller's transaction unless one with its event id is
    /// stored already, and raises the tenant's state version when it is new. Returns
    /// `true` when the event is new. The SCIM user changes use it to commit a user and the
    /// event derived from it together.
    pub(crate) async fn insert_hr_event_in(
        &self,
        tx: &mut PgConnection,
        event: &HrEvent,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "record an HR event";
        if event.tenant != *self.tenant_id() {
            return Err(StoreError::TenantMismatch {
                scope: self.tenant_id().clone(),
                found: event.tenant.to_string(),
                record: format!("HR event `{}`", event.event_id),
            });
        }
        for (text, path) in [
            (Some(event.employee_id.as_str()), "employee_id"),
            (event.reason.as_deref(), "reason"),
            (event.manager_employee_id.as_deref(), "manager_employee_id"),
        ] {
            check_text(text.unwrap_or_default(), path)?;
        }
        let worker = match &event.worker {
            Some(worker) => Some(json::encode(&WorkerJson::from(worker), "worker")?),
            None => None,
        };

        let inserted = sqlx::query(
            "INSERT INTO rollcall.hr_events \
               (tenant_id, event_id, event_type, employee_id, effective_at, time_zone, reason, \
                manager_employee_id, received_at, sender, worker, corrected_event_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (tenant_id, event_id) DO NOTHING",
        )
        .bind(self.tenant_str())
        .bind(event.event_id)
        .bind(event_type_name(event.event_type))
        .bind(&event.employee_id)
        .bind(to_micros(event.effective_at))
        .bind(event.time_zone.name())
        .bind(&event.reason)
        .bind(&event.manager_employee_id)
        .bind(to_micros(event.received_at))
        .bind(sender_name(event.sender))
        .bind(worker)
        .bind(event.corrected_event_id)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected()
            == 1;
        if inserted {
            self.bump_state_in(tx).await?;
        }
        Ok(inserted)
    }

    /// Lists the HR events received at or after `since`, oldest first.
    pub async fn hr_events_since(&self, since: DateTime<Utc>) -> Result<Vec<HrEvent>, StoreError> {
        const OPERATION: &str = "read HR events";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT event_id, event_type, employee_id, effective_at, time_zone, reason, \
                    manager_employee_id, received_at, sender, worker, corrected_event_id \
             FROM rollcall.hr_events WHERE tenant_id = $1 AND received_at >= $2 \
             ORDER BY received_at, event_id",
        )
        .bind(self.tenant_str())
        .bind(since)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.hr_event(row)).collect()
    }

    pub(crate) fn hr_event(&self, row: &PgRow) -> Result<HrEvent, StoreError> {
        const OPERATION: &str = "read an HR event";
        let event_id: uuid::Uuid = row.try_get("event_id").map_err(self.db(OPERATION))?;
        let key = format!("{}/{event_id}", self.tenant_str());
        let corrupt = |reason: String| StoreError::CorruptRow {
            table: "hr_events",
            key: key.clone(),
            reason,
        };

        let type_text: String = row.try_get("event_type").map_err(self.db(OPERATION))?;
        let event_type = parse_event_type(&type_text)
            .ok_or_else(|| corrupt(format!("`{type_text}` is not an HR event type")))?;
        let sender_text: String = row.try_get("sender").map_err(self.db(OPERATION))?;
        let sender = parse_sender(&sender_text)
            .ok_or_else(|| corrupt(format!("`{sender_text}` is not an HR event sender")))?;
        let zone: String = row.try_get("time_zone").map_err(self.db(OPERATION))?;
        let time_zone = zone
            .parse::<Tz>()
            .map_err(|_| corrupt(format!("`{zone}` is not an IANA time zone name")))?;
        let worker: Option<Value> = row.try_get("worker").map_err(self.db(OPERATION))?;
        let worker = match worker {
            Some(value) => Some(json::decode::<WorkerJson>(value, "hr_events", &key)?.into()),
            None => None,
        };
        Ok(HrEvent {
            event_id,
            tenant: TenantId::clone(self.tenant_id()),
            event_type,
            employee_id: row.try_get("employee_id").map_err(self.db(OPERATION))?,
            effective_at: row.try_get("effective_at").map_err(self.db(OPERATION))?,
            time_zone,
            reason: row.try_get("reason").map_err(self.db(OPERATION))?,
            manager_employee_id: row.try_get("manager_employee_id").map_err(self.db(OPERATION))?,
            received_at: row.try_get("received_at").map_err(self.db(OPERATION))?,
            sender,
            worker,
            corrected_event_id: row.try_get("corrected_event_id").map_err(self.db(OPERATION))?,
        })
    }
}

pub(crate) fn event_type_name(event_type: HrEventType) -> &'static str {
    match event_type {
        HrEventType::Hire => "hire",
        HrEventType::Change => "change",
        HrEventType::Termination => "termination",
        HrEventType::Rehire => "rehire",
        HrEventType::Correction => "correction",
    }
}

fn parse_event_type(name: &str) -> Option<HrEventType> {
    match name {
        "hire" => Some(HrEventType::Hire),
        "change" => Some(HrEventType::Change),
        "termination" => Some(HrEventType::Termination),
        "rehire" => Some(HrEventType::Rehire),
        "correction" => Some(HrEventType::Correction),
        _ => None,
    }
}

pub(crate) fn sender_name(sender: HrEventSender) -> &'static str {
    match sender {
        HrEventSender::Webhook => "webhook",
        HrEventSender::Scim => "scim",
        HrEventSender::RosterFile => "roster_file",
        HrEventSender::VendorPoll => "vendor_poll",
    }
}

fn parse_sender(name: &str) -> Option<HrEventSender> {
    match name {
        "webhook" => Some(HrEventSender::Webhook),
        "scim" => Some(HrEventSender::Scim),
        "roster_file" => Some(HrEventSender::RosterFile),
        "vendor_poll" => Some(HrEventSender::VendorPoll),
        _ => None,
    }
}

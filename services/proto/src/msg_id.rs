//! The NATS message ids (`Nats-Msg-Id` header) of the messages Rollcall publishes.
//!
//! JetStream drops a message whose id it has seen within the stream's duplicate window, so
//! a publisher that retries after a lost acknowledgement sends the same id and the stream
//! keeps one copy. Each id below is unique across tenants, because every stream may carry
//! several tenants' subjects.

use crate::v1;

impl v1::SnapshotChunk {
    /// Returns the chunk's NATS message id, `<snapshot_id>:<chunk_index>`.
    pub fn nats_msg_id(&self) -> String {
        format!("{}:{}", self.snapshot_id, self.chunk_index)
    }
}

impl v1::SnapshotDelta {
    /// Returns the delta's NATS message id, its `delta_id`.
    pub fn nats_msg_id(&self) -> &str {
        &self.delta_id
    }
}

impl v1::HrEvent {
    /// Returns the event's NATS message id, its `event_id`.
    pub fn nats_msg_id(&self) -> &str {
        &self.event_id
    }
}

impl v1::FindingEvent {
    /// Returns the event's NATS message id, its `event_id`.
    pub fn nats_msg_id(&self) -> &str {
        &self.event_id
    }
}

impl v1::SyncReport {
    /// Returns the report's NATS message id, its `report_id`.
    pub fn nats_msg_id(&self) -> &str {
        &self.report_id
    }
}

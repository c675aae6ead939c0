//! The engine's error type.

use rollcall_core::TenantId;

/// A failure of the engine's work on one message or tenant.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] rollcall_store::StoreError),
    /// Publishing to NATS failed.
    #[error(transparent)]
    Publish(#[from] rollcall_bus::PublishError),
    /// An outbox row does not decode; the engine wrote it, so the row was altered.
    #[error(
        "outbox event `{event_id}` of tenant `{tenant}` does not decode as a FindingEvent ({source}); the row was altered outside the engine"
    )]
    CorruptOutbox {
        /// The tenant.
        tenant: TenantId,
        /// The event.
        event_id: uuid::Uuid,
        /// The decoding error.
        source: prost::DecodeError,
    },
}

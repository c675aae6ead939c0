//! Rollcall's message bus on NATS JetStream.
//!
//! Connectors publish snapshot chunks and deltas, the HR intake publishes HR events and
//! the engine publishes finding events. Each kind goes to a file-backed stream
//! ([`Topology`]) on a subject built from the message's own tenant and source
//! ([`Namespace`]). A [`Publisher`] sends each message with its `Nats-Msg-Id` and waits
//! for the stream's ack, so a retry after a lost ack is stored once.
//!
//! Services read with a [`ConsumerRunner`] on a durable pull consumer ([`ConsumerSpec`]).
//! The runner calls a [`Handler`] for one message at a time, sends progress acks while it
//! runs, acks only after it returns [`Outcome::Ack`] and waits for the server to confirm
//! the ack. A message that the handler rejects, or that fails on its last attempt, goes
//! to the dead-letter stream with the reason. [`BusMetrics`] counts all of it.
//!
//! [`backup`] writes a stream, with its messages and consumers, into a folder through
//! JetStream's snapshot API, and restores it from there.
//!
//! ```no_run
//! use rollcall_bus::{
//!     BusMetrics, ConsumerRunner, ConsumerSpec, Delivery, Handler, Namespace, Outcome,
//!     RunnerConfig, Topology,
//! };
//! use tokio_util::sync::CancellationToken;
//!
//! struct ApplySnapshots;
//!
//! impl Handler for ApplySnapshots {
//!     async fn handle(&self, delivery: &Delivery) -> Outcome {
//!         let Ok(chunk) = delivery.decode::<rollcall_proto::v1::SnapshotChunk>() else {
//!             return Outcome::term("the payload is not a snapshot chunk");
//!         };
//!         // Check the tenant's cursor, apply and commit in one transaction, then:
//!         let _ = chunk;
//!         Outcome::Ack
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = async_nats::connect("127.0.0.1:4222").await?;
//! let jetstream = async_nats::jetstream::new(client);
//! let topology = Topology::new(Namespace::default());
//! topology.ensure(&jetstream).await?;
//!
//! let metrics = BusMetrics::new();
//! let runner = ConsumerRunner::start(
//!     jetstream,
//!     topology.namespace().clone(),
//!     ConsumerSpec::engine_snapshots(),
//!     ApplySnapshots,
//!     metrics,
//!     RunnerConfig::default(),
//! )
//! .await?;
//! let stop = CancellationToken::new();
//! let report = runner.run(stop).await;
//! # let _ = report;
//! # Ok(())
//! # }
//! ```

pub mod backup;
mod connection;
mod consumers;
mod handler;
mod message;
mod metrics;
mod publish;
mod runner;
mod streams;
mod subject;

pub use async_nats;
pub use connection::{NatsConfig, NatsConfigError};
pub use consumers::{ConsumerError, ConsumerSpec};
pub use handler::{Delivery, Handler, Outcome, retry_delay};
pub use message::BusMessage;
pub use metrics::{BusMetrics, ConsumedLabels, ConsumerLabels, Disposition, KindLabels};
pub use publish::{PublishError, Published, Publisher, RetryPolicy};
pub use runner::{ConsumerRunner, HeldMessages, RunReport, RunnerConfig};
pub use streams::{
    DUPLICATE_WINDOW, MAX_DEAD_LETTER_BYTES, MAX_MESSAGE_BYTES, StreamChange, StreamSpec, Topology,
    TopologyError,
};
pub use subject::{MessageKind, Namespace, StreamFamily, SubjectError};

/// The headers that a dead letter carries besides the original message's own.
pub mod dead_letter {
    pub use crate::runner::dead_letter::{
        CAUSE_HEADER, CONSUMER_HEADER, DELIVERED_HEADER, ORIGINAL_SEQUENCE_HEADER,
        ORIGINAL_STREAM_HEADER, ORIGINAL_SUBJECT_HEADER, REASON_HEADER,
    };
}

//! Durable pull consumer definitions and their idempotent creation.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};

use crate::subject::{MessageKind, Namespace};

/// A consumer definition that cannot be used, or a consumer the server did not create.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// The durable name has a character that consumer names reject.
    #[error("invalid durable consumer name `{0}`: use 1 to 64 ASCII letters, digits, `-` and `_`")]
    InvalidName(String),
    /// `ack_wait` is too short for progress acks every third of it.
    #[error(
        "ack wait of `{0:?}` for consumer `{1}` is too short: use at least 1 second, so that progress acks go out every third of it"
    )]
    AckWaitTooShort(Duration, String),
    /// `max_deliver` is below 1.
    #[error("max deliver of `{0}` for consumer `{1}` is invalid: use 1 or more")]
    InvalidMaxDeliver(i64, String),
    /// The stream the consumer reads does not exist or could not be read.
    #[error(
        "reading stream `{stream}` for consumer `{consumer}` failed: {source}; create the streams first with the topology's ensure step"
    )]
    Stream {
        /// The stream name.
        stream: String,
        /// The durable consumer name.
        consumer: String,
        /// The client's error.
        source: async_nats::jetstream::context::GetStreamError,
    },
    /// The subscription to the consumer's max-deliveries advisories failed.
    #[error(
        "subscribing to the max-deliveries advisories of consumer `{consumer}` failed: {source}; check the connection to the NATS server"
    )]
    Advisories {
        /// The durable consumer name.
        consumer: String,
        /// The client's error.
        source: async_nats::SubscribeError,
    },
    /// The server rejected the creation or update of the consumer.
    #[error(
        "creating consumer `{consumer}` on stream `{stream}` failed: {source}; the server rejects some changes to an existing consumer, such as a new delivery policy, so delete the consumer or use a new durable name"
    )]
    Create {
        /// The stream name.
        stream: String,
        /// The durable consumer name.
        consumer: String,
        /// The client's error.
        source: async_nats::jetstream::stream::ConsumerError,
    },
}

/// The definition of one durable pull consumer with explicit acks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// The durable name, shared by every replica of the service that reads it.
    pub durable_name: String,
    /// The messages the consumer reads; it reads them from every tenant.
    pub kind: MessageKind,
    /// Time the server waits for an ack before it delivers the message again. The runner
    /// sends a progress ack every third of it while a handler runs.
    pub ack_wait: Duration,
    /// Delivery attempts before the runner moves the message to the dead-letter stream.
    pub max_deliver: i64,
    /// Messages delivered and not yet acked, across all replicas, before the server
    /// stops delivering.
    pub max_ack_pending: i64,
}

impl ConsumerSpec {
    /// Creates a definition with the defaults: ack wait 30 s, 5 deliveries, 1,000 pending
    /// acks.
    pub fn new(durable_name: &str, kind: MessageKind) -> Self {
        Self {
            durable_name: durable_name.to_owned(),
            kind,
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            max_ack_pending: 1000,
        }
    }

    /// Returns the engine's consumer of snapshot chunks.
    pub fn engine_snapshots() -> Self {
        Self::new("engine-snapshots", MessageKind::Snapshot)
    }

    /// Returns the engine's consumer of snapshot deltas.
    pub fn engine_deltas() -> Self {
        Self::new("engine-deltas", MessageKind::Delta)
    }

    /// Returns the engine's consumer of sync reports.
    pub fn engine_sync_reports() -> Self {
        Self::new("engine-sync-reports", MessageKind::SyncReport)
    }

    /// Returns the engine's consumer of HR events.
    pub fn engine_hr_events() -> Self {
        Self::new("engine-hr-events", MessageKind::HrEvent)
    }

    /// Sets the ack wait.
    pub fn with_ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }

    /// Sets the number of delivery attempts.
    pub fn with_max_deliver(mut self, max_deliver: i64) -> Self {
        self.max_deliver = max_deliver;
        self
    }

    /// Checks the definition without contacting the server.
    ///
    /// # Errors
    ///
    /// [`ConsumerError::InvalidName`], [`ConsumerError::AckWaitTooShort`] or
    /// [`ConsumerError::InvalidMaxDeliver`].
    pub fn validate(&self) -> Result<(), ConsumerError> {
        let name = &self.durable_name;
        let valid_name = (1..=64).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid_name {
            return Err(ConsumerError::InvalidName(name.clone()));
        }
        if self.ack_wait < Duration::from_secs(1) {
            return Err(ConsumerError::AckWaitTooShort(self.ack_wait, name.clone()));
        }
        if self.max_deliver < 1 {
            return Err(ConsumerError::InvalidMaxDeliver(self.max_deliver, name.clone()));
        }
        Ok(())
    }

    /// Returns the JetStream configuration of the consumer in `namespace`.
    pub fn config(&self, namespace: &Namespace) -> pull::Config {
        pull::Config {
            durable_name: Some(self.durable_name.clone()),
            description: Some(format!("Rollcall {} consumer", self.kind)),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            max_deliver: self.max_deliver,
            max_ack_pending: self.max_ack_pending,
            filter_subject: namespace.kind_filter(self.kind),
            ..pull::Config::default()
        }
    }

    /// Creates the consumer, or updates the settings an existing one can change in place
    /// (ack wait, max deliver, max ack pending), and returns it.
    ///
    /// # Errors
    ///
    /// A validation error from [`ConsumerSpec::validate`], [`ConsumerError::Stream`] when
    /// the stream is missing, and [`ConsumerError::Create`] when the server rejects the
    /// consumer.
    pub async fn ensure(
        &self,
        jetstream: &jetstream::Context,
        namespace: &Namespace,
    ) -> Result<PullConsumer, ConsumerError> {
        self.validate()?;
        let stream_name = namespace.stream_name(self.kind.stream());
        let stream =
            jetstream.get_stream(&stream_name).await.map_err(|source| ConsumerError::Stream {
                stream: stream_name.clone(),
                consumer: self.durable_name.clone(),
                source,
            })?;
        stream.create_consumer(self.config(namespace)).await.map_err(|source| {
            ConsumerError::Create {
                stream: stream_name,
                consumer: self.durable_name.clone(),
                source,
            }
        })
    }
}

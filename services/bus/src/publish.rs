//! Publishing protobuf messages with a `Nats-Msg-Id` and waiting for JetStream's ack.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use async_nats::jetstream::context::{PublishError as ClientPublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use rollcall_core::TenantId;
use rollcall_core::model::SourceSnapshot;
use rollcall_proto::{DEFAULT_MAX_CHUNK_BYTES, SplitError, split, v1};
use uuid::Uuid;

use crate::message::BusMessage;
use crate::metrics::{BusMetrics, KindLabels};
use crate::streams::MAX_MESSAGE_BYTES;
use crate::subject::{Namespace, SubjectError};

/// A message that was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The message's tenant, source or type cannot form a subject.
    #[error("{0}")]
    Subject(#[from] SubjectError),
    /// The message has an empty message id, so a retried publish would be stored twice.
    #[error(
        "the {kind} message for `{subject}` has an empty message id: set its event, delta or snapshot id before publishing"
    )]
    MissingMessageId {
        /// The message kind.
        kind: &'static str,
        /// The subject it was to go to.
        subject: String,
    },
    /// The message and its headers exceed what the stream accepts.
    #[error(
        "the message `{message_id}` encodes to `{bytes}` bytes with its headers, more than the stream's limit of `{max}` bytes: split it into smaller messages"
    )]
    TooLarge {
        /// The message id.
        message_id: String,
        /// Encoded size with the headers, in bytes.
        bytes: usize,
        /// The stream's limit, in bytes.
        max: usize,
    },
    /// The snapshot cannot be split into chunks.
    #[error("{0}")]
    Split(#[from] SplitError),
    /// JetStream did not store the message, after the retries for the errors that allow
    /// one.
    #[error(
        "publishing `{message_id}` on `{subject}` failed after {attempts} attempts: {source}; check that the NATS server is reachable and that the bus's streams exist"
    )]
    NotStored {
        /// The message id.
        message_id: String,
        /// The subject.
        subject: String,
        /// Attempts made.
        attempts: u32,
        /// The client's last error.
        source: ClientPublishError,
    },
}

/// How often and how fast a publish is retried when the server does not ack it.
///
/// A retry sends the same `Nats-Msg-Id`, so JetStream stores the message once even when
/// the first attempt was stored and only its ack was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// Wait before the second attempt; it doubles after each attempt.
    pub first_delay: Duration,
    /// Maximum wait between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts, waiting 0.25, 0.5, 1, 2 and 4 s between them: enough to ride out a
    /// NATS server restart, which clients see as a few seconds without a connection.
    fn default() -> Self {
        Self {
            attempts: 6,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

/// JetStream's ack of a stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The stream that stored the message.
    pub stream: String,
    /// The message's stream sequence; for a duplicate, the sequence of the first copy.
    pub sequence: u64,
    /// Whether JetStream already had a message with this id in its duplicate window and
    /// dropped this one.
    pub duplicate: bool,
}

/// Publishes messages to the bus's streams.
#[derive(Debug, Clone)]
pub struct Publisher {
    jetstream: jetstream::Context,
    namespace: Namespace,
    metrics: BusMetrics,
    retry: RetryPolicy,
}

impl Publisher {
    /// Creates a publisher that counts into `metrics`.
    pub fn new(jetstream: jetstream::Context, namespace: Namespace, metrics: BusMetrics) -> Self {
        Self { jetstream, namespace, metrics, retry: RetryPolicy::default() }
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Publishes `message` on its subject with its `Nats-Msg-Id` and waits for the
    /// stream's ack.
    ///
    /// # Errors
    ///
    /// [`PublishError::Subject`], [`PublishError::MissingMessageId`] and
    /// [`PublishError::TooLarge`] before anything is sent, and
    /// [`PublishError::NotStored`] when no attempt was acked.
    pub async fn publish<M: BusMessage>(&self, message: &M) -> Result<Published, PublishError> {
        let subject = message.subject(&self.namespace)?;
        let message_id = message.message_id();
        if message_id.is_empty() {
            return Err(PublishError::MissingMessageId { kind: M::KIND.as_str(), subject });
        }
        let payload = Bytes::from(message.encode_to_vec());
        let mut headers = HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, message_id.as_str());
        let max = usize::try_from(MAX_MESSAGE_BYTES).unwrap_or(usize::MAX);
        let bytes = payload.len() + header_len(&headers);
        if bytes > max {
            return Err(PublishError::TooLarge { message_id, bytes, max });
        }
        self.send(M::KIND.as_str(), subject, message_id, headers, payload).await
    }

    /// Splits `snapshot` into chunks of at most [`DEFAULT_MAX_CHUNK_BYTES`] and publishes
    /// them in order. `snapshot_id` must be new for each snapshot, because the chunks'
    /// message ids contain it. Publishing the same snapshot again with the same id stores
    /// nothing new.
    ///
    /// # Errors
    ///
    /// [`PublishError::Split`] when a record does not fit in a chunk, otherwise the first
    /// error of [`Publisher::publish`]. The chunks before it are stored; publishing again
    /// with the same `snapshot_id` stores only the missing ones.
    pub async fn publish_snapshot(
        &self,
        snapshot: &SourceSnapshot,
        tenant: &TenantId,
        snapshot_id: Uuid,
    ) -> Result<Vec<Published>, PublishError> {
        let chunks = split(snapshot, tenant, snapshot_id, DEFAULT_MAX_CHUNK_BYTES)?;
        self.publish_chunks(&chunks).await
    }

    /// Publishes the chunks of one snapshot, as returned by `rollcall_proto::split`, in
    /// order.
    ///
    /// # Errors
    ///
    /// The first error of [`Publisher::publish`]; the chunks before it are stored.
    pub async fn publish_chunks(
        &self,
        chunks: &[v1::SnapshotChunk],
    ) -> Result<Vec<Published>, PublishError> {
        let mut published = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            published.push(self.publish(chunk).await?);
        }
        Ok(published)
    }

    /// Publishes an already encoded message with `headers`, which must hold its
    /// `Nats-Msg-Id`, retrying by the policy. `kind` labels the metrics.
    pub(crate) async fn send(
        &self,
        kind: &str,
        subject: String,
        message_id: String,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Result<Published, PublishError> {
        let attempts = self.retry.attempts.max(1);
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            let request = PublishMessage::build().payload(payload.clone()).headers(headers.clone());
            let result = match self.jetstream.send_publish(subject.clone(), request).await {
                Ok(ack) => ack.await,
                Err(error) => Err(error),
            };
            match result {
                Ok(ack) => {
                    let labels = KindLabels { kind: kind.to_owned() };
                    if ack.duplicate {
                        self.metrics.duplicates.get_or_create(&labels).inc();
                    } else {
                        self.metrics.published.get_or_create(&labels).inc();
                    }
                    return Ok(Published {
                        stream: ack.stream,
                        sequence: ack.sequence,
                        duplicate: ack.duplicate,
                    });
                }
                Err(source) if attempt < attempts && is_transient(&source) => {
                    tracing::warn!(
                        %subject, %message_id, attempt, error = %source,
                        "publish not acked, retrying with the same message id"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.retry.max_delay);
                    attempt += 1;
                }
                Err(source) => {
                    return Err(PublishError::NotStored {
                        message_id,
                        subject,
                        attempts: attempt,
                        source,
                    });
                }
            }
        }
    }
}

/// Returns `true` when a later attempt can succeed. An ack times out or a connection
/// drops while the client reconnects, and no stream responds while a restarted server is
/// still loading its streams.
fn is_transient(error: &ClientPublishError) -> bool {
    matches!(
        error.kind(),
        PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::StreamNotFound
            | PublishErrorKind::MaxAckPending
    )
}

/// Returns the size of `headers` on the wire: the `NATS/1.0` line, one `name: value` line
/// per value, and the closing empty line.
pub(crate) fn header_len(headers: &HeaderMap) -> usize {
    let mut len = "NATS/1.0\r\n".len() + 2;
    for (name, values) in headers.iter() {
        let name: &str = name.as_ref();
        for value in values {
            len += name.len() + 2 + value.as_str().len() + 2;
        }
    }
    len
}

//! The bus's streams and their idempotent creation at service start.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};

use crate::subject::{Namespace, StreamFamily};

/// Largest message, headers included, that the source, HR and finding streams accept:
/// 992 KiB.
///
/// It is below the 1 MiB `max_payload` that a NATS server uses unless configured
/// otherwise, so that a dead letter, which is the original message with about 1 KiB of
/// added headers, still fits in one NATS message. A snapshot chunk from
/// `rollcall_proto::split` is at most 960 KiB, leaving 32 KiB for its headers.
pub const MAX_MESSAGE_BYTES: i32 = 992 * 1024;

/// Largest dead letter, headers included: 1 MiB, the default NATS `max_payload`.
pub const MAX_DEAD_LETTER_BYTES: i32 = 1024 * 1024;

/// Window in which JetStream drops a message whose `Nats-Msg-Id` it has already stored.
///
/// Ten minutes covers a publisher that retries across a NATS restart or a failover. The
/// server keeps every id of the window in memory, so the window is not longer.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A stream could not be created or brought to its definition.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The server did not return the stream's state.
    #[error(
        "reading stream `{stream}` failed: {source}; check that the NATS server runs with JetStream enabled and that the account may use it"
    )]
    Read {
        /// The stream name.
        stream: String,
        /// The client's error.
        source: async_nats::jetstream::context::GetStreamError,
    },
    /// The server rejected the creation of the stream.
    #[error(
        "creating stream `{stream}` failed: {source}; check the JetStream limits of the account and that no other stream captures `{subjects}`"
    )]
    Create {
        /// The stream name.
        stream: String,
        /// The subjects the stream was to capture.
        subjects: String,
        /// The client's error.
        source: async_nats::jetstream::context::CreateStreamError,
    },
    /// The server rejected the change of an existing stream to its definition.
    #[error(
        "updating stream `{stream}` to its definition failed: {source}; a change of storage type cannot be applied in place, so move the data to a new stream or delete the old one"
    )]
    Update {
        /// The stream name.
        stream: String,
        /// The client's error.
        source: async_nats::jetstream::context::UpdateStreamError,
    },
}

/// The definition of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    /// The stream's place among the bus's streams.
    pub family: StreamFamily,
    /// The stream name, such as `ROLLCALL_SOURCE`.
    pub name: String,
    /// The subject filter the stream captures, such as `rollcall.*.source.>`.
    pub subjects: String,
    /// How long a message is kept. Consumers ack messages but acks do not remove them
    /// (limits retention), so several services can read one stream and an engine can
    /// replay after an outage within this age.
    pub max_age: Duration,
    /// See [`DUPLICATE_WINDOW`].
    pub duplicate_window: Duration,
    /// Largest message the stream accepts, headers included, in bytes.
    pub max_message_bytes: i32,
    /// Number of copies in a clustered JetStream: 1 for a single server, 3 for a cluster.
    pub replicas: usize,
}

impl StreamSpec {
    /// Returns the standard definition of the stream of `family` in `namespace`.
    pub fn standard(namespace: &Namespace, family: StreamFamily) -> Self {
        let (max_age, max_message_bytes) = match family {
            // Snapshots are large and each one replaces the previous one, so a week is
            // enough to replay after an engine outage over a long weekend.
            StreamFamily::Source => (7 * DAY, MAX_MESSAGE_BYTES),
            // HR events start deprovisioning deadlines, so they stay a month, longer than
            // any leaver SLA.
            StreamFamily::Hr | StreamFamily::Finding => (30 * DAY, MAX_MESSAGE_BYTES),
            // An operator needs time to look at a dead letter and publish it again.
            StreamFamily::DeadLetter => (30 * DAY, MAX_DEAD_LETTER_BYTES),
        };
        Self {
            family,
            name: namespace.stream_name(family),
            subjects: namespace.stream_subjects(family),
            max_age,
            duplicate_window: DUPLICATE_WINDOW,
            max_message_bytes,
            replicas: 1,
        }
    }

    /// Returns the JetStream configuration of the stream.
    ///
    /// Storage is on file, so that an acknowledged publish survives a server restart.
    /// Retention is by limits, with no message or byte limit, so messages leave only by
    /// age. When storage runs out, publishing fails instead of dropping unread messages.
    pub fn config(&self) -> Config {
        Config {
            name: self.name.clone(),
            description: Some(format!("Rollcall {} messages", self.family.token())),
            subjects: vec![self.subjects.clone()],
            retention: RetentionPolicy::Limits,
            storage: StorageType::File,
            discard: DiscardPolicy::Old,
            max_age: self.max_age,
            duplicate_window: self.duplicate_window,
            max_message_size: self.max_message_bytes,
            num_replicas: self.replicas,
            // The values the server stores for "no limit", so that a definition read back
            // from the server compares equal.
            max_messages: -1,
            max_bytes: -1,
            max_messages_per_subject: -1,
            max_consumers: -1,
            ..Config::default()
        }
    }

    /// Returns `true` when `existing`, read from the server, already has every setting
    /// that this definition controls.
    fn matches(&self, existing: &Config) -> bool {
        let wanted = self.config();
        existing.subjects == wanted.subjects
            && existing.retention == wanted.retention
            && existing.storage == wanted.storage
            && existing.discard == wanted.discard
            && existing.max_age == wanted.max_age
            && existing.duplicate_window == wanted.duplicate_window
            && existing.max_message_size == wanted.max_message_size
            && existing.num_replicas == wanted.num_replicas
            && existing.max_messages == wanted.max_messages
            && existing.max_bytes == wanted.max_bytes
            && existing.max_messages_per_subject == wanted.max_messages_per_subject
    }
}

/// The change that [`Topology::ensure`] made to one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamChange {
    /// The stream did not exist and was created.
    Created(String),
    /// The stream existed with other settings and was updated.
    Updated(String),
    /// The stream already matched its definition.
    Unchanged(String),
}

/// The bus's streams: one definition per [`StreamFamily`].
#[derive(Debug, Clone)]
pub struct Topology {
    namespace: Namespace,
    streams: Vec<StreamSpec>,
}

impl Topology {
    /// Creates the standard definitions for `namespace`, with one replica per stream.
    pub fn new(namespace: Namespace) -> Self {
        let streams = StreamFamily::ALL
            .iter()
            .map(|family| StreamSpec::standard(&namespace, *family))
            .collect();
        Self { namespace, streams }
    }

    /// Sets the number of replicas of every stream, for a clustered JetStream.
    pub fn with_replicas(mut self, replicas: usize) -> Self {
        for stream in &mut self.streams {
            stream.replicas = replicas;
        }
        self
    }

    /// Returns the namespace of the streams' names and subjects.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// Returns the stream definitions, in creation order.
    pub fn streams(&self) -> &[StreamSpec] {
        &self.streams
    }

    /// Returns the definition of the stream of `family`.
    pub fn stream(&self, family: StreamFamily) -> Option<&StreamSpec> {
        self.streams.iter().find(|spec| spec.family == family)
    }

    /// Creates every stream that does not exist and updates every stream whose settings
    /// differ from its definition. Running it again changes nothing, so every service
    /// calls it at start.
    ///
    /// # Errors
    ///
    /// The first [`TopologyError`]; the streams before it are already in place.
    pub async fn ensure(
        &self,
        jetstream: &jetstream::Context,
    ) -> Result<Vec<StreamChange>, TopologyError> {
        let mut changes = Vec::with_capacity(self.streams.len());
        for spec in &self.streams {
            changes.push(ensure_stream(jetstream, spec).await?);
        }
        Ok(changes)
    }
}

async fn ensure_stream(
    jetstream: &jetstream::Context,
    spec: &StreamSpec,
) -> Result<StreamChange, TopologyError> {
    let existing = match jetstream.get_stream(&spec.name).await {
        Ok(stream) => Some(stream.cached_info().config.clone()),
        Err(error) => match error.kind() {
            GetStreamErrorKind::JetStream(inner)
                if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
            {
                None
            }
            _ => return Err(TopologyError::Read { stream: spec.name.clone(), source: error }),
        },
    };
    match existing {
        None => {
            jetstream.create_stream(spec.config()).await.map_err(|source| {
                TopologyError::Create {
                    stream: spec.name.clone(),
                    subjects: spec.subjects.clone(),
                    source,
                }
            })?;
            tracing::info!(stream = %spec.name, subjects = %spec.subjects, "stream created");
            Ok(StreamChange::Created(spec.name.clone()))
        }
        Some(config) if spec.matches(&config) => Ok(StreamChange::Unchanged(spec.name.clone())),
        Some(_) => {
            jetstream
                .update_stream(spec.config())
                .await
                .map_err(|source| TopologyError::Update { stream: spec.name.clone(), source })?;
            tracing::info!(stream = %spec.name, "stream updated to its definition");
            Ok(StreamChange::Updated(spec.name.clone()))
        }
    }
}

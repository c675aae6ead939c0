//! The handler contract of the consumer runner.

use std::future::Future;
use std::time::Duration;

use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::subject::MessageKind;

/// One delivery of a message to a handler.
///
/// JetStream delivers at least once: the same stream sequence can arrive again after an
/// ack was lost, after `ack_wait` ran out, or on another replica. A handler that applies
/// state therefore keeps its own cursor per tenant and source: the last applied stream
/// sequence or snapshot time, updated in the same database transaction as the change.
/// It skips a delivery that is not newer and returns [`Outcome::Ack`] for it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The subject the message was published on.
    pub subject: String,
    /// The tenant token of the subject, when the subject belongs to the runner's
    /// namespace.
    pub tenant: Option<String>,
    /// The kind of message the consumer reads.
    pub kind: MessageKind,
    /// The encoded protobuf message.
    pub payload: Bytes,
    /// The message headers, with its `Nats-Msg-Id`.
    pub headers: Option<HeaderMap>,
    /// The stream that stored the message.
    pub stream: String,
    /// The durable consumer that delivered it.
    pub consumer: String,
    /// The message's position in the stream. It does not change between deliveries.
    pub stream_sequence: u64,
    /// The delivery's position in the consumer; each redelivery gets a new one.
    pub consumer_sequence: u64,
    /// Delivery attempt, starting at 1. Above 1 the message was delivered before, and a
    /// handler may already have applied it.
    pub delivered: u64,
    /// Messages the consumer still has to deliver after this one.
    pub pending: u64,
    /// When the stream stored the message.
    pub published: DateTime<Utc>,
}

impl Delivery {
    /// Returns `true` when the message was delivered before.
    pub fn is_redelivery(&self) -> bool {
        self.delivered > 1
    }

    /// Returns the `Nats-Msg-Id` the message was published with, if any.
    pub fn message_id(&self) -> Option<&str> {
        let headers = self.headers.as_ref()?;
        headers.get(async_nats::header::NATS_MESSAGE_ID).map(|value| value.as_str())
    }

    /// Decodes the payload as the protobuf message `M`.
    ///
    /// # Errors
    ///
    /// The protobuf decoding error; a handler usually returns [`Outcome::Term`] for it,
    /// because a redelivery will not decode either.
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, prost::DecodeError> {
        M::decode(self.payload.clone())
    }
}

/// A handler's decision about a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The message is handled and its effects are committed. The runner acks it and
    /// waits for the server to confirm the ack.
    Ack,
    /// The message could not be handled now, for a reason that may pass (a database
    /// timeout). The server delivers it again after `delay`. On the consumer's last
    /// delivery attempt the runner moves it to the dead-letter stream instead.
    Nak {
        /// Time before the next delivery. Zero delivers again at once, which burns every
        /// attempt within milliseconds when the cause persists; see [`retry_delay`].
        delay: Duration,
        /// Why, for the log and the dead letter.
        reason: String,
    },
    /// The message can never be handled (it does not decode, or it breaks an invariant).
    /// The runner moves it to the dead-letter stream and terminates it.
    Term {
        /// Why, for the log and the dead letter.
        reason: String,
    },
    /// The handler took the message, but its effect is committed only with later
    /// messages of `group` (the other chunks of a snapshot). The runner keeps it
    /// unsettled in the runner's [`HeldMessages`](crate::HeldMessages), alive with
    /// progress acks, until the handler acks or naks the group there. A runner without
    /// held messages naks it with the ack wait as delay.
    Hold {
        /// The group the message belongs to.
        group: String,
    },
}

impl Outcome {
    /// Returns [`Outcome::Nak`] with `delay` and `reason`.
    pub fn nak(delay: Duration, reason: impl Into<String>) -> Self {
        Outcome::Nak { delay, reason: reason.into() }
    }

    /// Returns [`Outcome::Term`] with `reason`.
    pub fn term(reason: impl Into<String>) -> Self {
        Outcome::Term { reason: reason.into() }
    }
}

/// Returns a growing delay for the next attempt after `delivered` attempts: 30 s, 2 min,
/// 10 min, then 30 min for every later attempt.
pub fn retry_delay(delivered: u64) -> Duration {
    let seconds = match delivered {
        0 | 1 => 30,
        2 => 120,
        3 => 600,
        _ => 1800,
    };
    Duration::from_secs(seconds)
}

/// The work a consumer runner does for each delivery.
///
/// The runner calls `handle` for one delivery at a time and acks only after it returns
/// [`Outcome::Ack`], so a handler commits its PostgreSQL transaction before it returns.
/// When the service stops, the runner gives the handler a grace period and then drops
/// its future. Dropping must leave nothing committed, which holds for a transaction that
/// is rolled back when dropped, as sqlx and tokio-postgres transactions are.
pub trait Handler: Send + Sync {
    /// Handles one delivery.
    fn handle(&self, delivery: &Delivery) -> impl Future<Output = Outcome> + Send;
}

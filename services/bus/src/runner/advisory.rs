//! Dead letters for messages whose last delivery ended without a handler result.
//!
//! After `max_deliver` deliveries without an ack, the server stops delivering a message
//! and publishes an advisory on
//! `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>`. The runner never lets
//! this happen to a message whose handler returned, so the advisory means that the last
//! attempt was lost: the process died, or the dead-letter publish failed. Without this
//! watcher the message would vanish with no trace but the advisory.
//!
//! Advisories are plain NATS messages that reach only the subscribers of that moment.
//! Every runner subscribes, and the dead letter's message id makes the copies that
//! several replicas publish one stored message.

use async_nats::Subscriber;
use async_nats::jetstream;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::dead_letter::{Original, store};
use super::process::DeadLetterCause;
use crate::metrics::BusMetrics;
use crate::publish::Publisher;
use crate::subject::{MessageKind, Namespace};

/// Returns the advisory subject for `consumer` on `stream`.
pub(super) fn max_deliveries_subject(stream: &str, consumer: &str) -> String {
    format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}")
}

/// The fields of `io.nats.jetstream.advisory.v1.max_deliver` that are used here.
#[derive(Debug, Deserialize)]
struct MaxDeliveries {
    stream: String,
    consumer: String,
    stream_seq: u64,
    deliveries: u64,
}

/// Clients and settings the watcher takes from its runner.
pub(super) struct Watcher {
    pub jetstream: jetstream::Context,
    pub namespace: Namespace,
    pub kind: MessageKind,
    pub publisher: Publisher,
    pub metrics: BusMetrics,
}

/// Turns each advisory on `subscription` into a dead letter until `stop` is cancelled.
pub(super) async fn watch_max_deliveries(
    watcher: Watcher,
    mut subscription: Subscriber,
    stop: CancellationToken,
) {
    loop {
        let advisory = tokio::select! {
            () = stop.cancelled() => break,
            next = subscription.next() => match next {
                Some(message) => message,
                None => break,
            },
        };
        match serde_json::from_slice::<MaxDeliveries>(&advisory.payload) {
            Ok(advisory) => watcher.dead_letter(&advisory).await,
            Err(error) => tracing::warn!(
                subject = %advisory.subject, error = %error,
                "max deliveries advisory not understood, ignored"
            ),
        }
    }
    if let Err(error) = subscription.unsubscribe().await {
        tracing::debug!(error = %error, "unsubscribing from advisories failed");
    }
}

impl Watcher {
    async fn dead_letter(&self, advisory: &MaxDeliveries) {
        let sequence = advisory.stream_seq;
        let consumer = advisory.consumer.as_str();
        let stored = match self.jetstream.get_stream_no_info(&advisory.stream).await {
            Ok(stream) => stream.get_raw_message(sequence).await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let message = match stored {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(
                    %consumer, stream_sequence = sequence, %error,
                    "message that reached max deliver could not be read; it has no dead letter"
                );
                return;
            }
        };
        let original = Original {
            subject: message.subject.as_str(),
            tenant: self.namespace.tenant_of(message.subject.as_str()),
            kind: self.kind,
            stream: &advisory.stream,
            consumer,
            stream_sequence: sequence,
            delivered: advisory.deliveries,
            headers: Some(&message.headers),
            payload: message.payload.clone(),
        };
        let reason = format!(
            "the consumer delivered the message {} times and no delivery was settled within the ack wait, so a handler crashed or hung, or the dead-letter publish failed",
            advisory.deliveries
        );
        let cause = DeadLetterCause::Unsettled;
        match store(&self.publisher, &self.namespace, &original, cause, &reason).await {
            Ok(subject) => {
                self.metrics
                    .dead_lettered
                    .get_or_create(&BusMetrics::consumer_labels(consumer))
                    .inc();
                tracing::warn!(
                    %consumer, stream_sequence = sequence, deliveries = advisory.deliveries,
                    dead_letter_subject = %subject,
                    "message reached max deliver unsettled and moved to the dead-letter stream"
                );
            }
            Err(error) => tracing::error!(
                %consumer, stream_sequence = sequence, error = %error,
                "dead-letter publish after max deliver failed; the message stays in its stream"
            ),
        }
    }
}

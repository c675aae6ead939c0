//! Moving a message that a consumer gave up on to the dead-letter stream.
//!
//! A dead letter is the original payload on `<prefix>.<tenant>.deadletter.<kind>` with the
//! original headers and these added ones, so an operator can read why it failed and
//! publish the payload again on the original subject:
//!
//! | Header | Value |
//! | --- | --- |
//! | `Rollcall-Dead-Letter-Reason` | the handler's reason, at most 1,000 bytes |
//! | `Rollcall-Dead-Letter-Cause` | `rejected` (the handler returned Term), `max_deliver` (it returned Nak on the last attempt) or `max_deliver_unsettled` (the last attempt ended without a result) |
//! | `Rollcall-Original-Subject` | the subject it was published on |
//! | `Rollcall-Original-Stream`, `Rollcall-Original-Sequence` | where it is stored |
//! | `Rollcall-Consumer`, `Rollcall-Delivered` | who gave up, after how many deliveries |
//!
//! Its `Nats-Msg-Id` is `<stream>:<consumer>:<sequence>`, so a retried dead-letter
//! publish, or a second replica dead-lettering the same delivery, stores it once.

use async_nats::HeaderMap;
use async_nats::jetstream::{AckKind, Message};
use bytes::Bytes;

use super::ConsumerRunner;
use super::process::DeadLetterCause;
use crate::handler::{Delivery, Handler};
use crate::metrics::{BusMetrics, Disposition};
use crate::publish::{PublishError, Publisher};
use crate::subject::{MessageKind, Namespace};

/// Header with the handler's reason.
pub const REASON_HEADER: &str = "Rollcall-Dead-Letter-Reason";
/// Header with `rejected` or `max_deliver`.
pub const CAUSE_HEADER: &str = "Rollcall-Dead-Letter-Cause";
/// Header with the original subject.
pub const ORIGINAL_SUBJECT_HEADER: &str = "Rollcall-Original-Subject";
/// Header with the original stream.
pub const ORIGINAL_STREAM_HEADER: &str = "Rollcall-Original-Stream";
/// Header with the original stream sequence.
pub const ORIGINAL_SEQUENCE_HEADER: &str = "Rollcall-Original-Sequence";
/// Header with the durable consumer name.
pub const CONSUMER_HEADER: &str = "Rollcall-Consumer";
/// Header with the delivery count when the consumer gave up.
pub const DELIVERED_HEADER: &str = "Rollcall-Delivered";

/// Maximum length of the reason kept in the header, in bytes.
const MAX_REASON_BYTES: usize = 1000;

/// Tenant token for a message whose subject has none, so that its dead letter still
/// matches the dead-letter stream. No tenant id can start with `_`.
const UNKNOWN_TENANT: &str = "_unknown";

/// The original message of a dead letter and where it was delivered.
pub(crate) struct Original<'a> {
    /// The subject it was published on.
    pub subject: &'a str,
    /// The tenant token of the subject, if it has one.
    pub tenant: Option<&'a str>,
    /// The kind the consumer reads.
    pub kind: MessageKind,
    /// The stream that stores it.
    pub stream: &'a str,
    /// The durable consumer that gave up.
    pub consumer: &'a str,
    /// Its stream sequence.
    pub stream_sequence: u64,
    /// Deliveries made.
    pub delivered: u64,
    /// Its headers.
    pub headers: Option<&'a HeaderMap>,
    /// Its payload.
    pub payload: Bytes,
}

/// Publishes the dead letter of `original` and returns its subject.
pub(crate) async fn store(
    publisher: &Publisher,
    namespace: &Namespace,
    original: &Original<'_>,
    cause: DeadLetterCause,
    reason: &str,
) -> Result<String, PublishError> {
    let tenant = original.tenant.unwrap_or(UNKNOWN_TENANT);
    let subject = format!("{}.{tenant}.deadletter.{}", namespace.subject_prefix(), original.kind);
    let message_id =
        format!("{}:{}:{}", original.stream, original.consumer, original.stream_sequence);
    let headers = dead_letter_headers(original, cause, reason, &message_id);
    publisher
        .send("deadletter", subject.clone(), message_id, headers, original.payload.clone())
        .await?;
    Ok(subject)
}

impl<H: Handler> ConsumerRunner<H> {
    /// Publishes the dead letter and, once it is stored, terminates the original message.
    ///
    /// When the dead-letter publish fails, a rejected message is nakked with the ack
    /// wait as delay, so that a later delivery tries again. A message on its last
    /// attempt is left unacked: the server stops delivering it and sends its
    /// `MAX_DELIVERIES` advisory, which
    /// [`super::advisory::watch_max_deliveries`] turns into a dead letter.
    pub(super) async fn dead_letter(
        &self,
        message: &Message,
        delivery: &Delivery,
        cause: DeadLetterCause,
        reason: &str,
    ) {
        let consumer = delivery.consumer.as_str();
        let original = Original {
            subject: &delivery.subject,
            tenant: delivery.tenant.as_deref(),
            kind: delivery.kind,
            stream: &delivery.stream,
            consumer,
            stream_sequence: delivery.stream_sequence,
            delivered: delivery.delivered,
            headers: delivery.headers.as_ref(),
            payload: delivery.payload.clone(),
        };
        match store(&self.dead_letters, &self.namespace, &original, cause, reason).await {
            Ok(subject) => {
                if let Err(error) = message.double_ack_with(AckKind::Term).await {
                    tracing::warn!(
                        %consumer, stream_sequence = delivery.stream_sequence, error = %error,
                        "terminate after dead letter not confirmed"
                    );
                }
                self.metrics
                    .dead_lettered
                    .get_or_create(&BusMetrics::consumer_labels(consumer))
                    .inc();
                self.metrics.count_consumed(consumer, Disposition::DeadLetter);
                tracing::warn!(
                    %consumer, stream_sequence = delivery.stream_sequence,
                    delivered = delivery.delivered, cause = cause.as_str(), %reason,
                    dead_letter_subject = %subject, "message moved to the dead-letter stream"
                );
            }
            Err(error) => {
                tracing::error!(
                    %consumer, stream_sequence = delivery.stream_sequence, error = %error,
                    "dead-letter publish failed"
                );
                if cause == DeadLetterCause::Rejected {
                    self.nak(message, delivery, self.spec.ack_wait).await;
                }
                self.metrics.count_consumed(consumer, Disposition::DeadLetterFailed);
            }
        }
    }
}

fn dead_letter_headers(
    original: &Original<'_>,
    cause: DeadLetterCause,
    reason: &str,
    message_id: &str,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(own) = original.headers {
        for (name, values) in own.iter() {
            let name: &str = name.as_ref();
            // The original id and any publish expectations belong to the original stream.
            if name.starts_with("Nats-") {
                continue;
            }
            for value in values {
                headers.append(name, value.as_str());
            }
        }
    }
    headers.insert(async_nats::header::NATS_MESSAGE_ID, message_id);
    headers.insert(REASON_HEADER, header_safe(reason).as_str());
    headers.insert(CAUSE_HEADER, cause.as_str());
    headers.insert(ORIGINAL_SUBJECT_HEADER, original.subject);
    headers.insert(ORIGINAL_STREAM_HEADER, original.stream);
    headers.insert(ORIGINAL_SEQUENCE_HEADER, original.stream_sequence.to_string().as_str());
    headers.insert(CONSUMER_HEADER, original.consumer);
    headers.insert(DELIVERED_HEADER, original.delivered.to_string().as_str());
    headers
}

/// Returns `reason` with control characters replaced by spaces, because a line break
/// would end the header, and cut to [`MAX_REASON_BYTES`] on a character boundary.
fn header_safe(reason: &str) -> String {
    let mut safe = String::with_capacity(reason.len().min(MAX_REASON_BYTES));
    for c in reason.chars() {
        if safe.len() + c.len_utf8() > MAX_REASON_BYTES {
            break;
        }
        safe.push(if c.is_control() { ' ' } else { c });
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_safe_replaces_line_breaks() {
        assert_eq!(header_safe("a\r\nInjected: yes"), "a  Injected: yes");
    }

    #[test]
    fn header_safe_cuts_on_char_boundary() {
        let reason = "é".repeat(600);
        let safe = header_safe(&reason);
        assert_eq!(safe.len(), 1000);
        assert!(safe.chars().all(|c| c == 'é'));
    }
}

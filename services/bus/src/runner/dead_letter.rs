//! Moving a message that a consumer gave up on to the dead-letter stream.
//!
//! A dead letter is the original payload on `<prefix>.<tenant>.deadletter.<kind>` with the
//! original headers and these added ones, so an operator can read why it failed and
//! publish the payload again on the original subject:
//!
//! | Header | Value |
//! | --- | --- |
//! | `Rollcall-Dead-Letter-Reason` | the handler's reason, at most 1,000 bytes |
//! | `Rollcall-Dead-Letter-Cause` | `rejected` (handler returned Term) or `max_deliver` |
//! | `Rollcall-Original-Subject` | the subject it was published on |
//! | `Rollcall-Original-Stream`, `Rollcall-Original-Sequence` | where it is stored |
//! | `Rollcall-Consumer`, `Rollcall-Delivered` | who gave up, after how many deliveries |
//!
//! Its `Nats-Msg-Id` is `<stream>:<consumer>:<sequence>`, so a retried dead-letter
//! publish, or a second replica dead-lettering the same delivery, stores it once.

use async_nats::HeaderMap;
use async_nats::jetstream::{AckKind, Message};

use super::ConsumerRunner;
use super::process::DeadLetterCause;
use crate::handler::{Delivery, Handler};
use crate::metrics::{BusMetrics, Disposition};

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

/// Longest reason kept in the header, in bytes.
const MAX_REASON_BYTES: usize = 1000;

/// Tenant token for a message whose subject has none, so that its dead letter still
/// matches the dead-letter stream; no tenant id can start with `_`.
const UNKNOWN_TENANT: &str = "_unknown";

impl<H: Handler> ConsumerRunner<H> {
    /// Publishes the dead letter and, once it is stored, terminates the original message.
    ///
    /// When the dead-letter publish fails, a rejected message is nakked with the ack
    /// wait as delay, so that a later delivery tries again. A message on its last
    /// attempt is left unacked: the server stops delivering it and sends its
    /// `MAX_DELIVERIES` advisory, and the error log names its stream sequence.
    pub(super) async fn dead_letter(
        &self,
        message: &Message,
        delivery: &Delivery,
        cause: DeadLetterCause,
        reason: &str,
    ) {
        let consumer = delivery.consumer.as_str();
        let tenant = delivery.tenant.as_deref().unwrap_or(UNKNOWN_TENANT);
        let subject =
            format!("{}.{tenant}.deadletter.{}", self.namespace.subject_prefix(), delivery.kind);
        let message_id = format!("{}:{consumer}:{}", delivery.stream, delivery.stream_sequence);
        let headers = dead_letter_headers(delivery, cause, reason, &message_id);
        let stored = self
            .dead_letters
            .send("deadletter", subject.clone(), message_id, headers, delivery.payload.clone())
            .await;
        match stored {
            Ok(_) => {
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
    delivery: &Delivery,
    cause: DeadLetterCause,
    reason: &str,
    message_id: &str,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(original) = &delivery.headers {
        for (name, values) in original.iter() {
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
    headers.insert(ORIGINAL_SUBJECT_HEADER, delivery.subject.as_str());
    headers.insert(ORIGINAL_STREAM_HEADER, delivery.stream.as_str());
    headers.insert(ORIGINAL_SEQUENCE_HEADER, delivery.stream_sequence.to_string().as_str());
    headers.insert(CONSUMER_HEADER, delivery.consumer.as_str());
    headers.insert(DELIVERED_HEADER, delivery.delivered.to_string().as_str());
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

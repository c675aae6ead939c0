//! Running the handler on one delivery and settling the message with the server.

use std::pin::pin;
use std::time::{Duration, Instant};

use async_nats::jetstream::{AckKind, Message};
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{ConsumerRunner, RunReport};
use crate::handler::{Delivery, Handler, Outcome};
use crate::metrics::{BusMetrics, Disposition};

/// Cause of a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeadLetterCause {
    /// The handler returned `Term`.
    Rejected,
    /// The handler returned `Nak` on the last delivery attempt.
    MaxDeliver,
    /// The last delivery attempt ended without a result from the handler, and the server
    /// sent its `MAX_DELIVERIES` advisory.
    Unsettled,
}

impl DeadLetterCause {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeadLetterCause::Rejected => "rejected",
            DeadLetterCause::MaxDeliver => "max_deliver",
            DeadLetterCause::Unsettled => "max_deliver_unsettled",
        }
    }
}

impl<H: Handler> ConsumerRunner<H> {
    /// Runs the handler on `message` and settles it: a confirmed ack, a nak with the
    /// handler's delay, or a dead letter followed by a terminate.
    pub(super) async fn process(
        &self,
        message: Message,
        stop: &CancellationToken,
        report: &mut RunReport,
    ) {
        let consumer = self.spec.durable_name.as_str();
        let Some(delivery) = self.delivery_of(&message) else {
            // Only a message without a JetStream reply subject lacks the info, and the
            // server cannot redeliver such a message, so there is nothing to settle.
            tracing::warn!(%consumer, subject = %message.subject, "message without JetStream metadata skipped");
            return;
        };
        let labels = BusMetrics::consumer_labels(consumer);
        if delivery.is_redelivery() {
            self.metrics.redelivered.get_or_create(&labels).inc();
            tracing::info!(
                %consumer, stream_sequence = delivery.stream_sequence,
                delivered = delivery.delivered, "message delivered again"
            );
        }

        let gauge = self.metrics.in_flight.get_or_create(&labels).clone();
        gauge.inc();
        let started = Instant::now();
        let outcome = self.run_handler(&message, &delivery, stop).await;
        gauge.dec();

        let Some(outcome) = outcome else {
            tracing::warn!(
                %consumer, stream_sequence = delivery.stream_sequence,
                "handler did not finish within the stop grace period, message nakked"
            );
            self.release(&message, report).await;
            return;
        };
        self.metrics
            .handler_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        report.handled += 1;
        self.settle(&message, &delivery, outcome).await;
    }

    /// Runs the handler while sending a progress ack every third of `ack_wait`. Returns
    /// `None` when the stop grace period ran out first; the handler's future is dropped
    /// then, before anything is acked.
    async fn run_handler(
        &self,
        message: &Message,
        delivery: &Delivery,
        stop: &CancellationToken,
    ) -> Option<Outcome> {
        let period = self.spec.ack_wait / 3;
        let mut progress = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        progress.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut handler = pin!(self.handler.handle(delivery));
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            let grace_over = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                outcome = &mut handler => return Some(outcome),
                _ = progress.tick() => {
                    if let Err(error) = message.ack_with(AckKind::Progress).await {
                        tracing::warn!(
                            consumer = %delivery.consumer, stream_sequence = delivery.stream_sequence,
                            error = %error, "progress ack failed"
                        );
                    }
                }
                () = stop.cancelled(), if deadline.is_none() => {
                    deadline = Some(tokio::time::Instant::now() + self.config.stop_grace);
                }
                () = grace_over => return None,
            }
        }
    }

    async fn settle(&self, message: &Message, delivery: &Delivery, outcome: Outcome) {
        let consumer = delivery.consumer.as_str();
        let sequence = delivery.stream_sequence;
        match outcome {
            Outcome::Ack => {
                if let Err(error) = message.double_ack().await {
                    // The handler committed, so a redelivery must be skipped by its own
                    // duplicate check; nothing here can undo the commit.
                    self.metrics
                        .ack_unconfirmed
                        .get_or_create(&BusMetrics::consumer_labels(consumer))
                        .inc();
                    tracing::warn!(
                        %consumer, stream_sequence = sequence, error = %error,
                        "ack_unconfirmed: the server did not confirm the ack"
                    );
                }
                self.metrics.count_consumed(consumer, Disposition::Ack);
            }
            Outcome::Nak { delay, reason } => {
                if delivery.delivered >= self.max_deliver() {
                    self.dead_letter(message, delivery, DeadLetterCause::MaxDeliver, &reason).await;
                } else {
                    tracing::info!(
                        %consumer, stream_sequence = sequence, delivered = delivery.delivered,
                        delay_ms = delay.as_millis(), %reason, "handler asked for a retry"
                    );
                    self.nak(message, delivery, delay).await;
                    self.metrics.count_consumed(consumer, Disposition::Nak);
                }
            }
            Outcome::Term { reason } => {
                self.dead_letter(message, delivery, DeadLetterCause::Rejected, &reason).await;
            }
            Outcome::Hold { group } => match &self.held {
                Some(held) => {
                    held.hold(group, message.clone());
                    self.metrics.count_consumed(consumer, Disposition::Held);
                }
                None => {
                    tracing::warn!(
                        %consumer, stream_sequence = sequence, %group,
                        "handler held a message but the runner has no held messages; nakked"
                    );
                    self.nak(message, delivery, self.spec.ack_wait).await;
                    self.metrics.count_consumed(consumer, Disposition::Nak);
                }
            },
        }
    }

    pub(super) async fn nak(&self, message: &Message, delivery: &Delivery, delay: Duration) {
        let kind = if delay.is_zero() { AckKind::Nak(None) } else { AckKind::Nak(Some(delay)) };
        if let Err(error) = message.ack_with(kind).await {
            tracing::warn!(
                consumer = %delivery.consumer, stream_sequence = delivery.stream_sequence,
                error = %error, "nak failed; the server delivers again after the ack wait"
            );
        }
    }

    fn max_deliver(&self) -> u64 {
        u64::try_from(self.spec.max_deliver).unwrap_or(1)
    }

    fn delivery_of(&self, message: &Message) -> Option<Delivery> {
        let info = message.info().ok()?;
        let published: DateTime<Utc> = info.published;
        Some(Delivery {
            subject: message.subject.to_string(),
            tenant: self.namespace.tenant_of(&message.subject).map(str::to_owned),
            kind: self.spec.kind,
            payload: message.payload.clone(),
            headers: message.headers.clone(),
            stream: info.stream.to_owned(),
            consumer: info.consumer.to_owned(),
            stream_sequence: info.stream_sequence,
            consumer_sequence: info.consumer_sequence,
            delivered: u64::try_from(info.delivered).unwrap_or(0),
            pending: info.pending,
            published,
        })
    }
}

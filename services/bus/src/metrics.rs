//! Counters, gauges and a histogram of the bus, for a service's `/metrics`.

use std::fmt::Write;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of the publishing metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// The message kind: `snapshot`, `delta`, `sync`, `hr`, `finding` or `deadletter`.
    pub kind: String,
}

/// Labels of the per-consumer metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLabels {
    /// The durable consumer name.
    pub consumer: String,
}

/// How the runner settled a delivered message.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Disposition {
    /// The handler returned `Ack` and the runner acked.
    Ack,
    /// The handler returned `Nak` and the message will be delivered again.
    Nak,
    /// The message went to the dead-letter stream and was terminated.
    DeadLetter,
    /// The dead-letter publish failed, so the message was left to the server.
    DeadLetterFailed,
    /// The runner stopped before the handler returned, and nakked the message.
    Interrupted,
    /// The handler returned `Hold`: the message waits unsettled for its group.
    Held,
}

impl Disposition {
    /// Returns the label value: `ack`, `nak`, `dead_letter`, `dead_letter_failed`,
    /// `interrupted` or `held`.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Ack => "ack",
            Disposition::Nak => "nak",
            Disposition::DeadLetter => "dead_letter",
            Disposition::DeadLetterFailed => "dead_letter_failed",
            Disposition::Interrupted => "interrupted",
            Disposition::Held => "held",
        }
    }
}

impl EncodeLabelValue for Disposition {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// Labels of the consumed-messages counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumedLabels {
    /// The durable consumer name.
    pub consumer: String,
    /// How the runner settled the message.
    pub disposition: Disposition,
}

type HistogramFamily = Family<ConsumerLabels, Histogram, fn() -> Histogram>;

/// Handler durations from 10 ms to about 5.5 minutes, doubling.
fn handler_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 16))
}

/// The bus metrics of one service. Clones share the same values.
///
/// Create one, give clones to the publisher and to each runner, and call
/// [`BusMetrics::register`] once with the service's registry.
#[derive(Debug, Clone)]
pub struct BusMetrics {
    /// Messages stored by JetStream after a publish, duplicates excluded.
    pub published: Family<KindLabels, Counter>,
    /// Publishes that JetStream reported as duplicates of a stored `Nats-Msg-Id`.
    pub duplicates: Family<KindLabels, Counter>,
    /// Messages delivered to a handler, by what the runner did with them.
    pub consumed: Family<ConsumedLabels, Counter>,
    /// Deliveries whose delivery count was above 1.
    pub redelivered: Family<ConsumerLabels, Counter>,
    /// Messages moved to the dead-letter stream.
    pub dead_lettered: Family<ConsumerLabels, Counter>,
    /// Final acks the server did not confirm; the handler's own duplicate check must then
    /// cover a redelivery.
    pub ack_unconfirmed: Family<ConsumerLabels, Counter>,
    /// Handlers running now.
    pub in_flight: Family<ConsumerLabels, Gauge>,
    /// Time from a delivery to its handler's result, in seconds.
    pub handler_seconds: HistogramFamily,
}

impl Default for BusMetrics {
    fn default() -> Self {
        Self {
            published: Family::default(),
            duplicates: Family::default(),
            consumed: Family::default(),
            redelivered: Family::default(),
            dead_lettered: Family::default(),
            ack_unconfirmed: Family::default(),
            in_flight: Family::default(),
            handler_seconds: Family::new_with_constructor(handler_histogram),
        }
    }
}

impl BusMetrics {
    /// Creates metrics with every value at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers every metric in `registry` under names starting with `bus_`, such as
    /// `bus_published_total`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "bus_published",
            "Messages stored by JetStream after a publish, duplicates excluded",
            self.published.clone(),
        );
        registry.register(
            "bus_duplicates",
            "Publishes dropped by JetStream as duplicates of a stored message id",
            self.duplicates.clone(),
        );
        registry.register(
            "bus_consumed",
            "Messages delivered to a handler, by what the runner did with them",
            self.consumed.clone(),
        );
        registry.register(
            "bus_redelivered",
            "Deliveries of a message that had been delivered before",
            self.redelivered.clone(),
        );
        registry.register(
            "bus_dead_lettered",
            "Messages moved to the dead-letter stream",
            self.dead_lettered.clone(),
        );
        registry.register(
            "bus_ack_unconfirmed",
            "Final acks that the server did not confirm",
            self.ack_unconfirmed.clone(),
        );
        registry.register("bus_in_flight", "Handlers running now", self.in_flight.clone());
        registry.register(
            "bus_handler_duration_seconds",
            "Time from a delivery to its handler's result",
            self.handler_seconds.clone(),
        );
    }

    pub(crate) fn consumer_labels(consumer: &str) -> ConsumerLabels {
        ConsumerLabels { consumer: consumer.to_owned() }
    }

    pub(crate) fn count_consumed(&self, consumer: &str, disposition: Disposition) {
        self.consumed
            .get_or_create(&ConsumedLabels { consumer: consumer.to_owned(), disposition })
            .inc();
    }
}

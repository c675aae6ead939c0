//! The service's metrics, under the prefix `rollcall_hr_webhook`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of `requests_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `webhook` or `scim`.
    pub endpoint: String,
    /// The HTTP status code.
    pub status: u16,
}

/// Labels of `events_committed_total` and `publish_failures_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SenderLabels {
    /// `webhook` or `scim`.
    pub sender: String,
}

/// Labels of `signature_rejections_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// One of `signature::Rejection::REASONS`.
    pub reason: String,
}

/// The counters. Clones share them.
#[derive(Debug, Clone, Default)]
pub struct HrWebhookMetrics {
    /// Responses sent, by endpoint and status.
    pub requests: Family<RequestLabels, Counter>,
    /// HR events committed to PostgreSQL for the first time (replays not counted).
    pub events_committed: Family<SenderLabels, Counter>,
    /// Committed events whose NATS publish failed or timed out; the engine's reconcile
    /// reads them from the store.
    pub publish_failures: Family<SenderLabels, Counter>,
    /// Webhook requests rejected for their signature, by reason.
    pub signature_rejections: Family<ReasonLabels, Counter>,
}

impl HrWebhookMetrics {
    /// Creates the counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the counters in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "requests",
            "Responses sent, by endpoint and status",
            self.requests.clone(),
        );
        registry.register(
            "events_committed",
            "HR events committed to PostgreSQL for the first time, by sender",
            self.events_committed.clone(),
        );
        registry.register(
            "publish_failures",
            "Committed HR events whose NATS publish failed, by sender",
            self.publish_failures.clone(),
        );
        registry.register(
            "signature_rejections",
            "Webhook requests rejected for their signature, by reason",
            self.signature_rejections.clone(),
        );
    }

    /// Counts a response.
    pub fn request(&self, endpoint: &str, status: u16) {
        self.requests.get_or_create(&RequestLabels { endpoint: endpoint.to_owned(), status }).inc();
    }
}

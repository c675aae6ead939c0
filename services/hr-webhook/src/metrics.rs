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

/// Labels of `vendor_reads_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorReadLabels {
    /// The vendor, such as `hibob`.
    pub vendor: String,
    /// `ok`, `not_found`, `rate_limited`, `unauthorized` or `failed`.
    pub outcome: String,
}

/// Labels of `vendor_throttled_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorLabels {
    /// The vendor, such as `hibob`.
    pub vendor: String,
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
    /// Worker reads from vendor APIs, by vendor and outcome.
    pub vendor_reads: Family<VendorReadLabels, Counter>,
    /// 429 responses from vendor APIs, by vendor, including those the client waited out
    /// within a call.
    pub vendor_throttled: Family<VendorLabels, Counter>,
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
        registry.register(
            "vendor_reads",
            "Worker reads from HR vendor APIs, by vendor and outcome",
            self.vendor_reads.clone(),
        );
        registry.register(
            "vendor_throttled",
            "429 responses from HR vendor APIs, by vendor, including those waited out within a call",
            self.vendor_throttled.clone(),
        );
    }

    /// Returns the counter of `vendor`'s 429 responses. Clones share it, so the vendor's
    /// client can keep one.
    pub fn vendor_throttled(&self, vendor: &str) -> Counter {
        self.vendor_throttled.get_or_create(&VendorLabels { vendor: vendor.to_owned() }).clone()
    }

    /// Counts a worker read from a vendor's API.
    pub fn vendor_read(&self, vendor: &str, outcome: &str) {
        let labels = VendorReadLabels { vendor: vendor.to_owned(), outcome: outcome.to_owned() };
        self.vendor_reads.get_or_create(&labels).inc();
    }

    /// Counts a response.
    pub fn request(&self, endpoint: &str, status: u16) {
        self.requests.get_or_create(&RequestLabels { endpoint: endpoint.to_owned(), status }).inc();
    }
}

//! The connector's metrics, for the ops server's `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::Stage;

/// Labels of every per-directory metric.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DirectoryLabels {
    /// Tenant id.
    pub tenant: String,
    /// Source id (`ldap`, `ldap:<instance>`).
    pub source: String,
}

/// Labels of the error counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// Tenant id.
    pub tenant: String,
    /// Source id.
    pub source: String,
    /// `tls`, `connect`, `bind`, `search`, `referral` or `publish`.
    pub stage: String,
}

type HistogramFamily = Family<DirectoryLabels, Histogram, fn() -> Histogram>;

/// Sync durations from 0.1 s to about 55 minutes, doubling.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 2.0, 16))
}

/// The connector's metrics. Clones share the same values.
#[derive(Debug, Clone)]
pub struct SyncMetrics {
    /// Directory entries read, including the extra reads of ranged attributes and of
    /// groups outside the base.
    pub entries_read: Family<DirectoryLabels, Counter>,
    /// Search pages requested.
    pub pages: Family<DirectoryLabels, Counter>,
    /// Base-scope reads for further ranges of ranged attributes such as
    /// `member;range=1500-*`.
    pub range_reads: Family<DirectoryLabels, Counter>,
    /// Sync attempts that published a snapshot.
    pub successes: Family<DirectoryLabels, Counter>,
    /// Failed sync attempts, by the stage that failed.
    pub errors: Family<ErrorLabels, Counter>,
    /// Unix time in seconds of the end of the last successful sync.
    pub last_success: Family<DirectoryLabels, Gauge>,
    /// Duration of each sync attempt, successful or not, in seconds.
    pub duration: HistogramFamily,
}

impl Default for SyncMetrics {
    fn default() -> Self {
        Self {
            entries_read: Family::default(),
            pages: Family::default(),
            range_reads: Family::default(),
            successes: Family::default(),
            errors: Family::default(),
            last_success: Family::default(),
            duration: Family::new_with_constructor(duration_histogram),
        }
    }
}

impl SyncMetrics {
    /// Creates metrics with every value at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts an error of `stage`.
    pub fn error(&self, labels: &DirectoryLabels, stage: Stage) {
        self.errors
            .get_or_create(&ErrorLabels {
                tenant: labels.tenant.clone(),
                source: labels.source.clone(),
                stage: stage.as_str().to_owned(),
            })
            .inc();
    }

    /// Registers every metric under names starting with `ldap_sync_`; the binary adds the
    /// `rollcall_` prefix.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "ldap_sync_entries_read",
            "Directory entries read from the server",
            self.entries_read.clone(),
        );
        registry.register("ldap_sync_pages", "Search result pages requested", self.pages.clone());
        registry.register(
            "ldap_sync_range_reads",
            "Reads for further ranges of ranged attributes",
            self.range_reads.clone(),
        );
        registry.register(
            "ldap_sync_successes",
            "Sync attempts that published a snapshot",
            self.successes.clone(),
        );
        registry.register(
            "ldap_sync_errors",
            "Failed sync attempts, by the stage that failed",
            self.errors.clone(),
        );
        registry.register(
            "ldap_sync_last_success_timestamp_seconds",
            "Unix time of the end of the last successful sync",
            self.last_success.clone(),
        );
        registry.register(
            "ldap_sync_duration_seconds",
            "Duration of each sync attempt in seconds",
            self.duration.clone(),
        );
    }
}

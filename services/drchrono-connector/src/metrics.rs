//! The connector's Prometheus metrics, per tenant, under the `rollcall_drchrono_` prefix.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::client::RequestStats;
use crate::sync::SyncResult;

/// Labels of a tenant's metrics.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct TenantLabels {
    /// Rollcall's tenant id.
    pub tenant: String,
}

/// Labels of a request count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    /// Rollcall's tenant id.
    pub tenant: String,
    /// The endpoint, such as `/api/users`, or `token`.
    pub endpoint: String,
    /// The HTTP status, or `0` for a request that got no complete response.
    pub status: String,
}

/// Labels of a sync count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// Rollcall's tenant id.
    pub tenant: String,
    /// `ok` or `failed`.
    pub outcome: String,
}

/// The metrics. Clones share the same series.
#[derive(Debug, Clone, Default)]
pub struct ConnectorMetrics {
    requests: Family<RequestLabels, Counter>,
    throttled_seconds: Family<TenantLabels, Counter<f64, AtomicU64>>,
    pages: Family<TenantLabels, Counter>,
    token_refreshes: Family<TenantLabels, Counter>,
    accounts: Family<TenantLabels, Gauge>,
    duration_seconds: Family<TenantLabels, Gauge<f64, AtomicU64>>,
    last_success: Family<TenantLabels, Gauge>,
    syncs: Family<OutcomeLabels, Counter>,
}

impl ConnectorMetrics {
    /// Creates the metrics with no series.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the metrics to `registry` under the `rollcall_drchrono_` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("rollcall_drchrono");
        registry.register(
            "requests",
            "DrChrono API and token requests by endpoint and status",
            self.requests.clone(),
        );
        registry.register(
            "throttled_seconds",
            "Time spent waiting for Retry-After or backoff",
            self.throttled_seconds.clone(),
        );
        registry.register("pages", "Response pages read", self.pages.clone());
        registry.register(
            "token_refreshes",
            "Access tokens obtained with the refresh token",
            self.token_refreshes.clone(),
        );
        registry.register("accounts", "Accounts in the last good sync", self.accounts.clone());
        registry.register(
            "sync_duration_seconds",
            "Wall time of the last good sync",
            self.duration_seconds.clone(),
        );
        registry.register(
            "last_success_timestamp_seconds",
            "Unix time the last good sync ended",
            self.last_success.clone(),
        );
        registry.register("syncs", "Syncs by outcome", self.syncs.clone());
    }

    /// Records the requests of a sync, good or failed.
    pub fn record_requests(&self, tenant: &str, stats: &RequestStats) {
        for ((endpoint, status), count) in &stats.requests {
            let labels = RequestLabels {
                tenant: tenant.into(),
                endpoint: endpoint.clone(),
                status: status.to_string(),
            };
            self.requests.get_or_create(&labels).inc_by(*count);
        }
        let labels = TenantLabels { tenant: tenant.into() };
        self.throttled_seconds.get_or_create(&labels).inc_by(stats.throttled.as_secs_f64());
        self.pages.get_or_create(&labels).inc_by(stats.pages);
        self.token_refreshes.get_or_create(&labels).inc_by(stats.token_refreshes);
    }

    /// Records a good sync that ended at `finished` (Unix seconds).
    pub fn record_success(&self, tenant: &str, result: &SyncResult, finished: i64) {
        let labels = TenantLabels { tenant: tenant.into() };
        let accounts = i64::try_from(result.snapshot.accounts.len()).unwrap_or(i64::MAX);
        self.accounts.get_or_create(&labels).set(accounts);
        self.duration_seconds.get_or_create(&labels).set(result.duration.as_secs_f64());
        self.last_success.get_or_create(&labels).set(finished);
        self.count(tenant, "ok");
    }

    /// Counts a failed sync.
    pub fn record_failure(&self, tenant: &str) {
        self.count(tenant, "failed");
    }

    fn count(&self, tenant: &str, outcome: &str) {
        let labels = OutcomeLabels { tenant: tenant.into(), outcome: outcome.into() };
        self.syncs.get_or_create(&labels).inc();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn requests_exported_with_prefix() {
        let metrics = ConnectorMetrics::new();
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let mut stats = RequestStats::default();
        stats.requests.insert(("/api/users".into(), 200), 2);
        stats.requests.insert(("/api/users".into(), 429), 1);
        stats.throttled = Duration::from_millis(250);
        stats.token_refreshes = 1;
        metrics.record_requests("harborlight", &stats);
        metrics.record_failure("harborlight");

        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        let expected = [
            r#"rollcall_drchrono_requests_total{tenant="harborlight",endpoint="/api/users",status="429"} 1"#,
            r#"rollcall_drchrono_requests_total{tenant="harborlight",endpoint="/api/users",status="200"} 2"#,
            r#"rollcall_drchrono_throttled_seconds_total{tenant="harborlight"} 0.25"#,
            r#"rollcall_drchrono_token_refreshes_total{tenant="harborlight"} 1"#,
            r#"rollcall_drchrono_syncs_total{tenant="harborlight",outcome="failed"} 1"#,
        ];
        for line in expected {
            assert!(text.contains(line), "missing {line} in {text}");
        }
    }
}

//! Readiness checks: named async probes, each with a timeout, that `/readyz` runs.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::{BoxFuture, join_all};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::Serialize;

/// The reason a readiness check failed. It is logged and never sent in the `/readyz`
/// response, so it may name hosts and errors, but it must not contain a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    reason: String,
}

impl CheckFailure {
    /// Creates a failure with a reason for the log.
    pub fn new(reason: impl Into<String>) -> CheckFailure {
        CheckFailure { reason: reason.into() }
    }

    /// Returns the reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl<E: std::error::Error> From<E> for CheckFailure {
    fn from(error: E) -> Self {
        CheckFailure::new(error.to_string())
    }
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// A dependency the service needs before it can take work: a NATS connection, a
/// database pool, a loaded policy.
///
/// Closures `Fn() -> impl Future<Output = Result<(), CheckFailure>>` implement it.
pub trait ReadinessCheck: Send + Sync + 'static {
    /// Probes the dependency once.
    fn check(&self) -> BoxFuture<'_, Result<(), CheckFailure>>;
}

impl<F, Fut> ReadinessCheck for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), CheckFailure>> + Send + 'static,
{
    fn check(&self) -> BoxFuture<'_, Result<(), CheckFailure>> {
        Box::pin(self())
    }
}

/// One check's outcome, as the `/readyz` body lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The check passed.
    Ok,
    /// The check returned a failure.
    Failed,
    /// The check did not complete within its timeout.
    TimedOut,
}

/// One check in the `/readyz` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// The check's outcome.
    pub status: CheckStatus,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CheckLabel {
    pub(crate) check: String,
}

struct Registered {
    name: String,
    timeout: Duration,
    probe: Box<dyn ReadinessCheck>,
    /// The previous outcome, so that only changes are logged and a failing check does not
    /// log on every probe.
    passing: AtomicBool,
}

/// The readiness checks of a service. Clones share the same checks.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Arc<Registered>>,
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.checks.iter().map(|check| check.name.as_str()).collect();
        f.debug_struct("Readiness").field("checks", &names).finish()
    }
}

impl Readiness {
    /// Creates an empty set; a service with no checks is ready once it serves.
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// Adds a check that fails when it takes longer than `timeout`. The name appears in
    /// the `/readyz` body, in logs and as a metric label, so keep it short and fixed.
    pub fn add(&mut self, name: impl Into<String>, timeout: Duration, check: impl ReadinessCheck) {
        self.checks.push(Arc::new(Registered {
            name: name.into(),
            timeout,
            probe: Box::new(check),
            passing: AtomicBool::new(true),
        }));
    }

    /// Runs every check at once and returns their results in the order they were added.
    /// Changes between passing and failing are logged, and every failure is counted in
    /// `failures`.
    pub(crate) async fn run(&self, failures: &Family<CheckLabel, Counter>) -> Vec<CheckResult> {
        let probes = self.checks.iter().map(|check| async move {
            let outcome = tokio::time::timeout(check.timeout, check.probe.check()).await;
            let status = match &outcome {
                Ok(Ok(())) => CheckStatus::Ok,
                Ok(Err(_)) => CheckStatus::Failed,
                Err(_) => CheckStatus::TimedOut,
            };
            let passing = status == CheckStatus::Ok;
            let was_passing = check.passing.swap(passing, Ordering::Relaxed);
            if !passing {
                failures.get_or_create(&CheckLabel { check: check.name.clone() }).inc();
            }
            match (&outcome, was_passing) {
                (Ok(Err(failure)), true) => {
                    tracing::warn!(check = %check.name, reason = %failure, "readiness check failed");
                }
                (Err(_), true) => tracing::warn!(
                    check = %check.name,
                    timeout_ms = check.timeout.as_millis() as u64,
                    "readiness check timed out"
                ),
                (Ok(Ok(())), false) => tracing::info!(check = %check.name, "readiness check passes again"),
                _ => {}
            }
            CheckResult { name: check.name.clone(), status }
        });
        join_all(probes).await
    }
}

//! The tasks of a service, run until shutdown and then given a grace period to finish.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use tokio::task::{Id, JoinError, JoinSet};

use super::Shutdown;

/// The error a worker returns.
pub type WorkerError = Box<dyn std::error::Error + Send + Sync>;

/// A worker that returned an error or panicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFailure {
    /// The worker's name.
    pub name: String,
    /// The error's message, or the panic's.
    pub reason: String,
}

/// The outcome of every worker after a shutdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// The worker that ended before shutdown was triggered and so triggered it.
    pub ended_early: Option<String>,
    /// Workers that returned `Ok`.
    pub finished: Vec<String>,
    /// Workers that returned an error or panicked.
    pub failed: Vec<WorkerFailure>,
    /// Workers still running when the grace period ended; they were aborted.
    pub unfinished: Vec<String>,
}

impl ShutdownReport {
    /// Tells whether every worker ran until shutdown and then finished without error.
    pub fn is_clean(&self) -> bool {
        self.ended_early.is_none() && self.failed.is_empty() && self.unfinished.is_empty()
    }
}

/// The long-running tasks of a service.
///
/// Each worker watches the [`Shutdown`] handle and returns once it is triggered. A worker
/// that returns before that, with or without an error, triggers the shutdown itself, so
/// that a service with a dead task stops and Kubernetes restarts it.
#[derive(Debug)]
pub struct Workers {
    shutdown: Shutdown,
    tasks: JoinSet<Result<(), WorkerError>>,
    names: HashMap<Id, String>,
}

impl Workers {
    /// Creates an empty set of workers tied to `shutdown`.
    pub fn new(shutdown: &Shutdown) -> Workers {
        Workers { shutdown: shutdown.clone(), tasks: JoinSet::new(), names: HashMap::new() }
    }

    /// Starts a worker on the tokio runtime.
    pub fn spawn<F>(&mut self, name: impl Into<String>, work: F)
    where
        F: Future<Output = Result<(), WorkerError>> + Send + 'static,
    {
        let handle = self.tasks.spawn(work);
        self.names.insert(handle.id(), name.into());
    }

    /// Waits for the shutdown, then for the workers up to `grace`, aborts those still
    /// running and returns how each one ended. Failures and unfinished workers are also
    /// logged.
    pub async fn run(mut self, grace: Duration) -> ShutdownReport {
        let mut report = ShutdownReport::default();

        while !self.shutdown.is_triggered() {
            tokio::select! {
                // A worker that stops as soon as the shutdown is triggered is often ready in
                // the same poll; checking the shutdown first keeps it from counting as early.
                biased;
                () = self.shutdown.triggered() => {}
                joined = self.tasks.join_next_with_id() => {
                    let Some(joined) = joined else {
                        // No workers: nothing to wait for but the shutdown itself.
                        self.shutdown.triggered().await;
                        break;
                    };
                    let name = self.record(joined, &mut report);
                    // A worker that returned because the shutdown began races this
                    // select's other branch; it did not end early.
                    if self.shutdown.is_triggered() {
                        break;
                    }
                    tracing::error!(worker = %name, "worker ended before shutdown; shutting down");
                    report.ended_early = Some(name);
                    self.shutdown.trigger();
                }
            }
        }

        let drained = tokio::time::timeout(grace, async {
            while let Some(joined) = self.tasks.join_next_with_id().await {
                self.record(joined, &mut report);
            }
        })
        .await;
        if drained.is_err() {
            let mut unfinished: Vec<String> = self.names.drain().map(|(_, name)| name).collect();
            unfinished.sort();
            for name in &unfinished {
                tracing::error!(worker = %name, grace_seconds = grace.as_secs_f64(), "worker did not finish within the grace period; aborting it");
            }
            self.tasks.abort_all();
            report.unfinished = unfinished;
        }
        report
    }

    /// Files one ended worker under finished or failed, and returns its name.
    fn record(
        &mut self,
        joined: Result<(Id, Result<(), WorkerError>), JoinError>,
        report: &mut ShutdownReport,
    ) -> String {
        let (id, outcome) = match joined {
            Ok((id, Ok(()))) => (id, None),
            Ok((id, Err(error))) => (id, Some(error.to_string())),
            Err(error) => (error.id(), Some(panic_reason(error))),
        };
        let name = self.names.remove(&id).unwrap_or_else(|| format!("task {id}"));
        match outcome {
            None => report.finished.push(name.clone()),
            Some(reason) => {
                tracing::error!(worker = %name, error = %reason, "worker failed");
                report.failed.push(WorkerFailure { name: name.clone(), reason });
            }
        }
        name
    }
}

fn panic_reason(error: JoinError) -> String {
    if !error.is_panic() {
        return "the task was cancelled".to_owned();
    }
    let payload = error.into_panic();
    if let Some(message) = payload.downcast_ref::<&str>() {
        format!("panicked: {message}")
    } else if let Some(message) = payload.downcast_ref::<String>() {
        format!("panicked: {message}")
    } else {
        "panicked".to_owned()
    }
}

//! Workers under shutdown: in-flight work completes, failures and overruns are reported.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rollcall_runtime::shutdown::{Shutdown, ShutdownConfig, WorkerFailure, Workers};
use tokio::sync::{mpsc, oneshot};

const GRACE: Duration = Duration::from_secs(30);

/// Runs jobs from `jobs` until shutdown. A job, once started, runs to its end even if
/// shutdown is triggered meanwhile.
async fn job_worker(
    shutdown: Shutdown,
    mut jobs: mpsc::Receiver<oneshot::Receiver<()>>,
    started: mpsc::Sender<()>,
    completed: Arc<AtomicBool>,
) -> Result<(), rollcall_runtime::shutdown::WorkerError> {
    loop {
        tokio::select! {
            () = shutdown.triggered() => return Ok(()),
            job = jobs.recv() => {
                let Some(release) = job else { return Ok(()) };
                started.send(()).await.unwrap();
                release.await.unwrap();
                completed.store(true, Ordering::SeqCst);
            }
        }
    }
}

#[tokio::test]
async fn in_flight_work_completes_after_trigger() {
    let shutdown = Shutdown::new();
    let (job_sender, jobs) = mpsc::channel(1);
    let (started_sender, mut started) = mpsc::channel(1);
    let completed = Arc::new(AtomicBool::new(false));
    let mut workers = Workers::new(&shutdown);
    workers
        .spawn("sync", job_worker(shutdown.clone(), jobs, started_sender, Arc::clone(&completed)));
    let run = tokio::spawn(workers.run(GRACE));

    let (release, job) = oneshot::channel();
    job_sender.send(job).await.unwrap();
    started.recv().await.unwrap();
    shutdown.trigger();
    assert!(!completed.load(Ordering::SeqCst));
    release.send(()).unwrap();
    let report = run.await.unwrap();

    assert!(completed.load(Ordering::SeqCst));
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.finished, vec!["sync".to_owned()]);
}

#[tokio::test]
async fn worker_past_grace_is_reported_and_aborted() {
    let shutdown = Shutdown::new();
    let (dropped_sender, dropped) = oneshot::channel();
    let mut workers = Workers::new(&shutdown);
    workers.spawn("polite", {
        let shutdown = shutdown.clone();
        async move {
            shutdown.triggered().await;
            Ok(())
        }
    });
    workers.spawn("stuck", {
        let guard = DropSignal(Some(dropped_sender));
        async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Ok(())
        }
    });

    shutdown.trigger();
    let report = workers.run(Duration::from_millis(50)).await;

    assert_eq!(report.finished, vec!["polite".to_owned()]);
    assert_eq!(report.unfinished, vec!["stuck".to_owned()]);
    assert!(!report.is_clean());
    // The aborted task's future is dropped, which only happens once it was cancelled.
    dropped.await.unwrap();
}

/// Sends on its channel when dropped.
struct DropSignal(Option<oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(sender) = self.0.take() {
            let _ = sender.send(());
        }
    }
}

#[tokio::test]
async fn worker_error_is_reported() {
    let shutdown = Shutdown::new();
    let mut workers = Workers::new(&shutdown);
    workers.spawn("publisher", {
        let shutdown = shutdown.clone();
        async move {
            shutdown.triggered().await;
            Err("flush to NATS failed".into())
        }
    });
    shutdown.trigger();
    let report = workers.run(GRACE).await;
    let expected =
        WorkerFailure { name: "publisher".to_owned(), reason: "flush to NATS failed".to_owned() };
    assert_eq!(report.failed, vec![expected]);
    assert!(report.unfinished.is_empty());
}

#[tokio::test]
async fn worker_panic_is_reported() {
    let shutdown = Shutdown::new();
    let mut workers = Workers::new(&shutdown);
    workers.spawn("parser", {
        let shutdown = shutdown.clone();
        async move {
            shutdown.triggered().await;
            panic!("unexpected record");
        }
    });
    shutdown.trigger();
    let report = workers.run(GRACE).await;
    let expected = WorkerFailure {
        name: "parser".to_owned(),
        reason: "panicked: unexpected record".to_owned(),
    };
    assert_eq!(report.failed, vec![expected]);
}

#[tokio::test]
async fn early_exit_triggers_shutdown() {
    let shutdown = Shutdown::new();
    let mut workers = Workers::new(&shutdown);
    workers.spawn("consumer", async { Err("stream closed".into()) });
    workers.spawn("server", {
        let shutdown = shutdown.clone();
        async move {
            shutdown.triggered().await;
            Ok(())
        }
    });

    let report = workers.run(GRACE).await;

    assert!(shutdown.is_triggered());
    assert_eq!(report.ended_early.as_deref(), Some("consumer"));
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.finished, vec!["server".to_owned()]);
}

/// Workers that return the moment the shutdown begins end at the same instant as the
/// trigger; they must count as finished, never as ending early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_stopping_at_the_trigger_do_not_end_early() {
    for _ in 0..100 {
        let shutdown = Shutdown::new();
        let mut workers = Workers::new(&shutdown);
        for _ in 0..4 {
            let token = shutdown.token();
            workers.spawn("watcher", async move {
                token.cancelled().await;
                Ok(())
            });
        }
        let trigger = shutdown.clone();
        tokio::spawn(async move { trigger.trigger() });
        let report = workers.run(GRACE).await;
        assert_eq!(report.ended_early, None);
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.finished.len(), 4);
    }
}

#[tokio::test]
async fn no_workers_waits_for_trigger() {
    let shutdown = Shutdown::new();
    let workers = Workers::new(&shutdown);
    let run = tokio::spawn(workers.run(GRACE));
    tokio::task::yield_now().await;
    assert!(!run.is_finished());
    shutdown.trigger();
    let report = run.await.unwrap();
    assert!(report.is_clean());
    assert!(report.finished.is_empty());
}

#[test]
fn grace_period_default_and_config() {
    assert_eq!(ShutdownConfig::default().grace_period(), Duration::from_secs(25));
    let config: ShutdownConfig = rollcall_runtime::ConfigLoader::new()
        .env([("ROLLCALL_GRACE_PERIOD_SECONDS", "5")])
        .load()
        .unwrap()
        .config;
    assert_eq!(config.grace_period(), Duration::from_secs(5));
}

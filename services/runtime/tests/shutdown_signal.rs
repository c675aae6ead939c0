//! SIGTERM, sent to this test process, triggers the shutdown. The ops server stops and
//! in-flight work completes. The file contains one test because a signal reaches every
//! handler in the process.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::registry::Registry;
use rollcall_runtime::ops::{OpsServer, Readiness};
use rollcall_runtime::shutdown::{Shutdown, Workers};
use tokio::sync::oneshot;

fn send_signal(name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(std::process::id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_triggers_shutdown_and_work_completes() {
    let shutdown = Shutdown::new();
    let signals = shutdown.listen_for_signals().unwrap();
    let completed = Arc::new(AtomicBool::new(false));
    let (started_sender, started) = oneshot::channel();
    let (release, released) = oneshot::channel::<()>();

    let mut workers = Workers::new(&shutdown);
    workers.spawn("snapshot", {
        let shutdown = shutdown.clone();
        let completed = Arc::clone(&completed);
        async move {
            // One unit of work, in flight when the signal arrives.
            started_sender.send(()).unwrap();
            released.await.unwrap();
            completed.store(true, Ordering::SeqCst);
            shutdown.triggered().await;
            Ok(())
        }
    });
    let run = tokio::spawn(workers.run(Duration::from_secs(30)));
    let ops = OpsServer::new(Registry::default(), Readiness::new(), &shutdown);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ops_address = listener.local_addr().unwrap();
    let ops_server = tokio::spawn(ops.serve(listener));
    started.await.unwrap();

    send_signal("TERM");
    signals.await.unwrap();
    assert!(shutdown.is_triggered());
    ops_server.await.unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(ops_address).await.is_err(),
        "the ops server still listens"
    );
    assert!(!completed.load(Ordering::SeqCst));
    release.send(()).unwrap();
    let report = run.await.unwrap();

    assert!(shutdown.is_triggered());
    assert!(completed.load(Ordering::SeqCst));
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.finished, vec!["snapshot".to_owned()]);
}

//! SIGINT (Ctrl-C), sent to this test process, triggers the shutdown. The file contains one
//! test because a signal reaches every handler in the process.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use rollcall_runtime::shutdown::Shutdown;

#[tokio::test]
async fn sigint_triggers_shutdown() {
    let shutdown = Shutdown::new();
    let listener = shutdown.listen_for_signals().unwrap();
    assert!(!shutdown.is_triggered());

    let status = std::process::Command::new("kill")
        .arg("-INT")
        .arg(std::process::id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    listener.await.unwrap();

    assert!(shutdown.is_triggered());
}

//! `make dev-up` as a newcomer runs it: the script starts the engine and the file
//! connector on a copy of the example practice, the pipeline stores the findings that
//! `rollcall scan` reports for it, and `make dev-down` stops both processes.
//!
//! The test runs its own instance beside any developer's (`support::devup`).

mod support;

use chrono::{DateTime, Utc};
use rollcall_integration_tests::{repo, scan};
use support::devup::{Instance, alive};

const AS_OF: &str = "2026-12-01T15:00:00Z";

#[test]
fn dev_up_matches_scan_then_stops() {
    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    let (_, evaluation) = scan(&repo().join("examples/harborview"), as_of);
    let instance = Instance::new();

    let up = instance.script("dev-up.sh");

    let stdout = String::from_utf8_lossy(&up.stdout);
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(up.status.success(), "dev-up failed:\n{stdout}\n{stderr}");
    let expected = format!("running with {} open findings", evaluation.findings.len());
    assert!(stdout.contains(&expected), "expected `{expected}` in:\n{stdout}");
    let engine = instance.pid("engine").unwrap();
    let connector = instance.pid("file-connector").unwrap();
    assert!(alive(&engine));
    assert!(alive(&connector));

    let down = instance.script("dev-down.sh");

    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    assert!(!alive(&engine), "the engine still runs");
    assert!(!alive(&connector), "the file connector still runs");
}

//! Shared set-up: a Graph double on loopback and a client for one of its tenants.

#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "each test file uses a different part; a test stops at its first broken expectation"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rollcall_entra_connector::{
    AppConfig, Credential, GraphClient, GraphError, HttpTransport, Limits, SyncResult, full_sync,
};
use rollcall_graph_double::{GraphDouble, Tenant};

pub const DIRECTORY: &str = "0c0ffee0-0000-4000-8000-000000000001";
pub const CLIENT_ID: &str = "11111111-2222-4333-8444-555555555555";
pub const SECRET: &str = "synthetic-secret-for-tests";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Returns the folder of the example practice's saved Graph responses.
pub fn harborview_entra() -> PathBuf {
    repo().join("examples/harborview/entra")
}

/// Starts a double serving `tenant` and returns it with its base URL.
pub async fn start(tenant: Tenant) -> (GraphDouble, String) {
    let double = GraphDouble::new();
    double.add_tenant(DIRECTORY, CLIENT_ID, SECRET, tenant);
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (_, base) = double.spawn(addr).await.unwrap();
    (double, base)
}

/// Limits with short waits, so fault tests take milliseconds.
pub fn fast_limits() -> Limits {
    Limits {
        max_attempts: 4,
        backoff_base_ms: 5,
        backoff_max_ms: 2_000,
        request_budget: 5_000,
        request_timeout_seconds: 10,
    }
}

/// Writes the secret to a file and loads it the way the service does.
pub fn credential(dir: &Path) -> Credential {
    let path = dir.join("secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    let app = AppConfig {
        client_id: CLIENT_ID.into(),
        client_secret_file: Some(path),
        certificate_file: None,
    };
    Credential::load("test-app", &app).unwrap()
}

/// Runs one full sync against the double.
pub async fn sync(base: &str, limits: Limits) -> Result<SyncResult, GraphError> {
    let dir = tempfile::tempdir().unwrap();
    let credential = credential(dir.path());
    let transport = HttpTransport::new(std::time::Duration::from_secs(10)).unwrap();
    let mut client = GraphClient::new(&transport, base, DIRECTORY, CLIENT_ID, &credential, limits);
    full_sync(&mut client, base, "harborview").await
}

/// Runs one published sync attempt of tenant `harborview` against the double, with the
/// delta state in `store`, as the service's loop does.
pub async fn attempt(
    base: &str,
    store: &rollcall_store::Store,
    publisher: &rollcall_bus::Publisher,
    metrics: &rollcall_entra_connector::ConnectorMetrics,
) -> rollcall_entra_connector::Attempt {
    let dir = tempfile::tempdir().unwrap();
    let credential = credential(dir.path());
    let transport = HttpTransport::new(std::time::Duration::from_secs(10)).unwrap();
    let mut client =
        GraphClient::new(&transport, base, DIRECTORY, CLIENT_ID, &credential, fast_limits());
    let tenant = rollcall_core::TenantId::new("harborview").unwrap();
    let job = rollcall_entra_connector::TenantSync {
        tenant: &tenant,
        scope: store.tenant(&tenant),
        publisher,
        metrics,
        graph_url: base,
        max_full_read_age: chrono::Duration::hours(24),
    };
    rollcall_entra_connector::sync_and_publish(&mut client, &job).await
}

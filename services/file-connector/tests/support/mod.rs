//! Shared set-up of the connector tests: a namespace of random stream names per test on a
//! real NATS server, drop folders in temporary folders, a connector wired to both, and
//! readers of what the streams hold.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]
#![allow(dead_code, reason = "each test file uses a different part of the support module")]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rollcall_bus::async_nats::{self, jetstream};
use rollcall_bus::{BusMetrics, Namespace, Publisher, RetryPolicy, StreamFamily, Topology};
use rollcall_core::model::SourceId;
use rollcall_file_connector::{
    ConnectorMetrics, FileConnector, FolderReport, FolderStatus, Settings, SourceOutcome, State,
};
use rollcall_proto::{
    AssembledSnapshot, Assembler, SnapshotContent, SyncReport, sync_report_from_proto, v1,
};
use uuid::Uuid;

/// The server the tests use unless `ROLLCALL_TEST_NATS_URL` names another.
pub const DEFAULT_NATS_URL: &str = "127.0.0.1:4222";

/// Returns the URL of the shared test server.
pub fn nats_url() -> String {
    std::env::var("ROLLCALL_TEST_NATS_URL").unwrap_or_else(|_| DEFAULT_NATS_URL.to_owned())
}

/// Connects to `url`, giving up after 3 seconds instead of retrying forever.
pub async fn try_connect(url: &str) -> Result<async_nats::Client, async_nats::ConnectError> {
    async_nats::ConnectOptions::new()
        .name("rollcall-file-connector-tests")
        .connection_timeout(Duration::from_secs(3))
        .connect(url)
        .await
}

/// One test's streams under a random prefix. [`TestBus::delete`] deletes them at the end
/// of a test; when a test fails before it, dropping the bus deletes them.
pub struct TestBus {
    pub client: async_nats::Client,
    pub jetstream: jetstream::Context,
    pub topology: Topology,
    pub metrics: BusMetrics,
    url: String,
    deleted: bool,
}

impl TestBus {
    /// Creates the streams of a fresh namespace on the shared server.
    pub async fn new() -> Self {
        let url = nats_url();
        let client = try_connect(&url).await.unwrap_or_else(|error| {
            panic!(
                "NATS is not reachable at `{url}` ({error}): start a server with JetStream, \
                 for example `nats-server -js -a 127.0.0.1 -p 4222`, or set ROLLCALL_TEST_NATS_URL"
            )
        });
        Self::on(&url, client).await
    }

    /// Creates the streams of a fresh namespace through `client`, connected to `url`.
    pub async fn on(url: &str, client: async_nats::Client) -> Self {
        let suffix = Uuid::new_v4().simple().to_string();
        let short = &suffix[..12];
        let namespace =
            Namespace::new(&format!("f{short}"), &format!("F{}", short.to_uppercase())).unwrap();
        // A short ack timeout makes a publish to a stopped server fail within seconds.
        let jetstream =
            jetstream::ContextBuilder::new().timeout(Duration::from_secs(2)).build(client.clone());
        let topology = Topology::new(namespace);
        // NATS 2.9.10 removes an account's store folder when its last stream is deleted,
        // and a stream created at that moment fails with "error creating store".
        for attempt in 1..=5 {
            match topology.ensure(&jetstream).await {
                Ok(_) => break,
                Err(error) if attempt < 5 && error.to_string().contains("error creating store") => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("creating the test streams failed: {error}"),
            }
        }
        Self {
            client,
            jetstream,
            topology,
            metrics: BusMetrics::new(),
            url: url.to_owned(),
            deleted: false,
        }
    }

    pub fn namespace(&self) -> &Namespace {
        self.topology.namespace()
    }

    /// Returns a publisher that gives up after two quick attempts, so a stopped server fails a
    /// poll within seconds.
    pub fn publisher(&self) -> Publisher {
        Publisher::new(self.jetstream.clone(), self.namespace().clone(), self.metrics.clone())
            .with_retry(RetryPolicy {
                attempts: 2,
                first_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(100),
            })
    }

    /// Returns every message of the source stream, as `(subject, payload)`, in order.
    pub async fn source_stream(&self) -> Vec<(String, Vec<u8>)> {
        let name = self.namespace().stream_name(StreamFamily::Source);
        let mut stream = self.jetstream.get_stream(&name).await.unwrap();
        let last = stream.info().await.unwrap().state.last_sequence;
        let mut messages = Vec::new();
        for sequence in 1..=last {
            let stored = stream.get_raw_message(sequence).await.unwrap();
            messages.push((stored.subject.to_string(), stored.payload.to_vec()));
        }
        messages
    }

    /// Returns every snapshot the source stream holds, in the order their last chunk was
    /// stored, with the subject it came on.
    pub async fn snapshots(&self) -> Vec<(String, AssembledSnapshot)> {
        let mut assembler = Assembler::new();
        let mut snapshots = Vec::new();
        for (subject, payload) in self.source_stream().await {
            if !subject.ends_with(".snapshot") {
                continue;
            }
            if let Some(snapshot) = assembler.accept_bytes(&payload, Instant::now()).unwrap() {
                snapshots.push((subject, snapshot));
            }
        }
        snapshots
    }

    /// Returns the number of snapshot chunks in the source stream.
    pub async fn snapshot_chunks(&self) -> usize {
        self.source_stream().await.iter().filter(|(s, _)| s.ends_with(".snapshot")).count()
    }

    /// Returns every sync report in the source stream, in order.
    pub async fn sync_reports(&self) -> Vec<SyncReport> {
        self.source_stream()
            .await
            .into_iter()
            .filter(|(subject, _)| subject.ends_with(".sync"))
            .map(|(_, payload)| {
                let message =
                    <v1::SyncReport as prost::Message>::decode(payload.as_slice()).unwrap();
                sync_report_from_proto(message).unwrap()
            })
            .collect()
    }

    /// Deletes the streams.
    pub async fn delete(mut self) {
        for spec in self.topology.streams() {
            let _ = self.jetstream.delete_stream(&spec.name).await;
        }
        self.deleted = true;
    }
}

impl Drop for TestBus {
    /// Deletes the streams of a test that failed before [`TestBus::delete`], on a thread
    /// of its own with a connection of its own, because the test's runtime may be shutting
    /// down. A test on its own server that is already stopped leaves nothing to delete, so
    /// errors are ignored.
    fn drop(&mut self) {
        if self.deleted {
            return;
        }
        let url = self.url.clone();
        let names: Vec<String> = self.topology.streams().iter().map(|s| s.name.clone()).collect();
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
            else {
                return;
            };
            runtime.block_on(async {
                let Ok(client) = try_connect(&url).await else { return };
                let jetstream = jetstream::new(client);
                for name in names {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(5),
                        jetstream.delete_stream(&name),
                    )
                    .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Returns the folder of the example practice, `examples/harborview`.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview")
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Copies the example practice into `drop_root` as tenant `tenant`.
pub fn add_example_tenant(drop_root: &Path, tenant: &str) -> PathBuf {
    let dir = drop_root.join(tenant);
    copy_dir(&example_dir(), &dir);
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml")).unwrap();
    let yaml = yaml.replacen("id: harborview", &format!("id: {tenant}"), 1);
    std::fs::write(dir.join("tenant.yaml"), yaml).unwrap();
    dir
}

/// Creates a connector on `drop_root` with its state in `state_dir`. Chunks are at most
/// 4 KiB, so the example's Entra snapshot takes several.
pub fn connector(
    bus: &TestBus,
    drop_root: &Path,
    state_dir: &Path,
    settle: Duration,
) -> FileConnector {
    connector_with_metrics(bus, drop_root, state_dir, settle, ConnectorMetrics::new())
}

/// Creates a connector as [`connector`] does, counting into `metrics`.
pub fn connector_with_metrics(
    bus: &TestBus,
    drop_root: &Path,
    state_dir: &Path,
    settle: Duration,
    metrics: ConnectorMetrics,
) -> FileConnector {
    let settings = Settings { drop_root: drop_root.to_path_buf(), settle, max_chunk_bytes: 4096 };
    let opened = State::open(state_dir).unwrap();
    FileConnector::new(settings, bus.publisher(), opened.state, metrics)
}

/// Returns the outcome of each source of the folder of `tenant`, as `(source, outcome)`,
/// or panics when the folder was not read.
pub fn outcomes(reports: &[FolderReport], tenant: &str) -> Vec<(String, SourceOutcome)> {
    let report = reports
        .iter()
        .find(|r| r.folder.file_name().is_some_and(|n| n == tenant))
        .unwrap_or_else(|| panic!("no report for `{tenant}` in {reports:#?}"));
    match &report.status {
        FolderStatus::Read { sources } => {
            sources.iter().map(|s| (s.source.to_string(), s.outcome.clone())).collect()
        }
        other => panic!("`{tenant}` was not read: {other:?}"),
    }
}

/// Returns the status of the folder of `tenant`.
pub fn status(reports: &[FolderReport], tenant: &str) -> FolderStatus {
    reports
        .iter()
        .find(|r| r.folder.file_name().is_some_and(|n| n == tenant))
        .map(|r| r.status.clone())
        .unwrap_or_else(|| panic!("no report for `{tenant}` in {reports:#?}"))
}

/// Returns the sources whose outcome is `Published`, sorted.
pub fn published(outcomes: &[(String, SourceOutcome)]) -> Vec<String> {
    let mut names: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, SourceOutcome::Published { .. }))
        .map(|(s, _)| s.clone())
        .collect();
    names.sort();
    names
}

/// Returns the content of each source that `rollcall-ingest` reads from the tenant
/// folder `dir`, by source id, each with the collection instant the connector gives an
/// export without one: the newest modification time of the source's files.
pub fn expected_contents(dir: &Path) -> Vec<(String, SnapshotContent)> {
    let loaded = rollcall_ingest::layout::load_tenant(dir, Utc::now()).unwrap();
    let inputs = rollcall_ingest::layout::source_inputs(dir, &loaded.config);
    let newest = |source: &SourceId| {
        let input = inputs.iter().find(|i| i.source == *source).unwrap();
        let newest = input
            .paths
            .iter()
            .flat_map(|path| files_under(&dir.join(path)))
            .map(|file| std::fs::metadata(file).unwrap().modified().unwrap())
            .max()
            .unwrap();
        Some(DateTime::<Utc>::from(newest))
    };
    let mut contents = Vec::new();
    for mut snapshot in loaded.data.sources {
        assert!(snapshot.collected_at.is_none(), "the example's exports carry no time");
        snapshot.collected_at = newest(&snapshot.source);
        contents.push((snapshot.source.to_string(), SnapshotContent::Source(snapshot)));
    }
    if let Some(mut roster) = loaded.data.hr {
        roster.collected_at = newest(&SourceId::hr());
        contents.push(("hr".to_owned(), SnapshotContent::Roster(roster)));
    }
    contents
}

/// Returns `path` when it is a file, or every file under it.
fn files_under(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        files.extend(files_under(&entry.unwrap().path()));
    }
    files
}

/// Returns the expected content of `source` in the tenant folder `dir`.
pub fn expected_content(dir: &Path, source: &str) -> SnapshotContent {
    expected_contents(dir).into_iter().find(|(s, _)| s == source).unwrap().1
}

/// The server binary of the Debian `nats-server` package.
pub const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// A `nats-server` process of the test's own, stopped by its pid when dropped.
pub struct OwnServer {
    child: Child,
}

impl OwnServer {
    /// Starts the server with JetStream on `port`, storing in `store`, and waits until it
    /// accepts connections.
    pub fn start(port: u16, store: &Path) -> Self {
        let child = Command::new(NATS_SERVER)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("starting `{NATS_SERVER}` failed ({error}): install it with `apt-get install nats-server`")
            });
        let server = Self { child };
        let started = Instant::now();
        while !TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            // A connection to an unused port of the ephemeral range can be the socket
            // connected to itself, which is not the server listening.
            .is_ok_and(|stream| stream.local_addr().ok() != stream.peer_addr().ok())
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nats-server did not listen on port {port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "sending SIGTERM to nats-server {pid} failed");
        let started = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if started.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.wait();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.terminate();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

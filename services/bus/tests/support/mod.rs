//! Shared set-up of the tests that run against a real NATS server: a connection that fails
//! fast with a clear message, a namespace of random names per test, recording handlers and
//! a waiting helper.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]
#![allow(dead_code, reason = "each test file uses a different part of the support module")]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rollcall_bus::async_nats::{self, jetstream};
use rollcall_bus::{
    BusMetrics, ConsumerRunner, ConsumerSpec, Delivery, Handler, Namespace, Outcome, RunReport,
    RunnerConfig, Topology,
};
use rollcall_proto::v1;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
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
        .name("rollcall-bus-tests")
        .connection_timeout(Duration::from_secs(3))
        .connect(url)
        .await
}

/// Connects to the shared test server, or panics with what to do.
pub async fn connect() -> async_nats::Client {
    let url = nats_url();
    match try_connect(&url).await {
        Ok(client) => client,
        Err(error) => panic!(
            "NATS is not reachable at `{url}` ({error}): start a server with JetStream, \
             for example `nats-server -js -a 127.0.0.1 -p 4222`, or set ROLLCALL_TEST_NATS_URL"
        ),
    }
}

/// One test's streams: a namespace with a random suffix, so that tests run side by side
/// and leave nothing behind. [`TestBus::delete`] deletes the streams at the end of a
/// test; when a test fails before it, dropping the bus deletes them.
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
        Self::on(&nats_url(), connect().await).await
    }

    /// Creates the streams of a fresh namespace through `client`, connected to `url`.
    pub async fn on(url: &str, client: async_nats::Client) -> Self {
        let suffix = Uuid::new_v4().simple().to_string();
        let short = suffix.get(..12).unwrap();
        let namespace =
            Namespace::new(&format!("t{short}"), &format!("T{}", short.to_uppercase())).unwrap();
        let jetstream = jetstream::new(client.clone());
        let topology = Topology::new(namespace);
        ensure_streams(&topology, &jetstream).await;
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

    pub fn publisher(&self) -> rollcall_bus::Publisher {
        rollcall_bus::Publisher::new(
            self.jetstream.clone(),
            self.namespace().clone(),
            self.metrics.clone(),
        )
    }

    /// Starts a runner for `spec` on a task, with a short pull wait and retry wait so that
    /// stops and reconnects happen quickly.
    pub async fn spawn_runner<H: Handler + 'static>(
        &self,
        spec: ConsumerSpec,
        handler: H,
        stop_grace: Duration,
    ) -> RunningConsumer {
        self.spawn_runner_holding(spec, handler, stop_grace, None).await
    }

    /// [`TestBus::spawn_runner`] with a set of held messages.
    pub async fn spawn_runner_holding<H: Handler + 'static>(
        &self,
        spec: ConsumerSpec,
        handler: H,
        stop_grace: Duration,
        held: Option<rollcall_bus::HeldMessages>,
    ) -> RunningConsumer {
        let config = RunnerConfig {
            pull_wait: Duration::from_secs(1),
            stop_grace,
            max_retry_wait: Duration::from_secs(2),
        };
        let runner = ConsumerRunner::start(
            self.jetstream.clone(),
            self.namespace().clone(),
            spec,
            handler,
            self.metrics.clone(),
            config,
        )
        .await
        .unwrap();
        let runner = match held {
            Some(held) => runner.with_held(held),
            None => runner,
        };
        let stop = CancellationToken::new();
        let task = tokio::spawn(runner.run(stop.clone()));
        RunningConsumer { stop, task }
    }

    /// Deletes every stream of the namespace.
    pub async fn delete(mut self) {
        for spec in self.topology.streams() {
            self.jetstream.delete_stream(&spec.name).await.unwrap();
        }
        self.deleted = true;
    }
}

impl Drop for TestBus {
    /// Deletes the streams of a test that failed before [`TestBus::delete`], on a thread
    /// of its own because the test's runtime may be shutting down.
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

/// Creates the streams of `topology`, retrying when another test's deletion races the
/// creation.
///
/// NATS 2.9.10 removes an account's store directory when its last stream is deleted, and
/// a stream created at that moment fails with "error creating store for stream" (the
/// server logs `mkdir .../jetstream/$G/streams: no such file or directory`). Tests that
/// run in parallel hit it when they are the only users of the server.
async fn ensure_streams(topology: &Topology, jetstream: &jetstream::Context) {
    for attempt in 1..=5 {
        match topology.ensure(jetstream).await {
            Ok(_) => return,
            Err(error) if attempt < 5 && error.to_string().contains("error creating store") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("creating the test streams failed: {error}"),
        }
    }
}

/// A runner on its own task.
pub struct RunningConsumer {
    pub stop: CancellationToken,
    pub task: JoinHandle<RunReport>,
}

impl RunningConsumer {
    /// Stops the runner and returns its report.
    pub async fn stop(self) -> RunReport {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the runner did not return within 30 s of the stop")
            .unwrap()
    }
}

/// One call of a handler, as the handler saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub stream_sequence: u64,
    pub delivered: u64,
    pub message_id: Option<String>,
}

/// The deliveries a handler saw, shared with the test.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    pub fn record(&self, delivery: &Delivery) {
        self.0.lock().unwrap().push(Seen {
            stream_sequence: delivery.stream_sequence,
            delivered: delivery.delivered,
            message_id: delivery.message_id().map(str::to_owned),
        });
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A handler that records each delivery, waits `work` and then returns `outcome`.
pub struct Scripted {
    pub log: Log,
    pub work: Duration,
    pub outcome: Outcome,
}

impl Handler for Scripted {
    async fn handle(&self, delivery: &Delivery) -> Outcome {
        self.log.record(delivery);
        tokio::time::sleep(self.work).await;
        self.outcome.clone()
    }
}

/// Polls `condition` every 50 ms until it holds, or panics naming `what` after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let outcome = tokio::time::timeout(limit, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(outcome.is_ok(), "timed out after {limit:?} waiting for {what}");
}

/// Runs `future` under a time limit, panicking with `what` when it runs out.
pub async fn within<T>(what: &str, limit: Duration, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {limit:?} waiting for {what}"))
}

/// Returns an HR hire event for `tenant` with a fresh event id.
pub fn hire(tenant: &str, employee_id: &str) -> v1::HrEvent {
    v1::HrEvent {
        event_id: Uuid::new_v4().hyphenated().to_string(),
        tenant: tenant.to_owned(),
        r#type: v1::HrEventType::Hire as i32,
        employee_id: employee_id.to_owned(),
        time_zone: "America/Chicago".to_owned(),
        ..v1::HrEvent::default()
    }
}

/// Returns the number of messages stored in `stream`.
pub async fn stream_messages(jetstream: &jetstream::Context, stream: &str) -> u64 {
    let mut stream = jetstream.get_stream(stream).await.unwrap();
    stream.info().await.unwrap().state.messages
}

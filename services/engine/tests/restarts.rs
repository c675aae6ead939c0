//! Servers restarted under the engine: NATS restarted mid-stream and PostgreSQL stopped
//! and started again, each an instance of the test's own on a free loopback port, so the
//! shared servers keep running. After each, the example's findings come out as
//! `rollcall scan` gives them, and no event is lost or doubled.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_proto::v1;
use support::{
    RedisMode, RunningEngine, TestBus, TestDb, add_tenant, config, eventually, example,
    example_chunks, example_dir, golden_findings, stored_findings,
};

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

fn wait_listening(port: u16, what: &str) {
    let started = Instant::now();
    while !TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        // A connection to an unused port of the ephemeral range can be the socket
        // connected to itself, which is not the server listening.
        .is_ok_and(|stream| stream.local_addr().ok() != stream.peer_addr().ok())
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} did not listen on port {port} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `nats-server` of the test's own, stopped with SIGTERM (which flushes its store).
struct OwnNats {
    child: Child,
}

impl OwnNats {
    fn start(port: u16, store: &Path) -> Self {
        let child = Command::new("/usr/sbin/nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting /usr/sbin/nats-server failed ({e}); install the nats-server package"
                )
            });
        wait_listening(port, "nats-server");
        Self { child }
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.child.wait().unwrap();
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn expect_example_findings(db: &TestDb, bus: &TestBus) {
    let store = db.store().await;
    let tenant = rollcall_core::TenantId::new(support::HARBORVIEW).unwrap();
    let golden = golden_findings();
    let stored = eventually("the scan's findings in PostgreSQL", || async {
        let stored = stored_findings(&store, &tenant).await;
        (stored == golden).then_some(stored)
    })
    .await;
    assert_eq!(stored.len(), 27);
    eventually("one event per finding", || async {
        (bus.finding_events().await.len() >= golden.len()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let events = bus.finding_events().await;
    assert_eq!(events.len(), golden.len());
    assert!(events.iter().all(|e| e.r#type == v1::FindingEventType::Opened as i32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_restarted_mid_stream_loses_nothing() {
    let store_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let nats = OwnNats::start(port, store_dir.path());
    let url = format!("127.0.0.1:{port}");
    let bus = TestBus::on(&url).await;
    let db = TestDb::create().await;
    let store = db.store().await;
    let loaded = example();
    let tenant = add_tenant(&store, &loaded).await;
    let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 20)).await;

    let chunks = example_chunks(&loaded, 4096);
    let (before, after) = chunks.split_at(chunks.len() / 2);
    let publisher = bus.publisher();
    for snapshot in before {
        publisher.publish_chunks(snapshot).await.unwrap();
    }
    // Half of the next snapshot's chunks go out before the restart.
    let (first_half, second_half) = after[0].split_at(after[0].len() / 2);
    publisher.publish_chunks(first_half).await.unwrap();

    nats.stop();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let nats = OwnNats::start(port, store_dir.path());

    // The publisher's client reconnects; its retries cover the first attempts.
    publisher.publish_chunks(second_half).await.unwrap();
    for snapshot in &after[1..] {
        publisher.publish_chunks(snapshot).await.unwrap();
    }
    eventually("every source stored", || async {
        let states = store.tenant(&tenant).source_states().await.unwrap();
        (states.len() == chunks.len()).then_some(())
    })
    .await;
    rollcall_engine::tenant_apply::apply(&store, &example_dir()).await.unwrap();
    expect_example_findings(&db, &bus).await;
    engine.stop().await;
    bus.delete().await;
    drop(nats);
}

/// A PostgreSQL cluster of the test's own, run as the `postgres` user because `initdb`
/// refuses root.
struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

impl OwnPostgres {
    fn init() -> Self {
        let dir = tempfile::Builder::new().prefix("rollcall-pg-").tempdir_in("/tmp").unwrap();
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(chown.success());
        let data = dir.path().join("data");
        let status = Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{PG_BIN}/initdb"), "-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "initdb failed");
        let cluster = Self { dir, port: free_port() };
        cluster.start();
        cluster
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("pg.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let status = Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{PG_BIN}/pg_ctl"), "-D"])
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &options])
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {args:?} failed");
    }

    fn start(&self) {
        self.pg_ctl(&["-w", "start"]);
        wait_listening(self.port, "postgres");
    }

    fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "-w", "stop"]);
    }

    fn admin(&self) -> sqlx::postgres::PgConnectOptions {
        sqlx::postgres::PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username("postgres")
            .database("postgres")
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{PG_BIN}/pg_ctl"), "-D"])
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_keeps_and_drains_the_backlog() {
    let postgres = OwnPostgres::init();
    let db = TestDb::create_on(postgres.admin()).await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let loaded = example();
    let tenant = add_tenant(&store, &loaded).await;
    let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 20)).await;

    postgres.stop();
    // The whole practice arrives while PostgreSQL is down: nothing can be stored, so
    // nothing may be acked.
    let chunks = example_chunks(&loaded, 4096);
    let publisher = bus.publisher();
    for snapshot in &chunks {
        publisher.publish_chunks(snapshot).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    postgres.start();

    eventually("every source stored", || async {
        let states = store.tenant(&tenant).source_states().await.ok()?;
        (states.len() == chunks.len()).then_some(())
    })
    .await;
    // The configuration last, as in the other tests, so that one evaluation sees the
    // whole practice and the events are exactly the scan's findings.
    rollcall_engine::tenant_apply::apply(&store, &example_dir()).await.unwrap();
    expect_example_findings(&db, &bus).await;
    engine.stop().await;
    bus.delete().await;
    drop(db);
    drop(postgres);
}

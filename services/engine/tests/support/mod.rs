//! What the engine's tests share: a scratch PostgreSQL database, a NATS namespace of
//! their own, the engine running in the test process, and the example practice.
//!
//! The servers are the local ones: PostgreSQL at `postgres://postgres@127.0.0.1:5432`
//! (`ROLLCALL_TEST_DATABASE_URL`), NATS at `127.0.0.1:4222` (`ROLLCALL_TEST_NATS_URL`),
//! Redis at `redis://127.0.0.1:6379/` (`ROLLCALL_TEST_REDIS_URL`).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support: each test binary uses a part, and a test stops at its first broken expectation"
)]

pub mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_nats::jetstream;
use chrono::{DateTime, Utc};
use prost::Message as _;
use rollcall_bus::{BusMetrics, Namespace, Publisher, StreamFamily, Topology};
use rollcall_core::TenantId;
use rollcall_engine::config::{EngineSettings, NatsConfig, PostgresConfig, RedisConfig};
use rollcall_engine::{EngineConfig, Service};
use rollcall_proto::v1;
use rollcall_runtime::shutdown::ShutdownConfig;
use rollcall_runtime::{OpsConfig, Secret, Shutdown, TelemetryConfig};
use rollcall_store::{Store, TenantProfile};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use uuid::Uuid;

/// The as-of instant of the example's golden report (`make example`).
pub const AS_OF: &str = "2026-12-01T09:00:00-06:00";
/// The example practice's tenant id.
pub const HARBORVIEW: &str = "harborview";
/// Generous limit for the pipeline to settle on a busy two-core machine.
pub const LIMIT: Duration = Duration::from_secs(90);

pub fn as_of() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(AS_OF).unwrap().with_timezone(&Utc)
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn example_dir() -> PathBuf {
    repo().join("examples/harborview")
}

/// A scratch database with the schema migrated; dropped at the end.
pub struct TestDb {
    pub name: String,
    admin: PgConnectOptions,
}

fn admin_options() -> PgConnectOptions {
    let url = std::env::var("ROLLCALL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    PgConnectOptions::from_str(&url).unwrap()
}

async fn admin_connection(options: &PgConnectOptions) -> PgConnection {
    tokio::time::timeout(Duration::from_secs(10), PgConnection::connect_with(options))
        .await
        .expect("PostgreSQL did not answer within 10 s; start it (scripts/services.sh) or set ROLLCALL_TEST_DATABASE_URL")
        .expect("PostgreSQL refused the connection; start it or set ROLLCALL_TEST_DATABASE_URL")
}

impl TestDb {
    pub async fn create() -> Self {
        Self::create_on(admin_options()).await
    }

    /// Creates the roles and a migrated database on the server of `admin`.
    pub async fn create_on(admin: PgConnectOptions) -> Self {
        let db = Self::create_empty_on(admin).await;
        let owner = sqlx::PgPool::connect_with(db.owner_options()).await.unwrap();
        rollcall_store::migrate_as_owner(&owner).await.unwrap();
        owner.close().await;
        db
    }

    /// Creates the roles and a database owned by the schema owner, without the schema.
    pub async fn create_empty() -> Self {
        Self::create_empty_on(admin_options()).await
    }

    /// Returns the server administrator's connection options for this database, for
    /// tests that change rows behind the store's back.
    pub fn admin_options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    /// Returns the schema owner's connection options.
    pub fn owner_options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name).username("rollcall_migrator")
    }

    async fn create_empty_on(admin: PgConnectOptions) -> Self {
        let mut connection = admin_connection(&admin).await;
        for role in ["rollcall_migrator", "rollcall_app"] {
            let statement = format!(
                "DO $$ BEGIN CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            );
            sqlx::query(AssertSqlSafe(statement)).execute(&mut connection).await.unwrap();
        }
        let name = format!("rollcall_test_{}", Uuid::new_v4().simple());
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name} OWNER rollcall_migrator")))
            .execute(&mut connection)
            .await
            .unwrap();
        let _ = connection.close().await;
        Self { name, admin }
    }

    /// Returns the runtime role's URL.
    pub fn app_url(&self) -> String {
        format!(
            "postgres://rollcall_app@{}:{}/{}",
            self.admin.get_host(),
            self.admin.get_port(),
            self.name
        )
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.app_url(), &rollcall_store::StoreOptions::default()).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
            else {
                return;
            };
            runtime.block_on(async {
                let Ok(Ok(mut connection)) = tokio::time::timeout(
                    Duration::from_secs(10),
                    PgConnection::connect_with(&admin),
                )
                .await
                else {
                    return;
                };
                let _ = sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut connection)
                .await;
            });
        });
        let _ = cleanup.join();
    }
}

pub fn nats_url() -> String {
    std::env::var("ROLLCALL_TEST_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

pub fn redis_url() -> String {
    std::env::var("ROLLCALL_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

/// Returns a loopback port that nothing listens on, bound and then released.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A NATS namespace of the test's own, with its streams; deleted at the end.
pub struct TestBus {
    pub url: String,
    pub jetstream: jetstream::Context,
    pub namespace: Namespace,
}

impl TestBus {
    pub async fn new() -> Self {
        Self::on(&nats_url()).await
    }

    pub async fn on(url: &str) -> Self {
        // A server that a test has just started may reject connections for a moment after
        // its port first accepted one, so a refused connection is retried for a few seconds.
        let started = tokio::time::Instant::now();
        let client = loop {
            let attempt = tokio::time::timeout(Duration::from_secs(10), async_nats::connect(url))
                .await
                .expect("NATS did not answer; start nats-server -js on 127.0.0.1:4222 or set ROLLCALL_TEST_NATS_URL");
            match attempt {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(10) => {
                    eprintln!("NATS at {url} refused the connection ({error}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("NATS at {url} refused the connection: {error}"),
            }
        };
        let short = Uuid::new_v4().simple().to_string()[..12].to_owned();
        let namespace =
            Namespace::new(&format!("t{short}"), &format!("T{}", short.to_uppercase())).unwrap();
        let jetstream = jetstream::new(client);
        let topology = Topology::new(namespace.clone());
        // NATS 2.9.10 fails a stream creation that races another test's deletion of the
        // account's last stream with "error creating store"; try again.
        for attempt in 1..=10 {
            match topology.ensure(&jetstream).await {
                Ok(_) => break,
                Err(error) if attempt < 10 => {
                    eprintln!("stream creation failed ({error}), retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("{error}"),
            }
        }
        Self { url: url.to_owned(), jetstream, namespace }
    }

    pub fn publisher(&self) -> Publisher {
        Publisher::new(self.jetstream.clone(), self.namespace.clone(), BusMetrics::new())
    }

    /// Returns every finding event stored on the namespace's finding stream, in order.
    pub async fn finding_events(&self) -> Vec<v1::FindingEvent> {
        let mut stream = self
            .jetstream
            .get_stream(self.namespace.stream_name(StreamFamily::Finding))
            .await
            .unwrap();
        let info = stream.info().await.unwrap();
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let mut events = Vec::new();
        if info.state.messages == 0 {
            return events;
        }
        for sequence in first..=last {
            let message = stream.get_raw_message(sequence).await.unwrap();
            events.push(v1::FindingEvent::decode(message.payload.as_ref()).unwrap());
        }
        events
    }

    pub async fn delete(&self) {
        for family in StreamFamily::ALL {
            let _ = self.jetstream.delete_stream(self.namespace.stream_name(family)).await;
        }
    }
}

/// How the engine reaches Redis.
#[derive(Debug, Clone)]
pub enum RedisMode {
    /// The local server.
    Local,
    /// A closed loopback port.
    Down,
}

/// Returns the configuration of an engine on `db` and `bus`.
pub fn config(db: &TestDb, bus: &TestBus, redis: &RedisMode, max_deliver: i64) -> EngineConfig {
    let redis_url = match redis {
        RedisMode::Local => redis_url(),
        RedisMode::Down => format!("redis://127.0.0.1:{}/", closed_port()),
    };
    EngineConfig {
        telemetry: TelemetryConfig::default(),
        ops: OpsConfig { listen: "127.0.0.1:0".parse().unwrap() },
        shutdown: ShutdownConfig { grace_period_seconds: 10 },
        nats: NatsConfig {
            subject_prefix: bus.namespace.subject_prefix().to_owned(),
            stream_prefix: bus.namespace.stream_prefix().to_owned(),
            ..NatsConfig::new(bus.url.clone())
        },
        postgres: PostgresConfig { url: Secret::new(db.app_url()), max_connections: 10 },
        redis: RedisConfig { url: Some(Secret::new(redis_url)) },
        engine: EngineSettings {
            partial_snapshot_seconds: 60,
            reconcile_seconds: 1,
            retention_seconds: 3600,
            lock_ttl_seconds: 30,
            ack_wait_seconds: 5,
            max_deliver,
            due_scan_seconds: 1,
            campaign_scan_seconds: 1,
            fixed_as_of: Some(as_of()),
            clock_file: None,
        },
        mail: None,
        remediation: Default::default(),
    }
}

/// An engine running on a task of the test's runtime.
pub struct RunningEngine {
    pub engine: rollcall_engine::Engine,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl RunningEngine {
    pub async fn start(config: EngineConfig) -> Self {
        let service = Service::connect(config).await.unwrap();
        let engine = service.engine().clone();
        let shutdown = Shutdown::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            let report = service.run(&stop).await.unwrap();
            assert!(report.is_clean(), "{report:?}");
        });
        Self { engine, shutdown, task }
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(30), self.task).await.unwrap().unwrap();
    }
}

/// Reads the example practice as `rollcall scan` reads it at [`AS_OF`].
pub fn example() -> rollcall_ingest::layout::LoadedTenant {
    rollcall_ingest::layout::load_tenant(&example_dir(), as_of()).unwrap()
}

/// Creates the tenant row, without configuration, so snapshots can be stored.
pub async fn add_tenant(store: &Store, loaded: &rollcall_ingest::layout::LoadedTenant) -> TenantId {
    let tenant = loaded.config.tenant.id.clone();
    let profile = TenantProfile {
        name: loaded.config.tenant.name.clone(),
        time_zone: loaded.config.tenant.time_zone,
    };
    store.tenant(&tenant).upsert_tenant(&profile).await.unwrap();
    tenant
}

/// Splits every source of `loaded` and its roster in chunks of at most `chunk_bytes`,
/// one list per source, each under a new snapshot id.
pub fn example_chunks(
    loaded: &rollcall_ingest::layout::LoadedTenant,
    chunk_bytes: usize,
) -> Vec<Vec<v1::SnapshotChunk>> {
    let tenant = &loaded.config.tenant.id;
    let mut all: Vec<Vec<v1::SnapshotChunk>> = loaded
        .data
        .sources
        .iter()
        .map(|snapshot| {
            rollcall_proto::split(snapshot, tenant, Uuid::new_v4(), chunk_bytes).unwrap()
        })
        .collect();
    if let Some(roster) = &loaded.data.hr {
        all.push(
            rollcall_proto::split_roster(roster, tenant, Uuid::new_v4(), chunk_bytes).unwrap(),
        );
    }
    all
}

/// Publishes every source of `loaded` and its roster in chunks of at most
/// `chunk_bytes`, and returns the chunks, one list per source.
pub async fn publish_example(
    bus: &TestBus,
    loaded: &rollcall_ingest::layout::LoadedTenant,
    chunk_bytes: usize,
) -> Vec<Vec<v1::SnapshotChunk>> {
    let publisher = bus.publisher();
    let all = example_chunks(loaded, chunk_bytes);
    for chunks in &all {
        publisher.publish_chunks(chunks).await.unwrap();
    }
    all
}

/// Polls `check` every 100 ms until it returns `Some`, or panics naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {LIMIT:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Returns the findings of the committed golden report of `rollcall scan --format json` on the
/// example at [`AS_OF`]: id to (kind, severity, summary).
pub fn golden_findings() -> BTreeMap<String, (String, String, String)> {
    let text =
        std::fs::read_to_string(repo().join("services/cli/tests/golden/harborview.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["as_of"], "2026-12-01T15:00:00Z", "the golden report's as-of changed");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap().to_owned();
            (text("id"), (text("kind"), text("severity"), text("summary")))
        })
        .collect()
}

/// Returns the tenant's open findings in the store: id to (kind, severity, summary).
pub async fn stored_findings(
    store: &Store,
    tenant: &TenantId,
) -> BTreeMap<String, (String, String, String)> {
    store
        .tenant(tenant)
        .findings(rollcall_store::FindingStatus::Open)
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            let f = s.finding;
            (f.id, (f.kind.as_str().to_owned(), f.severity.as_str().to_owned(), f.summary))
        })
        .collect()
}

/// Events as id, finding id and type, for comparisons.
pub fn event_keys(events: &[v1::FindingEvent]) -> Vec<(String, String, i32)> {
    events
        .iter()
        .map(|e| {
            (
                e.event_id.clone(),
                e.finding.as_ref().map(|f| f.id.clone()).unwrap_or_default(),
                e.r#type,
            )
        })
        .collect()
}

/// Returns the engine's metrics as the `/metrics` route serves them.
pub fn exposition(engine: &rollcall_engine::Engine) -> String {
    let mut registry = prometheus_client::registry::Registry::with_prefix("rollcall_engine");
    engine.metrics().register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    text
}

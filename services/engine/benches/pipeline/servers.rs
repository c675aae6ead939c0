//! The bench's scratch database and NATS namespace, the in-process engine, and the
//! readings of `/proc` it reports.

use std::str::FromStr as _;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use async_nats::jetstream;
use rollcall_bus::{Namespace, StreamFamily, Topology};
use rollcall_engine::config::{EngineSettings, NatsConfig, PostgresConfig, RedisConfig};
use rollcall_engine::{EngineConfig, Service};
use rollcall_runtime::shutdown::ShutdownConfig;
use rollcall_runtime::{OpsConfig, Secret, Shutdown, TelemetryConfig};
use rollcall_store::Store;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};

pub fn nats_url() -> String {
    std::env::var("ROLLCALL_BENCH_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

fn redis_url() -> String {
    std::env::var("ROLLCALL_BENCH_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

fn admin_options() -> Result<PgConnectOptions> {
    let url = std::env::var("ROLLCALL_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    PgConnectOptions::from_str(&url)
        .with_context(|| format!("ROLLCALL_BENCH_DATABASE_URL `{url}` is not a PostgreSQL URL"))
}

async fn admin_connection(options: &PgConnectOptions) -> Result<PgConnection> {
    tokio::time::timeout(Duration::from_secs(10), PgConnection::connect_with(options))
        .await
        .context(
            "PostgreSQL did not answer within 10 s; start it or set ROLLCALL_BENCH_DATABASE_URL",
        )?
        .context("PostgreSQL refused the connection; start it or set ROLLCALL_BENCH_DATABASE_URL")
}

/// A migrated database of the bench's own, made as the tests make theirs.
pub struct BenchDb {
    name: String,
    admin: PgConnectOptions,
}

impl BenchDb {
    pub async fn create() -> Result<Self> {
        let admin = admin_options()?;
        let mut connection = admin_connection(&admin).await?;
        for role in ["rollcall_migrator", "rollcall_app"] {
            let statement = format!(
                "DO $$ BEGIN CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            );
            sqlx::query(AssertSqlSafe(statement)).execute(&mut connection).await?;
        }
        let name = format!("rollcall_bench_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name} OWNER rollcall_migrator")))
            .execute(&mut connection)
            .await?;
        let _ = connection.close().await;
        let db = Self { name, admin };
        let owner = sqlx::PgPool::connect_with(
            db.admin.clone().database(&db.name).username("rollcall_migrator"),
        )
        .await?;
        rollcall_store::migrate_as_owner(&owner).await?;
        owner.close().await;
        Ok(db)
    }

    /// The runtime role's URL, as the engine connects in production.
    pub fn app_url(&self) -> String {
        format!(
            "postgres://rollcall_app@{}:{}/{}",
            self.admin.get_host(),
            self.admin.get_port(),
            self.name
        )
    }

    pub async fn store(&self) -> Result<Store> {
        Ok(Store::connect(&self.app_url(), &rollcall_store::StoreOptions::default()).await?)
    }

    /// Counts the tenants not yet evaluated at their latest state or with unpublished
    /// events, and the finding events written to the outbox so far. It reads as the
    /// superuser, because row-level security would hide the outbox rows otherwise.
    pub async fn progress(&self) -> Result<(i64, i64)> {
        let mut connection = admin_connection(&self.admin.clone().database(&self.name)).await?;
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rollcall_work.tenant_work \
             WHERE state_version > evaluated_version OR outbox_pending",
        )
        .fetch_one(&mut connection)
        .await?;
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM rollcall.finding_outbox")
            .fetch_one(&mut connection)
            .await?;
        let _ = connection.close().await;
        Ok((pending, stored))
    }

    pub async fn drop_database(self) {
        if let Ok(mut connection) = admin_connection(&self.admin).await {
            let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            if let Err(error) = sqlx::query(AssertSqlSafe(statement)).execute(&mut connection).await
            {
                eprintln!("could not drop the bench database {}: {error}", self.name);
            }
        }
    }
}

/// A NATS namespace of the bench's own, with the bus's streams.
pub struct BenchNamespace {
    pub jetstream: jetstream::Context,
    pub namespace: Namespace,
}

impl BenchNamespace {
    pub async fn create() -> Result<Self> {
        let url = nats_url();
        let client = tokio::time::timeout(Duration::from_secs(10), async_nats::connect(&url))
            .await
            .with_context(|| format!("NATS at {url} did not answer; start nats-server -js or set ROLLCALL_BENCH_NATS_URL"))?
            .with_context(|| format!("NATS at {url} refused the connection"))?;
        let short = uuid::Uuid::new_v4().simple().to_string();
        let short = short.get(..12).unwrap_or("bench");
        let namespace =
            Namespace::new(&format!("b{short}"), &format!("B{}", short.to_uppercase()))?;
        let jetstream = jetstream::new(client);
        Topology::new(namespace.clone()).ensure(&jetstream).await?;
        Ok(Self { jetstream, namespace })
    }

    /// Counts the chunks that the engine's snapshot consumer has not acked yet, delivered
    /// or not.
    pub async fn unacked_snapshots(&self) -> Result<u64> {
        let stream =
            self.jetstream.get_stream(self.namespace.stream_name(StreamFamily::Source)).await?;
        let mut consumer = stream
            .get_consumer::<jetstream::consumer::pull::Config>(
                &rollcall_bus::ConsumerSpec::engine_snapshots().durable_name,
            )
            .await
            .map_err(|error| anyhow::anyhow!("cannot read the snapshot consumer: {error}"))?;
        let info = consumer.info().await?;
        Ok(info.num_pending + u64::try_from(info.num_ack_pending).unwrap_or(u64::MAX))
    }

    pub async fn delete(&self) {
        for family in StreamFamily::ALL {
            let _ = self.jetstream.delete_stream(self.namespace.stream_name(family)).await;
        }
    }
}

/// The engine service running on a task of the bench's runtime.
pub struct RunningEngine {
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl RunningEngine {
    pub async fn stop(self) -> Result<()> {
        self.shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .context("the engine did not stop within 30 s")??
    }
}

/// Starts the engine on `db` and `bus` with the production defaults of every setting
/// that changes its speed (ack wait, reconcile interval, pool size), and the data set's
/// reference instant as its clock so that the findings are those of `rollcall scan`.
pub async fn start_engine(db: &BenchDb, bus: &BenchNamespace) -> Result<RunningEngine> {
    let config = EngineConfig {
        telemetry: TelemetryConfig::default(),
        ops: OpsConfig { listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)) },
        shutdown: ShutdownConfig { grace_period_seconds: 10 },
        nats: NatsConfig {
            subject_prefix: bus.namespace.subject_prefix().to_owned(),
            stream_prefix: bus.namespace.stream_prefix().to_owned(),
            ..NatsConfig::new(nats_url())
        },
        postgres: PostgresConfig { url: Secret::new(db.app_url()), max_connections: 10 },
        redis: RedisConfig { url: Some(Secret::new(redis_url())) },
        engine: EngineSettings {
            partial_snapshot_seconds: 600,
            reconcile_seconds: 30,
            retention_seconds: 86_400,
            lock_ttl_seconds: 30,
            ack_wait_seconds: 30,
            max_deliver: 5,
            due_scan_seconds: 60,
            campaign_scan_seconds: 300,
            fixed_as_of: Some(rollcall_datagen::synthetic::reference()),
            clock_file: None,
        },
        mail: None,
        remediation: Default::default(),
    };
    let service = Service::connect(config).await?;
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let report = service.run(&stop).await?;
        if !report.is_clean() {
            bail!("the engine did not stop cleanly: {report:?}");
        }
        Ok(())
    });
    Ok(RunningEngine { shutdown, task })
}

/// User plus system CPU time of this process so far, from `/proc/self/stat` (fields 14
/// and 15, in clock ticks of 1/100 s on Linux); zero where `/proc` is missing.
pub fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return Duration::ZERO };
    // The command name in brackets may hold spaces; the fields after it are plain.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// The 1-minute load average from `/proc/loadavg`.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

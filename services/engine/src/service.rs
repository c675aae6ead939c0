//! Wiring: connections, consumers, periodic jobs and the ops server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use prometheus_client::registry::Registry;
use rollcall_bus::{
    BusMetrics, ConsumerRunner, ConsumerSpec, HeldMessages, Namespace, Publisher, RunnerConfig,
    Topology,
};
use rollcall_proto::Assembler;
use rollcall_runtime::ops::CheckFailure;
use rollcall_runtime::{OpsServer, Readiness, Shutdown, ShutdownReport, Workers};
use rollcall_store::{Store, StoreOptions};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, FileClock};
use crate::config::EngineConfig;
use crate::deadletters;
use crate::engine::Engine;
use crate::handlers::{self, DeltaHandler, HrEventHandler, SnapshotHandler, SyncReportHandler};
use crate::lock::EvaluationLock;
use crate::metrics::{ConsumerLagLabels, EngineMetrics};

/// Readiness probe timeout per dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting to NATS at start may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An error that stops the engine from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A subject or stream prefix is invalid.
    #[error("nats.subject_prefix or nats.stream_prefix: {0}")]
    Namespace(#[from] rollcall_bus::SubjectError),
    /// The `nats` section cannot give a connection.
    #[error(transparent)]
    NatsConfig(#[from] rollcall_bus::NatsConfigError),
    /// NATS did not respond.
    #[error("cannot connect to NATS at `{url}`: {reason}; check nats.url and that the server runs")]
    Nats {
        /// The configured URL.
        url: String,
        /// The client's error.
        reason: String,
    },
    /// The streams could not be created or updated.
    #[error(transparent)]
    Topology(#[from] rollcall_bus::TopologyError),
    /// A consumer could not be created or updated.
    #[error(transparent)]
    Consumer(#[from] rollcall_bus::ConsumerError),
    /// PostgreSQL rejected the connection or did not respond.
    #[error(transparent)]
    Store(#[from] rollcall_store::StoreError),
    /// `postgres.url` is not UTF-8.
    #[error("postgres.url is not UTF-8 text")]
    PostgresUrl,
    /// `redis.url` does not parse.
    #[error("redis.url is invalid: {0}")]
    Redis(#[from] redis::RedisError),
    /// The ops server could not bind.
    #[error(transparent)]
    Ops(#[from] rollcall_runtime::ops::OpsError),
    /// The `mail` section cannot work.
    #[error(transparent)]
    Mail(#[from] rollcall_reviews::mail::MailConfigError),
    /// The `remediation` section cannot work.
    #[error(transparent)]
    Remediation(#[from] crate::remediation::RemediationConfigError),
    /// The test clock file cannot be used.
    #[error(transparent)]
    ClockFile(#[from] crate::clock::ClockFileError),
    /// Both test clocks are set.
    #[error("set engine.fixed_as_of or engine.clock_file, not both")]
    TwoClocks,
}

/// A connected engine, ready to run.
pub struct Service {
    config: EngineConfig,
    engine: Engine,
    requests: mpsc::UnboundedReceiver<rollcall_core::TenantId>,
    client: async_nats::Client,
    jetstream: jetstream::Context,
    namespace: Namespace,
    bus_metrics: BusMetrics,
}

impl Service {
    /// Connects to NATS (creating the streams), PostgreSQL and, when configured, Redis.
    /// Redis being unreachable does not stop the start.
    pub async fn connect(mut config: EngineConfig) -> Result<Self, StartError> {
        // Checked first, so a wrong mail setting stops the start before any connection.
        let mail = config.mail.take().map(rollcall_reviews::mail::MailSender::new).transpose()?;
        let remediation = crate::remediation::RemediationAccess::from_config(std::mem::take(
            &mut config.remediation,
        ))?;
        let clock = match (config.engine.fixed_as_of, &config.engine.clock_file) {
            (Some(_), Some(_)) => return Err(StartError::TwoClocks),
            (Some(at), None) => Clock::Fixed(at),
            (None, Some(path)) => {
                let clock = FileClock::open(path)?;
                tracing::warn!(
                    path = %path.display(),
                    now = %clock.now(),
                    "evaluating at the test clock in engine.clock_file, not the system clock"
                );
                Clock::File(Arc::new(clock))
            }
            (None, None) => Clock::System,
        };
        let namespace = Namespace::new(&config.nats.subject_prefix, &config.nats.stream_prefix)?;
        if config.nats.insecure {
            tracing::warn!(url = %config.nats.display_url(), "nats.insecure is set: bus traffic may travel without TLS");
        }
        let options = config
            .nats
            .connect_options("rollcall-engine")?
            .connection_timeout(CONNECT_TIMEOUT)
            // Keep reconnecting for ever: a NATS restart must not end the engine.
            .max_reconnects(None);
        let client = options.connect(config.nats.url.as_str()).await.map_err(|error| {
            StartError::Nats { url: config.nats.display_url(), reason: error.to_string() }
        })?;
        let jetstream = jetstream::new(client.clone());
        Topology::new(namespace.clone())
            .with_replicas(config.nats.stream_replicas)
            .ensure(&jetstream)
            .await?;

        let url = config.postgres.url.expose_str().ok_or(StartError::PostgresUrl)?;
        let store_options = StoreOptions {
            max_connections: config.postgres.max_connections,
            ..StoreOptions::default()
        };
        let store = Store::connect(url, &store_options).await?;

        let metrics = EngineMetrics::new();
        let bus_metrics = BusMetrics::new();
        let lock = EvaluationLock::new(
            config.redis.url.as_ref(),
            store.clone(),
            Duration::from_secs(config.engine.lock_ttl_seconds.max(1)),
            namespace.subject_prefix(),
            metrics.clone(),
        )?;
        let publisher = Publisher::new(jetstream.clone(), namespace.clone(), bus_metrics.clone());
        let (engine, requests) = Engine::new(store, publisher, clock, lock, metrics);
        if let Some(sender) = mail {
            tracing::info!(
                server = sender.mailer().server(),
                tls = sender.config().smtp.tls.as_str(),
                "review mail enabled"
            );
            engine.set_mail_sender(sender);
        }
        for (tenant, entra, ldap) in remediation.tenants() {
            tracing::info!(tenant = %tenant, entra, ldap, "remediation write access configured");
        }
        engine.set_remediation_access(remediation);
        Ok(Self { config, engine, requests, client, jetstream, namespace, bus_metrics })
    }

    /// Returns the engine, for tests and tools.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs the consumers, the periodic jobs and the ops server until `shutdown` is
    /// triggered, then stops them within the grace period.
    pub async fn run(self, shutdown: &Shutdown) -> Result<ShutdownReport, StartError> {
        let Service { config, engine, requests, client, jetstream, namespace, bus_metrics } = self;
        let runner_config = RunnerConfig::default();
        let spec = |spec: ConsumerSpec| {
            spec.with_ack_wait(Duration::from_secs(config.engine.ack_wait_seconds.max(1)))
                .with_max_deliver(config.engine.max_deliver)
        };
        let held = HeldMessages::new();
        let assembler = Arc::new(Mutex::new(Assembler::new()));
        let snapshots = ConsumerRunner::start(
            jetstream.clone(),
            namespace.clone(),
            spec(ConsumerSpec::engine_snapshots()),
            SnapshotHandler::new(engine.clone(), assembler.clone(), held.clone()),
            bus_metrics.clone(),
            runner_config,
        )
        .await?
        .with_held(held.clone());
        let deltas = ConsumerRunner::start(
            jetstream.clone(),
            namespace.clone(),
            spec(ConsumerSpec::engine_deltas()),
            DeltaHandler::new(engine.clone(), config.engine.max_deliver),
            bus_metrics.clone(),
            runner_config,
        )
        .await?;
        let sync_reports = ConsumerRunner::start(
            jetstream.clone(),
            namespace.clone(),
            spec(ConsumerSpec::engine_sync_reports()),
            SyncReportHandler::new(engine.clone()),
            bus_metrics.clone(),
            runner_config,
        )
        .await?;
        let hr_events = ConsumerRunner::start(
            jetstream.clone(),
            namespace.clone(),
            spec(ConsumerSpec::engine_hr_events()),
            HrEventHandler::new(engine.clone()),
            bus_metrics.clone(),
            runner_config,
        )
        .await?;

        let mut registry = Registry::with_prefix("rollcall_engine");
        bus_metrics.register(&mut registry);
        engine.metrics().register(&mut registry);
        let readiness = readiness(&client, &engine);
        let listener = OpsServer::bind(&config.ops).await?;
        let ops = OpsServer::new(registry, readiness, shutdown);

        // Before the consumers start, so a sync report that arrives later wins.
        match engine.seed_sync_gauges().await {
            Ok(sources) => tracing::info!(sources, "last-sync gauges seeded from the store"),
            Err(error) => {
                tracing::warn!(error = %error, "last-sync gauges not seeded; they fill as syncs report");
            }
        }
        let stop = shutdown.token();
        let mut workers = Workers::new(shutdown);
        workers.spawn("ops", async move { Ok(ops.serve(listener).await?) });
        spawn_runner(&mut workers, "snapshots", snapshots, stop.clone());
        spawn_runner(&mut workers, "deltas", deltas, stop.clone());
        spawn_runner(&mut workers, "sync-reports", sync_reports, stop.clone());
        spawn_runner(&mut workers, "hr-events", hr_events, stop.clone());
        {
            let (engine, jetstream, namespace, stop) =
                (engine.clone(), jetstream.clone(), namespace.clone(), stop.clone());
            let ack_wait = Duration::from_secs(config.engine.ack_wait_seconds.max(1));
            workers.spawn("dead-letters", async move {
                deadletters::run(engine, jetstream, namespace, ack_wait, stop).await;
                Ok(())
            });
        }
        {
            let (engine, stop) = (engine.clone(), stop.clone());
            workers.spawn("evaluations", async move {
                engine.run_evaluations(requests, stop).await;
                Ok(())
            });
        }
        {
            let (engine, stop) = (engine.clone(), stop.clone());
            let interval = config.engine.reconcile_interval();
            let lag = LagProbe { jetstream: jetstream.clone(), namespace: namespace.clone() };
            workers.spawn("reconcile", async move {
                every(interval, &stop, || async {
                    if let Err(error) = engine.reconcile().await {
                        tracing::warn!(error = %error, "reconcile failed; retrying at the next interval");
                    }
                    lag.record(engine.metrics()).await;
                })
                .await;
                Ok(())
            });
        }
        {
            let (engine, stop) = (engine.clone(), stop.clone());
            let interval = config.engine.due_scan_interval();
            workers.spawn("due-scan", async move {
                every(interval, &stop, || async {
                    if let Err(error) = engine.scan_due_leavers().await {
                        tracing::warn!(error = %error, "due-scan failed; retrying at the next interval");
                    }
                })
                .await;
                Ok(())
            });
        }
        {
            let (engine, stop) = (engine.clone(), stop.clone());
            let interval = config.engine.campaign_scan_interval();
            workers.spawn("review-campaigns", async move {
                engine.check_mail_connection().await;
                every(interval, &stop, || async {
                    if let Err(error) = engine.run_review_campaigns().await {
                        tracing::warn!(error = %error, "review campaign pass failed; retrying at the next interval");
                    }
                })
                .await;
                Ok(())
            });
        }
        {
            let (engine, stop) = (engine.clone(), stop.clone());
            let interval = config.engine.retention_interval();
            workers.spawn("retention", async move {
                every(interval, &stop, || async {
                    if let Err(error) = engine.apply_retention().await {
                        tracing::warn!(error = %error, "retention failed; retrying at the next interval");
                    }
                })
                .await;
                Ok(())
            });
        }
        {
            let (engine, stop) = (engine.clone(), stop.clone());
            let max_age = config.engine.partial_snapshot_expiry();
            let interval = (max_age / 4).max(Duration::from_secs(1));
            workers.spawn("partial-snapshots", async move {
                every(interval, &stop, || {
                    handlers::expire_partial_snapshots(&engine, &assembler, &held, max_age)
                })
                .await;
                Ok(())
            });
        }
        tracing::info!(
            subject_prefix = namespace.subject_prefix(),
            redis = engine.lock().uses_redis(),
            "engine started"
        );
        Ok(workers.run(config.shutdown.grace_period()).await)
    }
}

fn spawn_runner<H: rollcall_bus::Handler + 'static>(
    workers: &mut Workers,
    name: &str,
    runner: ConsumerRunner<H>,
    stop: CancellationToken,
) {
    workers.spawn(name.to_owned(), async move {
        runner.run(stop).await;
        Ok(())
    });
}

/// Runs `job` now and then every `interval` until `stop` fires.
async fn every<F, Fut>(interval: Duration, stop: &CancellationToken, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => job().await,
        }
    }
}

fn readiness(client: &async_nats::Client, engine: &Engine) -> Readiness {
    let mut readiness = Readiness::new();
    let nats = client.clone();
    readiness.add("nats", PROBE_TIMEOUT, move || {
        let state = nats.connection_state();
        async move {
            match state {
                async_nats::connection::State::Connected => Ok(()),
                other => Err(CheckFailure::new(format!("NATS connection is {other:?}"))),
            }
        }
    });
    let store = engine.store().clone();
    readiness.add("postgres", PROBE_TIMEOUT, move || {
        let store = store.clone();
        async move { store.ping().await.map_err(CheckFailure::from) }
    });
    if engine.lock().uses_redis() {
        let lock = engine.lock().clone();
        readiness.add("redis", PROBE_TIMEOUT, move || {
            let lock = lock.clone();
            async move { lock.redis_answers().await.map_err(CheckFailure::new) }
        });
    }
    readiness
}

/// Reads the engine's consumers' pending counts for the lag gauge.
struct LagProbe {
    jetstream: jetstream::Context,
    namespace: Namespace,
}

impl LagProbe {
    async fn record(&self, metrics: &EngineMetrics) {
        for spec in [
            ConsumerSpec::engine_snapshots(),
            ConsumerSpec::engine_deltas(),
            ConsumerSpec::engine_sync_reports(),
            ConsumerSpec::engine_hr_events(),
        ] {
            let stream = self.namespace.stream_name(spec.kind.stream());
            let Ok(stream) = self.jetstream.get_stream(stream).await else { continue };
            let Ok(mut consumer) =
                stream.get_consumer::<jetstream::consumer::pull::Config>(&spec.durable_name).await
            else {
                continue;
            };
            if let Ok(info) = consumer.info().await {
                let labels = ConsumerLagLabels { consumer: spec.durable_name.clone() };
                metrics
                    .consumer_lag
                    .get_or_create(&labels)
                    .set(i64::try_from(info.num_pending).unwrap_or(i64::MAX));
            }
        }
    }
}

//! The consumer runner: pulls one message at a time from a durable consumer and runs a
//! handler on it, with progress acks, confirmed final acks, dead letters and a graceful
//! stop.

mod advisory;
pub(crate) mod dead_letter;
mod held;
mod process;

pub use held::HeldMessages;

use std::time::Duration;

use async_nats::Subscriber;
use async_nats::jetstream;
use async_nats::jetstream::consumer::PullConsumer;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::consumers::{ConsumerError, ConsumerSpec};
use crate::handler::Handler;
use crate::metrics::{BusMetrics, Disposition};
use crate::publish::Publisher;
use crate::subject::Namespace;

/// Settings of a runner that are not part of the consumer's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerConfig {
    /// How long one pull request waits at the server for a message. A stop that arrives
    /// during the wait takes up to this long, because the runner lets the pull finish and
    /// naks a message that arrives in it.
    pub pull_wait: Duration,
    /// Time an in-flight handler gets to finish after a stop. After it the runner drops the
    /// handler's future and naks the message, so another replica takes it at once.
    pub stop_grace: Duration,
    /// Maximum wait between pull attempts while the server is unreachable. The wait
    /// starts at a tenth of it and doubles.
    pub max_retry_wait: Duration,
}

impl Default for RunnerConfig {
    /// Pull wait 5 s, stop grace 20 s (within the 25 s shutdown grace period of
    /// `rollcall-runtime`), retry wait up to 10 s.
    fn default() -> Self {
        Self {
            pull_wait: Duration::from_secs(5),
            stop_grace: Duration::from_secs(20),
            max_retry_wait: Duration::from_secs(10),
        }
    }
}

/// Counts of a runner's deliveries up to its stop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Deliveries whose handler returned a result.
    pub handled: u64,
    /// Deliveries nakked because the stop came before the handler returned, or before it
    /// started.
    pub interrupted: u64,
}

/// Runs a [`Handler`] on the messages of one durable pull consumer.
///
/// Each runner handles one message at a time and pulls the next only when the current
/// one is settled, so it never keeps a message whose `ack_wait` runs out before its
/// handler starts. For more throughput run more runners, in this process or in other
/// replicas, on the same [`ConsumerSpec`].
pub struct ConsumerRunner<H> {
    consumer: PullConsumer,
    jetstream: jetstream::Context,
    spec: ConsumerSpec,
    namespace: Namespace,
    handler: H,
    dead_letters: Publisher,
    metrics: BusMetrics,
    config: RunnerConfig,
    /// The consumer's `MAX_DELIVERIES` advisories, subscribed at start so that none is
    /// missed before `run`.
    advisories: Option<Subscriber>,
    /// Where `Outcome::Hold` puts messages; `None` naks them.
    held: Option<HeldMessages>,
}

impl<H: Handler> ConsumerRunner<H> {
    /// Creates or updates the consumer of `spec` and returns a runner for it.
    ///
    /// # Errors
    ///
    /// The [`ConsumerError`] of [`ConsumerSpec::ensure`].
    pub async fn start(
        jetstream: jetstream::Context,
        namespace: Namespace,
        spec: ConsumerSpec,
        handler: H,
        metrics: BusMetrics,
        config: RunnerConfig,
    ) -> Result<Self, ConsumerError> {
        let consumer = spec.ensure(&jetstream, &namespace).await?;
        let stream = namespace.stream_name(spec.kind.stream());
        let subject = advisory::max_deliveries_subject(&stream, &spec.durable_name);
        let advisories = jetstream.client().subscribe(subject).await.map_err(|source| {
            ConsumerError::Advisories { consumer: spec.durable_name.clone(), source }
        })?;
        let dead_letters = Publisher::new(jetstream.clone(), namespace.clone(), metrics.clone());
        Ok(Self {
            consumer,
            jetstream,
            spec,
            namespace,
            handler,
            dead_letters,
            metrics,
            config,
            advisories: Some(advisories),
            held: None,
        })
    }

    /// Keeps messages for which the handler returns `Outcome::Hold` in `held`, which the
    /// handler shares to settle them later. Several runners may share one set.
    #[must_use]
    pub fn with_held(mut self, held: HeldMessages) -> Self {
        self.held = Some(held);
        self
    }

    /// Returns the consumer's definition.
    pub fn spec(&self) -> &ConsumerSpec {
        &self.spec
    }

    /// Pulls and handles messages until `stop` is cancelled, then returns.
    ///
    /// After the stop it pulls nothing new. A handler that is running gets
    /// [`RunnerConfig::stop_grace`] to return, and its result is then settled as usual.
    /// A handler that does not return in time is dropped and its message nakked, never
    /// acked. Errors from the server (a restart, a lost connection) are logged and the
    /// runner pulls again after a growing wait, so it returns only on a stop.
    ///
    /// Alongside, it turns the consumer's `MAX_DELIVERIES` advisories into dead letters:
    /// they report a message whose last delivery ended without a handler result, because
    /// a process died or a dead-letter publish failed.
    pub async fn run(mut self, stop: CancellationToken) -> RunReport {
        let watcher = self.advisories.take().map(|subscription| {
            let watcher = advisory::Watcher {
                jetstream: self.jetstream.clone(),
                namespace: self.namespace.clone(),
                kind: self.spec.kind,
                publisher: self.dead_letters.clone(),
                metrics: self.metrics.clone(),
            };
            advisory::watch_max_deliveries(watcher, subscription, stop.clone())
        });
        let watch = async {
            if let Some(watcher) = watcher {
                watcher.await;
            }
        };
        let held = self.held.clone();
        let period = self.spec.ack_wait / 3;
        let keep_alive = async {
            let Some(held) = &held else { return };
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = ticks.tick() => held.progress_all().await,
                }
            }
        };
        let (report, (), ()) = tokio::join!(self.pull_loop(&stop), watch, keep_alive);
        if let Some(held) = &held {
            let nakked = held.nak_all().await;
            if nakked > 0 {
                tracing::info!(
                    consumer = %self.spec.durable_name, nakked,
                    "held messages nakked on stop, so another replica takes them"
                );
            }
        }
        report
    }

    async fn pull_loop(&mut self, stop: &CancellationToken) -> RunReport {
        let mut report = RunReport::default();
        let mut retry_wait = self.config.max_retry_wait / 10;
        while !stop.is_cancelled() {
            match self.pull_one(stop, &mut report).await {
                Ok(Some(message)) => {
                    retry_wait = self.config.max_retry_wait / 10;
                    self.process(message, stop, &mut report).await;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(
                        consumer = %self.spec.durable_name, error = %error,
                        wait_ms = retry_wait.as_millis(), "pulling from the consumer failed, retrying"
                    );
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(retry_wait) => {}
                    }
                    retry_wait = (retry_wait * 2).min(self.config.max_retry_wait);
                    self.recreate_consumer().await;
                }
            }
        }
        tracing::info!(
            consumer = %self.spec.durable_name, handled = report.handled,
            interrupted = report.interrupted, "consumer runner stopped"
        );
        report
    }

    /// Sends one pull request and waits for its message, or for its end without one.
    ///
    /// When `stop` fires during the wait, the pull still runs to its end so that a
    /// message the server sends into it is nakked at once rather than left until its
    /// `ack_wait` runs out.
    async fn pull_one(
        &self,
        stop: &CancellationToken,
        report: &mut RunReport,
    ) -> Result<Option<jetstream::Message>, async_nats::Error> {
        let mut batch =
            self.consumer.batch().max_messages(1).expires(self.config.pull_wait).messages().await?;
        let next = tokio::select! {
            next = batch.next() => next,
            () = stop.cancelled() => {
                if let Some(Ok(message)) = batch.next().await {
                    self.release(&message, report).await;
                }
                return Ok(None);
            }
        };
        match next {
            None => Ok(None),
            Some(result) => result.map(Some),
        }
    }

    /// Naks `message` without running the handler, for a stop.
    async fn release(&self, message: &jetstream::Message, report: &mut RunReport) {
        if let Err(error) = message.ack_with(jetstream::AckKind::Nak(None)).await {
            tracing::warn!(consumer = %self.spec.durable_name, error = %error, "nak on stop failed");
        }
        self.metrics.count_consumed(&self.spec.durable_name, Disposition::Interrupted);
        report.interrupted += 1;
    }

    /// Asks the server for the consumer again after a pull error, creating it if it was
    /// lost (a server restarted without its store). The old handle stays on failure.
    async fn recreate_consumer(&mut self) {
        match self.spec.ensure(&self.jetstream, &self.namespace).await {
            Ok(consumer) => self.consumer = consumer,
            Err(error) => tracing::warn!(
                consumer = %self.spec.durable_name, error = %error,
                "consumer not available yet, will retry"
            ),
        }
    }
}

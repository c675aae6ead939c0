//! The dead-letter consumer: each message a consumer gave up on becomes a pipeline
//! problem of its tenant, hence a `pipeline_dead_letter` finding, and a metric.
//!
//! The bus's runner serves only the message kinds it defines. Dead letters are read
//! here with a plain durable pull consumer on the dead-letter stream, acked after the
//! commit.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::StreamExt;
use prost::Message as _;
use rollcall_bus::{Namespace, StreamFamily, dead_letter};
use rollcall_core::TenantId;
use rollcall_proto::v1;
use rollcall_store::{PipelineProblem, ProblemKind, StoreError};
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::metrics::DeadLetterLabels;

/// The durable name of the engine's dead-letter consumer.
pub const CONSUMER: &str = "engine-dead-letters";
/// Time before a dead letter whose problem could not be stored is delivered again.
const RETRY: Duration = Duration::from_secs(30);

/// Creates or updates the engine's dead-letter consumer.
pub async fn ensure_consumer(
    jetstream: &jetstream::Context,
    namespace: &Namespace,
    ack_wait: Duration,
) -> Result<jetstream::consumer::Consumer<pull::Config>, async_nats::Error> {
    let stream = jetstream.get_stream(namespace.stream_name(StreamFamily::DeadLetter)).await?;
    let config = pull::Config {
        durable_name: Some(CONSUMER.to_owned()),
        filter_subject: namespace.stream_subjects(StreamFamily::DeadLetter),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait,
        // A dead letter is never dropped: it is nakked until the store takes it.
        max_deliver: -1,
        ..pull::Config::default()
    };
    Ok(stream.get_or_create_consumer(CONSUMER, config).await?)
}

/// Reads dead letters until `stop` fires.
pub async fn run(
    engine: Engine,
    jetstream: jetstream::Context,
    namespace: Namespace,
    ack_wait: Duration,
    stop: CancellationToken,
) {
    let mut wait = Duration::from_millis(500);
    let mut current = None;
    while !stop.is_cancelled() {
        // Asked for once, and again after a pull error, which recreates a consumer that
        // a server lost with its store.
        let consumer = match current.take() {
            Some(consumer) => consumer,
            None => match ensure_consumer(&jetstream, &namespace, ack_wait).await {
                Ok(consumer) => consumer,
                Err(error) => {
                    tracing::warn!(error = %error, "dead-letter consumer not available, retrying");
                    tokio::select! { () = stop.cancelled() => return, () = tokio::time::sleep(wait) => {} }
                    wait = (wait * 2).min(Duration::from_secs(10));
                    continue;
                }
            },
        };
        wait = Duration::from_millis(500);
        let batch =
            consumer.fetch().max_messages(16).expires(Duration::from_secs(2)).messages().await;
        let mut messages = match batch {
            Ok(messages) => {
                current = Some(consumer);
                messages
            }
            Err(error) => {
                tracing::warn!(error = %error, "pulling dead letters failed, retrying");
                tokio::select! { () = stop.cancelled() => return, () = tokio::time::sleep(wait) => {} }
                continue;
            }
        };
        while let Some(message) = messages.next().await {
            let Ok(message) = message else { break };
            let settle = match handle(&engine, &namespace, &message).await {
                Ok(()) => message.double_ack().await.map_err(|e| e.to_string()),
                Err(reason) => {
                    tracing::warn!(subject = %message.subject, %reason, "dead letter not stored yet");
                    message.ack_with(AckKind::Nak(Some(RETRY))).await.map_err(|e| e.to_string())
                }
            };
            if let Err(error) = settle {
                tracing::warn!(subject = %message.subject, %error, "settling a dead letter failed");
            }
        }
    }
}

/// Stores one dead letter as a pipeline problem. `Err` means the caller naks it for a
/// retry.
async fn handle(
    engine: &Engine,
    namespace: &Namespace,
    message: &jetstream::Message,
) -> Result<(), String> {
    let subject = message.subject.as_str();
    let kind = subject.rsplit('.').next().unwrap_or_default().to_owned();
    let tenant = namespace.tenant_of(subject).and_then(|t| TenantId::new(t).ok());
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(name))
            .map(|value| value.as_str().to_owned())
            .unwrap_or_default()
    };
    engine
        .metrics()
        .dead_letters
        .get_or_create(&DeadLetterLabels {
            tenant: tenant.as_ref().map_or_else(|| "unknown".to_owned(), ToString::to_string),
            kind: kind.clone(),
        })
        .inc();
    let Some(tenant) = tenant else {
        tracing::error!(subject, "dead letter without a tenant in its subject; nothing to record");
        return Ok(());
    };
    let source = source_of(&kind, &message.payload);
    let detail = serde_json::json!({
        "kind": kind,
        "reason": header(dead_letter::REASON_HEADER),
        "cause": header(dead_letter::CAUSE_HEADER),
        "original_subject": header(dead_letter::ORIGINAL_SUBJECT_HEADER),
        "original_sequence": header(dead_letter::ORIGINAL_SEQUENCE_HEADER),
        "consumer": header(dead_letter::CONSUMER_HEADER),
    });
    let published =
        message.info().map(|info| info.published).unwrap_or_else(|_| chrono::Utc::now());
    let problem =
        PipelineProblem { kind: ProblemKind::DeadLetter, source, detail, opened_at: published };
    match engine.store().tenant(&tenant).open_pipeline_problem(&problem).await {
        Ok(()) => {
            tracing::warn!(
                tenant = %tenant, source = %problem.source, kind = %kind,
                "dead letter recorded as a pipeline finding"
            );
            engine.request_evaluation(&tenant);
            Ok(())
        }
        Err(StoreError::UnknownTenant { .. }) => {
            tracing::error!(
                tenant = %tenant, kind = %kind,
                "dead letter for a tenant the store does not know; apply its configuration to see it as a finding"
            );
            Ok(())
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Returns the source a dead-lettered payload belongs to, or `""` when it does not
/// decode.
fn source_of(kind: &str, payload: &[u8]) -> String {
    match kind {
        "snapshot" => {
            v1::SnapshotChunk::decode(payload).map(|chunk| chunk.source).unwrap_or_default()
        }
        "delta" => v1::SnapshotDelta::decode(payload).map(|delta| delta.source).unwrap_or_default(),
        "sync" => v1::SyncReport::decode(payload).map(|report| report.source).unwrap_or_default(),
        "hr" => "hr".to_owned(),
        _ => String::new(),
    }
    .parse::<rollcall_core::model::SourceId>()
    .map(|source| source.to_string())
    .unwrap_or_default()
}

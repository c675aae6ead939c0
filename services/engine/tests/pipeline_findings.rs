//! Pipeline findings: a poison message ends on the dead-letter stream and becomes a
//! `pipeline_dead_letter` finding and a metric; a FAILED sync report opens
//! `source_sync_failed` and the next OK resolves it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use chrono::Utc;
use rollcall_core::FindingKind;
use rollcall_core::model::SourceId;
use rollcall_engine::metrics::DeadLetterLabels;
use rollcall_proto::{InputProblem, SyncOutcome, SyncReport, v1};
use rollcall_store::FindingStatus;
use support::{RedisMode, RunningEngine, TestBus, TestDb, config, eventually, example_dir};

async fn configured_tenant(db: &TestDb) -> rollcall_core::TenantId {
    let store = db.store().await;
    let applied = rollcall_engine::tenant_apply::apply(&store, &example_dir()).await.unwrap();
    rollcall_core::TenantId::new(&applied.tenant).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_message_becomes_a_dead_letter_finding_and_a_metric() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let tenant = configured_tenant(&db).await;
    let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 2)).await;

    let client = async_nats::connect(support::nats_url()).await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let subject = bus.namespace.snapshot_subject(tenant.as_str(), "entra").unwrap();
    jetstream.publish(subject, vec![0xff, 0xff, 0xff].into()).await.unwrap().await.unwrap();

    let store = db.store().await;
    let finding = eventually("the dead-letter finding", || async {
        let open = store.tenant(&tenant).findings(FindingStatus::Open).await.unwrap();
        open.into_iter().find(|s| s.finding.kind == FindingKind::PipelineDeadLetter)
    })
    .await;
    // Undecodable, so its source is unknown; the reason names the payload.
    assert_eq!(finding.finding.subject.source, None);
    let reason = finding.finding.evidence.iter().find(|e| e.field == "reason").unwrap();
    assert!(reason.value.contains("not a rollcall.v1.SnapshotChunk"), "{reason:?}");
    let cause = finding.finding.evidence.iter().find(|e| e.field == "cause").unwrap();
    assert_eq!(cause.value, "rejected");

    let labels = DeadLetterLabels { tenant: tenant.to_string(), kind: "snapshot".to_owned() };
    assert_eq!(engine.engine.metrics().dead_letters.get_or_create(&labels).get(), 1);
    let event = eventually("the opened event", || async {
        bus.finding_events()
            .await
            .into_iter()
            .find(|e| e.finding.as_ref().is_some_and(|f| f.kind == "pipeline_dead_letter"))
    })
    .await;
    assert_eq!(event.r#type, v1::FindingEventType::Opened as i32);
    engine.stop().await;
    bus.delete().await;
}

fn report(tenant: &rollcall_core::TenantId, outcome: SyncOutcome, minute: u32) -> v1::SyncReport {
    use chrono::TimeZone;
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 14, minute, 0).unwrap();
    let failed = outcome == SyncOutcome::Failed;
    let report = SyncReport {
        report_id: uuid::Uuid::new_v4(),
        tenant: tenant.clone(),
        source: SourceId::hr(),
        started_at: at,
        finished_at: at,
        outcome,
        snapshot_id: (!failed).then(uuid::Uuid::new_v4),
        content_hash: (!failed)
            .then(|| rollcall_proto::ContentHash::of_roster(&Default::default())),
        problems: if failed {
            vec![InputProblem {
                input: "hr/roster.csv".to_owned(),
                location: Some("line 3".to_owned()),
                message: "the file is not UTF-8".to_owned(),
                fatal: true,
            }]
        } else {
            Vec::new()
        },
        connector: "file-connector".to_owned(),
    };
    rollcall_proto::sync_report_to_proto(&report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sync_opens_a_finding_until_the_next_ok() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let tenant = configured_tenant(&db).await;
    let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;
    let publisher = bus.publisher();
    let store = db.store().await;
    let sync_finding = |status| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            let all = store.tenant(&tenant).findings(status).await.unwrap();
            all.into_iter().find(|s| s.finding.kind == FindingKind::SourceSyncFailed)
        }
    };

    publisher.publish(&report(&tenant, SyncOutcome::Failed, 1)).await.unwrap();
    let open = eventually("the sync finding", || sync_finding(FindingStatus::Open)).await;
    assert_eq!(open.finding.subject.source, Some(SourceId::hr()));
    let message = open.finding.evidence.iter().find(|e| e.field == "message").unwrap();
    assert_eq!(message.value, "the file is not UTF-8");

    // An OK older than the failure changes nothing; a later OK resolves it.
    publisher.publish(&report(&tenant, SyncOutcome::Ok, 0)).await.unwrap();
    publisher.publish(&report(&tenant, SyncOutcome::Ok, 2)).await.unwrap();
    let resolved = eventually("the sync finding resolved", || async {
        sync_finding(FindingStatus::All).await.filter(|s| s.resolved_at.is_some())
    })
    .await;
    assert_eq!(resolved.finding.id, open.finding.id);
    let events = eventually("opened and resolved events", || async {
        let events: Vec<_> = bus
            .finding_events()
            .await
            .into_iter()
            .filter(|e| e.finding.as_ref().is_some_and(|f| f.id == open.finding.id))
            .map(|e| e.r#type)
            .collect();
        (events.len() >= 2).then_some(events)
    })
    .await;
    assert_eq!(
        events,
        [v1::FindingEventType::Opened as i32, v1::FindingEventType::Resolved as i32]
    );
    engine.stop().await;
    bus.delete().await;
}

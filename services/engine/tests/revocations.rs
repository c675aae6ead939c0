//! The engine follows a revoke decision through. Once a campaign closes, every revoked
//! grant still present after the tenant's window is a `revocation_unverified` finding.
//! A sync without the grant verifies its removal and resolves the finding, and a later
//! sync with the grant again opens `revoked_grant_returned`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::BTreeSet;

use chrono::TimeDelta;
use rollcall_core::model::Member;
use rollcall_store::{ReviewAction, ReviewActionKind, RevocationState};
use support::{
    RedisMode, RunningEngine, TestBus, TestDb, add_tenant, as_of, config, eventually, example,
    example_dir, publish_example, stored_findings,
};
use uuid::Uuid;

/// A campaign without a second stage, and a one-hour revocation window.
const CAMPAIGN: &str = "\ncampaigns:\n  - id: quarterly-all\n    name: Quarterly access review\n    reviewers:\n      fallback: E1003\n    max_source_age: 30d\n";

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
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

fn count(
    findings: &std::collections::BTreeMap<String, (String, String, String)>,
    kind: &str,
) -> usize {
    findings.values().filter(|(k, _, _)| k == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_grants_are_verified_by_syncs() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let loaded = example();
    let tenant = add_tenant(&store, &loaded).await;
    let running = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;
    let chunks = publish_example(&bus, &loaded, 64 * 1024).await;
    let scope = store.tenant(&tenant);
    eventually("every source stored", || async {
        let states = scope.source_states().await.unwrap();
        (states.len() == chunks.len()).then_some(())
    })
    .await;

    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("harborview");
    copy_dir(&example_dir(), &copy);
    let yaml = std::fs::read_to_string(copy.join("tenant.yaml")).unwrap();
    let yaml = yaml.replacen("  deprovision: 24h\n", "  deprovision: 24h\n  revocation: 1h\n", 1);
    assert!(yaml.contains("revocation: 1h"));
    std::fs::write(copy.join("tenant.yaml"), yaml + CAMPAIGN).unwrap();
    rollcall_engine::tenant_apply::apply(&store, &copy).await.unwrap();
    let campaign = eventually("the campaign launched by the engine", || async {
        scope.review_campaigns().await.unwrap().first().map(|c| c.campaign_id)
    })
    .await;

    // Every reviewer revokes everything and signs off two hours before the engine's
    // clock, so the one-hour window has passed at the next evaluation.
    let items = scope.review_items(campaign).await.unwrap();
    let reviewers: BTreeSet<String> = items.iter().map(|i| i.reviewer.clone()).collect();
    for reviewer in &reviewers {
        let ids = items.iter().filter(|i| &i.reviewer == reviewer).map(|i| i.item_id).collect();
        let action = ReviewAction {
            actor: reviewer.clone(),
            at: as_of() - TimeDelta::hours(3),
            item_ids: ids,
            kind: ReviewActionKind::Revoke,
            justification: None,
        };
        scope.decide_review_items(campaign, &action).await.unwrap();
        scope.sign_off_review(campaign, reviewer, as_of() - TimeDelta::hours(2)).await.unwrap();
    }
    assert_eq!(scope.review_revocations(Some(campaign)).await.unwrap().len(), items.len());

    running.engine.request_evaluation(&tenant);
    eventually("a finding for every revoked grant", || async {
        let findings = stored_findings(&store, &tenant).await;
        (count(&findings, "revocation_unverified") == items.len()).then_some(())
    })
    .await;

    // A sync of one source without one directly held revoked grant.
    let revocations = scope.review_revocations(Some(campaign)).await.unwrap();
    let (target, mut snapshot) = revocations
        .iter()
        .filter(|r| !r.item_key.contains('@') && !r.item_key.contains('~'))
        .find_map(|r| {
            let snapshot =
                loaded.data.sources.iter().find(|s| s.source.to_string() == r.source)?.clone();
            let direct = snapshot.memberships.iter().any(|m| {
                matches!(&m.member, Member::Account(id) if id == &r.account_id)
                    && m.entitlement == r.entitlement_id
            });
            direct.then(|| (r.clone(), snapshot))
        })
        .expect("a revoked direct grant");
    snapshot.memberships.retain(|m| {
        !(matches!(&m.member, Member::Account(id) if id == &target.account_id)
            && m.entitlement == target.entitlement_id)
    });
    let publisher = bus.publisher();
    let without = rollcall_proto::split(&snapshot, &tenant, Uuid::new_v4(), 64 * 1024).unwrap();
    publisher.publish_chunks(&without).await.unwrap();

    let verified = eventually("the removal verified", || async {
        let rows = scope.review_revocations(Some(campaign)).await.unwrap();
        let row = rows.into_iter().find(|r| r.item_id == target.item_id)?;
        (row.state == RevocationState::Verified).then_some(row)
    })
    .await;
    let state = scope.source_states().await.unwrap();
    let synced = state.iter().find(|s| s.source.to_string() == target.source).unwrap();
    assert_eq!(verified.verified_at, Some(synced.collected_at));
    assert_eq!(verified.verified_snapshot, Some(synced.snapshot_id));
    eventually("the finding of the verified removal resolved", || async {
        let findings = stored_findings(&store, &tenant).await;
        (count(&findings, "revocation_unverified") == items.len() - 1).then_some(())
    })
    .await;

    // The grant given back in a later sync.
    let original = loaded.data.sources.iter().find(|s| s.source.to_string() == target.source);
    let with =
        rollcall_proto::split(original.unwrap(), &tenant, Uuid::new_v4(), 64 * 1024).unwrap();
    publisher.publish_chunks(&with).await.unwrap();
    let findings = eventually("the returned grant reported", || async {
        let findings = stored_findings(&store, &tenant).await;
        (count(&findings, "revoked_grant_returned") == 1).then_some(findings)
    })
    .await;
    let (_, severity, summary) =
        findings.values().find(|(kind, _, _)| kind == "revoked_grant_returned").unwrap();
    assert_eq!(severity, "high");
    assert!(summary.contains(&target.item_key), "{summary}");
    let rows = scope.review_revocations(Some(campaign)).await.unwrap();
    let row = rows.iter().find(|r| r.item_id == target.item_id).unwrap();
    assert_eq!(row.state, RevocationState::Returned);
    running.stop().await;
}

//! Revoke decisions followed through in a real PostgreSQL: rows written when the campaign
//! closes, verified by a later sync without the grant, overdue after the window, and a
//! grant given back after verification.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../store/tests/support/mod.rs"]
mod support;

mod common;

use std::collections::BTreeSet;

use chrono::TimeDelta;
use rollcall_reviews::expire_overdue;
use rollcall_store::{
    REVOCATION_OVERDUE, REVOCATION_VERIFIED, REVOCATIONS_REQUESTED, REVOKED_GRANT_RETURNED,
    RevocationState, TenantScope,
};
use support::TestDb;

use common::{
    REVOKE_AT_EXPIRY, SIGNED_OFF, closed_campaign, example_config, example_tenant, launched, now,
    present_keys, resync,
};

const ACTOR: &str = "rollcall-engine";

async fn actions(scope: &TenantScope<'_>) -> Vec<String> {
    scope.audit_entries(0, 10_000).await.unwrap().into_iter().map(|e| e.action).collect()
}

#[tokio::test]
async fn closing_requests_each_revocation() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let (campaign, revoked) = closed_campaign(&scope).await;

    let rows = scope.review_revocations(Some(campaign)).await.unwrap();
    let ids: BTreeSet<i32> = rows.iter().map(|r| r.item_id).collect();
    assert_eq!(ids, revoked);
    let items = scope.review_items(campaign).await.unwrap();
    for row in &rows {
        let item = items.iter().find(|i| i.item_id == row.item_id).unwrap();
        assert_eq!(row.item_key, item.item_key);
        assert_eq!(row.state, RevocationState::Open);
        assert_eq!(row.requested_at, now() + TimeDelta::hours(4));
        assert!(row.item_key.starts_with(&format!("{}/{}/", row.source, row.account_id)));
        assert!(row.item_key.contains(&row.entitlement_id));
    }
    let requested = actions(&scope).await.iter().filter(|a| *a == REVOCATIONS_REQUESTED).count();
    assert_eq!(requested, 1);
}

#[tokio::test]
async fn expiry_requests_revocations() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, REVOKE_AT_EXPIRY).await;
    let scope = store.tenant(&id);
    let campaign = launched(&scope).await;
    let items = scope.review_items(campaign).await.unwrap();
    expire_overdue(&scope, now() + TimeDelta::days(15)).await.unwrap();

    let rows = scope.review_revocations(Some(campaign)).await.unwrap();
    assert_eq!(rows.len(), items.len(), "every undecided item was revoked at the deadline");
}

#[tokio::test]
async fn later_syncs_verify_and_catch_returns() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let tenant = example_config();
    let (campaign, _) = closed_campaign(&scope).await;
    let rows = scope.review_revocations(Some(campaign)).await.unwrap();
    // A direct membership, so that removing one membership removes the grant.
    let items = scope.review_items(campaign).await.unwrap();
    let target = rows
        .iter()
        .find(|row| {
            let item = items.iter().find(|i| i.item_id == row.item_id).unwrap();
            item.facts["grant"]["direct"] == true
                && !row.item_key.contains('@')
                && !row.item_key.contains('~')
        })
        .expect("a revoked direct grant");
    let window = TimeDelta::days(7);
    let closed = now() + TimeDelta::hours(4);

    // Nothing synced since the close: nothing changes, not even for absent grants.
    let mut absent = present_keys(&scope, &tenant).await;
    absent.remove(&target.item_key);
    let after = scope.reconcile_revocations(&absent, closed, window, ACTOR).await.unwrap();
    assert!(after.iter().all(|r| r.state == RevocationState::Open));

    // A sync after the close without the grant verifies it, dated by the sync.
    let synced = closed + TimeDelta::hours(1);
    resync(&scope, &target.source, synced, Some((&target.account_id, &target.entitlement_id)))
        .await;
    let present = present_keys(&scope, &tenant).await;
    assert!(!present.contains(&target.item_key));
    let after = scope.reconcile_revocations(&present, synced, window, ACTOR).await.unwrap();
    let row = after.iter().find(|r| r.item_id == target.item_id).unwrap();
    assert_eq!(row.state, RevocationState::Verified);
    assert_eq!(row.verified_at, Some(synced));
    assert!(row.verified_snapshot.is_some());

    // The others of that source are still held; after the window they are overdue, once.
    let late = closed + window + TimeDelta::minutes(1);
    let after = scope.reconcile_revocations(&present, late, window, ACTOR).await.unwrap();
    let overdue: Vec<_> = after.iter().filter(|r| r.overdue_at.is_some()).collect();
    let still_held = after.iter().filter(|r| r.state == RevocationState::Open).count();
    assert_eq!(overdue.len(), still_held);
    assert!(overdue.iter().all(|r| r.overdue_at == Some(late)));
    scope.reconcile_revocations(&present, late + TimeDelta::hours(1), window, ACTOR).await.unwrap();
    let count = |name: &str, list: &[String]| list.iter().filter(|a| *a == name).count();
    let list = actions(&scope).await;
    assert_eq!(count(REVOCATION_OVERDUE, &list), still_held);
    assert_eq!(count(REVOCATION_VERIFIED, &list), 1);

    // The grant given back in a later sync has returned.
    let back = late + TimeDelta::hours(2);
    resync(&scope, &target.source, back, None).await;
    let present = present_keys(&scope, &tenant).await;
    let after = scope.reconcile_revocations(&present, back, window, ACTOR).await.unwrap();
    let row = after.iter().find(|r| r.item_id == target.item_id).unwrap();
    assert_eq!(row.state, RevocationState::Returned);
    assert_eq!(row.returned_at, Some(back));
    assert_eq!(count(REVOKED_GRANT_RETURNED, &actions(&scope).await), 1);

    // Removed again: verified again.
    let again = back + TimeDelta::hours(1);
    resync(&scope, &target.source, again, Some((&target.account_id, &target.entitlement_id))).await;
    let present = present_keys(&scope, &tenant).await;
    let after = scope.reconcile_revocations(&present, again, window, ACTOR).await.unwrap();
    let row = after.iter().find(|r| r.item_id == target.item_id).unwrap();
    assert_eq!(row.state, RevocationState::Verified);
    assert_eq!(row.verified_at, Some(again));

    // Another tenant's scope reads none of it.
    let other = rollcall_core::TenantId::new("other-practice").unwrap();
    assert!(store.tenant(&other).review_revocations(None).await.unwrap().is_empty());
}

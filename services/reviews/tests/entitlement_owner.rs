//! Items routed to the owner of their entitlement (`reviewers.entitlement_owner` and the
//! catalogue entry's `reviewer`), on the example practice: built in memory, and launched
//! into a real PostgreSQL.

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

use chrono::TimeDelta;
use rollcall_core::context::Context;
use rollcall_ingest::tenant_file::TenantConfig;
use rollcall_reviews::{
    ReviewItem, ReviewerReason, UnavailableOwner, build_items_and_unavailable_owners,
};
use rollcall_store::{SnapshotMeta, TenantConfigText, TenantProfile};
use support::TestDb;
use uuid::Uuid;

use common::{example_dir, launched, now};

/// Returns a policy whose catalogue makes `owner` the owner of the athenahealth role
/// `Front Desk`. Rosalind Achebe (E1020) is an active front-desk coordinator who has
/// the role herself, and Hollis Drummond (E1021) left on 2026-11-01.
fn catalogue(owner: &str) -> String {
    format!(
        "policy:
  entitlement_catalogue:
    \"ehr:athenahealth\":
      \"role:Front Desk\":
        name: Front desk check-in
        owner: Front office lead
        reviewer: {owner}
"
    )
}

fn campaign(entitlement_owner: bool) -> String {
    format!(
        "
campaigns:
  - id: quarterly-all
    name: Quarterly access review
    reviewers:
      fallback: E1003
      entitlement_owner: {entitlement_owner}
    max_source_age: 72h
"
    )
}

/// Returns the example's tenant.yaml with the catalogue of `owner` and the campaign.
fn tenant_yaml(owner: &str, entitlement_owner: bool) -> String {
    let yaml = std::fs::read_to_string(example_dir().join("tenant.yaml")).unwrap();
    assert!(yaml.contains("\npolicy:\n"), "the example's tenant.yaml has no policy");
    let yaml = yaml.replacen("\npolicy:\n", &format!("\n{}", catalogue(owner)), 1);
    yaml + &campaign(entitlement_owner)
}

/// Builds the example's items for the campaign of [`tenant_yaml`].
fn build(owner: &str, entitlement_owner: bool) -> (Vec<ReviewItem>, Vec<UnavailableOwner>) {
    let yaml = tenant_yaml(owner, entitlement_owner);
    let config: TenantConfig = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let loaded = rollcall_ingest::layout::load_tenant(&example_dir(), now()).unwrap();
    let ctx = Context::new(&config.tenant, &loaded.data, now());
    build_items_and_unavailable_owners(&ctx, &config.campaigns[0], None)
}

fn is_front_desk(item: &ReviewItem) -> bool {
    item.source == "ehr:athenahealth" && item.entitlement.id == "Front Desk"
}

/// Returns the items of `reviewee` that [`is_front_desk`] selects, and the others.
fn split<'a>(
    items: &'a [ReviewItem],
    reviewee: &str,
) -> (Vec<&'a ReviewItem>, Vec<&'a ReviewItem>) {
    items.iter().filter(|item| item.reviewee == reviewee).partition(|item| is_front_desk(item))
}

#[test]
fn owned_grants_go_to_owner() {
    let (items, unavailable) = build("E1020", true);
    assert!(unavailable.is_empty(), "{unavailable:?}");

    // Oswin Petrakis (E1023) reports to E1003: the front-desk role goes to its owner,
    // his other grants to his manager.
    let (front_desk, others) = split(&items, "hr:E1023");
    assert_eq!(front_desk.len(), 1);
    assert_eq!(front_desk[0].reviewer, "hr:E1020");
    assert_eq!(front_desk[0].reviewer_reason, ReviewerReason::EntitlementOwner);
    assert!(!others.is_empty());
    for item in &others {
        assert_eq!(item.reviewer, "hr:E1003", "{}", item.key);
        assert_eq!(item.reviewer_reason, ReviewerReason::Manager, "{}", item.key);
    }

    let owned = items.iter().filter(|item| is_front_desk(item)).count();
    let to_owner =
        items.iter().filter(|item| item.reviewer_reason == ReviewerReason::EntitlementOwner);
    // Every front-desk grant but the owner's own goes to the owner, and nothing else does.
    assert_eq!(to_owner.clone().count(), owned - 1);
    assert!(to_owner.clone().all(is_front_desk));
    assert!(to_owner.clone().all(|item| item.reviewer == "hr:E1020"));
}

#[test]
fn owner_own_grant_goes_to_manager() {
    let (items, _) = build("E1020", true);
    let (front_desk, others) = split(&items, "hr:E1020");
    assert_eq!(front_desk.len(), 1);
    // E1020's manager in the roster is E1002.
    assert_eq!(front_desk[0].reviewer, "hr:E1002");
    assert_eq!(front_desk[0].reviewer_reason, ReviewerReason::Manager);
    assert!(others.iter().all(|item| item.reviewer == "hr:E1002"));
    assert!(
        items.iter().all(|item| item.reviewer != item.reviewee),
        "nobody reviews their own access"
    );
}

#[test]
fn owner_who_left_falls_back() {
    let (items, unavailable) = build("E1021", true);
    assert!(items.iter().all(|item| item.reviewer_reason != ReviewerReason::EntitlementOwner));
    assert!(items.iter().all(|item| item.reviewer != "hr:E1021"));
    let (front_desk, _) = split(&items, "hr:E1023");
    assert_eq!(front_desk[0].reviewer, "hr:E1003");
    assert_eq!(front_desk[0].reviewer_reason, ReviewerReason::Manager);

    assert_eq!(unavailable.len(), 1, "{unavailable:?}");
    assert_eq!(unavailable[0].employee_id, "E1021");
    assert!(unavailable[0].has_left);
    // Hollis Drummond's own grant is not counted: the owner's own grant never goes to them.
    let owned_by_others =
        items.iter().filter(|item| is_front_desk(item) && item.reviewee != "hr:E1021").count();
    assert_eq!(unavailable[0].items, owned_by_others);
}

#[test]
fn unknown_owner_falls_back() {
    let (items, unavailable) = build("E9999", true);
    assert!(items.iter().all(|item| item.reviewer_reason != ReviewerReason::EntitlementOwner));
    assert_eq!(unavailable.len(), 1, "{unavailable:?}");
    assert_eq!(unavailable[0].employee_id, "E9999");
    assert!(!unavailable[0].has_left);
    assert_eq!(unavailable[0].items, items.iter().filter(|item| is_front_desk(item)).count());
}

#[test]
fn flag_off_ignores_catalogue_reviewer() {
    let (with_owner, _) = build("E1020", false);
    let (unavailable_owner, unavailable) = build("E9999", false);
    assert!(unavailable.is_empty(), "{unavailable:?}");
    assert!(with_owner.iter().all(|item| item.reviewer_reason != ReviewerReason::EntitlementOwner));
    let (front_desk, _) = split(&with_owner, "hr:E1023");
    assert_eq!(front_desk[0].reviewer, "hr:E1003");
    // The catalogue's reviewer changes nothing while the flag is off.
    let reviewers = |items: &[ReviewItem]| -> Vec<(String, String)> {
        items.iter().map(|item| (item.key.clone(), item.reviewer.clone())).collect()
    };
    assert_eq!(reviewers(&with_owner), reviewers(&unavailable_owner));
}

#[tokio::test]
async fn launch_stores_entitlement_owner_reason() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let yaml = tenant_yaml("E1020", true);
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let tenant = config.tenant;
    let scope = store.tenant(&tenant.id);
    let profile = TenantProfile { name: tenant.name.clone(), time_zone: tenant.time_zone };
    let text = TenantConfigText { tenant_yaml: yaml, policy_yaml: None };
    scope.apply_tenant_config(&profile, &text, "test").await.unwrap();

    let loaded = rollcall_ingest::layout::load_tenant(&example_dir(), now()).unwrap();
    let collected = now() - TimeDelta::hours(1);
    for (index, snapshot) in loaded.data.sources.iter().enumerate() {
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: collected,
            stream_sequence: index as u64 + 1,
        };
        scope.apply_source_snapshot(snapshot, &meta).await.unwrap();
    }
    let meta =
        SnapshotMeta { snapshot_id: Uuid::new_v4(), collected_at: collected, stream_sequence: 100 };
    scope.apply_hr_roster(loaded.data.hr.as_ref().unwrap(), &meta).await.unwrap();

    let campaign = launched(&scope).await;
    let stored = scope.review_items(campaign).await.unwrap();
    let (built, _) = build("E1020", true);
    assert_eq!(stored.len(), built.len());
    let to_owner: Vec<_> = stored
        .iter()
        .filter(|item| item.reviewer_reason == ReviewerReason::EntitlementOwner)
        .collect();
    assert_eq!(
        to_owner.len(),
        built
            .iter()
            .filter(|item| item.reviewer_reason == ReviewerReason::EntitlementOwner)
            .count()
    );
    assert!(!to_owner.is_empty());
    for item in &to_owner {
        assert_eq!(item.reviewer, "hr:E1020");
        assert_eq!(item.facts["entitlement"]["name"], "Front desk check-in");
    }
}

//! Campaigns on the example practice in a real PostgreSQL: launch, freshness, decisions,
//! sign-offs, the audit chain and concurrent schedulers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use rollcall_core::context::{Context, may_sign_in};
use rollcall_core::model::Membership;
use rollcall_core::{Tenant, TenantId};
use rollcall_reviews::{
    CampaignStatus, Period, ReviewAction, ReviewActionKind, ReviewError, ReviewLaunch,
    ReviewRejection, ReviewerReason, StoredReviewItem, item_key, launch, launch_due,
};
use rollcall_store::{
    ChainVerification, NewReviewCampaign, SnapshotMeta, Store, StoreError, TenantConfigText,
    TenantProfile, TenantScope,
};
use serde_json::{Value, json};
use support::TestDb;
use support::fixtures::{EXAMPLE_AS_OF, at};
use uuid::Uuid;

/// The campaign every test launches, appended to the example's tenant.yaml.
const CAMPAIGNS: &str = "
campaigns:
  - id: quarterly-all
    name: Quarterly access review
    reviewers:
      fallback: E1003
      second_stage: E1001
    deadline_days: 14
    max_source_age: 72h
";

/// A catalogue entry added to the example's policy, so one EHR role has a plain name.
const CATALOGUE: &str = "policy:
  entitlement_catalogue:
    \"ehr:athenahealth\":
      \"role:Front Desk\":
        name: Front desk check-in
        description: Checks patients in and edits their demographics.
        owner: Office manager
";

fn example_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview")
}

fn now() -> DateTime<Utc> {
    at(EXAMPLE_AS_OF)
}

/// Stores the example practice with `CAMPAIGNS` in its tenant.yaml. Every source was
/// collected an hour before [`now`], the HR roster at `hr_collected_at`. The roster makes
/// E1002 (the office manager) their own manager, for the self-review case.
async fn example_tenant(store: &Store, hr_collected_at: DateTime<Utc>) -> (TenantId, Tenant) {
    let dir = example_dir();
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml")).unwrap() + CAMPAIGNS;
    assert!(yaml.contains("\npolicy:\n"), "the example's tenant.yaml has no policy");
    let yaml = yaml.replacen("\npolicy:\n", &format!("\n{CATALOGUE}"), 1);
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let tenant = config.tenant;
    let id = tenant.id.clone();
    let scope = store.tenant(&id);
    let profile = TenantProfile { name: tenant.name.clone(), time_zone: tenant.time_zone };
    let text = TenantConfigText { tenant_yaml: yaml, policy_yaml: None };
    scope.apply_tenant_config(&profile, &text, "test").await.unwrap();

    let loaded = rollcall_ingest::layout::load_tenant(&dir, now()).unwrap();
    let collected = now() - TimeDelta::hours(1);
    for (index, snapshot) in loaded.data.sources.iter().enumerate() {
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: collected,
            stream_sequence: index as u64 + 1,
        };
        scope.apply_source_snapshot(snapshot, &meta).await.unwrap();
    }
    let mut roster = loaded.data.hr.clone().unwrap();
    let office_manager = roster.workers.iter_mut().find(|w| w.employee_id == "E1002").unwrap();
    office_manager.manager_employee_id = Some("E1002".into());
    let meta = SnapshotMeta {
        snapshot_id: Uuid::new_v4(),
        collected_at: hr_collected_at,
        stream_sequence: 100,
    };
    scope.apply_hr_roster(&roster, &meta).await.unwrap();
    (id, tenant)
}

/// Launches the campaign at [`now`] and returns its id.
async fn launched(scope: &TenantScope<'_>) -> Uuid {
    let launches = launch_due(scope, now()).await.unwrap();
    assert_eq!(launches.len(), 1, "{launches:?}");
    match launches[0].outcome {
        Ok(ReviewLaunch::Launched { campaign_id, .. }) => campaign_id,
        ref other => panic!("the campaign did not launch: {other:?}"),
    }
}

fn reason_codes(item: &StoredReviewItem) -> Vec<String> {
    item.facts["recommendation"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reason| reason["code"].as_str().unwrap().to_owned())
        .collect()
}

fn items_of<'i>(items: &'i [StoredReviewItem], login_part: &str) -> Vec<&'i StoredReviewItem> {
    items
        .iter()
        .filter(|item| {
            item.item_key.contains(login_part)
                || item.facts["account"]["login"].as_str().is_some_and(|l| l.contains(login_part))
        })
        .collect()
}

#[tokio::test]
async fn launch_freezes_one_item_per_grant() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, tenant) = example_tenant(&store, now() - TimeDelta::hours(1)).await;
    let scope = store.tenant(&id);
    let campaign_id = launched(&scope).await;
    let items = scope.review_items(campaign_id).await.unwrap();

    // The expected items, straight from the Context of the stored data: every grant on
    // an account that can sign in, for every person.
    let data = scope.load_tenant_data().await.unwrap();
    let ctx = Context::new(&tenant, &data, now());
    let mut expected = BTreeSet::new();
    for identity in ctx.identities() {
        for linked in &identity.identity.accounts {
            let Some((view, account)) = ctx.account(&linked.account) else { continue };
            if !may_sign_in(account) {
                continue;
            }
            for (grant, _) in view.access_grants(&account.id) {
                expected.insert(item_key(view, &account.id, grant));
            }
        }
    }
    let keys: BTreeSet<String> = items.iter().map(|item| item.item_key.clone()).collect();
    assert!(expected.len() > 100, "the example has {} grants", expected.len());
    assert_eq!(items.len(), expected.len());
    assert_eq!(keys, expected);

    let campaign = scope.review_campaign(campaign_id).await.unwrap().unwrap();
    assert_eq!(campaign.period_label, "2026-Q4");
    assert_eq!(campaign.status, CampaignStatus::Open);
    assert_eq!(campaign.deadline, now() + TimeDelta::days(14));
}

#[tokio::test]
async fn items_carry_recommendations_with_reasons() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, _) = example_tenant(&store, now() - TimeDelta::hours(1)).await;
    let scope = store.tenant(&id);
    let items = scope.review_items(launched(&scope).await).await.unwrap();

    let has_reason = |login: &str, code: &str| {
        items_of(&items, login)
            .iter()
            .any(|item| item.recommend_revoke && reason_codes(item).iter().any(|c| c == code))
    };
    assert!(has_reason("cornelius.abernathy", "inactive"), "160 days without a sign-in");
    assert!(has_reason("ophelia.strand", "inactive"), "never signed in");
    assert!(has_reason("priyanka.osei", "outside_baseline"), "Billing for a medical assistant");
    assert!(has_reason("lbrandt", "few_peers"), "one of eight medical assistants");
    assert!(
        has_reason("tobias.lindgren", "privileged_weak_mfa"),
        "a Global Administrator with a phone method"
    );
    assert!(has_reason("tamsin.kowal", "left"), "left five hours ago");

    let billing = items_of(&items, "priyanka.osei")
        .into_iter()
        .find(|item| item.facts["entitlement"]["name"] == "Billing")
        .unwrap();
    assert!(billing.outside_baseline);
    assert_eq!(billing.facts["entitlement"]["text"], "group \"Billing\" in entra");
    assert_eq!(billing.facts["person"]["hr_status"], "Active");
    assert!(billing.facts["sign_ins"].as_array().unwrap().len() >= 2, "one per account");

    // EHR items carry the export's own words for the role beside the name shown.
    let ehr_role = items
        .iter()
        .find(|item| {
            item.facts["source"] == "ehr:athenahealth"
                && item.facts["entitlement"]["kind"] == "role"
                && item.facts["entitlement"]["id"] != "Front Desk"
        })
        .unwrap();
    let words = ehr_role.facts["entitlement"]["source_name"].as_str().unwrap();
    assert_eq!(ehr_role.facts["entitlement"]["name"].as_str(), Some(words));
    assert_eq!(ehr_role.facts["entitlement"]["source_id"].as_str(), Some(words));
    assert_eq!(billing.facts["entitlement"]["source_name"], Value::Null);

    // A role the catalogue names shows the plain name, and the EHR's words beside it.
    let front_desk = items
        .iter()
        .find(|item| {
            item.facts["source"] == "ehr:athenahealth"
                && item.facts["entitlement"]["id"] == "Front Desk"
        })
        .unwrap();
    let facts = &front_desk.facts["entitlement"];
    assert_eq!(facts["name"], "Front desk check-in");
    assert_eq!(facts["source_name"], "Front Desk");
    assert_eq!(facts["owner"], "Office manager");
    assert_eq!(facts["description"], "Checks patients in and edits their demographics.");
    assert_eq!(
        facts["text"],
        "EHR role \"Front desk check-in\" (\"Front Desk\" in ehr:athenahealth)"
    );

    // Someone clean keeps their access, with the reason.
    let kept = items.iter().filter(|item| !item.recommend_revoke).count();
    assert!(kept > items.len() / 2, "{kept} of {} kept", items.len());
    let keep = items.iter().find(|item| !item.recommend_revoke).unwrap();
    assert_eq!(reason_codes(keep), vec!["no_concern".to_owned()]);

    // An inherited grant names the group it comes through.
    let inherited = items.iter().find(|item| item.facts["grant"]["direct"] == false).unwrap();
    assert!(!inherited.facts["grant"]["via"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn reviewers_are_managers_or_fallback() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, _) = example_tenant(&store, now() - TimeDelta::hours(1)).await;
    let scope = store.tenant(&id);
    let items = scope.review_items(launched(&scope).await).await.unwrap();
    let of = |reviewee: &str| -> Vec<&StoredReviewItem> {
        items.iter().filter(|i| i.reviewee == reviewee).collect()
    };

    // E1004's manager in the roster is E1002.
    let physician = of("hr:E1004");
    assert!(!physician.is_empty());
    for item in &physician {
        assert_eq!(item.reviewer, "hr:E1002");
        assert_eq!(item.reviewer_reason, ReviewerReason::Manager);
    }
    // The medical director has no manager: the fallback reviews.
    let director = of("hr:E1001");
    assert!(!director.is_empty());
    for item in &director {
        assert_eq!(item.reviewer, "hr:E1003");
        assert_eq!(item.reviewer_reason, ReviewerReason::NoManager);
    }
    // E1002 is their own manager in this roster: the fallback reviews instead.
    let office_manager = of("hr:E1002");
    assert!(!office_manager.is_empty());
    for item in &office_manager {
        assert_eq!(item.reviewer, "hr:E1003");
        assert_eq!(item.reviewer_reason, ReviewerReason::SelfReview);
    }
    assert!(
        items.iter().all(|item| item.reviewer != item.reviewee),
        "nobody reviews their own access"
    );
}

#[tokio::test]
async fn stale_source_blocks_launch() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let hr_synced = now() - TimeDelta::days(10);
    let (id, _) = example_tenant(&store, hr_synced).await;
    let scope = store.tenant(&id);

    let launches = launch_due(&scope, now()).await.unwrap();
    assert_eq!(launches.len(), 1);
    let error = launches[0].outcome.as_ref().unwrap_err();
    let ReviewError::StaleSource { source_id, last_sync, max_age_hours, .. } = error else {
        panic!("another error: {error}");
    };
    assert_eq!(source_id, "hr");
    assert_eq!(*last_sync, hr_synced);
    assert_eq!(*max_age_hours, 72);
    let message = error.to_string();
    assert!(message.contains("`hr`"), "{message}");
    assert!(message.contains("2026-11-21"), "{message}");
    assert!(scope.review_campaigns().await.unwrap().is_empty(), "nothing was stored");
}

/// Builds an action of `actor` on `items`.
fn action(
    actor: &str,
    items: &[i32],
    kind: ReviewActionKind,
    justification: Option<&str>,
) -> ReviewAction {
    ReviewAction {
        actor: actor.into(),
        at: now() + TimeDelta::hours(2),
        item_ids: items.to_vec(),
        kind,
        justification: justification.map(str::to_owned),
    }
}

fn rejection(result: Result<usize, StoreError>) -> ReviewRejection {
    match result {
        Err(StoreError::ReviewRejected { reason, .. }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn decisions_follow_the_rules() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, _) = example_tenant(&store, now() - TimeDelta::hours(1)).await;
    let scope = store.tenant(&id);
    let campaign = launched(&scope).await;
    let items = scope.review_items(campaign).await.unwrap();
    let reviewer = "hr:E1002";
    let mine: Vec<&StoredReviewItem> = items.iter().filter(|i| i.reviewer == reviewer).collect();
    let sensitive =
        mine.iter().find(|i| i.privileged || i.outside_baseline).expect("a sensitive item");
    let plain = mine.iter().find(|i| !i.privileged && !i.outside_baseline).expect("a plain item");

    // Approving privileged or outside-baseline access needs a justification.
    let approve =
        |ids: &[i32], why: Option<&str>| action(reviewer, ids, ReviewActionKind::Approve, why);
    let reason = rejection(
        scope
            .decide_review_items(campaign, &approve(&[sensitive.item_id, plain.item_id], None))
            .await,
    );
    assert_eq!(reason, ReviewRejection::JustificationRequired(vec![sensitive.item_id]));
    let reason = rejection(
        scope.decide_review_items(campaign, &approve(&[sensitive.item_id], Some("  "))).await,
    );
    assert!(matches!(reason, ReviewRejection::JustificationRequired(_)));
    assert_eq!(
        scope.decide_review_items(campaign, &approve(&[plain.item_id], None)).await.unwrap(),
        1
    );
    assert_eq!(
        scope
            .decide_review_items(
                campaign,
                &approve(&[sensitive.item_id], Some("covers the front desk lead"))
            )
            .await
            .unwrap(),
        1
    );

    // Someone else's items, and unknown items, are rejected whole.
    let other = items.iter().find(|i| i.reviewer != reviewer).unwrap();
    let reason = rejection(
        scope
            .decide_review_items(
                campaign,
                &action(reviewer, &[plain.item_id, other.item_id], ReviewActionKind::Revoke, None),
            )
            .await,
    );
    assert_eq!(
        reason,
        ReviewRejection::NotReviewer { actor: reviewer.into(), items: vec![other.item_id] }
    );
    let reason = rejection(
        scope
            .decide_review_items(
                campaign,
                &action(reviewer, &[999_999], ReviewActionKind::Revoke, None),
            )
            .await,
    );
    assert_eq!(reason, ReviewRejection::UnknownItems(vec![999_999]));

    // Delegating to the reviewee would be a self-review.
    let reason = rejection(
        scope
            .decide_review_items(
                campaign,
                &action(
                    reviewer,
                    &[plain.item_id],
                    ReviewActionKind::Delegate { to: plain.reviewee.clone() },
                    None,
                ),
            )
            .await,
    );
    assert!(matches!(reason, ReviewRejection::SelfReview { .. }), "{reason:?}");

    // A bulk decision, changing the earlier approvals too, since nothing is signed off.
    let all: Vec<i32> = mine.iter().map(|i| i.item_id).collect();
    assert_eq!(
        scope
            .decide_review_items(campaign, &action(reviewer, &all, ReviewActionKind::Revoke, None))
            .await
            .unwrap(),
        all.len()
    );
    let stored = scope.review_items(campaign).await.unwrap();
    assert!(
        stored
            .iter()
            .filter(|i| i.reviewer == reviewer)
            .all(|i| i.decision.as_deref() == Some("revoke"))
    );

    // Another reviewer cannot sign off with undecided items.
    let result = scope.sign_off_review(campaign, &other.reviewer, now()).await;
    assert!(
        matches!(
            result,
            Err(StoreError::ReviewRejected { reason: ReviewRejection::Undecided { .. }, .. })
        ),
        "{result:?}"
    );

    // After the sign-off nothing of the reviewer's changes.
    assert_eq!(
        scope.sign_off_review(campaign, reviewer, now()).await.unwrap(),
        CampaignStatus::Open
    );
    let reason =
        rejection(scope.decide_review_items(campaign, &approve(&[plain.item_id], None)).await);
    assert_eq!(reason, ReviewRejection::SignedOff { reviewer: reviewer.into() });
    let result = scope.sign_off_review(campaign, reviewer, now()).await;
    assert!(matches!(
        result,
        Err(StoreError::ReviewRejected { reason: ReviewRejection::SignedOff { .. }, .. })
    ));

    // Every decision and the sign-off are in the chain, and the chain verifies.
    assert!(matches!(scope.verify_audit_chain().await.unwrap(), ChainVerification::Intact { .. }));
    let entries = scope.audit_entries(0, 1_000).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "review.launched").count(), 1);
    assert_eq!(actions.iter().filter(|a| **a == "review.decided").count(), 3);
    assert_eq!(actions.iter().filter(|a| **a == "review.signed_off").count(), 1);
    let justified: Value = entries
        .iter()
        .filter(|e| e.action == "review.decided")
        .map(|e| serde_json::from_str::<Value>(&e.detail).unwrap())
        .find(|d| d["justification"] != Value::Null)
        .unwrap();
    assert_eq!(justified["justification"], "covers the front desk lead");
    assert_eq!(justified["items"], json!([sensitive.item_id]));
}

#[tokio::test]
async fn delegation_and_stages_close_the_campaign() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, _) = example_tenant(&store, now() - TimeDelta::hours(1)).await;
    let scope = store.tenant(&id);
    let campaign = launched(&scope).await;
    let items = scope.review_items(campaign).await.unwrap();

    // E1002 delegates one item to E1003, who then decides it.
    let delegated =
        items.iter().find(|i| i.reviewer == "hr:E1002" && i.reviewee != "hr:E1003").unwrap();
    let delegate = ReviewActionKind::Delegate { to: "hr:E1003".into() };
    scope
        .decide_review_items(campaign, &action("hr:E1002", &[delegated.item_id], delegate, None))
        .await
        .unwrap();
    let moved = scope
        .review_items(campaign)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.item_id == delegated.item_id)
        .unwrap();
    assert_eq!(moved.reviewer, "hr:E1003");
    assert_eq!(moved.reviewer_reason, ReviewerReason::Delegated);

    // Every first-stage reviewer revokes everything and signs off.
    let items = scope.review_items(campaign).await.unwrap();
    let reviewers: BTreeSet<String> = items.iter().map(|i| i.reviewer.clone()).collect();
    let mut status = CampaignStatus::Open;
    for reviewer in &reviewers {
        let ids: Vec<i32> =
            items.iter().filter(|i| &i.reviewer == reviewer).map(|i| i.item_id).collect();
        scope
            .decide_review_items(campaign, &action(reviewer, &ids, ReviewActionKind::Revoke, None))
            .await
            .unwrap();
        status = scope.sign_off_review(campaign, reviewer, now()).await.unwrap();
    }
    assert_eq!(status, CampaignStatus::SecondStage);

    // In the second stage only the second-stage reviewer acts; its sign-off closes.
    let first = items.iter().find(|i| i.reviewee != "hr:E1001").unwrap();
    let reason = rejection(
        scope
            .decide_review_items(
                campaign,
                &action("hr:E1002", &[first.item_id], ReviewActionKind::Revoke, None),
            )
            .await,
    );
    assert!(matches!(reason, ReviewRejection::WrongStage { .. }), "{reason:?}");
    let approve = action(
        "hr:E1001",
        &[first.item_id],
        ReviewActionKind::Approve,
        Some("needed for the clinic move"),
    );
    assert_eq!(scope.decide_review_items(campaign, &approve).await.unwrap(), 1);
    let own = items.iter().find(|i| i.reviewee == "hr:E1001").unwrap();
    let reason = rejection(
        scope
            .decide_review_items(
                campaign,
                &action("hr:E1001", &[own.item_id], ReviewActionKind::Revoke, None),
            )
            .await,
    );
    assert!(matches!(reason, ReviewRejection::SelfReview { .. }), "{reason:?}");
    assert_eq!(
        scope.sign_off_review(campaign, "hr:E1001", now()).await.unwrap(),
        CampaignStatus::Closed
    );

    let reason = rejection(scope.decide_review_items(campaign, &approve).await);
    assert_eq!(reason, ReviewRejection::Closed);
    assert!(matches!(scope.verify_audit_chain().await.unwrap(), ChainVerification::Intact { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_schedulers_launch_once() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, _) = example_tenant(&store, now() - TimeDelta::hours(1)).await;

    // Two replicas: two stores, each with its own pool.
    let first = db.store().await;
    let second = db.store().await;
    let (a, b) = (id.clone(), id.clone());
    let one = tokio::spawn(async move { launch_due(&first.tenant(&a), now()).await.unwrap() });
    let two = tokio::spawn(async move { launch_due(&second.tenant(&b), now()).await.unwrap() });
    let mut outcomes = one.await.unwrap();
    outcomes.extend(two.await.unwrap());
    let launched =
        outcomes.iter().filter(|l| matches!(l.outcome, Ok(ReviewLaunch::Launched { .. }))).count();
    assert_eq!(launched, 1, "{outcomes:?}");
    assert_eq!(store.tenant(&id).review_campaigns().await.unwrap().len(), 1);

    // The constraint alone decides: two launches of one period that both skip the
    // scheduler's check, racing on two connections, store one campaign.
    let period_start = now() - TimeDelta::days(1);
    let campaign = NewReviewCampaign {
        definition_id: "race".into(),
        period_start,
        period_label: "race".into(),
        name: "Race".into(),
        definition: json!({}),
        launched_at: now(),
        deadline: now() + TimeDelta::days(1),
        at_expiry: "none".into(),
        fallback_reviewer: "hr:E1003".into(),
        second_stage_reviewer: None,
        grant_keys: None,
    };
    let (first, second) = (db.store().await, db.store().await);
    let (a, b, c1, c2) = (id.clone(), id.clone(), campaign.clone(), campaign.clone());
    let one = tokio::spawn(async move {
        first.tenant(&a).launch_review_campaign(&c1, &[], "test").await.unwrap()
    });
    let two = tokio::spawn(async move {
        second.tenant(&b).launch_review_campaign(&c2, &[], "test").await.unwrap()
    });
    let results = [one.await.unwrap(), two.await.unwrap()];
    assert_eq!(
        results.iter().filter(|r| matches!(r, ReviewLaunch::Launched { .. })).count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| **r == ReviewLaunch::AlreadyLaunched).count(),
        1,
        "{results:?}"
    );

    // Running the scheduler again launches nothing.
    assert!(launch_due(&store.tenant(&id), now()).await.unwrap().is_empty());
}

#[tokio::test]
async fn added_since_last_reviews_new_grants() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, tenant) = example_tenant(&store, now() - TimeDelta::hours(1)).await;
    let scope = store.tenant(&id);
    let yaml = std::fs::read_to_string(example_dir().join("tenant.yaml")).unwrap()
        + "campaigns:\n  - id: new-grants\n    name: New grants\n    scope: added_since_last\n    reviewers: { fallback: E1003 }\n";
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let campaign = &config.campaigns[0];
    let period = |start: &str, label: &str| Period { start: at(start), label: label.into() };

    // The first campaign of the definition reviews every grant.
    let first = launch(&scope, &tenant, campaign, &period("2026-10-01T05:00:00Z", "q4"), now())
        .await
        .unwrap();
    let ReviewLaunch::Launched { campaign_id, items } = first else { panic!("{first:?}") };
    assert!(items > 100, "{items} items");

    // The next one, on the same data, has nothing new to review.
    let second = launch(&scope, &tenant, campaign, &period("2026-11-01T05:00:00Z", "nov"), now())
        .await
        .unwrap();
    let ReviewLaunch::Launched { campaign_id: empty, items: 0 } = second else {
        panic!("{second:?}")
    };
    let empty = scope.review_campaign(empty).await.unwrap().unwrap();
    assert_eq!(empty.status, CampaignStatus::Closed, "nothing to review, nobody to sign off");

    // A physician is added to the Entra Billing group: the next campaign has that grant only.
    let physician = scope
        .review_items(campaign_id)
        .await
        .unwrap()
        .into_iter()
        .find(|item| item.reviewee == "hr:E1004" && item.facts["source"] == "entra")
        .unwrap();
    let account_id = physician.facts["account"]["id"].as_str().unwrap().to_owned();
    let mut data = scope.load_tenant_data().await.unwrap();
    let entra = data.sources.iter_mut().find(|s| s.source.to_string() == "entra").unwrap();
    let billing = entra.entitlements.iter().find(|e| e.name == "Billing").unwrap().id.clone();
    entra.memberships.push(Membership::account(account_id.clone(), billing.clone()));
    let meta = SnapshotMeta {
        snapshot_id: Uuid::new_v4(),
        collected_at: now() - TimeDelta::minutes(30),
        stream_sequence: 500,
    };
    scope.apply_source_snapshot(entra, &meta).await.unwrap();

    let third = launch(&scope, &tenant, campaign, &period("2026-11-15T06:00:00Z", "mid"), now())
        .await
        .unwrap();
    let ReviewLaunch::Launched { campaign_id, items: 1 } = third else { panic!("{third:?}") };
    let items = scope.review_items(campaign_id).await.unwrap();
    assert_eq!(items[0].item_key, format!("entra/{account_id}/{billing}"));
    assert!(items[0].recommend_revoke, "Billing is outside a physician's baseline");
}

#[tokio::test]
async fn other_tenant_sees_no_campaign() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, _) = example_tenant(&store, now() - TimeDelta::hours(1)).await;
    let campaign = launched(&store.tenant(&id)).await;
    let item = store.tenant(&id).review_items(campaign).await.unwrap()[0].clone();

    let other_id = support::fixtures::add_tenant(&store, "lakeside").await;
    let other = store.tenant(&other_id);
    assert_eq!(other.review_campaign(campaign).await.unwrap(), None);
    assert!(other.review_campaigns().await.unwrap().is_empty());
    assert!(other.review_items(campaign).await.unwrap().is_empty());

    let revoke = action(&item.reviewer, &[item.item_id], ReviewActionKind::Revoke, None);
    assert_eq!(
        rejection(other.decide_review_items(campaign, &revoke).await),
        ReviewRejection::NotFound
    );
    let result = other.sign_off_review(campaign, &item.reviewer, now()).await;
    assert!(
        matches!(result, Err(StoreError::ReviewRejected { reason: ReviewRejection::NotFound, .. })),
        "{result:?}"
    );
    let untouched = store.tenant(&id).review_items(campaign).await.unwrap();
    assert_eq!(untouched[0].decision, None);
}

#[tokio::test]
async fn expiry_applies_the_default_action() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let (id, tenant) = example_tenant(&store, now() - TimeDelta::hours(1)).await;
    let scope = store.tenant(&id);
    let yaml = std::fs::read_to_string(example_dir().join("tenant.yaml")).unwrap()
        + "campaigns:\n  - id: strict\n    name: Strict\n    deadline_days: 7\n    at_expiry: revoke\n    reviewers: { fallback: E1003 }\n";
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let period = Period { start: at("2026-10-01T05:00:00Z"), label: "2026-Q4".into() };
    let outcome = launch(&scope, &tenant, &config.campaigns[0], &period, now()).await.unwrap();
    let ReviewLaunch::Launched { campaign_id, .. } = outcome else { panic!("{outcome:?}") };
    // The campaign with `at_expiry: none` from tenant.yaml stays open when overdue.
    let lenient = launched(&scope).await;

    let items = scope.review_items(campaign_id).await.unwrap();
    let kept = items.iter().find(|i| !i.privileged && !i.outside_baseline).unwrap();
    let approve = action(&kept.reviewer, &[kept.item_id], ReviewActionKind::Approve, None);
    scope.decide_review_items(campaign_id, &approve).await.unwrap();

    // Before the deadline nothing happens.
    let deadline = now() + TimeDelta::days(7);
    let early = rollcall_reviews::expire_overdue(&scope, deadline - TimeDelta::minutes(1)).await;
    assert!(early.unwrap().is_empty());

    let expired = rollcall_reviews::expire_overdue(&scope, deadline + TimeDelta::days(30)).await;
    assert_eq!(expired.unwrap(), vec![(campaign_id, items.len() - 1)]);
    let after = scope.review_items(campaign_id).await.unwrap();
    for item in &after {
        if item.item_id == kept.item_id {
            assert_eq!(item.decision.as_deref(), Some("approve"));
            assert_eq!(item.decided_by.as_deref(), Some(kept.reviewer.as_str()));
        } else {
            assert_eq!(item.decision.as_deref(), Some("revoke"), "item {}", item.item_id);
            assert_eq!(item.decided_by.as_deref(), Some("rollcall-reviews"));
        }
    }
    let closed = scope.review_campaign(campaign_id).await.unwrap().unwrap();
    assert_eq!(closed.status, CampaignStatus::Closed);
    let open = scope.review_campaign(lenient).await.unwrap().unwrap();
    assert_eq!(open.status, CampaignStatus::Open);

    // Expiring again changes nothing, and the chain verifies.
    let again = rollcall_reviews::expire_overdue(&scope, deadline + TimeDelta::days(31)).await;
    assert!(again.unwrap().is_empty());
    assert!(matches!(scope.verify_audit_chain().await.unwrap(), ChainVerification::Intact { .. }));
    let entries = scope.audit_entries(0, 1_000).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.action == "review.expired").count(), 1);
}

/// A launch hands its items to the store in batches of a thousand. A generated practice
/// with a few thousand items must come out of the store exactly as `build_items` lists
/// them: the same order, numbered without a gap across batches, with the same facts.
#[tokio::test]
async fn launch_stores_every_batch_in_build_order() {
    let params =
        rollcall_datagen::synthetic::Params { tenants: 1, people: 300, grants: 12, seed: 7 };
    let folder = tempfile::tempdir().unwrap();
    let spec = rollcall_datagen::synthetic::tenant(&params, 0);
    rollcall_datagen::write::tenant(&spec, folder.path()).unwrap();
    let reference = rollcall_datagen::synthetic::reference();
    let loaded = rollcall_ingest::layout::load_tenant(folder.path(), reference).unwrap();
    let fallback = loaded.data.hr.as_ref().unwrap().workers[0].employee_id.clone();
    let yaml = std::fs::read_to_string(folder.path().join("tenant.yaml")).unwrap()
        + &format!(
            "campaigns:\n  - id: generated\n    name: Generated\n    reviewers: {{ fallback: {fallback} }}\n"
        );
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let (tenant, campaign) = (config.tenant, config.campaigns[0].clone());

    let db = TestDb::create().await;
    let store = db.store().await;
    let scope = store.tenant(&tenant.id);
    let profile = TenantProfile { name: tenant.name.clone(), time_zone: tenant.time_zone };
    let text = TenantConfigText { tenant_yaml: yaml.clone(), policy_yaml: None };
    scope.apply_tenant_config(&profile, &text, "test").await.unwrap();
    let collected = reference - TimeDelta::hours(1);
    for (index, snapshot) in loaded.data.sources.iter().enumerate() {
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: collected,
            stream_sequence: index as u64 + 1,
        };
        scope.apply_source_snapshot(snapshot, &meta).await.unwrap();
    }
    let meta =
        SnapshotMeta { snapshot_id: Uuid::new_v4(), collected_at: collected, stream_sequence: 1 };
    scope.apply_hr_roster(loaded.data.hr.as_ref().unwrap(), &meta).await.unwrap();

    let period = Period { start: reference - TimeDelta::days(1), label: "generated".into() };
    let outcome = launch(&scope, &tenant, &campaign, &period, reference).await.unwrap();
    let ReviewLaunch::Launched { campaign_id, items: count } = outcome else {
        panic!("the campaign did not launch: {outcome:?}");
    };
    let stored = scope.review_items(campaign_id).await.unwrap();

    let data = scope.load_tenant_data().await.unwrap();
    let ctx = Context::new(&tenant, &data, reference);
    let expected = rollcall_reviews::build_items(&ctx, &campaign, None);
    assert!(expected.len() > 2_500, "only {} items: raise the people or grants", expected.len());
    assert_eq!(count, expected.len());
    assert_eq!(stored.len(), expected.len());
    for (index, (stored, expected)) in stored.iter().zip(&expected).enumerate() {
        assert_eq!(stored.item_id, i32::try_from(index + 1).unwrap());
        assert_eq!(stored.item_key, expected.key, "item {}", index + 1);
        assert_eq!(stored.reviewer, expected.reviewer, "item {}", index + 1);
        assert_eq!(stored.facts, serde_json::to_value(expected).unwrap(), "item {}", index + 1);
    }
}

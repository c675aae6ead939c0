//! The bulk path of campaign launches: the `COPY` of review items as the review loader
//! role, which bypasses row-level security, and the trigger that keeps it to the
//! transaction's tenant.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_store::{
    NewReviewCampaign, NewReviewItem, ReviewFacts, ReviewLaunch, ReviewerReason, Store, StoreError,
    TenantScope,
};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, PgPool};
use support::fixtures::{add_tenant, at};
use support::{REVIEW_LOADER, TestDb, count_as_tenant};
use uuid::Uuid;

const A: &str = "oakridge";
const B: &str = "lakeside";

/// SQLSTATE `insufficient_privilege`, which row-level security and the trigger raise.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

fn campaign() -> NewReviewCampaign {
    NewReviewCampaign {
        definition_id: "quarterly-all".into(),
        period_start: at("2026-10-01T05:00:00Z"),
        period_label: "2026-Q4".into(),
        name: "Quarterly access review".into(),
        definition: json!({}),
        launched_at: at("2026-10-20T15:00:00Z"),
        deadline: at("2026-11-03T15:00:00Z"),
        at_expiry: "none".into(),
        fallback_reviewer: "hr:E1003".into(),
        second_stage_reviewer: None,
        grant_keys: None,
    }
}

fn item(key: &str, facts: serde_json::Value) -> NewReviewItem {
    NewReviewItem {
        item_key: key.into(),
        reviewee: "hr:E1004".into(),
        reviewer: "hr:E1002".into(),
        reviewer_reason: ReviewerReason::Manager,
        privileged: false,
        outside_baseline: false,
        recommend_revoke: false,
        facts: ReviewFacts::new(&facts, "facts").unwrap(),
    }
}

async fn launch(scope: &TenantScope<'_>, items: &[NewReviewItem]) -> Uuid {
    match scope.launch_review_campaign(&campaign(), items, "test").await.unwrap() {
        ReviewLaunch::Launched { campaign_id, .. } => campaign_id,
        ReviewLaunch::AlreadyLaunched => panic!("the campaign was launched already"),
    }
}

/// Sends one item row in `COPY` text format as the loader role, in a transaction of
/// `tenant`, and returns the SQLSTATE of the error, or `None` when the row was stored.
/// The transaction is rolled back either way.
async fn copy_as_loader(pool: &PgPool, tenant: &str, row: &str) -> Option<String> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('rollcall.tenant_id', $1, true)")
        .bind(tenant)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(AssertSqlSafe(format!("SET LOCAL ROLE {REVIEW_LOADER}")))
        .execute(&mut *tx)
        .await
        .unwrap();
    let mut copy = tx
        .copy_in_raw(
            "COPY rollcall.review_items (tenant_id, campaign_id, item_id, item_key, reviewee, \
             reviewer, reviewer_reason, privileged, outside_baseline, recommendation, facts) \
             FROM STDIN",
        )
        .await
        .unwrap();
    copy.send(row.as_bytes()).await.unwrap();
    let outcome = copy.finish().await;
    tx.rollback().await.unwrap();
    match outcome {
        Ok(_) => None,
        Err(error) => Some(
            error
                .as_database_error()
                .and_then(|e| e.code())
                .map(|code| code.into_owned())
                .unwrap_or_else(|| panic!("not a database error: {error}")),
        ),
    }
}

fn item_row(tenant: &str, campaign_id: Uuid) -> String {
    format!(
        "{tenant}\t{campaign_id}\t99\tentra/planted/group-9\thr:E1004\thr:E1002\tmanager\tf\tf\tkeep\t{{}}\n"
    )
}

#[tokio::test]
async fn launch_copies_items_once() {
    let mut db = TestDb::create_with_review_loader().await;
    let store = db.loader_store().await;
    let a = add_tenant(&store, A).await;
    let scope = store.tenant(&a);
    // Tab, newline and backslash need escapes in COPY text.
    let facts = json!({ "person": { "name": "Dana\tTest\\n" }, "note": "line\nbreak" });
    let items = [item("entra/u-1/group-1", facts.clone()), item("entra/u-1/group-2", json!({}))];

    let campaign_id = launch(&scope, &items).await;

    let stored = scope.review_items(campaign_id).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].item_id, 1);
    assert_eq!(stored[0].item_key, "entra/u-1/group-1");
    assert_eq!(stored[0].facts, facts);
    assert_eq!(stored[1].item_id, 2);
    let audit = scope.audit_entries(0, 100).await.unwrap();
    assert_eq!(audit.last().map(|entry| entry.action.as_str()), Some("review.launched"));
}

#[tokio::test]
async fn loader_copy_of_other_tenant_rejected() {
    let mut db = TestDb::create_with_review_loader().await;
    let role = db.create_loader_member().await;
    let pool = db.pool_switched_to(&role, 2).await;
    let store = Store::from_pool(pool.clone()).await.unwrap();
    assert!(store.copies_review_items());
    let a = add_tenant(&store, A).await;
    let b = add_tenant(&store, B).await;
    let campaign_a = launch(&store.tenant(&a), &[item("entra/u-1/group-1", json!({}))]).await;
    let campaign_b = launch(&store.tenant(&b), &[item("entra/u-2/group-1", json!({}))]).await;

    // A row of B, into B's campaign, in a transaction of A: the trigger rejects it.
    let error = copy_as_loader(&pool, A, &item_row(B, campaign_b)).await;
    assert_eq!(error.as_deref(), Some(INSUFFICIENT_PRIVILEGE));
    // The same row in no tenant's transaction.
    let error = copy_as_loader(&pool, "", &item_row(B, campaign_b)).await;
    assert_eq!(error.as_deref(), Some(INSUFFICIENT_PRIVILEGE));
    // A row of A in A's transaction passes, so the rejections above are about the tenant.
    assert_eq!(copy_as_loader(&pool, A, &item_row(A, campaign_a)).await, None);

    let admin = db.admin_pool().await;
    let count = "SELECT count(*) FROM rollcall.review_items";
    assert_eq!(count_as_tenant(&admin, B, count).await, 2);
    assert_eq!(store.tenant(&b).review_items(campaign_b).await.unwrap().len(), 1);
}

#[tokio::test]
async fn loader_role_reads_and_changes_nothing() {
    let mut db = TestDb::create_with_review_loader().await;
    let role = db.create_loader_member().await;
    let pool = db.pool_switched_to(&role, 1).await;
    let store = Store::from_pool(pool.clone()).await.unwrap();
    let b = add_tenant(&store, B).await;
    launch(&store.tenant(&b), &[item("entra/u-2/group-1", json!({}))]).await;

    for statement in [
        "SELECT count(*) FROM rollcall.review_items",
        "SELECT count(*) FROM rollcall.review_campaigns",
        "UPDATE rollcall.review_items SET decision = 'approve'",
        "DELETE FROM rollcall.review_items",
        "INSERT INTO rollcall.review_signoffs (tenant_id, campaign_id, stage, reviewer, signed_at) \
         SELECT 'lakeside', gen_random_uuid(), 1, 'hr:E1002', now()",
    ] {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("SELECT set_config('rollcall.tenant_id', $1, true)")
            .bind(B)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(AssertSqlSafe(format!("SET LOCAL ROLE {REVIEW_LOADER}")))
            .execute(&mut *tx)
            .await
            .unwrap();
        let error = sqlx::query(statement).execute(&mut *tx).await.unwrap_err();
        let code = error.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some(INSUFFICIENT_PRIVILEGE), "{statement}: {error}");
        tx.rollback().await.unwrap();
    }
}

fn item_for(key: &str, reviewer: &str) -> NewReviewItem {
    NewReviewItem { reviewer: reviewer.into(), ..item(key, json!({ "key": key })) }
}

/// Batches as a launch's item builder hands them over: two items, an empty batch, then
/// three items for other reviewers.
fn three_batches() -> Vec<Vec<NewReviewItem>> {
    vec![
        vec![item_for("entra/u-1/group-1", "hr:E1002"), item_for("entra/u-1/group-2", "hr:E1002")],
        Vec::new(),
        vec![
            item_for("ldap/u-2/group-1", "hr:E1007"),
            item_for("ldap/u-3/group-1", "hr:E1003"),
            item_for("ldap/u-3/group-2", "hr:E1007"),
        ],
    ]
}

#[tokio::test]
async fn batches_are_numbered_on_and_recorded_whole() {
    let mut db = TestDb::create_with_review_loader().await;
    // With the loader role and without it: both must number across batches and switch
    // back to a role that may write the audit chain after the `COPY`.
    for store in [db.loader_store().await, db.store().await] {
        let tenant = add_tenant(&store, &format!("t{}", Uuid::new_v4().simple())).await;
        let scope = store.tenant(&tenant);
        let batches = futures_util::stream::iter(three_batches().into_iter().map(Ok));
        let outcome = scope.launch_review_campaign_from(&campaign(), batches, "test").await;
        let ReviewLaunch::Launched { campaign_id, items } = outcome.unwrap() else {
            panic!("the campaign was launched already");
        };
        assert_eq!(items, 5);

        let stored = scope.review_items(campaign_id).await.unwrap();
        let keys: Vec<(i32, &str)> =
            stored.iter().map(|item| (item.item_id, item.item_key.as_str())).collect();
        assert_eq!(
            keys,
            [
                (1, "entra/u-1/group-1"),
                (2, "entra/u-1/group-2"),
                (3, "ldap/u-2/group-1"),
                (4, "ldap/u-3/group-1"),
                (5, "ldap/u-3/group-2"),
            ]
        );
        assert_eq!(stored[4].facts, json!({ "key": "ldap/u-3/group-2" }));
        let audit = scope.audit_entries(0, 100).await.unwrap();
        let launched = audit.iter().find(|entry| entry.action == "review.launched").unwrap();
        let detail: serde_json::Value = serde_json::from_str(&launched.detail).unwrap();
        assert_eq!(detail["items"], 5);
        assert_eq!(detail["reviewers"], json!(["hr:E1002", "hr:E1003", "hr:E1007"]));
    }
}

/// A failing batch rolls the launch back, and the `COPY` is ended so that the pool keeps
/// the same connection: a pool of one hands out the same server process afterwards.
#[tokio::test]
async fn failed_batch_stores_nothing_and_keeps_the_connection() {
    let mut db = TestDb::create_with_review_loader().await;
    let member = db.create_loader_member().await;
    let loader_pool = db.pool_switched_to(&member, 1).await;
    let app_pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(db.options_as(support::APP))
        .await
        .unwrap();
    for pool in [loader_pool, app_pool] {
        let store = Store::from_pool(pool.clone()).await.unwrap();
        let tenant = add_tenant(&store, &format!("t{}", Uuid::new_v4().simple())).await;
        let scope = store.tenant(&tenant);
        let backend = "SELECT pg_backend_pid()";
        let before: i32 = sqlx::query_scalar(backend).fetch_one(&pool).await.unwrap();

        let mut batches: Vec<Result<Vec<NewReviewItem>, StoreError>> =
            three_batches().into_iter().map(Ok).collect();
        batches.insert(
            1,
            Err(StoreError::LaunchItemsEnded {
                definition_id: "quarterly-all".into(),
                reason: "the item builder stopped before its last item".into(),
            }),
        );
        let outcome = scope
            .launch_review_campaign_from(&campaign(), futures_util::stream::iter(batches), "test")
            .await;
        let error = outcome.unwrap_err();
        assert!(
            matches!(error, StoreError::LaunchItemsEnded { .. }),
            "the batch's error is returned: {error}"
        );
        let after: i32 = sqlx::query_scalar(backend).fetch_one(&pool).await.unwrap();
        assert_eq!(after, before, "the pool replaced its connection");

        let period = campaign().period_start;
        assert_eq!(scope.review_campaign_for_period("quarterly-all", period).await.unwrap(), None);
        let audit = scope.audit_entries(0, 100).await.unwrap();
        assert!(audit.iter().all(|entry| entry.action != "review.launched"), "{audit:?}");
        // The same period launches afterwards.
        let campaign_id = launch(&scope, &[item("entra/u-1/group-1", json!({}))]).await;
        assert_eq!(scope.review_items(campaign_id).await.unwrap().len(), 1);
    }
}

/// The connection logs in as a role without privileges of its own and switches to a
/// member of the loader role at connect time. After the `COPY`, the launch must return to
/// that member, not to the login role, or appending the audit entry is denied.
#[tokio::test]
async fn launch_returns_to_the_connection_role() {
    let mut db = TestDb::create_with_review_loader().await;
    let member = db.create_loader_member().await;
    let pool = db.pool_logged_in_switching_to(&member, 2).await;
    let store = Store::from_pool(pool).await.unwrap();
    assert!(store.copies_review_items());
    let tenant = add_tenant(&store, A).await;
    let scope = store.tenant(&tenant);

    let campaign_id = launch(&scope, &[item("entra/u-1/group-1", json!({}))]).await;

    assert_eq!(scope.review_items(campaign_id).await.unwrap().len(), 1);
    let audit = scope.audit_entries(0, 100).await.unwrap();
    assert_eq!(audit.last().map(|entry| entry.action.as_str()), Some("review.launched"));
}

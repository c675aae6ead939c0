//! The field case `testdata/field-cases/pg-rls-owner-bypass`, run against the store's own
//! schema: the probes of its phases 2 and 3 must give the required results for every
//! tenant table, with the roles of the product (`rollcall_migrator` owns, `rollcall_app`
//! serves requests).
//!
//! As in the case, Oakridge (A) has 3 rows and Lakeside (B) has 2, and every probe runs in
//! its own transaction with the tenant set to A.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_core::Severity;
use sqlx::{PgPool, Row};
use support::fixtures::{add_tenant, at, finding};
use support::{APP, MIGRATOR, TestDb, count_as_tenant};

const A: &str = "oakridge";
const B: &str = "lakeside";

/// Seeds the case's five accounts as processed message ids, three for A and two for B.
async fn seed(db: &TestDb) -> (PgPool, PgPool, PgPool) {
    let store = db.store().await;
    let a = add_tenant(&store, A).await;
    let b = add_tenant(&store, B).await;
    for id in ["u-1001", "u-1002", "u-1003"] {
        store.tenant(&a).record_processed_message("engine", id).await.unwrap();
    }
    for id in ["u-2001", "u-2002"] {
        store.tenant(&b).record_processed_message("engine", id).await.unwrap();
    }
    // One open finding each, for the view probe.
    let now = at("2026-12-01T15:00:00Z");
    store.tenant(&a).record_findings(now, &[finding(A, "a", Severity::High)]).await.unwrap();
    store.tenant(&b).record_findings(now, &[finding(B, "b", Severity::High)]).await.unwrap();
    (db.pool_as(MIGRATOR).await, db.pool_as(APP).await, db.admin_pool().await)
}

const COUNT_ROWS: &str = "SELECT count(*) FROM rollcall.processed_messages";

#[tokio::test]
async fn owner_is_filtered() {
    let db = TestDb::create().await;
    let (owner, _, _) = seed(&db).await;

    // P2 owner rows=3: FORCE makes the policy apply to the owner.
    assert_eq!(count_as_tenant(&owner, A, COUNT_ROWS).await, 3);
}

#[tokio::test]
async fn runtime_role_is_filtered() {
    let db = TestDb::create().await;
    let (_, app, _) = seed(&db).await;

    assert_eq!(count_as_tenant(&app, A, COUNT_ROWS).await, 3);
}

#[tokio::test]
async fn view_shows_caller_tenant_only() {
    let db = TestDb::create().await;
    let (_, app, _) = seed(&db).await;

    // P2 app view_tenants=1: the view is security_invoker, so the caller's policy applies.
    let sql = "SELECT count(DISTINCT tenant_id) FROM rollcall.open_findings";
    assert_eq!(count_as_tenant(&app, A, sql).await, 1);
}

#[tokio::test]
async fn superuser_sees_everything_by_design() {
    let db = TestDb::create().await;
    let (_, _, admin) = seed(&db).await;

    // P2 super rows=5: nothing stops a superuser, which is why the store refuses one.
    assert_eq!(count_as_tenant(&admin, A, COUNT_ROWS).await, 5);
}

#[tokio::test]
async fn owner_cross_tenant_insert_rejected() {
    let db = TestDb::create().await;
    let (owner, _, _) = seed(&db).await;

    let mut tx = owner.begin().await.unwrap();
    sqlx::query("SELECT set_config('rollcall.tenant_id', $1, true)")
        .bind(A)
        .execute(&mut *tx)
        .await
        .unwrap();
    let result = sqlx::query(
        "INSERT INTO rollcall.processed_messages (tenant_id, consumer, message_id) \
         VALUES ($1, 'engine', 'u-2999')",
    )
    .bind(B)
    .execute(&mut *tx)
    .await;

    let error = result.unwrap_err();
    let database_error = error.as_database_error().unwrap();
    assert_eq!(database_error.code().as_deref(), Some("42501"));
    assert_eq!(
        database_error.message(),
        "new row violates row-level security policy for table \"processed_messages\""
    );
}

#[tokio::test]
async fn every_tenant_table_forces_rls() {
    let db = TestDb::create().await;
    let admin = db.admin_pool().await;

    // P3: rls=true force=true owner=the migrator, for every table, each with tenant_id.
    let rows = sqlx::query(
        "SELECT c.relname::text AS name, c.relrowsecurity, c.relforcerowsecurity, \
                pg_get_userbyid(c.relowner)::text AS owner, \
                EXISTS (SELECT 1 FROM pg_attribute a \
                        WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' \
                          AND a.attnotnull AND NOT a.attisdropped \
                          AND a.atttypid = 'text'::regtype) AS has_tenant_id \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'rollcall' AND c.relkind IN ('r', 'p') ORDER BY c.relname",
    )
    .fetch_all(&admin)
    .await
    .unwrap();

    let names: Vec<String> = rows.iter().map(|r| r.get("name")).collect();
    assert_eq!(
        names,
        [
            "audit_chain",
            "audit_log",
            "drchrono_state",
            "entra_delta_state",
            "finding_outbox",
            "findings",
            "hr_events",
            "hr_vendor_deliveries",
            "hr_vendor_workers",
            "leaver_accounts",
            "leaver_applied_events",
            "leavers",
            "pipeline_problems",
            "processed_messages",
            "remediation_settings",
            "remediation_tasks",
            "review_campaigns",
            "review_items",
            "review_mail",
            "review_revocations",
            "review_signoffs",
            "review_trigger_state",
            "scim_users",
            "source_snapshots",
            "source_state",
            "tenant_config",
            "tenants"
        ]
    );
    for row in &rows {
        let name: String = row.get("name");
        assert!(row.get::<bool, _>("relrowsecurity"), "{name}: rls");
        assert!(row.get::<bool, _>("relforcerowsecurity"), "{name}: force");
        assert_eq!(row.get::<String, _>("owner"), MIGRATOR, "{name}: owner");
        assert!(row.get::<bool, _>("has_tenant_id"), "{name}: tenant_id text not null");
    }
}

#[tokio::test]
async fn every_view_is_security_invoker() {
    let db = TestDb::create().await;
    let admin = db.admin_pool().await;

    let rows = sqlx::query(
        "SELECT c.relname::text AS name, \
                coalesce('security_invoker=true' = ANY(c.reloptions), false) AS invoker \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'rollcall' AND c.relkind = 'v' ORDER BY c.relname",
    )
    .fetch_all(&admin)
    .await
    .unwrap();

    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<String, _>("name"), "open_findings");
    assert!(rows[0].get::<bool, _>("invoker"));
}

#[tokio::test]
async fn runtime_role_has_no_bypass() {
    let db = TestDb::create().await;
    let admin = db.admin_pool().await;

    // P3 role rc_app super=false bypassrls=false, and it owns nothing in the schema.
    let row = sqlx::query(
        "SELECT rolsuper, rolbypassrls, \
                (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'rollcall' AND c.relowner = r.oid) AS owned \
         FROM pg_roles r WHERE rolname = $1",
    )
    .bind(APP)
    .fetch_one(&admin)
    .await
    .unwrap();

    assert!(!row.get::<bool, _>("rolsuper"));
    assert!(!row.get::<bool, _>("rolbypassrls"));
    assert_eq!(row.get::<i64, _>("owned"), 0);
}

#[tokio::test]
async fn runtime_role_cannot_truncate() {
    let db = TestDb::create().await;
    let (_, app, _) = seed(&db).await;

    // TRUNCATE skips row-level security, so the runtime role must not hold it.
    let result = sqlx::query("TRUNCATE rollcall.processed_messages").execute(&app).await;

    let error = result.unwrap_err();
    assert_eq!(error.as_database_error().unwrap().code().as_deref(), Some("42501"), "{error}");
}

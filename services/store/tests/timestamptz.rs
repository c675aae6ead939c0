//! The field case `testdata/field-cases/pg-timestamp-vs-timestamptz` against the store:
//! every instant is `timestamptz`, and what the store writes and reads does not shift with
//! the session's `TimeZone`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use chrono::{DateTime, Utc};
use rollcall_core::Severity;
use rollcall_store::{AuditEntry, ChainVerification, FindingStatus, Store};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};
use support::fixtures::{add_tenant, at, entra_snapshot, finding, meta};
use support::{APP, TestDb};

/// The campaign close of the field case: 2027-03-31 23:59:59 in Chicago.
const CLOSE: &str = "2027-04-01T04:59:59Z";

/// Opens a pool of the runtime role whose sessions run in `zone`, like a psql report or a
/// Grafana panel. sqlx itself starts every session in UTC.
async fn pool_in_zone(db: &TestDb, zone: &'static str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                sqlx::query("SELECT set_config('TimeZone', $1, false)")
                    .bind(zone)
                    .execute(connection)
                    .await?;
                Ok(())
            })
        })
        .connect_with(db.options_as(APP))
        .await
        .unwrap()
}

#[tokio::test]
async fn schema_has_no_naive_timestamps() {
    let db = TestDb::create().await;
    let admin = db.admin_pool().await;

    let rows = sqlx::query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                data_type::text AS data_type \
         FROM information_schema.columns \
         WHERE table_schema = 'rollcall' AND data_type LIKE 'timestamp%'",
    )
    .fetch_all(&admin)
    .await
    .unwrap();

    assert!(rows.len() >= 15, "expected the schema's instants, found {}", rows.len());
    for row in rows {
        let column = format!(
            "{}.{}",
            row.get::<String, _>("table_name"),
            row.get::<String, _>("column_name")
        );
        assert_eq!(row.get::<String, _>("data_type"), "timestamp with time zone", "{column}");
    }
}

#[tokio::test]
async fn instants_do_not_shift_with_session_zone() {
    let db = TestDb::create().await;
    let utc = db.store().await;
    let chicago = Store::from_pool(pool_in_zone(&db, "America/Chicago").await).await.unwrap();
    let tenant = add_tenant(&utc, "oakridge").await;

    // Written from a Chicago session...
    let scope = chicago.tenant(&tenant);
    scope.record_findings(at(CLOSE), &[finding("oakridge", "a", Severity::High)]).await.unwrap();
    let entry = AuditEntry {
        at: at("2027-07-01T04:59:59Z"),
        actor: "reviewer".into(),
        action: "campaign.closed".into(),
        detail: serde_json::json!({}),
    };
    scope.append_audit(&entry).await.unwrap();
    let snapshot = entra_snapshot(&["u-1001"]);
    scope.apply_source_snapshot(&snapshot, &meta(1, CLOSE, 1)).await.unwrap();

    // ...and read from both zones: the same instants.
    for store in [&utc, &chicago] {
        let scope = store.tenant(&tenant);
        let findings = scope.findings(FindingStatus::Open).await.unwrap();
        assert_eq!(findings[0].last_seen, at(CLOSE));
        let entries = scope.audit_entries(0, 10).await.unwrap();
        let closed = entries.iter().find(|e| e.action == "campaign.closed").unwrap();
        assert_eq!(closed.recorded_at, at("2027-07-01T04:59:59Z"));
        assert_eq!(scope.source_states().await.unwrap()[0].collected_at, at(CLOSE));
        // The hash covers the instant in UTC, so the chain verifies from any zone.
        assert_eq!(
            scope.verify_audit_chain().await.unwrap(),
            ChainVerification::Intact { anchor_seq: 0, head_seq: 2 }
        );
    }
}

#[tokio::test]
async fn comparisons_agree_in_every_zone() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let a = finding("oakridge", "a", Severity::High);
    store.tenant(&tenant).record_findings(at(CLOSE), &[a]).await.unwrap();

    // T1 of the field case: one hour after the close, the close is in the past in every
    // session zone. Only the text form follows the zone.
    let mut answers = Vec::new();
    for zone in ["UTC", "America/Chicago"] {
        let pool = pool_in_zone(&db, zone).await;
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("SELECT set_config('rollcall.tenant_id', 'oakridge', true)")
            .execute(&mut *tx)
            .await
            .unwrap();
        let row = sqlx::query(
            "SELECT last_seen > '2027-04-01 06:00:00+00'::timestamptz AS open, \
                    last_seen::text AS shown, last_seen \
             FROM rollcall.findings",
        )
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        let instant: DateTime<Utc> = row.get("last_seen");
        answers.push((row.get::<bool, _>("open"), row.get::<String, _>("shown"), instant));
    }

    assert_eq!(answers[0], (false, "2027-04-01 04:59:59+00".to_owned(), at(CLOSE)));
    assert_eq!(answers[1], (false, "2027-03-31 23:59:59-05".to_owned(), at(CLOSE)));
}

//! The hash-chained audit log: appending, verifying, and finding tampered entries.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use chrono::SecondsFormat;
use rollcall_core::TenantId;
use rollcall_store::{AuditEntry, BreakKind, ChainBreak, ChainVerification, Store};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use support::TestDb;
use support::fixtures::{add_tenant, at};

/// Appends five entries to `tenant`'s chain.
async fn append_five(store: &Store, tenant: &TenantId) {
    for n in 1..=5 {
        let entry = AuditEntry {
            at: at("2026-12-01T15:00:00Z") + chrono::TimeDelta::minutes(n),
            actor: "reviewer@harborview.example".into(),
            action: "review.decided".into(),
            detail: json!({"decision": "keep", "item": n}),
        };
        store.tenant(tenant).append_audit(&entry).await.unwrap();
    }
}

/// Runs `sql` as the superuser on the scratch database, the way an intruder with
/// database access would change the log.
async fn tamper(admin: &PgPool, sql: &'static str) {
    sqlx::query(sql).execute(admin).await.unwrap();
}

fn broken(seq: u64, kind: BreakKind) -> ChainVerification {
    ChainVerification::Broken(ChainBreak { seq, kind })
}

#[tokio::test]
async fn chain_links_and_verifies() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    append_five(&store, &tenant).await;

    let entries = store.tenant(&tenant).audit_entries(0, 10).await.unwrap();
    let verification = store.tenant(&tenant).verify_audit_chain().await.unwrap();

    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(entries[0].prev_sha256, [0; 32]);
    for pair in entries.windows(2) {
        assert_eq!(pair[1].prev_sha256, pair[0].sha256);
    }
    assert_eq!(entries[2].detail, r#"{"decision":"keep","item":3}"#);
    assert_eq!(verification, ChainVerification::Intact { anchor_seq: 0, head_seq: 5 });
}

#[tokio::test]
async fn empty_chain_is_intact() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;

    let verification = store.tenant(&tenant).verify_audit_chain().await.unwrap();

    assert_eq!(verification, ChainVerification::Intact { anchor_seq: 0, head_seq: 0 });
}

#[tokio::test]
async fn stored_hash_follows_documented_format() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    append_five(&store, &tenant).await;
    let entries = store.tenant(&tenant).audit_entries(0, 1).await.unwrap();
    let entry = &entries[0];

    // Recomputed from the stored columns alone, as an outside verifier would.
    let mut hasher = Sha256::new();
    hasher.update(entry.prev_sha256);
    let recorded_at = entry.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true);
    for field in [
        "rollcall-audit-v1",
        "oakridge",
        "1",
        recorded_at.as_str(),
        entry.actor.as_str(),
        entry.action.as_str(),
        entry.detail.as_str(),
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    let expected: [u8; 32] = hasher.finalize().into();

    assert_eq!(recorded_at, "2026-12-01T15:01:00.000000Z");
    assert_eq!(entry.sha256, expected);
}

#[tokio::test]
async fn altered_entry_found() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    append_five(&store, &tenant).await;

    let admin = db.admin_pool().await;
    tamper(
        &admin,
        r#"UPDATE rollcall.audit_log SET detail = '{"decision":"revoke","item":3}' WHERE tenant_id = 'oakridge' AND seq = 3"#,
    )
    .await;

    let verification = store.tenant(&tenant).verify_audit_chain().await.unwrap();
    assert_eq!(verification, broken(3, BreakKind::Altered));
}

#[tokio::test]
async fn rehashed_entry_found_by_successor() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    append_five(&store, &tenant).await;

    // Entry 3 rewritten with a hash that matches its new content.
    let admin = db.admin_pool().await;
    let entries = store.tenant(&tenant).audit_entries(2, 1).await.unwrap();
    let original = &entries[0];
    let detail = r#"{"decision":"revoke","item":3}"#;
    let mut hasher = Sha256::new();
    hasher.update(original.prev_sha256);
    let recorded_at = original.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true);
    for field in [
        "rollcall-audit-v1",
        "oakridge",
        "3",
        &recorded_at,
        &original.actor,
        &original.action,
        detail,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    let rehashed: [u8; 32] = hasher.finalize().into();
    sqlx::query(
        "UPDATE rollcall.audit_log SET detail = $1, sha256 = $2 \
         WHERE tenant_id = 'oakridge' AND seq = 3",
    )
    .bind(detail)
    .bind(rehashed.as_slice())
    .execute(&admin)
    .await
    .unwrap();

    let verification = store.tenant(&tenant).verify_audit_chain().await.unwrap();
    assert_eq!(verification, broken(4, BreakKind::Unlinked));
}

#[tokio::test]
async fn deleted_entry_found() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    append_five(&store, &tenant).await;

    let admin = db.admin_pool().await;
    tamper(&admin, "DELETE FROM rollcall.audit_log WHERE tenant_id = 'oakridge' AND seq = 2").await;

    let verification = store.tenant(&tenant).verify_audit_chain().await.unwrap();
    assert_eq!(verification, broken(2, BreakKind::Missing));
}

#[tokio::test]
async fn deleted_newest_entry_found() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    append_five(&store, &tenant).await;

    let admin = db.admin_pool().await;
    tamper(&admin, "DELETE FROM rollcall.audit_log WHERE tenant_id = 'oakridge' AND seq = 5").await;

    let verification = store.tenant(&tenant).verify_audit_chain().await.unwrap();
    assert_eq!(verification, broken(5, BreakKind::Missing));
}

#[tokio::test]
async fn runtime_role_cannot_update_entries() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    append_five(&store, &tenant).await;
    let app = db.pool_as(support::APP).await;

    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('rollcall.tenant_id', 'oakridge', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let result = sqlx::query("UPDATE rollcall.audit_log SET actor = 'someone else' WHERE seq = 1")
        .execute(&mut *tx)
        .await;

    let error = result.unwrap_err();
    let code = error.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("42501"), "{error}");
}

#[test]
fn break_message_names_entry() {
    let message = ChainBreak { seq: 7, kind: BreakKind::Altered }.to_string();
    assert_eq!(message, "audit entry `7` was altered after it was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_stay_chained() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;

    let appends = (0..12).map(|n| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            let entry = AuditEntry {
                at: at("2026-12-01T15:00:00Z"),
                actor: format!("worker-{n}"),
                action: "review.decided".into(),
                detail: json!({"item": n}),
            };
            store.tenant(&tenant).append_audit(&entry).await.unwrap().seq
        })
    });
    let mut seqs = Vec::new();
    for handle in appends.collect::<Vec<_>>() {
        seqs.push(handle.await.unwrap());
    }
    seqs.sort_unstable();

    assert_eq!(seqs, (1..=12).collect::<Vec<u64>>());
    assert_eq!(
        store.tenant(&tenant).verify_audit_chain().await.unwrap(),
        ChainVerification::Intact { anchor_seq: 0, head_seq: 12 }
    );
}

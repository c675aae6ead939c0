//! The Entra ID connector's delta state: saved and replaced per tenant, and never visible
//! to or changeable by another tenant.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use rollcall_core::TenantId;
use rollcall_store::{EntraDeltaState, StoreError};
use serde_json::json;
use support::fixtures::{add_tenant, at};
use support::{APP, TestDb, count_as_tenant};

const A: &str = "oakridge";
const B: &str = "lakeside";

fn state(link: &str, user: &str) -> EntraDeltaState {
    EntraDeltaState {
        users_delta_link: format!(
            "https://graph.microsoft.com/v1.0/users/delta?$deltatoken={link}"
        ),
        groups_delta_link: format!(
            "https://graph.microsoft.com/v1.0/groups/delta?$deltatoken={link}"
        ),
        directory: json!({ "users": [{ "id": user }], "groups": [], "members": {} }),
        saved_at: at("2026-12-01T06:00:00Z"),
    }
}

#[tokio::test]
async fn delta_state_saves_and_replaces() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = add_tenant(&store, A).await;
    let scope = store.tenant(&a);

    assert_eq!(scope.entra_delta_state().await.unwrap(), None);
    scope.save_entra_delta_state(&state("first", "u-1")).await.unwrap();
    assert_eq!(scope.entra_delta_state().await.unwrap(), Some(state("first", "u-1")));

    scope.save_entra_delta_state(&state("second", "u-2")).await.unwrap();
    assert_eq!(scope.entra_delta_state().await.unwrap(), Some(state("second", "u-2")));

    assert!(scope.clear_entra_delta_state().await.unwrap());
    assert_eq!(scope.entra_delta_state().await.unwrap(), None);
    assert!(!scope.clear_entra_delta_state().await.unwrap());
}

#[tokio::test]
async fn delta_state_isolated_per_tenant() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = add_tenant(&store, A).await;
    let b = add_tenant(&store, B).await;
    store.tenant(&b).save_entra_delta_state(&state("b-token", "u-b")).await.unwrap();

    let scope_a = store.tenant(&a);
    assert_eq!(scope_a.entra_delta_state().await.unwrap(), None);
    scope_a.save_entra_delta_state(&state("a-token", "u-a")).await.unwrap();
    assert!(scope_a.clear_entra_delta_state().await.unwrap());
    assert_eq!(store.tenant(&b).entra_delta_state().await.unwrap(), Some(state("b-token", "u-b")));

    let app = db.pool_as(APP).await;
    let sql = "SELECT count(*) FROM rollcall.entra_delta_state";
    assert_eq!(count_as_tenant(&app, A, sql).await, 0);
    assert_eq!(count_as_tenant(&app, B, sql).await, 1);

    // The runtime role with A's setting cannot change B's row by naming it.
    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('rollcall.tenant_id', 'oakridge', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let affected =
        sqlx::query("DELETE FROM rollcall.entra_delta_state WHERE tenant_id = 'lakeside'")
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected();
    tx.commit().await.unwrap();
    assert_eq!(affected, 0);
}

#[tokio::test]
async fn delta_state_needs_known_tenant() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let unknown = TenantId::new("nowhere").unwrap();
    let error = store.tenant(&unknown).save_entra_delta_state(&state("x", "u")).await.unwrap_err();
    assert!(matches!(error, StoreError::UnknownTenant { .. }), "{error}");
}

#[tokio::test]
async fn delta_state_rejects_nul() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let a = add_tenant(&store, A).await;
    let mut bad = state("x", "u");
    bad.directory = json!({ "users": [{ "id": "u\u{0}" }] });
    let error = store.tenant(&a).save_entra_delta_state(&bad).await.unwrap_err();
    assert!(matches!(error, StoreError::NulCharacter { .. }), "{error}");
}

//! The DrChrono connector's state: the refresh token survives across stores, the
//! published hash keeps the token, and a tenant reads only its own row.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use support::TestDb;
use support::fixtures::{add_tenant, at};

const SEED: &str = "0000000000000000000000000000000000000000000000000000000000000001";

#[tokio::test]
async fn refresh_token_round_trip() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "harborlight").await;
    let scope = store.tenant(&tenant);
    assert!(scope.drchrono_state().await.unwrap().is_none());

    scope
        .save_drchrono_refresh_token("synthetic-1", SEED, at("2026-12-01T06:00:00Z"))
        .await
        .unwrap();
    assert!(scope.save_drchrono_published_hash("abc", at("2026-12-01T06:00:05Z")).await.unwrap());
    scope
        .save_drchrono_refresh_token("synthetic-2", SEED, at("2026-12-01T12:00:00Z"))
        .await
        .unwrap();

    // A new connection reads what was committed.
    let state = db.store().await.tenant(&tenant).drchrono_state().await.unwrap().unwrap();
    assert_eq!(state.refresh_token, "synthetic-2");
    assert_eq!(state.seed_sha256, SEED);
    assert_eq!(state.refreshed_at, at("2026-12-01T12:00:00Z"));
    assert_eq!(state.published_hash.as_deref(), Some("abc"));
    assert!(!format!("{state:?}").contains("synthetic-2"), "Debug shows the token");
}

#[tokio::test]
async fn published_hash_needs_a_row() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "harborlight").await;
    let scope = store.tenant(&tenant);
    let saved = scope.save_drchrono_published_hash("abc", at("2026-12-01T06:00:00Z")).await;
    assert!(!saved.unwrap());
}

#[tokio::test]
async fn state_is_per_tenant() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let first = add_tenant(&store, "harborlight").await;
    let second = add_tenant(&store, "lakeside").await;
    store
        .tenant(&first)
        .save_drchrono_refresh_token("synthetic-1", SEED, at("2026-12-01T06:00:00Z"))
        .await
        .unwrap();
    assert!(store.tenant(&second).drchrono_state().await.unwrap().is_none());
}

#[tokio::test]
async fn unknown_tenant_is_rejected() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = support::fixtures::tenant_id("nobody");
    let result = store
        .tenant(&tenant)
        .save_drchrono_refresh_token("synthetic-1", SEED, at("2026-12-01T06:00:00Z"))
        .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn invalid_seed_is_rejected() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "harborlight").await;
    let result = store
        .tenant(&tenant)
        .save_drchrono_refresh_token("synthetic-1", "not-a-hash", at("2026-12-01T06:00:00Z"))
        .await;
    assert!(result.is_err());
}

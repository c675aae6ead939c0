//! The delta state kept in PostgreSQL between syncs: a full sync, the state saved and
//! loaded through the store, then a delta sync from the loaded state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use rollcall_entra_connector::{
    DeltaMode, GraphClient, HttpTransport, delta_sync, load_state, save_state,
};
use rollcall_graph_double::Tenant;
use support::TestDb;
use support::fixtures::add_tenant;

#[tokio::test]
async fn delta_state_survives_the_store() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let harborview = add_tenant(&store, "harborview").await;
    let other = add_tenant(&store, "lakeside").await;
    let scope = store.tenant(&harborview);

    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;
    let dir = tempfile::tempdir().unwrap();
    let credential = common::credential(dir.path());
    let transport = HttpTransport::new(std::time::Duration::from_secs(10)).unwrap();
    let max_age = chrono::Duration::hours(24);

    assert!(load_state(&scope).await.unwrap().is_none());
    let mut client = GraphClient::new(
        &transport,
        &base,
        common::DIRECTORY,
        common::CLIENT_ID,
        &credential,
        common::fast_limits(),
    );
    let (first, state, mode) =
        delta_sync(&mut client, &base, "harborview", None, max_age).await.unwrap();
    assert_eq!(mode, DeltaMode::Initial);
    save_state(&scope, &state).await.unwrap();

    let loaded = load_state(&scope).await.unwrap().unwrap();
    assert_eq!(loaded.users_delta_link, state.users_delta_link);
    assert_eq!(loaded.directory, state.directory);
    assert!(load_state(&store.tenant(&other)).await.unwrap().is_none());

    double.clear_requests();
    let mut client = GraphClient::new(
        &transport,
        &base,
        common::DIRECTORY,
        common::CLIENT_ID,
        &credential,
        common::fast_limits(),
    );
    let (second, _, mode) =
        delta_sync(&mut client, &base, "harborview", Some(&loaded), max_age).await.unwrap();
    assert_eq!(mode, DeltaMode::Delta);
    assert_eq!(second.snapshot, first.snapshot);
    let full_listings = double.requests().iter().filter(|r| r.path == "/users").count();
    assert_eq!(full_listings, 0, "a delta sync must not list all users");
}

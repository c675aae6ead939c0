//! The start-up check of the runtime role, and start-up against a server that is down.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::time::Duration;

use rollcall_store::{RoleError, Store, StoreError, StoreOptions};
use sqlx::AssertSqlSafe;
use support::{MIGRATOR, TestDb};

fn role_error(result: Result<Store, StoreError>) -> RoleError {
    match result {
        Err(StoreError::Role(error)) => error,
        Err(other) => panic!("expected a role error, got {other}"),
        Ok(_) => panic!("the store accepted a role it must refuse"),
    }
}

#[tokio::test]
async fn runtime_role_accepted() {
    let db = TestDb::create().await;
    let pool = db.pool_as(support::APP).await;

    assert!(Store::from_pool(pool).await.is_ok());
}

#[tokio::test]
async fn superuser_refused() {
    let db = TestDb::create().await;

    let error = role_error(Store::from_pool(db.admin_pool().await).await);

    assert!(matches!(&error, RoleError::Superuser { .. }), "{error}");
    assert!(error.to_string().contains("connect as the runtime role `rollcall_app`"), "{error}");
}

#[tokio::test]
async fn owner_refused() {
    let db = TestDb::create().await;

    let error = role_error(Store::from_pool(db.pool_as(MIGRATOR).await).await);

    match error {
        RoleError::OwnsTable { role, owner, .. } => {
            assert_eq!(role, MIGRATOR);
            assert_eq!(owner, MIGRATOR);
        }
        other => panic!("expected an owner error, got {other}"),
    }
}

#[tokio::test]
async fn member_of_owner_refused() {
    let mut db = TestDb::create().await;
    let member = db.create_test_role("NOSUPERUSER NOBYPASSRLS").await;
    let admin = db.admin_pool().await;
    sqlx::query(AssertSqlSafe(format!("GRANT {MIGRATOR} TO {member}")))
        .execute(&admin)
        .await
        .unwrap();

    let error = role_error(Store::from_pool(db.pool_switched_to(&member, 1).await).await);

    match error {
        RoleError::OwnsTable { role, owner, .. } => {
            assert_eq!(role, member);
            assert_eq!(owner, MIGRATOR);
        }
        other => panic!("expected an owner error, got {other}"),
    }
}

#[tokio::test]
async fn bypassrls_role_refused() {
    let mut db = TestDb::create().await;
    let support_role = db.create_test_role("NOSUPERUSER BYPASSRLS").await;

    let error = role_error(Store::from_pool(db.pool_switched_to(&support_role, 1).await).await);

    match error {
        RoleError::BypassRls { role } => assert_eq!(role, support_role),
        other => panic!("expected a BYPASSRLS error, got {other}"),
    }
}

#[tokio::test]
async fn noinherit_member_of_owner_refused() {
    let mut db = TestDb::create().await;
    let member = db.create_test_role("NOSUPERUSER NOBYPASSRLS NOINHERIT").await;
    let admin = db.admin_pool().await;
    sqlx::query(AssertSqlSafe(format!("GRANT {MIGRATOR} TO {member}")))
        .execute(&admin)
        .await
        .unwrap();

    // Without INHERIT it has no owner rights now, but SET ROLE would give them.
    let error = role_error(Store::from_pool(db.pool_switched_to(&member, 1).await).await);

    match error {
        RoleError::OwnsTable { role, owner, .. } => {
            assert_eq!(role, member);
            assert_eq!(owner, MIGRATOR);
        }
        other => panic!("expected an owner error, got {other}"),
    }
}

#[tokio::test]
async fn member_of_bypassrls_role_refused() {
    let mut db = TestDb::create().await;
    let support_role = db.create_test_role("NOSUPERUSER BYPASSRLS").await;
    let member = db.create_test_role("NOSUPERUSER NOBYPASSRLS").await;
    let admin = db.admin_pool().await;
    sqlx::query(AssertSqlSafe(format!("GRANT {support_role} TO {member}")))
        .execute(&admin)
        .await
        .unwrap();

    let error = role_error(Store::from_pool(db.pool_switched_to(&member, 1).await).await);

    match error {
        RoleError::MemberOfPrivileged { role, privileged } => {
            assert_eq!(role, member);
            assert_eq!(privileged, support_role);
        }
        other => panic!("expected a membership error, got {other}"),
    }
}

#[tokio::test]
async fn unforced_table_refused() {
    let db = TestDb::create().await;
    let admin = db.admin_pool().await;
    sqlx::query("ALTER TABLE rollcall.hr_events NO FORCE ROW LEVEL SECURITY")
        .execute(&admin)
        .await
        .unwrap();

    let error = role_error(Store::from_pool(db.pool_as(support::APP).await).await);

    match error {
        RoleError::RlsOff { table, enabled, forced } => {
            assert_eq!(table, "hr_events");
            assert!(enabled);
            assert!(!forced);
        }
        other => panic!("expected an RLS error, got {other}"),
    }
}

#[tokio::test]
async fn unmigrated_database_refused() {
    let db = TestDb::create().await;
    let admin = db.admin_pool().await;
    sqlx::query("DROP SCHEMA rollcall CASCADE").execute(&admin).await.unwrap();

    let error = role_error(Store::from_pool(db.pool_as(support::APP).await).await);

    assert!(matches!(error, RoleError::NotMigrated), "{error}");
}

/// Returns a loopback port with no server, bound by this test and closed again.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

#[tokio::test]
async fn unreachable_server_fails_fast() {
    let port = closed_port();
    let url = format!("postgres://rollcall_app@127.0.0.1:{port}/rollcall");
    let options = StoreOptions { max_connections: 1, acquire_timeout: Duration::from_secs(2) };

    let result = tokio::time::timeout(Duration::from_secs(30), Store::connect(&url, &options))
        .await
        .expect("connecting must give up within the acquire timeout");

    match result {
        Err(error @ StoreError::Connect { .. }) => {
            let message = error.to_string();
            assert!(message.contains(&format!("`127.0.0.1:{port}/rollcall`")), "{message}");
        }
        Err(other) => panic!("expected a connection error, got {other}"),
        Ok(_) => panic!("connected to a closed port"),
    }
}

#[tokio::test]
async fn test_harness_reports_unreachable_server() {
    let port = closed_port();
    let options = support::admin_options().port(port);

    let message = support::connect_admin(&options).await.err().unwrap();

    assert!(message.starts_with(&format!("PostgreSQL is not reachable at 127.0.0.1:{port}")));
    assert!(message.contains(support::URL_VARIABLE), "{message}");
}

#[tokio::test]
async fn invalid_url_rejected() {
    let result =
        Store::connect("postgres://127.0.0.1:port/rollcall", &StoreOptions::default()).await;

    assert!(matches!(result, Err(StoreError::InvalidUrl { .. })), "{:?}", result.err());
}

#[tokio::test]
async fn review_loader_member_accepted() {
    let mut db = TestDb::create_with_review_loader().await;
    let member = db.create_loader_member().await;

    let store = Store::from_pool(db.pool_switched_to(&member, 1).await).await.unwrap();

    assert!(store.copies_review_items());
    assert!(!db.store().await.copies_review_items());
}

#[tokio::test]
async fn review_loader_with_more_privileges_refused() {
    for grant in [
        "GRANT SELECT ON rollcall.review_items TO rollcall_review_loader",
        "GRANT UPDATE (decision) ON rollcall.review_items TO rollcall_review_loader",
        "GRANT INSERT ON rollcall.review_signoffs TO rollcall_review_loader",
        "GRANT SELECT ON rollcall.findings TO PUBLIC",
    ] {
        let mut db = TestDb::create_with_review_loader().await;
        let member = db.create_loader_member().await;
        let admin = db.admin_pool().await;
        sqlx::query(AssertSqlSafe(grant)).execute(&admin).await.unwrap();

        let error = role_error(Store::from_pool(db.pool_switched_to(&member, 1).await).await);

        match error {
            RoleError::ReviewLoaderInvalid { role, loader, .. } => {
                assert_eq!(role, member, "{grant}");
                assert_eq!(loader, support::REVIEW_LOADER, "{grant}");
            }
            other => panic!("{grant}: expected a loader error, got {other}"),
        }
    }
}

#[tokio::test]
async fn review_loader_without_insert_refused() {
    let mut db = TestDb::create_with_review_loader().await;
    let member = db.create_loader_member().await;
    let owner = db.pool_as(MIGRATOR).await;
    sqlx::query("REVOKE INSERT ON rollcall.review_items FROM rollcall_review_loader")
        .execute(&owner)
        .await
        .unwrap();

    let error = role_error(Store::from_pool(db.pool_switched_to(&member, 1).await).await);

    assert!(
        matches!(&error, RoleError::ReviewLoaderInvalid { reason, .. } if reason.contains("lacks USAGE")),
        "{error}"
    );
}

#[tokio::test]
async fn review_loader_without_trigger_refused() {
    let mut db = TestDb::create_with_review_loader().await;
    let member = db.create_loader_member().await;
    let admin = db.admin_pool().await;
    sqlx::query("ALTER TABLE rollcall.review_items DISABLE TRIGGER review_items_same_tenant")
        .execute(&admin)
        .await
        .unwrap();

    let error = role_error(Store::from_pool(db.pool_switched_to(&member, 1).await).await);

    assert!(
        matches!(&error, RoleError::ReviewLoaderInvalid { reason, .. } if reason.contains("review_items_same_tenant")),
        "{error}"
    );
}

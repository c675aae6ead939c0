//! Shared set-up: a store with one tenant, targets, and readers of the audit log.

#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "each test file uses a different part; a test stops at its first broken expectation"
)]

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;
use rollcall_core::model::SourceId;
use rollcall_remediation::{Mode, Settings, Target};
use rollcall_store::{AuditRecord, ChainVerification, Store, TenantScope};

/// The tenant every test acts for.
pub const TENANT: &str = "harborview";
/// The actor that switches remediation on in the tests.
pub const ADMIN: &str = "msp-admin@msp.example";

/// Returns a fixed instant plus `minutes`.
pub fn at(minutes: i64) -> DateTime<Utc> {
    let base: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
    base + chrono::Duration::minutes(minutes)
}

/// Returns the settings for `mode` with `sources` allowed.
pub fn settings(mode: Mode, sources: &[&str]) -> Settings {
    Settings { mode, sources: sources.iter().map(|s| s.parse::<SourceId>().unwrap()).collect() }
}

/// Stores `settings` for the scope's tenant and returns them.
pub async fn switch(scope: &TenantScope<'_>, mode: Mode, sources: &[&str]) -> Settings {
    let settings = settings(mode, sources);
    scope.set_remediation_settings(&settings, ADMIN, at(0)).await.unwrap();
    settings
}

/// A leaver's account in `source`.
pub fn target(source: &str, account_id: &str, login: &str) -> Target {
    Target {
        tenant: TenantId::new(TENANT).unwrap(),
        employee_id: "E1042".into(),
        source: source.parse().unwrap(),
        account_id: account_id.into(),
        login: Some(login.into()),
        epcs: false,
        privileged: false,
    }
}

/// Returns every audit entry of the scope's tenant.
pub async fn audit(scope: &TenantScope<'_>) -> Vec<AuditRecord> {
    scope.audit_entries(0, 10_000).await.unwrap()
}

/// Returns the actions of the tenant's audit entries that start with `remediation.`,
/// settings changes left out.
pub async fn remediation_actions(scope: &TenantScope<'_>) -> Vec<String> {
    audit(scope)
        .await
        .into_iter()
        .map(|record| record.action)
        .filter(|action| {
            action.starts_with("remediation.") && action != "remediation.settings_changed"
        })
        .collect()
}

/// Asserts that the tenant's audit chain verifies.
pub async fn assert_chain_intact(scope: &TenantScope<'_>) {
    let verification = scope.verify_audit_chain().await.unwrap();
    assert!(matches!(verification, ChainVerification::Intact { .. }), "{verification:?}");
}

/// Returns the store's scope for the test tenant.
pub fn scope(store: &Store) -> TenantScope<'_> {
    store.tenant(&TenantId::new(TENANT).unwrap())
}

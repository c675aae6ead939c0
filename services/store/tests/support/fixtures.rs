//! Synthetic tenants, snapshots and findings for the store tests.

use std::path::Path;

use chrono::{DateTime, Utc};
use rollcall_core::finding::{Evidence, Finding, FindingKind, Severity, Subject};
use rollcall_core::model::{Account, SourceId, SourceSnapshot};
use rollcall_core::{Tenant, TenantData, TenantId};
use rollcall_store::{SnapshotMeta, Store, TenantProfile};
use uuid::Uuid;

/// The instant the bundled example describes: 09:00 in Chicago on 1 December 2026.
pub const EXAMPLE_AS_OF: &str = "2026-12-01T15:00:00Z";

/// Parses an RFC 3339 instant.
pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("`{text}`: {e}"))
}

/// Returns `id` as a tenant id.
pub fn tenant_id(id: &str) -> TenantId {
    TenantId::new(id).unwrap()
}

/// Upserts `id` with a made-up practice name and returns its id.
pub async fn add_tenant(store: &Store, id: &str) -> TenantId {
    let tenant = tenant_id(id);
    let profile =
        TenantProfile { name: format!("{id} practice"), time_zone: chrono_tz::America::Chicago };
    store.tenant(&tenant).upsert_tenant(&profile).await.unwrap();
    tenant
}

/// Builds an Entra snapshot with one enabled account per id.
pub fn entra_snapshot(account_ids: &[&str]) -> SourceSnapshot {
    let mut snapshot = SourceSnapshot::new(SourceId::entra());
    for id in account_ids {
        let mut account = Account::new(*id);
        account.display_name = Some(format!("Test user {id}"));
        snapshot.accounts.push(account);
    }
    snapshot
}

/// Builds snapshot metadata with id `id`, collected at `collected_at`, at stream
/// sequence `seq`.
pub fn meta(id: u128, collected_at: &str, seq: u64) -> SnapshotMeta {
    SnapshotMeta {
        snapshot_id: Uuid::from_u128(id),
        collected_at: at(collected_at),
        stream_sequence: seq,
    }
}

/// Builds a finding of `tenant` about the Entra source, distinguished by `detail`.
pub fn finding(tenant: &str, detail: &str, severity: Severity) -> Finding {
    let subject = Subject { source: Some(SourceId::entra()), ..Subject::default() };
    Finding::new(
        tenant,
        FindingKind::SigninDataMissing,
        severity,
        subject,
        detail,
        format!("Finding {detail} of {tenant}."),
        vec![Evidence::new(Some(&SourceId::entra()), "export", "detail", detail)],
    )
}

/// Reads the bundled example practice with the real readers.
pub fn harborview() -> (Tenant, TenantData) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview");
    let loaded = rollcall_ingest::layout::load_tenant(&dir, at(EXAMPLE_AS_OF)).unwrap();
    (loaded.config.tenant, loaded.data)
}

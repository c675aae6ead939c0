//! A snapshot's content as the values of one `source_snapshots` row, and its hash.

use rollcall_core::model::{HrSnapshot, SourceSnapshot};
use rollcall_proto::ContentHash;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::json::{self, AccountJson, EntitlementJson, MembershipJson, SettingsJson, WorkerJson};

/// The `kind` column of a directory snapshot.
pub(crate) const DIRECTORY: &str = "directory";
/// The `kind` column of an HR roster.
pub(crate) const HR_ROSTER: &str = "hr_roster";

/// The JSONB columns of one snapshot row; a directory sets the first four, a roster only
/// `workers`.
#[derive(Debug, Default)]
pub(crate) struct ContentColumns {
    pub kind: &'static str,
    pub settings: Option<Value>,
    pub accounts: Option<Value>,
    pub entitlements: Option<Value>,
    pub memberships: Option<Value>,
    pub workers: Option<Value>,
}

/// Encodes a directory snapshot. Lists keep the snapshot's order.
pub(crate) fn directory_columns(snapshot: &SourceSnapshot) -> Result<ContentColumns, StoreError> {
    let accounts: Vec<AccountJson> = snapshot.accounts.iter().map(AccountJson::from).collect();
    let entitlements: Vec<EntitlementJson> =
        snapshot.entitlements.iter().map(EntitlementJson::from).collect();
    let memberships: Vec<MembershipJson> =
        snapshot.memberships.iter().map(MembershipJson::from).collect();
    Ok(ContentColumns {
        kind: DIRECTORY,
        settings: Some(json::encode(&SettingsJson::from(&snapshot.settings), "settings")?),
        accounts: Some(json::encode(&accounts, "accounts")?),
        entitlements: Some(json::encode(&entitlements, "entitlements")?),
        memberships: Some(json::encode(&memberships, "memberships")?),
        workers: None,
    })
}

/// Encodes an HR roster.
pub(crate) fn roster_columns(roster: &HrSnapshot) -> Result<ContentColumns, StoreError> {
    let workers: Vec<WorkerJson> = roster.workers.iter().map(WorkerJson::from).collect();
    Ok(ContentColumns {
        kind: HR_ROSTER,
        workers: Some(json::encode(&workers, "workers")?),
        ..ContentColumns::default()
    })
}

/// Computes the content hash of a directory snapshot as the wire hash of `rollcall-proto`,
/// so the stored hash matches the one the snapshot's chunks announced.
pub(crate) fn directory_hash(snapshot: &SourceSnapshot) -> [u8; 32] {
    *ContentHash::of(snapshot).as_bytes()
}

/// Computes the content hash of an HR roster, which has no wire form. It is SHA-256 of the
/// JSON text `{"collected_at":...,"workers":[...]}` with the workers' JSON texts sorted,
/// so the roster's row order does not change it.
pub(crate) fn roster_hash(roster: &HrSnapshot, workers: &Value) -> [u8; 32] {
    let mut texts: Vec<String> = match workers {
        Value::Array(items) => items.iter().map(Value::to_string).collect(),
        other => vec![other.to_string()],
    };
    texts.sort_unstable();
    let collected_at = roster.collected_at.map(|at| at.to_rfc3339()).unwrap_or_default();

    let mut hasher = Sha256::new();
    hasher.update(b"{\"collected_at\":");
    hasher.update(Value::String(collected_at).to_string().as_bytes());
    hasher.update(b",\"workers\":[");
    for (index, text) in texts.iter().enumerate() {
        if index > 0 {
            hasher.update(b",");
        }
        hasher.update(text.as_bytes());
    }
    hasher.update(b"]}");
    hasher.finalize().into()
}

//! The delta state in PostgreSQL, through the store's tenant scope.

use chrono::{DateTime, Utc};
use rollcall_store::{EntraDeltaState, StoreError, TenantScope};
use serde::{Deserialize, Serialize};

use crate::delta::DeltaState;
use crate::sync::Directory;

/// Errors while loading or saving the delta state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored directory is not in the shape this version writes.
    #[error(
        "the stored Entra delta state of tenant {tenant} cannot be read ({source}); clear it so the next sync reads the directory in full"
    )]
    Decode {
        /// The tenant.
        tenant: String,
        /// The JSON error.
        source: serde_json::Error,
    },
}

/// The stored `directory` column: the directory and when it was last read in full.
#[derive(Serialize, Deserialize)]
struct StoredDirectory {
    directory: Directory,
    full_read_at: DateTime<Utc>,
    /// Absent in rows written before snapshots were published.
    #[serde(default)]
    published_hash: Option<String>,
}

/// Loads the tenant's delta state, or `None` before its first complete sync.
pub async fn load_state(scope: &TenantScope<'_>) -> Result<Option<DeltaState>, StateError> {
    let Some(stored) = scope.entra_delta_state().await? else {
        return Ok(None);
    };
    let parsed: StoredDirectory = serde_json::from_value(stored.directory)
        .map_err(|source| StateError::Decode { tenant: scope.tenant_id().to_string(), source })?;
    Ok(Some(DeltaState {
        users_delta_link: stored.users_delta_link,
        groups_delta_link: stored.groups_delta_link,
        directory: parsed.directory,
        full_read_at: parsed.full_read_at,
        published_hash: parsed.published_hash,
    }))
}

/// Saves the tenant's delta state. Call it only after NATS acknowledged the sync's
/// snapshot, so a lost publish makes the next sync read the same changes again.
pub async fn save_state(scope: &TenantScope<'_>, state: &DeltaState) -> Result<(), StateError> {
    let stored = StoredDirectory {
        directory: state.directory.clone(),
        full_read_at: state.full_read_at,
        published_hash: state.published_hash.clone(),
    };
    let directory = serde_json::to_value(&stored)
        .map_err(|source| StateError::Decode { tenant: scope.tenant_id().to_string(), source })?;
    scope
        .save_entra_delta_state(&EntraDeltaState {
            users_delta_link: state.users_delta_link.clone(),
            groups_delta_link: state.groups_delta_link.clone(),
            directory,
            saved_at: Utc::now(),
        })
        .await?;
    Ok(())
}

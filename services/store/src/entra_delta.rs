//! The Entra ID connector's delta state: one row per tenant with the delta links and the
//! directory objects of the last complete sync.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;

use crate::error::StoreError;
use crate::json::{self, check_text};
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The Entra ID connector's state between syncs of one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct EntraDeltaState {
    /// The users `@odata.deltaLink` of the last complete sync.
    pub users_delta_link: String,
    /// The groups `@odata.deltaLink` of the last complete sync.
    pub groups_delta_link: String,
    /// The directory objects the next delta round is applied to, in the connector's shape.
    pub directory: Value,
    /// When the state was saved, to the microsecond.
    pub saved_at: DateTime<Utc>,
}

impl TenantScope<'_> {
    /// Returns the tenant's Entra delta state, or `None` before the first complete sync.
    pub async fn entra_delta_state(&self) -> Result<Option<EntraDeltaState>, StoreError> {
        const OPERATION: &str = "read the Entra delta state";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(
            "SELECT users_delta_link, groups_delta_link, directory, saved_at \
             FROM rollcall.entra_delta_state WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let Some(row) = row else { return Ok(None) };
        let read = |source| StoreError::Database {
            operation: OPERATION,
            tenant: self.tenant_str().to_owned(),
            source,
        };
        Ok(Some(EntraDeltaState {
            users_delta_link: row.try_get("users_delta_link").map_err(read)?,
            groups_delta_link: row.try_get("groups_delta_link").map_err(read)?,
            directory: row.try_get("directory").map_err(read)?,
            saved_at: row.try_get("saved_at").map_err(read)?,
        }))
    }

    /// Saves the tenant's Entra delta state, replacing the previous one. The connector
    /// calls this only after a sync read every page, so a failed sync keeps the old links.
    pub async fn save_entra_delta_state(&self, state: &EntraDeltaState) -> Result<(), StoreError> {
        const OPERATION: &str = "save the Entra delta state";
        check_text(&state.users_delta_link, "users_delta_link")?;
        check_text(&state.groups_delta_link, "groups_delta_link")?;
        // Rejects NUL characters, which jsonb cannot store, with their JSON path.
        let directory = json::encode(&state.directory, "directory")?;
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "INSERT INTO rollcall.entra_delta_state \
               (tenant_id, users_delta_link, groups_delta_link, directory, saved_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO UPDATE SET users_delta_link = EXCLUDED.users_delta_link, \
               groups_delta_link = EXCLUDED.groups_delta_link, directory = EXCLUDED.directory, \
               saved_at = EXCLUDED.saved_at",
        )
        .bind(self.tenant_str())
        .bind(&state.users_delta_link)
        .bind(&state.groups_delta_link)
        .bind(&directory)
        .bind(to_micros(state.saved_at))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(())
    }

    /// Deletes the tenant's Entra delta state, so the next sync reads everything.
    pub async fn clear_entra_delta_state(&self) -> Result<bool, StoreError> {
        const OPERATION: &str = "clear the Entra delta state";
        let mut tx = self.begin(OPERATION).await?;
        let deleted = sqlx::query("DELETE FROM rollcall.entra_delta_state WHERE tenant_id = $1")
            .bind(self.tenant_str())
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?
            .rows_affected();
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(deleted == 1)
    }
}

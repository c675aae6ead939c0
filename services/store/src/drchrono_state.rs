//! The DrChrono connector's state: one row per tenant with the rotating OAuth refresh
//! token and the hash of the last published snapshot.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The DrChrono connector's state between syncs of one tenant.
#[derive(Clone, PartialEq)]
pub struct DrChronoState {
    /// The refresh token to use next. It is a credential: never log it.
    pub refresh_token: String,
    /// SHA-256 (lowercase hex) of the refresh token file's content that this token
    /// descends from.
    pub seed_sha256: String,
    /// When the token was last written, to the microsecond.
    pub refreshed_at: DateTime<Utc>,
    /// The hash of the last snapshot JetStream acknowledged, as the connector computes it
    /// to detect an unchanged practice.
    pub published_hash: Option<String>,
    /// When that snapshot was acknowledged.
    pub published_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for DrChronoState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DrChronoState")
            .field("refresh_token", &"[redacted]")
            .field("seed_sha256", &self.seed_sha256)
            .field("refreshed_at", &self.refreshed_at)
            .field("published_hash", &self.published_hash)
            .field("published_at", &self.published_at)
            .finish()
    }
}

impl TenantScope<'_> {
    /// Returns the tenant's DrChrono state, or `None` before the first token refresh.
    pub async fn drchrono_state(&self) -> Result<Option<DrChronoState>, StoreError> {
        const OPERATION: &str = "read the DrChrono state";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(
            "SELECT refresh_token, seed_sha256, refreshed_at, published_hash, published_at \
             FROM rollcall.drchrono_state WHERE tenant_id = $1",
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
        Ok(Some(DrChronoState {
            refresh_token: row.try_get("refresh_token").map_err(read)?,
            seed_sha256: row.try_get("seed_sha256").map_err(read)?,
            refreshed_at: row.try_get("refreshed_at").map_err(read)?,
            published_hash: row.try_get("published_hash").map_err(read)?,
            published_at: row.try_get("published_at").map_err(read)?,
        }))
    }

    /// Saves the refresh token to use next, keeping the published hash. The connector
    /// calls this as soon as DrChrono returns a rotated token, before it uses the new
    /// access token, and the commit is durable when this returns.
    pub async fn save_drchrono_refresh_token(
        &self,
        refresh_token: &str,
        seed_sha256: &str,
        refreshed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "save the DrChrono refresh token";
        check_text(refresh_token, "refresh_token")?;
        check_text(seed_sha256, "seed_sha256")?;
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "INSERT INTO rollcall.drchrono_state \
               (tenant_id, refresh_token, seed_sha256, refreshed_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id) DO UPDATE SET refresh_token = EXCLUDED.refresh_token, \
               seed_sha256 = EXCLUDED.seed_sha256, refreshed_at = EXCLUDED.refreshed_at",
        )
        .bind(self.tenant_str())
        .bind(refresh_token)
        .bind(seed_sha256)
        .bind(to_micros(refreshed_at))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(())
    }

    /// Records the content hash of a snapshot JetStream acknowledged. Returns false when
    /// the tenant has no DrChrono state row yet, which a sync always writes first.
    pub async fn save_drchrono_published_hash(
        &self,
        published_hash: &str,
        published_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "save the DrChrono published hash";
        check_text(published_hash, "published_hash")?;
        let mut tx = self.begin(OPERATION).await?;
        let updated = sqlx::query(
            "UPDATE rollcall.drchrono_state SET published_hash = $2, published_at = $3 \
             WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .bind(published_hash)
        .bind(to_micros(published_at))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected();
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(updated == 1)
    }
}

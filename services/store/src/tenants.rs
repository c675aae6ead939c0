//! The tenant row: name and time zone.

use chrono_tz::Tz;
use sqlx::Row;

use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;

/// Tenant settings that the store keeps besides the tenant's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantProfile {
    /// The practice's name.
    pub name: String,
    /// The practice's time zone.
    pub time_zone: Tz,
}

impl TenantScope<'_> {
    /// Inserts the scope's tenant, or updates its name and time zone. Every other write
    /// needs the tenant row to exist.
    pub async fn upsert_tenant(&self, profile: &TenantProfile) -> Result<(), StoreError> {
        const OPERATION: &str = "upsert the tenant";
        check_text(&profile.name, "name")?;
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "INSERT INTO rollcall.tenants (tenant_id, name, time_zone) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE \
             SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone, updated_at = now()",
        )
        .bind(self.tenant_str())
        .bind(&profile.name)
        .bind(profile.time_zone.name())
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))
    }

    /// Returns the scope's tenant profile, or `None` before the first upsert.
    pub async fn tenant_profile(&self) -> Result<Option<TenantProfile>, StoreError> {
        const OPERATION: &str = "read the tenant";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query("SELECT name, time_zone FROM rollcall.tenants WHERE tenant_id = $1")
            .bind(self.tenant_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;

        let Some(row) = row else { return Ok(None) };
        let name: String = row.try_get("name").map_err(self.db(OPERATION))?;
        let zone: String = row.try_get("time_zone").map_err(self.db(OPERATION))?;
        let time_zone = zone.parse::<Tz>().map_err(|_| StoreError::CorruptRow {
            table: "tenants",
            key: self.tenant_str().to_owned(),
            reason: format!("`{zone}` is not an IANA time zone name"),
        })?;
        Ok(Some(TenantProfile { name, time_zone }))
    }
}

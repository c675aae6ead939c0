//! The tenant's configuration: the text of `tenant.yaml` and of the policy file it names.
//!
//! The store keeps the texts, not a parsed form, so the engine parses them with the same
//! code as `rollcall scan` and both evaluate the same tenant.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::error::StoreError;
use crate::json::check_text;
use crate::scope::TenantScope;
use crate::tenants::TenantProfile;

/// The configuration texts of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantConfigText {
    /// The text of `tenant.yaml`.
    pub tenant_yaml: String,
    /// The text of the file its `policy_file` names, when the policy is not inline.
    pub policy_yaml: Option<String>,
}

impl TenantConfigText {
    /// SHA-256 over both texts, each preceded by its length, so that moving bytes from
    /// one text to the other changes the hash.
    pub fn sha256(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for part in [Some(self.tenant_yaml.as_str()), self.policy_yaml.as_deref()] {
            match part {
                Some(text) => {
                    hasher.update((text.len() as u64).to_be_bytes());
                    hasher.update(text.as_bytes());
                }
                None => hasher.update(u64::MAX.to_be_bytes()),
            }
        }
        hasher.finalize().into()
    }
}

/// The stored configuration with the instant it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTenantConfig {
    /// The texts.
    pub text: TenantConfigText,
    /// When they were last changed, by the database clock.
    pub applied_at: DateTime<Utc>,
}

impl TenantScope<'_> {
    /// Upserts the tenant's profile and stores its configuration texts, in one
    /// transaction. Returns `false` when the texts equal the stored ones: nothing changed
    /// then, not even the state version.
    pub async fn apply_tenant_config(
        &self,
        profile: &TenantProfile,
        config: &TenantConfigText,
        actor: &str,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "apply the tenant configuration";
        check_text(&profile.name, "name")?;
        check_text(&config.tenant_yaml, "tenant_yaml")?;
        check_text(config.policy_yaml.as_deref().unwrap_or_default(), "policy_yaml")?;
        let sha256 = config.sha256();

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
        let changed = sqlx::query(
            "INSERT INTO rollcall.tenant_config \
               (tenant_id, tenant_yaml, policy_yaml, content_sha256, applied_at) \
             VALUES ($1, $2, $3, $4, now()) \
             ON CONFLICT (tenant_id) DO UPDATE \
             SET tenant_yaml = EXCLUDED.tenant_yaml, policy_yaml = EXCLUDED.policy_yaml, \
                 content_sha256 = EXCLUDED.content_sha256, applied_at = now() \
             WHERE rollcall.tenant_config.content_sha256 <> EXCLUDED.content_sha256",
        )
        .bind(self.tenant_str())
        .bind(&config.tenant_yaml)
        .bind(&config.policy_yaml)
        .bind(sha256.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected()
            == 1;
        if changed {
            let entry = crate::audit::AuditEntry {
                at: Utc::now(),
                actor: actor.to_owned(),
                action: "tenant_config.applied".to_owned(),
                detail: serde_json::json!({
                    "content_sha256": sha256.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                }),
            };
            self.append_in(&mut tx, &entry).await?;
            // After the audit append: the chain's row lock comes first everywhere.
            self.bump_state_in(&mut tx).await?;
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(changed)
    }

    /// Returns the stored configuration texts, or `None` before the first apply.
    pub async fn tenant_config(&self) -> Result<Option<StoredTenantConfig>, StoreError> {
        const OPERATION: &str = "read the tenant configuration";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(
            "SELECT tenant_yaml, policy_yaml, applied_at FROM rollcall.tenant_config \
             WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredTenantConfig {
            text: TenantConfigText {
                tenant_yaml: row.try_get("tenant_yaml").map_err(self.db(OPERATION))?,
                policy_yaml: row.try_get("policy_yaml").map_err(self.db(OPERATION))?,
            },
            applied_at: row.try_get("applied_at").map_err(self.db(OPERATION))?,
        }))
    }
}

//! The state that event-triggered reviews compare with: what the previous check saw.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::StoreError;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The state one event-trigger check recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerBaseline {
    /// The sources that had synced.
    pub sources: BTreeSet<String>,
    /// The keys of every privileged grant, as review items key them.
    pub privileged_grants: BTreeSet<String>,
    /// Each HR employee's job roles, by employee id.
    pub job_roles: BTreeMap<String, BTreeSet<String>>,
}

impl TenantScope<'_> {
    /// Returns what the previous event-trigger check saw, or `None` before the first.
    pub async fn review_trigger_baseline(&self) -> Result<Option<TriggerBaseline>, StoreError> {
        const OPERATION: &str = "read the review trigger state";
        let mut tx = self.begin(OPERATION).await?;
        let row: Option<(Vec<String>, Vec<String>, Value)> = sqlx::query_as(
            "SELECT sources, privileged_grants, job_roles FROM rollcall.review_trigger_state \
             WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let Some((sources, privileged, roles)) = row else { return Ok(None) };
        let job_roles = serde_json::from_value(roles).map_err(|e| StoreError::CorruptRow {
            table: "review_trigger_state",
            key: self.tenant_str().to_owned(),
            reason: format!("`job_roles` is not a map of role lists: {e}"),
        })?;
        Ok(Some(TriggerBaseline {
            sources: sources.into_iter().collect(),
            privileged_grants: privileged.into_iter().collect(),
            job_roles,
        }))
    }

    /// Stores `baseline` as what the check at `at` saw.
    pub async fn store_review_trigger_baseline(
        &self,
        baseline: &TriggerBaseline,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "store the review trigger state";
        let sources: Vec<&String> = baseline.sources.iter().collect();
        let privileged: Vec<&String> = baseline.privileged_grants.iter().collect();
        let roles = serde_json::to_value(&baseline.job_roles)
            .map_err(|e| StoreError::Encode { path: "job_roles".into(), reason: e.to_string() })?;
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "INSERT INTO rollcall.review_trigger_state \
               (tenant_id, sources, privileged_grants, job_roles, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO UPDATE SET sources = EXCLUDED.sources, \
               privileged_grants = EXCLUDED.privileged_grants, job_roles = EXCLUDED.job_roles, \
               updated_at = EXCLUDED.updated_at",
        )
        .bind(self.tenant_str())
        .bind(&sources)
        .bind(&privileged)
        .bind(&roles)
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(())
    }
}

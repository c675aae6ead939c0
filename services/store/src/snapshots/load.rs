//! Reading the latest snapshot of every source back into [`TenantData`].

use rollcall_core::TenantData;
use rollcall_core::model::{HrSnapshot, SourceId, SourceSnapshot};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::SourceState;
use super::content::{DIRECTORY, HR_ROSTER};
use crate::error::StoreError;
use crate::json::{self, AccountJson, EntitlementJson, MembershipJson, SettingsJson, WorkerJson};
use crate::scope::TenantScope;

const TABLE: &str = "source_snapshots";

impl TenantScope<'_> {
    /// Loads the latest applied snapshot of every source and the HR roster, as the rules
    /// read them. Sources come sorted by source id, and each list keeps the order it was
    /// applied in.
    pub async fn load_tenant_data(&self) -> Result<TenantData, StoreError> {
        const OPERATION: &str = "load the tenant's snapshots";
        let mut tx = self.begin_snapshot(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT source, kind, collected_at, settings::text AS settings, \
                    accounts::text AS accounts, entitlements::text AS entitlements, \
                    memberships::text AS memberships, workers::text AS workers \
             FROM rollcall.source_snapshots WHERE tenant_id = $1 ORDER BY source",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;

        let mut data = TenantData::default();
        for row in rows {
            let source: String = row.try_get("source").map_err(self.db(OPERATION))?;
            let key = format!("{}/{source}", self.tenant_str());
            let kind: String = row.try_get("kind").map_err(self.db(OPERATION))?;
            let collected_at = row.try_get("collected_at").map_err(self.db(OPERATION))?;
            match kind.as_str() {
                DIRECTORY => {
                    let source =
                        source.parse::<SourceId>().map_err(|e| StoreError::CorruptRow {
                            table: TABLE,
                            key: key.clone(),
                            reason: e.to_string(),
                        })?;
                    let settings: SettingsJson = self.column(&row, "settings", &key)?;
                    let accounts: Vec<AccountJson> = self.column(&row, "accounts", &key)?;
                    let entitlements: Vec<EntitlementJson> =
                        self.column(&row, "entitlements", &key)?;
                    let memberships: Vec<MembershipJson> =
                        self.column(&row, "memberships", &key)?;
                    data.sources.push(SourceSnapshot {
                        source,
                        collected_at,
                        accounts: accounts.into_iter().map(Into::into).collect(),
                        entitlements: entitlements.into_iter().map(Into::into).collect(),
                        memberships: memberships.into_iter().map(Into::into).collect(),
                        settings: settings.into(),
                    });
                }
                HR_ROSTER => {
                    let workers: Vec<WorkerJson> = self.column(&row, "workers", &key)?;
                    data.hr = Some(HrSnapshot {
                        collected_at,
                        workers: workers.into_iter().map(Into::into).collect(),
                    });
                }
                other => {
                    return Err(StoreError::CorruptRow {
                        table: TABLE,
                        key,
                        reason: format!(
                            "the kind `{other}` is neither `directory` nor `hr_roster`"
                        ),
                    });
                }
            }
        }
        Ok(data)
    }

    /// Lists the cursor of every source that has an applied snapshot, sorted by source id.
    pub async fn source_states(&self) -> Result<Vec<SourceState>, StoreError> {
        const OPERATION: &str = "read the source cursors";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT source, snapshot_id, content_sha256, collected_at, stream_sequence, \
                    applied_at \
             FROM rollcall.source_state WHERE tenant_id = $1 ORDER BY source",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.source_state(row)).collect()
    }

    /// Decodes the JSONB column `name` of a snapshot row, selected as text; NULL is a
    /// corrupt row, because the table's check constraint requires the column for the
    /// row's kind.
    fn column<T: DeserializeOwned>(
        &self,
        row: &PgRow,
        name: &'static str,
        key: &str,
    ) -> Result<T, StoreError> {
        let text: Option<&str> = row.try_get(name).map_err(self.db("read a snapshot's content"))?;
        let Some(text) = text else {
            return Err(StoreError::CorruptRow {
                table: TABLE,
                key: key.to_owned(),
                reason: format!("the column `{name}` is NULL"),
            });
        };
        json::decode_text(text, TABLE, key)
    }
}

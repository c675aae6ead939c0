//! The work directory: per tenant, the version of the state the rules read, the version
//! the last evaluation loaded, and whether finding events wait in the outbox.
//!
//! The table `rollcall_work.tenant_work` has no row-level security, because the periodic
//! reconcile must list tenants across the whole store. It holds ids and counters only.

use rollcall_core::TenantId;
use sqlx::{PgConnection, Row};

use crate::error::StoreError;
use crate::scope::TenantScope;
use crate::store::Store;

/// One tenant's entry in the work directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantWork {
    /// The tenant.
    pub tenant: TenantId,
    /// Raised by every change the rules read: an applied snapshot, an HR event, a new
    /// configuration, a pipeline problem opened or resolved.
    pub state_version: i64,
    /// The state version the last recorded evaluation loaded.
    pub evaluated_version: i64,
    /// Whether the outbox may hold unpublished finding events.
    pub outbox_pending: bool,
}

impl TenantWork {
    /// Returns whether the tenant changed after its last recorded evaluation.
    pub fn needs_evaluation(&self) -> bool {
        self.state_version > self.evaluated_version
    }
}

impl Store {
    /// Lists the tenants that need an evaluation or have unpublished finding events,
    /// sorted by tenant id. This is the work a lost NATS message would have started.
    pub async fn pending_work(&self) -> Result<Vec<TenantWork>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant_id, state_version, evaluated_version, outbox_pending \
             FROM rollcall_work.tenant_work \
             WHERE state_version > evaluated_version OR outbox_pending \
             ORDER BY tenant_id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|source| StoreError::Database {
            operation: "list pending work",
            tenant: String::new(),
            source,
        })?;
        rows.iter().map(work_row).collect()
    }

    /// Lists every tenant of the work directory, sorted by id.
    pub async fn tenant_ids(&self) -> Result<Vec<TenantId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT tenant_id FROM rollcall_work.tenant_work ORDER BY tenant_id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|source| StoreError::Database {
            operation: "list tenants",
            tenant: String::new(),
            source,
        })?;
        ids.iter()
            .map(|id| {
                TenantId::new(id).map_err(|e| StoreError::CorruptRow {
                    table: "tenant_work",
                    key: id.clone(),
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}

fn work_row(row: &sqlx::postgres::PgRow) -> Result<TenantWork, StoreError> {
    let db = |source| StoreError::Database {
        operation: "read pending work",
        tenant: String::new(),
        source,
    };
    let id: String = row.try_get("tenant_id").map_err(db)?;
    let tenant = TenantId::new(&id).map_err(|e| StoreError::CorruptRow {
        table: "tenant_work",
        key: id.clone(),
        reason: e.to_string(),
    })?;
    Ok(TenantWork {
        tenant,
        state_version: row.try_get("state_version").map_err(db)?,
        evaluated_version: row.try_get("evaluated_version").map_err(db)?,
        outbox_pending: row.try_get("outbox_pending").map_err(db)?,
    })
}

impl TenantScope<'_> {
    /// Returns the tenant's entry in the work directory, or `None` before its first
    /// change.
    pub async fn work(&self) -> Result<Option<TenantWork>, StoreError> {
        const OPERATION: &str = "read the tenant's work";
        let row = sqlx::query(
            "SELECT tenant_id, state_version, evaluated_version, outbox_pending \
             FROM rollcall_work.tenant_work WHERE tenant_id = $1",
        )
        .bind(self.tenant_str())
        .fetch_optional(self.pool())
        .await
        .map_err(self.db(OPERATION))?;
        row.as_ref().map(work_row).transpose()
    }

    /// Raises the tenant's state version inside an open transaction: the change being
    /// committed is one the next evaluation must read.
    pub(crate) async fn bump_state_in(&self, tx: &mut PgConnection) -> Result<(), StoreError> {
        const OPERATION: &str = "raise the state version";
        sqlx::query(
            "INSERT INTO rollcall_work.tenant_work (tenant_id, state_version) VALUES ($1, 1) \
             ON CONFLICT (tenant_id) DO UPDATE \
             SET state_version = rollcall_work.tenant_work.state_version + 1",
        )
        .bind(self.tenant_str())
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        Ok(())
    }

    /// Records inside an open transaction that an evaluation of `version` was recorded
    /// and whether it left events in the outbox.
    pub(crate) async fn mark_evaluated_in(
        &self,
        tx: &mut PgConnection,
        version: i64,
        outbox_added: bool,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "record the evaluated version";
        sqlx::query(
            "INSERT INTO rollcall_work.tenant_work \
               (tenant_id, state_version, evaluated_version, outbox_pending) \
             VALUES ($1, $2, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE \
             SET evaluated_version = GREATEST(rollcall_work.tenant_work.evaluated_version, $2), \
                 outbox_pending = rollcall_work.tenant_work.outbox_pending OR $3",
        )
        .bind(self.tenant_str())
        .bind(version)
        .bind(outbox_added)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        Ok(())
    }
}

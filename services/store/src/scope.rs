//! Tenant scopes: the only way to reach tenant rows.

use rollcall_core::TenantId;
use sqlx::{PgPool, Postgres, Transaction};

use crate::error::StoreError;

/// SQLSTATE `foreign_key_violation`. Every tenant table references the tenants table, so
/// in a scope this means the tenant was never upserted.
const FOREIGN_KEY_VIOLATION: &str = "23503";

/// Access to one tenant's rows. Each method runs in its own transaction that starts by
/// setting `rollcall.tenant_id` for that transaction only, so the row-level security
/// policies show and accept this tenant's rows and no other's. Queries also filter on
/// the tenant id themselves, so isolation does not rest on one mechanism.
#[derive(Debug, Clone)]
pub struct TenantScope<'s> {
    pool: &'s PgPool,
    tenant: TenantId,
    review_loader: bool,
}

impl<'s> TenantScope<'s> {
    pub(crate) fn new(pool: &'s PgPool, tenant: TenantId, review_loader: bool) -> Self {
        Self { pool, tenant, review_loader }
    }

    /// Returns whether the runtime role may switch to the review loader role.
    pub(crate) fn review_loader(&self) -> bool {
        self.review_loader
    }

    /// Returns the tenant of this scope.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    /// Returns the pool, for queries on the work directory, which has no tenant policy.
    pub(crate) fn pool(&self) -> &'s PgPool {
        self.pool
    }

    /// Returns the tenant id as bound in queries.
    pub(crate) fn tenant_str(&self) -> &str {
        self.tenant.as_str()
    }

    /// Opens a read-write transaction with the tenant set.
    pub(crate) async fn begin(
        &self,
        operation: &'static str,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        let tx = self.pool.begin().await.map_err(self.db(operation))?;
        self.set_tenant(tx, operation).await
    }

    /// Opens a read-only transaction on one snapshot of the database, for reads that
    /// must see several tables at the same instant.
    pub(crate) async fn begin_snapshot(
        &self,
        operation: &'static str,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(self.db(operation))?;
        self.set_tenant(tx, operation).await
    }

    async fn set_tenant(
        &self,
        mut tx: Transaction<'static, Postgres>,
        operation: &'static str,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        // is_local = true: the setting ends with the transaction, so a pooled connection
        // never carries it into the next transaction.
        sqlx::query("SELECT set_config('rollcall.tenant_id', $1, true)")
            .bind(self.tenant_str())
            .execute(&mut *tx)
            .await
            .map_err(self.db(operation))?;
        Ok(tx)
    }

    /// Returns a converter from driver errors to store errors for `operation`.
    pub(crate) fn db(&self, operation: &'static str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        move |source| {
            let code = source.as_database_error().and_then(|e| e.code());
            if code.as_deref() == Some(FOREIGN_KEY_VIOLATION) {
                return StoreError::UnknownTenant { tenant: self.tenant.clone() };
            }
            StoreError::Database { operation, tenant: self.tenant.to_string(), source }
        }
    }
}

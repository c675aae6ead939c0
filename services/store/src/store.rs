//! The store handle: the connection pool of the runtime role, checked at start.

use std::str::FromStr;
use std::time::Duration;

use rollcall_core::TenantId;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::StoreError;
use crate::guard::check_runtime_role;
use crate::scope::TenantScope;

/// The schema migrations in `services/store/migrations`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Pool settings for [`Store::connect`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The maximum number of open connections.
    pub max_connections: u32,
    /// How long opening the first connection, or waiting for a free one, may take before
    /// the operation fails. It also bounds the start when the server is down.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout: Duration::from_secs(10) }
    }
}

/// Applies the schema migrations through `owner_pool`, whose role becomes the owner of
/// every table. Run it as the migrator role, never as the runtime role: the runtime role
/// must not own the tables, or [`Store::from_pool`] refuses it.
pub async fn migrate_as_owner(owner_pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(owner_pool).await?;
    Ok(())
}

/// The PostgreSQL store of one process, for every tenant.
///
/// It owns a pool of the runtime role and hands out one [`TenantScope`] per tenant. All
/// reads and writes of tenant rows go through a scope, whose transactions set the
/// tenant for row-level security. There is no unscoped access to tenant rows.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
    /// The runtime role may switch to the review loader role for bulk inserts.
    review_loader: bool,
}

impl Store {
    /// Connects to the database at `url` (`postgres://rollcall_app@host:5432/rollcall`)
    /// and checks the role, as [`Store::from_pool`] does.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let connect =
            PgConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl { source })?;
        let target = format!(
            "{}:{}/{}",
            connect.get_host(),
            connect.get_port(),
            connect.get_database().unwrap_or_default()
        );
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|source| StoreError::Connect { target, source })?;
        Self::from_pool(pool).await
    }

    /// Wraps an open pool after checking its role: the store refuses a superuser, a
    /// BYPASSRLS role, a role with the rights of a table's owner, and a schema whose tables
    /// lack enabled and forced row-level security.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        let role = check_runtime_role(&pool).await?;
        Ok(Self { pool, review_loader: role.review_loader })
    }

    /// Returns whether campaign launches store their items with one `COPY` as the review
    /// loader role, rather than through a temporary table (migration 0018).
    pub fn copies_review_items(&self) -> bool {
        self.review_loader
    }

    /// Returns the scope through which every read and write of `tenant`'s rows goes.
    pub fn tenant(&self, tenant: &TenantId) -> TenantScope<'_> {
        TenantScope::new(&self.pool, tenant.clone(), self.review_loader)
    }

    /// Returns the pool, for the few queries that are not about one tenant's rows.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

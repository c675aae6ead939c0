//! A scratch database per test on the local PostgreSQL server, with the schema migrated by
//! the migrator role and a store connected as the runtime role.
//!
//! The server is `postgres://postgres@127.0.0.1:5432/postgres` unless
//! `ROLLCALL_TEST_DATABASE_URL` names another; its user must be allowed to create roles
//! and databases. Each test creates the two roles if they are missing, a database with a
//! random name owned by the migrator, and drops the database when the test ends, also when
//! it fails.

#![allow(dead_code, reason = "each test binary uses a different part of the support module")]

pub mod fixtures;

use std::str::FromStr;
use std::time::Duration;

use rollcall_store::{Store, migrate_as_owner};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

/// The variable that overrides the server URL.
pub const URL_VARIABLE: &str = "ROLLCALL_TEST_DATABASE_URL";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The role that owns the schema.
pub const MIGRATOR: &str = "rollcall_migrator";
/// The runtime role the store connects as.
pub const APP: &str = "rollcall_app";

/// The role that campaign launches switch to for the `COPY` of review items.
pub const REVIEW_LOADER: &str = "rollcall_review_loader";

/// Bounds every connection attempt, so that a server that is down fails the test quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A scratch database, dropped when the value is dropped.
pub struct TestDb {
    /// The database name.
    pub name: String,
    admin: PgConnectOptions,
    /// Roles a test created for itself, dropped after the database.
    extra_roles: Vec<String>,
}

/// Connects to `options` within [`CONNECT_TIMEOUT`]. The error message names the server and
/// the fix.
pub async fn connect_admin(options: &PgConnectOptions) -> Result<PgConnection, String> {
    let target =
        format!("{}:{} as `{}`", options.get_host(), options.get_port(), options.get_username());
    let fix = format!(
        "start the local server (scripts/services.sh does) or set {URL_VARIABLE} to a server whose user may create roles and databases"
    );
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(format!("PostgreSQL is not reachable at {target}: {error}; {fix}")),
        Err(_) => Err(format!(
            "PostgreSQL at {target} did not answer within {} seconds; {fix}",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// Returns the server's admin connection options.
pub fn admin_options() -> PgConnectOptions {
    let url = std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_owned());
    PgConnectOptions::from_str(&url)
        .unwrap_or_else(|e| panic!("{URL_VARIABLE} is not a PostgreSQL URL: {e}"))
}

impl TestDb {
    /// Creates the roles if needed and a migrated scratch database.
    pub async fn create() -> Self {
        let admin = admin_options();
        let mut connection =
            connect_admin(&admin).await.unwrap_or_else(|message| panic!("{message}"));
        for (role, attributes) in [
            (MIGRATOR, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"),
            (APP, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"),
        ] {
            create_role(&mut connection, role, attributes).await;
        }

        let name = format!("rollcall_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name} OWNER {MIGRATOR}")))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("creating database `{name}` failed: {e}"));
        let _ = connection.close().await;

        let db = Self { name, admin, extra_roles: Vec::new() };
        let owner = db.pool_as(MIGRATOR).await;
        migrate_as_owner(&owner).await.unwrap_or_else(|e| panic!("{e}"));
        owner.close().await;
        db
    }

    /// Creates the review loader role if it is missing, then a migrated scratch database,
    /// whose migration 0018 grants the role INSERT on the review items. The role has no
    /// members but those of [`TestDb::create_loader_member`], so `rollcall_app` and other
    /// databases on the server do not change.
    pub async fn create_with_review_loader() -> Self {
        let mut connection =
            connect_admin(&admin_options()).await.unwrap_or_else(|message| panic!("{message}"));
        create_role(&mut connection, REVIEW_LOADER, "NOLOGIN NOSUPERUSER BYPASSRLS").await;
        let _ = connection.close().await;
        Self::create().await
    }

    /// Creates a role for this test with the privileges of the runtime role that may also
    /// switch to the review loader role, and returns its name.
    pub async fn create_loader_member(&mut self) -> String {
        let role = self.create_test_role("NOSUPERUSER NOBYPASSRLS").await;
        let mut connection =
            connect_admin(&self.admin).await.unwrap_or_else(|message| panic!("{message}"));
        sqlx::query(AssertSqlSafe(format!("GRANT {APP}, {REVIEW_LOADER} TO {role}")))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("granting roles to `{role}` failed: {e}"));
        let _ = connection.close().await;
        role
    }

    /// Opens a pool of the server's admin user that switches every connection to `role`
    /// with SET ROLE, so `current_user` is `role` although the role cannot log in.
    pub async fn pool_switched_to(&self, role: &str, max_connections: u32) -> PgPool {
        let admin = self.options_as(self.admin.get_username());
        self.pool_setting_role(admin, role, max_connections).await
    }

    /// Opens a pool with `options` that runs `SET ROLE role` on every new connection.
    async fn pool_setting_role(
        &self,
        options: PgConnectOptions,
        role: &str,
        max_connections: u32,
    ) -> PgPool {
        let statement = format!("SET ROLE {role}");
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(CONNECT_TIMEOUT)
            .after_connect(move |connection, _| {
                let statement = statement.clone();
                Box::pin(async move {
                    sqlx::query(AssertSqlSafe(statement)).execute(connection).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .unwrap_or_else(|e| panic!("connecting to `{}` as `{role}` failed: {e}", self.name))
    }

    /// Creates a LOGIN role for this test only, dropped with the database, that is a member
    /// of `member` and has no privileges of its own. It is NOINHERIT, so it gets `member`'s
    /// privileges only after switching to it. Opens a pool that logs in as it and switches
    /// each connection to `member` at connect time.
    pub async fn pool_logged_in_switching_to(
        &mut self,
        member: &str,
        max_connections: u32,
    ) -> PgPool {
        let role = format!("rollcall_test_login_{}", uuid::Uuid::new_v4().simple());
        let mut connection =
            connect_admin(&self.admin).await.unwrap_or_else(|message| panic!("{message}"));
        for statement in [
            format!("CREATE ROLE {role} LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS"),
            format!("GRANT {member} TO {role}"),
        ] {
            sqlx::query(AssertSqlSafe(statement.clone()))
                .execute(&mut connection)
                .await
                .unwrap_or_else(|e| panic!("`{statement}` failed: {e}"));
        }
        let _ = connection.close().await;
        self.extra_roles.push(role.clone());

        self.pool_setting_role(self.options_as(&role), member, max_connections).await
    }

    /// Connects the store as a role of [`TestDb::create_loader_member`], so launches store
    /// their items with one `COPY`. The database must come from
    /// [`TestDb::create_with_review_loader`].
    pub async fn loader_store(&mut self) -> Store {
        let role = self.create_loader_member().await;
        let pool = self.pool_switched_to(&role, 4).await;
        let store = Store::from_pool(pool).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.copies_review_items(), "the store does not use `{REVIEW_LOADER}`");
        store
    }

    /// Connection options for `role` on the scratch database.
    pub fn options_as(&self, role: &str) -> PgConnectOptions {
        self.admin.clone().database(&self.name).username(role)
    }

    /// Opens a small pool of `role` on the scratch database.
    pub async fn pool_as(&self, role: &str) -> PgPool {
        PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(self.options_as(role))
            .await
            .unwrap_or_else(|e| panic!("connecting to `{}` as `{role}` failed: {e}", self.name))
    }

    /// Opens a pool of the server's admin user (a superuser) on the scratch database, for
    /// seeding and for altering rows the way an intruder would.
    pub async fn admin_pool(&self) -> PgPool {
        let user = self.admin.get_username().to_owned();
        self.pool_as(&user).await
    }

    /// Connects the store as the runtime role.
    pub async fn store(&self) -> Store {
        let pool = self.pool_as(APP).await;
        Store::from_pool(pool).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Creates a NOLOGIN role for this test only with `attributes`, dropped with the
    /// database, and returns its name.
    pub async fn create_test_role(&mut self, attributes: &str) -> String {
        let role = format!("rollcall_test_role_{}", uuid::Uuid::new_v4().simple());
        let mut connection =
            connect_admin(&self.admin).await.unwrap_or_else(|message| panic!("{message}"));
        sqlx::query(AssertSqlSafe(format!("CREATE ROLE {role} NOLOGIN {attributes}")))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("creating role `{role}` failed: {e}"));
        let _ = connection.close().await;
        self.extra_roles.push(role.clone());
        role
    }
}

/// Creates `role` unless it exists. Tests run in parallel, so two may try at once; the
/// loser's duplicate error is ignored.
async fn create_role(connection: &mut PgConnection, role: &str, attributes: &str) {
    let statement = format!(
        "DO $$ BEGIN CREATE ROLE {role} {attributes}; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    );
    sqlx::query(AssertSqlSafe(statement))
        .execute(connection)
        .await
        .unwrap_or_else(|e| panic!("creating role `{role}` failed: {e}"));
}

impl Drop for TestDb {
    /// Drops the database and the test's own roles from a separate thread with its own
    /// runtime, because drop cannot await and may run inside the test's runtime.
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let roles = std::mem::take(&mut self.extra_roles);
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(mut connection) = connect_admin(&admin).await else { return };
                // WITH (FORCE) ends the sessions of pools the test did not close.
                let drop_db = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                if let Err(e) = sqlx::query(AssertSqlSafe(drop_db)).execute(&mut connection).await {
                    eprintln!("dropping test database `{name}` failed: {e}");
                }
                for role in roles {
                    let drop_role = format!("DROP ROLE IF EXISTS {role}");
                    if let Err(e) =
                        sqlx::query(AssertSqlSafe(drop_role)).execute(&mut connection).await
                    {
                        eprintln!("dropping test role `{role}` failed: {e}");
                    }
                }
                let _ = connection.close().await;
            });
        });
        let _ = cleanup.join();
    }
}

/// Runs `sql` returning one i64 in a transaction of `pool` with the tenant setting of
/// `tenant`, the way the store's scopes do.
pub async fn count_as_tenant(pool: &PgPool, tenant: &str, sql: &'static str) -> i64 {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('rollcall.tenant_id', $1, true)")
        .bind(tenant)
        .execute(&mut *tx)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar(sql).fetch_one(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    count
}

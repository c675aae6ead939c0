//! The runtime role check: the store refuses to run as a role that row-level security
//! does not restrict.
//!
//! PostgreSQL skips row-level security for superusers and BYPASSRLS roles always, and for
//! a table's owner unless the table has FORCE ROW LEVEL SECURITY. Ownership checks accept
//! any role that inherits the owner's privileges, so a member of the owner role counts as
//! the owner. The migrations force RLS on every table, and this check refuses each of
//! those roles anyway, so that one forgotten FORCE cannot open every tenant's rows. It
//! also refuses members that do not inherit, and members of a superuser or BYPASSRLS role,
//! because any of them can switch to that role with SET ROLE.

use sqlx::{PgPool, Row};

/// The reasons the connected role may not serve tenant requests.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    /// The role is a superuser.
    #[error(
        "the store connected as `{role}`, a superuser, which row-level security never restricts: connect as the runtime role `rollcall_app`"
    )]
    Superuser {
        /// The connected role (`current_user`).
        role: String,
    },
    /// The role has the BYPASSRLS attribute.
    #[error(
        "the store connected as `{role}`, which has BYPASSRLS and so reads every tenant's rows: connect as the runtime role `rollcall_app`, or ALTER ROLE {role} NOBYPASSRLS"
    )]
    BypassRls {
        /// The connected role.
        role: String,
    },
    /// The role owns a tenant table, or is a member of the role that owns it.
    #[error(
        "the store connected as `{role}`, which is or is a member of `{owner}`, the owner of `rollcall.{table}`: connect as a role that neither owns the tables nor is a member of their owner, such as `rollcall_app`"
    )]
    OwnsTable {
        /// The connected role.
        role: String,
        /// The owner of the table.
        owner: String,
        /// The table, without the schema.
        table: String,
    },
    /// The role is a member of a superuser or BYPASSRLS role, so it can switch to it.
    #[error(
        "the store connected as `{role}`, a member of `{privileged}`, which row-level security does not restrict: revoke the membership or connect as the runtime role `rollcall_app`"
    )]
    MemberOfPrivileged {
        /// The connected role.
        role: String,
        /// The superuser or BYPASSRLS role it belongs to.
        privileged: String,
    },
    /// A tenant table does not have row-level security both enabled and forced.
    #[error(
        "table `rollcall.{table}` has row-level security enabled `{enabled}` and forced `{forced}`, but both must be true: run the store's migrations, or ALTER TABLE rollcall.{table} ENABLE and FORCE ROW LEVEL SECURITY"
    )]
    RlsOff {
        /// The table, without the schema.
        table: String,
        /// `relrowsecurity`.
        enabled: bool,
        /// `relforcerowsecurity`.
        forced: bool,
    },
    /// The schema has no tenant tables.
    #[error(
        "the database has no tables in schema `rollcall`: run the store's migrations as the migrator role first"
    )]
    NotMigrated,
    /// The catalog could not be read.
    #[error("reading the role and table catalog failed: {0}")]
    Catalog(sqlx::Error),
}

/// Checks the role the pool connects as. Every connection of a pool uses the same login,
/// so one connection is enough.
pub(crate) async fn check_runtime_role(pool: &PgPool) -> Result<(), RoleError> {
    let role = sqlx::query(
        "SELECT current_user::text AS role, rolsuper, rolbypassrls \
         FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await
    .map_err(RoleError::Catalog)?;
    let name: String = role.try_get("role").map_err(RoleError::Catalog)?;
    if role.try_get::<bool, _>("rolsuper").map_err(RoleError::Catalog)? {
        return Err(RoleError::Superuser { role: name });
    }
    if role.try_get::<bool, _>("rolbypassrls").map_err(RoleError::Catalog)? {
        return Err(RoleError::BypassRls { role: name });
    }
    let privileged: Option<String> = sqlx::query_scalar(
        "SELECT rolname::text FROM pg_roles \
         WHERE (rolsuper OR rolbypassrls) AND rolname <> current_user \
           AND pg_has_role(current_user, oid, 'MEMBER') \
         ORDER BY rolname LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .map_err(RoleError::Catalog)?;
    if let Some(privileged) = privileged {
        return Err(RoleError::MemberOfPrivileged { role: name, privileged });
    }

    // Every ordinary or partitioned table of the schema; the migrations give each one a
    // tenant_id column.
    let tables = sqlx::query(
        "SELECT c.relname::text AS table_name, pg_get_userbyid(c.relowner)::text AS owner, \
                pg_has_role(current_user, c.relowner, 'MEMBER') AS owner_member, \
                c.relrowsecurity, c.relforcerowsecurity \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'rollcall' AND c.relkind IN ('r', 'p') \
         ORDER BY c.relname",
    )
    .fetch_all(pool)
    .await
    .map_err(RoleError::Catalog)?;
    if tables.is_empty() {
        return Err(RoleError::NotMigrated);
    }
    for table in tables {
        let table_name: String = table.try_get("table_name").map_err(RoleError::Catalog)?;
        if table.try_get::<bool, _>("owner_member").map_err(RoleError::Catalog)? {
            let owner = table.try_get("owner").map_err(RoleError::Catalog)?;
            return Err(RoleError::OwnsTable { role: name, owner, table: table_name });
        }
        let enabled: bool = table.try_get("relrowsecurity").map_err(RoleError::Catalog)?;
        let forced: bool = table.try_get("relforcerowsecurity").map_err(RoleError::Catalog)?;
        if !(enabled && forced) {
            return Err(RoleError::RlsOff { table: table_name, enabled, forced });
        }
    }
    Ok(())
}

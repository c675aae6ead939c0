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

/// The role the runtime role switches to for the `COPY` of a campaign's review items
/// (migration 0018). It has BYPASSRLS, so the store accepts a runtime role that is a
/// member of it only when [`check_review_loader`] finds it restricted.
pub(crate) const REVIEW_LOADER: &str = "rollcall_review_loader";

/// The trigger that rejects review items of another tenant than the transaction's.
const SAME_TENANT_TRIGGER: &str = "review_items_same_tenant";

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
    /// The runtime role may switch to the review loader role, but that role has other
    /// privileges than INSERT on `review_items`, lacks that INSERT, or the tenant trigger
    /// of migration 0018 is missing or disabled.
    #[error(
        "the runtime role `{role}` is a member of `{loader}`, which bypasses row-level security, but {reason}; or REVOKE {loader} FROM {role}, and launches store review items without it"
    )]
    ReviewLoaderInvalid {
        /// The connected role.
        role: String,
        /// The loader role.
        loader: String,
        /// The problem and its fix.
        reason: String,
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

/// The facts about the runtime role that the start-up check established.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuntimeRole {
    /// The role may switch to [`REVIEW_LOADER`], which the check found restricted.
    pub(crate) review_loader: bool,
}

/// Checks the role the pool connects as. Every connection of a pool uses the same login,
/// so one connection is enough.
pub(crate) async fn check_runtime_role(pool: &PgPool) -> Result<RuntimeRole, RoleError> {
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
           AND NOT (rolname = $1 AND NOT rolsuper) \
           AND pg_has_role(current_user, oid, 'MEMBER') \
         ORDER BY rolname LIMIT 1",
    )
    .bind(REVIEW_LOADER)
    .fetch_optional(pool)
    .await
    .map_err(RoleError::Catalog)?;
    if let Some(privileged) = privileged {
        return Err(RoleError::MemberOfPrivileged { role: name, privileged });
    }
    let review_loader: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_roles \
                        WHERE rolname = $1 AND pg_has_role(current_user, oid, 'MEMBER'))",
    )
    .bind(REVIEW_LOADER)
    .fetch_one(pool)
    .await
    .map_err(RoleError::Catalog)?;

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
    if review_loader {
        check_review_loader(pool).await.map_err(|reason| match reason {
            LoaderProblem::Catalog(error) => RoleError::Catalog(error),
            LoaderProblem::Invalid(reason) => RoleError::ReviewLoaderInvalid {
                role: name.clone(),
                loader: REVIEW_LOADER.to_owned(),
                reason,
            },
        })?;
    }
    Ok(RuntimeRole { review_loader })
}

enum LoaderProblem {
    Catalog(sqlx::Error),
    Invalid(String),
}

/// Checks that [`REVIEW_LOADER`] can insert review items and nothing else, and only rows
/// of the transaction's tenant. It needs INSERT on `review_items` and no other privilege
/// on a table of the schema, counting privileges it inherits and those of PUBLIC. It may
/// not CREATE in the schema, and the tenant trigger of migration 0018 must be enabled. Superuser and
/// membership in the tables' owner or in another BYPASSRLS role are refused before this
/// check, because the runtime role would hold them through the loader too.
async fn check_review_loader(pool: &PgPool) -> Result<(), LoaderProblem> {
    let extra: Option<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'rollcall' AND c.relkind IN ('r', 'p', 'v', 'm') \
           AND (has_any_column_privilege($1, c.oid, 'SELECT, UPDATE, REFERENCES') \
                OR has_table_privilege($1, c.oid, 'DELETE, TRUNCATE, TRIGGER') \
                OR (c.relname <> 'review_items' AND has_table_privilege($1, c.oid, 'INSERT'))) \
         ORDER BY c.relname LIMIT 1",
    )
    .bind(REVIEW_LOADER)
    .fetch_optional(pool)
    .await
    .map_err(LoaderProblem::Catalog)?;

    if let Some(table) = extra {
        return Err(LoaderProblem::Invalid(format!(
            "it has privileges on `rollcall.{table}` beyond INSERT on `rollcall.review_items`: revoke them"
        )));
    }

    let schema = sqlx::query(
        "SELECT has_schema_privilege($1, 'rollcall', 'CREATE') AS creates, \
                has_schema_privilege($1, 'rollcall', 'USAGE') \
                AND has_table_privilege($1, 'rollcall.review_items', 'INSERT') AS inserts",
    )
    .bind(REVIEW_LOADER)
    .fetch_one(pool)
    .await
    .map_err(LoaderProblem::Catalog)?;
    if schema.try_get::<bool, _>("creates").map_err(LoaderProblem::Catalog)? {
        return Err(LoaderProblem::Invalid(
            "it may create objects in schema `rollcall`: revoke CREATE on the schema".into(),
        ));
    }
    if !schema.try_get::<bool, _>("inserts").map_err(LoaderProblem::Catalog)? {
        return Err(LoaderProblem::Invalid(format!(
            "it lacks USAGE on schema `rollcall` or INSERT on `rollcall.review_items`: run the store's migrations, or grant both to {REVIEW_LOADER} as the migrator"
        )));
    }

    // tgenabled 'O' fires in the default replication role and 'A' always. 'D' (disabled)
    // and 'R' (replica only) would skip it for the store's sessions.
    let trigger_on: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger \
                        WHERE tgrelid = 'rollcall.review_items'::regclass AND tgname = $1 \
                          AND tgenabled IN ('O', 'A'))",
    )
    .bind(SAME_TENANT_TRIGGER)
    .fetch_one(pool)
    .await
    .map_err(LoaderProblem::Catalog)?;
    if !trigger_on {
        return Err(LoaderProblem::Invalid(format!(
            "the trigger `{SAME_TENANT_TRIGGER}` on `rollcall.review_items` is missing or disabled: run the store's migrations, or ENABLE TRIGGER {SAME_TENANT_TRIGGER} as the migrator"
        )));
    }
    Ok(())
}

//! Users provisioned over SCIM 2.0 (RFC 7643, RFC 7644), and the HR events derived from
//! their changes, committed together.
//!
//! The HR webhook service owns the SCIM semantics (attribute parsing, PATCH, filters). The
//! store keeps each user's last written resource, the attributes the service filters on,
//! and a version that guards against lost updates. An update or delete names the version
//! it was computed from, and is rejected with [`ScimWrite::Changed`] when another writer
//! came first.

use chrono::{DateTime, Utc};
use rollcall_proto::HrEvent;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::error::StoreError;
use crate::json::{self, check_text};
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The columns of a [`ScimUser`]; rows are read by column name.
macro_rules! columns {
    () => {
        "user_id, user_name, external_id, employee_number, work_email, employee_id, active, \
         resource, version, created_at, updated_at"
    };
}

/// The condition of a user list: the tenant, then at most one of `userName` ($2, not case
/// sensitive), `externalId` ($3), work e-mail ($4, stored lowercased) and
/// `employeeNumber` ($5).
macro_rules! filter_condition {
    () => {
        "tenant_id = $1 \
         AND ($2::text IS NULL OR lower(user_name) = lower($2)) \
         AND ($3::text IS NULL OR external_id = $3) \
         AND ($4::text IS NULL OR work_email = lower($4)) \
         AND ($5::text IS NULL OR employee_number = $5)"
    };
}

/// SQLSTATE `unique_violation`: another user of the tenant has the `userName`.
const UNIQUE_VIOLATION: &str = "23505";

/// One SCIM user of a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUser {
    /// The SCIM `id`, assigned by the service.
    pub id: Uuid,
    /// `userName`, unique within the tenant regardless of case.
    pub user_name: String,
    /// `externalId`, the sender's own id.
    pub external_id: Option<String>,
    /// The enterprise extension's `employeeNumber`.
    pub employee_number: Option<String>,
    /// The `value` of the `emails` entry of type `work`, lowercased.
    pub work_email: Option<String>,
    /// The HR employee id: `employee_number` when set, else `external_id`.
    pub employee_id: String,
    /// `active`.
    pub active: bool,
    /// The User as the sender last wrote it, without `id` and `meta`.
    pub resource: Value,
    /// Starts at 1 and rises by one with each change.
    pub version: i64,
    /// When the user was created, to the microsecond.
    pub created_at: DateTime<Utc>,
    /// When the user last changed, to the microsecond.
    pub updated_at: DateTime<Utc>,
}

/// An equality filter on one attribute, as `GET /Users?filter=` accepts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimFilter {
    /// `userName eq "..."`, not case sensitive (RFC 7643 section 4.1.1).
    UserName(String),
    /// `externalId eq "..."`, case sensitive.
    ExternalId(String),
    /// `emails[type eq "work"].value eq "..."`, not case sensitive.
    WorkEmail(String),
    /// The enterprise extension's `employeeNumber eq "..."`, case sensitive.
    EmployeeNumber(String),
}

/// The result of a SCIM user write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimWrite {
    /// The user was written. `event_new` is `true` when the HR event given with it was
    /// stored, and `false` when none was given or its id was stored already.
    Saved {
        /// Whether an HR event was stored.
        event_new: bool,
    },
    /// Another user of the tenant has the `userName`; nothing was written.
    UserNameTaken,
    /// The user is gone or no longer at the expected version; nothing was written. Read
    /// it again and recompute the change.
    Changed,
}

impl TenantScope<'_> {
    /// Returns the SCIM user with SCIM `id` `id`.
    pub async fn scim_user(&self, id: Uuid) -> Result<Option<ScimUser>, StoreError> {
        const OPERATION: &str = "read a SCIM user";
        let mut tx = self.begin(OPERATION).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM rollcall.scim_users WHERE tenant_id = $1 AND user_id = $2"
        ))
        .bind(self.tenant_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        row.map(|row| self.scim_row(&row)).transpose()
    }

    /// Returns the number of users that match `filter` (all users without one) and the
    /// page of them that starts after `skip` matches and contains at most `limit`, ordered by
    /// creation.
    pub async fn scim_users(
        &self,
        filter: Option<&ScimFilter>,
        skip: i64,
        limit: i64,
    ) -> Result<(i64, Vec<ScimUser>), StoreError> {
        const OPERATION: &str = "list SCIM users";
        let mut values: [Option<&str>; 4] = [None; 4];
        let slot = match filter {
            None => None,
            Some(ScimFilter::UserName(v)) => Some((0, v)),
            Some(ScimFilter::ExternalId(v)) => Some((1, v)),
            Some(ScimFilter::WorkEmail(v)) => Some((2, v)),
            Some(ScimFilter::EmployeeNumber(v)) => Some((3, v)),
        };
        if let Some((index, value)) = slot {
            check_text(value, "filter")?;
            if let Some(place) = values.get_mut(index) {
                *place = Some(value.as_str());
            }
        }
        let [user_name, external_id, work_email, employee_number] = values;
        let mut tx = self.begin_snapshot(OPERATION).await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT count(*) FROM rollcall.scim_users WHERE ",
            filter_condition!()
        ))
        .bind(self.tenant_str())
        .bind(user_name)
        .bind(external_id)
        .bind(work_email)
        .bind(employee_number)
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM rollcall.scim_users WHERE ",
            filter_condition!(),
            " ORDER BY created_at, user_id OFFSET $6 LIMIT $7"
        ))
        .bind(self.tenant_str())
        .bind(user_name)
        .bind(external_id)
        .bind(work_email)
        .bind(employee_number)
        .bind(skip.max(0))
        .bind(limit.max(0))
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        let users = rows.iter().map(|row| self.scim_row(row)).collect::<Result<_, _>>()?;
        Ok((total, users))
    }

    /// Inserts a new SCIM user and, in the same transaction, `event` (the hire it
    /// causes) unless its id is stored already.
    pub async fn insert_scim_user(
        &self,
        user: &ScimUser,
        event: Option<&HrEvent>,
    ) -> Result<ScimWrite, StoreError> {
        const OPERATION: &str = "create a SCIM user";
        let resource = self.check_user(user)?;
        let mut tx = self.begin(OPERATION).await?;
        let result = sqlx::query(
            "INSERT INTO rollcall.scim_users \
               (tenant_id, user_id, user_name, external_id, employee_number, work_email, \
                employee_id, active, resource, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(self.tenant_str())
        .bind(user.id)
        .bind(&user.user_name)
        .bind(&user.external_id)
        .bind(&user.employee_number)
        .bind(&user.work_email)
        .bind(&user.employee_id)
        .bind(user.active)
        .bind(&resource)
        .bind(user.version)
        .bind(to_micros(user.created_at))
        .bind(to_micros(user.updated_at))
        .execute(&mut *tx)
        .await;
        if let Err(error) = result {
            if is_unique_violation(&error) {
                return Ok(ScimWrite::UserNameTaken);
            }
            return Err(self.db(OPERATION)(error));
        }
        let event_new = self.insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(ScimWrite::Saved { event_new })
    }

    /// Replaces the SCIM user `user.id` with `user` when it is still at version
    /// `expected_version`, and stores `event` in the same transaction. `user.version`
    /// is the new version.
    pub async fn update_scim_user(
        &self,
        user: &ScimUser,
        expected_version: i64,
        event: Option<&HrEvent>,
    ) -> Result<ScimWrite, StoreError> {
        const OPERATION: &str = "update a SCIM user";
        let resource = self.check_user(user)?;
        let mut tx = self.begin(OPERATION).await?;
        let result = sqlx::query(
            "UPDATE rollcall.scim_users SET user_name = $3, external_id = $4, \
               employee_number = $5, work_email = $6, employee_id = $7, active = $8, \
               resource = $9, version = $10, updated_at = $11 \
             WHERE tenant_id = $1 AND user_id = $2 AND version = $12",
        )
        .bind(self.tenant_str())
        .bind(user.id)
        .bind(&user.user_name)
        .bind(&user.external_id)
        .bind(&user.employee_number)
        .bind(&user.work_email)
        .bind(&user.employee_id)
        .bind(user.active)
        .bind(&resource)
        .bind(user.version)
        .bind(to_micros(user.updated_at))
        .bind(expected_version)
        .execute(&mut *tx)
        .await;
        let updated = match result {
            Ok(done) => done.rows_affected(),
            Err(error) if is_unique_violation(&error) => return Ok(ScimWrite::UserNameTaken),
            Err(error) => return Err(self.db(OPERATION)(error)),
        };
        if updated != 1 {
            return Ok(ScimWrite::Changed);
        }
        let event_new = self.insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(ScimWrite::Saved { event_new })
    }

    /// Deletes the SCIM user `id` when it is still at version `expected_version`, and
    /// stores `event` (the termination it causes) in the same transaction.
    pub async fn delete_scim_user(
        &self,
        id: Uuid,
        expected_version: i64,
        event: Option<&HrEvent>,
    ) -> Result<ScimWrite, StoreError> {
        const OPERATION: &str = "delete a SCIM user";
        let mut tx = self.begin(OPERATION).await?;
        let deleted = sqlx::query(
            "DELETE FROM rollcall.scim_users \
             WHERE tenant_id = $1 AND user_id = $2 AND version = $3",
        )
        .bind(self.tenant_str())
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected();
        if deleted != 1 {
            return Ok(ScimWrite::Changed);
        }
        let event_new = self.insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(ScimWrite::Saved { event_new })
    }

    async fn insert_event(
        &self,
        tx: &mut PgConnection,
        event: Option<&HrEvent>,
    ) -> Result<bool, StoreError> {
        match event {
            Some(event) => self.insert_hr_event_in(tx, event).await,
            None => Ok(false),
        }
    }

    /// Rejects text PostgreSQL cannot store and encodes the resource.
    fn check_user(&self, user: &ScimUser) -> Result<Value, StoreError> {
        for (text, path) in [
            (Some(user.user_name.as_str()), "userName"),
            (user.external_id.as_deref(), "externalId"),
            (user.employee_number.as_deref(), "employeeNumber"),
            (user.work_email.as_deref(), "emails"),
            (Some(user.employee_id.as_str()), "employee_id"),
        ] {
            check_text(text.unwrap_or_default(), path)?;
        }
        json::encode(&user.resource, "resource")
    }

    fn scim_row(&self, row: &PgRow) -> Result<ScimUser, StoreError> {
        const OPERATION: &str = "read a SCIM user";
        let read = self.db(OPERATION);
        Ok(ScimUser {
            id: row.try_get("user_id").map_err(&read)?,
            user_name: row.try_get("user_name").map_err(&read)?,
            external_id: row.try_get("external_id").map_err(&read)?,
            employee_number: row.try_get("employee_number").map_err(&read)?,
            work_email: row.try_get("work_email").map_err(&read)?,
            employee_id: row.try_get("employee_id").map_err(&read)?,
            active: row.try_get("active").map_err(&read)?,
            resource: row.try_get("resource").map_err(&read)?,
            version: row.try_get("version").map_err(&read)?,
            created_at: row.try_get("created_at").map_err(&read)?,
            updated_at: row.try_get("updated_at").map_err(&read)?,
        })
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error.as_database_error().and_then(|e| e.code()).as_deref() == Some(UNIQUE_VIOLATION)
}

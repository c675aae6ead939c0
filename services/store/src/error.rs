//! The errors of the store.

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;

use crate::guard::RoleError;
use crate::reviews::ReviewRejection;

/// A failure of a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection to PostgreSQL could be opened within the acquire timeout.
    #[error(
        "cannot connect to PostgreSQL at `{target}`: {source}; check that the server is running and that the URL, user and password are right"
    )]
    Connect {
        /// Host, port and database, without the password.
        target: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The connection URL cannot be parsed.
    #[error("invalid PostgreSQL URL: {source}; write it as `postgres://USER@HOST:PORT/DATABASE`")]
    InvalidUrl {
        /// The driver's error. The URL itself is left out because it may hold a password.
        source: sqlx::Error,
    },
    /// The schema migrations failed.
    #[error(
        "applying the schema migrations failed: {0}; run them as the migrator role, which needs CREATE on the database, after creating the role `rollcall_app`"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The connected role could read or write other tenants' rows.
    #[error(transparent)]
    Role(#[from] RoleError),
    /// A statement failed in PostgreSQL.
    #[error("PostgreSQL failed to {operation} for tenant `{tenant}`: {source}")]
    Database {
        /// The operation, as a verb phrase.
        operation: &'static str,
        /// The tenant of the transaction.
        tenant: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The tenant has no row in the tenants table yet.
    #[error("tenant `{tenant}` is not in the store: upsert the tenant before writing its data")]
    UnknownTenant {
        /// The tenant of the scope.
        tenant: TenantId,
    },
    /// A record names another tenant than the scope it is written through.
    #[error(
        "{record} belongs to tenant `{found}` but was written through the scope of tenant `{scope}`: write it through the scope of its own tenant"
    )]
    TenantMismatch {
        /// The tenant of the scope.
        scope: TenantId,
        /// The tenant the record names.
        found: String,
        /// The record, such as "finding `3f2a...`".
        record: String,
    },
    /// A source snapshot was given for the HR source, which is stored as a roster.
    #[error(
        "a directory snapshot for source `{source_id}` cannot be stored: the HR source holds workers, so apply it as an HR roster"
    )]
    HrAsDirectory {
        /// The source id of the snapshot.
        source_id: String,
    },
    /// A JetStream stream sequence does not fit PostgreSQL's bigint.
    #[error(
        "stream sequence `{0}` is above 9223372036854775807, the largest bigint: pass the sequence JetStream reported"
    )]
    SequenceOutOfRange(u64),
    /// An evaluation is older than the last recorded one, so recording it would reopen
    /// findings that a newer evaluation resolved.
    #[error(
        "the evaluation at `{at}` is older than the last recorded evaluation at `{last}` for tenant `{tenant}`: drop it, or evaluate the current data again"
    )]
    StaleEvaluation {
        /// The tenant.
        tenant: TenantId,
        /// The instant of the rejected evaluation.
        at: DateTime<Utc>,
        /// The instant of the last recorded evaluation.
        last: DateTime<Utc>,
    },
    /// Two findings of one evaluation have the same id.
    #[error(
        "finding id `{0}` appears twice in one evaluation: pass each finding once, as the rules return them"
    )]
    DuplicateFinding(String),
    /// A value contains a NUL character, which PostgreSQL text and jsonb cannot store.
    #[error(
        "the value at `{path}` contains a NUL character (U+0000), which PostgreSQL cannot store: remove it from the source data"
    )]
    NulCharacter {
        /// The value's JSON path, such as `accounts[3].display_name`.
        path: String,
    },
    /// A value could not be serialised to JSON.
    #[error("the value at `{path}` cannot be written as JSON: {reason}")]
    Encode {
        /// The value's path.
        path: String,
        /// The serialiser's message.
        reason: String,
    },
    /// The items of a campaign launch stopped arriving before their last batch, so the
    /// launch stored nothing.
    #[error("the launch of review campaign `{definition_id}` stored nothing: {reason}")]
    LaunchItemsEnded {
        /// The campaign definition.
        definition_id: String,
        /// The reason the items stopped.
        reason: String,
    },
    /// A stored row cannot be read back into the domain model: it was written by another
    /// version or changed by hand.
    #[error(
        "the row `{key}` of table `rollcall.{table}` cannot be read: {reason}; restore it from a backup or apply a fresh snapshot"
    )]
    CorruptRow {
        /// The table, without the schema.
        table: &'static str,
        /// The row's key.
        key: String,
        /// The defect found in the row.
        reason: String,
    },
    /// A review decision or sign-off breaks a rule of the campaign.
    #[error("review campaign `{campaign_id}`: {reason}")]
    ReviewRejected {
        /// The campaign.
        campaign_id: uuid::Uuid,
        /// The rule and the values that break it.
        reason: ReviewRejection,
    },
}

//! Profiles: how the columns of one vendor's CSV user export map to account fields.
//!
//! A profile is plain data so a tenant can write one in `tenant.yaml` for an export that no
//! preset covers. Column names are matched trimmed and without regard to case. Every mapped
//! column except `user_id` and `login` may be missing from a file; the field is then unknown.

use std::collections::BTreeMap;

use rollcall_core::model::EntitlementKind;
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};

use crate::delimited::Delimiter;
use crate::text::TextEncoding;

/// The column mapping of one vendor's CSV user export.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// The vendor name, lowercase: the snapshot's source is `ehr:<vendor>`.
    pub vendor: String,
    /// The encoding to use when the file has no byte order mark; detected when absent.
    #[serde(default)]
    pub encoding: Option<TextEncoding>,
    /// The field delimiter; detected from the header line when absent.
    #[serde(default)]
    pub delimiter: Option<Delimiter>,
    /// The column with the vendor's stable user id. Required in the file.
    pub user_id: String,
    /// The column with what the user types to sign in. Required in the file.
    pub login: String,
    /// The column with the full name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// How the full name splits into family and given name.
    #[serde(default)]
    pub name_format: NameFormat,
    /// The column with the family name; it wins over a split full name.
    #[serde(default)]
    pub family_name: Option<String>,
    /// The column with the given name; it wins over a split full name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// The column that distinguishes user rows from templates, patients and other records.
    #[serde(default)]
    pub record_type: Option<ValueMap<RecordType>>,
    /// The columns that give the status. The most severe status of all columns applies.
    #[serde(default)]
    pub status: Vec<ValueMap<StatusWord>>,
    /// The column with the instant the account was blocked or deactivated.
    #[serde(default)]
    pub status_since: Option<String>,
    /// The column with the date the account becomes valid.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// The column with the date the account ceases to be valid.
    #[serde(default)]
    pub valid_to: Option<String>,
    /// The column with the last sign-in.
    #[serde(default)]
    pub last_login: Option<LastLoginSpec>,
    /// The columns that hold entitlements.
    #[serde(default)]
    pub grants: Vec<GrantSpec>,
    /// The department columns, first preferred.
    #[serde(default)]
    pub departments: Vec<String>,
    /// The column with the job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// The column with the linked provider record's id; a value makes the user a provider.
    #[serde(default)]
    pub provider_id: Option<String>,
    /// The column with the provider's NPI.
    #[serde(default)]
    pub npi: Option<String>,
    /// The column with the controlled-substance prescribing status.
    #[serde(default)]
    pub epcs: Option<ValueMap<EpcsWord>>,
    /// The column with the manager reference.
    #[serde(default)]
    pub manager: Option<ManagerSpec>,
    /// The column with the e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The column with the HR employee id.
    #[serde(default)]
    pub employee_id: Option<String>,
    /// The column that may hold an Active Directory security identifier (`S-1-...`).
    #[serde(default)]
    pub sid: Option<String>,
    /// Whether a user may have several rows (one per practice), which fold into one account.
    /// When false, a repeated user id is a warning and only its first row is read.
    #[serde(default)]
    pub fold_rows: bool,
    /// Entitlement names that control who may prescribe controlled substances (EPCS
    /// enrolment and its approval), matched trimmed and without regard to case. Rollcall
    /// treats them as privileged, because they open DEA-regulated prescribing.
    #[serde(default)]
    pub epcs_roles: Vec<String>,
    /// The text that the database client wrote for SQL `NULL`, such as `NULL` from the
    /// MySQL and SQL Server clients. A cell with exactly this text, trimmed, is read as
    /// empty, so a column the query fills with `NULL` stays unknown.
    #[serde(default)]
    pub null_text: Option<String>,
}

/// The way a full name is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameFormat {
    /// The full name is only shown; family and given name come from their own columns.
    #[default]
    AsIs,
    /// `FAMILY, GIVEN`: split at the first comma. A value without a comma, or with nothing on
    /// one side of it, is not split.
    LastCommaFirst,
}

/// A column whose values map to canonical words, matched trimmed and without regard to case.
///
/// An empty cell maps to nothing. A value missing from `values` maps to `other` when it is
/// set, and otherwise is reported as a warning.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
pub struct ValueMap<T> {
    /// The column name.
    pub column: String,
    /// The export's values and what each means.
    #[serde(default = "BTreeMap::new")]
    pub values: BTreeMap<String, T>,
    /// The meaning of any other non-empty value.
    #[serde(default)]
    pub other: Option<T>,
}

/// What a row of the export describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    /// A workforce user.
    User,
    /// A workforce user who is a clinical provider.
    Provider,
    /// A service or interface account.
    Service,
    /// A template that users are linked to; dropped.
    Template,
    /// A patient in a table shared with users; dropped.
    Patient,
    /// Any other record that is not a user account; dropped.
    NonUser,
}

impl RecordType {
    /// Returns whether rows of this type become accounts.
    pub fn is_account(self) -> bool {
        matches!(self, RecordType::User | RecordType::Provider | RecordType::Service)
    }

    /// Returns the lowercase name used in profiles and diagnostics.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::User => "user",
            RecordType::Provider => "provider",
            RecordType::Service => "service",
            RecordType::Template => "template",
            RecordType::Patient => "patient",
            RecordType::NonUser => "non_user",
        }
    }
}

/// A canonical account status, from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusWord {
    /// The account can sign in.
    Active,
    /// The export's value has no known meaning.
    Unknown,
    /// Deactivated, or past its end date.
    Inactive,
    /// Temporarily suspended.
    Suspended,
    /// Blocked from signing in.
    Blocked,
    /// Deleted, or flagged as deleted.
    Deleted,
}

impl StatusWord {
    /// Returns the lowercase name used in profiles and in the `ehr.status` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusWord::Active => "active",
            StatusWord::Unknown => "unknown",
            StatusWord::Inactive => "inactive",
            StatusWord::Suspended => "suspended",
            StatusWord::Blocked => "blocked",
            StatusWord::Deleted => "deleted",
        }
    }
}

/// A canonical controlled-substance prescribing status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpcsWord {
    /// May sign controlled-substance prescriptions.
    Enabled,
    /// Enrolment waits for approval.
    Pending,
    /// Not enrolled.
    Disabled,
}

/// The last sign-in column.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastLoginSpec {
    /// The column name.
    pub column: String,
    /// Whether the column records every sign-in, so an empty cell means the user never
    /// signed in. When false, an empty cell means the sign-in time is unknown.
    #[serde(default)]
    pub reliable: bool,
}

/// The manager column and what its values refer to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerSpec {
    /// The column name.
    pub column: String,
    /// Whether a value is a user id of the same export or an HR employee id.
    pub refers_to: ManagerRefersTo,
}

/// What a manager reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagerRefersTo {
    /// A user id in the same export.
    Account,
    /// An HR employee id.
    EmployeeId,
}

/// A column of entitlements.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    /// The column name.
    pub column: String,
    /// The kind of entitlement: `template`, `subtemplate`, `security_class`, `role`,
    /// `permission`, `user_group`, `group` or `directory_role`.
    #[serde(deserialize_with = "kind_from_name")]
    pub kind: EntitlementKind,
    /// The separator between values in one cell; `null` makes the column single-valued.
    #[serde(default = "default_separator")]
    pub separator: Option<String>,
    /// Whether each value is an `ID=NAME` pair (split at the first `=`).
    #[serde(default)]
    pub pairs: bool,
    /// A column with the names for the ids in `column`, split the same way.
    #[serde(default)]
    pub name_column: Option<String>,
    /// A column whose value scopes each grant of the row, such as a practice id.
    #[serde(default)]
    pub scope_column: Option<String>,
    /// A fixed scope for every grant of the column, such as the Epic application a
    /// security class applies to. A non-empty `scope_column` cell wins over it.
    #[serde(default)]
    pub scope: Option<String>,
    /// Whether the order of values is a priority (first is 1), kept as an attribute.
    #[serde(default)]
    pub ordered: bool,
}

impl GrantSpec {
    /// Creates a grant column of `kind` with the default separator and no other options.
    pub fn new(column: &str, kind: EntitlementKind) -> Self {
        Self {
            column: column.to_owned(),
            kind,
            separator: default_separator(),
            pairs: false,
            name_column: None,
            scope_column: None,
            scope: None,
            ordered: false,
        }
    }
}

/// The separator between values in a multi-valued cell: `; `.
pub const DEFAULT_SEPARATOR: &str = "; ";

fn default_separator() -> Option<String> {
    Some(DEFAULT_SEPARATOR.to_owned())
}

fn kind_from_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<EntitlementKind, D::Error> {
    let name = String::deserialize(deserializer)?;
    EntitlementKind::ALL.into_iter().find(|kind| kind.as_str() == name).ok_or_else(|| {
        let known: Vec<&str> = EntitlementKind::ALL.iter().map(|kind| kind.as_str()).collect();
        D::Error::custom(format!(
            "unknown entitlement kind `{name}`: use one of {}",
            known.join(", ")
        ))
    })
}

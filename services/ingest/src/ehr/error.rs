//! Errors that stop an EHR export from being read at all.

use crate::delimited::DelimitedError;

/// A profile that cannot be applied to any file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The vendor name cannot form an `ehr:<vendor>` source id.
    #[error(
        "invalid vendor `{0}` in the EHR profile: use at most 64 lowercase letters, digits, `-` \
         and `_`"
    )]
    InvalidVendor(String),
    /// A field maps to an empty column name.
    #[error("empty column name for `{0}` in the EHR profile: name the export's column")]
    EmptyColumn(&'static str),
    /// A grant column's separator is the empty string.
    #[error(
        "empty separator for grant column `{0}` in the EHR profile: give the text between \
         values, or `null` for a single value per cell"
    )]
    EmptySeparator(String),
    /// A grant column's fixed scope is empty.
    #[error(
        "empty scope for grant column `{0}` in the EHR profile: name the application or \
         practice the grants apply to, or remove `scope`"
    )]
    EmptyScope(String),
    /// An entry of `epcs_roles` is empty.
    #[error(
        "empty entry in `epcs_roles` of the EHR profile: give each role's name as the export \
         writes it"
    )]
    EmptyEpcsRole,
    /// A rename names a column the profile does not use.
    #[error(
        "`columns` renames `{column}`, which the EHR profile does not use: rename one of \
         `{known}`"
    )]
    UnknownRename {
        /// The key of the rename.
        column: String,
        /// The profile's columns, joined for the message.
        known: String,
    },
    /// Two keys of one value map differ only in case or surrounding spaces.
    #[error(
        "value `{value}` is listed twice for column `{column}` in the EHR profile (values are \
         compared without regard to case): keep one"
    )]
    DuplicateValue {
        /// The column of the value map.
        column: String,
        /// The repeated value.
        value: String,
    },
}

/// An EHR export that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EhrError {
    /// The profile is invalid.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The file cannot be read as a table, or lacks the user id or login column.
    #[error(transparent)]
    Table(#[from] DelimitedError),
    /// One file of a set of exports cannot be read as a table, or lacks the user id column.
    #[error("`{file}`: {source}")]
    File {
        /// The file.
        file: String,
        /// The reason.
        source: DelimitedError,
    },
    /// A saved providers API response cannot be read.
    #[error("`{file}` is not a providers API response: {reason}")]
    Providers {
        /// The file.
        file: String,
        /// The reason.
        reason: String,
    },
    /// A set of athenahealth exports contains no CSV file.
    #[error(
        "the athenahealth export set has no CSV file: add the Users page and User Access by \
         Location exports to `files`"
    )]
    NoCsvFile,
    /// The profile for athenahealth exports names no role column.
    #[error(
        "the athenahealth profile has no `grants` column, so access exports cannot be told \
         from the Users page: add the roles column under `grants`"
    )]
    NoRoleColumn,
}

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
}

//! Active Directory value formats: `userAccountControl` bits, FILETIME and generalized
//! time, binary and text SIDs and GUIDs, and `groupType`.
//!
//! Each parser takes one attribute value without its entry or attribute name, so the
//! caller adds both to any message.

mod group_type;
mod guid;
mod sid;
mod time;
mod uac;

pub use group_type::GroupType;
pub use guid::{guid_from_bytes, guid_from_value, parse_guid};
pub use sid::Sid;
pub use time::{parse_filetime, parse_generalized_time};
pub use uac::UserAccountControl;

/// An Active Directory attribute value that does not have the expected format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdError {
    /// Not a decimal integer, or outside the signed and unsigned 32-bit ranges.
    #[error(
        "`{value}` is not a 32-bit integer: expected a decimal number such as `512` or `-2147483646`"
    )]
    InvalidInteger {
        /// The value as found.
        value: String,
    },
    /// Not a decimal count of 100-nanosecond intervals since 1601-01-01 UTC.
    #[error(
        "`{value}` is not a FILETIME: expected a decimal count of 100-nanosecond intervals since 1601-01-01 UTC, such as `133485408000000000`"
    )]
    InvalidFileTime {
        /// The value as found.
        value: String,
    },
    /// Not an RFC 4517 generalized time.
    #[error("`{value}` is not a generalized time: expected a form such as `20240101120000.0Z`")]
    InvalidGeneralizedTime {
        /// The value as found.
        value: String,
    },
    /// Neither the `S-1-...` text form nor the binary form of a security identifier.
    #[error(
        "`{value}` is not a security identifier: expected text such as `S-1-5-21-1-2-3-500` or the binary form"
    )]
    InvalidSid {
        /// The value as found, in hex when it is not text.
        value: String,
    },
    /// Neither 16 bytes nor the dashed text form of a GUID.
    #[error(
        "`{value}` is not a GUID: expected 16 bytes or text such as `0b3c9a1e-5f2d-4e8b-9c71-2a6d8e4f1b30`"
    )]
    InvalidGuid {
        /// The value as found, in hex when it is not text.
        value: String,
    },
}

/// Reads a 32-bit flag word that AD writes signed (`-2147483646`) and other servers write
/// unsigned (`2147483650`), returning its bits.
fn parse_flags32(text: &str) -> Result<u32, AdError> {
    let invalid = || AdError::InvalidInteger { value: text.to_owned() };
    let number: i64 = text.trim().parse().map_err(|_| invalid())?;
    if let Ok(unsigned) = u32::try_from(number) {
        return Ok(unsigned);
    }
    let signed = i32::try_from(number).map_err(|_| invalid())?;
    Ok(u32::from_ne_bytes(signed.to_ne_bytes()))
}

/// Shows a value in messages: as text when it is printable UTF-8, else as hex.
fn display_value(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(text) if !text.chars().any(char::is_control) => text.to_owned(),
        _ => value.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

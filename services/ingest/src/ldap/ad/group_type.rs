//! `groupType` flags, from [MS-ADTS] section 2.2.12 "Group Type Flags".

use super::{AdError, parse_flags32};

/// A `groupType` value.
///
/// AD returns it as a signed 32-bit integer (`-2147483646` for a global security group);
/// OpenLDAP servers that add the attribute to their schema store the unsigned form
/// (`2147483650`). Both parse to the same bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupType(pub u32);

impl GroupType {
    /// A group created by the system in the Builtin container.
    pub const BUILTIN_LOCAL: u32 = 0x0000_0001;
    /// A global group.
    pub const GLOBAL: u32 = 0x0000_0002;
    /// A domain local group.
    pub const DOMAIN_LOCAL: u32 = 0x0000_0004;
    /// A universal group.
    pub const UNIVERSAL: u32 = 0x0000_0008;
    /// An application basic group (Authorization Manager); AD does not use it.
    pub const APP_BASIC: u32 = 0x0000_0010;
    /// An application query group (Authorization Manager); AD does not use it.
    pub const APP_QUERY: u32 = 0x0000_0020;
    /// A security group. Without this bit the group is a distribution list.
    pub const SECURITY_ENABLED: u32 = 0x8000_0000;

    /// Parses the decimal value, signed or unsigned.
    pub fn parse(text: &str) -> Result<Self, AdError> {
        parse_flags32(text).map(Self)
    }

    /// Returns whether the group is a security group rather than a distribution group.
    pub fn is_security_enabled(self) -> bool {
        self.0 & Self::SECURITY_ENABLED != 0
    }

    /// Returns the scope in words: `builtin local`, `domain local`, `global`, `universal`, or
    /// `unknown` when no scope bit is set.
    pub fn scope(self) -> &'static str {
        if self.0 & Self::BUILTIN_LOCAL != 0 {
            "builtin local"
        } else if self.0 & Self::GLOBAL != 0 {
            "global"
        } else if self.0 & Self::DOMAIN_LOCAL != 0 {
            "domain local"
        } else if self.0 & Self::UNIVERSAL != 0 {
            "universal"
        } else {
            "unknown"
        }
    }
}

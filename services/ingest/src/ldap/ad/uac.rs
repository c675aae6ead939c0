//! `userAccountControl` and `msDS-User-Account-Control-Computed` bit flags.
//!
//! Values and names follow Microsoft's support article "Use the UserAccountControl flags to
//! manipulate user account properties" (KB 305144). `LOCKOUT` and `PASSWORD_EXPIRED` are
//! not kept up to date in the stored `userAccountControl` since Windows Server 2003: only
//! the constructed `msDS-User-Account-Control-Computed` reports them ([MS-ADTS] section
//! 3.1.1.4.5.17), together with `USE_AES_KEYS`.

use super::{AdError, parse_flags32};

/// A `userAccountControl` (or computed) value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserAccountControl(pub u32);

/// Each flag with its name, in bit order.
const FLAG_NAMES: [(u32, &str); 23] = [
    (UserAccountControl::SCRIPT, "SCRIPT"),
    (UserAccountControl::ACCOUNTDISABLE, "ACCOUNTDISABLE"),
    (UserAccountControl::HOMEDIR_REQUIRED, "HOMEDIR_REQUIRED"),
    (UserAccountControl::LOCKOUT, "LOCKOUT"),
    (UserAccountControl::PASSWD_NOTREQD, "PASSWD_NOTREQD"),
    (UserAccountControl::PASSWD_CANT_CHANGE, "PASSWD_CANT_CHANGE"),
    (UserAccountControl::ENCRYPTED_TEXT_PWD_ALLOWED, "ENCRYPTED_TEXT_PWD_ALLOWED"),
    (UserAccountControl::TEMP_DUPLICATE_ACCOUNT, "TEMP_DUPLICATE_ACCOUNT"),
    (UserAccountControl::NORMAL_ACCOUNT, "NORMAL_ACCOUNT"),
    (UserAccountControl::INTERDOMAIN_TRUST_ACCOUNT, "INTERDOMAIN_TRUST_ACCOUNT"),
    (UserAccountControl::WORKSTATION_TRUST_ACCOUNT, "WORKSTATION_TRUST_ACCOUNT"),
    (UserAccountControl::SERVER_TRUST_ACCOUNT, "SERVER_TRUST_ACCOUNT"),
    (UserAccountControl::DONT_EXPIRE_PASSWORD, "DONT_EXPIRE_PASSWORD"),
    (UserAccountControl::MNS_LOGON_ACCOUNT, "MNS_LOGON_ACCOUNT"),
    (UserAccountControl::SMARTCARD_REQUIRED, "SMARTCARD_REQUIRED"),
    (UserAccountControl::TRUSTED_FOR_DELEGATION, "TRUSTED_FOR_DELEGATION"),
    (UserAccountControl::NOT_DELEGATED, "NOT_DELEGATED"),
    (UserAccountControl::USE_DES_KEY_ONLY, "USE_DES_KEY_ONLY"),
    (UserAccountControl::DONT_REQ_PREAUTH, "DONT_REQ_PREAUTH"),
    (UserAccountControl::PASSWORD_EXPIRED, "PASSWORD_EXPIRED"),
    (UserAccountControl::TRUSTED_TO_AUTH_FOR_DELEGATION, "TRUSTED_TO_AUTH_FOR_DELEGATION"),
    (UserAccountControl::PARTIAL_SECRETS_ACCOUNT, "PARTIAL_SECRETS_ACCOUNT"),
    (UserAccountControl::USE_AES_KEYS, "USE_AES_KEYS"),
];

impl UserAccountControl {
    /// The logon script runs.
    pub const SCRIPT: u32 = 0x0000_0001;
    /// The account is disabled.
    pub const ACCOUNTDISABLE: u32 = 0x0000_0002;
    /// A home folder is required.
    pub const HOMEDIR_REQUIRED: u32 = 0x0000_0008;
    /// The account is locked out; reliable only in the computed attribute.
    pub const LOCKOUT: u32 = 0x0000_0010;
    /// No password is required.
    pub const PASSWD_NOTREQD: u32 = 0x0000_0020;
    /// The user cannot change the password.
    pub const PASSWD_CANT_CHANGE: u32 = 0x0000_0040;
    /// The password may be stored with reversible encryption.
    pub const ENCRYPTED_TEXT_PWD_ALLOWED: u32 = 0x0000_0080;
    /// A local account for a user whose primary account is in another domain.
    pub const TEMP_DUPLICATE_ACCOUNT: u32 = 0x0000_0100;
    /// A typical user account.
    pub const NORMAL_ACCOUNT: u32 = 0x0000_0200;
    /// The account of a domain trust.
    pub const INTERDOMAIN_TRUST_ACCOUNT: u32 = 0x0000_0800;
    /// The computer account of a domain member.
    pub const WORKSTATION_TRUST_ACCOUNT: u32 = 0x0000_1000;
    /// The computer account of a domain controller.
    pub const SERVER_TRUST_ACCOUNT: u32 = 0x0000_2000;
    /// The password never expires.
    pub const DONT_EXPIRE_PASSWORD: u32 = 0x0001_0000;
    /// An MNS logon account.
    pub const MNS_LOGON_ACCOUNT: u32 = 0x0002_0000;
    /// Sign-in requires a smart card.
    pub const SMARTCARD_REQUIRED: u32 = 0x0004_0000;
    /// Trusted for unconstrained Kerberos delegation.
    pub const TRUSTED_FOR_DELEGATION: u32 = 0x0008_0000;
    /// The account cannot be delegated.
    pub const NOT_DELEGATED: u32 = 0x0010_0000;
    /// Kerberos uses DES keys only.
    pub const USE_DES_KEY_ONLY: u32 = 0x0020_0000;
    /// Kerberos pre-authentication is not required.
    pub const DONT_REQ_PREAUTH: u32 = 0x0040_0000;
    /// The password has expired; reliable only in the computed attribute.
    pub const PASSWORD_EXPIRED: u32 = 0x0080_0000;
    /// Trusted to authenticate for constrained delegation (protocol transition).
    pub const TRUSTED_TO_AUTH_FOR_DELEGATION: u32 = 0x0100_0000;
    /// The computer account of a read-only domain controller.
    pub const PARTIAL_SECRETS_ACCOUNT: u32 = 0x0400_0000;
    /// Kerberos uses AES keys; set in the computed attribute only.
    pub const USE_AES_KEYS: u32 = 0x0800_0000;

    /// Parses the decimal value, signed or unsigned.
    pub fn parse(text: &str) -> Result<Self, AdError> {
        parse_flags32(text).map(Self)
    }

    /// Returns whether every bit of `flag` is set.
    pub fn contains(self, flag: u32) -> bool {
        self.0 & flag == flag
    }

    /// Returns whether `ACCOUNTDISABLE` is set.
    pub fn is_disabled(self) -> bool {
        self.contains(Self::ACCOUNTDISABLE)
    }

    /// Returns whether the account belongs to a computer or a domain trust rather than a person:
    /// one of the workstation, server (domain controller) or interdomain trust bits is set.
    pub fn is_trust_account(self) -> bool {
        let trust = Self::WORKSTATION_TRUST_ACCOUNT
            | Self::SERVER_TRUST_ACCOUNT
            | Self::INTERDOMAIN_TRUST_ACCOUNT;
        self.0 & trust != 0
    }

    /// Returns the names of the set flags in bit order, with any undefined bit as hex
    /// (`NORMAL_ACCOUNT, 0x00000004`).
    pub fn flag_names(self) -> Vec<String> {
        let mut names = Vec::new();
        let mut known = 0;
        for (flag, name) in FLAG_NAMES {
            known |= flag;
            if self.contains(flag) {
                names.push(name.to_owned());
            }
        }
        for bit in 0..32 {
            let flag = 1u32 << bit;
            if self.0 & flag != 0 && known & flag == 0 {
                names.push(format!("0x{flag:08x}"));
            }
        }
        names
    }
}

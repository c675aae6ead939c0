//! Errors of `tenant.yaml`. Each message names the key and the value written, and what to
//! write instead.

use rollcall_core::policy::PolicyError;
use rollcall_core::tenant::TenantIdError;

use super::guard::{
    MAX_EXPANDED_BYTES, MAX_EXPANDED_VALUES, MAX_FLOW_DEPTH, MAX_TENANT_FILE_BYTES,
};
use crate::ehr::ProfileError;

/// A `tenant.yaml` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TenantFileError {
    /// The YAML is malformed or has a wrong or unknown key.
    #[error("{message} (line {line}, column {column})")]
    Yaml {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's description, which names the key.
        message: String,
    },
    /// The file is larger than [`MAX_TENANT_FILE_BYTES`].
    #[error(
        "the file is `{bytes}` bytes, more than the {max} a tenant.yaml may have; check that it is the right file",
        max = MAX_TENANT_FILE_BYTES
    )]
    TooLarge {
        /// The file's size.
        bytes: usize,
    },
    /// Flow collections are nested deeper than [`MAX_FLOW_DEPTH`].
    #[error(
        "`[` and `{{` are nested more than {max} deep (line {line}); no valid tenant.yaml nests that deep, so check the file",
        max = MAX_FLOW_DEPTH
    )]
    TooDeep {
        /// The 1-based line where the limit was passed.
        line: usize,
    },
    /// Aliases expand the file past [`MAX_EXPANDED_VALUES`] or [`MAX_EXPANDED_BYTES`].
    #[error(
        "aliases (`*name`) expand the file to more than {values} values or {bytes} bytes of text; write the repeated parts out or alias fewer of them",
        values = MAX_EXPANDED_VALUES,
        bytes = MAX_EXPANDED_BYTES
    )]
    AliasExpansion,
    /// The YAML failed without a position (an empty file).
    #[error("{0}")]
    YamlNoPosition(String),
    /// The tenant id is not valid.
    #[error("`tenant.id`: {0}")]
    TenantId(#[from] TenantIdError),
    /// A time zone name is not in the IANA database.
    #[error(
        "`{field}` is `{value}`, which is not an IANA time zone; write one such as `America/Chicago`"
    )]
    TimeZone {
        /// The key.
        field: String,
        /// The value written.
        value: String,
    },
    /// The sign-in issuer cannot be one practice's issuer.
    #[error("`sign_in.issuer` is `{value}`: {reason}")]
    SignInIssuer {
        /// The value written.
        value: String,
        /// The problem and what to write instead.
        reason: &'static str,
    },
    /// The SLA is not a duration or preset.
    #[error(
        "`slas.deprovision` is `{0}`; write a duration such as `24h`, `90m` or `2d`, or `hipaa-2025-proposal`"
    )]
    Sla(String),
    /// The revocation window is not a positive duration.
    #[error("`slas.revocation` is `{0}`; write a positive duration such as `72h` or `7d`")]
    RevocationWindow(String),
    /// Both `policy` and `policy_file` are set.
    #[error("set either `policy` or `policy_file`, not both")]
    TwoPolicies,
    /// The policy file cannot be read.
    #[error("cannot read the policy file `{path}`: {reason}")]
    PolicyFile {
        /// The path as written.
        path: String,
        /// The I/O or YAML error.
        reason: String,
    },
    /// The policy does not compile.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// The policy file reads but does not compile.
    #[error("the policy file `{path}` is invalid: {source}")]
    PolicyFileInvalid {
        /// The path as written.
        path: String,
        /// What is wrong in it.
        source: PolicyError,
    },
    /// A path leaves the tenant folder.
    #[error(
        "`{field}` is `{value}`; paths must be relative to the tenant folder and stay inside it"
    )]
    Path {
        /// The key.
        field: String,
        /// The value written.
        value: String,
    },
    /// An account reference is not `<source>/<account id>`.
    #[error(
        "`{field}` is `{value}`; write accounts as `<source>/<account id>`, such as `ehr:epic/88120431`: {reason}"
    )]
    AccountRef {
        /// The key.
        field: String,
        /// The value written.
        value: String,
        /// The reason.
        reason: String,
    },
    /// An EHR entry names a profile that does not exist.
    #[error(
        "`{field}` names the profile `{name}`, which is neither a preset ({presets}) nor under `profiles:`"
    )]
    UnknownProfile {
        /// The key.
        field: String,
        /// The name written.
        name: String,
        /// The preset names.
        presets: String,
    },
    /// A CSV EHR entry has no profile.
    #[error(
        "`{field}` is a CSV export and needs `profile:`, a preset ({presets}) or a name under `profiles:`"
    )]
    MissingProfile {
        /// The key.
        field: String,
        /// The preset names.
        presets: String,
    },
    /// A non-CSV EHR entry has no vendor.
    #[error("`{field}` needs `vendor:`, such as `drchrono`: the source is named `ehr:<vendor>`")]
    MissingVendor {
        /// The key.
        field: String,
    },
    /// A vendor name is not a valid source instance.
    #[error("`{field}`: {reason}")]
    Vendor {
        /// The key.
        field: String,
        /// The reason.
        reason: String,
    },
    /// A custom profile is invalid.
    #[error("`profiles.{name}`: {source}")]
    Profile {
        /// The profile's name.
        name: String,
        /// The reason.
        source: ProfileError,
    },
    /// An EHR entry's column renames do not fit its profile.
    #[error("`{field}`: {source}")]
    Columns {
        /// The key.
        field: String,
        /// The reason.
        source: ProfileError,
    },
    /// An EHR entry lists no files.
    #[error("`{field}` lists no files")]
    NoFiles {
        /// The key.
        field: String,
    },
    /// A role assignment names a role the policy does not define.
    #[error(
        "`identity.roles.{employee_id}` names the job role `{role}`, which the policy does not define (defined: {known})"
    )]
    UnknownRole {
        /// The employee id.
        employee_id: String,
        /// The role written.
        role: String,
        /// The 0-based position of the role in the employee's list.
        index: usize,
        /// The roles the policy defines.
        known: String,
    },
    /// A campaign definition under `campaigns:` is invalid.
    #[error("`{field}` {reason}")]
    Campaign {
        /// The key, such as `campaigns[0].schedule`.
        field: String,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// Another error, with the position of the value it is about.
    #[error("{error} (line {line}, column {column})")]
    Located {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The error.
        error: Box<TenantFileError>,
    },
}

impl TenantFileError {
    /// Returns the kind of error: the wrapped error of [`TenantFileError::Located`], or
    /// else `self`.
    pub fn kind(&self) -> &TenantFileError {
        match self {
            TenantFileError::Located { error, .. } => error.kind(),
            other => other,
        }
    }
}

/// Converts a serde_yaml_ng error, moving its position into the fields.
pub(super) fn yaml_error(error: &serde_yaml_ng::Error) -> TenantFileError {
    match error.location() {
        Some(location) => TenantFileError::Yaml {
            line: location.line(),
            column: location.column(),
            message: plain_expectation(
                error.to_string().split(" at line ").next().unwrap_or_default(),
            ),
        },
        None => TenantFileError::YamlNoPosition(error.to_string()),
    }
}

/// Rewrites the end of a serde message that names a Rust type (`expected struct
/// TenantSection`, `expected u32`) into what to write in YAML.
fn plain_expectation(message: &str) -> String {
    let Some((head, expected)) = message.rsplit_once(", expected ") else {
        return message.to_owned();
    };
    let plain = match expected {
        _ if expected.starts_with("struct ") => "a mapping".to_owned(),
        // serde_yaml_ng's expectation for an enum given a sequence or mapping.
        "a YAML tag starting with '!'" => "a single name".to_owned(),
        "u8" => format!("a whole number from 0 to {}", u8::MAX),
        "u16" => format!("a whole number from 0 to {}", u16::MAX),
        "u32" => format!("a whole number from 0 to {}", u32::MAX),
        "u64" => format!("a whole number from 0 to {}", u64::MAX),
        "usize" => format!("a whole number from 0 to {}", usize::MAX),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        _ => return message.to_owned(),
    };
    format!("{head}, expected {plain}")
}

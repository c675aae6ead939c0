//! Finding where a key's value is in `tenant.yaml`, for errors found after
//! deserialization (a time zone not in the IANA database, a path with `..`).
//!
//! serde gives a visitor no positions, but serde_yaml_ng 0.10 adds the line and column of
//! the current value to any custom error a visitor raises. So the text is walked again
//! along the key path, and the visitor at the end of the path raises an error to learn
//! that position.

use std::cell::Cell;
use std::fmt;

use rollcall_core::policy::PolicyError;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::TenantFileError;

/// One step of a key path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A key of a mapping.
    Key(String),
    /// A 0-based index into a sequence.
    Index(usize),
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

/// Returns where the value at `path` starts, or else where its nearest present parent
/// starts. Returns `None` when not even the first step is in the text.
pub fn locate(text: &str, path: &[Step]) -> Option<Position> {
    (1..=path.len()).rev().find_map(|length| locate_exact(text, path.get(..length)?))
}

fn locate_exact(text: &str, path: &[Step]) -> Option<Position> {
    let found = Cell::new(false);
    let walked =
        Walk { path, found: &found }.deserialize(serde_yaml_ng::Deserializer::from_str(text));
    match walked {
        Err(error) if found.get() => error
            .location()
            .map(|location| Position { line: location.line(), column: location.column() }),
        _ => None,
    }
}

/// Parses a key path as the error messages write it: `sources.ehr[0].files[1]`.
///
/// NOTE: keys that contain `.` or `[` are split wrongly. Errors about profiles and employee
/// ids build their path from the name instead, but a policy error about a job role or rule
/// named with a `.` is located at the nearest parent that is found.
pub fn parse_path(field: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for part in field.split('.') {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next().filter(|key| !key.is_empty()) {
            steps.push(Step::Key(key.to_owned()));
        }
        for index in pieces {
            match index.trim_end_matches(']').parse() {
                Ok(index) => steps.push(Step::Index(index)),
                Err(_) => return steps,
            }
        }
    }
    steps
}

/// Adds the position of the value `error` is about, when the text has that value.
pub fn with_position(text: &str, error: TenantFileError) -> TenantFileError {
    let Some(path) = error_path(&error) else {
        return error;
    };
    match locate(text, &path) {
        Some(Position { line, column }) => {
            TenantFileError::Located { line, column, error: Box::new(error) }
        }
        None => error,
    }
}

/// The key path of the value an error is about, or `None` when the error has its
/// position already or is about no single value.
fn error_path(error: &TenantFileError) -> Option<Vec<Step>> {
    let key = |name: &str| Step::Key(name.to_owned());
    let path = match error {
        TenantFileError::TenantId(_) => vec![key("tenant"), key("id")],
        TenantFileError::Sla(_) => vec![key("slas"), key("deprovision")],
        TenantFileError::RevocationWindow(_) => vec![key("slas"), key("revocation")],
        TenantFileError::SignInIssuer { .. } => vec![key("sign_in"), key("issuer")],
        TenantFileError::TwoPolicies | TenantFileError::PolicyFile { .. } => {
            vec![key("policy_file")]
        }
        TenantFileError::Policy(policy) => {
            let mut path = vec![key("policy")];
            path.extend(parse_path(policy_field(policy)));
            path
        }
        TenantFileError::TimeZone { field, .. }
        | TenantFileError::Path { field, .. }
        | TenantFileError::AccountRef { field, .. }
        | TenantFileError::UnknownProfile { field, .. }
        | TenantFileError::MissingProfile { field, .. }
        | TenantFileError::MissingVendor { field }
        | TenantFileError::Vendor { field, .. }
        | TenantFileError::NoFiles { field }
        | TenantFileError::Columns { field, .. }
        | TenantFileError::Campaign { field, .. } => parse_path(field),
        TenantFileError::Profile { name, .. } => vec![key("profiles"), key(name)],
        TenantFileError::UnknownRole { employee_id, index, .. } => {
            vec![key("identity"), key("roles"), key(employee_id), Step::Index(*index)]
        }
        // The error is inside the policy file, whose name the message gives; a position
        // in tenant.yaml would point at the wrong file.
        TenantFileError::PolicyFileInvalid { .. }
        | TenantFileError::Yaml { .. }
        | TenantFileError::YamlNoPosition(_)
        | TenantFileError::TooLarge { .. }
        | TenantFileError::TooDeep { .. }
        | TenantFileError::AliasExpansion
        | TenantFileError::Located { .. } => return None,
    };
    Some(path)
}

fn policy_field(error: &PolicyError) -> &str {
    match error {
        PolicyError::Pattern { field, .. } | PolicyError::OutOfRange { field, .. } => field,
    }
}

/// Follows `path` through the document and raises an error at its end.
struct Walk<'a> {
    path: &'a [Step],
    found: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.end()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.end()
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.end()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.end()
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.end()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.end()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.end()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.end()
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.end()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
        let Some((Step::Index(index), rest)) = self.path.split_first() else {
            return self.end();
        };
        for _ in 0..*index {
            if sequence.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        sequence.next_element_seed(Walk { path: rest, found: self.found })?;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Step::Key(wanted), rest)) = self.path.split_first() else {
            return self.end();
        };
        while let Some(key) = map.next_key::<KeyText>()? {
            if key.0 == *wanted {
                return map.next_value_seed(Walk { path: rest, found: self.found });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

impl Walk<'_> {
    /// Raises the error that carries the position, when the whole path was followed.
    fn end<E: de::Error>(self) -> Result<(), E> {
        if !self.path.is_empty() {
            return Ok(());
        }
        self.found.set(true);
        Err(E::custom("found"))
    }
}

/// A mapping key as text, read the way the typed parse reads keys of a map of strings.
struct KeyText(String);

impl<'de> de::Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(KeyText)
    }
}

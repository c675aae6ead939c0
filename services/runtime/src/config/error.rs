//! Configuration errors. Each one names the key and the layer that set it (file and line,
//! environment variable, or flag) and never contains a value that could be a secret.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::origin::Origin;
use super::path::KeyPath;

/// A configuration that cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file cannot be read.
    #[error(
        "cannot read configuration file `{path}`: {error}; check the path given with --config or ROLLCALL_CONFIG",
        path = path.display()
    )]
    ReadFile {
        /// The file as given.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
    /// The configuration file is not valid YAML, or its top level is not a mapping.
    #[error("configuration file `{path}` line {line}: {reason}", path = path.display())]
    Yaml {
        /// The file as given.
        path: PathBuf,
        /// The 1-based line, 0 when the parser gave none.
        line: usize,
        /// The problem found.
        reason: String,
    },
    /// An environment variable with the `ROLLCALL_` prefix does not name a key, is not
    /// UTF-8, or clashes with another one.
    #[error("environment variable `{var}` is not usable: {reason}")]
    EnvVar {
        /// The variable's name.
        var: String,
        /// The problem and its fix.
        reason: String,
    },
    /// A `--set` flag is not `KEY.PATH=VALUE`.
    #[error("flag `--set {key}` is not usable: {reason}")]
    Flag {
        /// The flag's key part, or the whole argument when it has no `=`.
        key: String,
        /// The problem and its fix.
        reason: String,
    },
    /// A key that the service's configuration does not have.
    #[error(
        "unknown key `{key}` in {origin}; remove it or correct its spelling against the service's configuration reference"
    )]
    UnknownKey {
        /// The full dotted key.
        key: String,
        /// The layer and place that set it.
        origin: Origin,
    },
    /// A required key that no layer sets.
    #[error("missing key `{key}`; set it in the configuration file{other_ways}")]
    MissingKey {
        /// The full dotted key.
        key: String,
        /// The other ways to set it, already phrased (`, as ROLLCALL_X, or with --set x=...`).
        other_ways: String,
    },
    /// A value of the wrong type or form.
    #[error("invalid value for `{key}` in {origin}: {reason}")]
    InvalidValue {
        /// The full dotted key.
        key: String,
        /// The layer and place that set it.
        origin: Origin,
        /// The expected form, from the parser or from the field's type.
        reason: String,
    },
    /// A secret is set both inline and as `<key>_file` in the same layer.
    #[error(
        "secret `{key}` is set both inline and as `{key}_file` in the same layer ({origin}); keep only `{key}_file`"
    )]
    SecretConflict {
        /// The secret's full dotted key.
        key: String,
        /// The layer and place that set the `_file` form.
        origin: Origin,
    },
    /// A secret file is missing or unreadable.
    #[error(
        "cannot read the file of secret `{key}` at `{path}` (set by {origin}): {error}; check that the secret is mounted there",
        path = path.display()
    )]
    SecretFile {
        /// The secret's full dotted key.
        key: String,
        /// The file's path as configured.
        path: PathBuf,
        /// The layer and place that set the path.
        origin: Origin,
        /// The operating system's error, which never contains the file's content.
        error: io::Error,
    },
    /// A secret file is empty, or contains only a newline.
    #[error(
        "the file of secret `{key}` at `{path}` (set by {origin}) is empty; write the secret into it",
        path = path.display()
    )]
    EmptySecretFile {
        /// The secret's full dotted key.
        key: String,
        /// The file's path as configured.
        path: PathBuf,
        /// The layer and place that set the path.
        origin: Origin,
    },
    /// A `<key>_file` form used for a key that is not a secret.
    #[error(
        "`{key}_file` in {origin} is only accepted for secrets, and `{key}` is not one; set `{key}` itself"
    )]
    NotASecret {
        /// The full dotted key without `_file`.
        key: String,
        /// The layer and place that set the `_file` form.
        origin: Origin,
    },
}

impl ConfigError {
    /// Builds a `MissingKey` error, listing the environment variable and flag that set it.
    pub(crate) fn missing(path: &KeyPath) -> ConfigError {
        let other_ways = match path.env_var() {
            Some(var) => format!(", as `{var}`, or with `--set {path}=...`"),
            None => format!(" or with `--set {path}=...`"),
        };
        ConfigError::MissingKey { key: path.to_string(), other_ways }
    }
}

/// The error type the configuration deserializer hands to serde. Errors raised by a
/// field's `Deserialize` impl arrive without a key, and the deserializer that called it
/// adds the key and origin on the way out (`locate`).
#[derive(Debug)]
pub(crate) enum DeError {
    /// A message from serde or a field's impl, not yet tied to a key.
    Unlocated(String),
    /// A required field that the mapping did not have.
    MissingField(&'static str),
    /// A finished error.
    Located(Box<ConfigError>),
}

impl DeError {
    /// Ties an error to the value being deserialized, unless a deeper value already did.
    pub(crate) fn locate(self, path: &KeyPath, origin: &Origin) -> DeError {
        match self {
            DeError::Unlocated(reason) => DeError::Located(Box::new(ConfigError::InvalidValue {
                key: path.to_string(),
                origin: origin.clone(),
                reason,
            })),
            DeError::MissingField(field) => {
                DeError::Located(Box::new(ConfigError::missing(&path.key(field))))
            }
            located @ DeError::Located(_) => located,
        }
    }

    /// Returns the finished error. An error that no value located is reported on the root.
    pub(crate) fn into_config_error(self) -> ConfigError {
        match self.locate(&KeyPath::default(), &Origin::Defaults) {
            DeError::Located(error) => *error,
            DeError::Unlocated(reason) => {
                ConfigError::InvalidValue { key: String::new(), origin: Origin::Defaults, reason }
            }
            DeError::MissingField(field) => ConfigError::missing(&KeyPath::default().key(field)),
        }
    }
}

impl From<ConfigError> for DeError {
    fn from(error: ConfigError) -> Self {
        DeError::Located(Box::new(error))
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::Unlocated(reason) => f.write_str(reason),
            DeError::MissingField(field) => write!(f, "missing key `{field}`"),
            DeError::Located(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for DeError {}

impl serde::de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DeError::Unlocated(message.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::MissingField(field)
    }
}

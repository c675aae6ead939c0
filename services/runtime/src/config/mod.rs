//! Layered, typed configuration.
//!
//! A service declares its configuration as a `serde` struct and loads it with
//! [`ConfigLoader`]. Three layers are read, each replacing what the earlier ones set:
//!
//! 1. the YAML file named by `--config PATH` or `ROLLCALL_CONFIG`;
//! 2. environment variables `ROLLCALL_<SECTION>__<KEY>`: after the prefix, `__` separates
//!    the levels and names are lowercased, so `ROLLCALL_OPS__LISTEN` sets `ops.listen`;
//! 3. flags `--set KEY.PATH=VALUE`, repeatable, the last one for a key winning.
//!
//! Mappings merge key by key, and any other value replaces the earlier one. Values from
//! the environment and flags take the type of the field they set. A list or mapping there
//! is written in YAML flow syntax (`[a, b]`, `{k: v}`).
//!
//! Every key of every struct is checked, with or without `#[serde(deny_unknown_fields)]`:
//! an unknown key is an error that names the key and the file line, variable or flag that
//! set it. Field aliases and `#[serde(flatten)]` are not supported by that check.

mod access;
mod de;
mod env;
mod error;
mod flags;
mod node;
mod origin;
mod path;
mod scalar;
mod yaml;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

pub use error::ConfigError;
pub use origin::Origin;

use de::{Context, NodeDeserializer};
use node::{Node, merge};
use path::KeyPath;

/// The prefix of every environment variable that sets a configuration key.
pub const ENV_PREFIX: &str = "ROLLCALL_";

/// The environment variable that names the configuration file when `--config` is not given.
pub const CONFIG_ENV_VAR: &str = "ROLLCALL_CONFIG";

/// The configuration flags every service accepts; add them to a clap parser with
/// `#[command(flatten)]`.
#[derive(clap::Args, Clone, Default)]
pub struct ConfigArgs {
    /// YAML configuration file.
    #[arg(long = "config", env = CONFIG_ENV_VAR, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Set one configuration key, overriding the file and the environment; repeatable.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<String>,
}

impl fmt::Debug for ConfigArgs {
    /// Prints the keys of `--set` flags without their values, which may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .set
            .iter()
            .map(|set| set.split_once('=').map_or(set.as_str(), |(key, _)| key))
            .collect();
        f.debug_struct("ConfigArgs").field("config", &self.config).field("set", &keys).finish()
    }
}

/// Something a service should log once its logging runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigWarning {
    /// A secret was written inline rather than read from a file.
    InlineSecret {
        /// The secret's full dotted key.
        key: String,
        /// The layer and place that set it.
        origin: Origin,
    },
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigWarning::InlineSecret { key, origin } => write!(
                f,
                "secret `{key}` is set inline in {origin}, where it is easier to leak; mount it as a file and set `{key}_file` to its path"
            ),
        }
    }
}

/// A loaded configuration and the warnings found while loading it.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The service's configuration.
    pub config: T,
    /// Warnings to log at start, with [`Loaded::log_warnings`] once logging runs.
    pub warnings: Vec<ConfigWarning>,
}

impl<T> Loaded<T> {
    /// Logs each warning at WARN level.
    pub fn log_warnings(&self) {
        for warning in &self.warnings {
            tracing::warn!(warning = %warning, "configuration warning");
        }
    }
}

/// Reads and merges the configuration layers into a service's type.
#[derive(Clone, Default)]
pub struct ConfigLoader {
    file: Option<PathBuf>,
    env: Option<Vec<(OsString, OsString)>>,
    sets: Vec<String>,
}

impl fmt::Debug for ConfigLoader {
    /// Prints neither environment values nor `--set` values, which may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigLoader")
            .field("file", &self.file)
            .field("env_vars", &self.env.as_ref().map(Vec::len))
            .field("sets", &self.sets.len())
            .finish()
    }
}

impl ConfigLoader {
    /// Creates a loader that reads the process environment and no file or flags.
    pub fn new() -> ConfigLoader {
        ConfigLoader::default()
    }

    /// Creates a loader from the parsed `--config` and `--set` flags.
    pub fn from_args(args: &ConfigArgs) -> ConfigLoader {
        ConfigLoader { file: args.config.clone(), env: None, sets: args.set.clone() }
    }

    /// Sets the configuration file, in place of `ROLLCALL_CONFIG`.
    pub fn file(mut self, path: impl Into<PathBuf>) -> ConfigLoader {
        self.file = Some(path.into());
        self
    }

    /// Uses these variables in place of the process environment (for tests, which should
    /// not change the environment of a process that runs other tests in parallel).
    pub fn env<I, K, V>(mut self, vars: I) -> ConfigLoader
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env =
            Some(vars.into_iter().map(|(name, value)| (name.into(), value.into())).collect());
        self
    }

    /// Adds one `KEY.PATH=VALUE` assignment, as `--set` does.
    pub fn set(mut self, assignment: impl Into<String>) -> ConfigLoader {
        self.sets.push(assignment.into());
        self
    }

    /// Reads the layers, merges them and deserializes `T`.
    ///
    /// # Errors
    ///
    /// Returns the first problem found: an unreadable or malformed file, a variable or
    /// flag that names no key, an unknown or missing key, a value of the wrong type, or a
    /// secret file that is missing, unreadable or empty.
    pub fn load<T: DeserializeOwned>(&self) -> Result<Loaded<T>, ConfigError> {
        let env = match &self.env {
            Some(vars) => vars.clone(),
            None => std::env::vars_os().collect(),
        };
        let file = self.file.clone().or_else(|| {
            env.iter()
                .find(|(name, _)| name == CONFIG_ENV_VAR)
                .map(|(_, value)| PathBuf::from(value))
        });

        let mut root = Node::empty_map(Origin::Defaults);
        if let Some(path) = &file {
            root = merge(root, read_file_layer(path)?);
        }
        root = merge(root, env::read_env_layer(&env)?);
        root = merge(root, flags::read_flag_layer(&self.sets)?);

        let context = Context::default();
        let deserializer = NodeDeserializer::new(root, KeyPath::default(), &context);
        let config = T::deserialize(deserializer).map_err(error::DeError::into_config_error)?;
        Ok(Loaded { config, warnings: context.warnings.into_inner() })
    }
}

fn read_file_layer(path: &Path) -> Result<Node, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| ConfigError::ReadFile { path: path.to_owned(), error })?;
    let origin_at = |line: usize| Origin::File { path: path.to_owned(), line };
    yaml::parse_document(&text, &origin_at).map_err(|error| ConfigError::Yaml {
        path: path.to_owned(),
        line: error.line,
        reason: error.reason,
    })
}

//! The origin of a configuration value, so that every error can point at the layer, and
//! the line or variable, to change.

use std::fmt;
use std::path::PathBuf;

/// The layer and place that set a configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A key in the YAML configuration file.
    File {
        /// The file as given with `--config` or `ROLLCALL_CONFIG`.
        path: PathBuf,
        /// The 1-based line of the key.
        line: usize,
    },
    /// An environment variable such as `ROLLCALL_OPS__LISTEN`.
    Env {
        /// The variable's name.
        var: String,
    },
    /// A `--set KEY=VALUE` flag.
    Flag {
        /// The KEY part of the flag; the value is left out because it may be a secret.
        key: String,
    },
    /// No layer: the root of the configuration, or a section that no layer wrote.
    Defaults,
}

impl Origin {
    /// Returns the layer's precedence. A value from a higher rank replaces one from a lower rank.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Origin::Defaults => 0,
            Origin::File { .. } => 1,
            Origin::Env { .. } => 2,
            Origin::Flag { .. } => 3,
        }
    }

    /// Tells whether two origins are the same layer (file, environment or flags).
    pub(crate) fn same_layer(&self, other: &Origin) -> bool {
        self.rank() == other.rank()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line } => write!(f, "`{}` line {line}", path.display()),
            Origin::Env { var } => write!(f, "environment variable `{var}`"),
            Origin::Flag { key } => write!(f, "flag `--set {key}=...`"),
            Origin::Defaults => f.write_str("the defaults"),
        }
    }
}

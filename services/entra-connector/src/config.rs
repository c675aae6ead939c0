//! The connector's configuration: app registrations, tenants and client limits.
//!
//! An MSP connects tenants in one of two ways, and both are configured the same way: an
//! entry under `apps` is an app registration with its credential, and each tenant names
//! the app it uses. One multi-tenant app consented in every customer tenant is one app
//! entry that all tenants name. An app registration per tenant is one entry per tenant.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Errors in the configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("invalid configuration {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is inconsistent with the rest.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// App registrations by a local name.
    pub apps: BTreeMap<String, AppConfig>,
    /// The tenants to sync.
    pub tenants: Vec<TenantConfig>,
    /// The Microsoft identity platform, without a trailing slash.
    #[serde(default = "default_authority")]
    pub authority_url: String,
    /// Microsoft Graph, without a trailing slash and without `/v1.0`.
    #[serde(default = "default_graph")]
    pub graph_url: String,
    /// Retry, budget and timeout settings.
    #[serde(default)]
    pub limits: Limits,
    /// Minutes between two syncs of one tenant.
    #[serde(default = "default_interval")]
    pub interval_minutes: u64,
}

/// One app registration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The application (client) id.
    pub client_id: String,
    /// A file holding the client secret and nothing else (a trailing newline is ignored).
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// A PEM file holding the certificate's private key (PKCS#8) and the certificate.
    #[serde(default)]
    pub certificate_file: Option<PathBuf>,
}

/// One tenant to sync.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Rollcall's tenant id (the practice).
    pub tenant: String,
    /// The Entra directory (tenant) id or a verified domain of it.
    pub directory_id: String,
    /// The name of the app under `apps` this tenant consented to.
    pub app: String,
}

/// Client limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first backoff delay in milliseconds; it doubles per attempt.
    pub backoff_base_ms: u64,
    /// The maximum backoff or `Retry-After` wait honoured, in milliseconds.
    pub backoff_max_ms: u64,
    /// The maximum number of requests one sync of one tenant may send.
    pub request_budget: u64,
    /// Seconds before one HTTP request times out.
    pub request_timeout_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            backoff_base_ms: 1_000,
            backoff_max_ms: 60_000,
            request_budget: 5_000,
            request_timeout_seconds: 60,
        }
    }
}

impl Limits {
    /// Returns the per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds.max(1))
    }
}

fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}

fn default_graph() -> String {
    "https://graph.microsoft.com".into()
}

fn default_interval() -> u64 {
    360
}

impl ConnectorConfig {
    /// Reads and checks a YAML configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text).map_err(|error| match error {
            ConfigError::Parse { message, .. } => {
                ConfigError::Parse { path: path.to_path_buf(), message }
            }
            other => other,
        })
    }

    /// Parses and checks the YAML text of a configuration.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Self = serde_yaml_ng::from_str(text).map_err(|error| ConfigError::Parse {
            path: PathBuf::new(),
            message: error.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        for (name, app) in &self.apps {
            match (&app.client_secret_file, &app.certificate_file) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    return Err(ConfigError::Invalid(format!(
                        "app `{name}` needs exactly one of client_secret_file and certificate_file"
                    )));
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for tenant in &self.tenants {
            if !self.apps.contains_key(&tenant.app) {
                return Err(ConfigError::Invalid(format!(
                    "tenant `{}` names app `{}`, which is not under `apps`",
                    tenant.tenant, tenant.app
                )));
            }
            if !seen.insert(&tenant.tenant) {
                return Err(ConfigError::Invalid(format!(
                    "tenant `{}` is listed twice; sync each tenant from one entry",
                    tenant.tenant
                )));
            }
        }
        if self.limits.max_attempts == 0 {
            return Err(ConfigError::Invalid("limits.max_attempts must be at least 1".into()));
        }
        Ok(())
    }
}

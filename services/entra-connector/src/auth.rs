//! Client credentials and access tokens (OAuth 2.0 client credentials grant against the
//! Microsoft identity platform v2.0 endpoint).

use std::path::Path;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::config::AppConfig;

/// An app's credential, read from a file.
pub enum Credential {
    /// A client secret.
    Secret(Zeroizing<String>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Credential::Secret(<redacted>)"),
        }
    }
}

/// Errors while reading a credential.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The secret file could not be read.
    #[error("cannot read the client secret file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The secret file is empty.
    #[error("the client secret file {0} is empty; write the secret value into it")]
    Empty(String),
    /// Certificate credentials are configured but not built yet.
    #[error(
        "app `{0}` uses certificate_file, which this version cannot sign with yet; use client_secret_file"
    )]
    CertificateUnsupported(String),
}

impl Credential {
    /// Reads the credential an app entry names.
    pub fn load(name: &str, app: &AppConfig) -> Result<Self, CredentialError> {
        if let Some(path) = &app.client_secret_file {
            return read_secret(path);
        }
        // TODO: sign a client assertion (RS256 JWT with x5t#S256) from certificate_file.
        Err(CredentialError::CertificateUnsupported(name.to_owned()))
    }

    /// Returns the form fields that authenticate the client in a token request.
    pub(crate) fn form_fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Secret(secret) => vec![("client_secret", secret.as_str().to_owned())],
        }
    }
}

fn read_secret(path: &Path) -> Result<Credential, CredentialError> {
    let text =
        Zeroizing::new(std::fs::read_to_string(path).map_err(|source| CredentialError::Read {
            path: path.display().to_string(),
            source,
        })?);
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(CredentialError::Empty(path.display().to_string()));
    }
    Ok(Credential::Secret(Zeroizing::new(secret.to_owned())))
}

/// An access token and when to stop using it.
pub(crate) struct CachedToken {
    pub(crate) value: Zeroizing<String>,
    pub(crate) refresh_at: Instant,
}

impl CachedToken {
    /// Builds a token that is refreshed five minutes before `expires_in` seconds pass, so
    /// a request never leaves with a token about to expire.
    pub(crate) fn new(value: String, expires_in: u64) -> Self {
        let margin = Duration::from_secs(300);
        let lifetime = Duration::from_secs(expires_in).saturating_sub(margin);
        Self { value: Zeroizing::new(value), refresh_at: Instant::now() + lifetime }
    }

    pub(crate) fn is_fresh(&self) -> bool {
        Instant::now() < self.refresh_at
    }
}

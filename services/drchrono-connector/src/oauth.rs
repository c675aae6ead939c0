//! OAuth 2.0 with rotating refresh tokens (RFC 6749 section 6, the refresh token grant).
//!
//! DrChrono returns a new refresh token with every access token and the old one stops
//! working, so the order of steps matters: the new refresh token is committed to
//! PostgreSQL before the access token is used. The first token comes from the file the
//! practice administrator's consent produced. When that file's content changes (a new
//! consent), its token replaces the stored one.

use std::path::{Path, PathBuf};

use chrono::Utc;
use rollcall_runtime::Secret;
use rollcall_store::{StoreError, TenantScope};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::client::{Backoff, RequestStats};
use crate::config::Limits;

/// The endpoint label of token requests in metrics and errors.
pub const TOKEN_ENDPOINT: &str = "token";

/// A token refresh that failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The refresh token file cannot be read or is empty.
    #[error(
        "cannot read the refresh token file `{}`: {reason}; write the refresh token from the practice's OAuth consent into it",
        path.display()
    )]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: String,
    },
    /// DrChrono rejected the refresh token: it was revoked, expired or already used.
    #[error(
        "DrChrono rejected the refresh token of tenant `{tenant}` ({code}): it was revoked or already used; have the practice administrator authorize Rollcall again and write the new refresh token to `{}`",
        file.display()
    )]
    RefreshRejected {
        /// Rollcall's tenant id.
        tenant: String,
        /// The OAuth `error` code, such as `invalid_grant`.
        code: String,
        /// The refresh token file to write the new token to.
        file: PathBuf,
    },
    /// DrChrono rejected the application's credentials.
    #[error(
        "DrChrono rejected the client credentials of tenant `{tenant}` with status {status} ({code}); check client_id and client_secret against the API application"
    )]
    ClientRejected {
        /// Rollcall's tenant id.
        tenant: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, or empty.
        code: String,
    },
    /// Every attempt at the token endpoint failed with a retryable error.
    #[error("the token request gave up after {attempts} attempts; the last error was: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// The store could not be read, or could not keep the token file's token.
    #[error("the DrChrono token state could not be read or written: {0}")]
    Store(StoreError),
    /// DrChrono rotated the refresh token but the new one could not be saved. The old one
    /// no longer works, so the next sync needs a new consent unless the store recovers
    /// with the new token written.
    #[error(
        "DrChrono issued a new refresh token but saving it failed ({error}); if the next sync reports a rejected refresh token, have the practice administrator authorize Rollcall again and write the new token to `{}`",
        file.display()
    )]
    Persist {
        /// The refresh token file.
        file: PathBuf,
        /// The store error, shown in the message.
        error: StoreError,
    },
}

/// The token endpoint, credentials and token storage of one tenant.
pub struct TokenSource<'a> {
    /// Rollcall's tenant id, for messages.
    pub tenant: String,
    /// The token endpoint.
    pub token_url: String,
    /// The API application's client id.
    pub client_id: String,
    /// The API application's client secret.
    pub client_secret: &'a Secret,
    /// The refresh token file from the consent.
    pub refresh_token_file: PathBuf,
    /// The tenant's scope in the store, which keeps the rotating token.
    pub scope: TenantScope<'a>,
}

/// An access token. It is a credential: never log it.
pub struct AccessToken(pub(crate) Zeroizing<String>);

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

impl TokenSource<'_> {
    /// Exchanges the current refresh token for an access token, and saves the rotated
    /// refresh token before returning the access token.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        limits: &Limits,
        backoff: &mut Backoff,
        stats: &mut RequestStats,
    ) -> Result<AccessToken, AuthError> {
        let (file_token, seed) = read_token_file(&self.refresh_token_file)?;
        let stored = self.scope.drchrono_state().await.map_err(AuthError::Store)?;
        let current = match stored {
            Some(state) if state.seed_sha256 == seed => Zeroizing::new(state.refresh_token),
            previous => {
                if previous.is_some() {
                    tracing::info!(tenant = %self.tenant, source = "ehr:drchrono", "the refresh token file changed, so its token replaces the stored one");
                }
                // Writing the file's token first proves the store accepts this tenant's
                // row before DrChrono spends the token.
                self.scope
                    .save_drchrono_refresh_token(&file_token, &seed, Utc::now())
                    .await
                    .map_err(AuthError::Store)?;
                file_token
            }
        };

        let tokens = self.request(http, limits, backoff, stats, &current).await?;
        if let Some(rotated) = &tokens.refresh_token
            && rotated.as_str() != current.as_str()
        {
            self.scope.save_drchrono_refresh_token(rotated, &seed, Utc::now()).await.map_err(
                |error| AuthError::Persist { file: self.refresh_token_file.clone(), error },
            )?;
            tracing::info!(tenant = %self.tenant, source = "ehr:drchrono", "refresh token rotated and saved");
        }
        Ok(AccessToken(tokens.access_token))
    }

    /// Sends the refresh token grant, retrying 429, 5xx and network errors.
    async fn request(
        &self,
        http: &reqwest::Client,
        limits: &Limits,
        backoff: &mut Backoff,
        stats: &mut RequestStats,
        refresh_token: &str,
    ) -> Result<Tokens, AuthError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_str().unwrap_or_default()),
        ];
        let mut last = String::new();
        let mut attempt = 0;
        while attempt < limits.max_attempts {
            attempt += 1;
            let sent = http.post(&self.token_url).form(&form).send().await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    stats.count(TOKEN_ENDPOINT, 0);
                    last = crate::client::describe(&error);
                    tracing::warn!(tenant = %self.tenant, attempt, error = %last, "token request failed, retrying");
                    stats.throttled += backoff.wait(attempt, None).await;
                    continue;
                }
            };
            let status = response.status().as_u16();
            stats.count(TOKEN_ENDPOINT, status);
            let retry_after = crate::client::retry_after(&response);
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(error) => {
                    last = crate::client::describe(&error);
                    stats.throttled += backoff.wait(attempt, None).await;
                    continue;
                }
            };
            let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            match status {
                200 => match Tokens::from_json(&parsed) {
                    Some(tokens) => return Ok(tokens),
                    None => {
                        last = "the token response has no access_token".into();
                        stats.throttled += backoff.wait(attempt, None).await;
                    }
                },
                429 | 500..=599 => {
                    last = format!("status {status}");
                    stats.throttled += backoff.wait(attempt, retry_after.as_deref()).await;
                }
                _ => {
                    let code = parsed.get("error").and_then(Value::as_str).unwrap_or_default();
                    // RFC 6749 section 5.2: a refresh token that is invalid, expired or
                    // revoked is `invalid_grant`.
                    if code == "invalid_grant" {
                        return Err(AuthError::RefreshRejected {
                            tenant: self.tenant.clone(),
                            code: code.to_owned(),
                            file: self.refresh_token_file.clone(),
                        });
                    }
                    return Err(AuthError::ClientRejected {
                        tenant: self.tenant.clone(),
                        status,
                        code: code.to_owned(),
                    });
                }
            }
        }
        Err(AuthError::RetriesExhausted { attempts: attempt, last })
    }
}

/// The tokens of a successful refresh.
struct Tokens {
    access_token: Zeroizing<String>,
    /// Absent when the server keeps the old refresh token valid.
    refresh_token: Option<Zeroizing<String>>,
}

impl Tokens {
    fn from_json(body: &Value) -> Option<Self> {
        let access = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty())?;
        let refresh = body
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(|t| Zeroizing::new(t.to_owned()));
        Some(Self { access_token: Zeroizing::new(access.to_owned()), refresh_token: refresh })
    }
}

/// Reads the refresh token file and returns the token and the SHA-256 (hex) of it.
fn read_token_file(path: &Path) -> Result<(Zeroizing<String>, String), AuthError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|error| {
        AuthError::TokenFile { path: path.to_owned(), reason: error.to_string() }
    })?);
    let token = text.trim();
    if token.is_empty() {
        return Err(AuthError::TokenFile { path: path.to_owned(), reason: "it is empty".into() });
    }
    let digest = Sha256::digest(token.as_bytes());
    let hex = digest.iter().map(|byte| format!("{byte:02x}")).collect::<String>();
    Ok((Zeroizing::new(token.to_owned()), hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_is_trimmed_and_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refresh");
        std::fs::write(&path, "synthetic-refresh-1\n").unwrap();
        let (token, seed) = read_token_file(&path).unwrap();
        assert_eq!(token.as_str(), "synthetic-refresh-1");
        assert_eq!(seed.len(), 64);
        std::fs::write(&path, "synthetic-refresh-1").unwrap();
        assert_eq!(read_token_file(&path).unwrap().1, seed);
    }

    #[test]
    fn empty_token_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refresh");
        std::fs::write(&path, "\n").unwrap();
        let error = read_token_file(&path).unwrap_err();
        assert!(matches!(error, AuthError::TokenFile { .. }));
        assert!(error.to_string().contains("refresh"), "{error}");
    }

    #[test]
    fn tokens_without_refresh_token_keep_none() {
        let tokens = Tokens::from_json(&serde_json::json!({"access_token": "a"})).unwrap();
        assert!(tokens.refresh_token.is_none());
        assert!(Tokens::from_json(&serde_json::json!({"access_token": ""})).is_none());
    }
}

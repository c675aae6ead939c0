//! Sessions and sign-in state in Redis.
//!
//! The browser holds only a random id. Redis stores the data under the SHA-256 of that
//! id, so a copy of the Redis data contains no cookie value that could be replayed. A
//! session ends after the idle timeout (each request renews the key's expiry) or at the
//! absolute timeout counted from sign-in, whichever comes first. Sessions are rebuildable
//! state: losing Redis signs everyone out and loses no decision.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::config::SessionConfig;

/// Seconds a started sign-in may take until the callback: ten minutes, enough for a slow
/// MFA prompt on a phone.
pub const LOGIN_TTL_SECONDS: u64 = 600;

/// A failure of the session store.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Redis did not respond or failed.
    #[error("the session store (Redis) failed: {0}")]
    Redis(#[from] redis::RedisError),
    /// The system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// Stored data could not be encoded or decoded.
    #[error("a stored session could not be read: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// A role granted by the `roles` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The HIPAA security officer.
    SecurityOfficer,
    /// Staff of the managed-service provider.
    MspStaff,
}

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// The tenant the person signed in to.
    pub tenant: String,
    /// The identity key of the person, such as `hr:E1003`.
    pub identity: String,
    /// The person's name for the page header.
    pub name: String,
    /// The identity provider's stable user key: issuer directory and account id.
    pub subject: String,
    /// Roles from the `roles` claim.
    pub roles: Vec<Role>,
    /// The sign-in instant, for the absolute timeout.
    pub signed_in_at: DateTime<Utc>,
    /// The CSRF token of every form and state-changing API call of this session.
    pub csrf_token: String,
}

impl SessionData {
    /// Returns whether the person has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A started sign-in, kept until its callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    /// The tenant the sign-in was started for.
    pub tenant: String,
    /// The `state` parameter sent to the provider.
    pub state: String,
    /// The `nonce` sent to the provider, which the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub pkce_verifier: String,
    /// The local path to open after sign-in.
    pub return_to: String,
}

/// Sessions and sign-in state in Redis.
#[derive(Clone)]
pub struct SessionStore {
    redis: ConnectionManager,
    prefix: String,
    config: SessionConfig,
    random: SystemRandom,
}

impl SessionStore {
    /// Wraps a Redis connection; every key starts with `prefix`.
    pub fn new(redis: ConnectionManager, prefix: &str, config: SessionConfig) -> Self {
        Self { redis, prefix: prefix.to_owned(), config, random: SystemRandom::new() }
    }

    /// Returns the session lifetimes.
    pub fn config(&self) -> SessionConfig {
        self.config
    }

    /// Returns 32 random bytes as URL-safe base64: an id or a token.
    pub fn random_token(&self) -> Result<String, SessionError> {
        let mut bytes = [0_u8; 32];
        self.random.fill(&mut bytes).map_err(|_| SessionError::Random)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn key(&self, kind: &str, id: &str) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
        let hex: String = digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
        format!("{}{kind}:{hex}", self.prefix)
    }

    /// Stores a new session and returns its id for the cookie.
    pub async fn create(&self, session: &SessionData) -> Result<String, SessionError> {
        let id = self.random_token()?;
        let text = serde_json::to_string(session)?;
        let mut redis = self.redis.clone();
        let _: () =
            redis.set_ex(self.key("session", &id), text, self.config.idle().as_secs()).await?;
        Ok(id)
    }

    /// Reads the session with `id` and renews its idle timeout. Returns `None` for an
    /// unknown id, an idle session that expired, and a session past its absolute timeout,
    /// which is deleted.
    pub async fn load(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionData>, SessionError> {
        let key = self.key("session", id);
        let mut redis = self.redis.clone();
        let expiry = redis::Expiry::EX(self.config.idle().as_secs());
        let text: Option<String> = redis.get_ex(&key, expiry).await?;
        let Some(text) = text else { return Ok(None) };
        let session: SessionData = serde_json::from_str(&text)?;
        let absolute =
            chrono::TimeDelta::from_std(self.config.absolute()).unwrap_or(chrono::TimeDelta::MAX);
        if now - session.signed_in_at >= absolute {
            let _: () = redis.del(&key).await?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Deletes the session with `id`; an unknown id is not an error.
    pub async fn delete(&self, id: &str) -> Result<(), SessionError> {
        let mut redis = self.redis.clone();
        let _: () = redis.del(self.key("session", id)).await?;
        Ok(())
    }

    /// Stores a started sign-in for [`LOGIN_TTL_SECONDS`] and returns its id for the
    /// login cookie.
    pub async fn save_login(&self, login: &LoginState) -> Result<String, SessionError> {
        let id = self.random_token()?;
        let text = serde_json::to_string(login)?;
        let mut redis = self.redis.clone();
        let _: () = redis.set_ex(self.key("login", &id), text, LOGIN_TTL_SECONDS).await?;
        Ok(id)
    }

    /// Removes and returns the sign-in with `id` in one atomic `GETDEL`, so each one
    /// completes at most once.
    pub async fn take_login(&self, id: &str) -> Result<Option<LoginState>, SessionError> {
        let mut redis = self.redis.clone();
        let text: Option<String> = redis.get_del(self.key("login", id)).await?;
        text.map(|text| serde_json::from_str(&text)).transpose().map_err(SessionError::from)
    }

    /// Checks that Redis responds.
    pub async fn ping(&self) -> Result<(), SessionError> {
        let mut redis = self.redis.clone();
        let _: String = redis::cmd("PING").query_async(&mut redis).await?;
        Ok(())
    }

    /// Returns the Redis key of the sign-in with `id`, for tests that inspect it.
    pub fn login_key(&self, id: &str) -> String {
        self.key("login", id)
    }

    /// Returns the Redis key of the session with `id`, for tests that inspect it.
    pub fn session_key(&self, id: &str) -> String {
        self.key("session", id)
    }
}

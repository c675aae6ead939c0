//! The per-tenant evaluation lock: in Redis while it responds, otherwise a PostgreSQL
//! advisory lock.
//!
//! The lock saves work, it does not make results correct: two evaluations of one tenant
//! at once would still record consistent diffs, because the store serialises them on the
//! tenant row and rejects the older one. So a replica on the fallback and a replica on
//! Redis, which do not see each other's locks, cost duplicate work at worst.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use rollcall_core::TenantId;
use rollcall_runtime::Secret;
use rollcall_store::{AdvisoryLock, Store};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::metrics::EngineMetrics;

/// How long one Redis command or connection attempt may take before the engine falls
/// back for that evaluation.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// Time between attempts to reconnect to a Redis that was down.
const RECONNECT_EVERY: Duration = Duration::from_secs(5);
/// The advisory lock's purpose, part of its key.
const PURPOSE: &str = "rollcall-engine-evaluation";

/// Deletes the key only when it still holds this holder's token, so an expired lock
/// taken over by another replica is not removed.
const RELEASE_SCRIPT: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// A held evaluation lock.
#[derive(Debug)]
pub enum LockGuard {
    /// A Redis key with this holder's token.
    Redis {
        /// The key.
        key: String,
        /// The token stored in it.
        token: String,
    },
    /// A PostgreSQL advisory lock.
    Postgres(AdvisoryLock),
}

struct RedisState {
    client: redis::Client,
    connection: Option<ConnectionManager>,
    last_attempt: Option<Instant>,
}

/// Takes and releases evaluation locks.
#[derive(Clone)]
pub struct EvaluationLock {
    redis: Option<Arc<Mutex<RedisState>>>,
    store: Store,
    ttl: Duration,
    key_prefix: String,
    metrics: EngineMetrics,
}

impl EvaluationLock {
    /// Creates the lock. `redis_url` `None` uses PostgreSQL only. An unparsable URL is an
    /// error; an unreachable server is not, because the engine must start without Redis.
    pub fn new(
        redis_url: Option<&Secret>,
        store: Store,
        ttl: Duration,
        key_prefix: &str,
        metrics: EngineMetrics,
    ) -> Result<Self, redis::RedisError> {
        let redis = match redis_url {
            Some(url) => {
                let text = String::from_utf8_lossy(url.expose_bytes()).into_owned();
                let client = redis::Client::open(text)?;
                Some(Arc::new(Mutex::new(RedisState {
                    client,
                    connection: None,
                    last_attempt: None,
                })))
            }
            None => None,
        };
        Ok(Self { redis, store, ttl, key_prefix: key_prefix.to_owned(), metrics })
    }

    /// Takes the lock for `tenant` without waiting. `Ok(None)` means another evaluation
    /// holds it.
    pub async fn try_acquire(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<LockGuard>, rollcall_store::StoreError> {
        if let Some(connection) = self.redis_connection().await {
            let key = format!("{}:evaluation-lock:{tenant}", self.key_prefix);
            let token = Uuid::new_v4().simple().to_string();
            let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
            let mut connection = connection;
            let mut set = redis::cmd("SET");
            set.arg(&key).arg(&token).arg("NX").arg("PX").arg(ttl_ms);
            let command = set.query_async::<Option<String>>(&mut connection);
            match tokio::time::timeout(REDIS_TIMEOUT, command).await {
                Ok(Ok(Some(_))) => {
                    self.metrics.redis_degraded.set(0);
                    return Ok(Some(LockGuard::Redis { key, token }));
                }
                Ok(Ok(None)) => {
                    self.metrics.redis_degraded.set(0);
                    return Ok(None);
                }
                Ok(Err(error)) => self.degrade(&error.to_string()).await,
                Err(_) => self.degrade("the command timed out").await,
            }
        }
        Ok(self.store.try_advisory_lock(PURPOSE, tenant).await?.map(LockGuard::Postgres))
    }

    /// Releases `guard`. A Redis key that cannot be deleted expires after the TTL.
    pub async fn release(&self, guard: LockGuard) {
        match guard {
            LockGuard::Postgres(lock) => lock.release().await,
            LockGuard::Redis { key, token } => {
                let Some(mut connection) = self.redis_connection().await else { return };
                let script = redis::Script::new(RELEASE_SCRIPT);
                let mut invocation = script.key(&key);
                invocation.arg(&token);
                let call = invocation.invoke_async::<i64>(&mut connection);
                match tokio::time::timeout(REDIS_TIMEOUT, call).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => self.degrade(&error.to_string()).await,
                    Err(_) => self.degrade("the command timed out").await,
                }
            }
        }
    }

    /// Sends PING to Redis, for the readiness probe.
    pub async fn redis_answers(&self) -> Result<(), String> {
        let Some(mut connection) = self.redis_connection().await else {
            return Err("Redis is not connected".to_owned());
        };
        let command = redis::cmd("PING");
        let ping = command.query_async::<String>(&mut connection);
        match tokio::time::timeout(REDIS_TIMEOUT, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("PING timed out".to_owned()),
        }
    }

    /// Returns whether a Redis URL is configured.
    pub fn uses_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// Returns a connection, connecting first when there is none and the last attempt
    /// is long enough ago. `None` when Redis is not configured or not reachable.
    async fn redis_connection(&self) -> Option<ConnectionManager> {
        let redis = self.redis.as_ref()?;
        let mut state = redis.lock().await;
        if let Some(connection) = &state.connection {
            return Some(connection.clone());
        }
        if state.last_attempt.is_some_and(|at| at.elapsed() < RECONNECT_EVERY) {
            self.count_fallback();
            return None;
        }
        state.last_attempt = Some(Instant::now());
        let connect = state.client.get_connection_manager();
        match tokio::time::timeout(REDIS_TIMEOUT, connect).await {
            Ok(Ok(connection)) => {
                tracing::info!("connected to Redis");
                self.metrics.redis_degraded.set(0);
                state.connection = Some(connection.clone());
                Some(connection)
            }
            Ok(Err(error)) => {
                drop(state);
                self.degrade(&error.to_string()).await;
                None
            }
            Err(_) => {
                drop(state);
                self.degrade("connecting timed out").await;
                None
            }
        }
    }

    /// Drops the connection after a failure, logs and counts the fallback.
    async fn degrade(&self, reason: &str) {
        if let Some(redis) = &self.redis {
            let mut state = redis.lock().await;
            state.connection = None;
            state.last_attempt.get_or_insert_with(Instant::now);
        }
        if self.metrics.redis_degraded.get() == 0 {
            tracing::warn!(
                error = reason,
                "Redis is unavailable; evaluation locks fall back to PostgreSQL advisory locks"
            );
        }
        self.metrics.redis_degraded.set(1);
        self.count_fallback();
    }

    fn count_fallback(&self) {
        self.metrics.redis_fallbacks.inc();
    }
}

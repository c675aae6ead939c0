//! Graceful shutdown: a [`Shutdown`] handle that SIGTERM or SIGINT triggers, and
//! [`Workers`], which waits for a service's tasks up to a grace period.

mod workers;

use serde::Deserialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use workers::{ShutdownReport, WorkerError, WorkerFailure, Workers};

/// How long workers may take to finish after shutdown is triggered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// Seconds that workers get to finish after SIGTERM; those still running are then
    /// aborted. Keep it below the pod's `terminationGracePeriodSeconds` (30 by default in
    /// Kubernetes), which ends in SIGKILL, so that the process can still flush traces.
    #[serde(default = "default_grace_period_seconds")]
    pub grace_period_seconds: u64,
}

fn default_grace_period_seconds() -> u64 {
    25
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig { grace_period_seconds: default_grace_period_seconds() }
    }
}

impl ShutdownConfig {
    /// Returns the grace period.
    pub fn grace_period(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.grace_period_seconds)
    }
}

/// Signal handlers that cannot be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// The operating system refused a signal handler.
    #[error(
        "cannot install the {signal} handler: {error}; start the service inside a tokio runtime"
    )]
    Signal {
        /// `SIGTERM` or `SIGINT`.
        signal: &'static str,
        /// The operating system's error.
        error: std::io::Error,
    },
}

/// A handle that every part of a service watches to know when to stop. Clones share one
/// state: triggering any of them triggers all.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// Creates a handle that nothing has triggered yet.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Starts the shutdown; calling it again does nothing.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Tells whether the shutdown has started.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Waits until the shutdown starts.
    pub async fn triggered(&self) {
        self.token.cancelled().await;
    }

    /// Returns a token that is cancelled when the shutdown starts, for `tokio::select!`
    /// and for libraries that take a `CancellationToken`.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Installs SIGTERM and SIGINT handlers that trigger this handle, and returns the
    /// task that waits for them. The first signal triggers the shutdown; later ones are
    /// ignored, so the grace period always runs to its end or until the workers finish.
    ///
    /// # Errors
    ///
    /// Returns an error when a handler cannot be installed, as outside a tokio runtime.
    pub fn listen_for_signals(&self) -> Result<JoinHandle<()>, ShutdownError> {
        let waiting = signals::install()?;
        let shutdown = self.clone();
        Ok(tokio::spawn(async move {
            tokio::select! {
                signal = waiting.recv() => {
                    tracing::info!(signal, "received signal, shutting down");
                    shutdown.trigger();
                }
                () = shutdown.triggered() => {}
            }
        }))
    }
}

#[cfg(unix)]
mod signals {
    use tokio::signal::unix::{Signal, SignalKind, signal};

    use super::ShutdownError;

    pub(super) struct Signals {
        terminate: Signal,
        interrupt: Signal,
    }

    pub(super) fn install() -> Result<Signals, ShutdownError> {
        let terminate = signal(SignalKind::terminate())
            .map_err(|error| ShutdownError::Signal { signal: "SIGTERM", error })?;
        let interrupt = signal(SignalKind::interrupt())
            .map_err(|error| ShutdownError::Signal { signal: "SIGINT", error })?;
        Ok(Signals { terminate, interrupt })
    }

    impl Signals {
        /// Waits for the first signal and returns its name.
        pub(super) async fn recv(mut self) -> &'static str {
            tokio::select! {
                _ = self.terminate.recv() => "SIGTERM",
                _ = self.interrupt.recv() => "SIGINT",
            }
        }
    }
}

#[cfg(not(unix))]
mod signals {
    use super::ShutdownError;

    pub(super) struct Signals;

    pub(super) fn install() -> Result<Signals, ShutdownError> {
        Ok(Signals)
    }

    impl Signals {
        /// Waits for Ctrl-C, the only signal tokio offers on every platform.
        pub(super) async fn recv(self) -> &'static str {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

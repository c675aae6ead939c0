//! The poll loop: list each tenant folder, wait until it settles, read it when it changed,
//! and publish each source whose content hash differs from the last one published.

mod publish;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_core::model::SourceId;
use rollcall_ingest::Diagnostic;
use rollcall_ingest::layout::{LoadError, TENANT_FILE, find_tenants};
use rollcall_proto::{ContentHash, InputProblem, SyncOutcome};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::metrics::{ConnectorMetrics, Stage, TenantLabels};
use crate::read::{TenantRead, read_tenant};
use crate::report::{Attempt, Outbox};
use crate::state::State;
use crate::watch::{Fingerprint, Listing, Settling, list};

/// Settings of a connector: where the exports are, how long they must settle and how
/// large a chunk may be.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The drop folder: one folder per tenant, each with a `tenant.yaml`, or one tenant
    /// folder itself.
    pub drop_root: PathBuf,
    /// How long a tenant folder's files must stay unchanged before it is read.
    pub settle: Duration,
    /// Maximum encoded size of one snapshot chunk, in bytes.
    pub max_chunk_bytes: usize,
}

/// The result of one poll for one tenant folder.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderReport {
    /// The tenant folder.
    pub folder: PathBuf,
    /// The tenant id, once a `tenant.yaml` of the folder was read.
    pub tenant: Option<TenantId>,
    /// What happened.
    pub status: FolderStatus,
}

/// The state of one tenant folder after one poll.
#[derive(Debug, Clone, PartialEq)]
pub enum FolderStatus {
    /// A file changed within the settle time, so the folder was not read.
    Settling,
    /// Nothing changed since the last read, and nothing is waiting to be published again.
    Unchanged,
    /// A file changed while the folder was read. The read was discarded and the settle
    /// time starts again.
    ChangedDuringRead,
    /// `tenant.yaml` is missing or invalid, or its tenant id is taken by another folder.
    /// No source of the tenant was read.
    TenantFailed {
        /// The problem and its fix.
        message: String,
    },
    /// The folder was read.
    Read {
        /// Each source and what became of it.
        sources: Vec<SourceReport>,
    },
}

/// The result of one read for one source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceReport {
    /// The source.
    pub source: SourceId,
    /// What happened.
    pub outcome: SourceOutcome,
}

/// The outcome of one source in a read.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceOutcome {
    /// Published and acknowledged.
    Published {
        /// The snapshot id of the chunks.
        snapshot_id: Uuid,
        /// The content hash.
        content_hash: ContentHash,
        /// Number of chunks.
        chunks: usize,
    },
    /// The content hash equals the last one published, so nothing was sent.
    Unchanged {
        /// The content hash.
        content_hash: ContentHash,
    },
    /// A file of the source could not be read. Nothing was published, so the last good
    /// snapshot stays in effect.
    Failed {
        /// The problems, errors first.
        problems: Vec<Diagnostic>,
    },
    /// A record is too large for a chunk of its own, so the source cannot be published.
    TooLarge {
        /// The error, naming the record.
        error: String,
    },
    /// Publishing failed. No hash was recorded, so the next poll tries again with the same
    /// snapshot id.
    PublishFailed {
        /// The error.
        error: String,
    },
}

/// The connector's record of one tenant folder between polls.
#[derive(Debug)]
struct Folder {
    settling: Settling,
    /// The listing of the last read that completed, publications included.
    read: Option<BTreeMap<PathBuf, Fingerprint>>,
    /// The tenant id of the last successful `tenant.yaml` read.
    tenant: Option<TenantId>,
    /// The sources of the last successful `tenant.yaml` read.
    sources: Vec<SourceId>,
}

/// The file connector: call [`FileConnector::poll`] on an interval, or [`FileConnector::run`].
#[derive(Debug)]
pub struct FileConnector {
    settings: Settings,
    publisher: Publisher,
    state: State,
    metrics: ConnectorMetrics,
    folders: BTreeMap<PathBuf, Folder>,
    /// Snapshot ids of publications that failed, by tenant and source, with the content
    /// hash they were for. A retry of the same content reuses the id, so JetStream drops
    /// the chunks it already stored within its duplicate window.
    unacknowledged: HashMap<(String, String), (ContentHash, Uuid)>,
    /// Sync reports that JetStream did not acknowledge yet.
    outbox: Outbox,
}

impl FileConnector {
    /// Creates a connector that publishes through `publisher` and remembers what it
    /// published in `state`.
    pub fn new(
        settings: Settings,
        publisher: Publisher,
        state: State,
        metrics: ConnectorMetrics,
    ) -> Self {
        Self {
            settings,
            publisher,
            state,
            metrics,
            folders: BTreeMap::new(),
            unacknowledged: HashMap::new(),
            outbox: Outbox::default(),
        }
    }

    /// Returns the published-hash state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Polls every `interval` until `stop` is cancelled. A poll that is running when
    /// `stop` is cancelled finishes the folder it is in and returns.
    pub async fn run(mut self, interval: Duration, stop: CancellationToken) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            self.poll_until(&stop).await;
        }
    }

    /// Polls every tenant folder once.
    pub async fn poll(&mut self) -> Vec<FolderReport> {
        self.poll_until(&CancellationToken::new()).await
    }

    async fn poll_until(&mut self, stop: &CancellationToken) -> Vec<FolderReport> {
        self.outbox.begin_poll();
        self.outbox.retry(&self.publisher, &self.metrics).await;
        let root = self.settings.drop_root.clone();
        let found = tokio::task::spawn_blocking(move || find_tenants(&[root])).await;
        let dirs = match found {
            Ok(Ok(dirs)) => dirs,
            Ok(Err(error)) => {
                tracing::error!(drop_root = %self.settings.drop_root.display(), %error, "cannot list the drop folder");
                self.metrics.error("", "", Stage::List);
                return Vec::new();
            }
            Err(error) => {
                tracing::error!(%error, "listing the drop folder stopped unexpectedly");
                self.metrics.error("", "", Stage::List);
                return Vec::new();
            }
        };
        // A folder that was removed is forgotten. Its tenant's last snapshots stay in
        // effect in the engine until a folder publishes that tenant again.
        self.folders.retain(|path, _| dirs.contains(path));

        let mut reports = Vec::with_capacity(dirs.len());
        // Tenant ids that folders hold, so that a second folder with the same id is
        // rejected instead of publishing over the first one's snapshots.
        let mut claimed: BTreeMap<TenantId, PathBuf> = BTreeMap::new();
        for (path, folder) in &self.folders {
            if let Some(tenant) = &folder.tenant {
                claimed.entry(tenant.clone()).or_insert_with(|| path.clone());
            }
        }
        for dir in dirs {
            if stop.is_cancelled() {
                break;
            }
            let status = self.poll_folder(&dir, &mut claimed).await;
            let tenant = self.folders.get(&dir).and_then(|f| f.tenant.clone());
            reports.push(FolderReport { folder: dir, tenant, status });
        }
        reports
    }

    async fn poll_folder(
        &mut self,
        dir: &Path,
        claimed: &mut BTreeMap<TenantId, PathBuf>,
    ) -> FolderStatus {
        let listing = list_blocking(dir).await;
        let label = self.tenant_label(dir);
        self.metrics
            .files_seen
            .get_or_create(&TenantLabels { tenant: label.clone() })
            .set(i64::try_from(listing.files.len()).unwrap_or(i64::MAX));
        self.metrics
            .temporary_files
            .get_or_create(&TenantLabels { tenant: label.clone() })
            .set(i64::try_from(listing.temporary).unwrap_or(i64::MAX));
        for problem in &listing.problems {
            tracing::warn!(tenant = %label, folder = %dir.display(), %problem, "cannot list part of the tenant folder");
            self.metrics.error(&label, "", Stage::List);
        }

        let now = Instant::now();
        let settle = self.settings.settle;
        let folder = self.folders.entry(dir.to_path_buf()).or_insert_with(|| Folder {
            settling: Settling::new(listing.files.clone(), now),
            read: None,
            tenant: None,
            sources: Vec::new(),
        });
        if !folder.settling.observe(&listing.files, now, settle) {
            tracing::debug!(tenant = %label, folder = %dir.display(), "waiting for the folder to settle");
            return FolderStatus::Settling;
        }
        let retry_pending = folder
            .tenant
            .as_ref()
            .is_some_and(|tenant| self.unacknowledged.keys().any(|(t, _)| t == tenant.as_str()));
        if folder.read.as_ref() == Some(&listing.files) && !retry_pending {
            return FolderStatus::Unchanged;
        }

        self.metrics.reads.get_or_create(&TenantLabels { tenant: label.clone() }).inc();
        let started_at = Utc::now();
        let read = read_blocking(dir).await;
        let after = list_blocking(dir).await;
        if after.files != listing.files {
            tracing::info!(tenant = %label, folder = %dir.display(), "a file changed while the folder was read; reading it again once it settles");
            if let Some(folder) = self.folders.get_mut(dir) {
                folder.settling.restart(after.files, Instant::now());
            }
            return FolderStatus::ChangedDuringRead;
        }

        let status = match read {
            Err(error) => {
                let message = error.to_string();
                self.report_tenant_failure(dir, started_at, &message).await;
                // Content that failed to publish before is no longer what the folder
                // contains, and retrying it would make every poll read the folder again.
                if let Some(tenant) = self.folders.get(dir).and_then(|f| f.tenant.as_ref()) {
                    self.unacknowledged.retain(|(owner, _), _| owner != tenant.as_str());
                }
                self.tenant_failed(dir, &label, message)
            }
            Ok(read) => match claimed.get(&read.tenant).filter(|other| *other != dir) {
                Some(other) => {
                    let message = format!(
                        "`{}` has the tenant id `{}`, which `{}` already uses; give each tenant folder its own `tenant.id`",
                        dir.join("tenant.yaml").display(),
                        read.tenant,
                        other.join("tenant.yaml").display()
                    );
                    // No sync report: it would fail the other folder's tenant.
                    self.tenant_failed(dir, &label, message)
                }
                None => {
                    claimed.insert(read.tenant.clone(), dir.to_path_buf());
                    self.publish_read(dir, read, started_at).await
                }
            },
        };
        if let Some(folder) = self.folders.get_mut(dir) {
            folder.read = Some(listing.files);
        }
        status
    }

    /// Returns the `tenant` label of a folder: its tenant id once known, else its name.
    fn tenant_label(&self, dir: &Path) -> String {
        match self.folders.get(dir).and_then(|f| f.tenant.as_ref()) {
            Some(tenant) => tenant.to_string(),
            None => dir.file_name().map_or_else(
                || dir.display().to_string(),
                |name| name.to_string_lossy().into_owned(),
            ),
        }
    }

    fn tenant_failed(&self, dir: &Path, label: &str, message: String) -> FolderStatus {
        tracing::error!(tenant = %label, folder = %dir.display(), error = %message, "tenant folder not read");
        self.metrics.error(label, "", Stage::TenantFile);
        FolderStatus::TenantFailed { message }
    }

    /// Publishes a failed sync report, naming `tenant.yaml`, for every source the folder's
    /// tenant had. A folder whose `tenant.yaml` was never read has no tenant id to report
    /// under, so its problem is only logged and counted.
    async fn report_tenant_failure(
        &mut self,
        dir: &Path,
        started_at: DateTime<Utc>,
        message: &str,
    ) {
        let Some(folder) = self.folders.get(dir) else { return };
        let Some(tenant) = folder.tenant.clone() else { return };
        let mut sources = folder.sources.clone();
        for name in self.state.sources(tenant.as_str()) {
            if let Ok(source) = name.parse::<SourceId>()
                && !sources.contains(&source)
            {
                sources.push(source);
            }
        }
        for source in sources {
            let problem = InputProblem {
                input: TENANT_FILE.to_owned(),
                location: None,
                message: message.to_owned(),
                fatal: true,
            };
            let attempt = Attempt {
                started_at,
                outcome: SyncOutcome::Failed,
                snapshot_id: None,
                content_hash: None,
                problems: vec![problem],
            };
            self.outbox.send(&self.publisher, &self.metrics, &tenant, &source, attempt).await;
        }
    }

    async fn publish_read(
        &mut self,
        dir: &Path,
        read: TenantRead,
        started_at: DateTime<Utc>,
    ) -> FolderStatus {
        let tenant = read.tenant.clone();
        if let Some(folder) = self.folders.get_mut(dir) {
            folder.tenant = Some(tenant.clone());
            folder.sources = read.sources.iter().map(|s| s.source.clone()).collect();
        }
        for note in &read.unassigned {
            tracing::warn!(tenant = %tenant, file = %note.file.display(), problem = %note, "file belongs to no source");
        }
        let mut sources = Vec::with_capacity(read.sources.len());
        for source in read.sources {
            let id = source.source.clone();
            let outcome = self.publish_source(&tenant, source, started_at).await;
            sources.push(SourceReport { source: id, outcome });
        }
        // A retry is owed only for sources the folder still has. Otherwise a source
        // removed from tenant.yaml would make every poll read the folder again.
        self.unacknowledged.retain(|(owner, source), _| {
            owner != tenant.as_str() || sources.iter().any(|s| s.source.to_string() == *source)
        });
        FolderStatus::Read { sources }
    }
}

/// Lists `dir` on the blocking thread pool, because a network volume can be slow.
async fn list_blocking(dir: &Path) -> Listing {
    let owned = dir.to_path_buf();
    match tokio::task::spawn_blocking(move || list(&owned)).await {
        Ok(listing) => listing,
        Err(error) => Listing {
            problems: vec![format!("listing `{}` stopped unexpectedly: {error}", dir.display())],
            ..Listing::default()
        },
    }
}

/// Reads the tenant folder on the blocking thread pool, as of now.
///
/// NOTE: an EHR account whose end date passes is disabled by the reader, but the folder
/// is read again only when a file changes, so the disabling reaches the engine with the
/// next changed export.
async fn read_blocking(dir: &Path) -> Result<TenantRead, ReadFailure> {
    let owned = dir.to_path_buf();
    match tokio::task::spawn_blocking(move || read_tenant(&owned, Utc::now())).await {
        Ok(Ok(read)) => Ok(read),
        Ok(Err(error)) => Err(ReadFailure::Load(error)),
        Err(error) => Err(ReadFailure::Panicked(error.to_string())),
    }
}

/// A failure to read a tenant folder.
#[derive(Debug, thiserror::Error)]
enum ReadFailure {
    #[error("{0}")]
    Load(LoadError),
    #[error("reading the folder stopped unexpectedly: {0}")]
    Panicked(String),
}

//! The connector's Prometheus metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of a tenant folder's metrics. `tenant` is the tenant id from `tenant.yaml`, or
/// the folder name while no `tenant.yaml` of the folder has been read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct TenantLabels {
    /// Tenant id or folder name.
    pub tenant: String,
}

/// Labels of one source of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct SourceLabels {
    /// Tenant id.
    pub tenant: String,
    /// Source id, such as `entra` or `ehr:athenahealth`.
    pub source: String,
}

/// Labels of an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ErrorLabels {
    /// Tenant id, or the folder name when `tenant.yaml` is unreadable.
    pub tenant: String,
    /// Source id; empty for an error of the whole folder.
    pub source: String,
    /// The step that failed: `list`, `tenant_file`, `read`, `split`, `publish`, `state`
    /// or `report`.
    pub stage: String,
}

/// The step of a poll in which an error happened: the `stage` label of `errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Listing the folder's files.
    List,
    /// Reading `tenant.yaml`, which stops the tenant.
    TenantFile,
    /// Reading a source's exports.
    Read,
    /// Cutting a snapshot into chunks.
    Split,
    /// Publishing to JetStream.
    Publish,
    /// Writing the state file.
    State,
    /// Publishing a sync report.
    Report,
}

impl Stage {
    /// Returns the label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::List => "list",
            Stage::TenantFile => "tenant_file",
            Stage::Read => "read",
            Stage::Split => "split",
            Stage::Publish => "publish",
            Stage::State => "state",
            Stage::Report => "report",
        }
    }
}

/// The connector's metrics. Clones share the same values; register them once with
/// [`ConnectorMetrics::register`].
#[derive(Debug, Clone, Default)]
pub struct ConnectorMetrics {
    /// Files in the tenant folder at the last poll, temporary uploads excluded.
    pub files_seen: Family<TenantLabels, Gauge>,
    /// Temporary uploads in the tenant folder at the last poll.
    pub temporary_files: Family<TenantLabels, Gauge>,
    /// Times a settled, changed folder was read.
    pub reads: Family<TenantLabels, Counter>,
    /// Snapshots published and acknowledged.
    pub snapshots_published: Family<SourceLabels, Counter>,
    /// Bytes of the chunks of published snapshots, protobuf encoded.
    pub published_bytes: Family<SourceLabels, Counter>,
    /// Sources read whose content hash equals the last one published.
    pub unchanged: Family<SourceLabels, Counter>,
    /// Errors by tenant, source and stage.
    pub errors: Family<ErrorLabels, Counter>,
    /// Unix time in seconds of the last acknowledged publication.
    pub last_publish_seconds: Family<SourceLabels, Gauge>,
}

impl ConnectorMetrics {
    /// Creates metrics with every value at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers every metric in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "files_seen",
            "Files in the tenant folder at the last poll, temporary uploads excluded",
            self.files_seen.clone(),
        );
        registry.register(
            "temporary_files",
            "Temporary uploads in the tenant folder at the last poll, not read",
            self.temporary_files.clone(),
        );
        registry.register(
            "folder_reads",
            "Times a settled, changed tenant folder was read",
            self.reads.clone(),
        );
        registry.register(
            "snapshots_published",
            "Source snapshots published and acknowledged by JetStream",
            self.snapshots_published.clone(),
        );
        registry.register(
            "published_bytes",
            "Protobuf bytes of the chunks of published snapshots",
            self.published_bytes.clone(),
        );
        registry.register(
            "snapshots_unchanged",
            "Sources read whose content hash equals the last one published",
            self.unchanged.clone(),
        );
        registry.register("errors", "Errors by tenant, source and stage", self.errors.clone());
        registry.register(
            "last_publish_timestamp_seconds",
            "Unix time of the last acknowledged publication of the source",
            self.last_publish_seconds.clone(),
        );
    }

    /// Counts an error.
    pub fn error(&self, tenant: &str, source: &str, stage: Stage) {
        let labels = ErrorLabels {
            tenant: tenant.to_owned(),
            source: source.to_owned(),
            stage: stage.as_str().to_owned(),
        };
        self.errors.get_or_create(&labels).inc();
    }
}

//! Sync reports: the outcome of one connector's attempt to read one source, and their
//! conversions between the domain and `rollcall.v1`.

use chrono::{DateTime, Utc};
use rollcall_core::TenantId;
use rollcall_core::model::SourceId;
use uuid::Uuid;

use crate::error::ConvertError;
use crate::hash::{ContentHash, hash_from_proto};
use crate::v1;
use crate::wire::{
    enum_from_proto, required_timestamp_from_proto, source_from_proto, tenant_from_proto,
    timestamp_to_proto, uuid_from_proto,
};

/// Result of one sync attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncOutcome {
    /// The source was read completely. A snapshot went out unless the content was
    /// unchanged.
    Ok,
    /// The source could not be read completely and nothing was published.
    Failed,
}

/// One problem met while reading a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// The file name relative to the tenant folder, or the endpoint that was read.
    pub input: String,
    /// Place in the input, such as `line 14`, when the problem concerns one place.
    pub location: Option<String>,
    /// Description of the problem and of the fix.
    pub message: String,
    /// Whether the problem stopped the source from being published.
    pub fatal: bool,
}

/// The outcome of one sync attempt of one source, published on
/// `rollcall.<tenant>.source.<source>.sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Id, new for each attempt, and the NATS message id.
    pub report_id: Uuid,
    /// Tenant.
    pub tenant: TenantId,
    /// Source that was read.
    pub source: SourceId,
    /// When the attempt started.
    pub started_at: DateTime<Utc>,
    /// When it ended, not before `started_at`.
    pub finished_at: DateTime<Utc>,
    /// Result.
    pub outcome: SyncOutcome,
    /// The snapshot the attempt published, if any.
    pub snapshot_id: Option<Uuid>,
    /// Content hash of the source as read; set exactly when the outcome is
    /// [`SyncOutcome::Ok`].
    pub content_hash: Option<ContentHash>,
    /// Problems met, fatal ones first.
    pub problems: Vec<InputProblem>,
    /// Name of the connector, such as `file-connector`.
    pub connector: String,
}

/// Converts a sync report into its `rollcall.v1.SyncReport` message. Fatal problems are
/// written first, each group in the report's order.
pub fn sync_report_to_proto(report: &SyncReport) -> v1::SyncReport {
    let outcome = match report.outcome {
        SyncOutcome::Ok => v1::SyncOutcome::Ok,
        SyncOutcome::Failed => v1::SyncOutcome::Failed,
    };
    let fatal_first = report
        .problems
        .iter()
        .filter(|p| p.fatal)
        .chain(report.problems.iter().filter(|p| !p.fatal));
    v1::SyncReport {
        report_id: report.report_id.hyphenated().to_string(),
        tenant: report.tenant.as_str().to_owned(),
        source: report.source.to_string(),
        started_at: Some(timestamp_to_proto(report.started_at)),
        finished_at: Some(timestamp_to_proto(report.finished_at)),
        outcome: outcome.into(),
        snapshot_id: report.snapshot_id.map(|id| id.hyphenated().to_string()),
        content_sha256: report.content_hash.map(|hash| hash.to_string()),
        problems: fatal_first
            .map(|p| v1::InputProblem {
                input: p.input.clone(),
                location: p.location.clone(),
                message: p.message.clone(),
                fatal: p.fatal,
            })
            .collect(),
        connector: report.connector.clone(),
    }
}

/// Converts a `rollcall.v1.SyncReport` message into a sync report.
///
/// # Errors
///
/// A [`ConvertError`] naming the first invalid field: an invalid id, tenant, source or
/// hash, an unset time or outcome, an empty `connector` or problem text, a `finished_at`
/// before `started_at`, a failed report without a fatal problem, a successful one with a
/// fatal problem or without its content hash, or a snapshot id on a failed report.
pub fn sync_report_from_proto(message: v1::SyncReport) -> Result<SyncReport, ConvertError> {
    let outcome = match enum_from_proto(message.outcome, "outcome")? {
        v1::SyncOutcome::Unspecified => return Err(ConvertError::missing("outcome")),
        v1::SyncOutcome::Ok => SyncOutcome::Ok,
        v1::SyncOutcome::Failed => SyncOutcome::Failed,
    };
    let started_at = required_timestamp_from_proto(message.started_at, "started_at")?;
    let finished_at = required_timestamp_from_proto(message.finished_at, "finished_at")?;
    if finished_at < started_at {
        return Err(ConvertError::Before {
            field: "finished_at".to_owned(),
            value: finished_at.to_rfc3339(),
            other: "started_at".to_owned(),
            other_value: started_at.to_rfc3339(),
        });
    }
    if message.connector.is_empty() {
        return Err(ConvertError::missing("connector"));
    }
    let mut problems = Vec::with_capacity(message.problems.len());
    for (index, problem) in message.problems.into_iter().enumerate() {
        if problem.input.is_empty() {
            return Err(ConvertError::missing(&format!("problems[{index}].input")));
        }
        if problem.message.is_empty() {
            return Err(ConvertError::missing(&format!("problems[{index}].message")));
        }
        problems.push(InputProblem {
            input: problem.input,
            location: problem.location,
            message: problem.message,
            fatal: problem.fatal,
        });
    }
    let has_fatal = problems.iter().any(|p| p.fatal);
    let content_hash =
        message.content_sha256.map(|h| hash_from_proto(&h, "content_sha256")).transpose()?;
    let snapshot_id =
        message.snapshot_id.map(|id| uuid_from_proto(id, "snapshot_id")).transpose()?;
    match outcome {
        SyncOutcome::Failed if !has_fatal => return Err(ConvertError::missing("problems")),
        SyncOutcome::Failed if content_hash.is_some() => {
            return Err(ConvertError::Unexpected {
                field: "content_sha256".to_owned(),
                reason: "the outcome is SYNC_OUTCOME_FAILED",
            });
        }
        SyncOutcome::Failed if snapshot_id.is_some() => {
            return Err(ConvertError::Unexpected {
                field: "snapshot_id".to_owned(),
                reason: "the outcome is SYNC_OUTCOME_FAILED",
            });
        }
        SyncOutcome::Ok if has_fatal => {
            return Err(ConvertError::Unexpected {
                field: "problems.fatal".to_owned(),
                reason: "the outcome is SYNC_OUTCOME_OK",
            });
        }
        SyncOutcome::Ok if content_hash.is_none() => {
            return Err(ConvertError::missing("content_sha256"));
        }
        SyncOutcome::Ok | SyncOutcome::Failed => {}
    }
    Ok(SyncReport {
        report_id: uuid_from_proto(message.report_id, "report_id")?,
        tenant: tenant_from_proto(message.tenant, "tenant")?,
        source: source_from_proto(message.source, "source")?,
        started_at,
        finished_at,
        outcome,
        snapshot_id,
        content_hash,
        problems,
        connector: message.connector,
    })
}

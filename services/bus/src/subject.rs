//! NATS subjects and stream names of the Rollcall bus.
//!
//! Every subject starts with the namespace's prefix (`rollcall` in production) and the
//! tenant id, so that one stream carries every tenant and a consumer can filter by tenant
//! with a wildcard:
//!
//! | Message | Subject |
//! | --- | --- |
//! | snapshot chunk | `rollcall.<tenant>.source.<source>.snapshot` |
//! | snapshot delta | `rollcall.<tenant>.source.<source>.delta` |
//! | sync report | `rollcall.<tenant>.source.<source>.sync` |
//! | HR event | `rollcall.<tenant>.hr.event` |
//! | finding event | `rollcall.<tenant>.finding.<opened\|updated\|resolved>` |
//! | dead letter | `rollcall.<tenant>.deadletter.<snapshot\|delta\|sync\|hr\|finding>` |
//!
//! The builders validate the tenant id and source id with the rules of `rollcall-core`.
//! Those rules allow lowercase letters, digits, `-`, `_` and the `:` of `ehr:<vendor>`, so
//! a value taken from a message can never add a token, a `*` or a `>` to a subject.

use std::fmt;
use std::str::FromStr;

use rollcall_core::TenantId;
use rollcall_core::model::SourceId;
use rollcall_proto::v1::FindingEventType;

/// A subject token or stream name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// The tenant id breaks the tenant id rules.
    #[error(
        "invalid tenant id `{0}` for a NATS subject: use 1 to 63 lowercase letters, digits and `-`, starting with a letter or digit"
    )]
    InvalidTenant(String),
    /// The source id is not `entra`, `ldap`, `hr` or `ehr:<vendor>` with an optional
    /// instance name.
    #[error(
        "invalid source id `{0}` for a NATS subject: use `entra`, `ldap`, `hr` or `ehr:<vendor>`, with an optional `:<instance>` of lowercase letters, digits, `-` and `_`"
    )]
    InvalidSource(String),
    /// The finding event type is unspecified or unknown.
    #[error(
        "finding event type `{0}` has no subject: set the event's type to opened, updated or resolved"
    )]
    InvalidFindingType(i32),
    /// A namespace prefix is empty or has characters that subjects or stream names reject.
    #[error("invalid {what} `{value}`: use 1 to 32 ASCII letters, digits, `-` and `_`")]
    InvalidPrefix {
        /// The name of the prefix: the subject prefix or the stream-name prefix.
        what: &'static str,
        /// The rejected prefix.
        value: String,
    },
}

/// The kind of a message on the bus, which also names its dead-letter subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A `SnapshotChunk`, one part of a source snapshot.
    Snapshot,
    /// A `SnapshotDelta`.
    Delta,
    /// A `SyncReport`, the outcome of one connector's sync attempt.
    SyncReport,
    /// An `HrEvent`.
    HrEvent,
    /// A `FindingEvent`.
    Finding,
}

impl MessageKind {
    /// Returns the kind's token in dead-letter subjects and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Snapshot => "snapshot",
            MessageKind::Delta => "delta",
            MessageKind::SyncReport => "sync",
            MessageKind::HrEvent => "hr",
            MessageKind::Finding => "finding",
        }
    }

    /// Returns the stream that stores messages of this kind.
    pub fn stream(self) -> StreamFamily {
        match self {
            MessageKind::Snapshot | MessageKind::Delta | MessageKind::SyncReport => {
                StreamFamily::Source
            }
            MessageKind::HrEvent => StreamFamily::Hr,
            MessageKind::Finding => StreamFamily::Finding,
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of the bus's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamFamily {
    /// Snapshot chunks, deltas and sync reports from the connectors: `<prefix>.*.source.>`.
    Source,
    /// HR events: `<prefix>.*.hr.>`.
    Hr,
    /// Finding events from the engine: `<prefix>.*.finding.>`.
    Finding,
    /// Messages that consumers gave up on: `<prefix>.*.deadletter.>`.
    DeadLetter,
}

impl StreamFamily {
    /// Every stream, in the order they are created.
    pub const ALL: [StreamFamily; 4] =
        [StreamFamily::Source, StreamFamily::Hr, StreamFamily::Finding, StreamFamily::DeadLetter];

    /// Returns the third token of the family's subjects, which in upper case is also the
    /// suffix of its stream name.
    pub fn token(self) -> &'static str {
        match self {
            StreamFamily::Source => "source",
            StreamFamily::Hr => "hr",
            StreamFamily::Finding => "finding",
            StreamFamily::DeadLetter => "deadletter",
        }
    }
}

/// The subject prefix and stream-name prefix that the bus's names start with.
///
/// Production uses [`Namespace::default`]: subjects under `rollcall.` and streams named
/// `ROLLCALL_*`. Tests use a namespace of their own so that they can run beside each other
/// on one server and delete what they created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    subject_prefix: String,
    stream_prefix: String,
}

impl Default for Namespace {
    fn default() -> Self {
        Self { subject_prefix: "rollcall".to_owned(), stream_prefix: "ROLLCALL".to_owned() }
    }
}

impl Namespace {
    /// Creates a namespace whose subjects start with `subject_prefix.` and whose stream
    /// names start with `stream_prefix_`.
    ///
    /// # Errors
    ///
    /// [`SubjectError::InvalidPrefix`] when a prefix is empty, longer than 32 bytes, or
    /// has a character other than ASCII letters, digits, `-` and `_`.
    pub fn new(subject_prefix: &str, stream_prefix: &str) -> Result<Self, SubjectError> {
        check_prefix("subject prefix", subject_prefix)?;
        check_prefix("stream name prefix", stream_prefix)?;
        Ok(Self {
            subject_prefix: subject_prefix.to_owned(),
            stream_prefix: stream_prefix.to_owned(),
        })
    }

    /// Returns the first token of every subject.
    pub fn subject_prefix(&self) -> &str {
        &self.subject_prefix
    }

    /// Returns the start of every stream name, before `_` and the family.
    pub fn stream_prefix(&self) -> &str {
        &self.stream_prefix
    }

    /// Returns the name of the stream of `family`, such as `ROLLCALL_SOURCE`.
    pub fn stream_name(&self, family: StreamFamily) -> String {
        format!("{}_{}", self.stream_prefix, family.token().to_ascii_uppercase())
    }

    /// Returns the subject filter that the stream of `family` captures, such as
    /// `rollcall.*.source.>`.
    pub fn stream_subjects(&self, family: StreamFamily) -> String {
        format!("{}.*.{}.>", self.subject_prefix, family.token())
    }

    /// Returns the subject filter that matches every message of `kind` of every tenant,
    /// for a consumer's filter.
    pub fn kind_filter(&self, kind: MessageKind) -> String {
        let prefix = &self.subject_prefix;
        match kind {
            MessageKind::Snapshot => format!("{prefix}.*.source.*.snapshot"),
            MessageKind::Delta => format!("{prefix}.*.source.*.delta"),
            MessageKind::SyncReport => format!("{prefix}.*.source.*.sync"),
            MessageKind::HrEvent => format!("{prefix}.*.hr.event"),
            MessageKind::Finding => format!("{prefix}.*.finding.*"),
        }
    }

    /// Returns `<prefix>.<tenant>.source.<source>.snapshot`.
    ///
    /// # Errors
    ///
    /// [`SubjectError::InvalidTenant`] or [`SubjectError::InvalidSource`].
    pub fn snapshot_subject(&self, tenant: &str, source: &str) -> Result<String, SubjectError> {
        let tenant = valid_tenant(tenant)?;
        let source = valid_source(source)?;
        Ok(format!("{}.{tenant}.source.{source}.snapshot", self.subject_prefix))
    }

    /// Returns `<prefix>.<tenant>.source.<source>.delta`.
    ///
    /// # Errors
    ///
    /// [`SubjectError::InvalidTenant`] or [`SubjectError::InvalidSource`].
    pub fn delta_subject(&self, tenant: &str, source: &str) -> Result<String, SubjectError> {
        let tenant = valid_tenant(tenant)?;
        let source = valid_source(source)?;
        Ok(format!("{}.{tenant}.source.{source}.delta", self.subject_prefix))
    }

    /// Returns `<prefix>.<tenant>.source.<source>.sync`.
    ///
    /// # Errors
    ///
    /// [`SubjectError::InvalidTenant`] or [`SubjectError::InvalidSource`].
    pub fn sync_report_subject(&self, tenant: &str, source: &str) -> Result<String, SubjectError> {
        let tenant = valid_tenant(tenant)?;
        let source = valid_source(source)?;
        Ok(format!("{}.{tenant}.source.{source}.sync", self.subject_prefix))
    }

    /// Returns `<prefix>.<tenant>.hr.event`.
    ///
    /// # Errors
    ///
    /// [`SubjectError::InvalidTenant`].
    pub fn hr_event_subject(&self, tenant: &str) -> Result<String, SubjectError> {
        let tenant = valid_tenant(tenant)?;
        Ok(format!("{}.{tenant}.hr.event", self.subject_prefix))
    }

    /// Returns `<prefix>.<tenant>.finding.<type>`, where the type is `opened`, `updated` or
    /// `resolved`. `event_type` is the raw `FindingEvent.type` value.
    ///
    /// # Errors
    ///
    /// [`SubjectError::InvalidTenant`], or [`SubjectError::InvalidFindingType`] for an
    /// unspecified or unknown type.
    pub fn finding_subject(&self, tenant: &str, event_type: i32) -> Result<String, SubjectError> {
        let tenant = valid_tenant(tenant)?;
        let token = match FindingEventType::try_from(event_type) {
            Ok(FindingEventType::Opened) => "opened",
            Ok(FindingEventType::Updated) => "updated",
            Ok(FindingEventType::Resolved) => "resolved",
            Ok(FindingEventType::Unspecified) | Err(_) => {
                return Err(SubjectError::InvalidFindingType(event_type));
            }
        };
        Ok(format!("{}.{tenant}.finding.{token}", self.subject_prefix))
    }

    /// Returns `<prefix>.<tenant>.deadletter.<kind>`.
    ///
    /// # Errors
    ///
    /// [`SubjectError::InvalidTenant`].
    pub fn dead_letter_subject(
        &self,
        tenant: &str,
        kind: MessageKind,
    ) -> Result<String, SubjectError> {
        let tenant = valid_tenant(tenant)?;
        Ok(format!("{}.{tenant}.deadletter.{kind}", self.subject_prefix))
    }

    /// Returns the tenant token of a subject of this namespace, or `None` when `subject`
    /// does not start with the prefix followed by a valid tenant id.
    pub fn tenant_of<'s>(&self, subject: &'s str) -> Option<&'s str> {
        let rest = subject.strip_prefix(self.subject_prefix.as_str())?.strip_prefix('.')?;
        let tenant = rest.split('.').next()?;
        TenantId::new(tenant).ok().map(|_| tenant)
    }
}

fn check_prefix(what: &'static str, value: &str) -> Result<(), SubjectError> {
    let valid = (1..=32).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid { Ok(()) } else { Err(SubjectError::InvalidPrefix { what, value: value.to_owned() }) }
}

fn valid_tenant(tenant: &str) -> Result<&str, SubjectError> {
    TenantId::new(tenant)
        .map(|_| tenant)
        .map_err(|_| SubjectError::InvalidTenant(tenant.to_owned()))
}

/// Checks `source` with the source id rules, which allow only lowercase letters, digits,
/// `-`, `_` and `:`, none of which is special in a NATS subject.
fn valid_source(source: &str) -> Result<&str, SubjectError> {
    SourceId::from_str(source)
        .map(|_| source)
        .map_err(|_| SubjectError::InvalidSource(source.to_owned()))
}

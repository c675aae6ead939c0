//! Conversions between the `rollcall-core` domain types and the `rollcall.v1` messages.
//!
//! A finding converts to its message without loss. The reverse of a severity can fail,
//! because the wire carries a plain number that may be unset or newer than this build.

use rollcall_core::Finding;
use rollcall_core::Severity;
use rollcall_core::finding::{
    AccountSubject, Citation, EntitlementSubject, Evidence, IdentitySubject, Subject,
};

use crate::v1;

/// A severity number from the wire that has no domain severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SeverityError {
    /// The number is `SEVERITY_UNSPECIFIED`: the publisher did not set a severity.
    #[error(
        "finding severity is unspecified (`0`): the publisher must set info, low, medium, high or critical"
    )]
    Unspecified,
    /// The number is not in this build's schema, such as a severity added after this build.
    #[error(
        "unknown finding severity number `{0}`: upgrade this consumer to a release whose schema has it"
    )]
    Unknown(i32),
}

/// Converts a finding into its `rollcall.v1.Finding` message.
///
/// The citation section gets the `45 CFR ` prefix, as in the JSON report.
pub fn finding_to_proto(finding: &Finding) -> v1::Finding {
    v1::Finding {
        id: finding.id.clone(),
        tenant: finding.tenant.clone(),
        kind: finding.kind.as_str().to_owned(),
        severity: severity_to_proto(finding.severity).into(),
        summary: finding.summary.clone(),
        subject: Some(subject_to_proto(&finding.subject)),
        evidence: finding.evidence.iter().map(evidence_to_proto).collect(),
        citation: Some(citation_to_proto(finding.citation())),
        remediation: finding.remediation().to_owned(),
    }
}

/// Converts a severity into its protobuf enum value.
pub fn severity_to_proto(severity: Severity) -> v1::Severity {
    match severity {
        Severity::Info => v1::Severity::Info,
        Severity::Low => v1::Severity::Low,
        Severity::Medium => v1::Severity::Medium,
        Severity::High => v1::Severity::High,
        Severity::Critical => v1::Severity::Critical,
    }
}

/// Converts a severity number read from the wire, such as `v1::Finding::severity`, into
/// the domain severity.
///
/// # Errors
///
/// [`SeverityError::Unspecified`] for `SEVERITY_UNSPECIFIED` (`0`), and
/// [`SeverityError::Unknown`] for a number the compiled schema does not define.
pub fn severity_from_proto(value: i32) -> Result<Severity, SeverityError> {
    match v1::Severity::try_from(value) {
        Ok(v1::Severity::Unspecified) => Err(SeverityError::Unspecified),
        Ok(v1::Severity::Info) => Ok(Severity::Info),
        Ok(v1::Severity::Low) => Ok(Severity::Low),
        Ok(v1::Severity::Medium) => Ok(Severity::Medium),
        Ok(v1::Severity::High) => Ok(Severity::High),
        Ok(v1::Severity::Critical) => Ok(Severity::Critical),
        Err(_) => Err(SeverityError::Unknown(value)),
    }
}

fn subject_to_proto(subject: &Subject) -> v1::Subject {
    v1::Subject {
        identity: subject.identity.as_ref().map(identity_to_proto),
        account: subject.account.as_ref().map(account_to_proto),
        entitlement: subject.entitlement.as_ref().map(entitlement_to_proto),
        source: subject.source.as_ref().map(ToString::to_string),
    }
}

fn identity_to_proto(identity: &IdentitySubject) -> v1::IdentitySubject {
    v1::IdentitySubject {
        key: identity.key.clone(),
        name: identity.name.clone(),
        employee_id: identity.employee_id.clone(),
    }
}

fn account_to_proto(account: &AccountSubject) -> v1::AccountSubject {
    v1::AccountSubject {
        source: account.account.source.to_string(),
        id: account.account.id.clone(),
        login: account.login.clone(),
        name: account.name.clone(),
    }
}

fn entitlement_to_proto(entitlement: &EntitlementSubject) -> v1::EntitlementSubject {
    v1::EntitlementSubject {
        source: entitlement.source.to_string(),
        id: entitlement.id.clone(),
        name: entitlement.name.clone(),
    }
}

fn evidence_to_proto(evidence: &Evidence) -> v1::Evidence {
    v1::Evidence {
        source: evidence.source.as_ref().map(ToString::to_string),
        record: evidence.record.clone(),
        field: evidence.field.clone(),
        value: evidence.value.clone(),
    }
}

fn citation_to_proto(citation: Citation) -> v1::Citation {
    v1::Citation {
        section: format!("45 CFR {}", citation.section),
        title: citation.title.to_owned(),
    }
}

/// Builds the `rollcall.v1.FindingEvent` for one change of a finding.
///
/// `occurred_at` is the instant of the evaluation that made the change; `first_seen` and
/// `last_seen` are the finding's lifecycle as the store holds it after that evaluation.
pub fn finding_event(
    event_id: uuid::Uuid,
    event_type: v1::FindingEventType,
    finding: &Finding,
    occurred_at: chrono::DateTime<chrono::Utc>,
    first_seen: chrono::DateTime<chrono::Utc>,
    last_seen: chrono::DateTime<chrono::Utc>,
) -> v1::FindingEvent {
    use crate::wire::timestamp_to_proto;
    v1::FindingEvent {
        event_id: event_id.hyphenated().to_string(),
        tenant: finding.tenant.clone(),
        r#type: event_type.into(),
        finding: Some(finding_to_proto(finding)),
        occurred_at: Some(timestamp_to_proto(occurred_at)),
        first_seen: Some(timestamp_to_proto(first_seen)),
        last_seen: Some(timestamp_to_proto(last_seen)),
    }
}

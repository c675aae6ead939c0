//! Conversions from the domain types to the report schema.

use std::collections::BTreeMap;

use rollcall_core::finding::{Evidence, Subject};
use rollcall_core::{Finding, Severity};
use rollcall_ingest::Diagnostic;

use crate::model::{
    AccountRecord, CitationRecord, DiagnosticRecord, EntitlementRecord, EvidenceRecord,
    FindingRecord, IdentityRecord, SubjectRecord, Summary,
};

/// Converts a finding.
pub fn finding(finding: &Finding) -> FindingRecord {
    let citation = finding.citation();
    FindingRecord {
        id: finding.id.clone(),
        tenant: finding.tenant.clone(),
        kind: finding.kind.as_str(),
        severity: finding.severity.as_str(),
        summary: finding.summary.clone(),
        subject: subject(&finding.subject),
        evidence: finding.evidence.iter().map(evidence).collect(),
        citation: CitationRecord {
            section: format!("45 CFR {}", citation.section),
            title: citation.title,
        },
        remediation: finding.remediation(),
    }
}

fn subject(subject: &Subject) -> SubjectRecord {
    SubjectRecord {
        identity: subject.identity.as_ref().map(|i| IdentityRecord {
            key: i.key.clone(),
            name: i.name.clone(),
            employee_id: i.employee_id.clone(),
        }),
        account: subject.account.as_ref().map(|a| AccountRecord {
            source: a.account.source.to_string(),
            id: a.account.id.clone(),
            login: a.login.clone(),
            name: a.name.clone(),
        }),
        entitlement: subject.entitlement.as_ref().map(|e| EntitlementRecord {
            source: e.source.to_string(),
            id: e.id.clone(),
            name: e.name.clone(),
        }),
        source: subject.source.as_ref().map(ToString::to_string),
    }
}

fn evidence(evidence: &Evidence) -> EvidenceRecord {
    EvidenceRecord {
        source: evidence.source.as_ref().map(ToString::to_string),
        record: evidence.record.clone(),
        field: evidence.field.clone(),
        value: evidence.value.clone(),
    }
}

/// Converts an input diagnostic.
pub fn diagnostic(diagnostic: &Diagnostic) -> DiagnosticRecord {
    DiagnosticRecord {
        level: diagnostic.level.as_str(),
        file: diagnostic.file.display().to_string(),
        location: diagnostic.location.to_string(),
        message: diagnostic.message.clone(),
    }
}

/// Counts `findings` by severity and kind.
pub fn summary<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Summary {
    let mut by_severity: BTreeMap<&'static str, usize> =
        Severity::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut by_kind = BTreeMap::new();
    let mut total = 0;
    for finding in findings {
        total += 1;
        *by_severity.entry(finding.severity.as_str()).or_default() += 1;
        *by_kind.entry(finding.kind.as_str()).or_default() += 1;
    }
    Summary { findings: total, by_severity, by_kind }
}

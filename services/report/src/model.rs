//! The report schema: what `rollcall scan --format json` writes and the engine emits.
//!
//! These types are the wire form. They are built from the domain types of
//! `rollcall-core` by explicit conversion, so a change in the rules cannot change the
//! schema by accident. `docs/report-format.md` documents every field; the version in
//! [`SCHEMA`] changes whenever a field changes meaning or is removed.

use std::collections::BTreeMap;

use serde::Serialize;

/// The schema name and version written into every report.
pub const SCHEMA: &str = "rollcall.scan-report/v1";

/// A whole report: one or several tenants.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The instant time-based rules were evaluated at (RFC 3339, UTC).
    pub as_of: String,
    /// The tool that wrote it.
    pub generator: Generator,
    /// Every tenant, in the order given.
    pub tenants: Vec<TenantReport>,
    /// Every finding of every tenant, most severe first.
    pub findings: Vec<FindingRecord>,
    /// Counts over all tenants.
    pub summary: Summary,
}

/// The tool that wrote the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Generator {
    /// `rollcall`.
    pub name: &'static str,
    /// The version.
    pub version: &'static str,
}

/// One tenant's part of the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenantReport {
    /// The tenant id, or the folder name when `tenant.yaml` could not be read.
    pub id: String,
    /// The practice's name.
    pub name: Option<String>,
    /// The folder read.
    pub path: String,
    /// `evaluated`, or `failed` when the tenant could not be read at all.
    pub status: &'static str,
    /// Why the tenant failed.
    pub error: Option<String>,
    /// What was read from each source.
    pub sources: Vec<SourceSummary>,
    /// Workers in the HR roster, if there is one.
    pub hr_workers: Option<usize>,
    /// People found: HR workers plus groups of accounts HR does not know.
    pub identities: usize,
    /// People who are privileged in at least one source.
    pub privileged_identities: usize,
    /// Problems in the input files.
    pub diagnostics: Vec<DiagnosticRecord>,
    /// Counts of this tenant's findings.
    pub summary: Summary,
}

/// What was read from one source.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceSummary {
    /// `entra`, `ldap`, `ehr:<vendor>`.
    pub source: String,
    /// When the source's data was collected, if the files say.
    pub collected_at: Option<String>,
    /// Accounts.
    pub accounts: usize,
    /// Entitlements.
    pub entitlements: usize,
    /// Direct memberships, nested ones included.
    pub memberships: usize,
}

/// A problem in an input file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DiagnosticRecord {
    /// `info`, `warning` or `error`.
    pub level: &'static str,
    /// The file, relative to the tenant folder.
    pub file: String,
    /// Line, record or JSON path; empty for the whole file.
    pub location: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Finding counts.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Summary {
    /// All findings.
    pub findings: usize,
    /// By severity name; every severity is present, with zero where none.
    pub by_severity: BTreeMap<&'static str, usize>,
    /// By kind name; only kinds that occur.
    pub by_kind: BTreeMap<&'static str, usize>,
}

/// One finding.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FindingRecord {
    /// Stable across runs for the same tenant, kind, subject and detail.
    pub id: String,
    /// The tenant id.
    pub tenant: String,
    /// The rule, such as `mfa_privileged_phone`.
    pub kind: &'static str,
    /// `info`, `low`, `medium`, `high` or `critical`.
    pub severity: &'static str,
    /// One sentence for people.
    pub summary: String,
    /// What the finding is about.
    pub subject: SubjectRecord,
    /// The source values that caused it.
    pub evidence: Vec<EvidenceRecord>,
    /// The HIPAA provision it supports.
    pub citation: CitationRecord,
    /// What to do.
    pub remediation: &'static str,
}

/// What a finding is about; absent parts are omitted.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SubjectRecord {
    /// The person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityRecord>,
    /// The account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountRecord>,
    /// The entitlement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entitlement: Option<EntitlementRecord>,
    /// The source, for tenant-wide findings about one source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A person.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IdentityRecord {
    /// `hr:<employee id>` or `account:<source>/<id>`.
    pub key: String,
    /// The person's name.
    pub name: String,
    /// The HR employee id.
    pub employee_id: Option<String>,
}

/// An account.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccountRecord {
    /// The source.
    pub source: String,
    /// The account id in that source.
    pub id: String,
    /// The login.
    pub login: Option<String>,
    /// The display name.
    pub name: String,
}

/// An entitlement.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntitlementRecord {
    /// The source.
    pub source: String,
    /// The entitlement id in that source.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One value that caused a finding.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvidenceRecord {
    /// The source; absent for HR and policy values.
    pub source: Option<String>,
    /// The record.
    pub record: String,
    /// The field.
    pub field: String,
    /// The value.
    pub value: String,
}

/// A HIPAA citation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CitationRecord {
    /// `45 CFR 164.312(d)`.
    pub section: String,
    /// The provision's title.
    pub title: &'static str,
}

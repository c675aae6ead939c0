//! Assembling a report from evaluated tenants.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use rollcall_core::{Evaluation, Tenant, TenantData};
use rollcall_ingest::Diagnostic;

use crate::convert;
use crate::model::{Generator, Report, SCHEMA, SourceSummary, TenantReport};

/// One tenant folder after reading and evaluation.
pub enum TenantOutcome<'a> {
    /// Read and evaluated.
    Evaluated {
        /// The folder.
        path: &'a Path,
        /// The tenant's settings.
        tenant: &'a Tenant,
        /// The data read.
        data: &'a TenantData,
        /// The findings.
        evaluation: &'a Evaluation,
        /// Problems in its files.
        diagnostics: &'a [Diagnostic],
    },
    /// Could not be read at all (`tenant.yaml` missing or invalid).
    Failed {
        /// The folder.
        path: &'a Path,
        /// Why.
        error: String,
        /// Problems found before it failed.
        diagnostics: &'a [Diagnostic],
    },
}

fn timestamp(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Builds the report for `outcomes` evaluated at `as_of`.
pub fn report(outcomes: &[TenantOutcome<'_>], as_of: DateTime<Utc>) -> Report {
    let mut tenants = Vec::new();
    let mut findings = Vec::new();
    for outcome in outcomes {
        match outcome {
            TenantOutcome::Evaluated { path, tenant, data, evaluation, diagnostics } => {
                let sources = data
                    .sources
                    .iter()
                    .map(|s| SourceSummary {
                        source: s.source.to_string(),
                        collected_at: s.collected_at.map(timestamp),
                        accounts: s.accounts.len(),
                        entitlements: s.entitlements.len(),
                        memberships: s.memberships.len(),
                    })
                    .collect();
                tenants.push(TenantReport {
                    id: tenant.id.to_string(),
                    name: Some(tenant.name.clone()),
                    path: path.display().to_string(),
                    status: "evaluated",
                    error: None,
                    sources,
                    hr_workers: data.hr.as_ref().map(|hr| hr.workers.len()),
                    identities: evaluation.stats.identities,
                    privileged_identities: evaluation.stats.privileged_identities,
                    diagnostics: diagnostics.iter().map(convert::diagnostic).collect(),
                    summary: convert::summary(&evaluation.findings),
                });
                findings.extend(evaluation.findings.iter());
            }
            TenantOutcome::Failed { path, error, diagnostics } => {
                let id = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                tenants.push(TenantReport {
                    id,
                    name: None,
                    path: path.display().to_string(),
                    status: "failed",
                    error: Some(error.clone()),
                    sources: Vec::new(),
                    hr_workers: None,
                    identities: 0,
                    privileged_identities: 0,
                    diagnostics: diagnostics.iter().map(convert::diagnostic).collect(),
                    summary: convert::summary(std::iter::empty()),
                });
            }
        }
    }
    // Most severe first across tenants; within a severity, tenants keep their order.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let summary = convert::summary(findings.iter().copied());
    Report {
        schema: SCHEMA,
        as_of: timestamp(as_of),
        generator: Generator { name: "rollcall", version: env!("CARGO_PKG_VERSION") },
        tenants,
        findings: findings.into_iter().map(convert::finding).collect(),
        summary,
    }
}

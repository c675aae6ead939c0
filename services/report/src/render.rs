//! Writing a report as JSON, CSV or a terminal summary.

use std::io::{self, Write};

use crate::model::{FindingRecord, Report};

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The output stream failed.
    #[error("could not write the report")]
    Io(#[from] io::Error),
    /// The CSV writer failed.
    #[error("could not write the report as CSV")]
    Csv(#[source] csv::Error),
    /// JSON serialisation failed.
    #[error("could not write the report as JSON")]
    Json(#[source] serde_json::Error),
}

impl From<serde_json::Error> for RenderError {
    /// Keeps output failures as I/O errors, so a caller can tell a closed pipe from a
    /// report that cannot be serialised.
    fn from(error: serde_json::Error) -> Self {
        match error.io_error_kind() {
            Some(kind) => RenderError::Io(io::Error::new(kind, error)),
            None => RenderError::Json(error),
        }
    }
}

impl From<csv::Error> for RenderError {
    /// Keeps output failures as I/O errors, as for JSON.
    fn from(error: csv::Error) -> Self {
        match error.kind() {
            csv::ErrorKind::Io(io_error) => RenderError::Io(io::Error::new(io_error.kind(), error)),
            _ => RenderError::Csv(error),
        }
    }
}

/// Writes the report as pretty-printed JSON with a final newline.
pub fn json(report: &Report, mut out: impl Write) -> Result<(), RenderError> {
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 16] = [
    "tenant",
    "id",
    "severity",
    "kind",
    "summary",
    "person",
    "employee_id",
    "account_source",
    "account_id",
    "login",
    "entitlement_source",
    "entitlement",
    "subject_source",
    "evidence",
    "citation",
    "remediation",
];

/// Writes one row per finding. Evidence items are joined as `field=value` with `; `.
pub fn csv(report: &Report, out: impl Write) -> Result<(), RenderError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CSV_COLUMNS)?;
    for finding in &report.findings {
        writer.write_record(csv_row(finding))?;
    }
    writer.flush()?;
    Ok(())
}

fn csv_row(finding: &FindingRecord) -> [String; 16] {
    let subject = &finding.subject;
    let identity = subject.identity.as_ref();
    let account = subject.account.as_ref();
    let entitlement = subject.entitlement.as_ref();
    let evidence = finding
        .evidence
        .iter()
        .map(|e| format!("{}={}", e.field, e.value))
        .collect::<Vec<_>>()
        .join("; ");
    [
        finding.tenant.clone(),
        finding.id.clone(),
        finding.severity.to_owned(),
        finding.kind.to_owned(),
        finding.summary.clone(),
        identity.map(|i| i.name.clone()).unwrap_or_default(),
        identity.and_then(|i| i.employee_id.clone()).unwrap_or_default(),
        account.map(|a| a.source.clone()).unwrap_or_default(),
        account.map(|a| a.id.clone()).unwrap_or_default(),
        account.and_then(|a| a.login.clone()).unwrap_or_default(),
        entitlement.map(|e| e.source.clone()).unwrap_or_default(),
        entitlement.map(|e| e.name.clone()).unwrap_or_default(),
        subject.source.clone().unwrap_or_default(),
        evidence,
        format!("{} {}", finding.citation.section, finding.citation.title),
        finding.remediation.to_owned(),
    ]
}

/// How many findings the terminal summary lists per tenant.
pub const TEXT_TOP_FINDINGS: usize = 15;

/// Writes a terminal summary: per tenant what was read, problems in the files, counts by
/// severity and kind, then the most severe findings.
pub fn text(report: &Report, mut out: impl Write) -> Result<(), RenderError> {
    writeln!(out, "Rollcall scan, rules evaluated at {}", report.as_of)?;
    for tenant in &report.tenants {
        writeln!(out)?;
        match tenant.name.as_deref() {
            Some(name) => writeln!(out, "== {} {name} ({})", tenant.id, tenant.path)?,
            None => writeln!(out, "== {} ({})", tenant.id, tenant.path)?,
        }
        if let Some(error) = &tenant.error {
            writeln!(out, "   not evaluated: {error}")?;
        }
        for source in &tenant.sources {
            writeln!(
                out,
                "   {:<22} {:>6} accounts {:>6} entitlements {:>7} memberships",
                source.source, source.accounts, source.entitlements, source.memberships
            )?;
        }
        if let Some(workers) = tenant.hr_workers {
            writeln!(out, "   {:<22} {workers:>6} workers", "hr")?;
        }
        if tenant.status == "evaluated" {
            writeln!(
                out,
                "   {} people, {} privileged",
                tenant.identities, tenant.privileged_identities
            )?;
        }
        for diagnostic in &tenant.diagnostics {
            let location = if diagnostic.location.is_empty() {
                String::new()
            } else {
                format!(", {}", diagnostic.location)
            };
            writeln!(
                out,
                "   {}: {}{location}: {}",
                diagnostic.level, diagnostic.file, diagnostic.message
            )?;
        }
        if tenant.status != "evaluated" {
            continue;
        }
        let counts: Vec<String> = ["critical", "high", "medium", "low", "info"]
            .iter()
            .map(|s| format!("{} {s}", tenant.summary.by_severity.get(s).copied().unwrap_or(0)))
            .collect();
        writeln!(out, "   {}: {}", plural(tenant.summary.findings, "finding"), counts.join(", "))?;
        for (kind, count) in &tenant.summary.by_kind {
            writeln!(out, "     {count:>4}  {kind}")?;
        }
        let actionable: Vec<&FindingRecord> = report
            .findings
            .iter()
            .filter(|f| f.tenant == tenant.id && f.severity != "info")
            .collect();
        let top: Vec<&FindingRecord> = actionable.iter().copied().take(TEXT_TOP_FINDINGS).collect();
        if !top.is_empty() {
            if top.len() < actionable.len() {
                writeln!(
                    out,
                    "   Most severe ({} of {} above info; --format json or csv lists all):",
                    top.len(),
                    actionable.len()
                )?;
            } else {
                writeln!(out, "   Most severe:")?;
            }
            for finding in top {
                writeln!(
                    out,
                    "   [{:<8}] {:<38} {}",
                    finding.severity, finding.kind, finding.summary
                )?;
            }
        }
    }
    writeln!(out)?;
    let counts: Vec<String> = ["critical", "high", "medium", "low", "info"]
        .iter()
        .map(|s| format!("{} {s}", report.summary.by_severity.get(s).copied().unwrap_or(0)))
        .collect();
    let failed = report.tenants.iter().filter(|t| t.status != "evaluated").count();
    let failed = if failed > 0 { format!(", {failed} not evaluated") } else { String::new() };
    writeln!(
        out,
        "Total: {} in {}{failed} ({})",
        plural(report.summary.findings, "finding"),
        plural(report.tenants.len(), "tenant"),
        counts.join(", ")
    )?;
    Ok(())
}

/// `1 finding`, `2 findings`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

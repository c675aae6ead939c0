//! `rollcall scan`: read one or several tenant folders, evaluate, report.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, ValueEnum};
use rollcall_core::{Evaluation, FindingKind, Severity, evaluate};
use rollcall_ingest::layout::{self, LoadedTenant};
use rollcall_ingest::{Diagnostic, Level};
use rollcall_report::{TenantOutcome, render};

/// Exit status when a finding is at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status when a tenant or an input file could not be read, or, with `--strict`, when
/// an input file had a problem at warning level.
pub const EXIT_INPUT: u8 = 3;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for the terminal.
    Text,
    /// The full report in the documented JSON schema.
    Json,
    /// One row per finding.
    Csv,
}

/// Severities accepted by `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// Arguments of `rollcall scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Tenant folders (each with a tenant.yaml), or folders whose subfolders are tenants.
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Evaluate time-based rules (dormancy, leaver deadlines) at this instant instead of
    /// now: RFC 3339 (2026-12-01T09:00:00-06:00) or a date (midnight UTC).
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_as_of)]
    as_of: Option<DateTime<Utc>>,
    /// Report only findings of this kind (repeatable), such as `mfa_privileged_phone` for
    /// every privileged account with SMS or voice across all tenants. Kinds are listed in
    /// docs/rules.md.
    #[arg(long = "kind", value_name = "KIND", value_parser = parse_kind)]
    kinds: Vec<FindingKind>,
    /// Exit with status 1 when a finding has this severity or higher. An input problem
    /// (status 3) takes precedence.
    #[arg(long, value_enum, value_name = "SEVERITY", ignore_case = true)]
    fail_on: Option<FailOn>,
    /// Exit with status 3 also when an input file has a warning, such as a skipped record or
    /// a file no source names (an unreadable file gives status 3 without this). The report
    /// is still written, without the skipped parts.
    #[arg(long)]
    strict: bool,
}

fn parse_as_of(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    if let Some(midnight) =
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(midnight.and_utc());
    }
    Err(format!(
        "`{text}` is not a timestamp; write RFC 3339 such as 2026-12-01T09:00:00-06:00, or a date such as 2026-12-01"
    ))
}

fn parse_kind(text: &str) -> Result<FindingKind, String> {
    FindingKind::parse(text).ok_or_else(|| {
        let known: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("`{text}` is not a finding kind; use one of {}", known.join(", "))
    })
}

/// Whether writing failed because the reader of standard output went away (`| head`),
/// which is no reason to report an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Writes the report in the chosen format to the chosen sink.
fn write_report(args: &ScanArgs, report: &rollcall_report::Report) -> Result<()> {
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut sink = BufWriter::new(sink);
    match args.format {
        Format::Text => render::text(report, &mut sink),
        Format::Json => render::json(report, &mut sink),
        Format::Csv => render::csv(report, &mut sink),
    }
    .context("cannot write the report")?;
    sink.flush().context("cannot write the report")?;
    Ok(())
}

/// Runs the scan and returns the exit status.
pub fn run(args: &ScanArgs) -> Result<ExitCode> {
    let as_of = args.as_of.unwrap_or_else(Utc::now);
    let dirs = layout::find_tenants(&args.dirs)?;
    if dirs.is_empty() {
        bail!(
            "no tenant.yaml found in {}; point rollcall scan at a tenant folder or at a folder of tenant folders",
            args.dirs.iter().map(|d| format!("`{}`", d.display())).collect::<Vec<_>>().join(", ")
        );
    }

    let mut loaded: Vec<(LoadedTenant, Evaluation)> = Vec::new();
    let mut failed: Vec<(PathBuf, String, Vec<Diagnostic>)> = Vec::new();
    for dir in dirs {
        match layout::load_tenant(&dir, as_of) {
            Ok(tenant) => {
                let mut evaluation = evaluate(&tenant.config.tenant, &tenant.data, as_of);
                if !args.kinds.is_empty() {
                    evaluation.findings.retain(|f| args.kinds.contains(&f.kind));
                }
                loaded.push((tenant, evaluation));
            }
            Err(error) => failed.push((dir, error.to_string(), Vec::new())),
        }
    }

    let mut outcomes: Vec<TenantOutcome<'_>> = Vec::new();
    for (tenant, evaluation) in &loaded {
        outcomes.push(TenantOutcome::Evaluated {
            path: &tenant.dir,
            tenant: &tenant.config.tenant,
            data: &tenant.data,
            evaluation,
            diagnostics: &tenant.diagnostics,
        });
    }
    for (path, error, diagnostics) in &failed {
        outcomes.push(TenantOutcome::Failed { path, error: error.clone(), diagnostics });
    }
    let report = rollcall_report::report(&outcomes, as_of);
    match write_report(args, &report) {
        Err(error) if !is_broken_pipe(&error) => return Err(error),
        _ => {}
    }

    // A file-level error drops part of a source, so findings may be missing: that fails
    // the run. Warnings (a skipped record, an unclaimed file) fail it only with --strict.
    let fatal = if args.strict { Level::Warning } else { Level::Error };
    let problems: Vec<Diagnostic> = loaded
        .iter()
        .flat_map(|(tenant, _)| {
            tenant
                .diagnostics
                .iter()
                .filter(|d| d.level >= fatal)
                .map(|d| Diagnostic { file: tenant.dir.join(&d.file), ..d.clone() })
        })
        .collect();
    if !failed.is_empty() || !problems.is_empty() {
        // A text report on standard output shows these already. Otherwise they go to
        // standard error as well, so that a terminal or CI log names the file to fix.
        if args.format != Format::Text || args.output.is_some() {
            for (path, error, _) in &failed {
                eprintln!("rollcall: cannot read tenant `{}`: {error}", path.display());
            }
            for problem in &problems {
                eprintln!("rollcall: {problem}");
            }
        }
        if args.strict && failed.is_empty() && problems.iter().all(|p| p.level < Level::Error) {
            eprintln!("rollcall: input problems found and --strict is set");
        }
        return Ok(ExitCode::from(EXIT_INPUT));
    }
    if let Some(threshold) = args.fail_on {
        let worst = loaded.iter().flat_map(|(_, e)| e.findings.iter()).map(|f| f.severity).max();
        if worst.is_some_and(|w| w >= threshold.severity()) {
            return Ok(ExitCode::from(EXIT_FINDINGS));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_forms() {
        assert_eq!(parse_as_of("2026-12-01").unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(
            parse_as_of("2026-12-01T09:00:00-06:00").unwrap().to_rfc3339(),
            "2026-12-01T15:00:00+00:00"
        );
        assert!(parse_as_of("12/01/2026").unwrap_err().contains("RFC 3339"));
    }
}

//! The leaver SLA as CSV or JSON, for `rollcall-engine leavers --tenant T`.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use rollcall_store::LeaverSla;
use serde_json::{Value, json};

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per leaver and source, with a header line.
    Csv,
    /// One JSON object per leaver with its sources, in an array.
    Json,
}

/// The CSV columns, in order.
pub const CSV_HEADER: &str = "employee_id,leaver_id,state,effective_at,deadline,closed_at,\
time_to_deprovision_seconds,source,accounts,still_enabled,source_deprovisioned_at,\
source_time_to_deprovision_seconds";

/// Writes `report` to `out` in `format`. A leaver without linked accounts has one CSV
/// line with the source columns empty.
pub fn write(out: &mut impl Write, report: &[LeaverSla], format: Format) -> std::io::Result<()> {
    match format {
        Format::Csv => write_csv(out, report),
        Format::Json => {
            let value = Value::Array(report.iter().map(leaver_json).collect());
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        }
    }
}

fn write_csv(out: &mut impl Write, report: &[LeaverSla]) -> std::io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for entry in report {
        let leaver = &entry.leaver;
        let common = [
            csv_field(&leaver.employee_id),
            leaver.leaver_id.hyphenated().to_string(),
            leaver.state.as_str().to_owned(),
            instant(leaver.effective_at),
            instant(leaver.deadline),
            leaver.closed_at.map(instant).unwrap_or_default(),
            leaver.time_to_deprovision_seconds.map(|s| s.to_string()).unwrap_or_default(),
        ]
        .join(",");
        if entry.sources.is_empty() {
            writeln!(out, "{common},,,,,")?;
        }
        for source in &entry.sources {
            writeln!(
                out,
                "{common},{},{},{},{},{}",
                csv_field(&source.source),
                source.accounts,
                source.still_enabled,
                source.deprovisioned_at.map(instant).unwrap_or_default(),
                source.time_to_deprovision_seconds.map(|s| s.to_string()).unwrap_or_default(),
            )?;
        }
    }
    Ok(())
}

fn leaver_json(entry: &LeaverSla) -> Value {
    let leaver = &entry.leaver;
    json!({
        "employee_id": leaver.employee_id,
        "leaver_id": leaver.leaver_id.hyphenated().to_string(),
        "state": leaver.state.as_str(),
        "effective_at": instant(leaver.effective_at),
        "deadline": instant(leaver.deadline),
        "deadline_acted_at": leaver.deadline_acted_at.map(instant),
        "closed_at": leaver.closed_at.map(instant),
        "time_to_deprovision_seconds": leaver.time_to_deprovision_seconds,
        "sources": entry.sources.iter().map(|source| json!({
            "source": source.source,
            "accounts": source.accounts,
            "still_enabled": source.still_enabled,
            "deprovisioned_at": source.deprovisioned_at.map(instant),
            "time_to_deprovision_seconds": source.time_to_deprovision_seconds,
        })).collect::<Vec<_>>(),
    })
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Quotes a field that contains a comma, quote or line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

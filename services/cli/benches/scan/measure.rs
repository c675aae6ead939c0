//! One measurement, run in a child process of its own so that the peak memory it reports
//! belongs to that measurement alone.

use std::hint::black_box;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use rollcall_core::{Evaluation, evaluate};
use rollcall_ingest::layout::{self, LoadedTenant};
use rollcall_report::{TenantOutcome, render};

/// The work a child process measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Find and load every tenant folder: all the files scan reads, no rules.
    Parse,
    /// Load, evaluate and render the JSON report, as `rollcall scan --format json` does.
    Scan,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Parse => "parse",
            Mode::Scan => "scan",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Mode::Parse, Mode::Scan].into_iter().find(|m| m.as_str() == text)
    }
}

/// The result a child process prints on its one `RESULT` line of standard output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Wall-clock seconds of the measured work, process start-up excluded.
    pub seconds: f64,
    /// CPU seconds (user and system) of the measured work: steadier than wall-clock time
    /// when other processes compete for the cores.
    pub cpu_seconds: f64,
    /// Peak resident memory of the process in KiB (VmHWM), 0 where /proc is missing.
    pub peak_kib: u64,
    /// Direct memberships read over all tenants and sources.
    pub memberships: u64,
    /// Accounts read over all tenants and sources.
    pub accounts: u64,
    /// Findings (scan only).
    pub findings: u64,
    /// Bytes of the rendered JSON report (scan only).
    pub report_bytes: u64,
}

impl Sample {
    pub fn line(&self) -> String {
        format!(
            "RESULT {} {} {} {} {} {} {}",
            self.seconds,
            self.cpu_seconds,
            self.peak_kib,
            self.memberships,
            self.accounts,
            self.findings,
            self.report_bytes
        )
    }

    pub fn from_output(stdout: &str) -> Result<Self> {
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .context("the measuring process printed no RESULT line")?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [seconds, cpu, peak, memberships, accounts, findings, bytes] = fields.as_slice() else {
            bail!("malformed RESULT line `{line}`");
        };
        Ok(Self {
            seconds: seconds.parse()?,
            cpu_seconds: cpu.parse()?,
            peak_kib: peak.parse()?,
            memberships: memberships.parse()?,
            accounts: accounts.parse()?,
            findings: findings.parse()?,
            report_bytes: bytes.parse()?,
        })
    }
}

/// Counts bytes and drops them: the report is rendered in full, and the disk stays out
/// of the measurement.
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Loads every tenant under `root`, as `rollcall scan` does: the part both modes share.
fn load(root: &Path, as_of: DateTime<Utc>) -> Result<Vec<LoadedTenant>> {
    let dirs = layout::find_tenants(&[root.to_path_buf()])?;
    if dirs.is_empty() {
        bail!("no tenant folders in `{}`", root.display());
    }
    let mut tenants = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let tenant = layout::load_tenant(&dir, as_of)
            .with_context(|| format!("cannot load `{}`", dir.display()))?;
        tenants.push(tenant);
    }
    Ok(tenants)
}

fn counts(tenants: &[LoadedTenant]) -> (u64, u64) {
    let sources = tenants.iter().flat_map(|t| t.data.sources.iter());
    let (mut memberships, mut accounts) = (0, 0);
    for source in sources {
        memberships += source.memberships.len() as u64;
        accounts += source.accounts.len() as u64;
    }
    (memberships, accounts)
}

/// Runs one measurement of `mode` on the tenants under `root`.
pub fn run(mode: Mode, root: &Path, as_of: DateTime<Utc>) -> Result<Sample> {
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let mut sample = Sample::default();
    match mode {
        Mode::Parse => {
            let tenants = load(root, as_of)?;
            (sample.memberships, sample.accounts) = counts(&tenants);
            sample.seconds = start.elapsed().as_secs_f64();
            sample.cpu_seconds = cpu_seconds() - cpu_start;
            // Dropping is part of neither measurement's clock, as in the scan below.
            black_box(&tenants);
        }
        Mode::Scan => {
            let tenants = load(root, as_of)?;
            let evaluations: Vec<Evaluation> =
                tenants.iter().map(|t| evaluate(&t.config.tenant, &t.data, as_of)).collect();
            let outcomes: Vec<TenantOutcome<'_>> = tenants
                .iter()
                .zip(&evaluations)
                .map(|(tenant, evaluation)| TenantOutcome::Evaluated {
                    path: &tenant.dir,
                    tenant: &tenant.config.tenant,
                    data: &tenant.data,
                    evaluation,
                    diagnostics: &tenant.diagnostics,
                })
                .collect();
            let report = rollcall_report::report(&outcomes, as_of);
            let mut sink = BufWriter::new(CountingSink(0));
            render::json(&report, &mut sink).context("cannot render the report")?;
            sink.flush()?;
            sample.seconds = start.elapsed().as_secs_f64();
            sample.cpu_seconds = cpu_seconds() - cpu_start;
            sample.report_bytes = sink.get_ref().0;
            (sample.memberships, sample.accounts) = counts(&tenants);
            sample.findings = evaluations.iter().map(|e| e.findings.len() as u64).sum();
            black_box((&report, &outcomes));
        }
    }
    sample.peak_kib = peak_kib();
    Ok(sample)
}

/// User plus system CPU time of this process so far, from /proc/self/stat (fields 14
/// and 15, in clock ticks of 1/100 s on Linux); 0 where /proc is missing.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // The command name (field 2) may hold spaces; the fields after it follow its `)`.
    let Some((_, after)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3, so fields 14 and 15 are at positions 11 and 12.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// VmHWM, the process's peak resident set, from /proc/self/status (Linux); 0 elsewhere.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmHWM:")?.trim().trim_end_matches("kB").trim().parse().ok()
            })
        })
        .unwrap_or(0)
}

/// Runs one measurement in a child process and reads its result.
pub fn in_child(mode: Mode, root: &Path) -> Result<Sample> {
    let exe: PathBuf = std::env::current_exe().context("cannot find the bench executable")?;
    let output = std::process::Command::new(exe)
        .arg("--measure")
        .arg(mode.as_str())
        .arg(root)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot start the measuring process")?;
    if !output.status.success() {
        bail!(
            "the {} measurement of `{}` failed ({})",
            mode.as_str(),
            root.display(),
            output.status
        );
    }
    Sample::from_output(&String::from_utf8_lossy(&output.stdout))
}

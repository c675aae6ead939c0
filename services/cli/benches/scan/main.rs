//! `make bench`: the whole scan against parse-only, on seeded synthetic practices.
//!
//! For each data set the bench generates the files once into `target/bench-data/` (kept
//! for the same parameters), then times, each run in a fresh child process:
//! - parse: every tenant folder found and loaded, as `rollcall scan` reads it;
//! - scan: the same, plus rule evaluation and the JSON report rendered to a byte counter.
//!
//! It prints Markdown tables for docs/benchmarks.md. Options after `--`:
//! `--reps N` (default 5), `--only TEXT` (data sets whose name contains TEXT, repeatable).

mod measure;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use rollcall_datagen::synthetic::{self, Params};

use measure::{Mode, Sample};

/// The allocator of the `rollcall` binary, so the bench measures what the command does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The seed of every data set, so that each run measures the same files.
const SEED: u64 = 20_261_201;

/// A named data set and the table it belongs to.
struct DataSet {
    name: &'static str,
    params: Params,
}

const fn set(name: &'static str, tenants: usize, people: usize, grants: usize) -> DataSet {
    DataSet { name, params: Params { tenants, people, grants, seed: SEED } }
}

/// The acceptance data sets, then the linearity series (one tenant each).
const SETS: &[DataSet] = &[
    set("msp-100x200x20", 100, 200, 20),
    set("one-100k-x20", 1, 100_000, 20),
    set("grants-20k-x5", 1, 20_000, 5),
    set("grants-20k-x10", 1, 20_000, 10),
    set("grants-20k-x20", 1, 20_000, 20),
    set("grants-20k-x40", 1, 20_000, 40),
    set("people-25k-x20", 1, 25_000, 20),
    set("people-50k-x20", 1, 50_000, 20),
];

/// The series whose growth the linearity table shows, by name.
const GRANT_SERIES: &[&str] =
    &["grants-20k-x5", "grants-20k-x10", "grants-20k-x20", "grants-20k-x40"];
const PEOPLE_SERIES: &[&str] = &["people-25k-x20", "people-50k-x20", "one-100k-x20"];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(position) = args.iter().position(|a| a == "--measure") {
        let mode = args
            .get(position + 1)
            .and_then(|m| Mode::parse(m))
            .context("--measure needs parse or scan")?;
        let root = args.get(position + 2).context("--measure needs a folder")?;
        let as_of = synthetic::reference();
        let sample = measure::run(mode, Path::new(root), as_of)?;
        println!("{}", sample.line());
        return Ok(());
    }
    let mut reps = 5;
    let mut only = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--reps" => {
                reps = rest.next().and_then(|n| n.parse().ok()).context("--reps needs a number")?
            }
            "--only" => only.push(rest.next().context("--only needs a name")?.clone()),
            // `cargo bench` passes --bench; a name filter without --only is taken as one.
            "--bench" => {}
            other if !other.starts_with("--") => only.push(other.to_owned()),
            other => bail!("unknown option `{other}`; use --reps N or --only NAME"),
        }
    }
    if reps == 0 {
        bail!("--reps must be at least 1");
    }

    let data = data_dir()?;
    let mut results = Vec::new();
    for set in
        SETS.iter().filter(|s| only.is_empty() || only.iter().any(|o| s.name.contains(o.as_str())))
    {
        let root = ensure(&data, set)?;
        let mut parse = Vec::new();
        let mut scan = Vec::new();
        // Alternate the two, so that a burst of load from elsewhere hits both alike.
        for rep in 0..reps {
            parse.push(measure::in_child(Mode::Parse, &root)?);
            scan.push(measure::in_child(Mode::Scan, &root)?);
            let (p, s) = (parse.last().copied(), scan.last().copied());
            eprintln!(
                "{} rep {}/{reps}: parse {:.3} s ({:.2} s CPU), scan {:.3} s ({:.2} s CPU)",
                set.name,
                rep + 1,
                p.map_or(0.0, |s| s.seconds),
                p.map_or(0.0, |s| s.cpu_seconds),
                s.map_or(0.0, |s| s.seconds),
                s.map_or(0.0, |s| s.cpu_seconds),
            );
        }
        results.push(Measured { set, bytes: folder_bytes(&root), parse, scan });
    }
    print_tables(&results, reps);
    Ok(())
}

/// `target/bench-data`, found from the bench executable (`target/release/deps/scan-…`).
fn data_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the bench executable")?;
    let target = exe
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "deps"))
        .and_then(|deps| deps.parent())
        .and_then(Path::parent)
        .context("the bench executable is not under target/<profile>/deps")?;
    Ok(target.join("bench-data"))
}

/// Returns the folder of `set`, generating it unless a complete copy for the same
/// parameters exists.
fn ensure(data: &Path, set: &DataSet) -> Result<PathBuf> {
    let p = set.params;
    let root = data.join(format!("t{}-p{}-g{}-s{}", p.tenants, p.people, p.grants, p.seed));
    let done = root.join(".complete");
    if done.is_file() {
        return Ok(root);
    }
    eprintln!("generating {} into {}", set.name, root.display());
    if root.exists() {
        std::fs::remove_dir_all(&root)
            .with_context(|| format!("cannot remove the partial `{}`", root.display()))?;
    }
    synthetic::write_all(&p, &root)?;
    std::fs::write(&done, b"")?;
    Ok(root)
}

fn folder_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.filter_map(Result::ok) {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => stack.push(entry.path()),
                Ok(meta) => total += meta.len(),
                Err(_) => {}
            }
        }
    }
    total
}

struct Measured<'a> {
    set: &'a DataSet,
    bytes: u64,
    parse: Vec<Sample>,
    scan: Vec<Sample>,
}

/// Median, minimum and maximum.
fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    (median, sorted.first().copied().unwrap_or(0.0), sorted.last().copied().unwrap_or(0.0))
}

fn seconds(samples: &[Sample]) -> (f64, f64, f64) {
    stats(&samples.iter().map(|s| s.seconds).collect::<Vec<_>>())
}

fn cpu(samples: &[Sample]) -> f64 {
    stats(&samples.iter().map(|s| s.cpu_seconds).collect::<Vec<_>>()).0
}

fn peak_mib(samples: &[Sample]) -> f64 {
    samples.iter().map(|s| s.peak_kib).max().unwrap_or(0) as f64 / 1024.0
}

fn ratio(scan: f64, parse: f64) -> f64 {
    if parse > 0.0 { scan / parse } else { 0.0 }
}

fn print_tables(results: &[Measured<'_>], reps: usize) {
    println!();
    println!(
        "Wall-clock times are the median of {reps} runs, each in a fresh process, with the fastest and slowest in brackets; CPU times (user + system) are medians too; peak memory is the largest VmHWM of those runs."
    );
    println!();
    println!(
        "| data set | tenants × people × grants | files | memberships | parse wall (s) | scan wall (s) | scan / parse, wall | parse CPU (s) | scan CPU (s) | scan / parse, CPU | parse peak | scan peak | findings |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for m in results {
        let p = m.set.params;
        let (parse, parse_min, parse_max) = seconds(&m.parse);
        let (scan, scan_min, scan_max) = seconds(&m.scan);
        let (parse_cpu, scan_cpu) = (cpu(&m.parse), cpu(&m.scan));
        let first = m.scan.first().copied().unwrap_or_default();
        println!(
            "| {} | {} × {} × {} | {:.0} MB | {} | {parse:.2} ({parse_min:.2}–{parse_max:.2}) | {scan:.2} ({scan_min:.2}–{scan_max:.2}) | {:.2} | {parse_cpu:.2} | {scan_cpu:.2} | {:.2} | {:.0} MiB | {:.0} MiB | {} |",
            m.set.name,
            p.tenants,
            p.people,
            p.grants,
            m.bytes as f64 / 1e6,
            first.memberships,
            ratio(scan, parse),
            ratio(scan_cpu, parse_cpu),
            peak_mib(&m.parse),
            peak_mib(&m.scan),
            first.findings,
        );
    }
    let series_list = [
        ("grants per person, 20,000 people", GRANT_SERIES),
        ("people, 20 grants each", PEOPLE_SERIES),
    ];
    for (title, series) in series_list {
        let rows: Vec<&Measured<'_>> =
            series.iter().filter_map(|name| results.iter().find(|m| m.set.name == *name)).collect();
        if rows.len() < 2 {
            continue;
        }
        println!();
        println!(
            "Linearity in {title}, on median CPU time: the time per membership stays flat when the work grows linearly."
        );
        println!();
        println!(
            "| data set | memberships | parse CPU (s) | scan CPU (s) | parse µs / membership | scan µs / membership | scan − parse, µs / membership |"
        );
        println!("|---|---|---|---|---|---|---|");
        for m in rows {
            let memberships = m.scan.first().map_or(0, |s| s.memberships).max(1) as f64;
            let (parse, scan) = (cpu(&m.parse), cpu(&m.scan));
            println!(
                "| {} | {} | {parse:.2} | {scan:.2} | {:.2} | {:.2} | {:.2} |",
                m.set.name,
                memberships,
                parse / memberships * 1e6,
                scan / memberships * 1e6,
                (scan - parse) / memberships * 1e6,
            );
        }
    }
}

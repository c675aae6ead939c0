//! Benchmark: a 5,000-user sync from slapd against `ldapsearch` with the same paging on
//! the same server. `cargo bench -p rollcall-ldap-connector`; results go in
//! docs/benchmarks.md.
//!
//! Both clients read the same entries over LDAPS with pages of 500, bound as the service
//! account. `ldapsearch` writes LDIF to a pipe that is drained and dropped. The connector
//! is timed twice, with and without the mapping to a snapshot, which separates the
//! protocol cost from the mapping cost.
//!
//! Besides the median wall time, each row gives the mean CPU time of a run: this process's
//! threads, plus the `ldapsearch` child for its row. slapd's CPU time is in no row. On a
//! machine shared with other work, the CPU ratio moves less than the wall-time ratio.
//!
//! Options after `--`: `--runs N` sets the timed runs of each client (15 by default), and
//! `--only NAME` times one client (`ldapsearch`, `search`, `read` or `scan`), for a
//! profile such as `valgrind --tool=callgrind` of the bench binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark stops at its first broken expectation"
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use rollcall_ldap_connector::client::Session;
use rollcall_ldap_connector::config::OPENLDAP_ATTRIBUTES;
use rollcall_ldap_connector::{TlsMode, read_directory};
use support::seed;
use support::slapd::{SERVICE_DN, SERVICE_PASSWORD, SUFFIX, Slapd, SlapdOptions};
use support::{check, directory};

const USERS: usize = 5000;

/// The clients the benchmark times, by their `--only` names.
const CLIENTS: [&str; 4] = ["ldapsearch", "search", "read", "scan"];

/// The command-line options.
struct Options {
    runs: usize,
    only: Option<String>,
}

/// Reads `--runs N` and `--only NAME`, ignoring the `--bench` flag that `cargo bench`
/// passes.
fn options() -> Options {
    let mut options = Options { runs: 15, only: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                let value = args.next().expect("--runs needs a number");
                options.runs = value.parse().expect("--runs needs a positive number");
                assert!(options.runs > 0, "--runs needs a positive number");
            }
            "--only" => {
                let name = args.next().expect("--only needs a client name");
                assert!(CLIENTS.contains(&name.as_str()), "--only takes one of {CLIENTS:?}");
                options.only = Some(name);
            }
            "--bench" => {}
            other => panic!("unknown option `{other}`; use --runs N or --only NAME"),
        }
    }
    options
}

/// Returns the CPU time used so far by this process (every thread) and by its children that
/// have exited and been waited for, from `/proc/self/stat` (utime, stime, cutime and cstime, fields 14 to 17 in
/// proc(5)).
fn cpu_time(ticks_per_second: f64) -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name in field 2 may contain spaces, so fields are counted after its `)`.
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11..15].iter().map(|field| field.parse::<u64>().unwrap()).sum();
    Duration::from_secs_f64(ticks as f64 / ticks_per_second)
}

/// Returns the kernel's clock ticks per second, the unit of `/proc/self/stat` times.
fn clock_ticks_per_second() -> f64 {
    let output = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().parse().unwrap()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let options = options();
    let selected = |name: &str| options.only.as_deref().is_none_or(|only| only == name);
    let slapd = Slapd::start(&seed::generated(USERS, 3000), SlapdOptions::default());
    let mut config = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    config.page_size = 500;
    let directory = check(config);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    let ldapsearch = || {
        let started = Instant::now();
        let output = Command::new("ldapsearch")
            .env("LDAPTLS_CACERT", &slapd.ca_file)
            .args(["-x", "-H", &slapd.ldaps_url, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD])
            .args(["-b", SUFFIX, "-E", "pr=500/noprompt", "-o", "ldif_wrap=no", "-LLL"])
            .arg(&directory.filter)
            .args(OPENLDAP_ATTRIBUTES)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        started.elapsed()
    };
    let search_only = || {
        runtime.block_on(async {
            let started = Instant::now();
            let mut session = Session::open(&directory).await.unwrap();
            let mut count = 0u64;
            session
                .paged_search(
                    &directory.base_dn,
                    &directory.filter,
                    &directory.attributes,
                    directory.page_size,
                    |_| count += 1,
                )
                .await
                .unwrap();
            session.close().await;
            assert_eq!(count, USERS as u64 + 12);
            started.elapsed()
        })
    };
    let full_read = || {
        runtime.block_on(async {
            let started = Instant::now();
            let read = read_directory(&directory, chrono::Utc::now()).await.unwrap();
            assert_eq!(read.snapshot.accounts.len(), USERS);
            started.elapsed()
        })
    };

    let export = slapd.ldapsearch_export(SUFFIX, OPENLDAP_ATTRIBUTES);
    let scan_mapping = || {
        let started = Instant::now();
        let mut import = rollcall_ingest::ldap::LdapImport::new();
        import.add_ldif("directory.ldif", &export).unwrap();
        let (snapshot, _) = import.finish();
        assert_eq!(snapshot.accounts.len(), USERS);
        started.elapsed()
    };

    let clients: Vec<(&str, &dyn Fn() -> Duration)> = [
        (
            "ldapsearch",
            "ldapsearch -E pr=500 (LDIF to a pipe)",
            &ldapsearch as &dyn Fn() -> Duration,
        ),
        ("search", "connector: connect, bind, paged search", &search_only),
        ("read", "connector: read_directory (search + mapping to a snapshot)", &full_read),
        (
            "scan",
            "rollcall scan's LDIF parse and mapping of the same export, no server",
            &scan_mapping,
        ),
    ]
    .into_iter()
    .filter(|(short, ..)| selected(short))
    .map(|(_, name, run)| (name, run))
    .collect();

    // One warm-up run each, so that slapd's caches hold the entries for every client. The
    // timed runs then take turns, so that a change in the machine's load between runs
    // affects every client alike instead of one client's whole series.
    for (_, run) in &clients {
        run();
    }
    let ticks_per_second = clock_ticks_per_second();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(options.runs); clients.len()];
    let mut cpu = vec![Duration::ZERO; clients.len()];
    for _ in 0..options.runs {
        for (((_, run), series), cpu) in clients.iter().zip(&mut samples).zip(&mut cpu) {
            let cpu_before = cpu_time(ticks_per_second);
            series.push(run());
            *cpu += cpu_time(ticks_per_second) - cpu_before;
        }
    }

    let runs = options.runs;
    println!("{USERS} users, 5,012 entries, pages of 500, LDAPS, median of {runs} runs");
    println!("CPU time: this process and its exited children (ldapsearch), slapd excluded");
    println!("| client | median | ratio | mean CPU time | CPU ratio |");
    println!("|---|---|---|---|---|");
    // The ratios need ldapsearch's times, which `--only` can leave out.
    let baseline = selected("ldapsearch")
        .then(|| (median(samples[0].clone()).as_secs_f64(), cpu[0].as_secs_f64() / runs as f64));
    for (((name, _), series), cpu) in clients.iter().zip(samples).zip(cpu) {
        let time = median(series).as_secs_f64();
        let cpu = cpu.as_secs_f64() / runs as f64;
        let (ratio, cpu_ratio) = baseline.map_or_else(
            || ("not measured".to_owned(), "not measured".to_owned()),
            |(time_base, cpu_base)| {
                (format!("{:.2}", time / time_base), format!("{:.2}", cpu / cpu_base))
            },
        );
        println!(
            "| {name} | {:.1} ms | {ratio} | {:.1} ms | {cpu_ratio} |",
            time * 1000.0,
            cpu * 1000.0
        );
    }
}

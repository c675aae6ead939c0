//! Benchmark: a 5,000-user sync from slapd against `ldapsearch` with the same paging on
//! the same server. `cargo bench -p rollcall-ldap-connector`; results go in
//! docs/benchmarks.md.
//!
//! Both clients read the same entries over LDAPS with pages of 500, bound as the service
//! account. `ldapsearch` writes LDIF to a pipe that is drained and dropped. The connector
//! is timed twice, with and without the mapping to a snapshot, which separates the
//! protocol cost from the mapping cost.

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
const RUNS: usize = 15;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
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

    // One warm-up run each, so that slapd's caches hold the entries for every client.
    ldapsearch();
    search_only();
    full_read();
    let mut rows = Vec::new();
    for (name, run) in [
        ("ldapsearch -E pr=500 (LDIF to a pipe)", &ldapsearch as &dyn Fn() -> Duration),
        ("connector: connect, bind, paged search", &search_only),
        ("connector: read_directory (search + mapping to a snapshot)", &full_read),
        ("rollcall scan's LDIF parse and mapping of the same export, no server", &scan_mapping),
    ] {
        let samples: Vec<Duration> = (0..RUNS).map(|_| run()).collect();
        rows.push((name, median(samples)));
    }
    let baseline = rows[0].1.as_secs_f64();
    println!("{USERS} users, 5,012 entries, pages of 500, LDAPS, median of {RUNS} runs");
    println!("| client | median | ratio to ldapsearch |");
    println!("|---|---|---|");
    for (name, time) in rows {
        println!(
            "| {name} | {:.1} ms | {:.2} |",
            time.as_secs_f64() * 1000.0,
            time.as_secs_f64() / baseline
        );
    }
}

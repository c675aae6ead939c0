//! A sync publishes its snapshot and a sync report on NATS; a server that dies mid-search
//! leaves a failed report and no snapshot chunk.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use rollcall_ldap_connector::{SyncMetrics, TlsMode, sync_once};
use rollcall_proto::{Assembler, SnapshotContent, SyncOutcome, v1};
use support::bus::TestBus;
use support::seed;
use support::slapd::{Slapd, SlapdOptions};
use support::{check, directory, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn sync_publishes_assembled_snapshot() {
    let slapd = Slapd::start(&seed::harborview(), SlapdOptions::default());
    let bus = TestBus::new().await;
    let directory = check(directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file)));
    let metrics = SyncMetrics::new();
    let report = within(60, sync_once(&directory, &bus.publisher(), &metrics)).await;
    assert_eq!(report.outcome, SyncOutcome::Ok, "{:?}", report.problems);

    let published = bus.published().await;
    assert_eq!(published.reports.len(), 1);
    let wire = &published.reports[0];
    assert_eq!(wire.outcome, v1::SyncOutcome::Ok as i32);
    assert_eq!(wire.connector, "ldap-connector");
    let mut assembler = Assembler::new();
    let mut assembled = None;
    for chunk in published.chunks {
        if let Some(done) = assembler.accept(chunk, Instant::now()).unwrap() {
            assembled = Some(done);
        }
    }
    let assembled = assembled.expect("every chunk arrived");
    assert_eq!(Some(assembled.snapshot_id), report.snapshot_id);
    assert_eq!(wire.content_sha256.as_deref(), Some(assembled.content_hash.to_string().as_str()));
    let SnapshotContent::Source(snapshot) = assembled.content else { panic!("not a directory") };
    assert_eq!(snapshot.accounts.len(), 51);

    let labels = rollcall_ldap_connector::metrics::DirectoryLabels {
        tenant: "harborview".to_owned(),
        source: "ldap".to_owned(),
    };
    assert_eq!(metrics.successes.get_or_create(&labels).get(), 1);
    assert!(metrics.pages.get_or_create(&labels).get() > 1);
    assert!(metrics.last_success.get_or_create(&labels).get() > 0);
    bus.delete().await;
}

/// Forwards one connection to `target` and kills the server (by pid) once `after` bytes
/// of its responses went through, so the search stops in the middle of a page.
async fn killing_proxy(target: String, pid: u32, after: u64) -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ldap://{}", listener.local_addr().unwrap());
    let killed = Arc::new(AtomicBool::new(false));
    let flag = killed.clone();
    tokio::spawn(async move {
        let Ok((client, _)) = listener.accept().await else { return };
        let Ok(server) = TcpStream::connect(&target).await else { return };
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        });
        let forwarded = AtomicU64::new(0);
        let mut buffer = vec![0u8; 4096];
        while let Ok(read) = server_read.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            if client_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
            let total = forwarded.fetch_add(read as u64, Ordering::SeqCst) + read as u64;
            if total > after && !flag.swap(true, Ordering::SeqCst) {
                let status = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        }
        let _ = client_write.shutdown().await;
    });
    (url, killed)
}

#[tokio::test]
async fn killed_server_publishes_no_snapshot() {
    let mut slapd = Slapd::start(&seed::generated(2000, 1500), SlapdOptions::default());
    let bus = TestBus::new().await;
    let target = slapd.ldap_url.trim_start_matches("ldap://").to_owned();
    let (url, killed) = killing_proxy(target, slapd.pid().unwrap(), 50_000).await;
    let mut config = directory(&url, TlsMode::Insecure, None);
    config.page_size = 100;
    let directory = check(config);
    let metrics = SyncMetrics::new();
    let report = within(60, sync_once(&directory, &bus.publisher(), &metrics)).await;
    assert!(killed.load(Ordering::SeqCst), "the proxy killed slapd");
    slapd.kill();

    assert_eq!(report.outcome, SyncOutcome::Failed);
    assert_eq!(report.snapshot_id, None);
    let problem = report.problems.first().expect("a fatal problem");
    assert!(problem.fatal);
    assert_eq!(problem.location.as_deref(), Some("stage search"), "{}", problem.message);
    assert!(problem.message.contains("nothing was published"), "{}", problem.message);
    assert!(problem.message.contains("search page"), "{}", problem.message);
    eprintln!("{}", problem.message);

    let published = bus.published().await;
    assert!(published.chunks.is_empty(), "{} chunks were published", published.chunks.len());
    assert_eq!(published.reports.len(), 1);
    assert_eq!(published.reports[0].outcome, v1::SyncOutcome::Failed as i32);
    let labels = rollcall_ldap_connector::metrics::ErrorLabels {
        tenant: "harborview".to_owned(),
        source: "ldap".to_owned(),
        stage: "search".to_owned(),
    };
    assert_eq!(metrics.errors.get_or_create(&labels).get(), 1);
    bus.delete().await;
}

#[tokio::test]
async fn one_tenant_never_syncs_twice_at_once() {
    use rollcall_ldap_connector::schedule::{TenantLocks, run_directory};
    use std::time::Duration;

    let slapd = Slapd::start(&seed::generated(1500, 500), SlapdOptions::default());
    let bus = TestBus::new().await;
    let mut north = directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file));
    north.source = "ldap:north".to_owned();
    let directories = vec![
        check(directory(&slapd.ldaps_url, TlsMode::Ldaps, Some(&slapd.ca_file))),
        check(north),
    ];
    let directories: Vec<_> = directories
        .into_iter()
        .map(|mut d| {
            d.interval = Duration::from_millis(1);
            d
        })
        .collect();
    let locks = TenantLocks::new(&directories);
    let stop = tokio_util::sync::CancellationToken::new();
    let tasks: Vec<_> = directories
        .into_iter()
        .map(|d| {
            let lock = locks.get(&d.tenant);
            tokio::spawn(run_directory(d, bus.publisher(), SyncMetrics::new(), lock, stop.clone()))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.cancel();
    for task in tasks {
        within(60, task).await.unwrap();
    }

    let mut reports: Vec<(i64, i64, String)> = bus
        .published()
        .await
        .reports
        .into_iter()
        .map(|r| {
            assert_eq!(r.outcome, v1::SyncOutcome::Ok as i32, "{:?}", r.problems);
            let started = r.started_at.unwrap();
            let finished = r.finished_at.unwrap();
            (
                started.seconds * 1_000_000_000 + i64::from(started.nanos),
                finished.seconds * 1_000_000_000 + i64::from(finished.nanos),
                r.source,
            )
        })
        .collect();
    reports.sort();
    let sources: std::collections::BTreeSet<&str> =
        reports.iter().map(|(_, _, source)| source.as_str()).collect();
    assert_eq!(sources.len(), 2, "both directories synced: {reports:?}");
    for pair in reports.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two syncs of one tenant overlapped: {pair:?}");
    }
    bus.delete().await;
}

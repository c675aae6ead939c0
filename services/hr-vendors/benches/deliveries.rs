//! Verified deliveries per second per adapter, and worker lookups per second against the
//! local vendor double.
//!
//! Run with `make bench-hr-vendors`. Each measurement repeats for about a second, three
//! times, and the fastest of the three is printed, as a Markdown table for
//! `docs/benchmarks.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark stops at its first broken expectation"
)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rollcall_hr_vendors::double::{FixtureWorker, VendorDouble};
use rollcall_hr_vendors::vendors::VendorSettings;
use rollcall_hr_vendors::{
    ApiAuth, ClientOptions, Credentials, Delivery, NamedSecret, StaticCredential, Vendor,
    VendorAdapter, VendorClient, adapter,
};

/// The time each repetition runs for.
const SPAN: Duration = Duration::from_secs(1);
/// Repetitions per measurement; the fastest counts.
const REPS: usize = 3;

struct Case {
    vendor: Vendor,
    headers: HeaderMap,
    body: Vec<u8>,
    credentials: Credentials,
    now: DateTime<Utc>,
}

fn load(vendor: Vendor, folder: &str, body_file: &str, credentials: Credentials) -> Case {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases").join(folder);
    let request = std::fs::read(dir.join("request.http")).unwrap();
    let body = std::fs::read(dir.join(body_file)).unwrap();
    let split = request.windows(2).position(|w| w == b"\n\n").unwrap();
    let mut headers = HeaderMap::new();
    for line in std::str::from_utf8(&request[..split]).unwrap().lines().skip(1) {
        let (name, value) = line.split_once(':').unwrap();
        headers.insert(
            HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    // The BambooHR case is signed at 2026-12-01T06:00:12Z; verify it at that instant.
    let now = DateTime::from_timestamp(1_796_104_812, 0).unwrap();
    Case { vendor, headers, body, credentials, now }
}

fn keys(secret: &str) -> Credentials {
    Credentials {
        keys: vec![NamedSecret { id: "k".into(), secret: secret.as_bytes().to_vec() }],
        ..Credentials::default()
    }
}

fn statics(credential: StaticCredential) -> Credentials {
    Credentials { statics: vec![("c".into(), credential)], ..Credentials::default() }
}

/// Returns the best rate in operations per second of `run`, which performs one operation.
fn rate(mut run: impl FnMut()) -> f64 {
    let mut best: f64 = 0.0;
    for _ in 0..REPS {
        let start = Instant::now();
        let mut count: u64 = 0;
        while start.elapsed() < SPAN {
            for _ in 0..100 {
                run();
            }
            count += 100;
        }
        best = best.max(count as f64 / start.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let settings = || VendorSettings::new(chrono_tz::America::Chicago);
    let cases = [
        load(
            Vendor::BambooHr,
            "bamboohr",
            "body.json",
            keys("bhr-test-privkey-7d1c0a9e3f5b4e21a8c6"),
        ),
        load(Vendor::HiBob, "hibob", "body.json", keys("bob-test-secret-9F3kQ2xLw8vT")),
        load(Vendor::Gusto, "gusto", "body.json", keys("3f6a2c1e-9b7d-4e5f-a1c2-8d9e0f1a2b3c")),
        load(
            Vendor::Paychex,
            "paychex",
            "body.json",
            statics(StaticCredential::basic("rollcall-paychex", b"test-only-pass-2290")),
        ),
        load(
            Vendor::Paylocity,
            "paylocity",
            "body.json",
            statics(StaticCredential::basic("rollcall-paylocity", b"test-only-pass-4471")),
        ),
        load(
            Vendor::Rippling,
            "rippling",
            "body.form",
            statics(StaticCredential::bearer(b"rc-test-bearer-5c2e8f1a9d44")),
        ),
    ];

    println!(
        "| vendor | scheme | body bytes | verified deliveries per second | verified and mapped per second |"
    );
    println!("| --- | --- | ---: | ---: | ---: |");
    for case in &cases {
        let adapter = adapter(case.vendor, settings());
        let delivery =
            Delivery { headers: &case.headers, body: &case.body, peer: None, url_token: None };
        assert!(adapter.verify(&delivery, &case.credentials, case.now).is_ok());
        let verify = rate(|| {
            black_box(adapter.verify(black_box(&delivery), &case.credentials, case.now)).ok();
        });
        let both = rate(|| {
            black_box(adapter.verify(black_box(&delivery), &case.credentials, case.now)).ok();
            black_box(adapter.notices(black_box(&case.body))).ok();
        });
        let scheme = match case.vendor {
            Vendor::BambooHr | Vendor::Gusto => "HMAC-SHA256",
            Vendor::HiBob => "HMAC-SHA512",
            Vendor::Rippling => "bearer",
            _ => "Basic",
        };
        println!("| {} | {scheme} | {} | {verify:.0} | {both:.0} |", case.vendor, case.body.len());
    }

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(lookups());
}

/// Times sequential worker reads from the double, one connection kept alive.
async fn lookups() {
    let double = VendorDouble::start().await.unwrap();
    println!();
    println!("| vendor | lookups per second | mean lookup |");
    println!("| --- | ---: | ---: |");
    for vendor in Vendor::ALL {
        double.set_worker(vendor, "w1", FixtureWorker::terminated("2026-11-30"));
        let auth = match vendor {
            Vendor::Paychex | Vendor::Paylocity | Vendor::AdpWorkforceNow => {
                ApiAuth::ClientCredentials {
                    token_url: double.token_url(vendor),
                    client_id: "bench".into(),
                    client_secret: "bench".into(),
                }
            }
            _ => ApiAuth::Bearer("bench".into()),
        };
        let mut options = ClientOptions::new(double.base_url(vendor), auth);
        options.allow_plain_http_loopback = true;
        let client = VendorClient::new(vendor.as_str(), options).unwrap();
        let mut settings = VendorSettings::new(chrono_tz::America::Chicago);
        settings.company_id = Some("c1".into());
        let adapter: Box<dyn VendorAdapter> = adapter(vendor, settings);
        client.fetch_worker(adapter.as_ref(), "w1").await.unwrap();

        let mut best: f64 = 0.0;
        for _ in 0..REPS {
            let start = Instant::now();
            let mut count: u64 = 0;
            while start.elapsed() < SPAN {
                black_box(client.fetch_worker(adapter.as_ref(), "w1").await.unwrap());
                count += 1;
            }
            best = best.max(count as f64 / start.elapsed().as_secs_f64());
        }
        println!("| {vendor} | {best:.0} | {:.0} µs |", 1e6 / best);
    }
}

//! Each vendor's example delivery from `tests/cases/` verifies with its secret and is
//! rejected when any byte of the body, the timestamp, the signature or the key changes,
//! and for every wrong value that the case's README lists.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rollcall_hr_vendors::auth::sha256;
use rollcall_hr_vendors::vendors::VendorSettings;
use rollcall_hr_vendors::{
    Credentials, Delivery, NamedSecret, Rejection, StaticCredential, Vendor, VendorAdapter, adapter,
};

struct Case {
    headers: HeaderMap,
    body: Vec<u8>,
}

fn case_dir(vendor: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases").join(vendor)
}

/// Reads `request.http` (headers, a blank line, the body) and checks that its body is
/// the case's body file byte for byte.
fn load(vendor: &str, body_file: &str) -> Case {
    let dir = case_dir(vendor);
    let request = std::fs::read(dir.join("request.http")).unwrap();
    let body = std::fs::read(dir.join(body_file)).unwrap();
    let split = request.windows(2).position(|w| w == b"\n\n").unwrap();
    assert_eq!(&request[split + 2..], body.as_slice(), "{vendor}: request.http body differs");
    let head = std::str::from_utf8(&request[..split]).unwrap();
    let mut headers = HeaderMap::new();
    for line in head.lines().skip(1) {
        let (name, value) = line.split_once(':').unwrap();
        headers.insert(
            HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    Case { headers, body }
}

fn hmac_credentials(secret: &str) -> Credentials {
    Credentials {
        keys: vec![NamedSecret { id: "current".into(), secret: secret.as_bytes().to_vec() }],
        ..Credentials::default()
    }
}

fn settings() -> VendorSettings {
    VendorSettings::new(chrono_tz::America::New_York)
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

fn verify(
    adapter: &dyn VendorAdapter,
    headers: &HeaderMap,
    body: &[u8],
    credentials: &Credentials,
    now: DateTime<Utc>,
) -> Result<String, Rejection> {
    let delivery = Delivery { headers, body, peer: None, url_token: None };
    adapter.verify(&delivery, credentials, now).map(|verified| verified.key_id)
}

/// Asserts that flipping any one bit of the body is rejected as a signature mismatch.
fn assert_every_body_byte_matters(
    adapter: &dyn VendorAdapter,
    case: &Case,
    credentials: &Credentials,
    now: DateTime<Utc>,
) {
    for index in 0..case.body.len() {
        let mut body = case.body.clone();
        body[index] ^= 0x01;
        let result = verify(adapter, &case.headers, &body, credentials, now);
        assert_eq!(result, Err(Rejection::SignatureMismatch), "body byte {index} changed");
    }
}

/// Asserts that changing any one byte of the key is rejected.
fn assert_every_key_byte_matters(
    adapter: &dyn VendorAdapter,
    case: &Case,
    secret: &str,
    now: DateTime<Utc>,
) {
    for index in 0..secret.len() {
        let mut key = secret.as_bytes().to_vec();
        key[index] ^= 0x01;
        let credentials = Credentials {
            keys: vec![NamedSecret { id: "changed".into(), secret: key }],
            ..Credentials::default()
        };
        let result = verify(adapter, &case.headers, &case.body, &credentials, now);
        assert_eq!(result, Err(Rejection::SignatureMismatch), "key byte {index} changed");
    }
}

/// Asserts that each value is rejected when sent as the signature header.
fn assert_signatures_rejected(
    adapter: &dyn VendorAdapter,
    case: &Case,
    header: &str,
    values: &[&str],
    credentials: &Credentials,
    now: DateTime<Utc>,
) {
    for value in values {
        let mut headers = case.headers.clone();
        headers.insert(
            HeaderName::from_bytes(header.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        let result = verify(adapter, &headers, &case.body, credentials, now);
        assert!(result.is_err(), "{header}: {value} was accepted");
    }
}

const BAMBOOHR_KEY: &str = "bhr-test-privkey-7d1c0a9e3f5b4e21a8c6";
const BAMBOOHR_TIMESTAMP: i64 = 1_796_104_812;

#[test]
fn bamboohr_example_verifies() {
    let case = load("bamboohr", "body.json");
    let adapter = adapter(Vendor::BambooHr, settings());
    let now = at(BAMBOOHR_TIMESTAMP + 30);
    let result =
        verify(adapter.as_ref(), &case.headers, &case.body, &hmac_credentials(BAMBOOHR_KEY), now);
    assert_eq!(result, Ok("current".to_owned()));
}

#[test]
fn bamboohr_changes_rejected() {
    let case = load("bamboohr", "body.json");
    let adapter = adapter(Vendor::BambooHr, settings());
    let credentials = hmac_credentials(BAMBOOHR_KEY);
    let now = at(BAMBOOHR_TIMESTAMP);
    assert_every_body_byte_matters(adapter.as_ref(), &case, &credentials, now);
    assert_every_key_byte_matters(adapter.as_ref(), &case, BAMBOOHR_KEY, now);

    // Another timestamp inside the window: the signature covers it.
    for delta in [-1_i64, 1, 60] {
        let mut headers = case.headers.clone();
        let changed = (BAMBOOHR_TIMESTAMP + delta).to_string();
        headers.insert("x-bamboohr-timestamp", HeaderValue::from_str(&changed).unwrap());
        let result = verify(adapter.as_ref(), &headers, &case.body, &credentials, now);
        assert_eq!(result, Err(Rejection::SignatureMismatch), "timestamp {changed}");
    }

    // Every signature byte (hex digit) changed.
    let signature = case.headers["x-bamboohr-signature"].to_str().unwrap().to_owned();
    for index in 0..signature.len() {
        let mut changed = signature.clone().into_bytes();
        changed[index] = if changed[index] == b'0' { b'1' } else { b'0' };
        let changed = String::from_utf8(changed).unwrap();
        let mut headers = case.headers.clone();
        headers.insert("x-bamboohr-signature", HeaderValue::from_str(&changed).unwrap());
        let result = verify(adapter.as_ref(), &headers, &case.body, &credentials, now);
        assert_eq!(result, Err(Rejection::SignatureMismatch), "signature digit {index}");
    }
}

#[test]
fn bamboohr_listed_mistakes_rejected() {
    let case = load("bamboohr", "body.json");
    let adapter = adapter(Vendor::BambooHr, settings());
    let credentials = hmac_credentials(BAMBOOHR_KEY);
    let wrong = [
        "f343100398a93681b6116762a3419ea5d16467ad2870b4118ed7b3aed24aa440",
        "aa990287166fcead869d94bfa794a3d7795e4cb362c5d7188ab7a22a00d64541",
        "a2213ad650c8d1664650cd96f516bbee99975a314d848532ba1e9f28bc4cc858",
        "0da18c6c",
        "",
    ];
    let now = at(BAMBOOHR_TIMESTAMP);
    assert_signatures_rejected(
        adapter.as_ref(),
        &case,
        "x-bamboohr-signature",
        &wrong,
        &credentials,
        now,
    );
}

#[test]
fn bamboohr_timestamp_window() {
    let case = load("bamboohr", "body.json");
    let adapter = adapter(Vendor::BambooHr, settings());
    let credentials = hmac_credentials(BAMBOOHR_KEY);
    let verify_at =
        |now: i64| verify(adapter.as_ref(), &case.headers, &case.body, &credentials, at(now));

    // BambooHR's last retry comes 155 minutes after the first attempt.
    assert!(verify_at(BAMBOOHR_TIMESTAMP + 155 * 60).is_ok());
    assert!(matches!(
        verify_at(BAMBOOHR_TIMESTAMP + 3 * 3600 + 1),
        Err(Rejection::ExpiredTimestamp { .. })
    ));
    assert!(matches!(verify_at(BAMBOOHR_TIMESTAMP - 301), Err(Rejection::FutureTimestamp { .. })));

    let mut headers = case.headers.clone();
    headers.insert("x-bamboohr-timestamp", HeaderValue::from_static("2026-12-01T06:00:12Z"));
    let result =
        verify(adapter.as_ref(), &headers, &case.body, &credentials, at(BAMBOOHR_TIMESTAMP));
    assert!(matches!(result, Err(Rejection::MalformedTimestamp { .. })));

    let mut headers = case.headers.clone();
    headers.remove("x-bamboohr-timestamp");
    let result =
        verify(adapter.as_ref(), &headers, &case.body, &credentials, at(BAMBOOHR_TIMESTAMP));
    assert!(matches!(result, Err(Rejection::MissingHeader { .. })));
}

#[test]
fn bamboohr_rotation_accepts_either_key() {
    let case = load("bamboohr", "body.json");
    let adapter = adapter(Vendor::BambooHr, settings());
    let credentials = Credentials {
        keys: vec![
            NamedSecret { id: "2027-01".into(), secret: b"a-newer-key-not-yet-in-use".to_vec() },
            NamedSecret { id: "2026-06".into(), secret: BAMBOOHR_KEY.as_bytes().to_vec() },
        ],
        ..Credentials::default()
    };
    let result =
        verify(adapter.as_ref(), &case.headers, &case.body, &credentials, at(BAMBOOHR_TIMESTAMP));
    assert_eq!(result, Ok("2026-06".to_owned()));

    let none = verify(
        adapter.as_ref(),
        &case.headers,
        &case.body,
        &Credentials::default(),
        at(BAMBOOHR_TIMESTAMP),
    );
    assert_eq!(none, Err(Rejection::NotConfigured));
}

#[test]
fn bamboohr_example_names_employee() {
    let case = load("bamboohr", "body.json");
    let notices = adapter(Vendor::BambooHr, settings()).notices(&case.body).unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].worker_id, "1187");
    assert_eq!(notices[0].event, "employee.updated");
    assert!(
        notices[0]
            .dedupe_key
            .as_deref()
            .is_some_and(|key| key.contains("employmentHistoryStatus,status"))
    );
}

const GUSTO_TOKEN: &str = "3f6a2c1e-9b7d-4e5f-a1c2-8d9e0f1a2b3c";

#[test]
fn gusto_example_verifies() {
    let case = load("gusto", "body.json");
    let adapter = adapter(Vendor::Gusto, settings());
    let result = verify(
        adapter.as_ref(),
        &case.headers,
        &case.body,
        &hmac_credentials(GUSTO_TOKEN),
        Utc::now(),
    );
    assert_eq!(result, Ok("current".to_owned()));
}

#[test]
fn gusto_changes_rejected() {
    let case = load("gusto", "body.json");
    let adapter = adapter(Vendor::Gusto, settings());
    let credentials = hmac_credentials(GUSTO_TOKEN);
    assert_every_body_byte_matters(adapter.as_ref(), &case, &credentials, Utc::now());
    assert_every_key_byte_matters(adapter.as_ref(), &case, GUSTO_TOKEN, Utc::now());
    let wrong = [
        "fXhGUB6nZUUfV8mh4+VeAMvXgjOj3tSezXR34Iiw+VU=",
        "7967da155701ab24f3e9858da31a9b5b9a99e824301742e12b8aade491f6e68b",
        "sha256=7d7846501ea765451f57c9a1e3e55e00cbd78233a3ded49ecd7477e088b0f955",
    ];
    assert_signatures_rejected(
        adapter.as_ref(),
        &case,
        "x-gusto-signature",
        &wrong,
        &credentials,
        Utc::now(),
    );
}

#[test]
fn gusto_example_names_employee() {
    let case = load("gusto", "body.json");
    let notices = adapter(Vendor::Gusto, settings()).notices(&case.body).unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].worker_id, "e9d8c7b6-a5f4-4e3d-9c2b-1a0f9e8d7c6b");
    assert_eq!(notices[0].dedupe_key.as_deref(), Some("7c1e4b2a-5d3f-4e8a-9b6c-0f2d1a3e5b7c"));
}

const HIBOB_SECRET: &str = "bob-test-secret-9F3kQ2xLw8vT";

#[test]
fn hibob_example_verifies() {
    let case = load("hibob", "body.json");
    let adapter = adapter(Vendor::HiBob, settings());
    let result = verify(
        adapter.as_ref(),
        &case.headers,
        &case.body,
        &hmac_credentials(HIBOB_SECRET),
        Utc::now(),
    );
    assert_eq!(result, Ok("current".to_owned()));
}

#[test]
fn hibob_changes_rejected() {
    let case = load("hibob", "body.json");
    let adapter = adapter(Vendor::HiBob, settings());
    let credentials = hmac_credentials(HIBOB_SECRET);
    assert_every_body_byte_matters(adapter.as_ref(), &case, &credentials, Utc::now());
    assert_every_key_byte_matters(adapter.as_ref(), &case, HIBOB_SECRET, Utc::now());
    let wrong = [
        "b24ac9e3b86abaef419a653493d8b8313332d205c4efb600518dd8344575094e72ccd763a1ef367c315ade6fd5658d2eb34c8e0f8adb918ef663cb6ec5ff7a11",
        "1ABjXjN8u4Dz6tmpUr2Cx4DQ59++zZOoZLKqLjkISHQ=",
        "skrJ47hquu9BmmU0k9i4MTMy0gXE77YAUY3YNEV1CU5yzNdjoe82fDFa3m/VZY0us0yOD4rbkY72Y8tuxf96EA==",
    ];
    assert_signatures_rejected(
        adapter.as_ref(),
        &case,
        "bob-signature",
        &wrong,
        &credentials,
        Utc::now(),
    );
}

#[test]
fn hibob_example_names_employee() {
    let case = load("hibob", "body.json");
    let notices = adapter(Vendor::HiBob, settings()).notices(&case.body).unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].worker_id, "3417298560115823412");
    assert_eq!(notices[0].event, "employee.left");
}

/// Runs the checks shared by the vendors that sign nothing: the example's `Authorization`
/// verifies, and a change of any byte of it, or no header, is rejected.
fn check_static_vendor(
    vendor: Vendor,
    folder: &str,
    body_file: &str,
    credential: StaticCredential,
) {
    let case = load(folder, body_file);
    let adapter = adapter(vendor, settings());
    let credentials =
        Credentials { statics: vec![("primary".into(), credential)], ..Credentials::default() };
    let result = verify(adapter.as_ref(), &case.headers, &case.body, &credentials, Utc::now());
    assert_eq!(result, Ok("primary".to_owned()), "{folder}: example");

    let sent = case.headers["authorization"].to_str().unwrap().to_owned();
    let (scheme, value) = sent.split_once(' ').unwrap();
    for index in 0..value.len() {
        let mut changed = value.as_bytes().to_vec();
        changed[index] = if changed[index] == b'A' { b'B' } else { b'A' };
        let changed = format!("{scheme} {}", String::from_utf8(changed).unwrap());
        let mut headers = case.headers.clone();
        headers.insert("authorization", HeaderValue::from_str(&changed).unwrap());
        let result = verify(adapter.as_ref(), &headers, &case.body, &credentials, Utc::now());
        assert!(result.is_err(), "{folder}: credential byte {index} changed was accepted");
    }

    let mut headers = case.headers.clone();
    headers.remove("authorization");
    let result = verify(adapter.as_ref(), &headers, &case.body, &credentials, Utc::now());
    assert_eq!(result, Err(Rejection::MissingCredential), "{folder}: no credential");
}

#[test]
fn paychex_example_verifies() {
    let credential = StaticCredential::basic("rollcall-paychex", b"test-only-pass-2290");
    check_static_vendor(Vendor::Paychex, "paychex", "body.json", credential);
    let case = load("paychex", "body.json");
    let notices = adapter(Vendor::Paychex, settings()).notices(&case.body).unwrap();
    assert_eq!(notices[0].worker_id, "00WK2048ABCD0002XYZ");
    assert_eq!(notices[0].dedupe_key, None);
}

#[test]
fn paylocity_example_verifies() {
    let credential = StaticCredential::basic("rollcall-paylocity", b"test-only-pass-4471");
    check_static_vendor(Vendor::Paylocity, "paylocity", "body.json", credential);
    let case = load("paylocity", "body.json");
    let notices = adapter(Vendor::Paylocity, settings()).notices(&case.body).unwrap();
    assert_eq!(notices[0].worker_id, "2048");
}

#[test]
fn paylocity_sender_networks() {
    let case = load("paylocity", "body.json");
    let adapter = adapter(Vendor::Paylocity, settings());
    let credentials = Credentials {
        statics: vec![(
            "primary".into(),
            StaticCredential::basic("rollcall-paylocity", b"test-only-pass-4471"),
        )],
        allowed_networks: rollcall_hr_vendors::vendors::paylocity::SENDER_NETWORKS
            .iter()
            .map(|network| network.parse().unwrap())
            .collect(),
        ..Credentials::default()
    };
    for (peer, accepted) in [
        ("198.245.157.20", true),
        ("192.40.49.255", true),
        ("192.40.50.1", false),
        ("127.0.0.1", false),
    ] {
        let delivery = Delivery {
            headers: &case.headers,
            body: &case.body,
            peer: peer.parse().ok(),
            url_token: None,
        };
        let result = adapter.verify(&delivery, &credentials, Utc::now());
        assert_eq!(result.is_ok(), accepted, "peer {peer}");
    }
}

#[test]
fn rippling_example_verifies() {
    let credential = StaticCredential::bearer(b"rc-test-bearer-5c2e8f1a9d44");
    check_static_vendor(Vendor::Rippling, "rippling", "body.form", credential);
    let case = load("rippling", "body.form");
    let notices = adapter(Vendor::Rippling, settings()).notices(&case.body).unwrap();
    assert_eq!(notices[0].worker_id, "66a1f0c2e4b0a1b2c3d4e5f6");
    assert_eq!(notices[0].event, "employee.terminated");
}

#[test]
fn rippling_url_token_verifies() {
    let case = load("rippling", "body.form");
    let adapter = adapter(Vendor::Rippling, settings());
    let credentials = Credentials {
        statics: vec![("path".into(), StaticCredential::url_token(b"k3Pq9vT2wLx8"))],
        ..Credentials::default()
    };
    let mut headers = case.headers.clone();
    headers.remove("authorization");
    for (token, accepted) in
        [("k3Pq9vT2wLx8", true), ("k3Pq9vT2wLx9", false), ("k3Pq9vT2wLx", false), ("", false)]
    {
        let delivery =
            Delivery { headers: &headers, body: &case.body, peer: None, url_token: Some(token) };
        assert_eq!(
            adapter.verify(&delivery, &credentials, Utc::now()).is_ok(),
            accepted,
            "token `{token}`"
        );
    }
    // A bearer header with the URL token's value is not a URL token.
    let bearer = HeaderValue::from_static("Bearer k3Pq9vT2wLx8");
    headers.insert("authorization", bearer);
    let delivery = Delivery { headers: &headers, body: &case.body, peer: None, url_token: None };
    assert_eq!(
        adapter.verify(&delivery, &credentials, Utc::now()),
        Err(Rejection::CredentialMismatch)
    );
}

#[test]
fn adp_message_names_worker() {
    let body = std::fs::read(case_dir("adp-workforce-now").join("body.json")).unwrap();
    let adapter = adapter(Vendor::AdpWorkforceNow, settings());
    let notices = adapter.notices(&body).unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].worker_id, "G3K7T2M9Q1W4E8R5");
    assert_eq!(notices[0].event, "worker.terminate");
    assert_eq!(notices[0].dedupe_key.as_deref(), Some("9b2f6a31-4c8e-4f0a-b7d5-2e1c9a8f6d40"));
    let headers = HeaderMap::new();
    let pushed = verify(adapter.as_ref(), &headers, &body, &Credentials::default(), Utc::now());
    assert_eq!(pushed, Err(Rejection::NotPushed));
}

#[test]
fn static_digest_is_of_user_and_password() {
    // The Basic credential is the digest of `user:password`, the decoded header value.
    assert_eq!(
        StaticCredential::basic("rollcall-paychex", b"test-only-pass-2290"),
        StaticCredential::Basic(sha256(b"rollcall-paychex:test-only-pass-2290"))
    );
}

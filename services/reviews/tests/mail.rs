//! Review mail against a real SMTP sink on loopback (aiosmtpd, installed by
//! `scripts/install-smtp-sink.sh`) with a certificate made for each test, and the example
//! practice in a real PostgreSQL. The tests cover digests, offsets in the tenant's zone,
//! escalation, sending once, retries after a dropped connection, and the TLS and AUTH
//! failures an operator must fix.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::{DateTime, TimeDelta, Utc};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rollcall_core::TenantId;
use rollcall_reviews::mail::{
    MailConfig, MailError, MailReport, MailSender, SendErrorClass, SmtpConfig, TlsMode,
    send_due_mail,
};
use rollcall_reviews::{ReviewLaunch, launch_due};
use rollcall_runtime::Secret;
use rollcall_store::{
    NewReviewCampaign, NewReviewItem, ReviewFacts, ReviewMailKey, ReviewMailKind, ReviewerReason,
    SnapshotMeta, Store, TenantConfigText, TenantProfile, TenantScope,
};
use serde_json::{Value, json};
use support::TestDb;
use support::fixtures::{EXAMPLE_AS_OF, at};
use tempfile::TempDir;
use uuid::Uuid;

/// The campaign definition the tests launch, appended to the example's tenant.yaml.
const CAMPAIGNS: &str = "
campaigns:
  - id: quarterly-all
    name: Quarterly access review
    reviewers:
      fallback: E1003
      second_stage: E1001
    deadline_days: 14
    reminders: [3d, 1d]
    escalation:
      after: 1d
      to: [second_stage, manager]
";

fn now() -> DateTime<Utc> {
    at(EXAMPLE_AS_OF)
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp-tls-mode-office365")
}

// ---------------------------------------------------------------------------------------
// The SMTP sink.

/// Returns the Python of the sink's virtual environment.
fn sink_python() -> PathBuf {
    let venv =
        std::env::var_os("ROLLCALL_SMTP_SINK_VENV").map(PathBuf::from).unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-tools/smtp-sink")
        });
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "the SMTP sink is not installed at {}; run scripts/install-smtp-sink.sh (scripts/install-test-deps.sh runs it)",
        venv.display()
    );
    python
}

/// A certificate authority and a server certificate for 127.0.0.1, written to `dir`.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn write_pki(dir: &Path) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Rollcall mail test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    let key = KeyPair::generate().unwrap();
    let cert = server.signed_by(&key, &ca).unwrap();
    let pki =
        Pki { ca: dir.join("ca.pem"), cert: dir.join("server.pem"), key: dir.join("server.key") };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

/// An aiosmtpd sink of the test's own, stopped by its pid when dropped.
struct Sink {
    child: Child,
    port: u16,
    dir: TempDir,
    pki: Pki,
}

impl Sink {
    /// Starts `scripts/smtp-sink/sink.py` in `mode` (`starttls`, `implicit`,
    /// `no-starttls`) with `extra` options.
    fn start(mode: &str, extra: &[&str]) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let pki = write_pki(dir.path());
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink/sink.py");
        let mut child = Command::new(sink_python())
            .arg(script)
            .args(["--mode", mode, "--out"])
            .arg(&out)
            .arg("--cert")
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("the sink did not start: `{line}`"));
        Sink { child, port, dir, pki }
    }

    /// Returns every message the sink accepted, in order.
    fn messages(&self) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("out"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
            .collect()
    }

    /// Returns the text of each accepted message with quoted-printable soft line breaks
    /// removed, so a phrase split across lines is found.
    fn texts(&self) -> Vec<String> {
        self.messages().iter().map(|m| m["data"].as_str().unwrap().replace("=\r\n", "")).collect()
    }

    /// Returns the envelope recipient of each accepted message.
    fn recipients(&self) -> Vec<String> {
        self.messages()
            .iter()
            .map(|message| {
                let to = message["rcpt_tos"].as_array().unwrap();
                assert_eq!(to.len(), 1, "{message}");
                to[0].as_str().unwrap().to_owned()
            })
            .collect()
    }

    fn smtp(&self, tls: TlsMode) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(self.port),
            tls,
            username: None,
            password: None,
            ca_file: Some(self.pki.ca.clone()),
            timeout_seconds: 5,
        }
    }

    fn sender(&self, tls: TlsMode) -> MailSender {
        MailSender::new(mail_config(self.smtp(tls))).unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mail_config(smtp: SmtpConfig) -> MailConfig {
    MailConfig {
        smtp,
        from: "Rollcall reviews <reviews@msp.example>".into(),
        ui_base_url: "https://reviews.msp.example".into(),
        review_path: "/tenants/{tenant}/campaigns/{campaign}".into(),
        claim_timeout_seconds: 600,
    }
}

// ---------------------------------------------------------------------------------------
// The practice.

/// Stores the example practice with `campaigns` in its tenant.yaml, every source
/// collected an hour before [`now`].
async fn example_tenant(store: &Store, campaigns: &str) -> TenantId {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview");
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml")).unwrap() + campaigns;
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let id = config.tenant.id.clone();
    let scope = store.tenant(&id);
    let profile =
        TenantProfile { name: config.tenant.name.clone(), time_zone: config.tenant.time_zone };
    let text = TenantConfigText { tenant_yaml: yaml, policy_yaml: None };
    scope.apply_tenant_config(&profile, &text, "test").await.unwrap();

    let loaded = rollcall_ingest::layout::load_tenant(&dir, now()).unwrap();
    let collected = now() - TimeDelta::hours(1);
    for (index, snapshot) in loaded.data.sources.iter().enumerate() {
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: collected,
            stream_sequence: index as u64 + 1,
        };
        scope.apply_source_snapshot(snapshot, &meta).await.unwrap();
    }
    let meta =
        SnapshotMeta { snapshot_id: Uuid::new_v4(), collected_at: collected, stream_sequence: 100 };
    scope.apply_hr_roster(loaded.data.hr.as_ref().unwrap(), &meta).await.unwrap();
    id
}

/// Launches the campaign at [`now`] and returns its id.
async fn launched(scope: &TenantScope<'_>) -> Uuid {
    let launches = launch_due(scope, now()).await.unwrap();
    match launches[0].outcome {
        Ok(ReviewLaunch::Launched { campaign_id, .. }) => campaign_id,
        ref other => panic!("the campaign did not launch: {other:?}"),
    }
}

/// Returns each reviewer's undecided items in the campaign.
async fn undecided_by_reviewer(scope: &TenantScope<'_>, campaign: Uuid) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for item in scope.review_items(campaign).await.unwrap() {
        *counts.entry(item.reviewer).or_insert(0) += i64::from(item.decision.is_none());
    }
    counts
}

/// Returns the HR roster's work e-mail of each employee, by identity key.
fn roster_emails() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview");
    let loaded = rollcall_ingest::layout::load_tenant(&dir, now()).unwrap();
    loaded
        .data
        .hr
        .unwrap()
        .workers
        .into_iter()
        .filter_map(|w| Some((format!("hr:{}", w.employee_id), w.email?)))
        .collect()
}

async fn pass(scope: &TenantScope<'_>, sender: &MailSender, at: DateTime<Utc>) -> MailReport {
    send_due_mail(scope, sender, at).await.unwrap()
}

/// Returns the deadline of the launched campaign: 14 days after [`now`], 09:00 CST on
/// 15 December 2026.
fn deadline() -> DateTime<Utc> {
    at("2026-12-15T15:00:00Z")
}

// ---------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn digest_per_reviewer_at_offsets() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let sink = Sink::start("starttls", &[]);
    let sender = sink.sender(TlsMode::StarttlsRequired);

    // Nothing at launch, nor a minute before the first reminder.
    assert_eq!(pass(&scope, &sender, now()).await, MailReport::default());
    let first = deadline() - TimeDelta::days(3);
    assert_eq!(pass(&scope, &sender, first - TimeDelta::minutes(1)).await.sent, 0);
    assert!(sink.messages().is_empty());

    let undecided = undecided_by_reviewer(&scope, campaign).await;
    let report = pass(&scope, &sender, first).await;
    assert_eq!(report.sent, undecided.len(), "{report:?}");
    let emails = roster_emails();
    let expected: BTreeSet<String> = undecided.keys().map(|r| emails[r].clone()).collect();
    let received: BTreeSet<String> = sink.recipients().into_iter().collect();
    assert_eq!(received, expected, "one digest per reviewer");
    assert_eq!(sink.messages().len(), undecided.len(), "never one mail per item");

    let items = scope.review_items(campaign).await.unwrap();
    let link = format!("https://reviews.msp.example/tenants/{tenant}/campaigns/{campaign}");
    for message in sink.messages() {
        let data = message["data"].as_str().unwrap().replace("=\r\n", "");
        assert_eq!(message["tls"], json!(true), "sent over STARTTLS");
        let reviewer = emails
            .iter()
            .find(|(_, email)| **email == message["rcpt_tos"][0].as_str().unwrap())
            .map(|(reviewer, _)| reviewer.clone())
            .unwrap();
        let count = undecided[&reviewer];
        let words =
            if count == 1 { "1 access item".to_owned() } else { format!("{count} access items") };
        assert!(data.contains(&words), "{reviewer} should see {words}: {data}");
        assert!(data.contains("multipart/alternative"), "{data}");
        assert!(data.contains("text/plain"), "{data}");
        assert!(data.contains("text/html"), "{data}");
        assert!(data.contains("Tuesday, December 15, 2026 at 9:00 AM CST"), "{data}");
        assert!(data.contains(&link), "{data}");
        // Names and counts only: no grant, account or entitlement of any item.
        for item in &items {
            assert!(!data.contains(&item.item_key), "item `{}` in mail", item.item_key);
            let entitlement = item.facts["entitlement"]["name"].as_str().unwrap_or("");
            assert!(
                entitlement.len() < 4 || !data.contains(entitlement),
                "entitlement `{entitlement}` in mail"
            );
        }
    }

    // The same reminder is not sent again; the next one is.
    let again = pass(&scope, &sender, first + TimeDelta::hours(2)).await;
    assert_eq!(again.sent, 0, "{again:?}");
    assert_eq!(again.taken, undecided.len(), "{again:?}");
    let second = pass(&scope, &sender, deadline() - TimeDelta::days(1)).await;
    assert_eq!(second.sent, undecided.len(), "{second:?}");
    assert_eq!(sink.messages().len(), 2 * undecided.len());
    // No reminder from the deadline on.
    assert_eq!(pass(&scope, &sender, deadline()).await.sent, 0);
}

#[tokio::test]
async fn reminder_days_follow_tenant_zone() {
    // A deadline two days after the clocks in Chicago go back (1 November 2026): three
    // days before 09:00 CST on 3 November is 09:00 CDT on 31 October, 14:00 UTC, an
    // hour earlier than 72 hours before.
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let deadline = at("2026-11-03T15:00:00Z");
    let campaign = NewReviewCampaign {
        definition_id: "quarterly-all".into(),
        period_start: at("2026-10-01T05:00:00Z"),
        period_label: "2026-Q4".into(),
        name: "Quarterly access review".into(),
        definition: json!({}),
        launched_at: at("2026-10-20T15:00:00Z"),
        deadline,
        at_expiry: "none".into(),
        fallback_reviewer: "hr:E1003".into(),
        second_stage_reviewer: Some("hr:E1001".into()),
        grant_keys: None,
    };
    let item = NewReviewItem {
        item_key: "entra/synthetic/group-1".into(),
        reviewee: "hr:E1004".into(),
        reviewer: "hr:E1002".into(),
        reviewer_reason: ReviewerReason::Manager,
        privileged: false,
        outside_baseline: false,
        recommend_revoke: false,
        facts: ReviewFacts::new(&json!({}), "facts").unwrap(),
    };
    scope.launch_review_campaign(&campaign, &[item], "test").await.unwrap();
    let sink = Sink::start("starttls", &[]);
    let sender = sink.sender(TlsMode::StarttlsRequired);

    assert_eq!(pass(&scope, &sender, at("2026-10-31T13:59:00Z")).await.sent, 0);
    assert_eq!(pass(&scope, &sender, at("2026-10-31T14:00:00Z")).await.sent, 1);
    assert_eq!(sink.recipients(), ["marguerite.okafor@harborview.example"]);
}

#[tokio::test]
async fn escalation_reaches_officer_and_managers() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let undecided = undecided_by_reviewer(&scope, campaign).await;
    let sink = Sink::start("starttls", &[]);
    let sender = sink.sender(TlsMode::StarttlsRequired);

    // After the deadline and before the escalation's delay: nothing.
    assert_eq!(pass(&scope, &sender, deadline() + TimeDelta::hours(23)).await.sent, 0);
    let report = pass(&scope, &sender, deadline() + TimeDelta::days(1)).await;
    assert!(report.sent >= 1, "{report:?}");

    let emails = roster_emails();
    let received = sink.recipients();
    let officer = &emails["hr:E1001"];
    assert_eq!(received.iter().filter(|to| *to == officer).count(), 1, "{received:?}");
    let position = received.iter().position(|to| to == officer).unwrap();
    let data = &sink.texts()[position];
    assert!(data.contains("Overdue: access review"), "{data}");
    assert_eq!(data.matches("undecided").count() / 2, undecided.len(), "{data}");

    // Every late reviewer with a manager in the roster is named to that manager.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview");
    let roster = rollcall_ingest::layout::load_tenant(&dir, now()).unwrap().data.hr.unwrap();
    let managers: BTreeSet<String> = undecided
        .keys()
        .filter_map(|reviewer| {
            let worker =
                roster.workers.iter().find(|w| format!("hr:{}", w.employee_id) == *reviewer)?;
            let manager = worker.manager_employee_id.as_ref()?;
            emails.get(&format!("hr:{manager}")).cloned()
        })
        .collect();
    // The officer manages some late reviewers too, and gets one mail, not two.
    let managers: BTreeSet<String> = managers.into_iter().filter(|m| m != officer).collect();
    for manager in &managers {
        assert!(received.contains(manager), "{manager} not told: {received:?}");
    }
    assert_eq!(report.sent, received.len());
    assert_eq!(pass(&scope, &sender, deadline() + TimeDelta::days(2)).await.sent, 0, "sent once");
}

#[tokio::test]
async fn manager_escalation_lists_reports() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let campaigns = CAMPAIGNS.replace("to: [second_stage, manager]", "to: [manager]");
    let tenant = example_tenant(&store, &campaigns).await;
    let scope = store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let undecided = undecided_by_reviewer(&scope, campaign).await;
    let sink = Sink::start("starttls", &[]);
    let sender = sink.sender(TlsMode::StarttlsRequired);

    let report = pass(&scope, &sender, deadline() + TimeDelta::days(1)).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview");
    let roster = rollcall_ingest::layout::load_tenant(&dir, now()).unwrap().data.hr.unwrap();
    let emails = roster_emails();
    let mut reports_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for reviewer in undecided.keys() {
        let worker = roster.workers.iter().find(|w| format!("hr:{}", w.employee_id) == *reviewer);
        if let Some(manager) = worker.and_then(|w| w.manager_employee_id.clone()) {
            reports_of
                .entry(emails[&format!("hr:{manager}")].clone())
                .or_default()
                .push(worker.unwrap().name.clone().unwrap());
        }
    }
    assert!(!reports_of.is_empty());
    assert_eq!(report.sent, reports_of.len(), "{report:?}");
    assert_eq!(
        report.no_manager,
        undecided.len() - reports_of.values().map(Vec::len).sum::<usize>()
    );
    let received = sink.recipients();
    let texts = sink.texts();
    for (manager, names) in &reports_of {
        let position = received.iter().position(|to| to == manager).unwrap();
        assert!(texts[position].contains("members of your team"), "{}", texts[position]);
        for name in names {
            assert!(texts[position].contains(name.as_str()), "{name} not named to {manager}");
        }
    }

    // Every manager got the escalation, so a marker row lets later passes skip the
    // campaign without reading the tenant's data, and they send nothing.
    let marker = ReviewMailKey {
        campaign_id: campaign,
        recipient: "*".into(),
        kind: ReviewMailKind::EscalationManager,
        offset_minutes: 1440,
    };
    let (state, _) = scope.review_mail_state(&marker).await.unwrap().unwrap();
    assert_eq!(state, "sent");
    let again = pass(&scope, &sender, deadline() + TimeDelta::days(2)).await;
    assert_eq!(again, MailReport::default());
    assert_eq!(sink.recipients(), received);
}

#[tokio::test]
async fn concurrent_senders_send_once() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let other_store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let other_scope = other_store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let reviewers = undecided_by_reviewer(&scope, campaign).await.len();
    let sink = Sink::start("starttls", &[]);
    let (one, two) =
        (sink.sender(TlsMode::StarttlsRequired), sink.sender(TlsMode::StarttlsRequired));

    let first = deadline() - TimeDelta::days(3);
    let (a, b) = tokio::join!(pass(&scope, &one, first), pass(&other_scope, &two, first));
    assert_eq!(a.sent + b.sent, reviewers, "{a:?} {b:?}");
    assert_eq!(a.taken + b.taken, reviewers, "{a:?} {b:?}");
    let received = sink.recipients();
    let unique: BTreeSet<&String> = received.iter().collect();
    assert_eq!(received.len(), reviewers, "{received:?}");
    assert_eq!(unique.len(), reviewers, "{received:?}");
}

#[tokio::test]
async fn dropped_connection_is_retried_next_pass() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let reviewers = undecided_by_reviewer(&scope, campaign).await;
    let sink = Sink::start("starttls", &["--drop-data", "1"]);
    let sender = sink.sender(TlsMode::StarttlsRequired);

    let first = deadline() - TimeDelta::days(3);
    let report = pass(&scope, &sender, first).await;
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(report.sent, reviewers.len() - 1, "{report:?}");
    assert_eq!(sink.messages().len(), reviewers.len() - 1);

    // The failed mail is not marked sent and waits for its retry time.
    let mut failed = Vec::new();
    for reviewer in reviewers.keys() {
        let key = ReviewMailKey {
            campaign_id: campaign,
            recipient: reviewer.clone(),
            kind: ReviewMailKind::Reminder,
            offset_minutes: 3 * 1440,
        };
        let (state, attempts) = scope.review_mail_state(&key).await.unwrap().unwrap();
        if state != "sent" {
            failed.push((state, attempts));
        }
    }
    assert_eq!(failed, [("failed".to_owned(), 1)]);
    assert_eq!(pass(&scope, &sender, first + TimeDelta::seconds(30)).await.sent, 0);

    let retry = pass(&scope, &sender, first + TimeDelta::minutes(1)).await;
    assert_eq!(retry.sent, 1, "{retry:?}");
    let received = sink.recipients();
    let unique: BTreeSet<&String> = received.iter().collect();
    assert_eq!(received.len(), reviewers.len());
    assert_eq!(unique.len(), reviewers.len(), "{received:?}");
}

#[tokio::test]
async fn stale_claim_is_taken_over() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let reviewers = undecided_by_reviewer(&scope, campaign).await;
    let sink = Sink::start("starttls", &[]);
    let sender = sink.sender(TlsMode::StarttlsRequired);
    let first = deadline() - TimeDelta::days(3);

    // A sender claimed one reminder and stopped before sending it.
    let reviewer = reviewers.keys().next().unwrap().clone();
    let key = ReviewMailKey {
        campaign_id: campaign,
        recipient: reviewer,
        kind: ReviewMailKind::Reminder,
        offset_minutes: 3 * 1440,
    };
    let claim =
        scope.claim_review_mail(&key, Uuid::new_v4(), first, first - TimeDelta::minutes(10));
    assert!(matches!(claim.await.unwrap(), rollcall_store::MailClaim::Claimed { attempts: 1 }));

    let report = pass(&scope, &sender, first + TimeDelta::minutes(1)).await;
    assert_eq!(report.sent, reviewers.len() - 1, "a fresh claim is left alone: {report:?}");
    let report = pass(&scope, &sender, first + TimeDelta::minutes(11)).await;
    assert_eq!(report.sent, 1, "the claim timed out: {report:?}");
    assert_eq!(scope.review_mail_state(&key).await.unwrap(), Some(("sent".to_owned(), 2)));
}

#[tokio::test]
async fn reviewer_without_address_is_reported_once() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let campaign = NewReviewCampaign {
        definition_id: "quarterly-all".into(),
        period_start: at("2026-10-01T05:00:00Z"),
        period_label: "2026-Q4".into(),
        name: "Quarterly access review".into(),
        definition: json!({}),
        launched_at: now(),
        deadline: deadline(),
        at_expiry: "none".into(),
        fallback_reviewer: "hr:E1003".into(),
        second_stage_reviewer: None,
        grant_keys: None,
    };
    let item = |reviewer: &str, key: &str| NewReviewItem {
        item_key: key.into(),
        reviewee: "hr:E1004".into(),
        reviewer: reviewer.into(),
        reviewer_reason: ReviewerReason::Manager,
        privileged: false,
        outside_baseline: false,
        recommend_revoke: false,
        facts: ReviewFacts::new(&json!({}), "facts").unwrap(),
    };
    let items = [item("hr:E9999", "entra/synthetic/a"), item("hr:E1002", "entra/synthetic/b")];
    scope.launch_review_campaign(&campaign, &items, "test").await.unwrap();
    let sink = Sink::start("starttls", &[]);
    let sender = sink.sender(TlsMode::StarttlsRequired);

    let first = deadline() - TimeDelta::days(3);
    let report = pass(&scope, &sender, first).await;
    assert_eq!((report.sent, report.no_address), (1, 1), "{report:?}");
    let again = pass(&scope, &sender, first + TimeDelta::hours(1)).await;
    assert_eq!((again.sent, again.no_address), (0, 0), "warned once: {again:?}");
    assert_eq!(sink.recipients(), ["marguerite.okafor@harborview.example"]);
}

#[tokio::test]
async fn implicit_tls_sends() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let reviewers = undecided_by_reviewer(&scope, campaign).await.len();
    let sink = Sink::start("implicit", &[]);
    let sender = sink.sender(TlsMode::ImplicitTls);
    let report = pass(&scope, &sender, deadline() - TimeDelta::days(1)).await;
    assert_eq!(report.sent, reviewers, "{report:?}");
    assert!(sink.messages().iter().all(|m| m["tls"] == json!(true)));
}

/// Runs one reminder pass through `sender` and returns the error that stopped it.
async fn failing_pass(sink: &Sink, sender: &MailSender) -> (SendErrorClass, String) {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let first = deadline() - TimeDelta::days(3);
    let error = send_due_mail(&scope, sender, first).await.unwrap_err();
    let MailError::Config(error) = error else { panic!("another error: {error}") };
    assert!(sink.messages().is_empty(), "a mail went out: {:?}", sink.messages());

    // The claim was released, not marked sent, and waits for its retry time.
    let reviewer = undecided_by_reviewer(&scope, campaign).await.into_keys().next().unwrap();
    let key = ReviewMailKey {
        campaign_id: campaign,
        recipient: reviewer,
        kind: ReviewMailKind::Reminder,
        offset_minutes: 3 * 1440,
    };
    let (state, _) = scope.review_mail_state(&key).await.unwrap().unwrap();
    assert_eq!(state, "failed");
    (error.class, error.to_string())
}

#[tokio::test]
async fn settings_check_signs_in_without_mail() {
    let good = Sink::start("starttls", &["--auth", "rollcall:synthetic-password"]);
    let mut smtp = good.smtp(TlsMode::StarttlsRequired);
    smtp.username = Some("rollcall".into());
    smtp.password = Some(Secret::new("synthetic-password"));
    MailSender::new(mail_config(smtp)).unwrap().mailer().check().await.unwrap();
    assert!(good.messages().is_empty());

    let reply = case_rows()["S5"]["server_reply_to_AUTH"].as_str().unwrap().to_owned();
    let refusing = Sink::start("starttls", &["--auth-reply", &reply]);
    let mut smtp = refusing.smtp(TlsMode::StarttlsRequired);
    smtp.username = Some("reviews@oakridgefm.example".into());
    smtp.password = Some(Secret::new("synthetic-password"));
    let error = MailSender::new(mail_config(smtp)).unwrap().mailer().check().await.unwrap_err();
    assert_eq!(error.class, SendErrorClass::AuthDisabledForTenant, "{error}");

    let plain = Sink::start("no-starttls", &[]);
    let error = plain.sender(TlsMode::StarttlsRequired).mailer().check().await.unwrap_err();
    assert_eq!(error.class, SendErrorClass::StarttlsUnavailable, "{error}");
}

#[tokio::test]
async fn starttls_refused_has_no_plain_fallback() {
    let sink = Sink::start("no-starttls", &[]);
    let sender = sink.sender(TlsMode::StarttlsRequired);
    let (class, message) = failing_pass(&sink, &sender).await;
    assert_eq!(class, SendErrorClass::StarttlsUnavailable, "{message}");
    assert!(message.contains("does not offer STARTTLS"), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{}", sink.port)), "{message}");
}

#[tokio::test]
async fn implicit_tls_on_starttls_port_fails() {
    // Case S1's mistake: implicit TLS (lettre's `relay()`) against a STARTTLS port.
    let sink = Sink::start("starttls", &[]);
    let sender = sink.sender(TlsMode::ImplicitTls);
    let (class, message) = failing_pass(&sink, &sender).await;
    assert_eq!(class, SendErrorClass::Tls, "{message}");
    assert!(message.contains("smtp_tls_mode_mismatch"), "{message}");
}

#[tokio::test]
async fn starttls_on_implicit_port_times_out() {
    // Case S3's mistake: STARTTLS against an implicit-TLS port. Both sides wait for the
    // other; the SMTP timeout ends the send instead of a hang, and the mail is retried.
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    launched(&scope).await;
    let sink = Sink::start("implicit", &[]);
    let mut smtp = sink.smtp(TlsMode::StarttlsRequired);
    smtp.timeout_seconds = 1;
    let mut config = mail_config(smtp);
    config.claim_timeout_seconds = 10;
    let sender = MailSender::new(config).unwrap();
    let campaign = scope.review_campaigns().await.unwrap()[0].campaign_id;
    let reviewers = undecided_by_reviewer(&scope, campaign).await.len();
    let report = pass(&scope, &sender, deadline() - TimeDelta::days(3)).await;
    assert_eq!(report.failed, reviewers, "{report:?}");
    assert_eq!(report.sent, 0, "{report:?}");
    let error = sender.mailer().check().await.unwrap_err();
    assert_eq!(error.class, SendErrorClass::Timeout, "{error}");
    assert!(sink.messages().is_empty());
}

/// Returns the SMTP settings rows of the case file, by id.
fn case_rows() -> BTreeMap<String, Value> {
    let settings: Value =
        serde_json::from_slice(&std::fs::read(fixture_dir().join("smtp-settings.json")).unwrap())
            .unwrap();
    settings["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["id"].as_str().unwrap().to_owned(), row.clone()))
        .collect()
}

#[tokio::test]
async fn office365_auth_refusals_are_config_errors() {
    let rows = case_rows();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture_dir().join("expected.json")).unwrap())
            .unwrap();
    for id in ["S5", "S6", "S7"] {
        let reply = rows[id]["server_reply_to_AUTH"].as_str().unwrap();
        let sink = Sink::start("starttls", &["--auth-reply", reply]);
        let mut smtp = sink.smtp(TlsMode::StarttlsRequired);
        smtp.username = Some(rows[id]["username"].as_str().unwrap().to_owned());
        smtp.password = Some(Secret::new("synthetic-password"));
        let sender = MailSender::new(mail_config(smtp)).unwrap();
        let (class, message) = failing_pass(&sink, &sender).await;
        let want = expected["rows"][id]["error_class"].as_str().unwrap();
        assert_eq!(class.as_str(), want, "{id}: {message}");
        assert!(class.is_config_error(), "{id}: no retry loop for {want}");
        assert!(!message.contains("synthetic-password"), "{id}: {message}");
    }
}

#[tokio::test]
async fn case_port_and_mode_rows_validate() {
    // S3 (STARTTLS on 465) is rejected before anything connects; S1 and S2 pass.
    let rows = case_rows();
    for (id, tls, valid) in [
        ("S1", TlsMode::StarttlsRequired, true),
        ("S2", TlsMode::ImplicitTls, true),
        ("S3", TlsMode::StarttlsRequired, false),
    ] {
        let row = &rows[id];
        let smtp = SmtpConfig {
            host: row["host"].as_str().unwrap().into(),
            port: Some(u16::try_from(row["port"].as_u64().unwrap()).unwrap()),
            tls,
            username: Some(row["username"].as_str().unwrap().into()),
            password: Some(Secret::new("synthetic-password")),
            ca_file: None,
            timeout_seconds: 15,
        };
        let outcome = MailSender::new(mail_config(smtp));
        assert_eq!(outcome.is_ok(), valid, "{id}: {:?}", outcome.err());
        if let Err(error) = outcome {
            assert!(error.to_string().contains("port 465 uses implicit TLS"), "{error}");
        }
    }
}

#[tokio::test]
async fn authenticated_send_over_starttls() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = example_tenant(&store, CAMPAIGNS).await;
    let scope = store.tenant(&tenant);
    let campaign = launched(&scope).await;
    let reviewers = undecided_by_reviewer(&scope, campaign).await.len();
    let sink = Sink::start("starttls", &["--auth", "rollcall:synthetic-password"]);
    let mut smtp = sink.smtp(TlsMode::StarttlsRequired);
    smtp.username = Some("rollcall".into());
    smtp.password = Some(Secret::new("synthetic-password"));
    let sender = MailSender::new(mail_config(smtp)).unwrap();
    let report = pass(&scope, &sender, deadline() - TimeDelta::days(3)).await;
    assert_eq!(report.sent, reviewers, "{report:?}");
}

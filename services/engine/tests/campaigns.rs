//! The engine launches a tenant's due access-review campaign on its own: a tenant whose
//! stored `tenant.yaml` defines a quarterly campaign gets one campaign for the quarter of
//! the engine's clock, with items, and later passes launch no second one. Each pass sets
//! the campaign gauges the dashboards read, and with a `mail` section it mails each
//! reviewer once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rollcall_reviews::mail::{MailConfig, SmtpConfig, TlsMode};
use rollcall_store::{ReviewAction, ReviewActionKind, Store, StoredReviewCampaign};

use support::{
    RedisMode, RunningEngine, TestBus, TestDb, add_tenant, config, eventually, example,
    example_dir, exposition, publish_example,
};

/// A quarterly campaign over everyone, with the practice manager as fallback reviewer.
const CAMPAIGN: &str = "\ncampaigns:\n  - id: quarterly-all\n    name: Quarterly access review\n    reviewers:\n      fallback: E1003\n    max_source_age: 30d\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_campaign_launches_once() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let loaded = example();
    let tenant = add_tenant(&store, &loaded).await;
    let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;
    let campaigns = launch_campaign(&bus, &store, &loaded, CAMPAIGN).await;
    let scope = store.tenant(&tenant);
    assert_eq!(campaigns.len(), 1);
    assert_eq!(campaigns[0].definition_id, "quarterly-all");
    // The engine's clock is 2026-12-01, in the fourth quarter.
    assert_eq!(campaigns[0].period_label, "2026-Q4");
    let items = scope.review_items(campaigns[0].campaign_id).await.unwrap();
    assert!(!items.is_empty(), "the campaign has items");

    // The pass sets the campaign gauges: every item undecided at first.
    let label = "quarterly-all/2026-Q4";
    let total = items.len();
    let gauges = eventually("the campaign gauges", || async {
        let gauges = review_gauges(&engine.engine, label);
        (gauges.get("undecided") == Some(&total.to_string())).then_some(gauges)
    })
    .await;
    assert_eq!(gauges.get("approved").map(String::as_str), Some("0"), "{gauges:?}");

    // A reviewer revokes one item; a later pass counts it.
    let item = &items[0];
    let action = ReviewAction {
        actor: item.reviewer.clone(),
        at: campaigns[0].launched_at + chrono::TimeDelta::hours(1),
        item_ids: vec![item.item_id],
        kind: ReviewActionKind::Revoke,
        justification: None,
    };
    scope.decide_review_items(campaigns[0].campaign_id, &action).await.unwrap();
    eventually("the revoke counted", || async {
        let gauges = review_gauges(&engine.engine, label);
        let counted = gauges.get("revoked").map(String::as_str) == Some("1")
            && gauges.get("undecided") == Some(&(total - 1).to_string());
        counted.then_some(())
    })
    .await;
    // The deadline is 14 days after the launch, after the engine's clock.
    let text = exposition(&engine.engine);
    assert!(
        text.contains(&format!(
            "rollcall_engine_review_campaigns_overdue{{tenant=\"{tenant}\"}} 0"
        )),
        "{text}"
    );

    // The pass runs every second in this configuration; three more launch nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(scope.review_campaigns().await.unwrap().len(), 1);
    engine.stop().await;
}

/// Publishes the example's sources, stores its `tenant.yaml` with `campaign` added, and
/// returns the tenant's campaigns once the running engine launched one.
async fn launch_campaign(
    bus: &TestBus,
    store: &Store,
    loaded: &rollcall_ingest::layout::LoadedTenant,
    campaign: &str,
) -> Vec<StoredReviewCampaign> {
    let tenant = &loaded.config.tenant.id;
    let chunks = publish_example(bus, loaded, 64 * 1024).await;
    eventually("every source stored", || async {
        let states = store.tenant(tenant).source_states().await.unwrap();
        (states.len() == chunks.len()).then_some(())
    })
    .await;

    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("harborview");
    copy_dir(&example_dir(), &copy);
    let mut tenant_yaml = std::fs::read_to_string(copy.join("tenant.yaml")).unwrap();
    tenant_yaml.push_str(campaign);
    std::fs::write(copy.join("tenant.yaml"), tenant_yaml).unwrap();
    rollcall_engine::tenant_apply::apply(store, &copy).await.unwrap();

    let scope = store.tenant(tenant);
    eventually("the campaign launched by the engine", || async {
        let campaigns = scope.review_campaigns().await.unwrap();
        (!campaigns.is_empty()).then_some(campaigns)
    })
    .await
}

/// Returns the values of `rollcall_engine_review_items` for `campaign`, by state.
fn review_gauges(engine: &rollcall_engine::Engine, campaign: &str) -> BTreeMap<String, String> {
    let marker = format!("campaign=\"{campaign}\",state=\"");
    exposition(engine)
        .lines()
        .filter(|line| line.starts_with("rollcall_engine_review_items{"))
        .filter_map(|line| {
            let rest = &line[line.find(&marker)? + marker.len()..];
            let (state, value) = rest.split_once("\"} ")?;
            Some((state.to_owned(), value.to_owned()))
        })
        .collect()
}

/// A campaign whose deadline is two days after launch, so its three-day reminder is due
/// at once.
const MAILED_CAMPAIGN: &str = "\ncampaigns:\n  - id: quarterly-all\n    name: Quarterly access review\n    reviewers:\n      fallback: E1003\n    max_source_age: 30d\n    deadline_days: 2\n    reminders: [3d]\n";

/// A plain-text SMTP sink on loopback (`scripts/smtp-sink/sink.py`, installed by
/// `scripts/install-smtp-sink.sh`), stopped by its pid when dropped.
struct Sink {
    child: Child,
    port: u16,
    out: tempfile::TempDir,
}

impl Sink {
    fn start() -> Sink {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let venv = std::env::var_os("ROLLCALL_SMTP_SINK_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("target/test-tools/smtp-sink"));
        let python = venv.join("bin/python");
        assert!(python.exists(), "the SMTP sink is missing; run scripts/install-smtp-sink.sh");
        let out = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(repo.join("scripts/smtp-sink/sink.py"))
            .args(["--mode", "no-starttls", "--out"])
            .arg(out.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("READY ").unwrap().parse().unwrap();
        Sink { child, port, out }
    }

    /// Returns the envelope recipients of the accepted messages.
    fn recipients(&self) -> Vec<String> {
        let mut recipients = Vec::new();
        for entry in std::fs::read_dir(self.out.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "json") {
                let message: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
                recipients.push(message["rcpt_tos"][0].as_str().unwrap().to_owned());
            }
        }
        recipients.sort();
        recipients
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_campaign_mails_reviewers_once() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let loaded = example();
    let tenant = add_tenant(&store, &loaded).await;
    let sink = Sink::start();
    let mut engine_config = config(&db, &bus, &RedisMode::Local, 5);
    engine_config.mail = Some(MailConfig {
        smtp: SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(sink.port),
            tls: TlsMode::None,
            username: None,
            password: None,
            ca_file: None,
            timeout_seconds: 5,
        },
        from: "Rollcall reviews <reviews@msp.example>".into(),
        ui_base_url: "https://reviews.msp.example".into(),
        review_path: "/tenants/{tenant}/campaigns/{campaign}".into(),
        claim_timeout_seconds: 60,
    });
    let engine = RunningEngine::start(engine_config).await;
    let campaigns = launch_campaign(&bus, &store, &loaded, MAILED_CAMPAIGN).await;
    let scope = store.tenant(&tenant);
    let items = scope.review_items(campaigns[0].campaign_id).await.unwrap();
    let reviewers: std::collections::BTreeSet<&str> =
        items.iter().map(|item| item.reviewer.as_str()).collect();
    let received = eventually("a reminder for every reviewer", || async {
        let received = sink.recipients();
        (received.len() >= reviewers.len()).then_some(received)
    })
    .await;
    assert_eq!(received.len(), reviewers.len(), "{received:?}");

    // The pass runs every second in this configuration; three more send nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.recipients(), received);
    engine.stop().await;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

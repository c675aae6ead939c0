//! The review pages in headless Chromium (Debian's `/usr/bin/chromium`, driven by the
//! scripts in `tests/browser` through playwright-core).
//!
//! `review.mjs` is a manager: sign in, decide with the keyboard, bulk-decide, delegate,
//! accept the recommendations, sign off, and the phone layout. `signoff.mjs` is the second
//! stage: the manager finds no officer controls, and the security officer signs off and
//! closes the campaign. The store is checked after each script, and the closed campaign's
//! evidence pack is verified with `rollcall evidence verify`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use chrono::Utc;
use rollcall_core::TenantId;
use rollcall_reviews::evidence::{CAMPAIGN_FILE, CSV_FILE, EXPORT_ACTION, HTML_FILE};
use rollcall_store::{CampaignStatus, ReviewAction, ReviewActionKind, StoredReviewItem};
use serde_json::Value;
use support::*;
use tokio::process::Command;

/// Returns the officer's login at the provider: the medical director, who is the
/// campaign's fallback and second-stage reviewer, with the app role of the security officer.
fn officer_login() -> String {
    format!("{DIRECTOR_E1001};roles=Rollcall.SecurityOfficer")
}

/// The reason the officer gives for the approval. The comma and the apostrophe need
/// quoting in the CSV and escaping in the HTML report.
const OFFICER_JUSTIFICATION: &str = "Covers the night shift's on-call rota, per the director";

/// Runs `script` from `tests/browser` with `env` and returns the JSON line it prints last.
async fn run_script(script: &str, env: &[(&str, &str)]) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && Path::new("/usr/bin/chromium").exists(),
        "chromium or playwright-core is missing; run scripts/install-test-deps.sh"
    );
    let child = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let output = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within 5 minutes"))
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script}: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

fn harborview() -> TenantId {
    TenantId::new("harborview").unwrap()
}

/// Parses an item id the scripts print as a string.
fn item_id(value: &Value) -> i32 {
    value.as_str().unwrap().parse().unwrap()
}

/// Runs `review.mjs` as the office manager, checks the store for every decision the
/// browser made and returns the script's output.
async fn manager_reviews(app: &App) -> Value {
    let campaign = app.campaign.to_string();
    let result = run_script(
        "review.mjs",
        &[
            ("BASE_URL", &app.base),
            ("CAMPAIGN", &campaign),
            ("LOGIN", OFFICE_MANAGER_E1002),
            ("DELEGATE_TO", "E1003"),
        ],
    )
    .await;

    let scope = app.store.tenant(&harborview());
    let items = scope.review_items(app.campaign).await.unwrap();
    let item = |id: &Value| items.iter().find(|i| i.item_id == item_id(id)).unwrap();
    let keyboard = item(&result["keyboard_item"]);
    assert_eq!(keyboard.decision.as_deref(), Some("revoke"), "the keyboard decision");
    for id in result["bulk_items"].as_array().unwrap() {
        assert_eq!(item(id).decision.as_deref(), Some("revoke"), "bulk item {id}");
    }
    let delegated = item(&result["delegated_item"]);
    assert_eq!(delegated.reviewer, "hr:E1003");
    assert_eq!(delegated.decision, None);
    // Only accepting the recommendations approved anything; the rest was revoked.
    let approved = result["accepted"]["approved"].as_u64().unwrap();
    assert!(approved > 0, "the button approved recommended items: {result}");
    let approved_items = items
        .iter()
        .filter(|i| i.reviewer == "hr:E1002" && i.decision.as_deref() == Some("approve"))
        .collect::<Vec<_>>();
    assert_eq!(approved_items.len() as u64, approved);
    for item in approved_items {
        assert!(!item.recommend_revoke && !item.privileged && !item.outside_baseline);
        assert_eq!(item.justification, None);
    }
    let undecided =
        items.iter().filter(|i| i.reviewer == "hr:E1002" && i.decision.is_none()).count();
    assert_eq!(undecided, 0);
    let signoffs = scope.review_signoffs(app.campaign).await.unwrap();
    assert!(signoffs.iter().any(|s| s.reviewer == "hr:E1002" && s.stage == 1));
    result
}

#[tokio::test]
async fn manager_reviews_in_chromium() {
    let app = App::start().await;
    manager_reviews(&app).await;
}

/// Brings the campaign to its second stage through the store. The director hands the
/// items about their own access to the practice manager, because the store rejects
/// decisions on one's own access. Then every first-stage reviewer who has not signed off
/// revokes their undecided items and signs off.
async fn finish_first_stage(app: &App) {
    let scope = app.store.tenant(&harborview());
    let items = scope.review_items(app.campaign).await.unwrap();
    let own: Vec<i32> = items
        .iter()
        .filter(|i| i.reviewer == "hr:E1001" && i.reviewee == "hr:E1001")
        .map(|i| i.item_id)
        .collect();
    if !own.is_empty() {
        let reassign = ReviewAction {
            actor: "hr:E1001".into(),
            at: Utc::now(),
            item_ids: own,
            kind: ReviewActionKind::Reassign { to: "hr:E1003".into() },
            justification: None,
        };
        scope.decide_review_items(app.campaign, &reassign).await.unwrap();
    }

    let items = scope.review_items(app.campaign).await.unwrap();
    let signed: BTreeSet<String> = scope
        .review_signoffs(app.campaign)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.reviewer)
        .collect();
    let reviewers: BTreeSet<&str> = items.iter().map(|i| i.reviewer.as_str()).collect();
    for reviewer in reviewers.into_iter().filter(|r| !signed.contains(*r)) {
        let undecided: Vec<i32> = items
            .iter()
            .filter(|i| i.reviewer == reviewer && i.decision.is_none())
            .map(|i| i.item_id)
            .collect();
        if !undecided.is_empty() {
            let revoke = ReviewAction {
                actor: reviewer.to_owned(),
                at: Utc::now(),
                item_ids: undecided,
                kind: ReviewActionKind::Revoke,
                justification: None,
            };
            scope.decide_review_items(app.campaign, &revoke).await.unwrap();
        }
        scope.sign_off_review(app.campaign, reviewer, Utc::now()).await.unwrap();
    }
    let campaign = scope.review_campaign(app.campaign).await.unwrap().unwrap();
    assert_eq!(campaign.status, CampaignStatus::SecondStage);
}

#[tokio::test]
async fn officer_closes_campaign_in_chromium() {
    let app = App::start().await;
    let manager = manager_reviews(&app).await;
    finish_first_stage(&app).await;

    // The officer approves an item the manager bulk-revoked.
    let changed = manager["bulk_items"][0].as_str().unwrap().to_owned();
    let campaign = app.campaign.to_string();
    let officer = officer_login();
    let downloads = tempfile::tempdir().unwrap();
    let download_dir = downloads.path().to_str().unwrap().to_owned();
    let result = run_script(
        "signoff.mjs",
        &[
            ("BASE_URL", &app.base),
            ("CAMPAIGN", &campaign),
            ("MANAGER_LOGIN", OFFICE_MANAGER_E1002),
            ("OFFICER_LOGIN", &officer),
            ("CHANGE_ITEM", &changed),
            ("JUSTIFICATION", OFFICER_JUSTIFICATION),
            ("DOWNLOAD_DIR", &download_dir),
        ],
    )
    .await;

    // The manager, in the second stage.
    assert_eq!(result["manager_overview_links"], 0, "{result}");
    assert_eq!(result["manager_overview_status"], 403, "{result}");
    assert_eq!(result["manager_overview_error"], "forbidden", "{result}");
    assert_eq!(result["manager_signoff_buttons"], 0, "{result}");
    assert_eq!(result["manager_evidence_status"], 403, "{result}");

    // The officer: the overview before the sign-off, every item, the sign-off.
    let status_before = result["status_before"].as_str().unwrap();
    assert!(status_before.contains("in the security officer's review"), "{status_before}");
    assert!(result["reviewers"].as_u64().unwrap() > 1, "{result}");
    assert_eq!(result["reviewers_not_signed_off"], 0, "{result}");
    let scope = app.store.tenant(&harborview());
    let items = scope.review_items(app.campaign).await.unwrap();
    assert_eq!(result["items_shown"], items.len(), "the second stage shows every item");
    assert_eq!(result["changed_decision"], "Approved", "{result}");
    assert_eq!(result["signoff_buttons_after"], 0, "{result}");
    let status_after = result["status_after"].as_str().unwrap();
    assert!(status_after.contains("closed"), "{status_after}");

    // The store: closed, signed off in the second stage by the director, the approval.
    let stored = scope.review_campaign(app.campaign).await.unwrap().unwrap();
    assert_eq!(stored.status, CampaignStatus::Closed);
    let signoffs = scope.review_signoffs(app.campaign).await.unwrap();
    let second: Vec<_> = signoffs.iter().filter(|s| s.stage == 2).collect();
    assert_eq!(second.len(), 1, "{signoffs:?}");
    assert_eq!(second[0].reviewer, "hr:E1001");
    let changed_id = item_id(&manager["bulk_items"][0]);
    let approved = items.iter().find(|i| i.item_id == changed_id).unwrap();
    assert_eq!(approved.decision.as_deref(), Some("approve"));
    assert_eq!(approved.decided_by.as_deref(), Some("hr:E1001"));
    assert_eq!(approved.justification.as_deref(), Some(OFFICER_JUSTIFICATION));

    // The pack the officer downloaded from the overview, unpacked as an auditor would.
    let folder = format!("rollcall-evidence-harborview-{campaign}");
    assert_eq!(result["download_name"], format!("{folder}.tar"), "{result}");
    let tar_file = std::fs::File::open(result["download_path"].as_str().unwrap()).unwrap();
    tar::Archive::new(tar_file).unpack(downloads.path()).unwrap();
    let audit = scope.audit_entries(0, 100_000).await.unwrap();
    let exports: Vec<_> = audit.iter().filter(|e| e.action == EXPORT_ACTION).collect();
    assert_eq!(exports.len(), 1, "one export recorded");
    assert_eq!(exports[0].actor, "reviews-web:hr:E1001");
    check_evidence(&app, &manager, &items, &downloads.path().join(folder));
}

/// Returns the `rollcall` CLI next to this test binary, as the workspace's other tests
/// find binaries of other crates.
fn rollcall_cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test binary>
    let path = exe.parent().and_then(Path::parent).unwrap().join("rollcall");
    assert!(
        path.exists(),
        "{} is missing; build it with `cargo build -p rollcall-cli` \
         (`cargo test --workspace` builds it)",
        path.display()
    );
    path
}

fn verify(pack: &Path) -> Output {
    std::process::Command::new(rollcall_cli())
        .args(["evidence", "verify"])
        .arg(pack)
        .env_clear()
        .output()
        .unwrap()
}

/// Parses CSV as RFC 4180 writes it: fields in double quotes may hold commas, line breaks
/// and doubled quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, other) => field.push(other),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, other) => field.push(other),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Checks the downloaded evidence pack in `pack` with the `rollcall` CLI: it verifies and
/// contains the browser's decisions, and a copy with one changed justification byte or
/// one changed decision fails, naming the file and item.
fn check_evidence(app: &App, manager: &Value, items: &[StoredReviewItem], pack: &Path) {
    let root = tempfile::tempdir().unwrap();

    let output = verify(pack);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let intact =
        format!("intact: campaign {} of tenant harborview, {} items", app.campaign, items.len());
    assert!(stdout.contains(&intact), "{stdout}");

    // The decisions made in the browser, as (item, decision, decided by, justification).
    let keyboard = item_id(&manager["keyboard_item"]);
    let changed = item_id(&manager["bulk_items"][0]);
    let bulk_revoked = item_id(&manager["bulk_items"][1]);
    let expected = [
        (keyboard, "revoke", "hr:E1002", ""),
        (bulk_revoked, "revoke", "hr:E1002", ""),
        (changed, "approve", "hr:E1001", OFFICER_JUSTIFICATION),
    ];

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(pack.join(CAMPAIGN_FILE)).unwrap()).unwrap();
    let records = json["items"].as_array().unwrap();
    assert_eq!(records.len(), items.len());
    for (id, decision, by, justification) in expected {
        let record = records.iter().find(|r| r["item_id"] == id).unwrap();
        assert_eq!(record["decision"], decision, "campaign.json item {id}");
        assert_eq!(record["decided_by"], by, "campaign.json item {id}");
        assert_eq!(record["justification"].as_str().unwrap_or(""), justification, "item {id}");
    }
    let delegated = item_id(&manager["delegated_item"]);
    let record = records.iter().find(|r| r["item_id"] == delegated).unwrap();
    assert_eq!(record["reviewer"], "hr:E1003", "the delegated item");
    assert_eq!(record["previous_reviewer"], "hr:E1002", "the delegated item");
    let signoffs = json["signoffs"].as_array().unwrap();
    assert!(
        signoffs.iter().any(|s| s["reviewer"] == "hr:E1001" && s["stage"] == 2),
        "{signoffs:?}"
    );

    let rows = parse_csv(&std::fs::read_to_string(pack.join(CSV_FILE)).unwrap());
    let header = &rows[0];
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id_at, decision_at) = (column("item_id"), column("decision"));
    let (by_at, justification_at) = (column("decided_by"), column("justification"));
    assert_eq!(rows.len(), items.len() + 1, "a header and one row per item");
    for (id, decision, by, justification) in expected {
        let row = rows.iter().find(|row| row[id_at] == id.to_string()).unwrap();
        assert_eq!(row[decision_at], decision, "items.csv item {id}");
        assert_eq!(row[by_at], by, "items.csv item {id}");
        assert_eq!(row[justification_at], justification, "items.csv item {id}");
    }

    let report = std::fs::read_to_string(pack.join(HTML_FILE)).unwrap();
    let start = report.find(&format!("<tr id=\"item-{changed}\">")).unwrap();
    let row = &report[start..start + report[start..].find("</tr>").unwrap()];
    assert!(row.contains("<td class=\"flag\">approve</td><td>hr:E1001</td>"), "{row}");
    let escaped = OFFICER_JUSTIFICATION.replace('\'', "&#39;");
    assert!(row.contains(&format!("<td>{escaped}</td>")), "{row}");
    assert!(!report.contains("<script"), "the report runs no script");

    // One byte of the officer's justification in campaign.json.
    let tampered = tampered_copy(pack, root.path(), CAMPAIGN_FILE, |text| {
        text.replacen("night shift", "night shifT", 1)
    });
    assert_fails(&tampered, &format!("campaign.json: item {changed}: "));

    // The keyboard revocation turned into an approval in campaign.json.
    let tampered = tampered_copy(pack, root.path(), CAMPAIGN_FILE, |text| {
        let marker = format!("{{\"item_id\":{keyboard},");
        let lines = text.split('\n').map(|line| match line.starts_with(&marker) {
            true => line.replacen("\"decision\":\"revoke\"", "\"decision\":\"approve\"", 1),
            false => line.to_owned(),
        });
        lines.collect::<Vec<_>>().join("\n")
    });
    assert_fails(&tampered, &format!("campaign.json: item {keyboard}: "));

    // The same in items.csv. The decision is the field followed by the decider and the
    // decision instant; the recommendation can also read `revoke`.
    let tampered = tampered_copy(pack, root.path(), CSV_FILE, |text| {
        let prefix = format!("{keyboard},");
        let lines = text.split('\n').map(|line| {
            if !line.starts_with(&prefix) {
                return line.to_owned();
            }
            let field = ",revoke,hr:E1002,";
            let at = line
                .match_indices(field)
                .map(|(at, _)| at)
                .find(|at| line[at + field.len()..].starts_with(|c: char| c.is_ascii_digit()))
                .unwrap();
            format!("{},approve{}", &line[..at], &line[at + ",revoke".len()..])
        });
        lines.collect::<Vec<_>>().join("\n")
    });
    let stdout = assert_fails(&tampered, &format!("items.csv: item {keyboard}: "));
    assert!(!stdout.contains("has the same rows"), "a changed row is no byte difference: {stdout}");
}

/// Copies `pack` to a new folder under `root`, changes `file` with `edit` and returns the
/// copy. Fails when `edit` changed nothing.
fn tampered_copy(pack: &Path, root: &Path, file: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let copy = root.join(format!("tampered-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(pack).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let path = copy.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit of {file} changed nothing");
    std::fs::write(&path, edited).unwrap();
    copy
}

/// Checks that `rollcall evidence verify` rejects `pack` with exit status 1 and a problem
/// starting with `problem`, and returns the problems it printed.
fn assert_fails(pack: &Path, problem: &str) -> String {
    let output = verify(pack);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains(problem), "expected `{problem}` in:\n{stdout}");
    assert!(stderr.contains("failed verification"), "{stderr}");
    stdout.into_owned()
}

//! Evidence packs exported from a real PostgreSQL and verified offline: an intact pack,
//! a changed byte in every file, consistent forgeries of single files, and export errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../store/tests/support/mod.rs"]
mod support;

mod common;

use std::path::Path;

use chrono::TimeDelta;
use rollcall_reviews::evidence::{
    AUDIT_FILE, AuditLine, CAMPAIGN_FILE, CSV_FILE, EXPORT_ACTION, EvidenceError, HTML_FILE,
    MANIFEST_FILE, Manifest, Verification, export_campaign, verify_pack,
};
use rollcall_reviews::expire_overdue;
use rollcall_store::REVOCATIONS_REQUESTED;
use sha2::{Digest, Sha256};
use support::TestDb;
use uuid::Uuid;

use common::{
    REVOKE_AT_EXPIRY, SIGNED_OFF, closed_campaign, example_config, example_tenant, launched, now,
    present_keys, resync,
};

const ACTOR: &str = "security-officer@harborview.example";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies the pack in `from` into a new temporary folder.
fn copy_pack(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.path().join(entry.file_name())).unwrap();
    }
    to
}

fn problems_text(verification: &Verification) -> String {
    verification.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Asserts that `verification` has a problem in `file` whose record contains `record`.
fn assert_problem(verification: &Verification, file: &str, record: &str) {
    let found = verification
        .problems
        .iter()
        .any(|p| p.file == file && p.record.as_deref().is_some_and(|r| r.contains(record)));
    assert!(found, "no problem in {file} naming {record}:\n{}", problems_text(verification));
}

/// Rewrites the manifest's digests for `file` after a forger changed it, so only the
/// checks beyond the digests can catch the change.
fn refresh_manifest(dir: &Path, file: &str) {
    let path = dir.join(MANIFEST_FILE);
    let mut manifest: Manifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let bytes = std::fs::read(dir.join(file)).unwrap();
    for digest in manifest.files.iter_mut().filter(|d| d.name == file) {
        digest.bytes = bytes.len() as u64;
        digest.sha256 = hex(&Sha256::digest(&bytes));
    }
    if file == CAMPAIGN_FILE {
        let text = String::from_utf8(bytes).unwrap();
        manifest.campaign_lines_sha256 = text
            .strip_suffix('\n')
            .unwrap()
            .split('\n')
            .map(|line| hex(&Sha256::digest(line.as_bytes())))
            .collect();
    }
    let mut out = serde_json::to_vec_pretty(&manifest).unwrap();
    out.push(b'\n');
    std::fs::write(&path, out).unwrap();
}

/// Replaces the first occurrence of `from` on the line of `file` that contains `marker`.
fn edit_line(dir: &Path, file: &str, marker: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut done = false;
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            if !done && line.contains(marker) && line.contains(from) {
                done = true;
                line.replacen(from, to, 1)
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(done, "{file} has no line with {marker:?} and {from:?}");
    std::fs::write(&path, lines.join("\n")).unwrap();
}

#[tokio::test]
async fn closed_campaign_exports_and_verifies() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let (campaign, revoked) = closed_campaign(&scope).await;
    assert!(!revoked.is_empty(), "the example plants grants recommended for revocation");
    let items = scope.review_items(campaign).await.unwrap();

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    let at = now() + TimeDelta::days(1);
    let summary = export_campaign(&scope, campaign, &dir, at, ACTOR).await.unwrap();
    assert_eq!(summary.items, items.len());

    let verification = verify_pack(&dir).unwrap();
    assert!(verification.is_intact(), "{}", problems_text(&verification));
    assert_eq!(verification.items, items.len());
    assert_eq!(verification.campaign_id.as_deref(), Some(campaign.to_string().as_str()));

    // The chain part runs from the launch to the removal requests written at the close,
    // and the unrelated entry in between is withheld.
    let audit: Vec<AuditLine> = std::fs::read_to_string(dir.join(AUDIT_FILE))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(audit.first().unwrap().action.as_deref(), Some("review.launched"));
    assert_eq!(audit.last().unwrap().action.as_deref(), Some(REVOCATIONS_REQUESTED));
    let withheld: Vec<&AuditLine> = audit.iter().filter(|line| line.withheld).collect();
    assert_eq!(withheld.len(), 1, "{audit:?}");
    assert_eq!(withheld[0].detail, None);
    assert_eq!(verification.entries, audit.len());

    // The CSV has a header and one row per item, and each row has its decision.
    let mut reader = csv::Reader::from_path(dir.join(CSV_FILE)).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), items.len());
    for row in &rows {
        let item_id: i32 = row[0].parse().unwrap();
        let decision = if revoked.contains(&item_id) { "revoke" } else { "approve" };
        assert_eq!(&row[12], decision, "item {item_id}");
        assert!(!row[13].is_empty(), "item {item_id} has no decider");
        // A revoked grant's removal was requested at the close and not yet verified.
        let removal = if revoked.contains(&item_id) { "open" } else { "" };
        assert_eq!(&row[17], removal, "item {item_id}");
        assert_eq!(&row[18], "", "item {item_id}");
    }

    // The report escapes the justification and lists every item.
    let html = std::fs::read_to_string(dir.join(HTML_FILE)).unwrap();
    assert!(html.contains("&lt;b&gt;confirmed&lt;/b&gt; &quot;by phone&quot;"));
    assert!(!html.contains("<b>confirmed</b>"));
    for item in &items {
        assert!(html.contains(&format!("<tr id=\"item-{}\">", item.item_id)));
    }

    // The export is in the chain with the manifest's digest.
    let manifest = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
    assert_eq!(summary.manifest_sha256, hex(&Sha256::digest(&manifest)));
    let entries = scope.audit_entries(0, 10_000).await.unwrap();
    let export = entries.last().unwrap();
    assert_eq!(export.action, EXPORT_ACTION);
    assert!(export.detail.contains(&summary.manifest_sha256));
    assert_eq!(export.actor, ACTOR);
}

#[tokio::test]
async fn changed_byte_fails_in_every_file() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let (campaign, _) = closed_campaign(&scope).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    export_campaign(&scope, campaign, &dir, now() + TimeDelta::days(1), ACTOR).await.unwrap();

    for file in [CAMPAIGN_FILE, CSV_FILE, HTML_FILE, AUDIT_FILE, MANIFEST_FILE] {
        let len = std::fs::metadata(dir.join(file)).unwrap().len() as usize;
        // Twenty positions spread over the file, the first and the last byte included.
        let positions: Vec<usize> = (0..20).map(|i| i * (len - 1) / 19).collect();
        for position in positions {
            let copy = copy_pack(&dir);
            let path = copy.path().join(file);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[position] ^= 0x01;
            std::fs::write(&path, &bytes).unwrap();

            let verification = verify_pack(copy.path()).unwrap();
            assert!(!verification.is_intact(), "a flip at byte {position} of {file} passed");
            let named =
                verification.problems.iter().any(|p| p.file == file || p.message.contains(file));
            assert!(named, "byte {position} of {file}:\n{}", problems_text(&verification));
        }
    }
}

#[tokio::test]
async fn forged_files_name_the_record() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let (campaign, revoked) = closed_campaign(&scope).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    export_campaign(&scope, campaign, &dir, now() + TimeDelta::days(1), ACTOR).await.unwrap();
    let revoked_item = *revoked.first().unwrap();
    let marker = format!("{{\"item_id\":{revoked_item},");

    // A revocation turned into an approval, with the manifest's digests recomputed: the
    // audit chain still records the revocation.
    let copy = copy_pack(&dir);
    edit_line(
        copy.path(),
        CAMPAIGN_FILE,
        &marker,
        "\"decision\":\"revoke\"",
        "\"decision\":\"approve\"",
    );
    let before = verify_pack(copy.path()).unwrap();
    assert_problem(&before, CAMPAIGN_FILE, &format!("item {revoked_item}"));
    refresh_manifest(copy.path(), CAMPAIGN_FILE);
    let forged = verify_pack(copy.path()).unwrap();
    assert_problem(&forged, CAMPAIGN_FILE, &format!("item {revoked_item}"));
    assert!(forged.problems.iter().all(|p| p.file != MANIFEST_FILE), "{}", problems_text(&forged));
    // The renderings no longer agree with the forged file either.
    assert_problem(&forged, CSV_FILE, &format!("item {revoked_item}"));

    // The CSV row of that item changed to an approval.
    let copy = copy_pack(&dir);
    let path = copy.path().join(CSV_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let prefix = format!("{revoked_item},");
    let edited: Vec<String> = text
        .lines()
        .map(|line| match line.starts_with(&prefix) {
            true => line.replacen(",revoke,", ",approve,", 1),
            false => line.to_owned(),
        })
        .collect();
    assert_ne!(edited.join("\n") + "\n", text);
    std::fs::write(&path, edited.join("\n") + "\n").unwrap();
    let verification = verify_pack(copy.path()).unwrap();
    assert_problem(&verification, CSV_FILE, &format!("item {revoked_item}"));

    // The report's row of that item.
    let copy = copy_pack(&dir);
    let row = format!("<tr id=\"item-{revoked_item}\">");
    edit_line(copy.path(), HTML_FILE, &row, ">revoke<", ">approve<");
    let verification = verify_pack(copy.path()).unwrap();
    assert_problem(&verification, HTML_FILE, &format!("item {revoked_item}"));

    // An audit entry's detail, and an audit entry removed.
    let copy = copy_pack(&dir);
    edit_line(copy.path(), AUDIT_FILE, "review.decided", "revoke", "approve");
    let verification = verify_pack(copy.path()).unwrap();
    assert_problem(&verification, AUDIT_FILE, "audit entry");
    let copy = copy_pack(&dir);
    let path = copy.path().join(AUDIT_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let removed: AuditLine = serde_json::from_str(lines.remove(1)).unwrap();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    refresh_manifest(copy.path(), AUDIT_FILE);
    let verification = verify_pack(copy.path()).unwrap();
    assert_problem(&verification, AUDIT_FILE, &format!("audit entry {}", removed.seq + 1));

    // A file added, and a file removed.
    let copy = copy_pack(&dir);
    std::fs::write(copy.path().join("notes.txt"), "added later").unwrap();
    let verification = verify_pack(copy.path()).unwrap();
    assert!(
        verification.problems.iter().any(|p| p.file == "notes.txt"),
        "{}",
        problems_text(&verification)
    );
    let copy = copy_pack(&dir);
    std::fs::remove_file(copy.path().join(CSV_FILE)).unwrap();
    let verification = verify_pack(copy.path()).unwrap();
    assert!(
        verification.problems.iter().any(|p| p.file == CSV_FILE && p.message.contains("missing")),
        "{}",
        problems_text(&verification)
    );
}

#[tokio::test]
async fn expired_campaign_verifies() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, REVOKE_AT_EXPIRY).await;
    let scope = store.tenant(&id);
    let campaign = launched(&scope).await;
    let expired = expire_overdue(&scope, now() + TimeDelta::days(15)).await.unwrap();
    assert_eq!(expired.len(), 1, "{expired:?}");

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    export_campaign(&scope, campaign, &dir, now() + TimeDelta::days(16), ACTOR).await.unwrap();
    let verification = verify_pack(&dir).unwrap();
    assert!(verification.is_intact(), "{}", problems_text(&verification));
    let text = std::fs::read_to_string(dir.join(CAMPAIGN_FILE)).unwrap();
    assert!(text.contains("the default action at the deadline"));
}

#[tokio::test]
async fn export_rejects_bad_targets() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let campaign = launched(&scope).await;
    let out = tempfile::tempdir().unwrap();

    let unknown = Uuid::new_v4();
    let error = export_campaign(&scope, unknown, &out.path().join("a"), now(), ACTOR).await;
    assert!(
        matches!(&error, Err(EvidenceError::CampaignNotFound { campaign, .. }) if campaign == &unknown.to_string()),
        "{error:?}"
    );
    assert!(!out.path().join("a").exists());

    std::fs::write(out.path().join("old.txt"), "an older pack").unwrap();
    let error = export_campaign(&scope, campaign, out.path(), now(), ACTOR).await;
    assert!(matches!(error, Err(EvidenceError::FolderNotEmpty(_))), "{error:?}");

    // Another tenant's scope does not see the campaign.
    let other = rollcall_core::TenantId::new("other-practice").unwrap();
    let error =
        export_campaign(&store.tenant(&other), campaign, &out.path().join("b"), now(), ACTOR).await;
    assert!(matches!(error, Err(EvidenceError::CampaignNotFound { .. })), "{error:?}");

    // A folder that is not a pack.
    let missing = verify_pack(&out.path().join("nothing-here"));
    assert!(matches!(missing, Err(EvidenceError::Io { .. })), "{missing:?}");
    let verification = verify_pack(out.path()).unwrap();
    assert!(
        verification.problems.iter().any(|p| p.file == MANIFEST_FILE),
        "{}",
        problems_text(&verification)
    );
}

#[tokio::test]
async fn verified_removal_is_in_the_pack() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let id = example_tenant(&store, SIGNED_OFF).await;
    let scope = store.tenant(&id);
    let (campaign, _) = closed_campaign(&scope).await;
    let rows = scope.review_revocations(Some(campaign)).await.unwrap();
    let items = scope.review_items(campaign).await.unwrap();
    let target = rows
        .iter()
        .find(|row| {
            let item = items.iter().find(|i| i.item_id == row.item_id).unwrap();
            item.facts["grant"]["direct"] == true
                && !row.item_key.contains('@')
                && !row.item_key.contains('~')
        })
        .expect("a revoked direct grant");
    let synced = now() + TimeDelta::hours(5);
    let dropped = Some((target.account_id.as_str(), target.entitlement_id.as_str()));
    resync(&scope, &target.source, synced, dropped).await;
    let present = present_keys(&scope, &example_config()).await;
    let window = TimeDelta::days(7);
    scope.reconcile_revocations(&present, synced, window, "rollcall-engine").await.unwrap();

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    export_campaign(&scope, campaign, &dir, now() + TimeDelta::days(1), ACTOR).await.unwrap();
    let verification = verify_pack(&dir).unwrap();
    assert!(verification.is_intact(), "{}", problems_text(&verification));

    let mut reader = csv::Reader::from_path(dir.join(CSV_FILE)).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = rows.iter().find(|r| r[0] == target.item_id.to_string()).unwrap();
    assert_eq!(&row[17], "verified");
    assert_eq!(&row[18], "2026-12-01T20:00:00.000000Z");
    let html = std::fs::read_to_string(dir.join(HTML_FILE)).unwrap();
    assert!(html.contains("verified gone 2026-12-01T20:00:00.000000Z"));

    // A forged verification instant, with the manifest recomputed: the chain disagrees.
    let copy = copy_pack(&dir);
    let marker = format!("{{\"item_id\":{},", target.item_id);
    edit_line(copy.path(), CAMPAIGN_FILE, &marker, "2026-12-01T20:00:00", "2026-12-01T19:00:00");
    refresh_manifest(copy.path(), CAMPAIGN_FILE);
    let forged = verify_pack(copy.path()).unwrap();
    let named = forged.problems.iter().any(|p| {
        p.file == CAMPAIGN_FILE
            && p.record.as_deref() == Some(format!("item {}", target.item_id).as_str())
            && p.message.contains("`removal`")
    });
    assert!(named, "{}", problems_text(&forged));
}

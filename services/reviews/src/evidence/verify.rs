//! Checking a pack folder with no server.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::chain::{EntryFields, entry_hash};
use super::error::EvidenceError;
use super::files::{
    AUDIT_FILE, AuditLine, CAMPAIGN_FILE, CSV_FILE, CampaignFile, FORMAT, HTML_FILE, MANIFEST_FILE,
    Manifest,
};
use super::hex;
use super::render::{render_csv, render_html};
use super::replay::{CampaignEntry, check_against_chain};

/// One thing in a pack that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, such as `campaign.json`.
    pub file: String,
    /// The record in the file, such as `item 4` or `audit entry 17`, when one is named.
    pub record: Option<String>,
    /// The description of the problem.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(file: &str, record: Option<String>, message: String) -> Self {
        Problem { file: file.to_owned(), record, message }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.record {
            Some(record) => write!(f, "{}: {record}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The result of [`verify_pack`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Every problem found; empty when the pack is intact.
    pub problems: Vec<Problem>,
    /// The tenant named in the manifest.
    pub tenant: Option<String>,
    /// The campaign named in the manifest.
    pub campaign_id: Option<String>,
    /// The number of items in `campaign.json`.
    pub items: usize,
    /// The number of audit entries in `audit.jsonl`, withheld ones included.
    pub entries: usize,
}

impl Verification {
    /// Returns whether the pack has no problem.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The data files a pack lists in its manifest.
const DATA_FILES: [&str; 4] = [CAMPAIGN_FILE, CSV_FILE, HTML_FILE, AUDIT_FILE];

/// Verifies the pack in `dir` and lists every problem. It checks the manifest's
/// canonical form, each file's size and SHA-256 and each line of `campaign.json`. It
/// follows the audit entries' hashes and links from the anchor to the head, and compares
/// the records with a replay of the entries. `items.csv` and `report.html` must equal
/// their rendering from `campaign.json`. Fails only when the folder cannot be read.
pub fn verify_pack(dir: &Path) -> Result<Verification, EvidenceError> {
    let mut result = Verification {
        problems: Vec::new(),
        tenant: None,
        campaign_id: None,
        items: 0,
        entries: 0,
    };
    let present = list_folder(dir)?;
    let problems = &mut result.problems;

    let Some(manifest) = read_manifest(dir, &present, problems)? else {
        return Ok(result);
    };
    result.tenant = Some(manifest.tenant.clone());
    result.campaign_id = Some(manifest.campaign_id.clone());

    check_files(dir, &present, &manifest, problems)?;

    let campaign = read_campaign(dir, &present, &manifest, problems)?;
    let audit = read_audit(dir, &present, &manifest, problems)?;
    result.entries = audit.as_ref().map_or(0, Vec::len);

    if let Some(campaign) = &campaign {
        result.items = campaign.items.len();
        if let Some(audit) = &audit {
            let entries = campaign_entries(audit, &manifest.campaign_id);
            check_against_chain(campaign, &entries, problems);
        }
        check_csv(dir, &present, campaign, problems)?;
        check_html(dir, &present, campaign, problems)?;
    }
    Ok(result)
}

fn list_folder(dir: &Path) -> Result<BTreeSet<String>, EvidenceError> {
    let entries = std::fs::read_dir(dir).map_err(EvidenceError::io("read the folder", dir))?;
    let mut names = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(EvidenceError::io("read the folder", dir))?;
        names.insert(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, EvidenceError> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(EvidenceError::io("read", &path))
}

fn read_manifest(
    dir: &Path,
    present: &BTreeSet<String>,
    problems: &mut Vec<Problem>,
) -> Result<Option<Manifest>, EvidenceError> {
    if !present.contains(MANIFEST_FILE) {
        problems.push(Problem::new(
            MANIFEST_FILE,
            None,
            "is missing, so nothing in the folder can be checked".into(),
        ));
        return Ok(None);
    }
    let bytes = read(dir, MANIFEST_FILE)?;
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(manifest) => manifest,
        Err(error) => {
            problems.push(Problem::new(
                MANIFEST_FILE,
                None,
                format!("is not a valid manifest: {error}"),
            ));
            return Ok(None);
        }
    };
    // The export writes the manifest in serde_json's pretty form, which holds only
    // strings and integers, so any other byte sequence was changed after the export.
    let canonical = manifest_bytes(&manifest);
    if canonical != bytes {
        let line = first_different_line(&canonical, &bytes);
        problems.push(Problem::new(
            MANIFEST_FILE,
            Some(format!("line {line}")),
            "differs from the form the export writes; the file was edited".into(),
        ));
    }
    if manifest.format != FORMAT {
        problems.push(Problem::new(
            MANIFEST_FILE,
            None,
            format!("has format `{}`; this verifier reads `{FORMAT}`", manifest.format),
        ));
    }
    Ok(Some(manifest))
}

/// Writes the manifest as the export does.
pub(crate) fn manifest_bytes(manifest: &Manifest) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(manifest).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Returns the 1-based number of the first line where `a` and `b` differ.
fn first_different_line(a: &[u8], b: &[u8]) -> usize {
    let mut left = a.split(|&byte| byte == b'\n');
    let mut right = b.split(|&byte| byte == b'\n');
    let mut line = 1;
    loop {
        match (left.next(), right.next()) {
            (Some(l), Some(r)) if l == r => line += 1,
            (None, None) => return line,
            _ => return line,
        }
    }
}

fn check_files(
    dir: &Path,
    present: &BTreeSet<String>,
    manifest: &Manifest,
    problems: &mut Vec<Problem>,
) -> Result<(), EvidenceError> {
    let listed: BTreeSet<&str> = manifest.files.iter().map(|file| file.name.as_str()).collect();
    for name in DATA_FILES {
        if !listed.contains(name) {
            problems.push(Problem::new(MANIFEST_FILE, None, format!("does not list `{name}`")));
        }
    }
    for name in present {
        if name != MANIFEST_FILE && !listed.contains(name.as_str()) {
            problems.push(Problem::new(
                name,
                None,
                "is not listed in manifest.json, so it is not part of the pack".into(),
            ));
        }
    }
    for file in &manifest.files {
        if !DATA_FILES.contains(&file.name.as_str()) {
            problems.push(Problem::new(
                MANIFEST_FILE,
                None,
                format!("lists `{}`, which is not a file of the pack format", file.name),
            ));
            continue;
        }
        if !present.contains(&file.name) {
            problems.push(Problem::new(&file.name, None, "is missing".into()));
            continue;
        }
        let bytes = read(dir, &file.name)?;
        if bytes.len() as u64 != file.bytes {
            problems.push(Problem::new(
                &file.name,
                None,
                format!("has {} bytes, but manifest.json lists {}", bytes.len(), file.bytes),
            ));
        }
        let digest = hex::sha256(&bytes);
        if digest != file.sha256 {
            problems.push(Problem::new(
                &file.name,
                None,
                format!("has SHA-256 `{digest}`, but manifest.json lists `{}`", file.sha256),
            ));
        }
    }
    Ok(())
}

fn read_text(
    dir: &Path,
    present: &BTreeSet<String>,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Result<Option<String>, EvidenceError> {
    if !present.contains(name) {
        return Ok(None);
    }
    match String::from_utf8(read(dir, name)?) {
        Ok(text) => Ok(Some(text)),
        Err(error) => {
            problems.push(Problem::new(name, None, format!("is not UTF-8 text: {error}")));
            Ok(None)
        }
    }
}

fn read_campaign(
    dir: &Path,
    present: &BTreeSet<String>,
    manifest: &Manifest,
    problems: &mut Vec<Problem>,
) -> Result<Option<CampaignFile>, EvidenceError> {
    let Some(text) = read_text(dir, present, CAMPAIGN_FILE, problems)? else {
        return Ok(None);
    };
    let parsed = CampaignFile::parse(&text);
    let items = parsed.as_ref().map(|file| file.items.as_slice()).unwrap_or_default();

    let lines: Vec<&str> = text.strip_suffix('\n').unwrap_or(&text).split('\n').collect();
    if lines.len() != manifest.campaign_lines_sha256.len() {
        problems.push(Problem::new(
            CAMPAIGN_FILE,
            None,
            format!(
                "has {} lines, but manifest.json lists {} line digests",
                lines.len(),
                manifest.campaign_lines_sha256.len()
            ),
        ));
    }
    for (index, (line, expected)) in lines.iter().zip(&manifest.campaign_lines_sha256).enumerate() {
        if &hex::sha256(line.as_bytes()) != expected {
            problems.push(Problem::new(
                CAMPAIGN_FILE,
                Some(CampaignFile::line_record(index, items)),
                format!("line {} differs from its digest in manifest.json", index + 1),
            ));
        }
    }

    let file = match parsed {
        Ok(file) => file,
        Err(error) => {
            problems.push(Problem::new(CAMPAIGN_FILE, None, format!("is not valid: {error}")));
            return Ok(None);
        }
    };
    let header = &file.header;
    for (key, recorded, listed) in [
        ("format", &header.format, FORMAT),
        ("tenant", &header.tenant, manifest.tenant.as_str()),
        ("campaign_id", &header.campaign.campaign_id, manifest.campaign_id.as_str()),
        ("exported_at", &header.exported_at, manifest.exported_at.as_str()),
    ] {
        if recorded != listed {
            problems.push(Problem::new(
                CAMPAIGN_FILE,
                Some("the campaign".into()),
                format!("`{key}` is `{recorded}`, but manifest.json has `{listed}`"),
            ));
        }
    }
    Ok(Some(file))
}

fn read_audit(
    dir: &Path,
    present: &BTreeSet<String>,
    manifest: &Manifest,
    problems: &mut Vec<Problem>,
) -> Result<Option<Vec<AuditLine>>, EvidenceError> {
    let Some(text) = read_text(dir, present, AUDIT_FILE, problems)? else {
        return Ok(None);
    };
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match serde_json::from_str::<AuditLine>(line) {
            Ok(parsed) => lines.push(parsed),
            Err(error) => {
                problems.push(Problem::new(
                    AUDIT_FILE,
                    Some(format!("line {}", index + 1)),
                    format!("is not a valid audit entry: {error}"),
                ));
                return Ok(None);
            }
        }
    }
    check_chain(&lines, manifest, problems);
    Ok(Some(lines))
}

/// Follows the chain from the manifest's anchor: every full entry's hash is recomputed,
/// every entry must link to the one before, and the last hash must be the manifest's head.
fn check_chain(lines: &[AuditLine], manifest: &Manifest, problems: &mut Vec<Problem>) {
    let record = |seq: u64| Some(format!("audit entry {seq}"));
    let Some(anchors) = &manifest.chain else {
        if !lines.is_empty() {
            problems.push(Problem::new(
                AUDIT_FILE,
                None,
                "has entries, but manifest.json records no chain anchors".into(),
            ));
        }
        return;
    };
    let Some(anchor) = hex::decode_32(&anchors.anchor_sha256) else {
        problems.push(Problem::new(
            MANIFEST_FILE,
            None,
            "`chain.anchor_sha256` is not 64 hex digits".into(),
        ));
        return;
    };
    let mut prev = anchor;
    let mut expected_seq = anchors.first_seq;
    for line in lines {
        let seq = line.seq;
        if seq != expected_seq {
            problems.push(Problem::new(
                AUDIT_FILE,
                record(seq),
                format!(
                    "comes where entry {expected_seq} belongs; an entry was removed, added or moved"
                ),
            ));
            return;
        }
        let (Some(stored_prev), Some(stored)) =
            (hex::decode_32(&line.prev_sha256), hex::decode_32(&line.sha256))
        else {
            problems.push(Problem::new(
                AUDIT_FILE,
                record(seq),
                "has a hash that is not 64 hex digits".into(),
            ));
            return;
        };
        if stored_prev != prev {
            problems.push(Problem::new(
                AUDIT_FILE,
                record(seq),
                "does not link to the entry before it (or to the manifest's anchor)".into(),
            ));
        }
        if !line.withheld {
            let fields = EntryFields {
                tenant: &manifest.tenant,
                seq,
                recorded_at: line.recorded_at.as_deref().unwrap_or_default(),
                actor: line.actor.as_deref().unwrap_or_default(),
                action: line.action.as_deref().unwrap_or_default(),
                detail: line.detail.as_deref().unwrap_or_default(),
            };
            if entry_hash(&stored_prev, &fields) != stored {
                problems.push(Problem::new(
                    AUDIT_FILE,
                    record(seq),
                    "does not match its hash; its content was changed".into(),
                ));
            }
        } else if line.recorded_at.is_some()
            || line.actor.is_some()
            || line.action.is_some()
            || line.detail.is_some()
        {
            problems.push(Problem::new(
                AUDIT_FILE,
                record(seq),
                "is marked withheld but carries content".into(),
            ));
        }
        prev = stored;
        expected_seq = seq + 1;
    }
    let last = expected_seq.saturating_sub(1);
    if lines.is_empty() || last != anchors.last_seq {
        problems.push(Problem::new(
            AUDIT_FILE,
            None,
            format!(
                "ends at entry {last}, but manifest.json lists the last entry as {}",
                anchors.last_seq
            ),
        ));
    } else if hex::encode(&prev) != anchors.head_sha256 {
        problems.push(Problem::new(
            AUDIT_FILE,
            record(last),
            "has a hash that differs from the head listed in manifest.json".into(),
        ));
    }
}

/// Returns the full entries whose detail names `campaign_id`.
fn campaign_entries<'a>(lines: &'a [AuditLine], campaign_id: &str) -> Vec<CampaignEntry<'a>> {
    lines
        .iter()
        .filter(|line| !line.withheld)
        .filter_map(|line| {
            let detail: Value = serde_json::from_str(line.detail.as_deref()?).ok()?;
            let about = detail.get("campaign_id").and_then(Value::as_str) == Some(campaign_id);
            about.then_some(CampaignEntry { line, detail })
        })
        .collect()
}

fn check_csv(
    dir: &Path,
    present: &BTreeSet<String>,
    campaign: &CampaignFile,
    problems: &mut Vec<Problem>,
) -> Result<(), EvidenceError> {
    if !present.contains(CSV_FILE) {
        return Ok(());
    }
    let bytes = read(dir, CSV_FILE)?;
    let Ok(rendered) = render_csv(campaign) else {
        problems.push(Problem::new(CSV_FILE, None, "cannot be rendered from campaign.json".into()));
        return Ok(());
    };
    let parse = |bytes: &[u8]| -> Result<Vec<csv::StringRecord>, csv::Error> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes)
            .records()
            .collect()
    };
    let (expected, found) = match (parse(&rendered), parse(&bytes)) {
        (Ok(expected), Ok(found)) => (expected, found),
        (_, Err(error)) => {
            problems.push(Problem::new(CSV_FILE, None, format!("is not valid CSV: {error}")));
            return Ok(());
        }
        (Err(_), _) => return Ok(()),
    };
    let mut rows_differ = false;
    for (index, (want, got)) in expected.iter().zip(&found).enumerate() {
        if want != got {
            rows_differ = true;
            let record = match index {
                0 => "the header".to_owned(),
                _ => format!("item {}", want.get(0).unwrap_or("?")),
            };
            problems.push(Problem::new(
                CSV_FILE,
                Some(record),
                format!("row {} differs from the same item in campaign.json", index + 1),
            ));
        }
    }
    if expected.len() != found.len() {
        problems.push(Problem::new(
            CSV_FILE,
            None,
            format!("has {} rows, but campaign.json gives {}", found.len(), expected.len()),
        ));
    } else if !rows_differ && bytes != rendered {
        problems.push(Problem::new(
            CSV_FILE,
            None,
            "has the same rows as campaign.json but different bytes (quoting or line ends)".into(),
        ));
    }
    Ok(())
}

fn check_html(
    dir: &Path,
    present: &BTreeSet<String>,
    campaign: &CampaignFile,
    problems: &mut Vec<Problem>,
) -> Result<(), EvidenceError> {
    let Some(found) = read_text(dir, present, HTML_FILE, problems)? else {
        return Ok(());
    };
    let expected = render_html(campaign);
    if expected == found {
        return Ok(());
    }
    let line = first_different_line(expected.as_bytes(), found.as_bytes());
    // The item of the row on that line, or of the closest row above it.
    let record = expected
        .lines()
        .take(line)
        .filter_map(|text| text.strip_prefix("<tr id=\"item-"))
        .filter_map(|rest| rest.split('"').next())
        .last()
        .map_or_else(|| format!("line {line}"), |id| format!("line {line}, item {id}"));
    problems.push(Problem::new(
        HTML_FILE,
        Some(record),
        "differs from the report rendered from campaign.json".into(),
    ));
    Ok(())
}

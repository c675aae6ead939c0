//! The pack's file names and the records each file holds.
//!
//! These types are the file format, apart from the store's types, so the format changes
//! only on purpose. Instants are RFC 3339 in UTC with six fraction digits and `Z`, the
//! form the audit chain hashes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format tag of every file that carries one; a later layout gets a new tag.
pub const FORMAT: &str = "rollcall-evidence-v1";
/// The campaign, its items and its sign-offs.
pub const CAMPAIGN_FILE: &str = "campaign.json";
/// The items as CSV.
pub const CSV_FILE: &str = "items.csv";
/// The printable report.
pub const HTML_FILE: &str = "report.html";
/// The audit entries, one JSON object per line.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// The digests and chain anchors.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Formats an instant as the pack writes it.
pub(crate) fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The first line of `campaign.json`: everything but the items and sign-offs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignHeader {
    /// [`FORMAT`].
    pub format: String,
    /// The tenant id.
    pub tenant: String,
    /// When the pack was written.
    pub exported_at: String,
    /// The campaign.
    pub campaign: CampaignRecord,
}

/// The campaign row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRecord {
    /// The campaign's id (a UUID).
    pub campaign_id: String,
    /// The definition's id in tenant.yaml.
    pub definition_id: String,
    /// The campaign's name.
    pub name: String,
    /// The period for people, such as `2026-Q4`.
    pub period: String,
    /// The first instant of the period.
    pub period_start: String,
    /// When it launched.
    pub launched_at: String,
    /// The deadline.
    pub deadline: String,
    /// `open`, `second_stage` or `closed`.
    pub status: String,
    /// When it closed.
    pub closed_at: Option<String>,
    /// The decision given to undecided items at the deadline: `none`, `revoke`, `approve`.
    pub at_expiry: String,
    /// The fallback reviewer's identity key.
    pub fallback_reviewer: String,
    /// The second-stage reviewer's identity key.
    pub second_stage_reviewer: Option<String>,
    /// The definition as launched.
    pub definition: Value,
}

/// One review item: one grant of one person, with its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRecord {
    /// The item's number in the campaign, from 1.
    pub item_id: i32,
    /// The grant: `<source>/<account id>/<entitlement id>`.
    pub item_key: String,
    /// The identity key of the person whose access it is.
    pub reviewee: String,
    /// The identity key of the reviewer.
    pub reviewer: String,
    /// Why the reviewer was chosen: `manager`, `no_manager`, `self_review`,
    /// `entitlement_owner`, `delegated`, `reassigned`.
    pub reviewer_reason: String,
    /// The reviewer before the last delegation or reassignment.
    pub previous_reviewer: Option<String>,
    /// The grant or account is privileged.
    pub privileged: bool,
    /// No baseline of the person's job roles covers the grant.
    pub outside_baseline: bool,
    /// `keep` or `revoke`.
    pub recommendation: String,
    /// `approve` or `revoke`; `None` while undecided.
    pub decision: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// Why.
    pub justification: Option<String>,
    /// The facts shown to the reviewer, frozen at launch.
    pub facts: Value,
    /// The removal of a revoked grant, once the campaign closed.
    pub removal: Option<RemovalRecord>,
}

/// The follow-through of one revoke decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovalRecord {
    /// `open`, `verified` or `returned`.
    pub state: String,
    /// When the campaign closed and the removal was requested.
    pub requested_at: String,
    /// The collection instant of the sync that showed the grant gone.
    pub verified_at: Option<String>,
    /// The collection instant of the sync that showed the grant again.
    pub returned_at: Option<String>,
    /// When the grant was first found present after the tenant's window.
    pub overdue_at: Option<String>,
}

/// One reviewer's sign-off.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignoffRecord {
    /// 1 or 2.
    pub stage: i16,
    /// The reviewer's identity key.
    pub reviewer: String,
    /// When.
    pub signed_at: String,
}

/// `campaign.json` parsed, with the byte ranges of its lines kept for the digests.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignFile {
    /// The first line.
    pub header: CampaignHeader,
    /// One per line, in item order.
    pub items: Vec<ItemRecord>,
    /// The last line.
    pub signoffs: Vec<SignoffRecord>,
}

/// The line that opens the item list in `campaign.json`.
const ITEMS_OPEN: &str = "\"items\":[";
/// The line that closes it.
const ITEMS_CLOSE: &str = "],";
/// The start of the last line.
const SIGNOFFS_PREFIX: &str = "\"signoffs\":";

impl CampaignFile {
    /// Writes the file: the header object's members on the first line, then one item per
    /// line, then the sign-offs, so that each record has a line whose digest the manifest
    /// holds. The whole file is one JSON object.
    pub(crate) fn to_lines(&self) -> Result<Vec<String>, serde_json::Error> {
        let header = serde_json::to_string(&self.header)?;
        // `{"format":...,"campaign":{...}}` becomes `{"format":...,"campaign":{...},`.
        let open = header.strip_suffix('}').unwrap_or(&header);
        let mut lines = vec![format!("{open},")];
        lines.push(ITEMS_OPEN.to_owned());
        let count = self.items.len();
        for (index, item) in self.items.iter().enumerate() {
            let comma = if index + 1 < count { "," } else { "" };
            lines.push(format!("{}{comma}", serde_json::to_string(item)?));
        }
        lines.push(ITEMS_CLOSE.to_owned());
        lines.push(format!("{SIGNOFFS_PREFIX}{}}}", serde_json::to_string(&self.signoffs)?));
        Ok(lines)
    }

    /// Parses the file written by [`CampaignFile::to_lines`] joined with newlines.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Whole {
            format: String,
            tenant: String,
            exported_at: String,
            campaign: CampaignRecord,
            items: Vec<ItemRecord>,
            signoffs: Vec<SignoffRecord>,
        }
        let whole: Whole = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(CampaignFile {
            header: CampaignHeader {
                format: whole.format,
                tenant: whole.tenant,
                exported_at: whole.exported_at,
                campaign: whole.campaign,
            },
            items: whole.items,
            signoffs: whole.signoffs,
        })
    }

    /// Names the record on line `index` (from 0) of a file with `items` items.
    pub(crate) fn line_record(index: usize, items: &[ItemRecord]) -> String {
        match index {
            0 => "the campaign".to_owned(),
            1 => "the start of the item list".to_owned(),
            _ => match items.get(index - 2) {
                Some(item) => format!("item {}", item.item_id),
                None if index == items.len() + 2 => "the end of the item list".to_owned(),
                None => "the sign-offs".to_owned(),
            },
        }
    }
}

/// One line of `audit.jsonl`. An entry about something other than the campaign is
/// withheld: only its sequence number and hashes are written, which still lets the chain
/// be followed through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditLine {
    /// The position in the tenant's chain.
    pub seq: u64,
    /// When it happened; absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    /// The actor; absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The event; absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The detail as the exact JSON text that was hashed; absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The hash of the entry before, hex.
    pub prev_sha256: String,
    /// The entry's hash, hex.
    pub sha256: String,
    /// Whether the content was left out because it is not about the campaign.
    pub withheld: bool,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The tenant id, which each audit entry's hash covers.
    pub tenant: String,
    /// The campaign's id.
    pub campaign_id: String,
    /// When the pack was written.
    pub exported_at: String,
    /// The position of the pack's audit entries in the tenant's chain, or `None` when the
    /// chain has no entry about the campaign.
    pub chain: Option<ChainAnchors>,
    /// Every other file of the pack, by name.
    pub files: Vec<FileDigest>,
    /// The SHA-256 of each line of `campaign.json` without its newline, in order.
    pub campaign_lines_sha256: Vec<String>,
}

/// The ends of the pack's part of the chain, to compare with the live chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainAnchors {
    /// The sequence number of the first entry in `audit.jsonl`.
    pub first_seq: u64,
    /// The sequence number of the last entry.
    pub last_seq: u64,
    /// The hash the first entry links to, hex.
    pub anchor_sha256: String,
    /// The last entry's hash, hex.
    pub head_sha256: String,
}

/// A file's size and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// The file name in the pack folder.
    pub name: String,
    /// The size in bytes.
    pub bytes: u64,
    /// The SHA-256 of the content, hex.
    pub sha256: String,
}

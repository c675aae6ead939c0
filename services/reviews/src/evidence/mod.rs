//! Evidence packs: one folder per campaign that an auditor can check with no server.
//!
//! [`export_campaign`] reads a campaign, its items, decisions and sign-offs, and the part
//! of the tenant's audit chain about it, and writes five files:
//!
//! | file | content |
//! | --- | --- |
//! | `campaign.json` | the campaign, one item per line with its facts and decision, the sign-offs |
//! | `items.csv` | one row per item: who held what, who decided, when and why |
//! | `report.html` | the same as a printable page, grouped by person |
//! | `audit.jsonl` | the audit entries from the first to the last about the campaign, one per line |
//! | `manifest.json` | the SHA-256 of each file and of each line of `campaign.json`, and the chain's anchors |
//!
//! [`verify_pack`] checks a folder: every file's digest, the chain's hashes and links,
//! that replaying the audit entries gives the decisions and sign-offs in `campaign.json`,
//! and that `items.csv` and `report.html` are the renderings of `campaign.json`.
//! `docs/services/reviews.md` documents the format.

mod chain;
mod error;
mod export;
mod files;
mod hex;
mod render;
mod replay;
mod verify;

pub use error::EvidenceError;
pub use export::{EXPORT_ACTION, ExportSummary, build_pack, export_campaign};
pub use files::{
    AUDIT_FILE, AuditLine, CAMPAIGN_FILE, CSV_FILE, CampaignHeader, CampaignRecord, ChainAnchors,
    FORMAT, FileDigest, HTML_FILE, ItemRecord, MANIFEST_FILE, Manifest, SignoffRecord,
};
pub use render::{CSV_HEADER, render_csv, render_html};
pub use verify::{Problem, Verification, verify_pack};

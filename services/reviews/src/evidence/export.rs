//! Building a pack from the store's rows and writing it to a folder.

use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use rollcall_store::{AuditEntry, AuditRecord, CampaignEvidence, TenantScope};
use serde_json::json;
use uuid::Uuid;

use super::error::EvidenceError;
use super::files::{
    AUDIT_FILE, AuditLine, CAMPAIGN_FILE, CSV_FILE, CampaignFile, CampaignHeader, CampaignRecord,
    ChainAnchors, FORMAT, FileDigest, HTML_FILE, ItemRecord, MANIFEST_FILE, Manifest,
    RemovalRecord, SignoffRecord, instant,
};
use super::hex;
use super::render::{render_csv, render_html};
use super::verify::manifest_bytes;

/// The audit action recorded for each export, with the manifest's digest, so that a pack
/// can be matched with the live chain later.
pub const EXPORT_ACTION: &str = "evidence.exported";

/// The result of [`export_campaign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// The files written, manifest last, with their digests.
    pub files: Vec<FileDigest>,
    /// The number of items.
    pub items: usize,
    /// The number of audit entries in the pack, withheld ones included.
    pub entries: usize,
    /// The SHA-256 of `manifest.json`, also recorded in the audit chain.
    pub manifest_sha256: String,
}

/// Exports campaign `campaign_id` of `scope`'s tenant into `dir`, which must be missing or
/// empty. Records the export with an [`EXPORT_ACTION`] audit entry by `actor` that contains the
/// manifest's SHA-256, then writes the files, the manifest last.
pub async fn export_campaign(
    scope: &TenantScope<'_>,
    campaign_id: Uuid,
    dir: &Path,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<ExportSummary, EvidenceError> {
    let tenant = scope.tenant_id().as_str().to_owned();
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).map_err(EvidenceError::io("read the folder", dir))?;
        if entries.next().is_some() {
            return Err(EvidenceError::FolderNotEmpty(dir.to_path_buf()));
        }
    }
    let evidence = scope.campaign_evidence(campaign_id).await?.ok_or_else(|| {
        EvidenceError::CampaignNotFound {
            tenant: tenant.clone(),
            campaign: campaign_id.to_string(),
        }
    })?;
    let pack = build_pack(&tenant, &evidence, now)?;
    let manifest_sha256 = pack
        .iter()
        .find(|(name, _)| *name == MANIFEST_FILE)
        .map(|(_, bytes)| hex::sha256(bytes))
        .unwrap_or_default();

    let files: Vec<FileDigest> = pack
        .iter()
        .map(|(name, bytes)| FileDigest {
            name: (*name).to_owned(),
            bytes: bytes.len() as u64,
            sha256: hex::sha256(bytes),
        })
        .collect();
    let entry = AuditEntry {
        at: now,
        actor: actor.to_owned(),
        action: EXPORT_ACTION.to_owned(),
        detail: json!({
            "campaign_id": campaign_id.to_string(),
            "manifest_sha256": manifest_sha256,
            "items": evidence.items.len(),
        }),
    };
    scope.append_audit(&entry).await?;

    std::fs::create_dir_all(dir).map_err(EvidenceError::io("create the folder", dir))?;
    for (name, bytes) in &pack {
        let path = dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(EvidenceError::io("create", &path))?;
        file.write_all(bytes).map_err(EvidenceError::io("write", &path))?;
        file.sync_all().map_err(EvidenceError::io("write", &path))?;
    }
    tracing::info!(
        tenant = %tenant,
        campaign_id = %campaign_id,
        items = evidence.items.len(),
        entries = evidence.audit.len(),
        "evidence pack exported"
    );
    Ok(ExportSummary {
        files,
        items: evidence.items.len(),
        entries: evidence.audit.len(),
        manifest_sha256,
    })
}

/// Builds every file of the pack in memory, in the order they are written: the four data
/// files, then `manifest.json` over them.
pub fn build_pack(
    tenant: &str,
    evidence: &CampaignEvidence,
    exported_at: DateTime<Utc>,
) -> Result<Vec<(&'static str, Vec<u8>)>, EvidenceError> {
    let campaign_id = evidence.campaign.campaign_id.to_string();
    let encode = |reason: String| EvidenceError::Encode { campaign: campaign_id.clone(), reason };
    let exported_at = instant(exported_at);
    let file = campaign_file(tenant, evidence, &exported_at);

    let lines = file.to_lines().map_err(|e| encode(e.to_string()))?;
    let campaign_lines_sha256 = lines.iter().map(|line| hex::sha256(line.as_bytes())).collect();
    let mut campaign_json = lines.join("\n");
    campaign_json.push('\n');

    let csv = render_csv(&file).map_err(|e| encode(e.to_string()))?;
    let html = render_html(&file);
    let mut audit = String::new();
    for record in &evidence.audit {
        let line = audit_line(record, evidence.covering.contains(&record.seq));
        audit.push_str(&serde_json::to_string(&line).map_err(|e| encode(e.to_string()))?);
        audit.push('\n');
    }

    let mut pack: Vec<(&'static str, Vec<u8>)> = vec![
        (CAMPAIGN_FILE, campaign_json.into_bytes()),
        (CSV_FILE, csv),
        (HTML_FILE, html.into_bytes()),
        (AUDIT_FILE, audit.into_bytes()),
    ];
    let chain = match (evidence.audit.first(), evidence.audit.last()) {
        (Some(first), Some(last)) => Some(ChainAnchors {
            first_seq: first.seq,
            last_seq: last.seq,
            anchor_sha256: hex::encode(&evidence.anchor_sha256),
            head_sha256: hex::encode(&last.sha256),
        }),
        _ => None,
    };
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        tenant: tenant.to_owned(),
        campaign_id: campaign_id.clone(),
        exported_at,
        chain,
        files: pack
            .iter()
            .map(|(name, bytes)| FileDigest {
                name: (*name).to_owned(),
                bytes: bytes.len() as u64,
                sha256: hex::sha256(bytes),
            })
            .collect(),
        campaign_lines_sha256,
    };
    pack.push((MANIFEST_FILE, manifest_bytes(&manifest)));
    Ok(pack)
}

fn campaign_file(tenant: &str, evidence: &CampaignEvidence, exported_at: &str) -> CampaignFile {
    let campaign = &evidence.campaign;
    let header = CampaignHeader {
        format: FORMAT.to_owned(),
        tenant: tenant.to_owned(),
        exported_at: exported_at.to_owned(),
        campaign: CampaignRecord {
            campaign_id: campaign.campaign_id.to_string(),
            definition_id: campaign.definition_id.clone(),
            name: campaign.name.clone(),
            period: campaign.period_label.clone(),
            period_start: instant(campaign.period_start),
            launched_at: instant(campaign.launched_at),
            deadline: instant(campaign.deadline),
            status: campaign.status.as_str().to_owned(),
            closed_at: evidence.closed_at.map(instant),
            at_expiry: evidence.at_expiry.clone(),
            fallback_reviewer: campaign.fallback_reviewer.clone(),
            second_stage_reviewer: campaign.second_stage_reviewer.clone(),
            definition: evidence.definition.clone(),
        },
    };
    let items = evidence
        .items
        .iter()
        .map(|row| {
            let item = &row.item;
            ItemRecord {
                item_id: item.item_id,
                item_key: item.item_key.clone(),
                reviewee: item.reviewee.clone(),
                reviewer: item.reviewer.clone(),
                reviewer_reason: item.reviewer_reason.as_str().to_owned(),
                previous_reviewer: row.previous_reviewer.clone(),
                privileged: item.privileged,
                outside_baseline: item.outside_baseline,
                recommendation: if item.recommend_revoke { "revoke" } else { "keep" }.to_owned(),
                decision: item.decision.clone(),
                decided_by: item.decided_by.clone(),
                decided_at: row.decided_at.map(instant),
                justification: item.justification.clone(),
                facts: item.facts.clone(),
                removal: evidence
                    .revocations
                    .iter()
                    .find(|revocation| revocation.item_id == item.item_id)
                    .map(|revocation| RemovalRecord {
                        state: revocation.state.as_str().to_owned(),
                        requested_at: instant(revocation.requested_at),
                        verified_at: revocation.verified_at.map(instant),
                        returned_at: revocation.returned_at.map(instant),
                        overdue_at: revocation.overdue_at.map(instant),
                    }),
            }
        })
        .collect();
    let signoffs = evidence
        .signoffs
        .iter()
        .map(|signoff| SignoffRecord {
            stage: signoff.stage,
            reviewer: signoff.reviewer.clone(),
            signed_at: instant(signoff.signed_at),
        })
        .collect();
    CampaignFile { header, items, signoffs }
}

fn audit_line(record: &AuditRecord, about_campaign: bool) -> AuditLine {
    let content = |value: &str| about_campaign.then(|| value.to_owned());
    AuditLine {
        seq: record.seq,
        recorded_at: about_campaign.then(|| instant(record.recorded_at)),
        actor: content(&record.actor),
        action: content(&record.action),
        detail: content(&record.detail),
        prev_sha256: hex::encode(&record.prev_sha256),
        sha256: hex::encode(&record.sha256),
        withheld: !about_campaign,
    }
}

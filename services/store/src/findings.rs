//! Findings: recording an evaluation as a diff against the stored findings, and reading
//! them back.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rollcall_core::finding::{Evidence, Finding, FindingKind, Severity, Subject};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::audit::{AuditEntry, STORE_ACTOR};
use crate::error::StoreError;
use crate::json::{self, EvidenceJson, SubjectJson, check_text};
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The changes one evaluation made, by finding id. Each id appears in one list at most.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingDiff {
    /// New findings, and resolved findings that are back. In the evaluation's order.
    pub opened: Vec<String>,
    /// Open findings whose severity, summary, subject or evidence changed. In the
    /// evaluation's order.
    pub updated: Vec<String>,
    /// Open findings the evaluation no longer reports. Sorted.
    pub resolved: Vec<String>,
}

impl FindingDiff {
    /// Returns whether the evaluation changed nothing.
    pub fn is_empty(&self) -> bool {
        self.opened.is_empty() && self.updated.is_empty() && self.resolved.is_empty()
    }
}

/// The selection of findings that [`TenantScope::findings`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingStatus {
    /// Only findings not resolved.
    Open,
    /// Open and resolved findings.
    All,
}

/// A finding with its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    /// The finding as last seen.
    pub finding: Finding,
    /// The first evaluation that reported it.
    pub first_seen: DateTime<Utc>,
    /// The last evaluation that reported it.
    pub last_seen: DateTime<Utc>,
    /// The evaluation that stopped reporting it, while it stays resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The last instant it was in effect; retention counts from here.
    pub last_in_effect: DateTime<Utc>,
}

/// One finding encoded for the findings table.
struct Encoded<'f> {
    finding: &'f Finding,
    subject: Value,
    evidence: Value,
}

impl TenantScope<'_> {
    /// Records the findings of one evaluation of the whole tenant at `at`: findings not
    /// stored yet (or resolved) are opened, changed ones updated, and open findings
    /// missing from `findings` resolved at `at`. Recording the same evaluation again
    /// changes nothing and returns an empty diff. An evaluation older than the last one
    /// recorded is rejected. A non-empty diff is appended to the audit chain in the same
    /// transaction.
    pub async fn record_findings(
        &self,
        at: DateTime<Utc>,
        findings: &[Finding],
    ) -> Result<FindingDiff, StoreError> {
        const OPERATION: &str = "record findings";
        let mut tx = self.begin(OPERATION).await?;
        let diff = self.record_findings_in(&mut tx, at, findings).await?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(diff)
    }

    /// The body of [`TenantScope::record_findings`] inside an open transaction, so that
    /// the engine can write its outbox in the same transaction.
    pub(crate) async fn record_findings_in(
        &self,
        tx: &mut sqlx::PgConnection,
        at: DateTime<Utc>,
        findings: &[Finding],
    ) -> Result<FindingDiff, StoreError> {
        const OPERATION: &str = "record findings";
        let at = to_micros(at);
        let encoded = self.encode_findings(findings)?;
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();

        // Locking the tenant row puts evaluations of one tenant in a line.
        let last: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
            "SELECT findings_evaluated_at FROM rollcall.tenants WHERE tenant_id = $1 FOR UPDATE",
        )
        .bind(self.tenant_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let Some(last) = last else {
            return Err(StoreError::UnknownTenant { tenant: self.tenant_id().clone() });
        };
        if let Some(last) = last.filter(|last| at < *last) {
            return Err(StoreError::StaleEvaluation { tenant: self.tenant_id().clone(), at, last });
        }

        // The stored state of every finding that is open or reported now.
        let rows = sqlx::query(
            "SELECT finding_id, kind, severity, summary, subject, evidence, \
                    resolved_at IS NOT NULL AS resolved \
             FROM rollcall.findings \
             WHERE tenant_id = $1 AND (resolved_at IS NULL OR finding_id = ANY($2))",
        )
        .bind(self.tenant_str())
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        let mut stored = BTreeMap::new();
        for row in &rows {
            let id: String = row.try_get("finding_id").map_err(self.db(OPERATION))?;
            stored.insert(id, row);
        }

        let mut diff = FindingDiff::default();
        for item in &encoded {
            match stored.get(item.finding.id.as_str()) {
                None => diff.opened.push(item.finding.id.clone()),
                Some(row) if row.try_get::<bool, _>("resolved").map_err(self.db(OPERATION))? => {
                    diff.opened.push(item.finding.id.clone());
                }
                Some(row) if self.changed(row, item)? => diff.updated.push(item.finding.id.clone()),
                Some(_) => {}
            }
        }

        self.upsert_findings(&mut *tx, at, &encoded).await?;
        diff.resolved = sqlx::query_scalar(
            "UPDATE rollcall.findings SET resolved_at = $2, last_in_effect = $2 \
             WHERE tenant_id = $1 AND resolved_at IS NULL AND NOT (finding_id = ANY($3)) \
             RETURNING finding_id",
        )
        .bind(self.tenant_str())
        .bind(at)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        diff.resolved.sort_unstable();

        sqlx::query("UPDATE rollcall.tenants SET findings_evaluated_at = $2 WHERE tenant_id = $1")
            .bind(self.tenant_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(self.db(OPERATION))?;

        if !diff.is_empty() {
            let entry = AuditEntry {
                at,
                actor: STORE_ACTOR.to_owned(),
                action: "findings.recorded".to_owned(),
                detail: json!({
                    "evaluated_at": at,
                    "opened": diff.opened,
                    "updated": diff.updated,
                    "resolved": diff.resolved,
                }),
            };
            self.append_in(&mut *tx, &entry).await?;
        }
        Ok(diff)
    }

    /// Lists the tenant's findings, sorted by id.
    pub async fn findings(&self, status: FindingStatus) -> Result<Vec<StoredFinding>, StoreError> {
        const OPERATION: &str = "read findings";
        let open_only = status == FindingStatus::Open;
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT finding_id, kind, severity, summary, subject, evidence, first_seen, \
                    last_seen, resolved_at, last_in_effect \
             FROM rollcall.findings \
             WHERE tenant_id = $1 AND (NOT $2 OR resolved_at IS NULL) \
             ORDER BY finding_id",
        )
        .bind(self.tenant_str())
        .bind(open_only)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter().map(|row| self.stored_finding(row)).collect()
    }

    fn encode_findings<'f>(&self, findings: &'f [Finding]) -> Result<Vec<Encoded<'f>>, StoreError> {
        let mut seen = BTreeSet::new();
        let mut encoded = Vec::with_capacity(findings.len());
        for finding in findings {
            if finding.tenant != self.tenant_str() {
                return Err(StoreError::TenantMismatch {
                    scope: self.tenant_id().clone(),
                    found: finding.tenant.clone(),
                    record: format!("finding `{}`", finding.id),
                });
            }
            if !seen.insert(finding.id.as_str()) {
                return Err(StoreError::DuplicateFinding(finding.id.clone()));
            }
            let path = format!("findings[{}]", finding.id);
            check_text(&finding.id, &format!("{path}.id"))?;
            check_text(&finding.summary, &format!("{path}.summary"))?;
            let evidence: Vec<EvidenceJson> =
                finding.evidence.iter().map(EvidenceJson::from).collect();
            encoded.push(Encoded {
                finding,
                subject: json::encode(
                    &SubjectJson::from(&finding.subject),
                    &format!("{path}.subject"),
                )?,
                evidence: json::encode(&evidence, &format!("{path}.evidence"))?,
            });
        }
        Ok(encoded)
    }

    /// Returns whether the stored open finding differs from the reported one.
    fn changed(&self, row: &PgRow, item: &Encoded<'_>) -> Result<bool, StoreError> {
        const OPERATION: &str = "compare findings";
        let kind: String = row.try_get("kind").map_err(self.db(OPERATION))?;
        let severity: String = row.try_get("severity").map_err(self.db(OPERATION))?;
        let summary: String = row.try_get("summary").map_err(self.db(OPERATION))?;
        let subject: Value = row.try_get("subject").map_err(self.db(OPERATION))?;
        let evidence: Value = row.try_get("evidence").map_err(self.db(OPERATION))?;
        Ok(kind != item.finding.kind.as_str()
            || severity != item.finding.severity.as_str()
            || summary != item.finding.summary
            || subject != item.subject
            || evidence != item.evidence)
    }

    /// Writes every reported finding as open and seen at `at`, keeping `first_seen` of
    /// findings stored before. One statement for the whole evaluation.
    async fn upsert_findings(
        &self,
        tx: &mut sqlx::PgConnection,
        at: DateTime<Utc>,
        encoded: &[Encoded<'_>],
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "write findings";
        let ids: Vec<&str> = encoded.iter().map(|e| e.finding.id.as_str()).collect();
        let kinds: Vec<&str> = encoded.iter().map(|e| e.finding.kind.as_str()).collect();
        let severities: Vec<&str> = encoded.iter().map(|e| e.finding.severity.as_str()).collect();
        let summaries: Vec<&str> = encoded.iter().map(|e| e.finding.summary.as_str()).collect();
        let subjects: Vec<&Value> = encoded.iter().map(|e| &e.subject).collect();
        let evidence: Vec<&Value> = encoded.iter().map(|e| &e.evidence).collect();

        sqlx::query(
            "INSERT INTO rollcall.findings \
               (tenant_id, finding_id, kind, severity, summary, subject, evidence, first_seen, \
                last_seen, resolved_at, last_in_effect) \
             SELECT $1, f.id, f.kind, f.severity, f.summary, f.subject, f.evidence, $8, $8, \
                    NULL, $8 \
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], \
                         $7::jsonb[]) AS f(id, kind, severity, summary, subject, evidence) \
             ON CONFLICT (tenant_id, finding_id) DO UPDATE \
             SET kind = EXCLUDED.kind, severity = EXCLUDED.severity, \
                 summary = EXCLUDED.summary, subject = EXCLUDED.subject, \
                 evidence = EXCLUDED.evidence, last_seen = EXCLUDED.last_seen, \
                 resolved_at = NULL, last_in_effect = EXCLUDED.last_in_effect",
        )
        .bind(self.tenant_str())
        .bind(&ids)
        .bind(&kinds)
        .bind(&severities)
        .bind(&summaries)
        .bind(&subjects)
        .bind(&evidence)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        Ok(())
    }

    pub(crate) fn stored_finding(&self, row: &PgRow) -> Result<StoredFinding, StoreError> {
        const OPERATION: &str = "read a finding";
        let id: String = row.try_get("finding_id").map_err(self.db(OPERATION))?;
        let key = format!("{}/{id}", self.tenant_str());
        let corrupt =
            |reason: String| StoreError::CorruptRow { table: "findings", key: key.clone(), reason };

        let kind_text: String = row.try_get("kind").map_err(self.db(OPERATION))?;
        let kind = FindingKind::parse(&kind_text)
            .ok_or_else(|| corrupt(format!("`{kind_text}` is not a finding kind")))?;
        let severity_text: String = row.try_get("severity").map_err(self.db(OPERATION))?;
        let severity = Severity::parse(&severity_text)
            .ok_or_else(|| corrupt(format!("`{severity_text}` is not a severity")))?;

        let subject: SubjectJson =
            json::decode(row.try_get("subject").map_err(self.db(OPERATION))?, "findings", &key)?;
        let subject = Subject::try_from(subject).map_err(corrupt)?;
        let evidence: Vec<EvidenceJson> =
            json::decode(row.try_get("evidence").map_err(self.db(OPERATION))?, "findings", &key)?;
        let evidence = evidence
            .into_iter()
            .map(Evidence::try_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(corrupt)?;

        Ok(StoredFinding {
            finding: Finding {
                id,
                tenant: self.tenant_str().to_owned(),
                kind,
                severity,
                subject,
                summary: row.try_get("summary").map_err(self.db(OPERATION))?,
                evidence,
            },
            first_seen: row.try_get("first_seen").map_err(self.db(OPERATION))?,
            last_seen: row.try_get("last_seen").map_err(self.db(OPERATION))?,
            resolved_at: row.try_get("resolved_at").map_err(self.db(OPERATION))?,
            last_in_effect: row.try_get("last_in_effect").map_err(self.db(OPERATION))?,
        })
    }
}

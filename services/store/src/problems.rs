//! Pipeline problems: a dead-lettered message or a failed sync, kept while they last. The
//! engine turns each into a pipeline finding of the tenant's evaluation.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;

use crate::error::StoreError;
use crate::scope::TenantScope;
use crate::time::to_micros;

/// The kinds of pipeline problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// A message of the tenant went to the dead-letter stream.
    DeadLetter,
    /// The latest sync report of a source said FAILED.
    SyncFailed,
}

impl ProblemKind {
    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::DeadLetter => "dead_letter",
            ProblemKind::SyncFailed => "sync_failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [ProblemKind::DeadLetter, ProblemKind::SyncFailed].into_iter().find(|k| k.as_str() == text)
    }
}

/// One open pipeline problem.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineProblem {
    /// The kind.
    pub kind: ProblemKind,
    /// The source it concerns, or `""` when the message did not tell.
    pub source: String,
    /// The facts, for the finding's evidence: flat string values.
    pub detail: Value,
    /// When it was first seen.
    pub opened_at: DateTime<Utc>,
}

impl TenantScope<'_> {
    /// Opens the problem, or replaces the detail of the open problem of the same kind and
    /// source (the first instant stays). Raises the state version either way, so the next
    /// evaluation shows the latest detail.
    pub async fn open_pipeline_problem(&self, problem: &PipelineProblem) -> Result<(), StoreError> {
        const OPERATION: &str = "open a pipeline problem";
        crate::json::check_text(&problem.source, "source")?;
        crate::json::check_text(&problem.detail.to_string(), "detail")?;
        let mut tx = self.begin(OPERATION).await?;
        sqlx::query(
            "INSERT INTO rollcall.pipeline_problems (tenant_id, kind, source, detail, opened_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, kind, source) DO UPDATE SET detail = EXCLUDED.detail",
        )
        .bind(self.tenant_str())
        .bind(problem.kind.as_str())
        .bind(&problem.source)
        .bind(&problem.detail)
        .bind(to_micros(problem.opened_at))
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        self.bump_state_in(&mut tx).await?;
        tx.commit().await.map_err(self.db(OPERATION))
    }

    /// Removes the open problem of `kind` for `source`. Returns whether there was one.
    pub async fn resolve_pipeline_problem(
        &self,
        kind: ProblemKind,
        source: &str,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "resolve a pipeline problem";
        let mut tx = self.begin(OPERATION).await?;
        let removed = sqlx::query(
            "DELETE FROM rollcall.pipeline_problems \
             WHERE tenant_id = $1 AND kind = $2 AND source = $3",
        )
        .bind(self.tenant_str())
        .bind(kind.as_str())
        .bind(source)
        .execute(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?
        .rows_affected()
            > 0;
        if removed {
            self.bump_state_in(&mut tx).await?;
        }
        tx.commit().await.map_err(self.db(OPERATION))?;
        Ok(removed)
    }

    /// Lists the open problems, by kind and source.
    pub async fn pipeline_problems(&self) -> Result<Vec<PipelineProblem>, StoreError> {
        const OPERATION: &str = "read pipeline problems";
        let mut tx = self.begin(OPERATION).await?;
        let rows = sqlx::query(
            "SELECT kind, source, detail, opened_at FROM rollcall.pipeline_problems \
             WHERE tenant_id = $1 ORDER BY kind, source",
        )
        .bind(self.tenant_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db(OPERATION))?;
        tx.commit().await.map_err(self.db(OPERATION))?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(self.db(OPERATION))?;
                let kind = ProblemKind::parse(&kind).ok_or_else(|| StoreError::CorruptRow {
                    table: "pipeline_problems",
                    key: self.tenant_str().to_owned(),
                    reason: format!("`{kind}` is not a problem kind"),
                })?;
                Ok(PipelineProblem {
                    kind,
                    source: row.try_get("source").map_err(self.db(OPERATION))?,
                    detail: row.try_get("detail").map_err(self.db(OPERATION))?,
                    opened_at: row.try_get("opened_at").map_err(self.db(OPERATION))?,
                })
            })
            .collect()
    }
}

//! Pipeline findings: the tenant's open pipeline problems as findings, added to the rules'
//! findings of each evaluation and kept in the same findings table.

use rollcall_core::TenantId;
use rollcall_core::finding::{Evidence, Finding, FindingKind, Severity, Subject};
use rollcall_core::model::SourceId;
use rollcall_store::{PipelineProblem, ProblemKind};

/// Returns one finding per problem, in the problems' order.
pub fn findings(tenant: &TenantId, problems: &[PipelineProblem]) -> Vec<Finding> {
    problems.iter().map(|problem| finding(tenant, problem)).collect()
}

fn finding(tenant: &TenantId, problem: &PipelineProblem) -> Finding {
    let source: Option<SourceId> = problem.source.parse().ok();
    let shown =
        if problem.source.is_empty() { "an unknown source" } else { problem.source.as_str() };
    let text = |key: &str| problem.detail.get(key).and_then(|v| v.as_str()).unwrap_or_default();
    let (kind, summary) = match problem.kind {
        ProblemKind::DeadLetter => (
            FindingKind::PipelineDeadLetter,
            format!(
                "A {} message of {shown} could not be processed and went to the dead-letter stream, so the stored data may miss a change",
                text("kind")
            ),
        ),
        ProblemKind::SyncFailed => (
            FindingKind::SourceSyncFailed,
            format!("The latest sync of {shown} failed, so its stored data may be out of date"),
        ),
    };
    let record = match problem.kind {
        ProblemKind::DeadLetter => "dead letter",
        ProblemKind::SyncFailed => "sync report",
    };
    let evidence = match problem.detail.as_object() {
        Some(fields) => fields
            .iter()
            .map(|(field, value)| {
                let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                Evidence::new(source.as_ref(), record, field.as_str(), value)
            })
            .collect(),
        None => Vec::new(),
    };
    let subject = Subject { source, ..Subject::default() };
    // The detail keeps findings about different unknown sources apart; the subject
    // alone does that for known ones.
    let detail = format!("{}:{}", problem.kind.as_str(), problem.source);
    Finding::new(tenant.as_str(), kind, Severity::High, subject, &detail, summary, evidence)
}

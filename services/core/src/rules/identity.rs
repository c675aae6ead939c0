//! Accounts that matched several people.

use crate::context::Context;
use crate::finding::{Evidence, FindingKind, Severity};

use super::Emitter;

/// Reports every ambiguous match.
pub fn check(ctx: &Context<'_>, out: &mut Emitter<'_>) {
    for ambiguity in &ctx.resolution.ambiguous {
        let Some((view, account)) = ctx.account(&ambiguity.account) else { continue };
        let mut subject = ctx.account_subject(view.source(), account);
        // The account's own stand-alone identity says nothing useful here.
        subject.identity = None;
        let record = ambiguity.account.to_string();
        let mut evidence = vec![Evidence::new(
            Some(view.source()),
            record.clone(),
            ambiguity.method.as_str(),
            ambiguity.key.clone(),
        )];
        evidence.extend(ambiguity.candidates.iter().map(|employee_id| {
            Evidence::new(None, format!("hr:{employee_id}"), "candidate", employee_id.clone())
        }));
        out.push(
            FindingKind::IdentityAmbiguous,
            Severity::Medium,
            subject,
            "",
            format!(
                "{} matches {} people by {} `{}`, so it was linked to none of them.",
                account.label(),
                ambiguity.candidates.len(),
                ambiguity.method.as_str().replace('_', " "),
                ambiguity.key
            ),
            evidence,
        );
    }
}

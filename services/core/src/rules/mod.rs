//! The rules. Each module checks one concern and pushes findings; none does I/O.

mod drift;
mod hygiene;
mod identity;
mod leavers;
mod mfa;

use crate::context::{Context, IdentityView, SourceView};
use crate::finding::{Evidence, Finding, FindingKind, Severity, Subject};
use crate::model::Account;

/// Collects the findings of one tenant.
pub struct Emitter<'t> {
    tenant: &'t str,
    findings: Vec<Finding>,
}

impl<'t> Emitter<'t> {
    /// An emitter for `tenant`.
    pub fn new(tenant: &'t str) -> Self {
        Self { tenant, findings: Vec::new() }
    }

    /// Adds a finding; see [`Finding::new`] for `detail`.
    pub fn push(
        &mut self,
        kind: FindingKind,
        severity: Severity,
        subject: Subject,
        detail: &str,
        summary: String,
        evidence: Vec<Evidence>,
    ) {
        self.findings.push(Finding::new(
            self.tenant,
            kind,
            severity,
            subject,
            detail,
            summary,
            evidence,
        ));
    }

    /// The findings, most severe first, then by kind and subject.
    pub fn finish(self) -> Vec<Finding> {
        // Each subject key is formatted once, not once per comparison.
        let mut keyed: Vec<(String, Finding)> =
            self.findings.into_iter().map(|finding| (finding.subject.key(), finding)).collect();
        keyed.sort_by(|(a_key, a), (b_key, b)| {
            b.severity
                .cmp(&a.severity)
                .then(a.kind.cmp(&b.kind))
                .then_with(|| a_key.cmp(b_key))
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut findings: Vec<Finding> = keyed.into_iter().map(|(_, finding)| finding).collect();
        findings.dedup_by(|a, b| a.id == b.id);
        findings
    }
}

/// The identity view of an account of `view`, if it took part in identity resolution.
fn identity_of<'v, 'c>(
    identities: &'v [IdentityView<'c>],
    view: &SourceView<'_>,
    account: &Account,
) -> Option<&'v IdentityView<'c>> {
    view.identity_index(&account.id).and_then(|i| identities.get(i))
}

/// Runs every rule.
pub fn check_all(ctx: &Context<'_>, identities: &[IdentityView<'_>], out: &mut Emitter<'_>) {
    identity::check(ctx, out);
    mfa::check(ctx, identities, out);
    drift::check(ctx, identities, out);
    hygiene::check(ctx, identities, out);
    leavers::check(ctx, identities, out);
}

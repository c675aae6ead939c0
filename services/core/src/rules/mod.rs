//! The rules. Each module checks one concern and pushes findings; none does I/O.

mod drift;
mod hygiene;
mod identity;
mod leavers;
mod mfa;

use crate::context::{Context, IdentityView};
use crate::finding::{Evidence, Finding, FindingKind, Severity, Subject};
use crate::model::{Account, AccountRef, SourceId};

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
    pub fn finish(mut self) -> Vec<Finding> {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.kind.cmp(&b.kind))
                .then_with(|| a.subject.key().cmp(&b.subject.key()))
                .then_with(|| a.id.cmp(&b.id))
        });
        self.findings.dedup_by(|a, b| a.id == b.id);
        self.findings
    }
}

/// The identity view of an account, if it took part in identity resolution.
fn identity_of<'v, 'c>(
    ctx: &Context<'_>,
    identities: &'v [IdentityView<'c>],
    source: &SourceId,
    account: &Account,
) -> Option<&'v IdentityView<'c>> {
    let account_ref = AccountRef { source: source.clone(), id: account.id.clone() };
    ctx.resolution.by_account.get(&account_ref).and_then(|i| identities.get(*i))
}

/// Runs every rule.
pub fn check_all(ctx: &Context<'_>, identities: &[IdentityView<'_>], out: &mut Emitter<'_>) {
    identity::check(ctx, out);
    mfa::check(ctx, identities, out);
    drift::check(ctx, identities, out);
    hygiene::check(ctx, identities, out);
    leavers::check(ctx, identities, out);
}

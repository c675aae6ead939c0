//! Revocation findings. Each evaluation compares the removals requested by closed
//! review campaigns with the grants of the latest syncs, through
//! `TenantScope::reconcile_revocations`. It adds a finding for each removal still not
//! seen after the tenant's window, and for each grant given back after its removal was
//! verified. Both stay open until a later sync shows the grant gone.

use chrono::DateTime;
use chrono::Utc;
use rollcall_core::context::Context;
use rollcall_core::finding::{
    AccountSubject, Evidence, Finding, FindingKind, Severity, Subject, timestamp,
};
use rollcall_core::model::{AccountRef, SourceId};
use rollcall_core::{Tenant, TenantData, TenantId};
use rollcall_store::{ReviewRevocation, RevocationState, StoreError, TenantScope};

use crate::engine::ACTOR;

/// Reconciles the tenant's revocations and reviewed access with `data` at `as_of` and
/// returns the revocation findings. Builds the rules' `Context` only when a closed
/// campaign has something left to follow.
pub async fn check(
    scope: &TenantScope<'_>,
    tenant: &Tenant,
    data: &TenantData,
    as_of: DateTime<Utc>,
) -> Result<Vec<Finding>, StoreError> {
    // NOTE: a tenant with any removal row stays pending until retention removes the
    // campaign, so its evaluations build the `Context` a second time for the grant keys.
    if !scope.review_follow_up_pending().await? {
        return Ok(Vec::new());
    }
    let ctx = Context::new(tenant, data, as_of);
    let present = rollcall_reviews::all_grant_keys(&ctx);
    let revocations =
        scope.reconcile_revocations(&present, as_of, tenant.revocation_window, ACTOR).await?;
    Ok(findings(&tenant.id, &ctx, &revocations))
}

/// Returns one finding per removal that is overdue and still open, or whose grant
/// returned, in the revocations' order.
pub fn findings(
    tenant: &TenantId,
    ctx: &Context<'_>,
    revocations: &[ReviewRevocation],
) -> Vec<Finding> {
    revocations.iter().filter_map(|revocation| finding(tenant, ctx, revocation)).collect()
}

fn finding(tenant: &TenantId, ctx: &Context<'_>, revocation: &ReviewRevocation) -> Option<Finding> {
    let (kind, summary) = match revocation.state {
        RevocationState::Open if revocation.overdue_at.is_some() => (
            FindingKind::RevocationUnverified,
            format!(
                "Access `{}` was revoked in an access review, but the latest sync of {} still shows it",
                revocation.item_key, revocation.source
            ),
        ),
        RevocationState::Returned => (
            FindingKind::RevokedGrantReturned,
            format!(
                "Access `{}` was revoked in an access review and removed, but {} shows it again",
                revocation.item_key, revocation.source
            ),
        ),
        RevocationState::Open | RevocationState::Verified => return None,
    };
    let source: Option<SourceId> = revocation.source.parse().ok();
    let subject = match &source {
        Some(source) => {
            let account = AccountRef { source: source.clone(), id: revocation.account_id.clone() };
            match ctx.account(&account) {
                Some((_, found)) => ctx.account_subject(source, found),
                None => Subject {
                    account: Some(AccountSubject {
                        account,
                        login: None,
                        name: revocation.account_id.clone(),
                    }),
                    ..Subject::default()
                },
            }
        }
        None => Subject::default(),
    };
    let record = format!("review {} item {}", revocation.campaign_id, revocation.item_id);
    let mut evidence = vec![
        Evidence::new(source.as_ref(), record.clone(), "grant", revocation.item_key.clone()),
        Evidence::new(None, record.clone(), "requested_at", timestamp(revocation.requested_at)),
    ];
    if let Some(at) = revocation.verified_at {
        evidence.push(Evidence::new(None, record.clone(), "verified_at", timestamp(at)));
    }
    if let Some(at) = revocation.returned_at {
        evidence.push(Evidence::new(None, record.clone(), "returned_at", timestamp(at)));
    }
    if let Some(at) = revocation.overdue_at {
        evidence.push(Evidence::new(None, record, "overdue_at", timestamp(at)));
    }
    // The campaign and item keep findings about the same grant in two campaigns apart.
    let detail = format!("{}/{}", revocation.campaign_id, revocation.item_id);
    Some(Finding::new(tenant.as_str(), kind, Severity::High, subject, &detail, summary, evidence))
}

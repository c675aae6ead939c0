//! Account hygiene: dormant and never-used accounts, status that differs between
//! sources, orphans, shared logins, disabled accounts that keep their roles, and sources
//! without sign-in data.

use std::collections::BTreeSet;

use chrono::TimeDelta;

use crate::context::{Context, IdentityView, may_sign_in};
use crate::finding::{Evidence, FindingKind, Severity, Subject};
use crate::model::{Account, AccountStatus, Availability, LastSignIn, SourceId};

use super::{Emitter, identity_of};

/// Runs the hygiene rules.
pub fn check(ctx: &Context<'_>, identities: &[IdentityView<'_>], out: &mut Emitter<'_>) {
    for view in &ctx.sources {
        let source = view.source();
        for account in &view.snapshot.accounts {
            let identity = identity_of(identities, view, account);
            let left = identity.is_some_and(|i| i.has_left);
            if may_sign_in(account) {
                if left {
                    // The leaver rules report these accounts.
                    continue;
                }
                check_sign_in(ctx, source, account, out);
                if let Some(pattern) = generic_pattern(ctx, account) {
                    out.push(
                        FindingKind::GenericAccount,
                        Severity::Medium,
                        ctx.account_subject(source, account),
                        "",
                        format!(
                            "{} (`{}`) in {source} looks like a shared or generic login.",
                            account.label(),
                            account.login.as_deref().unwrap_or(&account.id)
                        ),
                        vec![Evidence::new(
                            Some(source),
                            format!("{source}/{}", account.id),
                            "login",
                            format!(
                                "{} (matches `{pattern}`)",
                                account.login.as_deref().unwrap_or(&account.label())
                            ),
                        )],
                    );
                } else {
                    check_orphan(ctx, identity, source, account, out);
                }
            } else {
                check_disabled_grants(ctx, view, account, out);
            }
        }
        check_signin_data(view.snapshot, source, out);
    }
    for identity in identities.iter().filter(|i| !i.has_left) {
        check_status_mismatch(ctx, identity, out);
    }
}

fn days(delta: TimeDelta) -> i64 {
    delta.num_days()
}

fn check_sign_in(ctx: &Context<'_>, source: &SourceId, account: &Account, out: &mut Emitter<'_>) {
    let threshold = i64::from(ctx.tenant.policy.dormant_days(source));
    // Built only for the few accounts that get a finding.
    let record = || format!("{source}/{}", account.id);
    match account.last_sign_in {
        LastSignIn::At(at) => {
            let idle = days(ctx.as_of.signed_duration_since(at));
            if idle > threshold {
                out.push(
                    FindingKind::DormantAccount,
                    Severity::Medium,
                    ctx.account_subject(source, account),
                    "",
                    format!(
                        "{} has not signed in to {source} for {idle} days (threshold {threshold}).",
                        account.label()
                    ),
                    vec![Evidence::new(
                        Some(source),
                        record(),
                        "last sign-in",
                        crate::finding::timestamp(at),
                    )],
                );
            }
        }
        LastSignIn::Never => {
            let age =
                account.created_at.map(|created| days(ctx.as_of.signed_duration_since(created)));
            if age.is_none_or(|age| age > threshold) {
                let created = account
                    .created_at
                    .map_or_else(|| "unknown".to_owned(), crate::finding::timestamp);
                out.push(
                    FindingKind::NeverSignedIn,
                    Severity::Low,
                    ctx.account_subject(source, account),
                    "",
                    match age {
                        Some(age) => format!("{} was created {age} days ago and has never signed in to {source}.", account.label()),
                        None => format!("{} has never signed in to {source}, and the export does not say when it was created.", account.label()),
                    },
                    vec![
                        Evidence::new(Some(source), record(), "last sign-in", "never"),
                        Evidence::new(Some(source), record(), "created", created),
                    ],
                );
            }
        }
        LastSignIn::Unknown => {}
    }
}

fn generic_pattern<'p>(ctx: &'p Context<'_>, account: &Account) -> Option<&'p str> {
    let upn_local = account.upn.as_deref().and_then(|upn| upn.split('@').next());
    let values = [
        account.login.as_deref(),
        account.sam_account_name.as_deref(),
        upn_local,
        account.display_name.as_deref(),
    ];
    ctx.tenant.policy.generic_match(values.into_iter().flatten()).map(|pattern| pattern.as_str())
}

fn check_orphan(
    ctx: &Context<'_>,
    identity: Option<&IdentityView<'_>>,
    source: &SourceId,
    account: &Account,
    out: &mut Emitter<'_>,
) {
    if !ctx.has_hr {
        return;
    }
    // Excluded and service accounts have no identity; ambiguous ones are reported apart.
    let Some(identity) = identity else { return };
    if identity.worker.is_some() {
        return;
    }
    let account_ref = crate::model::AccountRef { source: source.clone(), id: account.id.clone() };
    if ctx.resolution.ambiguous.iter().any(|a| a.account == account_ref) {
        return;
    }
    let record = format!("{source}/{}", account.id);
    let mut evidence = vec![Evidence::new(
        Some(source),
        record.clone(),
        "employee id",
        account.employee_id.clone().unwrap_or_else(|| "none".into()),
    )];
    if let Some(email) = account.email.as_deref().or(account.upn.as_deref()) {
        evidence.push(Evidence::new(Some(source), record, "e-mail", email));
    }
    out.push(
        FindingKind::OrphanAccount,
        Severity::Medium,
        ctx.account_subject(source, account),
        "",
        format!("{} in {source} is enabled but matches nobody in the HR roster.", account.label()),
        evidence,
    );
}

fn check_disabled_grants(
    ctx: &Context<'_>,
    view: &crate::context::SourceView<'_>,
    account: &Account,
    out: &mut Emitter<'_>,
) {
    let source = view.source();
    if account.status != AccountStatus::Disabled
        || !ctx.tenant.policy.disabled_with_grants.iter().any(|p| p.matches(source))
    {
        return;
    }
    let grants: Vec<String> =
        view.access_grants(&account.id).map(|(_, e)| e.name.clone()).collect();
    if grants.is_empty() {
        return;
    }
    let record = format!("{source}/{}", account.id);
    let mut evidence =
        vec![Evidence::new(Some(source), record.clone(), "status", account.status_text())];
    evidence.extend(
        grants.iter().map(|g| Evidence::new(Some(source), record.clone(), "grant", g.clone())),
    );
    out.push(
        FindingKind::DisabledWithGrants,
        Severity::Low,
        ctx.account_subject(source, account),
        "",
        format!(
            "{} is disabled in {source} but still holds {} {}.",
            account.label(),
            grants.len(),
            if grants.len() == 1 { "grant" } else { "grants" }
        ),
        evidence,
    );
}

fn check_signin_data(
    snapshot: &crate::model::SourceSnapshot,
    source: &SourceId,
    out: &mut Emitter<'_>,
) {
    if snapshot.accounts.is_empty() {
        return;
    }
    let all_unknown = snapshot.accounts.iter().all(|a| a.last_sign_in == LastSignIn::Unknown);
    if snapshot.settings.sign_in_activity == Availability::Missing || all_unknown {
        out.push(
            FindingKind::SigninDataMissing,
            Severity::Info,
            Subject { source: Some(source.clone()), ..Subject::default() },
            "",
            format!("The {source} export has no sign-in times, so dormant accounts there cannot be found."),
            vec![Evidence::new(
                Some(source),
                source.to_string(),
                "accounts without sign-in data",
                snapshot.accounts.len().to_string(),
            )],
        );
    }
}

fn check_status_mismatch(ctx: &Context<'_>, identity: &IdentityView<'_>, out: &mut Emitter<'_>) {
    let mut enabled = BTreeSet::new();
    let mut disabled = BTreeSet::new();
    let mut evidence = Vec::new();
    for linked in &identity.identity.accounts {
        let Some((view, account)) = ctx.account(&linked.account) else { continue };
        let source = view.source();
        match account.status {
            AccountStatus::Enabled => enabled.insert(source.clone()),
            AccountStatus::Disabled => disabled.insert(source.clone()),
            AccountStatus::Unknown => continue,
        };
        evidence.push(Evidence::new(
            Some(source),
            linked.account.to_string(),
            "status",
            account.status_text(),
        ));
    }
    let only_disabled: Vec<String> =
        disabled.difference(&enabled).map(ToString::to_string).collect();
    if enabled.is_empty() || only_disabled.is_empty() {
        return;
    }
    let enabled: Vec<String> = enabled.iter().map(ToString::to_string).collect();
    out.push(
        FindingKind::StatusMismatch,
        Severity::Medium,
        Subject { identity: Some(ctx.identity_subject(identity)), ..Subject::default() },
        "",
        format!(
            "{} is disabled in {} but enabled in {}.",
            identity.name,
            only_disabled.join(", "),
            enabled.join(", ")
        ),
        evidence,
    );
}

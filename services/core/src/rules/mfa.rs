//! MFA strength per account, and the tenant-wide methods policy.
//!
//! A person who is privileged anywhere (an Entra role, an AD protected group, an EHR
//! security-administration role) needs phishing-resistant methods on every account that
//! reports methods: an attacker who phishes the weakest method of the person's Entra
//! account reaches their mail and single sign-on, whichever system holds the privilege.
//! A job role with `mfa: phishing_resistant` in the policy puts its holders under the same
//! standard without any privileged grant.

use std::cell::LazyCell;

use crate::context::{Context, IdentityView, may_sign_in};
use crate::finding::{Evidence, FindingKind, Severity, Subject};
use crate::model::{Account, AccountKind, AuthMethod, MfaSummary, SourceId, Strength};
use crate::policy::MfaRequirement;

use super::Emitter;

/// Checks every account that reports authentication methods.
pub fn check(ctx: &Context<'_>, identities: &[IdentityView<'_>], out: &mut Emitter<'_>) {
    for view in &ctx.sources {
        for account in &view.snapshot.accounts {
            let Some(methods) = &account.auth_methods else { continue };
            if !may_sign_in(account) {
                continue;
            }
            let identity = super::identity_of(identities, view, account);
            if identity.is_some_and(|i| i.has_left) {
                continue;
            }
            // People HR does not know still get checked on their own account's privilege.
            let privilege = match identity {
                Some(identity) => identity.privilege.iter().map(|f| f.evidence.clone()).collect(),
                None => crate::context::account_privilege(ctx.tenant, view, account),
            };
            let strict_role = identity.and_then(|identity| {
                identity.roles.iter().find(|role| role.mfa == MfaRequirement::PhishingResistant)
            });
            let standard = match strict_role {
                _ if !privilege.is_empty() => Some(Standard::Privileged(privilege)),
                Some(role) => Some(Standard::Role(&role.name)),
                None => None,
            };
            check_account(ctx, view.source(), account, methods, standard, out);
        }
    }
    check_policy(ctx, identities, out);
}

fn method_evidence(source: &SourceId, account: &Account, methods: &[AuthMethod]) -> Vec<Evidence> {
    let record = format!("{source}/{}", account.id);
    let mut evidence: Vec<Evidence> = methods
        .iter()
        .map(|m| {
            Evidence::new(
                Some(source),
                record.clone(),
                "method",
                format!("{} [{}]", m.kind.describe(), m.raw_type),
            )
        })
        .collect();
    if evidence.is_empty() {
        evidence.push(Evidence::new(Some(source), record, "methods", "none registered"));
    }
    evidence
}

/// The reason an account must use phishing-resistant methods.
enum Standard<'a> {
    /// Its person is privileged, with the evidence of each privilege.
    Privileged(Vec<Evidence>),
    /// Its person has this job role, whose policy entry requires them.
    Role(&'a str),
}

impl Standard<'_> {
    /// Returns the clause that follows the account's name in a finding's summary.
    fn reason(&self) -> String {
        match self {
            Self::Privileged(_) => "is privileged".to_owned(),
            Self::Role(role) => format!(
                "holds the job role {role}, which the policy holds to phishing-resistant MFA,"
            ),
        }
    }

    /// Returns the evidence that the standard applies.
    fn evidence(&self) -> Vec<Evidence> {
        match self {
            Self::Privileged(evidence) => evidence.clone(),
            Self::Role(role) => vec![Evidence::new(
                None,
                "policy".to_owned(),
                format!("job_roles.{role}.mfa"),
                MfaRequirement::PhishingResistant.as_str(),
            )],
        }
    }
}

/// An account's label, formatted only when a finding's summary is written.
struct Label<'a>(&'a Account);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.label())
    }
}

fn check_account(
    ctx: &Context<'_>,
    source: &SourceId,
    account: &Account,
    methods: &[AuthMethod],
    standard: Option<Standard<'_>>,
    out: &mut Emitter<'_>,
) {
    let summary = MfaSummary::of(methods, account.kind == AccountKind::Guest);
    // Most accounts get no finding: the subject, name and evidence are built on first use.
    let subject = LazyCell::new(|| ctx.account_subject(source, account));
    let subject = || (*subject).clone();
    let name = Label(account);
    let evidence = LazyCell::new(|| method_evidence(source, account, methods));
    if let Some(standard) = &standard {
        let why = standard.reason();
        let with_privilege =
            || evidence.iter().cloned().chain(standard.evidence()).collect::<Vec<_>>();
        if summary.has_phone {
            out.push(
                FindingKind::MfaPrivilegedPhone,
                Severity::High,
                subject(),
                "",
                format!("{name} {why} and has SMS or voice registered, which a SIM swap or a phished code defeats."),
                with_privilege(),
            );
        }
        if summary.strongest < Strength::PhishingResistant {
            out.push(
                FindingKind::MfaPrivilegedNotPhishingResistant,
                Severity::High,
                subject(),
                "",
                match summary.strongest {
                    Strength::None => format!(
                        "{name} {why} and has no second factor at all, so no phishing-resistant one."
                    ),
                    _ => format!(
                        "{name} {why} but has no phishing-resistant method: the best one registered ({}) can be phished.",
                        summary.strongest.as_str()
                    ),
                },
                with_privilege(),
            );
        } else if summary.weakest.is_some_and(|w| w < Strength::PhishingResistant)
            && !summary.has_phone
        {
            out.push(
                FindingKind::MfaPrivilegedNotPhishingResistant,
                Severity::High,
                subject(),
                "",
                format!("{name} {why} and also has a phishable method an attacker can pick instead of the phishing-resistant one."),
                with_privilege(),
            );
        }
    }
    match summary.strongest {
        Strength::None => out.push(
            FindingKind::MfaNone,
            Severity::Medium,
            subject(),
            "",
            format!("{name} has no second factor registered."),
            (*evidence).clone(),
        ),
        Strength::Weak => out.push(
            FindingKind::MfaWeakOnly,
            Severity::Medium,
            subject(),
            "",
            format!("{name} has only SMS, voice or e-mail codes as a second factor."),
            (*evidence).clone(),
        ),
        Strength::Strong | Strength::PhishingResistant => {}
    }
    for unknown in &summary.unrecognized {
        out.push(
            FindingKind::MfaUnrecognizedMethod,
            Severity::Info,
            subject(),
            unknown,
            format!("{name} has a method of type `{unknown}`, which Rollcall does not know; it was not counted."),
            (*evidence).clone(),
        );
    }
}

/// SMS or voice enabled in an Entra authentication-methods policy while anyone is
/// privileged.
fn check_policy(ctx: &Context<'_>, identities: &[IdentityView<'_>], out: &mut Emitter<'_>) {
    let privileged: Vec<&IdentityView<'_>> =
        identities.iter().filter(|i| !i.privilege.is_empty() && !i.has_left).collect();
    let Some(first) = privileged.first() else { return };
    for view in &ctx.sources {
        let Some(enabled) = &view.snapshot.settings.weak_methods_enabled else { continue };
        let phone: Vec<&String> = enabled.iter().filter(|m| *m == "sms" || *m == "voice").collect();
        if phone.is_empty() {
            continue;
        }
        let source = view.source();
        let mut evidence: Vec<Evidence> = phone
            .iter()
            .map(|m| {
                Evidence::new(
                    Some(source),
                    "authenticationMethodsPolicy",
                    format!("{m}.state"),
                    "enabled",
                )
            })
            .collect();
        evidence.push(Evidence::new(
            None,
            first.identity.key.clone(),
            "privileged",
            format!(
                "{} and {} other privileged people",
                first.name,
                privileged.len().saturating_sub(1)
            ),
        ));
        let methods: Vec<&str> = phone.iter().map(|m| m.as_str()).collect();
        out.push(
            FindingKind::MfaPolicyPhoneEnabled,
            Severity::Medium,
            Subject { source: Some(source.clone()), ..Subject::default() },
            "",
            format!(
                "The authentication methods policy of {source} enables {} while {} people are privileged.",
                methods.join(" and "),
                privileged.len()
            ),
            evidence,
        );
    }
}

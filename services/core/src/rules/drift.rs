//! Minimum-necessary drift: grants against the baselines of each person's job roles,
//! separation of duties, privileged grants without a privileged role, and peer outliers.

use std::collections::BTreeMap;

use crate::{HashMap, HashSet};

use crate::context::{
    Context, IdentityView, SourceView, entitlement_subject, grant_field, may_sign_in,
};
use crate::finding::{Evidence, FindingKind, Severity, Subject};
use crate::grants::Grant;
use crate::model::{Account, Entitlement, SourceId};
use crate::policy::Policy;
use crate::privilege::PrivilegeReason;

use super::Emitter;

/// One grant a person holds on an account that can sign in.
#[derive(Clone)]
struct Held<'v, 'a> {
    view: &'v SourceView<'a>,
    account: &'a Account,
    grant: &'v Grant<'a>,
    entitlement: &'a Entitlement,
    privileged: &'v [PrivilegeReason],
    /// The position of the entitlement's [`PatternFacts`] in [`Patterns`].
    facts: usize,
}

/// A grant's (source, entitlement id), borrowed, so that comparing it does not allocate.
type GrantKey<'a> = (&'a SourceId, &'a str);

impl<'a> Held<'_, 'a> {
    fn key(&self) -> GrantKey<'a> {
        (self.view.source(), self.entitlement.id.as_str())
    }

    fn subject(&self, ctx: &Context<'_>) -> Subject {
        let mut subject = ctx.account_subject(self.view.source(), self.account);
        subject.entitlement = Some(entitlement_subject(self.view.source(), self.entitlement));
        subject
    }

    fn evidence(&self) -> Evidence {
        let source = self.view.source();
        Evidence::new(
            Some(source),
            format!("{source}/{}", self.account.id),
            grant_field(self.grant),
            self.entitlement.name.clone(),
        )
    }
}

fn held<'v, 'a>(
    ctx: &'v Context<'a>,
    identity: &IdentityView<'_>,
    patterns: &mut Patterns<'_, 'a>,
) -> Vec<Held<'v, 'a>> {
    let accounts: Vec<(&SourceView<'a>, &'a Account)> = identity
        .identity
        .accounts
        .iter()
        .filter_map(|linked| ctx.account(&linked.account))
        .filter(|(_, account)| may_sign_in(account))
        .collect();
    // Grants on entitlements that are not security-enabled are dropped below, so this is
    // an upper bound that saves growing the list grant by grant.
    let capacity = accounts.iter().map(|(view, account)| view.grants.of(&account.id).len()).sum();
    let mut list = Vec::with_capacity(capacity);
    for (view, account) in accounts {
        for (grant, entitlement) in view.access_grants(&account.id) {
            list.push(Held {
                view,
                account,
                grant,
                entitlement,
                privileged: view.privilege_reasons(&entitlement.id),
                facts: patterns.position(view.source(), entitlement),
            });
        }
    }
    list
}

/// The way the baselines justify a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Justified {
    /// The common baseline or an exact baseline entry names it.
    Exactly,
    /// Only a wildcard baseline entry covers it.
    ByWildcard,
    /// Nothing covers it.
    No,
}

/// What the policy's patterns say about one entitlement of one source. Worked out once
/// per (source, entitlement) rather than once per grant: a tenant has far fewer
/// entitlements than grants, and glob matching dominated the drift rules' time.
struct PatternFacts {
    /// The common baseline covers it.
    common: bool,
    /// Per job role, in policy order: `None` when the role's baseline does not cover it,
    /// else whether the first pattern that does is exact.
    roles: Vec<Option<bool>>,
    /// Per separation-of-duties rule, in policy order: (left side, right side).
    sod: Vec<(bool, bool)>,
}

/// [`PatternFacts`] by (source, entitlement id), filled as grants are met. Each grant
/// looks its entry up once, in [`held`], and keeps the position.
struct Patterns<'p, 'a> {
    policy: &'p Policy,
    positions: HashMap<GrantKey<'a>, usize>,
    facts: Vec<PatternFacts>,
}

impl<'p, 'a> Patterns<'p, 'a> {
    fn new(policy: &'p Policy) -> Self {
        Self { policy, positions: HashMap::default(), facts: Vec::new() }
    }

    /// Returns the position of the facts of `entitlement` in `source`, working them out on
    /// first use.
    fn position(&mut self, source: &'a SourceId, entitlement: &'a Entitlement) -> usize {
        let policy = self.policy;
        let facts = &mut self.facts;
        *self.positions.entry((source, entitlement.id.as_str())).or_insert_with(|| {
            facts.push(PatternFacts {
                common: policy.common_baseline.find(source, entitlement).is_some(),
                roles: policy
                    .job_roles
                    .iter()
                    .map(|role| role.baseline.find(source, entitlement).map(|p| p.is_exact()))
                    .collect(),
                sod: policy
                    .separation_of_duties
                    .iter()
                    .map(|rule| {
                        (
                            rule.left.find(source, entitlement).is_some(),
                            rule.right.find(source, entitlement).is_some(),
                        )
                    })
                    .collect(),
            });
            facts.len() - 1
        })
    }

    fn of(&self, held: &Held<'_, '_>) -> Option<&PatternFacts> {
        self.facts.get(held.facts)
    }
}

/// Lists the positions of the identity's job roles in the policy's list.
fn role_positions(policy: &Policy, identity: &IdentityView<'_>) -> Vec<usize> {
    identity
        .roles
        .iter()
        .filter_map(|role| policy.job_roles.iter().position(|r| std::ptr::eq(r, *role)))
        .collect()
}

fn justify(patterns: &Patterns<'_, '_>, roles: &[usize], held: &Held<'_, '_>) -> Justified {
    let Some(facts) = patterns.of(held) else { return Justified::No };
    if facts.common {
        return Justified::Exactly;
    }
    let mut result = Justified::No;
    for role in roles {
        match facts.roles.get(*role).copied().flatten() {
            Some(true) => return Justified::Exactly,
            Some(false) => result = Justified::ByWildcard,
            None => {}
        }
    }
    result
}

fn role_names(identity: &IdentityView<'_>) -> String {
    identity.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Runs the drift rules.
pub fn check(ctx: &Context<'_>, identities: &[IdentityView<'_>], out: &mut Emitter<'_>) {
    let policy = &ctx.tenant.policy;
    let roles_defined = !policy.job_roles.is_empty();
    // Grants the peer-outlier pass looks at, per identity: those only a wildcard justifies,
    // or every grant of a person without a job role.
    let mut candidates: Vec<(usize, Vec<Held<'_, '_>>)> = Vec::new();
    // Holders of each (source, entitlement) per peer group. The key is the position of its
    // pattern facts, one per (source, entitlement), because an integer is cheaper to hash
    // and compare than the entitlement id.
    let mut holders: BTreeMap<String, HashMap<usize, usize>> = BTreeMap::new();
    let mut members: BTreeMap<String, usize> = BTreeMap::new();
    let mut patterns = Patterns::new(policy);

    for (index, identity) in identities.iter().enumerate() {
        // Leavers are the leaver rules' business; accounts HR does not know are orphans,
        // whose access means nothing until someone owns them.
        if identity.has_left || (ctx.has_hr && identity.worker.is_none()) {
            continue;
        }
        let grants = held(ctx, identity, &mut patterns);
        let mut distinct: Vec<usize> = grants.iter().map(|grant| grant.facts).collect();
        distinct.sort_unstable();
        distinct.dedup();
        for group in peer_groups(identity) {
            *members.entry(group.clone()).or_default() += 1;
            let counts = holders.entry(group).or_default();
            for facts in &distinct {
                *counts.entry(*facts).or_default() += 1;
            }
        }
        if grants.is_empty() {
            continue;
        }
        check_sod(ctx, &patterns, identity, &grants, out);

        let privileged_role = identity.roles.iter().any(|r| r.privileged);
        let mut reported = HashSet::default();
        for grant in grants.iter().filter(|g| !g.privileged.is_empty()) {
            if privileged_role {
                continue;
            }
            let reason =
                grant.privileged.first().map(PrivilegeReason::describe).unwrap_or_default();
            let roles = if identity.roles.is_empty() {
                "no job role".to_owned()
            } else {
                role_names(identity)
            };
            out.push(
                FindingKind::PrivilegedWithoutRole,
                Severity::High,
                grant.subject(ctx),
                "",
                if identity.roles.is_empty() {
                    format!(
                        "{} holds {} in {}, which is privileged ({reason}), but has no job role that needs it.",
                        identity.name,
                        grant.entitlement.name,
                        grant.view.source()
                    )
                } else {
                    format!(
                        "{} holds {} in {}, which is privileged ({reason}), but no job role of theirs ({roles}) is privileged.",
                        identity.name,
                        grant.entitlement.name,
                        grant.view.source()
                    )
                },
                vec![grant.evidence(), Evidence::new(None, identity.identity.key.clone(), "job roles", roles.clone())],
            );
            reported.insert(grant.key());
        }

        if identity.roles.is_empty() {
            let unreported: Vec<Held<'_, '_>> =
                grants.iter().filter(|g| !reported.contains(&g.key())).cloned().collect();
            if !unreported.is_empty() {
                candidates.push((index, unreported));
            }
        }
        if !roles_defined {
            continue;
        }
        if identity.roles.is_empty() {
            let title =
                identity.worker.and_then(|w| w.job_title.clone()).unwrap_or_else(|| "none".into());
            let department =
                identity.worker.and_then(|w| w.department.clone()).unwrap_or_else(|| "none".into());
            out.push(
                FindingKind::JobRoleUnknown,
                Severity::Low,
                Subject { identity: Some(ctx.identity_subject(identity)), ..Subject::default() },
                "",
                format!(
                    "{} holds {} {} but matches no job role, so their access cannot be checked against a baseline.",
                    identity.name,
                    grants.len(),
                    if grants.len() == 1 { "grant" } else { "grants" }
                ),
                vec![
                    Evidence::new(None, identity.identity.key.clone(), "job title", title),
                    Evidence::new(None, identity.identity.key.clone(), "department", department),
                ],
            );
            continue;
        }
        let mut wildcard = Vec::new();
        let roles = role_positions(policy, identity);
        for grant in grants {
            if reported.contains(&grant.key()) {
                continue;
            }
            match justify(&patterns, &roles, &grant) {
                Justified::Exactly => {}
                Justified::ByWildcard => wildcard.push(grant),
                Justified::No => {
                    let roles = role_names(identity);
                    out.push(
                        FindingKind::GrantOutsideBaseline,
                        Severity::Medium,
                        grant.subject(ctx),
                        "",
                        format!(
                            "{} holds {} in {}, which no baseline of their job roles ({roles}) includes.",
                            identity.name,
                            grant.entitlement.name,
                            grant.view.source()
                        ),
                        vec![grant.evidence(), Evidence::new(None, identity.identity.key.clone(), "job roles", roles)],
                    );
                }
            }
        }
        if !wildcard.is_empty() {
            candidates.push((index, wildcard));
        }
    }
    check_peers(ctx, identities, candidates, &holders, &members, out);
}

fn check_sod(
    ctx: &Context<'_>,
    patterns: &Patterns<'_, '_>,
    identity: &IdentityView<'_>,
    grants: &[Held<'_, '_>],
    out: &mut Emitter<'_>,
) {
    for (position, rule) in ctx.tenant.policy.separation_of_duties.iter().enumerate() {
        let side = |left: bool| {
            grants.iter().find(|g| {
                patterns
                    .of(g)
                    .and_then(|facts| facts.sod.get(position))
                    .is_some_and(|(l, r)| if left { *l } else { *r })
            })
        };
        let (Some(left), Some(right)) = (side(true), side(false)) else { continue };
        if left.key() == right.key() {
            continue;
        }
        let why = rule.description.clone().unwrap_or_else(|| rule.name.clone());
        out.push(
            FindingKind::SodConflict,
            Severity::High,
            Subject { identity: Some(ctx.identity_subject(identity)), ..Subject::default() },
            &rule.name,
            format!(
                "{} holds both {} and {}, which the rule `{}` keeps apart: {why}.",
                identity.name, left.entitlement.name, right.entitlement.name, rule.name
            ),
            vec![left.evidence(), right.evidence()],
        );
    }
}

/// The peer groups a person is compared with: their job roles, or, for a person without
/// one, the HR job title, so the rule works before any baseline is written.
fn peer_groups(identity: &IdentityView<'_>) -> Vec<String> {
    if !identity.roles.is_empty() {
        return identity.roles.iter().map(|role| format!("job role {}", role.name)).collect();
    }
    identity
        .worker
        .and_then(|worker| worker.job_title.as_deref())
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .map(|title| vec![format!("job title {}", title.to_lowercase())])
        .unwrap_or_default()
}

fn check_peers(
    ctx: &Context<'_>,
    identities: &[IdentityView<'_>],
    candidates: Vec<(usize, Vec<Held<'_, '_>>)>,
    holders: &BTreeMap<String, HashMap<usize, usize>>,
    members: &BTreeMap<String, usize>,
    out: &mut Emitter<'_>,
) {
    let policy = &ctx.tenant.policy;
    for (index, grants) in candidates {
        let Some(identity) = identities.get(index) else { continue };
        let groups = peer_groups(identity);
        for grant in grants {
            let mut shares = Vec::new();
            for group in &groups {
                let size = members.get(group).copied().unwrap_or(0);
                if size < policy.min_peers {
                    continue;
                }
                let held_by =
                    holders.get(group).and_then(|c| c.get(&grant.facts)).copied().unwrap_or(0);
                shares.push((group.as_str(), held_by, size));
            }
            let outlier = !shares.is_empty()
                && shares
                    .iter()
                    .all(|(_, held_by, size)| share(*held_by, *size) < policy.max_peer_share);
            if !outlier {
                continue;
            }
            let mut evidence = vec![grant.evidence()];
            evidence.extend(shares.iter().map(|(group, held_by, size)| {
                Evidence::new(None, *group, "peers holding it", format!("{held_by} of {size}"))
            }));
            out.push(
                FindingKind::PeerOutlier,
                Severity::Low,
                grant.subject(ctx),
                "",
                format!(
                    "{} holds {} in {}, which few of their peers hold.",
                    identity.name,
                    grant.entitlement.name,
                    grant.view.source()
                ),
                evidence,
            );
        }
    }
}

/// `part / whole` as a fraction; 0 for an empty whole.
fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    // Counts of people fit in an f64 exactly (below 2^53).
    part as f64 / whole as f64
}

//! Review items: one per grant a person holds on an account that can sign in, with the
//! facts a reviewer needs, a recommendation and the reviewer. Pure: built from the same
//! `Context` the rules read.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use rollcall_core::context::{Context, IdentityView, SourceView, account_privilege, may_sign_in};
use rollcall_core::grants::Grant;
use rollcall_core::model::{
    Account, AccountKind, Entitlement, EntitlementKind, GrantState, LastSignIn, ManagerRef,
    MfaSummary, SourceKind, Strength,
};
use rollcall_core::policy::Policy;
use rollcall_ingest::ehr::{SOURCE_ID_ATTRIBUTE, SOURCE_NAME_ATTRIBUTE};
use rollcall_ingest::tenant_file::{Campaign, ManagerSource, ScopeSpec};
use rollcall_store::ReviewerReason;
use serde::Serialize;

/// One grant to review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    /// The grant's key ([`item_key`]): the same grant has the same key in every campaign.
    pub key: String,
    /// The identity key of the person whose access it is (`hr:E1004`).
    pub reviewee: String,
    /// The identity key of the reviewer.
    pub reviewer: String,
    /// The reason the reviewer was chosen.
    #[serde(skip)]
    pub reviewer_reason: ReviewerReason,
    /// The person.
    pub person: Person,
    /// The source of the grant (`entra`, `ehr:athenahealth`).
    pub source: String,
    /// The account holding it.
    pub account: AccountFacts,
    /// The entitlement.
    pub entitlement: EntitlementFacts,
    /// The way it is held.
    pub grant: GrantFacts,
    /// The person's last sign-in on each of their accounts.
    pub sign_ins: Vec<SignIn>,
    /// The strongest MFA method of the account (`none`, `weak`, `strong`,
    /// `phishing_resistant`), or `None` when the source gives no MFA data.
    pub mfa_strength: Option<&'static str>,
    /// The weakest second factor registered, the one an attacker would pick (`none` when
    /// there is no second factor), or `None` when the source gives no MFA data.
    pub mfa_weakest: Option<&'static str>,
    /// The entitlement is privileged, or the account is (an admin marker, EPCS).
    pub privileged: bool,
    /// The reasons it is privileged, in words.
    pub privilege_reasons: Vec<String>,
    /// The grant against the baselines of the person's job roles.
    pub baseline: Baseline,
    /// Rollcall's recommendation with its reasons.
    pub recommendation: Recommendation,
}

/// The person whose access is reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// The HR name, else the label of an account.
    pub name: String,
    /// The HR employee id.
    pub employee_id: Option<String>,
    /// The roster's status word (`Active`, `Terminated`), or `not in HR`.
    pub hr_status: String,
    /// The person has left as of the launch.
    pub has_left: bool,
    /// The HR job title, else the first account's.
    pub job_title: Option<String>,
    /// The job roles of the policy that apply.
    pub job_roles: Vec<String>,
}

/// The account with the grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountFacts {
    /// The account's id in its source.
    pub id: String,
    /// The sign-in name.
    pub login: Option<String>,
    /// The account's label.
    pub name: String,
}

/// The entitlement, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntitlementFacts {
    /// The id in the source.
    pub id: String,
    /// The name from the tenant's entitlement catalogue, else the source's name.
    pub name: String,
    /// The kind (`group`, `role`, `directory_role`).
    pub kind: &'static str,
    /// A sentence for the reviewer, such as `EHR role "Billing" in ehr:athenahealth`.
    pub text: String,
    /// The catalogue's description, else the source's, when either has one.
    pub description: Option<String>,
    /// The catalogue's owner: the person or team that answers questions about it.
    pub owner: Option<String>,
    /// The name exactly as the source writes it, so a reviewer can match the item to the
    /// source's own screens: the EHR export's `ehr.source_name`, or the source's name when
    /// the catalogue renames the entitlement. `None` for other entitlements.
    pub source_name: Option<String>,
    /// The id exactly as the source writes it (an Epic subtemplate id such as `S5030`), for
    /// EHR entitlements.
    pub source_id: Option<String>,
}

/// The way the grant is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantFacts {
    /// Held by a direct membership.
    pub direct: bool,
    /// The names of the groups it is inherited through, the account's direct group first;
    /// empty when direct.
    pub via: Vec<String>,
    /// `active`, or `eligible` for an Entra PIM assignment that must be activated.
    pub state: &'static str,
}

/// The last sign-in of one of the person's accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignIn {
    /// The source.
    pub source: String,
    /// The account id.
    pub account: String,
    /// The instant, `never`, or `unknown` when the source gives no sign-in data.
    pub last: String,
}

/// A grant against the job-role baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// The common baseline or a baseline of one of the person's roles covers it.
    Inside,
    /// The person has job roles and none of their baselines covers it.
    Outside,
    /// No job role applies to the person, so nothing justifies it.
    NoRole,
}

/// The recommended action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Keep the access.
    Keep,
    /// Remove it.
    Revoke,
}

/// A recommendation with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    /// The action.
    pub action: Action,
    /// Every reason, in the order `left`, `inactive`, `outside_baseline`, `few_peers`,
    /// `privileged_weak_mfa`. A `keep` has the single reason `no_concern`.
    pub reasons: Vec<Reason>,
}

/// One reason behind a recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `left`, `inactive`, `outside_baseline`, `few_peers`, `privileged_weak_mfa` or
    /// `no_concern`.
    pub code: &'static str,
    /// The reason in words, with the values behind it.
    pub text: String,
}

/// An entitlement owner named in the catalogue who could not review, so their items went
/// to the manager or the fallback reviewer instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnavailableOwner {
    /// The employee id written as the catalogue entry's `reviewer`.
    pub employee_id: String,
    /// Whether the roster lists the owner as left. `false` means no known person has that
    /// employee id.
    pub has_left: bool,
    /// The number of items that went to another reviewer because of it.
    pub items: usize,
}

/// Lists the review items of `campaign` for the tenant in `ctx`. `previous` contains the
/// grant keys stored with the definition's last campaign, used by the scope
/// `added_since_last`. Items are in identity order, then account and grant order.
pub fn build_items(
    ctx: &Context<'_>,
    campaign: &Campaign,
    previous: Option<&BTreeSet<String>>,
) -> Vec<ReviewItem> {
    build_items_and_unavailable_owners(ctx, campaign, previous).0
}

/// Builds the items as [`build_items`] does, and lists the entitlement owners who could
/// not review (they have left, or no known person has their employee id), in employee id
/// order. The list is empty unless the campaign sets `reviewers.entitlement_owner`.
pub fn build_items_and_unavailable_owners(
    ctx: &Context<'_>,
    campaign: &Campaign,
    previous: Option<&BTreeSet<String>>,
) -> (Vec<ReviewItem>, Vec<UnavailableOwner>) {
    let mut items = Vec::new();
    let owners = for_each_item(ctx, campaign, previous, |item| {
        items.push(item);
        ControlFlow::Continue(())
    });
    (items, owners)
}

/// Hands the items of [`build_items`] to `emit` one at a time, in the same order, so a
/// launch can store them while the rest are built and never keeps them all in memory. Stops early
/// when `emit` breaks. Returns the unavailable entitlement owners as
/// [`build_items_and_unavailable_owners`] does, counted over the items emitted.
pub fn for_each_item(
    ctx: &Context<'_>,
    campaign: &Campaign,
    previous: Option<&BTreeSet<String>>,
    mut emit: impl FnMut(ReviewItem) -> ControlFlow<()>,
) -> Vec<UnavailableOwner> {
    let identities = ctx.identities();
    let peers = Peers::count(ctx, &identities);
    // Reviewers must be people who have not left.
    let reviewers: HashSet<&str> = identities
        .iter()
        .filter(|view| !view.has_left)
        .map(|view| view.identity.key.as_str())
        .collect();
    let left: HashSet<&str> = identities
        .iter()
        .filter(|view| view.has_left)
        .map(|view| view.identity.key.as_str())
        .collect();
    let mut unavailable: BTreeMap<String, UnavailableOwner> = BTreeMap::new();
    let fallback = format!("hr:{}", campaign.fallback_reviewer);
    let second_stage = campaign.second_stage_reviewer.as_ref().map(|id| format!("hr:{id}"));

    for identity in &identities {
        let accounts = accounts_of(ctx, identity);
        if accounts.is_empty() {
            continue;
        }
        let person = person(identity, &accounts);
        let sign_ins: Vec<SignIn> = accounts
            .iter()
            .map(|(view, account)| SignIn {
                source: view.source().to_string(),
                account: account.id.clone(),
                last: match account.last_sign_in {
                    LastSignIn::At(at) => at.to_rfc3339(),
                    LastSignIn::Never => "never".into(),
                    LastSignIn::Unknown => "unknown".into(),
                },
            })
            .collect();
        let manager_rule = reviewer(
            ctx,
            identity,
            &accounts,
            campaign.manager,
            &reviewers,
            &fallback,
            second_stage.as_deref(),
        );

        for (view, account) in &accounts {
            let account_evidence = account_privilege(ctx.tenant, view, account);
            let privileged_account = !account_evidence.is_empty();
            if campaign.scope == ScopeSpec::Privileged && !privileged_account {
                continue;
            }
            for (grant, entitlement) in view.access_grants(&account.id) {
                let key = item_key(view, &account.id, grant);
                if !in_scope(&campaign.scope, view, entitlement, previous, &key) {
                    continue;
                }
                let owner = campaign
                    .entitlement_owner
                    .then(|| entitlement_owner(ctx, identity, view, entitlement, &reviewers, &left))
                    .flatten();
                let (reviewer, reviewer_reason) = match owner {
                    Some(Owner::Reviews(key)) => (key, ReviewerReason::EntitlementOwner),
                    Some(Owner::Unavailable { employee_id, has_left }) => {
                        let entry = unavailable
                            .entry(employee_id.clone())
                            .or_insert(UnavailableOwner { employee_id, has_left, items: 0 });
                        entry.items += 1;
                        manager_rule.clone()
                    }
                    Some(Owner::Reviewee) | None => manager_rule.clone(),
                };
                let reasons = view.privilege_reasons(&entitlement.id);
                let privileged = privileged_account || !reasons.is_empty();
                let privilege_reasons = if reasons.is_empty() {
                    account_evidence.iter().map(|e| format!("{}: {}", e.field, e.value)).collect()
                } else {
                    reasons.iter().map(|r| r.describe()).collect()
                };
                let baseline = baseline(ctx, identity, view, entitlement);
                let mfa = account
                    .auth_methods
                    .as_deref()
                    .map(|methods| MfaSummary::of(methods, account.kind == AccountKind::Guest));
                let recommendation = recommend(
                    ctx,
                    identity,
                    view,
                    account,
                    entitlement,
                    baseline,
                    privileged,
                    mfa.as_ref(),
                    &peers,
                );
                let item = ReviewItem {
                    key,
                    reviewee: identity.identity.key.clone(),
                    reviewer,
                    reviewer_reason,
                    person: person.clone(),
                    source: view.source().to_string(),
                    account: AccountFacts {
                        id: account.id.clone(),
                        login: account.login.clone(),
                        name: account.label(),
                    },
                    entitlement: entitlement_facts(&ctx.tenant.policy, view, entitlement),
                    grant: grant_facts(view, grant),
                    sign_ins: sign_ins.clone(),
                    mfa_strength: mfa.as_ref().map(|m| m.strongest.as_str()),
                    mfa_weakest: mfa.as_ref().map(|m| m.weakest.unwrap_or(Strength::None).as_str()),
                    privileged,
                    privilege_reasons,
                    baseline,
                    recommendation,
                };
                if emit(item).is_break() {
                    return unavailable.into_values().collect();
                }
            }
        }
    }
    unavailable.into_values().collect()
}

/// Lists the key of every grant that [`build_items`] reviews with the scope `everyone`.
/// A launch with the scope `added_since_last` stores them for the next launch.
pub fn all_grant_keys(ctx: &Context<'_>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for identity in ctx.identities() {
        for (view, account) in accounts_of(ctx, &identity) {
            for (grant, _) in view.access_grants(&account.id) {
                keys.insert(item_key(view, &account.id, grant));
            }
        }
    }
    keys
}

/// Builds the key of a grant: `<source>/<account id>/<entitlement id>`, then `@<scope>`
/// for a scoped grant (an EHR role at one practice location) and `~eligible` for an
/// eligible one, so that each grant has its own key.
pub fn item_key(view: &SourceView<'_>, account: &str, grant: &Grant) -> String {
    let mut key = format!("{}/{account}/{}", view.source(), grant.entitlement);
    if let Some(scope) = &grant.scope {
        key.push('@');
        key.push_str(scope);
    }
    if grant.state == GrantState::Eligible {
        key.push_str("~eligible");
    }
    key
}

/// Lists the person's accounts that can sign in, or whose status the source does not
/// give. Disabled accounts give no access, so their grants are not reviewed.
fn accounts_of<'c, 'a>(
    ctx: &'c Context<'a>,
    identity: &IdentityView<'_>,
) -> Vec<(&'c SourceView<'a>, &'a Account)> {
    identity
        .identity
        .accounts
        .iter()
        .filter_map(|linked| ctx.account(&linked.account))
        .filter(|(_, account)| may_sign_in(account))
        .collect()
}

fn in_scope(
    scope: &ScopeSpec,
    view: &SourceView<'_>,
    entitlement: &Entitlement,
    previous: Option<&BTreeSet<String>>,
    key: &str,
) -> bool {
    match scope {
        ScopeSpec::Everyone | ScopeSpec::Privileged => true,
        ScopeSpec::Source(source) => view.source().to_string() == source.trim(),
        ScopeSpec::EhrRoles => {
            view.source().kind() == SourceKind::Ehr && entitlement.kind == EntitlementKind::Role
        }
        ScopeSpec::AddedSinceLast => previous.is_none_or(|keys| !keys.contains(key)),
    }
}

fn person(identity: &IdentityView<'_>, accounts: &[(&SourceView<'_>, &Account)]) -> Person {
    let worker = identity.worker;
    Person {
        name: identity.name.clone(),
        employee_id: worker.map(|w| w.employee_id.clone()),
        hr_status: worker.map_or_else(|| "not in HR".to_owned(), |w| w.status_raw.clone()),
        has_left: identity.has_left,
        job_title: worker
            .and_then(|w| w.job_title.clone())
            .or_else(|| accounts.iter().find_map(|(_, a)| a.job_title.clone())),
        job_roles: identity.roles.iter().map(|role| role.name.clone()).collect(),
    }
}

/// The entitlement owner of one item, from the catalogue entry's `reviewer`.
enum Owner {
    /// The owner reviews the item: their identity key.
    Reviews(String),
    /// The owner is the reviewee, so the manager rule applies.
    Reviewee,
    /// The owner has left, or no known person has their employee id.
    Unavailable { employee_id: String, has_left: bool },
}

/// Finds the owner of `entitlement` in the policy's catalogue. `None` when its entry
/// names no reviewer, or no entry matches.
fn entitlement_owner(
    ctx: &Context<'_>,
    identity: &IdentityView<'_>,
    view: &SourceView<'_>,
    entitlement: &Entitlement,
    reviewers: &HashSet<&str>,
    left: &HashSet<&str>,
) -> Option<Owner> {
    let employee_id =
        ctx.tenant.policy.catalogue_entry(view.source(), entitlement)?.reviewer.as_deref()?;
    let key = format!("hr:{employee_id}");
    if key == identity.identity.key {
        return Some(Owner::Reviewee);
    }
    if reviewers.contains(key.as_str()) {
        return Some(Owner::Reviews(key));
    }
    Some(Owner::Unavailable {
        employee_id: employee_id.to_owned(),
        has_left: left.contains(key.as_str()),
    })
}

/// Chooses the reviewer: the manager, unless they have left, else the fallback. Nobody
/// reviews their own access: a manager who is the reviewee gives way to the fallback, and
/// a fallback who is the reviewee to the second-stage reviewer.
fn reviewer(
    ctx: &Context<'_>,
    identity: &IdentityView<'_>,
    accounts: &[(&SourceView<'_>, &Account)],
    source: ManagerSource,
    reviewers: &HashSet<&str>,
    fallback: &str,
    second_stage: Option<&str>,
) -> (String, ReviewerReason) {
    let own = identity.identity.key.as_str();
    let from_hr = || {
        identity
            .worker
            .and_then(|w| w.manager_employee_id.as_deref())
            .map(|id| format!("hr:{}", id.trim()))
            .filter(|key| reviewers.contains(key.as_str()))
    };
    let from_directory = || {
        accounts.iter().find_map(|(view, account)| {
            let key = match account.manager.as_ref()? {
                ManagerRef::EmployeeId(id) => format!("hr:{}", id.trim()),
                ManagerRef::Account(id) => {
                    let manager = rollcall_core::model::AccountRef {
                        source: view.source().clone(),
                        id: id.clone(),
                    };
                    let index = ctx.resolution.by_account.get(&manager)?;
                    ctx.resolution.identities.get(*index)?.key.clone()
                }
            };
            reviewers.contains(key.as_str()).then_some(key)
        })
    };
    let manager = match source {
        ManagerSource::Hr => from_hr(),
        ManagerSource::Directory => from_directory(),
        ManagerSource::HrThenDirectory => from_hr().or_else(from_directory),
    };
    let reason = match manager {
        Some(manager) if manager != own => return (manager, ReviewerReason::Manager),
        Some(_) => ReviewerReason::SelfReview,
        None => ReviewerReason::NoManager,
    };
    if fallback != own {
        return (fallback.to_owned(), reason);
    }
    match second_stage.filter(|second| *second != own) {
        Some(second) => (second.to_owned(), ReviewerReason::SelfReview),
        // With no second-stage reviewer no other reviewer is named, so the fallback's own
        // items stay with the fallback. The store rejects a decision on one's own access,
        // and the review page offers only handing them to another reviewer.
        None => (fallback.to_owned(), ReviewerReason::SelfReview),
    }
}

fn baseline(
    ctx: &Context<'_>,
    identity: &IdentityView<'_>,
    view: &SourceView<'_>,
    entitlement: &Entitlement,
) -> Baseline {
    let policy = &ctx.tenant.policy;
    let source = view.source();
    if policy.common_baseline.find(source, entitlement).is_some() {
        return Baseline::Inside;
    }
    if identity.roles.is_empty() {
        return Baseline::NoRole;
    }
    if identity.roles.iter().any(|role| role.baseline.find(source, entitlement).is_some()) {
        Baseline::Inside
    } else {
        Baseline::Outside
    }
}

fn entitlement_facts(
    policy: &Policy,
    view: &SourceView<'_>,
    entitlement: &Entitlement,
) -> EntitlementFacts {
    let kind = match entitlement.kind {
        EntitlementKind::Group => "group",
        EntitlementKind::DirectoryRole => "directory role",
        EntitlementKind::Template => "EHR user template",
        EntitlementKind::Subtemplate => "EHR subtemplate",
        EntitlementKind::SecurityClass => "EHR security class",
        EntitlementKind::Role => "EHR role",
        EntitlementKind::Permission => "EHR permission",
        EntitlementKind::UserGroup => "EHR user group",
    };
    let entry = policy.catalogue_entry(view.source(), entitlement);
    let name = entry.map_or_else(|| entitlement.name.clone(), |entry| entry.name.clone());
    let source_name = entitlement
        .attributes
        .get(SOURCE_NAME_ATTRIBUTE)
        .cloned()
        .or_else(|| entry.map(|_| entitlement.name.clone()));
    let text = match source_name.as_deref().filter(|words| *words != name) {
        Some(words) => format!("{kind} \"{name}\" (\"{words}\" in {})", view.source()),
        None => format!("{kind} \"{name}\" in {}", view.source()),
    };
    EntitlementFacts {
        id: entitlement.id.clone(),
        name,
        kind: entitlement.kind.as_str(),
        text,
        description: entry
            .and_then(|entry| entry.description.clone())
            .or_else(|| entitlement.description.clone()),
        owner: entry.and_then(|entry| entry.owner.clone()),
        source_name,
        source_id: entitlement.attributes.get(SOURCE_ID_ATTRIBUTE).cloned(),
    }
}

fn grant_facts(view: &SourceView<'_>, grant: &Grant) -> GrantFacts {
    GrantFacts {
        direct: grant.is_direct(),
        via: grant
            .via
            .iter()
            .map(|id| view.entitlement(id).map_or_else(|| (*id).to_owned(), |e| e.name.clone()))
            .collect(),
        state: match grant.state {
            GrantState::Active => "active",
            GrantState::Eligible => "eligible",
        },
    }
}

/// Holders of each grant per peer group, counted as the drift rules count them: people
/// who have not left and are in the roster, grouped by job role, else by HR job title.
struct Peers {
    members: BTreeMap<String, usize>,
    holders: HashMap<(String, String, String), usize>,
}

impl Peers {
    fn count(ctx: &Context<'_>, identities: &[IdentityView<'_>]) -> Self {
        let mut members = BTreeMap::new();
        let mut holders = HashMap::new();
        for identity in identities {
            if identity.has_left || (ctx.has_hr && identity.worker.is_none()) {
                continue;
            }
            let mut distinct = BTreeSet::new();
            for (view, account) in accounts_of(ctx, identity) {
                for (_, entitlement) in view.access_grants(&account.id) {
                    distinct.insert((view.source().to_string(), entitlement.id.clone()));
                }
            }
            for group in peer_groups(identity) {
                *members.entry(group.clone()).or_default() += 1;
                for (source, entitlement) in &distinct {
                    *holders
                        .entry((group.clone(), source.clone(), entitlement.clone()))
                        .or_default() += 1;
                }
            }
        }
        Self { members, holders }
    }

    /// Returns `(group, holders, size)` for each of the person's peer groups large enough to
    /// compare with, when the grant is rare in every one of them.
    fn rare(
        &self,
        ctx: &Context<'_>,
        identity: &IdentityView<'_>,
        source: &str,
        entitlement: &str,
    ) -> Option<Vec<(String, usize, usize)>> {
        let policy = &ctx.tenant.policy;
        let mut shares = Vec::new();
        for group in peer_groups(identity) {
            let size = self.members.get(&group).copied().unwrap_or(0);
            if size < policy.min_peers {
                continue;
            }
            let key = (group.clone(), source.to_owned(), entitlement.to_owned());
            let held_by = self.holders.get(&key).copied().unwrap_or(0);
            shares.push((group, held_by, size));
        }
        #[allow(clippy::cast_precision_loss, reason = "peer group sizes are far below 2^52")]
        let rare = !shares.is_empty()
            && shares.iter().all(|(_, held_by, size)| {
                (*held_by as f64) / (*size as f64) < policy.max_peer_share
            });
        rare.then_some(shares)
    }
}

/// Names the peer groups of a person: their job roles, or their HR job title when they
/// have none, as in the drift rules.
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

#[allow(clippy::too_many_arguments, reason = "each argument is one fact the recommendation weighs")]
/// Recommends `revoke` with one reason per concern, or `keep` when there is none.
fn recommend(
    ctx: &Context<'_>,
    identity: &IdentityView<'_>,
    view: &SourceView<'_>,
    account: &Account,
    entitlement: &Entitlement,
    baseline: Baseline,
    privileged: bool,
    mfa: Option<&MfaSummary>,
    peers: &Peers,
) -> Recommendation {
    let mut reasons = Vec::new();

    if identity.has_left {
        let when = identity
            .worker
            .and_then(|w| w.terminated_at)
            .map_or_else(|| "per the HR status".to_owned(), |at| format!("on {}", at.date_naive()));
        reasons.push(Reason { code: "left", text: format!("{} left {when}", identity.name) });
    }

    let limit = ctx.tenant.policy.dormant_days(view.source());
    if let Some(text) = inactive(account, ctx.as_of, limit) {
        reasons.push(Reason { code: "inactive", text });
    }

    match baseline {
        Baseline::Inside => {}
        Baseline::Outside => {
            let roles: Vec<&str> = identity.roles.iter().map(|r| r.name.as_str()).collect();
            reasons.push(Reason {
                code: "outside_baseline",
                text: format!("outside the baseline of job role {}", roles.join(", ")),
            });
        }
        Baseline::NoRole => reasons.push(Reason {
            code: "outside_baseline",
            text: "no job role applies to the person, so no baseline covers it".into(),
        }),
    }

    if let Some(shares) = peers.rare(ctx, identity, &view.source().to_string(), &entitlement.id) {
        let counts: Vec<String> = shares
            .iter()
            .map(|(group, held_by, size)| format!("{held_by} of {size} in {group}"))
            .collect();
        reasons.push(Reason {
            code: "few_peers",
            text: format!("held by few peers: {}", counts.join("; ")),
        });
    }

    // The weakest registered factor counts, because an attacker picks it. A source
    // without MFA data gives no reason either way.
    let weakest = mfa.map(|summary| summary.weakest.unwrap_or(Strength::None));
    if privileged && weakest.is_some_and(|strength| strength <= Strength::Weak) {
        let strength = weakest.map_or("unknown", Strength::as_str);
        reasons.push(Reason {
            code: "privileged_weak_mfa",
            text: format!(
                "privileged access, and the weakest registered MFA method is `{strength}`"
            ),
        });
    }

    if reasons.is_empty() {
        return Recommendation {
            action: Action::Keep,
            reasons: vec![Reason {
                code: "no_concern",
                text:
                    "inside the role baseline, with no sign of inactivity, rare access or weak MFA"
                        .into(),
            }],
        };
    }
    Recommendation { action: Action::Revoke, reasons }
}

/// Describes why the account counts as inactive, or `None` when it signed in within
/// `limit` days or the source gives no sign-in data.
fn inactive(account: &Account, as_of: DateTime<Utc>, limit: u32) -> Option<String> {
    match account.last_sign_in {
        LastSignIn::At(at) => {
            let days = (as_of - at).num_days();
            (days > i64::from(limit))
                .then(|| format!("inactive for {days} days (the limit is {limit})"))
        }
        LastSignIn::Never => {
            // A new account gets the dormancy period to sign in for the first time.
            let age = account.created_at.map(|created| (as_of - created).num_days());
            match age {
                Some(days) if days <= i64::from(limit) => None,
                Some(days) => Some(format!("never signed in, created {days} days ago")),
                None => Some("never signed in".to_owned()),
            }
        }
        LastSignIn::Unknown => None,
    }
}

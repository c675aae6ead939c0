//! The indexed view of one tenant that every rule reads: accounts, grants, privilege and
//! job roles per identity.

use std::collections::BTreeSet;

use crate::HashMap;

use chrono::{DateTime, Utc};

use crate::finding::{AccountSubject, EntitlementSubject, Evidence, IdentitySubject, Subject};
use crate::grants::{Grant, SourceGrants};
use crate::identity::{self, Identity, Resolution};
use crate::input::TenantData;
use crate::model::{
    Account, AccountMarker, AccountRef, AccountStatus, Entitlement, EpcsStatus, SourceId,
    SourceSnapshot, Worker,
};
use crate::policy::JobRole;
use crate::privilege::{self, AD_PRIVILEGED_ACCOUNT_RIDS, PrivilegeReason};
use crate::tenant::Tenant;

/// One source, indexed.
pub struct SourceView<'a> {
    /// The snapshot.
    pub snapshot: &'a SourceSnapshot,
    /// Effective grants per account.
    pub grants: SourceGrants<'a>,
    // Looked up by id for every grant and linked account, never walked: hash maps. With
    // repeated ids the last one wins, as it did with the B-tree maps before.
    accounts: HashMap<&'a str, &'a Account>,
    entitlements: HashMap<&'a str, &'a Entitlement>,
    /// The privilege reasons of each privileged entitlement, by id.
    privileged: HashMap<&'a str, Vec<PrivilegeReason>>,
    /// The position in `Resolution::identities` of each account that took part in
    /// identity resolution, by account id. It contains what `Resolution::by_account`
    /// contains for this source, without building an `AccountRef` per lookup.
    identities: HashMap<&'a str, usize>,
}

impl<'a> SourceView<'a> {
    fn new(snapshot: &'a SourceSnapshot, tenant: &Tenant) -> Self {
        let entitlements: HashMap<&str, &Entitlement> =
            snapshot.entitlements.iter().map(|e| (e.id.as_str(), e)).collect();
        let mut privileged = HashMap::default();
        for entitlement in &snapshot.entitlements {
            let mut reasons = privilege::source_reasons(entitlement);
            if let Some(pattern) = tenant.policy.privileged.find(&snapshot.source, entitlement) {
                reasons.push(PrivilegeReason::Policy(pattern.as_str().to_owned()));
            }
            if !reasons.is_empty() {
                privileged.insert(entitlement.id.as_str(), reasons);
            }
        }
        Self {
            snapshot,
            grants: SourceGrants::expand(snapshot),
            accounts: snapshot.accounts.iter().map(|a| (a.id.as_str(), a)).collect(),
            entitlements,
            privileged,
            identities: HashMap::default(),
        }
    }

    /// Fills the identity index of every view from `resolution`. Its accounts all come
    /// from the snapshots, so each is found in the views of its source.
    fn index_identities(views: &mut [SourceView<'a>], resolution: &Resolution) {
        for (position, identity) in resolution.identities.iter().enumerate() {
            for linked in &identity.accounts {
                let account = &linked.account;
                for view in views.iter_mut().filter(|view| view.source() == &account.source) {
                    if let Some((id, _)) = view.accounts.get_key_value(account.id.as_str()) {
                        view.identities.insert(*id, position);
                    }
                }
            }
        }
    }

    /// Returns the source id.
    pub fn source(&self) -> &'a SourceId {
        &self.snapshot.source
    }

    /// Returns the account with `id`.
    pub fn account(&self, id: &str) -> Option<&'a Account> {
        self.accounts.get(id).copied()
    }

    /// Returns the entitlement with `id`.
    pub fn entitlement(&self, id: &str) -> Option<&'a Entitlement> {
        self.entitlements.get(id).copied()
    }

    /// Returns the position in `Resolution::identities` of the account with `id`, or
    /// `None` when the account took no part in identity resolution (excluded or service).
    pub fn identity_index(&self, id: &str) -> Option<usize> {
        self.identities.get(id).copied()
    }

    /// Returns the privilege reasons of the entitlement, empty when it is not privileged.
    pub fn privilege_reasons(&self, id: &str) -> &[PrivilegeReason] {
        self.privileged.get(id).map_or(&[], Vec::as_slice)
    }

    /// Lists the grants of `account` on security-enabled entitlements, the ones that give access.
    pub fn access_grants(
        &self,
        account: &str,
    ) -> impl Iterator<Item = (&Grant<'a>, &'a Entitlement)> {
        self.grants.of(account).iter().filter_map(|grant| {
            let entitlement = self.entitlement(grant.entitlement)?;
            entitlement.security_enabled.then_some((grant, entitlement))
        })
    }
}

/// Why a person is privileged: one account marker or one privileged grant.
#[derive(Debug, Clone)]
pub struct PrivilegeFact {
    /// The account.
    pub account: AccountRef,
    /// The evidence that makes it privileged.
    pub evidence: Evidence,
}

/// The facts the rules read about one identity beyond its accounts.
pub struct IdentityView<'a> {
    /// The identity.
    pub identity: &'a Identity,
    /// The HR worker.
    pub worker: Option<&'a Worker>,
    /// The person's name.
    pub name: String,
    /// The job roles that apply, in policy order.
    pub roles: Vec<&'a JobRole>,
    /// The origin of the job roles.
    pub roles_from: RolesFrom,
    /// The privilege facts of the person, empty when not privileged.
    pub privilege: Vec<PrivilegeFact>,
    /// The person has left as of the evaluation time.
    pub has_left: bool,
}

/// The origin of an identity's job roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolesFrom {
    /// Assigned by employee id in `tenant.yaml`.
    Assigned,
    /// Matched on the HR title and department.
    Hr,
    /// Matched on a directory account's title and department (no HR match).
    Directory,
    /// No role.
    None,
}

/// The job roles matching each (title, department) pair met so far. A tenant has a few
/// dozen titles and thousands of people, so each pair's patterns run once.
type RoleMatches<'a, 's> = HashMap<(Option<&'a str>, Option<&'a str>), Vec<&'s JobRole>>;

/// The indexed tenant.
pub struct Context<'a> {
    /// The tenant.
    pub tenant: &'a Tenant,
    /// The instant time-based rules are evaluated at.
    pub as_of: DateTime<Utc>,
    /// Every source, in input order.
    pub sources: Vec<SourceView<'a>>,
    /// The identity resolution.
    pub resolution: Resolution,
    /// The HR workers.
    pub workers: &'a [Worker],
    /// Whether an HR roster was given (orphans are only defined against one).
    pub has_hr: bool,
}

impl<'a> Context<'a> {
    /// Indexes `data`.
    pub fn new(tenant: &'a Tenant, data: &'a TenantData, as_of: DateTime<Utc>) -> Self {
        let mut sources: Vec<SourceView<'a>> =
            data.sources.iter().map(|s| SourceView::new(s, tenant)).collect();
        let resolution = identity::resolve(tenant, data);
        SourceView::index_identities(&mut sources, &resolution);
        Self {
            tenant,
            as_of,
            sources,
            resolution,
            workers: data.hr.as_ref().map_or(&[], |hr| hr.workers.as_slice()),
            has_hr: data.hr.is_some(),
        }
    }

    /// Finds the source view and the account that `account` refers to.
    pub fn account(&self, account: &AccountRef) -> Option<(&SourceView<'a>, &'a Account)> {
        self.sources
            .iter()
            .filter(|view| view.source() == &account.source)
            .find_map(|view| view.account(&account.id).map(|a| (view, a)))
    }

    /// Builds the per-identity views. Separate from `new` because views borrow the
    /// resolution the context owns.
    pub fn identities(&self) -> Vec<IdentityView<'_>> {
        let mut matched = RoleMatches::default();
        self.resolution
            .identities
            .iter()
            .map(|identity| self.identity_view(identity, &mut matched))
            .collect()
    }

    fn identity_view<'s>(
        &'s self,
        identity: &'s Identity,
        matched: &mut RoleMatches<'a, 's>,
    ) -> IdentityView<'s> {
        let worker = identity.worker.and_then(|i| self.workers.get(i));
        let accounts: Vec<(&SourceView<'a>, &'a Account)> =
            identity.accounts.iter().filter_map(|linked| self.account(&linked.account)).collect();
        let name = self.identity_name(identity, worker);

        let (roles, roles_from) = self.roles(worker, &accounts, matched);

        let mut privilege = Vec::new();
        for (view, account) in &accounts {
            let evidence = account_privilege(self.tenant, view, account);
            if evidence.is_empty() {
                continue;
            }
            let account_ref = AccountRef { source: view.source().clone(), id: account.id.clone() };
            privilege.extend(
                evidence
                    .into_iter()
                    .map(|evidence| PrivilegeFact { account: account_ref.clone(), evidence }),
            );
        }
        let has_left = worker.is_some_and(|w| w.has_left(self.as_of));
        IdentityView { identity, worker, name, roles, roles_from, privilege, has_left }
    }

    /// Returns the person's name: the HR name, else the label of the first linked account that
    /// exists, else the identity key.
    fn identity_name(&self, identity: &Identity, worker: Option<&Worker>) -> String {
        worker.and_then(|w| w.name.clone()).unwrap_or_else(|| {
            identity
                .accounts
                .iter()
                .find_map(|linked| self.account(&linked.account))
                .map_or_else(|| identity.key.clone(), |(_, account)| account.label())
        })
    }

    fn roles<'s>(
        &'s self,
        worker: Option<&'a Worker>,
        accounts: &[(&SourceView<'a>, &'a Account)],
        matched: &mut RoleMatches<'a, 's>,
    ) -> (Vec<&'s JobRole>, RolesFrom) {
        let policy = &self.tenant.policy;
        let mut roles_for = |title: Option<&'a str>, department: Option<&'a str>| {
            matched
                .entry((title, department))
                .or_insert_with(|| policy.roles_for(title, department))
                .clone()
        };
        if let Some(names) =
            worker.and_then(|w| self.tenant.identity.roles.get(w.employee_id.trim()))
        {
            let roles: Vec<&JobRole> = names.iter().filter_map(|name| policy.role(name)).collect();
            return (roles, RolesFrom::Assigned);
        }
        if let Some(worker) = worker {
            let roles = roles_for(worker.job_title.as_deref(), worker.department.as_deref());
            if !roles.is_empty() {
                return (roles, RolesFrom::Hr);
            }
        }
        let mut seen = BTreeSet::new();
        let mut roles = Vec::new();
        for (_, account) in accounts {
            for role in roles_for(account.job_title.as_deref(), account.department.as_deref()) {
                if seen.insert(role.name.as_str()) {
                    roles.push(role);
                }
            }
        }
        if roles.is_empty() { (roles, RolesFrom::None) } else { (roles, RolesFrom::Directory) }
    }

    /// Builds the subject part that names `view`'s identity.
    pub fn identity_subject(&self, view: &IdentityView<'_>) -> IdentitySubject {
        IdentitySubject {
            key: view.identity.key.clone(),
            name: view.name.clone(),
            employee_id: view.worker.map(|w| w.employee_id.clone()),
        }
    }

    /// Builds a subject that names an account and, when it has one, its identity.
    pub fn account_subject(&self, source: &SourceId, account: &Account) -> Subject {
        let account_ref = AccountRef { source: source.clone(), id: account.id.clone() };
        let identity = self
            .resolution
            .by_account
            .get(&account_ref)
            .and_then(|i| self.resolution.identities.get(*i))
            .map(|identity| {
                // Only the name, key and employee id: the job roles and privilege of a
                // full identity view are not needed to name the subject.
                let worker = identity.worker.and_then(|i| self.workers.get(i));
                IdentitySubject {
                    key: identity.key.clone(),
                    name: self.identity_name(identity, worker),
                    employee_id: worker.map(|w| w.employee_id.clone()),
                }
            });
        Subject {
            identity,
            account: Some(AccountSubject {
                account: account_ref,
                login: account.login.clone(),
                name: account.label(),
            }),
            entitlement: None,
            source: None,
        }
    }
}

/// Builds the subject part that names an entitlement.
pub fn entitlement_subject(source: &SourceId, entitlement: &Entitlement) -> EntitlementSubject {
    EntitlementSubject {
        source: source.clone(),
        id: entitlement.id.clone(),
        name: entitlement.name.clone(),
    }
}

/// Evidence for why one account is privileged: its markers, EPCS where the policy counts
/// it, and privileged grants.
pub fn account_privilege(
    tenant: &Tenant,
    view: &SourceView<'_>,
    account: &Account,
) -> Vec<Evidence> {
    let source = view.source();
    // Most accounts are not privileged: the record name is built only for evidence.
    let record = || format!("{source}/{}", account.id);
    let mut evidence = Vec::new();
    if tenant.policy.epcs_privileged && account.epcs == Some(EpcsStatus::Enabled) {
        evidence.push(Evidence::new(
            Some(source),
            record(),
            "EPCS",
            "enabled (controlled-substance prescribing)",
        ));
    }
    for marker in &account.markers {
        let (field, value) = match marker {
            AccountMarker::AdAdminCount => ("adminCount", "1".to_owned()),
            AccountMarker::AdPrivilegedRid(rid) if AD_PRIVILEGED_ACCOUNT_RIDS.contains(rid) => {
                ("objectSid", format!("RID {rid}"))
            }
            AccountMarker::AdPrivilegedRid(_) => continue,
            AccountMarker::EntraReportIsAdmin => ("isAdmin", "true".to_owned()),
        };
        evidence.push(Evidence::new(Some(source), record(), field, value));
    }
    for (grant, entitlement) in view.access_grants(&account.id) {
        let reasons = view.privilege_reasons(&entitlement.id);
        if let Some(reason) = reasons.first() {
            evidence.push(Evidence::new(
                Some(source),
                record(),
                grant_field(grant),
                format!("{}: {}", entitlement.name, reason.describe()),
            ));
        }
    }
    evidence
}

/// Names the evidence field of a grant after how the grant is held (`grant via Nursing`).
pub fn grant_field(grant: &Grant<'_>) -> String {
    let state = match grant.state {
        crate::model::GrantState::Active => "grant",
        crate::model::GrantState::Eligible => "eligible grant",
    };
    if grant.is_direct() {
        state.to_owned()
    } else {
        format!("{state} via {}", grant.via.join(" > "))
    }
}

/// Checks whether an account can sign in or might: enabled, or a status the export does not give.
pub fn may_sign_in(account: &Account) -> bool {
    account.status != AccountStatus::Disabled
}

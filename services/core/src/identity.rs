//! Identity resolution: which accounts, across sources, belong to which person.
//!
//! Accounts are linked to HR workers by the strongest key that gives any candidate, in
//! this order, and an account that matches several people is reported, never guessed:
//! 1. a manual link in `tenant.yaml`;
//! 2. the employee id the account carries (Entra `employeeId`, AD `employeeID`, an EHR's
//!    external id column);
//! 3. its UPN or e-mail equal to a worker's work e-mail;
//! 4. a key shared with an account already linked: the AD security identifier (Epic
//!    stores it as the SSO identifier), then e-mail or UPN, then the login
//!    (`sAMAccountName`, EHR login, the UPN's local part), which repeats until no new
//!    link appears;
//! 5. fallbacks: the login equal to the local part of exactly one worker's work e-mail,
//!    then the full name equal to exactly one worker's (accents, word order and middle
//!    initials ignored);
//! 6. accounts still unlinked group among themselves by the same keys, as people HR does
//!    not know.
//!
//! Service accounts (policy patterns) and excluded accounts take no part.

use std::collections::{BTreeMap, BTreeSet};

use crate::HashMap;

use crate::input::TenantData;
use crate::model::{Account, AccountRef, SourceKind, Worker};
use crate::normalize;
use crate::tenant::Tenant;

/// How an account was linked to its identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkMethod {
    /// A manual link in `tenant.yaml`.
    Manual,
    /// The account's employee id.
    EmployeeId,
    /// The account's UPN or e-mail equals the worker's work e-mail.
    Email,
    /// The same security identifier as a linked account.
    Sid,
    /// The same e-mail or UPN as a linked account.
    SharedEmail,
    /// The same login as a linked account.
    Login,
    /// The login equals the local part of the worker's work e-mail.
    EmailLocalPart,
    /// The full name equals the worker's.
    FullName,
    /// Grouped with other accounts HR does not know, by a shared key.
    Cluster,
}

impl LinkMethod {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkMethod::Manual => "manual",
            LinkMethod::EmployeeId => "employee_id",
            LinkMethod::Email => "email",
            LinkMethod::Sid => "sid",
            LinkMethod::SharedEmail => "shared_email",
            LinkMethod::Login => "login",
            LinkMethod::EmailLocalPart => "email_local_part",
            LinkMethod::FullName => "full_name",
            LinkMethod::Cluster => "cluster",
        }
    }
}

/// An account linked to an identity, with how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedAccount {
    /// The account.
    pub account: AccountRef,
    /// How it was linked.
    pub method: LinkMethod,
    /// The key value that matched.
    pub key: String,
}

/// A person: an HR worker, or accounts that belong together without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `hr:<employee id>`, or `account:<source>/<id>` of its first account.
    pub key: String,
    /// Index of the worker in the HR snapshot.
    pub worker: Option<usize>,
    /// The linked accounts, in source and id order.
    pub accounts: Vec<LinkedAccount>,
}

/// An account that matched several people by one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguity {
    /// The account.
    pub account: AccountRef,
    /// The key class that matched.
    pub method: LinkMethod,
    /// The key value.
    pub key: String,
    /// The employee ids it matched.
    pub candidates: Vec<String>,
}

/// The outcome of identity resolution.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Every identity: one per worker, then clusters of unlinked accounts.
    pub identities: Vec<Identity>,
    /// Accounts that matched several people; each also forms an identity of its own.
    pub ambiguous: Vec<Ambiguity>,
    /// Accounts left out, with the reason.
    pub excluded: BTreeMap<AccountRef, String>,
    /// The identity index of every account that took part.
    pub by_account: BTreeMap<AccountRef, usize>,
}

/// Keys of one account, normalised.
struct AccountKeys {
    employee_id: Option<String>,
    emails: BTreeSet<String>,
    sid: Option<String>,
    logins: BTreeSet<String>,
    name: Option<String>,
}

impl AccountKeys {
    fn of(account: &Account, kind: SourceKind) -> Self {
        let mut emails = BTreeSet::new();
        let mut logins = BTreeSet::new();
        for address in [account.email.as_deref(), account.upn.as_deref()].into_iter().flatten() {
            if normalize::is_address(address) {
                emails.extend(normalize::key(address));
                if kind != SourceKind::Ehr {
                    logins.extend(normalize::local_part(address));
                }
            }
        }
        for login in
            [account.login.as_deref(), account.sam_account_name.as_deref()].into_iter().flatten()
        {
            if normalize::is_address(login) {
                emails.extend(normalize::key(login));
            } else {
                logins.extend(normalize::key(login));
            }
        }
        let name = account
            .given_name
            .as_deref()
            .zip(account.family_name.as_deref())
            .and_then(|(given, family)| normalize::name_key(&format!("{given} {family}")))
            .or_else(|| account.display_name.as_deref().and_then(normalize::name_key));
        Self {
            employee_id: account.employee_id.as_deref().and_then(normalize::key),
            emails,
            sid: account.sid.as_deref().and_then(normalize::key),
            logins,
            name,
        }
    }
}

/// Indexes of workers by key. Only looked up, never walked, so hash maps.
struct WorkerIndex {
    by_employee_id: HashMap<String, usize>,
    by_email: HashMap<String, BTreeSet<usize>>,
    by_local_part: HashMap<String, BTreeSet<usize>>,
    by_name: HashMap<String, BTreeSet<usize>>,
}

impl WorkerIndex {
    fn new(workers: &[Worker]) -> Self {
        let mut index = Self {
            by_employee_id: HashMap::default(),
            by_email: HashMap::default(),
            by_local_part: HashMap::default(),
            by_name: HashMap::default(),
        };
        for (i, worker) in workers.iter().enumerate() {
            if let Some(id) = normalize::key(&worker.employee_id) {
                index.by_employee_id.entry(id).or_insert(i);
            }
            if let Some(email) = worker.email.as_deref() {
                if let Some(key) = normalize::key(email) {
                    index.by_email.entry(key).or_default().insert(i);
                }
                if let Some(local) = normalize::local_part(email) {
                    index.by_local_part.entry(local).or_default().insert(i);
                }
            }
            if let Some(name) = worker.name.as_deref().and_then(normalize::name_key) {
                index.by_name.entry(name).or_default().insert(i);
            }
        }
        index
    }
}

/// Keys of one class that an account shares with linked accounts, with their workers.
type Candidates<'k> = Vec<(&'k String, &'k BTreeSet<usize>)>;

/// The outcome of trying one key class on one account.
enum Match {
    None,
    One(usize, String),
    Many(BTreeSet<usize>, String),
}

fn pick<'a>(candidates: impl IntoIterator<Item = (&'a String, &'a BTreeSet<usize>)>) -> Match {
    let mut found: BTreeSet<usize> = BTreeSet::new();
    let mut matched_key = String::new();
    for (key, workers) in candidates {
        if found.is_empty() {
            matched_key.clone_from(key);
        }
        found.extend(workers.iter().copied());
    }
    let mut iter = found.iter();
    match (iter.next(), iter.next()) {
        (None, _) => Match::None,
        (Some(only), None) => Match::One(*only, matched_key),
        (Some(_), Some(_)) => Match::Many(found, matched_key),
    }
}

fn is_service(tenant: &Tenant, account: &Account) -> bool {
    let candidates = [account.login.as_deref(), account.sam_account_name.as_deref()];
    candidates
        .into_iter()
        .flatten()
        .chain(account.upn.as_deref().and_then(|upn| upn.split('@').next()))
        .any(|value| tenant.policy.is_service_name([value]))
}

/// Resolves the accounts of every source into identities.
pub fn resolve(tenant: &Tenant, data: &TenantData) -> Resolution {
    let workers: &[Worker] = data.hr.as_ref().map_or(&[], |hr| hr.workers.as_slice());
    let index = WorkerIndex::new(workers);
    let mut resolution = Resolution::default();

    // Every account that takes part, in source and id order.
    let mut accounts: BTreeMap<AccountRef, AccountKeys> = BTreeMap::new();
    for snapshot in &data.sources {
        for account in &snapshot.accounts {
            let account_ref =
                AccountRef { source: snapshot.source.clone(), id: account.id.clone() };
            if let Some(exclusion) =
                tenant.identity.exclusions.iter().find(|e| e.account == account_ref)
            {
                resolution.excluded.insert(account_ref, exclusion.reason.clone());
            } else if is_service(tenant, account) {
                resolution.excluded.insert(account_ref, "service account (policy pattern)".into());
            } else {
                accounts.insert(account_ref, AccountKeys::of(account, snapshot.source.kind()));
            }
        }
    }

    let mut links: BTreeMap<AccountRef, (usize, LinkMethod, String)> = BTreeMap::new();
    let mut ambiguous: BTreeMap<AccountRef, Ambiguity> = BTreeMap::new();
    let settle = |account: &AccountRef,
                  method: LinkMethod,
                  outcome: Match,
                  links: &mut BTreeMap<AccountRef, (usize, LinkMethod, String)>,
                  ambiguous: &mut BTreeMap<AccountRef, Ambiguity>|
     -> bool {
        match outcome {
            Match::None => false,
            Match::One(worker, key) => {
                links.insert(account.clone(), (worker, method, key));
                true
            }
            Match::Many(candidates, key) => {
                let candidates = candidates
                    .iter()
                    .filter_map(|i| workers.get(*i).map(|w| w.employee_id.clone()))
                    .collect();
                ambiguous.insert(
                    account.clone(),
                    Ambiguity { account: account.clone(), method, key, candidates },
                );
                true
            }
        }
    };

    // Steps 1 to 3: manual links, employee id, e-mail.
    for (account, keys) in &accounts {
        let manual =
            tenant.identity.links.iter().find(|link| link.accounts.contains(account)).and_then(
                |link| {
                    let id = normalize::key(&link.employee_id)?;
                    index.by_employee_id.get(&id).map(|worker| (*worker, link.employee_id.clone()))
                },
            );
        if let Some((worker, key)) = manual {
            links.insert(account.clone(), (worker, LinkMethod::Manual, key));
            continue;
        }
        let by_id = keys.employee_id.as_ref().and_then(|id| {
            index.by_employee_id.get(id).map(|worker| Match::One(*worker, id.clone()))
        });
        if let Some(outcome) = by_id {
            settle(account, LinkMethod::EmployeeId, outcome, &mut links, &mut ambiguous);
            continue;
        }
        let by_email = pick(keys.emails.iter().filter_map(|e| index.by_email.get_key_value(e)));
        settle(account, LinkMethod::Email, by_email, &mut links, &mut ambiguous);
    }

    // Step 4: keys shared with linked accounts, until nothing changes.
    propagate(&accounts, &mut links, &mut ambiguous, workers);

    // Step 5: fallbacks against the HR roster.
    for (account, keys) in &accounts {
        if links.contains_key(account) || ambiguous.contains_key(account) {
            continue;
        }
        let by_local =
            pick(keys.logins.iter().filter_map(|l| index.by_local_part.get_key_value(l)));
        if settle(account, LinkMethod::EmailLocalPart, by_local, &mut links, &mut ambiguous) {
            continue;
        }
        let by_name = pick(keys.name.iter().filter_map(|n| index.by_name.get_key_value(n)));
        settle(account, LinkMethod::FullName, by_name, &mut links, &mut ambiguous);
    }
    propagate(&accounts, &mut links, &mut ambiguous, workers);

    // One identity per worker, in roster order.
    for (i, worker) in workers.iter().enumerate() {
        resolution.identities.push(Identity {
            key: format!("hr:{}", worker.employee_id.trim()),
            worker: Some(i),
            accounts: Vec::new(),
        });
    }
    for (account, (worker, method, key)) in &links {
        if let Some(identity) = resolution.identities.get_mut(*worker) {
            identity.accounts.push(LinkedAccount {
                account: account.clone(),
                method: *method,
                key: key.clone(),
            });
            resolution.by_account.insert(account.clone(), *worker);
        }
    }

    // Step 6: the rest group among themselves; ambiguous accounts stand alone.
    let unlinked: Vec<&AccountRef> = accounts
        .keys()
        .filter(|a| !links.contains_key(*a) && !ambiguous.contains_key(*a))
        .collect();
    for cluster in cluster(&unlinked, &accounts) {
        let Some((first, _)) = cluster.first() else { continue };
        let position = resolution.identities.len();
        resolution.identities.push(Identity {
            key: format!("account:{first}"),
            worker: None,
            accounts: cluster
                .iter()
                .map(|(account, key)| LinkedAccount {
                    account: (*account).clone(),
                    method: LinkMethod::Cluster,
                    key: key.clone(),
                })
                .collect(),
        });
        for (account, _) in &cluster {
            resolution.by_account.insert((*account).clone(), position);
        }
    }
    for (account, ambiguity) in ambiguous {
        let position = resolution.identities.len();
        resolution.identities.push(Identity {
            key: format!("account:{account}"),
            worker: None,
            accounts: vec![LinkedAccount {
                account: account.clone(),
                method: ambiguity.method,
                key: ambiguity.key.clone(),
            }],
        });
        resolution.by_account.insert(account, position);
        resolution.ambiguous.push(ambiguity);
    }
    resolution
}

/// The keys of linked accounts, with the workers they are linked to, by key class.
#[derive(Default)]
struct LinkedKeys<'k> {
    by_sid: HashMap<&'k str, BTreeSet<usize>>,
    by_email: HashMap<&'k str, BTreeSet<usize>>,
    by_login: HashMap<&'k str, BTreeSet<usize>>,
}

impl<'k> LinkedKeys<'k> {
    fn add(&mut self, keys: &'k AccountKeys, worker: usize) {
        if let Some(sid) = &keys.sid {
            self.by_sid.entry(sid).or_default().insert(worker);
        }
        for email in &keys.emails {
            self.by_email.entry(email).or_default().insert(worker);
        }
        for login in &keys.logins {
            self.by_login.entry(login).or_default().insert(worker);
        }
    }

    /// Finds the first key class in which `keys` meets linked accounts, with its outcome.
    fn decide<'s>(&'s self, keys: &'s AccountKeys) -> Option<(LinkMethod, Match)> {
        let classes: [(LinkMethod, Candidates<'s>); 3] = [
            (
                LinkMethod::Sid,
                keys.sid
                    .iter()
                    .filter_map(|s| self.by_sid.get(s.as_str()).map(|w| (s, w)))
                    .collect(),
            ),
            (
                LinkMethod::SharedEmail,
                keys.emails
                    .iter()
                    .filter_map(|e| self.by_email.get(e.as_str()).map(|w| (e, w)))
                    .collect(),
            ),
            (
                LinkMethod::Login,
                keys.logins
                    .iter()
                    .filter_map(|l| self.by_login.get(l.as_str()).map(|w| (l, w)))
                    .collect(),
            ),
        ];
        classes.into_iter().find_map(|(method, candidates)| match pick(candidates) {
            Match::None => None,
            outcome => Some((method, outcome)),
        })
    }
}

/// Links unlinked accounts through keys they share with linked ones, by key class
/// (SID, then e-mail, then login), in rounds until no round adds a link. Each round
/// decides from the state at its start, so the result does not depend on account order.
///
/// The key index is built once and grows by each round's new links, and each round
/// looks only at the accounts still open. Links are only ever added, so this is the state
/// that rebuilding the index at the start of every round would give.
fn propagate(
    accounts: &BTreeMap<AccountRef, AccountKeys>,
    links: &mut BTreeMap<AccountRef, (usize, LinkMethod, String)>,
    ambiguous: &mut BTreeMap<AccountRef, Ambiguity>,
    workers: &[Worker],
) {
    // Looked up by key only, never walked, so hash maps keep the outcome independent of
    // their order.
    let mut linked = LinkedKeys::default();
    for (account, (worker, _, _)) in links.iter() {
        if let Some(keys) = accounts.get(account) {
            linked.add(keys, *worker);
        }
    }
    let mut open: Vec<(&AccountRef, &AccountKeys)> = accounts
        .iter()
        .filter(|(account, _)| !links.contains_key(*account) && !ambiguous.contains_key(*account))
        .collect();
    loop {
        let mut decided = Vec::new();
        open.retain(|(account, keys)| match linked.decide(keys) {
            Some((method, outcome)) => {
                decided.push((*account, *keys, method, outcome));
                false
            }
            None => true,
        });
        if decided.is_empty() {
            return;
        }
        for (account, keys, method, outcome) in decided {
            match outcome {
                Match::One(worker, key) => {
                    linked.add(keys, worker);
                    links.insert(account.clone(), (worker, method, key));
                }
                Match::Many(candidates, key) => {
                    let candidates = candidates
                        .iter()
                        .filter_map(|i| workers.get(*i).map(|w| w.employee_id.clone()))
                        .collect();
                    ambiguous.insert(
                        account.clone(),
                        Ambiguity { account: account.clone(), method, key, candidates },
                    );
                }
                Match::None => {}
            }
        }
    }
}

/// Groups `unlinked` accounts that share an employee id, SID, e-mail or login, with the
/// key that joined each (the first account's own id for the first of a group).
fn cluster<'a>(
    unlinked: &[&'a AccountRef],
    accounts: &BTreeMap<AccountRef, AccountKeys>,
) -> Vec<Vec<(&'a AccountRef, String)>> {
    // Union-find over positions in `unlinked`.
    let mut parent: Vec<usize> = (0..unlinked.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while let Some(&p) = parent.get(i) {
            if p == i {
                break;
            }
            let grand = parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = parent.get_mut(i) {
                *slot = grand;
            }
            i = p;
        }
        i
    }
    let mut first_holder: BTreeMap<String, usize> = BTreeMap::new();
    let mut joined_by: BTreeMap<usize, String> = BTreeMap::new();
    for (i, account) in unlinked.iter().enumerate() {
        let Some(keys) = accounts.get(*account) else { continue };
        let all_keys = keys
            .employee_id
            .iter()
            .map(|k| format!("employee_id:{k}"))
            .chain(keys.sid.iter().map(|k| format!("sid:{k}")))
            .chain(keys.emails.iter().map(|k| format!("email:{k}")))
            .chain(keys.logins.iter().map(|k| format!("login:{k}")));
        for key in all_keys {
            match first_holder.get(&key) {
                Some(&other) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, other));
                    if a != b {
                        if let Some(slot) = parent.get_mut(a.max(b)) {
                            *slot = a.min(b);
                        }
                        joined_by.entry(i).or_insert(key);
                    }
                }
                None => {
                    first_holder.insert(key, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<(&'a AccountRef, String)>> = BTreeMap::new();
    for (i, account) in unlinked.iter().enumerate() {
        let key = joined_by.remove(&i).unwrap_or_else(|| account.to_string());
        groups.entry(root(&mut parent, i)).or_default().push((*account, key));
    }
    groups.into_values().collect()
}

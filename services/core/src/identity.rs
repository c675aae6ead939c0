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
use crate::model::{Account, AccountRef, SourceId, SourceKind, Worker};
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
    /// Sorted, without repeats. A sorted `Vec` rather than a `BTreeSet`, because an
    /// account has one to three of each and the keys are only walked.
    emails: Vec<String>,
    sid: Option<String>,
    /// Sorted, without repeats, as `emails`.
    logins: Vec<String>,
    name: Option<String>,
}

impl AccountKeys {
    fn of(account: &Account, kind: SourceKind) -> Self {
        let mut emails = Vec::new();
        let mut logins = Vec::new();
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
        for keys in [&mut emails, &mut logins] {
            keys.sort_unstable();
            keys.dedup();
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

/// The workers (positions in the HR roster) that one key value leads to. Nearly every
/// key leads to one worker, which needs no set of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Workers {
    One(usize),
    /// Two or more.
    Many(BTreeSet<usize>),
}

impl Workers {
    fn add(&mut self, worker: usize) {
        match self {
            Workers::One(only) if *only == worker => {}
            Workers::One(only) => *self = Workers::Many(BTreeSet::from([*only, worker])),
            Workers::Many(set) => {
                set.insert(worker);
            }
        }
    }

    /// Lists the workers in ascending order.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let (one, many) = match self {
            Workers::One(only) => (Some(*only), None),
            Workers::Many(set) => (None, Some(set)),
        };
        one.into_iter().chain(many.into_iter().flatten().copied())
    }
}

/// Adds `worker` to the workers of `key` in `map`.
fn add_worker<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Workers>, key: K, worker: usize) {
    map.entry(key).and_modify(|workers| workers.add(worker)).or_insert(Workers::One(worker));
}

/// Indexes of workers by key. Only looked up, never walked, so hash maps.
struct WorkerIndex {
    by_employee_id: HashMap<String, usize>,
    by_email: HashMap<String, Workers>,
    by_local_part: HashMap<String, Workers>,
    by_name: HashMap<String, Workers>,
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
                    add_worker(&mut index.by_email, key, i);
                }
                if let Some(local) = normalize::local_part(email) {
                    add_worker(&mut index.by_local_part, local, i);
                }
            }
            if let Some(name) = worker.name.as_deref().and_then(normalize::name_key) {
                add_worker(&mut index.by_name, name, i);
            }
        }
        index
    }
}

/// Keys of one class that an account shares with linked accounts, with their workers.
type Candidates<'k> = Vec<(&'k String, &'k Workers)>;

/// The outcome of trying one key class on one account.
enum Match {
    None,
    One(usize, String),
    Many(BTreeSet<usize>, String),
}

/// Joins the workers of every candidate key. The key reported is the first candidate's.
fn pick<'a>(candidates: impl IntoIterator<Item = (&'a String, &'a Workers)>) -> Match {
    let mut found: Option<Workers> = None;
    let mut matched_key = String::new();
    for (key, workers) in candidates {
        for worker in workers.iter() {
            match &mut found {
                Some(found) => found.add(worker),
                None => {
                    matched_key.clone_from(key);
                    found = Some(Workers::One(worker));
                }
            }
        }
    }
    match found {
        None => Match::None,
        Some(Workers::One(only)) => Match::One(only, matched_key),
        Some(Workers::Many(all)) => Match::Many(all, matched_key),
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

/// An account that takes part in resolution, borrowed from its snapshot, with its keys.
///
/// Resolution works on positions in a list of these, sorted by (source, id), instead of
/// maps keyed by owned `AccountRef`s. Comparing and cloning account ids (long DNs and
/// object ids) in those maps cost over 40 % of its instructions on a 5,000-person tenant.
struct Candidate<'d> {
    source: &'d SourceId,
    id: &'d str,
    keys: AccountKeys,
}

impl Candidate<'_> {
    fn account_ref(&self) -> AccountRef {
        AccountRef { source: self.source.clone(), id: self.id.to_owned() }
    }

    fn is(&self, account: &AccountRef) -> bool {
        account.source == *self.source && account.id == self.id
    }
}

/// A linked account's worker, how it was linked and the key value that matched.
type Link = (usize, LinkMethod, String);

/// The link of each candidate, by position, or `None` while the account is unlinked.
type Links = Vec<Option<Link>>;

/// The accounts that matched several people, by candidate position.
type Ambiguous = BTreeMap<usize, Ambiguity>;

/// Lists every account that takes part, in source and id order, and records the excluded
/// and service accounts in `excluded`.
///
/// An account id that repeats within a source gives one candidate with the keys of its
/// last account, as inserting both into a map keyed by `AccountRef` would.
fn candidates<'d>(
    tenant: &Tenant,
    data: &'d TenantData,
    excluded: &mut BTreeMap<AccountRef, String>,
) -> Vec<Candidate<'d>> {
    let mut accounts = Vec::new();
    for snapshot in &data.sources {
        for account in &snapshot.accounts {
            let is_account = |e: &&crate::tenant::Exclusion| {
                e.account.source == snapshot.source && e.account.id == account.id
            };
            if let Some(exclusion) = tenant.identity.exclusions.iter().find(is_account) {
                let account_ref =
                    AccountRef { source: snapshot.source.clone(), id: account.id.clone() };
                excluded.insert(account_ref, exclusion.reason.clone());
            } else if is_service(tenant, account) {
                let account_ref =
                    AccountRef { source: snapshot.source.clone(), id: account.id.clone() };
                excluded.insert(account_ref, "service account (policy pattern)".into());
            } else {
                accounts.push(Candidate {
                    source: &snapshot.source,
                    id: account.id.as_str(),
                    keys: AccountKeys::of(account, snapshot.source.kind()),
                });
            }
        }
    }
    // Stable, so that equal (source, id) pairs stay in input order and the last one's
    // keys are kept below.
    accounts.sort_by(|a, b| a.source.cmp(b.source).then_with(|| a.id.cmp(b.id)));
    accounts.dedup_by(|later, kept| {
        let same = later.source == kept.source && later.id == kept.id;
        if same {
            std::mem::swap(&mut later.keys, &mut kept.keys);
        }
        same
    });
    accounts
}

/// Checks whether the candidate at `position` is linked or ambiguous.
fn is_settled(position: usize, links: &Links, ambiguous: &Ambiguous) -> bool {
    links.get(position).is_some_and(Option::is_some) || ambiguous.contains_key(&position)
}

/// Records `outcome` for the candidate at `position`. Returns whether it matched anyone.
fn settle(
    accounts: &[Candidate<'_>],
    position: usize,
    method: LinkMethod,
    outcome: Match,
    links: &mut Links,
    ambiguous: &mut Ambiguous,
    workers: &[Worker],
) -> bool {
    match outcome {
        Match::None => false,
        Match::One(worker, key) => {
            if let Some(slot) = links.get_mut(position) {
                *slot = Some((worker, method, key));
            }
            true
        }
        Match::Many(candidates, key) => {
            let Some(account) = accounts.get(position) else { return true };
            let candidates = candidates
                .iter()
                .filter_map(|i| workers.get(*i).map(|w| w.employee_id.clone()))
                .collect();
            let account = account.account_ref();
            ambiguous.insert(position, Ambiguity { account, method, key, candidates });
            true
        }
    }
}

/// Resolves the accounts of every source into identities.
pub fn resolve(tenant: &Tenant, data: &TenantData) -> Resolution {
    let workers: &[Worker] = data.hr.as_ref().map_or(&[], |hr| hr.workers.as_slice());
    let index = WorkerIndex::new(workers);
    let mut resolution = Resolution::default();

    // Every account that takes part, in source and id order.
    let accounts = candidates(tenant, data, &mut resolution.excluded);
    let mut links: Links = vec![None; accounts.len()];
    let mut ambiguous = Ambiguous::new();

    // Steps 1 to 3: manual links, employee id, e-mail.
    for (position, account) in accounts.iter().enumerate() {
        let manual = tenant
            .identity
            .links
            .iter()
            .find(|link| link.accounts.iter().any(|linked| account.is(linked)))
            .and_then(|link| {
                let id = normalize::key(&link.employee_id)?;
                index.by_employee_id.get(&id).map(|worker| (*worker, link.employee_id.clone()))
            });
        if let Some((worker, key)) = manual {
            if let Some(slot) = links.get_mut(position) {
                *slot = Some((worker, LinkMethod::Manual, key));
            }
            continue;
        }
        let keys = &account.keys;
        let by_id = keys.employee_id.as_ref().and_then(|id| {
            index.by_employee_id.get(id).map(|worker| Match::One(*worker, id.clone()))
        });
        let (method, outcome) = match by_id {
            Some(outcome) => (LinkMethod::EmployeeId, outcome),
            None => (
                LinkMethod::Email,
                pick(keys.emails.iter().filter_map(|e| index.by_email.get_key_value(e))),
            ),
        };
        settle(&accounts, position, method, outcome, &mut links, &mut ambiguous, workers);
    }

    // Step 4: keys shared with linked accounts, until nothing changes.
    propagate(&accounts, &mut links, &mut ambiguous, workers);

    // Step 5: fallbacks against the HR roster.
    for (position, account) in accounts.iter().enumerate() {
        if is_settled(position, &links, &ambiguous) {
            continue;
        }
        let keys = &account.keys;
        let by_local =
            pick(keys.logins.iter().filter_map(|l| index.by_local_part.get_key_value(l)));
        let method = LinkMethod::EmailLocalPart;
        if settle(&accounts, position, method, by_local, &mut links, &mut ambiguous, workers) {
            continue;
        }
        let by_name = pick(keys.name.iter().filter_map(|n| index.by_name.get_key_value(n)));
        let method = LinkMethod::FullName;
        settle(&accounts, position, method, by_name, &mut links, &mut ambiguous, workers);
    }
    propagate(&accounts, &mut links, &mut ambiguous, workers);

    // The identity of each candidate that gets one, by position: `by_account` is built
    // from it in position order, which is `AccountRef` order, so the map is bulk-built
    // without a search per account.
    let mut identity_of: Vec<Option<usize>> = vec![None; accounts.len()];

    // One identity per worker, in roster order.
    for (i, worker) in workers.iter().enumerate() {
        resolution.identities.push(Identity {
            key: format!("hr:{}", worker.employee_id.trim()),
            worker: Some(i),
            accounts: Vec::new(),
        });
    }
    for (position, (account, link)) in accounts.iter().zip(&links).enumerate() {
        let Some((worker, method, key)) = link else { continue };
        if let Some(identity) = resolution.identities.get_mut(*worker) {
            identity.accounts.push(LinkedAccount {
                account: account.account_ref(),
                method: *method,
                key: key.clone(),
            });
            if let Some(slot) = identity_of.get_mut(position) {
                *slot = Some(*worker);
            }
        }
    }

    // Step 6: the rest group among themselves; ambiguous accounts stand alone.
    let unlinked: Vec<usize> =
        (0..accounts.len()).filter(|p| !is_settled(*p, &links, &ambiguous)).collect();
    for cluster in cluster(&unlinked, &accounts) {
        let Some(first) = cluster.first().and_then(|(p, _)| accounts.get(*p)) else { continue };
        let position = resolution.identities.len();
        let key = format!("account:{}/{}", first.source, first.id);
        let mut linked = Vec::with_capacity(cluster.len());
        for (account_position, key) in cluster {
            let Some(account) = accounts.get(account_position) else { continue };
            if let Some(slot) = identity_of.get_mut(account_position) {
                *slot = Some(position);
            }
            linked.push(LinkedAccount {
                account: account.account_ref(),
                method: LinkMethod::Cluster,
                key,
            });
        }
        resolution.identities.push(Identity { key, worker: None, accounts: linked });
    }
    for (account_position, ambiguity) in ambiguous {
        let position = resolution.identities.len();
        resolution.identities.push(Identity {
            key: format!("account:{}", ambiguity.account),
            worker: None,
            accounts: vec![LinkedAccount {
                account: ambiguity.account.clone(),
                method: ambiguity.method,
                key: ambiguity.key.clone(),
            }],
        });
        if let Some(slot) = identity_of.get_mut(account_position) {
            *slot = Some(position);
        }
        resolution.ambiguous.push(ambiguity);
    }
    resolution.by_account = accounts
        .iter()
        .zip(identity_of)
        .filter_map(|(account, identity)| Some((account.account_ref(), identity?)))
        .collect();
    resolution
}

/// The keys of linked accounts, with the workers they are linked to, by key class.
#[derive(Default)]
struct LinkedKeys<'k> {
    by_sid: HashMap<&'k str, Workers>,
    by_email: HashMap<&'k str, Workers>,
    by_login: HashMap<&'k str, Workers>,
}

impl<'k> LinkedKeys<'k> {
    fn add(&mut self, keys: &'k AccountKeys, worker: usize) {
        if let Some(sid) = &keys.sid {
            add_worker(&mut self.by_sid, sid.as_str(), worker);
        }
        for email in &keys.emails {
            add_worker(&mut self.by_email, email.as_str(), worker);
        }
        for login in &keys.logins {
            add_worker(&mut self.by_login, login.as_str(), worker);
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
    accounts: &[Candidate<'_>],
    links: &mut Links,
    ambiguous: &mut Ambiguous,
    workers: &[Worker],
) {
    // Looked up by key only, never walked, so hash maps keep the outcome independent of
    // their order.
    let mut linked = LinkedKeys::default();
    for (account, link) in accounts.iter().zip(links.iter()) {
        if let Some((worker, _, _)) = link {
            linked.add(&account.keys, *worker);
        }
    }
    let mut open: Vec<(usize, &AccountKeys)> = accounts
        .iter()
        .enumerate()
        .filter(|(position, _)| !is_settled(*position, links, ambiguous))
        .map(|(position, account)| (position, &account.keys))
        .collect();
    loop {
        let mut decided = Vec::new();
        open.retain(|(position, keys)| match linked.decide(keys) {
            Some((method, outcome)) => {
                decided.push((*position, *keys, method, outcome));
                false
            }
            None => true,
        });
        if decided.is_empty() {
            return;
        }
        for (position, keys, method, outcome) in decided {
            if let Match::One(worker, _) = &outcome {
                linked.add(keys, *worker);
            }
            settle(accounts, position, method, outcome, links, ambiguous, workers);
        }
    }
}

/// Groups the `unlinked` candidates (positions in `accounts`) that share an employee
/// id, SID, e-mail or login, with the key that joined each (the first account's own
/// `source/id` for the first of a group).
fn cluster(unlinked: &[usize], accounts: &[Candidate<'_>]) -> Vec<Vec<(usize, String)>> {
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
    for (i, position) in unlinked.iter().enumerate() {
        let Some(account) = accounts.get(*position) else { continue };
        let keys = &account.keys;
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
    let mut groups: BTreeMap<usize, Vec<(usize, String)>> = BTreeMap::new();
    for (i, position) in unlinked.iter().enumerate() {
        let Some(account) = accounts.get(*position) else { continue };
        let key =
            joined_by.remove(&i).unwrap_or_else(|| format!("{}/{}", account.source, account.id));
        groups.entry(root(&mut parent, i)).or_default().push((*position, key));
    }
    groups.into_values().collect()
}

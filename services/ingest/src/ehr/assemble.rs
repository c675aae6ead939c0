//! Rows to a snapshot: folding the rows of one user, and collecting entitlements and grants.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rollcall_core::model::{
    Account, AccountStatus, Entitlement, EntitlementKind, EpcsStatus, LastSignIn, Membership,
};

use rollcall_core::privilege::EPCS_CONTROL_ATTRIBUTE;

use crate::diagnostic::{Diagnostic, Level};

use super::row::{Grant, RowFacts, STATUS_ATTRIBUTE};
use super::spec::StatusWord;

/// The entitlement attribute with the id exactly as the export writes it.
pub const SOURCE_ID_ATTRIBUTE: &str = "ehr.source_id";
/// The entitlement attribute with the name exactly as the export writes it, kept beside
/// any plain name the tenant's catalogue gives the entitlement.
pub const SOURCE_NAME_ATTRIBUTE: &str = "ehr.source_name";

/// The separator between differing values of one column when rows fold together.
const FOLD_SEPARATOR: &str = " | ";

/// Accounts, entitlements and memberships built from the user rows of one file.
#[derive(Debug, Default)]
pub(crate) struct Assembled {
    pub accounts: Vec<Account>,
    pub entitlements: Vec<Entitlement>,
    pub memberships: Vec<Membership>,
}

/// Groups rows by user id in order of first appearance, folds each group into one account,
/// and registers every grant.
///
/// Without `fold`, a repeated user id is a warning and its later rows are skipped.
/// Entitlements whose name is in `epcs_roles` get [`EPCS_CONTROL_ATTRIBUTE`].
pub(crate) fn assemble(
    rows: Vec<RowFacts>,
    fold: bool,
    epcs_roles: &[String],
    file: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Assembled {
    let mut groups: Vec<Vec<RowFacts>> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for row in rows {
        match by_id.get(&row.account.id) {
            Some(&index) if fold => {
                if let Some(group) = groups.get_mut(index) {
                    group.push(row);
                }
            }
            Some(&index) => {
                let first = groups.get(index).and_then(|group| group.first());
                let first_at = first.map(|first| first.location.to_string()).unwrap_or_default();
                diagnostics.push(Diagnostic::new(
                    Level::Warning,
                    file,
                    row.location.clone(),
                    format!(
                        "user id `{}` repeats the one at {first_at}, so this record was skipped; \
                         set `fold_rows` in the profile if the export has one row per user and \
                         practice",
                        row.account.id
                    ),
                ));
            }
            None => {
                by_id.insert(row.account.id.clone(), groups.len());
                groups.push(vec![row]);
            }
        }
    }

    let mut assembled = Assembled::default();
    let mut registry = Registry {
        epcs_roles: epcs_roles.iter().map(|role| role.trim().to_lowercase()).collect(),
        ..Registry::default()
    };
    for group in groups {
        let Some(mut folded) = fold_group(group, file, diagnostics) else { continue };
        for grant in &folded.grants {
            registry.grant(&mut folded.account, grant, &mut assembled.memberships);
        }
        assembled.accounts.push(finish(folded));
    }
    assembled.entitlements = registry.entitlements;
    assembled
}

/// Folds the rows of one user into the first. Rows that disagree on whether the user may
/// sign in give the least severe status, because the account still works where one row is
/// active.
fn fold_group(
    group: Vec<RowFacts>,
    file: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<RowFacts> {
    let mut rows = group.into_iter();
    let mut folded = rows.next()?;
    for row in rows {
        if row.status != folded.status {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                file,
                row.location.clone(),
                format!(
                    "user `{}` is `{}` here but `{}` in an earlier record, so the account is read \
                     as `{}`; check the user's status in each practice",
                    folded.account.id,
                    row.status.as_str(),
                    folded.status.as_str(),
                    row.status.min(folded.status).as_str()
                ),
            ));
        }
        if let (Some(first), Some(other)) = (&folded.account.npi, &row.account.npi)
            && first != other
        {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                file,
                row.location.clone(),
                format!(
                    "user `{}` has NPI `{other}` here but `{first}` in an earlier record, so the \
                     first is kept; correct the provider records",
                    folded.account.id
                ),
            ));
        }
        merge_into(&mut folded, row);
    }
    Some(folded)
}

fn merge_into(folded: &mut RowFacts, row: RowFacts) {
    let account = &mut folded.account;
    let other = row.account;
    let fill = |slot: &mut Option<String>, value: Option<String>| {
        if slot.is_none() {
            *slot = value;
        }
    };
    fill(&mut account.login, other.login);
    fill(&mut account.email, other.email);
    fill(&mut account.employee_id, other.employee_id);
    fill(&mut account.sid, other.sid);
    fill(&mut account.display_name, other.display_name);
    fill(&mut account.given_name, other.given_name);
    fill(&mut account.family_name, other.family_name);
    fill(&mut account.job_title, other.job_title);
    fill(&mut account.department, other.department);
    fill(&mut account.npi, other.npi);
    if account.manager.is_none() {
        account.manager = other.manager;
    }
    account.is_provider |= other.is_provider;
    account.epcs = most_permissive_epcs(account.epcs, other.epcs);
    account.last_sign_in = latest_sign_in(account.last_sign_in, other.last_sign_in);
    for (key, value) in other.attributes {
        let entry = account.attributes.entry(key).or_default();
        if entry.is_empty() {
            *entry = value;
        } else if !entry.split(FOLD_SEPARATOR).any(|existing| existing == value) {
            entry.push_str(FOLD_SEPARATOR);
            entry.push_str(&value);
        }
    }

    folded.status = folded.status.min(row.status);
    for part in row.status_raw {
        if !folded.status_raw.contains(&part) {
            folded.status_raw.push(part);
        }
    }
    folded.status_since = folded.status_since.max(row.status_since);
    folded.ended_at = folded.ended_at.max(row.ended_at);
    folded.non_sid_value |= row.non_sid_value;
    folded.grants.extend(row.grants);
}

/// Prefers the status that allows the most, because EPCS access is privileged.
fn most_permissive_epcs(a: Option<EpcsStatus>, b: Option<EpcsStatus>) -> Option<EpcsStatus> {
    let rank = |status: EpcsStatus| match status {
        EpcsStatus::Enabled => 2,
        EpcsStatus::Pending => 1,
        EpcsStatus::Disabled => 0,
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(if rank(b) > rank(a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn latest_sign_in(a: LastSignIn, b: LastSignIn) -> LastSignIn {
    match (a, b) {
        (LastSignIn::At(a), LastSignIn::At(b)) => LastSignIn::At(a.max(b)),
        (LastSignIn::At(at), _) | (_, LastSignIn::At(at)) => LastSignIn::At(at),
        (LastSignIn::Never, _) | (_, LastSignIn::Never) => LastSignIn::Never,
        (LastSignIn::Unknown, LastSignIn::Unknown) => LastSignIn::Unknown,
    }
}

/// Turns the canonical status into the account status and its evidence.
fn finish(folded: RowFacts) -> Account {
    let mut account = folded.account;
    account.status = match folded.status {
        StatusWord::Active => AccountStatus::Enabled,
        StatusWord::Unknown => AccountStatus::Unknown,
        StatusWord::Inactive
        | StatusWord::Suspended
        | StatusWord::Blocked
        | StatusWord::Deleted => AccountStatus::Disabled,
    };
    if !folded.status_raw.is_empty() {
        account.status_raw = Some(folded.status_raw.join(", "));
    }
    if account.status == AccountStatus::Disabled {
        account.status_since = folded.status_since.or(folded.ended_at);
    }
    account.attributes.insert(STATUS_ATTRIBUTE.to_owned(), folded.status.as_str().to_owned());
    account
}

/// Every entitlement of the file, once each, and the id each (kind, export id) maps to.
#[derive(Debug, Default)]
struct Registry {
    entitlements: Vec<Entitlement>,
    ids: BTreeMap<(&'static str, String), String>,
    kinds_by_id: HashMap<String, EntitlementKind>,
    memberships: BTreeSet<(String, String, Option<String>)>,
    /// Lowercased names of the roles that control EPCS enrolment.
    epcs_roles: BTreeSet<String>,
}

impl Registry {
    /// Records a grant as a membership, creating its entitlement on first sight.
    ///
    /// Entitlement ids are the export's ids. When two kinds share an id (a security class
    /// and a role both called `Billing`), the second kind's id becomes `<kind>:<id>`.
    fn grant(&mut self, account: &mut Account, grant: &Grant, memberships: &mut Vec<Membership>) {
        let key = (grant.kind.as_str(), grant.id.clone());
        let id = match self.ids.get(&key) {
            Some(id) => id.clone(),
            None => {
                let id = match self.kinds_by_id.get(&grant.id) {
                    Some(kind) if *kind != grant.kind => {
                        format!("{}:{}", grant.kind.as_str(), grant.id)
                    }
                    _ => grant.id.clone(),
                };
                self.kinds_by_id.insert(id.clone(), grant.kind);
                self.ids.insert(key, id.clone());
                let mut entitlement = Entitlement::new(id.clone(), grant.kind, grant.name.clone());
                entitlement.attributes.insert(SOURCE_ID_ATTRIBUTE.to_owned(), grant.id.clone());
                entitlement.attributes.insert(SOURCE_NAME_ATTRIBUTE.to_owned(), grant.name.clone());
                if self.epcs_roles.contains(&grant.name.trim().to_lowercase()) {
                    entitlement.attributes.insert(EPCS_CONTROL_ATTRIBUTE.to_owned(), "true".into());
                }
                self.entitlements.push(entitlement);
                id
            }
        };
        if let Some(priority) = grant.priority {
            account.attributes.insert(
                format!("ehr.priority.{}.{}", grant.kind.as_str(), id),
                priority.to_string(),
            );
        }
        let membership_key = (account.id.clone(), id.clone(), grant.scope.clone());
        if self.memberships.insert(membership_key) {
            let mut membership = Membership::account(account.id.clone(), id);
            membership.scope = grant.scope.clone();
            memberships.push(membership);
        }
    }
}

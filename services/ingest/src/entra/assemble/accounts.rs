//! Merges user records, registration rows and method lists into accounts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rollcall_core::model::{
    Account, AccountKind, AccountMarker, AccountStatus, AuthMethod, LastSignIn, ManagerRef,
    MethodKind,
};

use crate::diagnostic::{Diagnostic, Level, Location};

use super::super::records::{MethodList, Registration, UserRecord};

/// An account being merged from several records.
#[derive(Debug, Clone)]
struct Draft {
    account: Account,
    enabled: Option<bool>,
    user_type: Option<String>,
    sign_in: Option<LastSignIn>,
    manager: Option<String>,
    registered: Option<Vec<AuthMethod>>,
    /// Methods from per-user method files, by dedup key.
    listed: Option<BTreeMap<(String, String), AuthMethod>>,
}

impl Draft {
    fn new(id: &str) -> Self {
        Self {
            account: Account::new(id),
            enabled: None,
            user_type: None,
            sign_in: None,
            manager: None,
            registered: None,
            listed: None,
        }
    }

    fn apply_user(&mut self, record: UserRecord) {
        let account = &mut self.account;
        record.upn.apply_to(&mut account.upn);
        record.mail.apply_to(&mut account.email);
        record.display_name.apply_to(&mut account.display_name);
        record.given_name.apply_to(&mut account.given_name);
        record.surname.apply_to(&mut account.family_name);
        record.employee_id.apply_to(&mut account.employee_id);
        record.job_title.apply_to(&mut account.job_title);
        record.department.apply_to(&mut account.department);
        record.created_at.apply_to(&mut account.created_at);
        record.user_type.apply_to(&mut self.user_type);
        record.account_enabled.apply_to(&mut self.enabled);
        record.manager.apply_to(&mut self.manager);
        account.attributes.extend(record.attributes);
        if let Some(sign_in) = record.sign_in {
            self.sign_in = Some(match self.sign_in {
                Some(earlier) => later_sign_in(earlier, sign_in),
                None => sign_in,
            });
        }
    }

    fn apply_registration(&mut self, row: Registration) {
        let account = &mut self.account;
        row.upn.apply_to(&mut account.upn);
        row.display_name.apply_to(&mut account.display_name);
        row.user_type.apply_to(&mut self.user_type);
        account.attributes.extend(row.attributes);
        if row.is_admin && !account.markers.contains(&AccountMarker::EntraReportIsAdmin) {
            account.markers.push(AccountMarker::EntraReportIsAdmin);
        }
        if let Some(methods) = row.methods {
            self.registered.get_or_insert_with(Vec::new).extend(methods);
        }
    }

    fn finish(self) -> Account {
        let mut account = self.account;
        account.login = account.upn.clone();

        account.status = match self.enabled {
            Some(true) => AccountStatus::Enabled,
            Some(false) => AccountStatus::Disabled,
            None => AccountStatus::Unknown,
        };
        account.status_raw = self.enabled.map(|enabled| format!("accountEnabled: {enabled}"));
        account.kind = match self.user_type.as_deref() {
            Some(user_type) if user_type.eq_ignore_ascii_case("guest") => AccountKind::Guest,
            _ => AccountKind::Member,
        };
        account.last_sign_in = self.sign_in.unwrap_or(LastSignIn::Unknown);
        account.manager = self.manager.map(ManagerRef::Account);

        // Per-user method files are authoritative; the registration report fills in for
        // users without them.
        let mut methods = match (self.listed, self.registered) {
            (Some(listed), _) => Some(listed.into_values().collect::<Vec<_>>()),
            (None, Some(mut registered)) => {
                registered.sort_by(compare_methods);
                registered.dedup();
                Some(registered)
            }
            (None, None) => None,
        };
        if let Some(methods) = methods.as_mut() {
            methods.sort_by(compare_methods);
        }
        account.auth_methods = methods;
        account
    }
}

/// The later of two sign-in readings: a time beats `Never`, and `Never` beats `Unknown`,
/// so the merge does not depend on file order.
fn later_sign_in(a: LastSignIn, b: LastSignIn) -> LastSignIn {
    match (a, b) {
        (LastSignIn::At(x), LastSignIn::At(y)) => LastSignIn::At(x.max(y)),
        (LastSignIn::At(at), _) | (_, LastSignIn::At(at)) => LastSignIn::At(at),
        (LastSignIn::Never, _) | (_, LastSignIn::Never) => LastSignIn::Never,
        (LastSignIn::Unknown, LastSignIn::Unknown) => LastSignIn::Unknown,
    }
}

fn compare_methods(a: &AuthMethod, b: &AuthMethod) -> std::cmp::Ordering {
    (&a.kind, &a.id, &a.raw_type, a.created_at).cmp(&(&b.kind, &b.id, &b.raw_type, b.created_at))
}

/// The key under which the same method from several files is merged. Entra reuses fixed
/// ids for phone and password methods across users, so the id is a key only within one
/// user and one method family.
fn method_key(method: &AuthMethod) -> (String, String) {
    let family = match &method.kind {
        MethodKind::Phone { .. } => "phone".to_owned(),
        MethodKind::WindowsHelloForBusiness { .. } => "windowsHelloForBusiness".to_owned(),
        MethodKind::TemporaryAccessPass { .. } => "temporaryAccessPass".to_owned(),
        MethodKind::Unrecognized(name) => name.clone(),
        other => format!("{other:?}"),
    };
    let id = match &method.id {
        Some(id) => id.clone(),
        // Without an id only identical entries are the same method.
        None => format!("{:?} {:?} {}", method.kind, method.created_at, method.raw_type),
    };
    (family, id)
}

/// Merges two readings of one method. Where files disagree the riskier reading is kept (SMS
/// sign-in on, a usable pass, a weak key), so the result does not depend on file order.
fn merge_method(kept: &mut AuthMethod, other: AuthMethod) {
    if other.kind > kept.kind {
        kept.kind = other.kind;
    }
    if other.raw_type < kept.raw_type {
        kept.raw_type = other.raw_type;
    }
    kept.created_at = earliest(kept.created_at, other.created_at);
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Builds accounts. `users` must be in file order; expansions are applied before the
/// registration report and listings after it, so listings win.
pub(super) fn build_accounts(
    mut users: Vec<UserRecord>,
    registrations: Vec<Registration>,
    method_lists: Vec<MethodList>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Account> {
    users.sort_by_key(|record| record.origin);
    let mut drafts: BTreeMap<String, Draft> = BTreeMap::new();
    let (expansions, listings): (Vec<_>, Vec<_>) = users
        .into_iter()
        .partition(|record| record.origin == super::super::records::Origin::Expansion);
    for record in expansions {
        drafts
            .entry(record.id.clone())
            .or_insert_with(|| Draft::new(&record.id))
            .apply_user(record);
    }
    let mut known: BTreeSet<String> = listings.iter().map(|record| record.id.clone()).collect();
    known.extend(drafts.keys().cloned());

    let mut unknown_by_file: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for row in registrations {
        if !known.contains(&row.id) {
            unknown_by_file.entry(row.file.clone()).or_default().push(row.id.clone());
        }
        drafts.entry(row.id.clone()).or_insert_with(|| Draft::new(&row.id)).apply_registration(row);
    }
    for record in listings {
        drafts
            .entry(record.id.clone())
            .or_insert_with(|| Draft::new(&record.id))
            .apply_user(record);
    }
    for (file, mut ids) in unknown_by_file {
        ids.sort();
        ids.dedup();
        diagnostics.push(Diagnostic::new(
            Level::Warning,
            file,
            Location::File,
            format!(
                "{} users in this registration report are in no users response ({}), so \
                 they are kept with status unknown: save `users.json` with all users",
                ids.len(),
                sample(&ids)
            ),
        ));
    }

    for list in method_lists {
        let id = resolve_user(&drafts, &list.user);
        if !drafts.contains_key(&id) {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                list.file.clone(),
                Location::JsonPath(list.path.clone()),
                format!(
                    "user `{id}` has authentication methods here but is in no users response, \
                     so the methods are kept on an account with status unknown: save \
                     `users.json` with this user"
                ),
            ));
        }
        let draft = drafts.entry(id.clone()).or_insert_with(|| Draft::new(&id));
        let listed = draft.listed.get_or_insert_with(BTreeMap::new);
        for method in list.methods {
            match listed.entry(method_key(&method)) {
                std::collections::btree_map::Entry::Vacant(entry) => {
                    entry.insert(method);
                }
                std::collections::btree_map::Entry::Occupied(mut entry) => {
                    merge_method(entry.get_mut(), method);
                }
            }
        }
    }

    drafts.into_values().map(Draft::finish).collect()
}

/// The account id a method file names: an object id, or a user principal name that a
/// users response maps to an object id.
fn resolve_user(drafts: &BTreeMap<String, Draft>, named: &str) -> String {
    if drafts.contains_key(named) {
        return named.to_owned();
    }
    let by_upn = drafts.values().find(|draft| {
        draft.account.upn.as_deref().is_some_and(|upn| upn.eq_ignore_ascii_case(named))
    });
    by_upn.map_or_else(|| named.to_owned(), |draft| draft.account.id.clone())
}

/// Formats the first five ids for a message.
fn sample(ids: &[String]) -> String {
    let shown: Vec<String> = ids.iter().take(5).map(|id| format!("`{id}`")).collect();
    let more = if ids.len() > 5 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

//! Resolving memberships, primary groups and managers once every entry is mapped.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rollcall_core::model::{Account, Entitlement, EntitlementKind, ManagerRef, Member, Membership};

use super::account::MappedUser;
use super::group::MappedGroup;
use super::view::{EntryView, Sink};
use crate::diagnostic::Level;
use crate::ldap::dn::Dn;

/// The mapped accounts, entitlements and memberships.
#[derive(Debug)]
pub(super) struct Resolved {
    pub accounts: Vec<Account>,
    pub entitlements: Vec<Entitlement>,
    pub memberships: Vec<Membership>,
}

/// The account or group a normalised DN refers to.
#[derive(Debug, Clone)]
enum Target {
    Account(String),
    Group(String),
}

/// The accounts and groups by DN.
///
/// Member, `memberOf` and `manager` values usually spell a DN exactly as the entry's own
/// `dn` does, so they are looked up by that text first, which saves parsing them. Only
/// entries whose DN parsed are in `by_text`: the text then has the same normal form as
/// the entry, so both lookups agree.
#[derive(Debug)]
struct DnIndex<'a> {
    by_key: HashMap<&'a str, Target>,
    by_text: HashMap<&'a str, Target>,
}

impl<'a> DnIndex<'a> {
    fn with_capacity(capacity: usize) -> Self {
        Self { by_key: HashMap::with_capacity(capacity), by_text: HashMap::with_capacity(capacity) }
    }

    fn insert(&mut self, view: &'a EntryView, target: Target) {
        if view.dn_parsed {
            self.by_text.insert(view.dn.as_str(), target.clone());
        }
        self.by_key.insert(view.key.as_str(), target);
    }

    /// Returns the target whose DN is spelled exactly as `dn`.
    fn get_text(&self, dn: &str) -> Option<&Target> {
        self.by_text.get(dn)
    }

    /// Returns the target whose normalised DN is `key`.
    fn get_key(&self, key: &str) -> Option<&Target> {
        self.by_key.get(key)
    }
}

/// Groups that users or groups belong to but that the export does not contain.
#[derive(Debug, Default)]
struct Placeholders {
    by_key: HashMap<String, String>,
    list: Vec<Entitlement>,
    /// The entry that first named a missing group, for the summary warning.
    first_reference: Option<(String, super::EntryOrigin)>,
}

impl Placeholders {
    /// Returns the id of the placeholder for `key`, creating it with `make` if needed.
    fn get_or_add(
        &mut self,
        key: &str,
        referrer: &EntryView,
        make: impl FnOnce() -> Entitlement,
    ) -> String {
        if let Some(id) = self.by_key.get(key) {
            return id.clone();
        }
        let entitlement = make();
        let id = entitlement.id.clone();
        self.by_key.insert(key.to_owned(), id.clone());
        self.list.push(entitlement);
        if self.first_reference.is_none() {
            self.first_reference = Some((referrer.dn.clone(), referrer.origin.clone()));
        }
        id
    }
}

/// Names of the well-known domain group RIDs, as Samba's provisioning template
/// (`testdata/public-payloads/ldap-samba-provision_users.template.ldif`) creates them. They
/// name a primary group that is not in the export.
fn well_known_group(rid: u32) -> Option<&'static str> {
    Some(match rid {
        512 => "Domain Admins",
        513 => "Domain Users",
        514 => "Domain Guests",
        515 => "Domain Computers",
        516 => "Domain Controllers",
        517 => "Cert Publishers",
        518 => "Schema Admins",
        519 => "Enterprise Admins",
        520 => "Group Policy Creator Owners",
        521 => "Read-only Domain Controllers",
        _ => return None,
    })
}

/// Resolves group members (`member`, `uniqueMember`, `memberUid`), `memberOf` on users and
/// groups, users' `primaryGroupID`, and managers.
///
/// A member DN that is not in the export becomes [`Member::Unresolved`] with the DN as
/// written. A group named in `memberOf` or `primaryGroupID` but not in the export becomes a
/// placeholder entitlement with the attribute `exported: false`, so the membership is not
/// lost.
pub(super) fn resolve(
    views: &[EntryView],
    users: Vec<MappedUser>,
    groups: Vec<MappedGroup>,
    sink: &mut Sink,
) -> Resolved {
    let mut by_dn = DnIndex::with_capacity(users.len() + groups.len());
    let mut by_uid: HashMap<String, String> = HashMap::new();
    let mut group_by_sid: HashMap<String, String> = HashMap::new();
    for user in &users {
        let Some(view) = views.get(user.view) else { continue };
        by_dn.insert(view, Target::Account(user.account.id.clone()));
        for uid in view.texts("uid", sink) {
            by_uid.entry(uid.trim().to_lowercase()).or_insert_with(|| user.account.id.clone());
        }
    }
    for group in &groups {
        let Some(view) = views.get(group.view) else { continue };
        by_dn.insert(view, Target::Group(group.entitlement.id.clone()));
        if let Some(sid) = &group.sid {
            group_by_sid.entry(sid.to_string()).or_insert_with(|| group.entitlement.id.clone());
        }
    }

    let mut memberships = BTreeSet::new();
    let mut placeholders = Placeholders::default();
    for group in &groups {
        let Some(view) = views.get(group.view) else { continue };
        let id = &group.entitlement.id;
        for name in ["member", "uniquemember"] {
            for text in view.texts(name, sink) {
                let dn = if name == "uniquemember" { strip_optional_uid(text) } else { text };
                let member = member_for_dn(dn, &by_dn, view, name, sink);
                memberships.insert(active(member, id));
            }
        }
        for uid in view.texts("memberuid", sink) {
            let member = match by_uid.get(&uid.trim().to_lowercase()) {
                Some(account) => Member::Account(account.clone()),
                None => Member::Unresolved(uid.to_owned()),
            };
            memberships.insert(active(member, id));
        }
        for text in view.texts("memberof", sink) {
            let parent = group_for_dn(text, &by_dn, &mut placeholders, view, sink);
            memberships.insert(active(Member::Entitlement(id.clone()), &parent));
        }
    }
    for user in &users {
        let Some(view) = views.get(user.view) else { continue };
        let id = &user.account.id;
        for text in view.texts("memberof", sink) {
            let group = group_for_dn(text, &by_dn, &mut placeholders, view, sink);
            memberships.insert(active(Member::Account(id.clone()), &group));
        }
        let primary =
            user.sid.as_ref().zip(user.primary_group).filter(|(sid, _)| sid.is_domain_account());
        if let Some((sid, rid)) = primary {
            let group_sid = sid.with_rid(rid).to_string();
            let group = match group_by_sid.get(&group_sid) {
                Some(group) => group.clone(),
                None => placeholders.get_or_add(&group_sid, view, || {
                    let name = well_known_group(rid)
                        .map_or_else(|| format!("group {group_sid}"), str::to_owned);
                    let mut entitlement =
                        Entitlement::new(group_sid.clone(), EntitlementKind::Group, name);
                    entitlement.sid = Some(group_sid.clone());
                    entitlement.attributes = placeholder_attributes("objectSid", &group_sid);
                    entitlement
                }),
            };
            memberships.insert(active(Member::Account(id.clone()), &group));
        }
    }

    if let Some((dn, origin)) = &placeholders.first_reference {
        let message = format!(
            "{} groups named in `memberOf` or `primaryGroupID` are not in the export (the first is named by `{dn}`), so they are listed with the attribute `exported: false` and without group type or description. Export the groups too.",
            placeholders.list.len()
        );
        sink.report(Level::Warning, origin, message);
    }

    let mut accounts = Vec::with_capacity(users.len());
    for mut user in users {
        if let Some(view) = views.get(user.view) {
            user.account.manager = manager(view, &by_dn, sink);
        }
        accounts.push(user.account);
    }
    let mut entitlements: Vec<Entitlement> =
        groups.into_iter().map(|group| group.entitlement).collect();
    entitlements.extend(placeholders.list);
    Resolved { accounts, entitlements, memberships: memberships.into_iter().collect() }
}

fn active(member: Member, entitlement: &str) -> Membership {
    Membership {
        member,
        entitlement: entitlement.to_owned(),
        state: rollcall_core::model::GrantState::Active,
        scope: None,
    }
}

/// Removes the optional unique identifier of the RFC 4517 Name and Optional UID syntax
/// (`cn=x,o=y#'0101'B`) from a `uniqueMember` value.
fn strip_optional_uid(value: &str) -> &str {
    let Some(bits) = value.strip_suffix("'B") else { return value };
    let Some(hash) = bits.rfind("#'") else { return value };
    let Some((dn, uid)) = bits.split_at_checked(hash) else { return value };
    let escaped = dn.ends_with('\\');
    let binary = uid.get(2..).is_some_and(|digits| digits.bytes().all(|b| b == b'0' || b == b'1'));
    if binary && !escaped { dn } else { value }
}

/// Finds the account or group a member DN names.
fn member_for_dn(
    dn: &str,
    by_dn: &DnIndex<'_>,
    group: &EntryView,
    attribute: &str,
    sink: &mut Sink,
) -> Member {
    match by_dn.get_text(dn) {
        Some(Target::Account(id)) => return Member::Account(id.clone()),
        Some(Target::Group(id)) => return Member::Entitlement(id.clone()),
        None => {}
    }
    match Dn::parse(dn) {
        Ok(parsed) => match by_dn.get_key(parsed.normalized()) {
            Some(Target::Account(id)) => Member::Account(id.clone()),
            Some(Target::Group(id)) => Member::Entitlement(id.clone()),
            None => Member::Unresolved(dn.to_owned()),
        },
        Err(error) => {
            let message = format!(
                "group `{}`: a `{attribute}` value is not a DN ({error}), so it is kept as an unresolved member",
                group.dn
            );
            sink.report(Level::Warning, &group.origin, message);
            Member::Unresolved(dn.to_owned())
        }
    }
}

/// Finds the group a `memberOf` DN names, or the placeholder standing in for it.
fn group_for_dn(
    dn: &str,
    by_dn: &DnIndex<'_>,
    placeholders: &mut Placeholders,
    referrer: &EntryView,
    sink: &mut Sink,
) -> String {
    if let Some(Target::Group(id)) = by_dn.get_text(dn) {
        return id.clone();
    }
    let parsed = match Dn::parse(dn) {
        Ok(parsed) => parsed,
        Err(error) => {
            let message = format!(
                "entry `{}`: a `memberOf` value is not a DN ({error}), so it was read as written",
                referrer.dn
            );
            sink.report(Level::Warning, &referrer.origin, message);
            let key = dn.trim().to_lowercase();
            return placeholders.get_or_add(&key, referrer, || placeholder_for_dn(&key, dn, None));
        }
    };
    if let Some(Target::Group(id)) = by_dn.get_key(parsed.normalized()) {
        return id.clone();
    }
    let key = parsed.normalized().to_owned();
    placeholders.get_or_add(&key, referrer, || placeholder_for_dn(&key, dn, parsed.leaf_value()))
}

fn placeholder_for_dn(key: &str, dn: &str, leaf: Option<&str>) -> Entitlement {
    let name = leaf.unwrap_or(dn).to_owned();
    let mut entitlement = Entitlement::new(key, EntitlementKind::Group, name);
    entitlement.attributes = placeholder_attributes("distinguishedName", dn);
    entitlement
}

fn placeholder_attributes(name: &str, value: &str) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::new();
    attributes.insert(name.to_owned(), value.to_owned());
    attributes.insert("exported".to_owned(), "false".to_owned());
    attributes
}

/// Resolves `manager` to the manager's account id, or keeps the DN as written when the
/// manager is not in the export.
fn manager(view: &EntryView, by_dn: &DnIndex<'_>, sink: &mut Sink) -> Option<ManagerRef> {
    let dn = view.text("manager", sink)?;
    if let Some(Target::Account(id)) = by_dn.get_text(&dn) {
        return Some(ManagerRef::Account(id.clone()));
    }
    let resolved =
        Dn::parse(&dn).ok().and_then(|parsed| match by_dn.get_key(parsed.normalized()) {
            Some(Target::Account(id)) => Some(id.clone()),
            _ => None,
        });
    Some(ManagerRef::Account(resolved.unwrap_or(dn)))
}

//! Grants: each user's `permissions` and the `/api/user_groups` memberships.

use std::collections::HashSet;

use rollcall_core::model::{Entitlement, EntitlementKind, GrantState, Member, Membership};
use serde_json::Value;

use super::Notes;
use super::dump::Record;
use super::values::{Flag, flag, id, id_field, text, type_name};
use crate::diagnostic::Level;
use crate::ehr::{SOURCE_ID_ATTRIBUTE, SOURCE_NAME_ATTRIBUTE};

/// Returns the entitlement id of a permission. Permission and user group ids share the snapshot's
/// id space, so each carries its kind as a prefix.
fn permission_id(name: &str) -> String {
    format!("permission:{name}")
}

/// Returns the entitlement id of a user group.
fn user_group_id(group_id: &str) -> String {
    format!("user_group:{group_id}")
}

/// Keeps DrChrono's own id and name of an entitlement beside the prefixed id, as the EHR
/// export profiles do, so a review item shows DrChrono's words when the tenant's catalogue
/// renames the entitlement.
fn with_source_words(mut entitlement: Entitlement, id: &str, name: &str) -> Entitlement {
    entitlement.attributes.insert(SOURCE_ID_ATTRIBUTE.to_owned(), id.to_owned());
    entitlement.attributes.insert(SOURCE_NAME_ATTRIBUTE.to_owned(), name.to_owned());
    entitlement
}

/// Adds a permission grant for every permission a user holds.
///
/// DrChrono does not document how `permissions` is serialised, so two forms are read: an
/// object whose keys are permission names and whose values are booleans (a `true` grants
/// it), and a list of the names held.
pub(super) fn permissions(
    users: &[(String, &Record<'_>)],
    entitlements: &mut Vec<Entitlement>,
    memberships: &mut Vec<Membership>,
    notes: &mut Notes,
) {
    let mut known: HashSet<String> = HashSet::new();
    for (account_id, record) in users {
        let at = format!("{}.permissions", record.at);
        let granted_names: Vec<&str> = match record.fields.get("permissions") {
            None | Some(Value::Null) => continue,
            Some(Value::Object(map)) => {
                let mut names = Vec::new();
                for (name, _) in map.iter() {
                    match flag(map, name) {
                        Flag::Value(true) => names.push(name.as_str()),
                        Flag::Value(false) | Flag::Absent => {}
                        Flag::Invalid(raw) => {
                            let message = format!(
                                "permission `{name}` is `{raw}`, not `true` or `false`, so it is \
                                 not counted as granted"
                            );
                            notes.push(Level::Warning, &at, message);
                        }
                    }
                }
                names
            }
            Some(Value::Array(items)) => {
                items.iter().filter_map(Value::as_str).map(str::trim).collect()
            }
            Some(other) => {
                let message = format!(
                    "`permissions` is a JSON {}, neither an object of booleans nor a list of \
                     names, so user `{account_id}` has no permission grants",
                    type_name(other)
                );
                notes.push(Level::Warning, &at, message);
                continue;
            }
        };

        let mut granted = HashSet::new();
        for name in granted_names.into_iter().filter(|name| !name.is_empty()) {
            if !granted.insert(name) {
                continue;
            }
            let entitlement_id = permission_id(name);
            if known.insert(entitlement_id.clone()) {
                entitlements.push(with_source_words(
                    Entitlement::new(entitlement_id.clone(), EntitlementKind::Permission, name),
                    name,
                    name,
                ));
            }
            memberships.push(Membership::account(account_id.clone(), entitlement_id));
        }
    }
}

/// Adds the user groups and their members. An archived group is skipped with an info
/// diagnostic and read as granting nothing, even though it may still list members.
pub(super) fn user_groups(
    records: &[Record<'_>],
    account_ids: &HashSet<&str>,
    entitlements: &mut Vec<Entitlement>,
    memberships: &mut Vec<Membership>,
    notes: &mut Notes,
) {
    let mut known: HashSet<String> = HashSet::new();
    for record in records {
        let fields = record.fields;
        let name = text(fields, "name");
        let Some(group_id) = id_field(fields, "id") else {
            let message = format!("skipped user group `{}` without `id`", name.unwrap_or_default());
            notes.push(Level::Warning, &record.at, message);
            continue;
        };
        let members: Vec<String> = match fields.get("members") {
            Some(Value::Array(items)) => items.iter().filter_map(id).collect(),
            _ => Vec::new(),
        };

        match flag(fields, "archived") {
            Flag::Value(true) => {
                let message = format!(
                    "skipped archived user group `{}` (`{group_id}`), which still lists {} {}; \
                     archived groups are read as granting nothing",
                    name.unwrap_or_default(),
                    members.len(),
                    if members.len() == 1 { "member" } else { "members" },
                );
                notes.push(Level::Info, &record.at, message);
                continue;
            }
            Flag::Invalid(raw) => {
                let message = format!(
                    "`archived` is `{raw}`, not `true` or `false`; the group is read as active"
                );
                notes.push(Level::Warning, &format!("{}.archived", record.at), message);
            }
            Flag::Value(false) | Flag::Absent => {}
        }

        let entitlement_id = user_group_id(&group_id);
        if !known.insert(entitlement_id.clone()) {
            let message =
                format!("skipped a second user group with id `{group_id}`; the first is used");
            notes.push(Level::Warning, &record.at, message);
            continue;
        }
        let shown = name.unwrap_or(&group_id);
        let mut entitlement = with_source_words(
            Entitlement::new(entitlement_id.clone(), EntitlementKind::UserGroup, shown),
            &group_id,
            shown,
        );
        for attribute in ["practice_group", "created_at", "updated_at"] {
            if let Some(value) = fields.get(attribute).and_then(id) {
                entitlement.attributes.insert(attribute.into(), value);
            }
        }
        entitlements.push(entitlement);

        let mut unknown = Vec::new();
        for member in members {
            let member = if account_ids.contains(member.as_str()) {
                Member::Account(member)
            } else {
                unknown.push(member.clone());
                Member::Unresolved(member)
            };
            memberships.push(Membership {
                member,
                entitlement: entitlement_id.clone(),
                state: GrantState::Active,
                scope: None,
            });
        }
        if !unknown.is_empty() {
            let message = format!(
                "user group `{}` lists users `{}` that `/api/users` does not contain; they are kept \
                 as unresolved members",
                name.unwrap_or(&group_id),
                unknown.join("`, `")
            );
            notes.push(Level::Warning, &format!("{}.members", record.at), message);
        }
    }
}

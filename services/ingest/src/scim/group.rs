//! SCIM Group resources (RFC 7643, section 4.2) and the memberships they and the Users'
//! `groups` attributes record.

use std::collections::{BTreeSet, HashSet};

use rollcall_core::model::{Entitlement, EntitlementKind, GrantState, Member, Membership};
use serde_json::{Map, Value};

use super::Notes;
use super::json::{id_text, objects, text};
use super::user::GroupRef;
use crate::diagnostic::Level;

/// One entry of a Group's `members`.
pub(super) struct MemberRef {
    /// `members[].value`: the `id` of a User or Group.
    pub id: String,
    /// `members[].type`: `User` or `Group`, when the server sends it.
    pub kind: Option<String>,
}

/// A group and its direct members.
pub(super) struct GroupRecord {
    pub entitlement: Entitlement,
    pub members: Vec<MemberRef>,
}

/// Reads a Group; a Group without `id` is skipped with a warning.
pub(super) fn read_group(
    resource: &Map<String, Value>,
    at: &str,
    notes: &mut Notes,
) -> Option<GroupRecord> {
    let Some(id) = id_text(resource, "id") else {
        let message = format!(
            "skipped a Group without `id` (displayName `{}`); export Groups from the SCIM \
             server, which assigns every resource an id",
            text(resource, "displayName").unwrap_or_default()
        );
        notes.push(Level::Warning, at, message);
        return None;
    };

    let name = text(resource, "displayName").map_or_else(|| id.clone(), str::to_owned);
    let mut entitlement = Entitlement::new(id, EntitlementKind::Group, name);
    if let Some(external_id) = text(resource, "externalId") {
        entitlement.attributes.insert("externalId".into(), external_id.to_owned());
    }

    let members = objects(resource, "members")
        .into_iter()
        .filter_map(|(_, member)| {
            let id = id_text(member, "value")?;
            Some(MemberRef { id, kind: text(member, "type").map(str::to_owned) })
        })
        .collect();
    Some(GroupRecord { entitlement, members })
}

/// Builds the snapshot's memberships from Group `members` and User `groups`.
///
/// A member resolves by its `type` when the server sends it, else by looking the id up
/// among the Users and then the Groups. An id that is neither is kept as
/// [`Member::Unresolved`]. A User's `groups` entry for a Group the file does not contain
/// adds that group, named by its `display`, so the grant is not lost.
pub(super) fn memberships(
    groups: &[GroupRecord],
    user_groups: &[(String, Vec<GroupRef>)],
    account_ids: &HashSet<String>,
    entitlements: &mut Vec<Entitlement>,
    notes: &mut Notes,
) -> Vec<Membership> {
    let mut group_ids: HashSet<String> = entitlements.iter().map(|e| e.id.clone()).collect();
    let mut seen: BTreeSet<(Member, String)> = BTreeSet::new();
    let mut result = Vec::new();
    let mut unresolved = 0usize;

    for group in groups {
        for member in &group.members {
            let is_user = account_ids.contains(&member.id);
            let is_group = group_ids.contains(&member.id);
            let resolved = match member.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("user") if is_user => Member::Account(member.id.clone()),
                Some("group") if is_group => Member::Entitlement(member.id.clone()),
                None if is_user => Member::Account(member.id.clone()),
                None if is_group => Member::Entitlement(member.id.clone()),
                _ => {
                    unresolved += 1;
                    Member::Unresolved(member.id.clone())
                }
            };
            add(&mut seen, &mut result, resolved, &group.entitlement.id);
        }
    }

    let mut added_groups = Vec::new();
    for (account_id, refs) in user_groups {
        for group in refs {
            if group_ids.insert(group.id.clone()) {
                let name = group.display.clone().unwrap_or_else(|| group.id.clone());
                let mut entitlement =
                    Entitlement::new(group.id.clone(), EntitlementKind::Group, name);
                entitlement.attributes.insert("listed_in".into(), "User.groups".into());
                entitlements.push(entitlement);
                added_groups.push(group.id.as_str());
            }
            add(&mut seen, &mut result, Member::Account(account_id.clone()), &group.id);
        }
    }

    if unresolved > 0 {
        let message = format!(
            "group members that are neither a User nor a Group of this file: {unresolved}; they \
             are kept as unresolved members, so export Users and Groups together"
        );
        notes.push(Level::Warning, "$", message);
    }
    if !added_groups.is_empty() {
        let message = format!(
            "Users list groups that the file does not contain (`{}`); they were added from the \
             Users' `groups`, without their other members",
            added_groups.join("`, `")
        );
        notes.push(Level::Info, "$", message);
    }
    result
}

fn add(
    seen: &mut BTreeSet<(Member, String)>,
    result: &mut Vec<Membership>,
    member: Member,
    group: &str,
) {
    if seen.insert((member.clone(), group.to_owned())) {
        result.push(Membership {
            member,
            entitlement: group.to_owned(),
            state: GrantState::Active,
            scope: None,
        });
    }
}

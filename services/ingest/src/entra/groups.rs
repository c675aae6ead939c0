//! Reads groups and member lists: `GET /groups` (with `$expand=members`),
//! `/groups/{id}/members`, `/groups/{id}/transitiveMembers` and `/directoryRoles/{id}/members`.

use serde_json::Value;

use super::fields::{Item, Notes};
use super::kind::short_type;
use super::records::{Collected, GroupRecord, MemberList, MemberRef, MemberTarget, Origin};
use super::users::read_user;

/// Group properties kept in `Entitlement::attributes` as evidence.
const EVIDENCE: [&str; 6] = [
    "securityEnabled",
    "mailEnabled",
    "groupTypes",
    "isAssignableToRole",
    "onPremisesSyncEnabled",
    "membershipRule",
];

/// The navigation properties that expand a group's or role's members.
pub(crate) const MEMBER_EXPANSIONS: [&str; 2] = ["members", "transitiveMembers"];

/// Reads the items of a groups listing, with expanded members.
pub(crate) fn read_groups(items: &[Item], out: &mut Collected, notes: &mut Notes) {
    for item in items {
        if item.get("@removed").is_some() {
            notes.info(
                &item.path,
                format!(
                    "group `{}` is marked `@removed` in this delta response, so it is left out",
                    item.id().unwrap_or_default()
                ),
            );
            continue;
        }
        let Some(id) = read_group(item, Origin::Listing, out, notes) else { continue };
        read_expanded_members(item, &MemberTarget::Group(id), out, notes);
    }
}

/// Reads one group object into `out` and returns its id, or `None` when it has none.
pub(crate) fn read_group(
    item: &Item,
    origin: Origin,
    out: &mut Collected,
    notes: &mut Notes,
) -> Option<String> {
    let Some(id) = item.id() else {
        notes.warn(&item.path, "this group has no `id`, so it is skipped: keep `id` in `$select`");
        return None;
    };
    let mut record = GroupRecord {
        id: id.clone(),
        origin,
        display_name: item.text("displayName", notes),
        description: item.text("description", notes),
        security_enabled: item.flag("securityEnabled", notes),
        attributes: Default::default(),
    };
    for key in EVIDENCE {
        if let Some(raw) = item.raw(key) {
            record.attributes.insert(key.to_owned(), raw);
        }
    }
    out.groups.push(record);
    Some(id)
}

/// Reads `members` and `transitiveMembers` expanded on a group or directory role. Both
/// become memberships of that object, because the rules expand nesting themselves.
pub(crate) fn read_expanded_members(
    item: &Item,
    target: &MemberTarget,
    out: &mut Collected,
    notes: &mut Notes,
) {
    for key in MEMBER_EXPANSIONS {
        if item.get(key).is_none() {
            continue;
        }
        let members = item.children(key, notes);
        let path = item.path_of(key);
        push_member_list(&members, target.clone(), path, out, notes);
    }
}

/// Reads the items of a member list response for `target`.
pub(crate) fn push_member_list(
    items: &[Item],
    target: MemberTarget,
    path: String,
    out: &mut Collected,
    notes: &mut Notes,
) {
    let members = items.iter().filter_map(|item| read_member(item, out, notes)).collect();
    let file = notes.file().to_path_buf();
    out.member_lists.push(MemberList { target, members, file, path });
}

/// Reads a directory object named as a member or a role principal. Users and groups it
/// describes are kept as expansion records, so their names and flags reach the snapshot.
pub(crate) fn read_member(
    item: &Item,
    out: &mut Collected,
    notes: &mut Notes,
) -> Option<MemberRef> {
    let Some(id) = item.id() else {
        let seen = match item.get("userPrincipalName").and_then(Value::as_str) {
            Some(upn) => format!("the member `{upn}`"),
            None => "this member".to_owned(),
        };
        notes.warn(
            &item.path,
            format!(
                "{seen} has no `id`, so it is skipped: request the list again without a \
                 `$select` that leaves out `id`"
            ),
        );
        return None;
    };
    let type_name = item.odata_type().map(|name| short_type(name).to_owned());
    match type_name.as_deref() {
        Some("user") => {
            read_user(item, Origin::Expansion, false, out, notes);
        }
        Some("group") => {
            read_group(item, Origin::Expansion, out, notes);
        }
        _ => {}
    }
    // Read without a note: the user or group reader above notes a malformed name.
    let display_name = item
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|name| !name.trim().is_empty())
        .map(str::to_owned);
    Some(MemberRef { id, type_name, display_name })
}

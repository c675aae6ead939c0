//! Mapping group entries to entitlements.

use std::collections::{BTreeMap, HashSet};

use rollcall_core::model::{Entitlement, EntitlementKind};

use super::account::{entry_id, entry_sid, read_admin_count, report_invalid};
use super::view::{EntryView, Kind, Sink};
use crate::diagnostic::Level;
use crate::ldap::ad::{GroupType, Sid};

/// The member attributes whose ranged retrieval can leave a group incomplete.
const MEMBER_ATTRIBUTES: [&str; 3] = ["member", "uniquemember", "memberuid"];

/// A group entry mapped to an entitlement.
#[derive(Debug)]
pub(super) struct MappedGroup {
    /// The index of the entry in the views.
    pub view: usize,
    /// The entitlement.
    pub entitlement: Entitlement,
    /// The parsed `objectSid`, by which a user's primary group is found.
    pub sid: Option<Sid>,
}

/// Maps every entry of kind `Group`. A second entry with an id already taken is skipped
/// with a warning.
pub(super) fn map_groups(views: &[EntryView], kinds: &[Kind], sink: &mut Sink) -> Vec<MappedGroup> {
    let mut groups = Vec::new();
    let mut seen = HashSet::new();
    for (index, (view, kind)) in views.iter().zip(kinds).enumerate() {
        if *kind != Kind::Group {
            continue;
        }
        let group = map_group(index, view, sink);
        if !seen.insert(group.entitlement.id.clone()) {
            let message = format!(
                "entry `{}` has the id `{}` of an earlier group, so it was skipped. Check the export for copied objectGUID or entryUUID values.",
                view.dn, group.entitlement.id
            );
            sink.report(Level::Warning, &view.origin, message);
            continue;
        }
        groups.push(group);
    }
    groups
}

fn map_group(index: usize, view: &EntryView, sink: &mut Sink) -> MappedGroup {
    let name = view
        .text("cn", sink)
        .or_else(|| view.text("samaccountname", sink))
        .or_else(|| {
            crate::ldap::Dn::parse(&view.dn).ok().and_then(|dn| dn.leaf_value().map(str::to_owned))
        })
        .unwrap_or_else(|| view.dn.clone());
    let mut entitlement = Entitlement::new(entry_id(view, sink), EntitlementKind::Group, name);
    entitlement.description = view.text("description", sink);
    let sid = entry_sid(view, sink);
    entitlement.sid = sid.as_ref().map(Sid::to_string);

    let mut attributes = BTreeMap::new();
    attributes.insert("distinguishedName".to_owned(), view.dn.clone());
    if let Some(text) = view.text("grouptype", sink) {
        match GroupType::parse(&text) {
            Ok(group_type) => {
                entitlement.security_enabled = group_type.is_security_enabled();
                attributes.insert("groupType.scope".to_owned(), group_type.scope().to_owned());
            }
            Err(error) => report_invalid(view, "groupType", &error, sink),
        }
        attributes.insert("groupType".to_owned(), text);
    }
    if let Some(text) = view.text("admincount", sink) {
        read_admin_count(view, sink);
        attributes.insert("adminCount".to_owned(), text);
    }

    for incomplete in
        view.incomplete.iter().filter(|i| MEMBER_ATTRIBUTES.contains(&i.attribute.as_str()))
    {
        attributes.insert("membership_incomplete".to_owned(), "true".to_owned());
        let message = format!(
            "group `{}`: only {} `{}` values arrived and the directory holds more, so the group is marked `membership_incomplete`. Read the entry again requesting `{}` and add the result to the export.",
            view.dn, incomplete.received, incomplete.attribute, incomplete.next
        );
        sink.report(Level::Warning, &view.origin, message);
    }
    entitlement.attributes = attributes;
    MappedGroup { view: index, entitlement, sid }
}

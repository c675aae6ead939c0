//! Merges groups, roles, member lists and role grants into entitlements and memberships.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rollcall_core::model::{Entitlement, EntitlementKind, GrantState, Member, Membership};

use crate::diagnostic::{Diagnostic, Level, Location};

use super::super::fields::Field;
use super::super::records::{
    Grant, GroupRecord, MemberList, MemberRef, MemberTarget, Origin, RoleOrigin, RoleRecord,
};

/// Entitlements and memberships being built.
pub(super) struct Access<'a> {
    groups: BTreeMap<String, Entitlement>,
    roles: BTreeMap<String, Entitlement>,
    /// `directoryRole.id` to role template id.
    directory_roles: BTreeMap<String, String>,
    /// Role definition `id` to template id, for custom roles whose ids differ.
    definitions: BTreeMap<String, String>,
    /// Display names of members seen anywhere, for unresolved members' labels.
    names: BTreeMap<String, String>,
    accounts: &'a BTreeSet<String>,
    pub(super) memberships: BTreeSet<Membership>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl<'a> Access<'a> {
    pub(super) fn new(
        accounts: &'a BTreeSet<String>,
        diagnostics: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Self {
            groups: BTreeMap::new(),
            roles: BTreeMap::new(),
            directory_roles: BTreeMap::new(),
            definitions: BTreeMap::new(),
            names: BTreeMap::new(),
            accounts,
            memberships: BTreeSet::new(),
            diagnostics,
        }
    }

    /// Adds groups; records must be in file order, and listings win over expansions.
    pub(super) fn add_groups(&mut self, mut records: Vec<GroupRecord>) {
        records.sort_by_key(|record| record.origin);
        for record in records {
            let group = self.groups.entry(record.id.clone()).or_insert_with(|| {
                Entitlement::new(record.id.clone(), EntitlementKind::Group, record.id.clone())
            });
            let mut name = Some(group.name.clone());
            record.display_name.apply_to(&mut name);
            group.name = name.unwrap_or_else(|| record.id.clone());
            record.description.apply_to(&mut group.description);
            let mut security = Some(group.security_enabled);
            record.security_enabled.apply_to(&mut security);
            // Only an explicit `securityEnabled: false` makes a group a distribution list.
            group.security_enabled = security != Some(false);
            group.attributes.extend(record.attributes);
        }
    }

    /// Adds roles; records must be in file order. Role definitions win over expanded
    /// definitions, which win over directory roles.
    pub(super) fn add_roles(&mut self, mut records: Vec<RoleRecord>) {
        records.sort_by_key(|record| record.origin);
        for record in records {
            if let Some(object_id) = &record.object_id {
                let map = match record.origin {
                    RoleOrigin::DirectoryRole => &mut self.directory_roles,
                    _ => &mut self.definitions,
                };
                map.insert(object_id.clone(), record.template_id.clone());
            }
            let role = self.role(&record.template_id);
            let mut name = Some(role.name.clone());
            record.display_name.apply_to(&mut name);
            role.name = name.unwrap_or_else(|| record.template_id.clone());
            record.description.apply_to(&mut role.description);
            record.is_privileged.apply_to(&mut role.source_privileged);
            role.attributes.extend(record.attributes);
        }
    }

    /// Returns the role entitlement for a template id, created with the id as its name when no
    /// response defines it, so the rules can still match it against the built-in roles.
    fn role(&mut self, template_id: &str) -> &mut Entitlement {
        self.roles.entry(template_id.to_owned()).or_insert_with(|| {
            let mut role =
                Entitlement::new(template_id, EntitlementKind::DirectoryRole, template_id);
            role.role_template_id = Some(template_id.to_owned());
            role
        })
    }

    /// Remembers the display names that member references carry.
    pub(super) fn learn_names<'m>(&mut self, members: impl Iterator<Item = &'m MemberRef>) {
        for member in members {
            if let Some(name) = &member.display_name {
                self.names.entry(member.id.clone()).or_insert_with(|| name.clone());
            }
        }
    }

    /// Adds the memberships of one member list.
    pub(super) fn add_member_list(&mut self, list: &MemberList) {
        let entitlement = match &list.target {
            MemberTarget::Group(id) => {
                if !self.groups.contains_key(id) {
                    self.warn(
                        &list.file,
                        &list.path,
                        format!(
                            "group `{id}` has members here but is in no groups response, so \
                             its name is its id: save `groups.json` for its name and \
                             security flag"
                        ),
                    );
                    self.add_groups(vec![GroupRecord {
                        id: id.clone(),
                        origin: Origin::Expansion,
                        display_name: Field::Absent,
                        description: Field::Absent,
                        security_enabled: Field::Absent,
                        attributes: BTreeMap::new(),
                    }]);
                }
                id.clone()
            }
            MemberTarget::DirectoryRole(id) => self.role_of_object(id, &list.file, &list.path),
        };
        for member in &list.members {
            let Some(member) = self.resolve(member, &list.file, &list.path) else { continue };
            self.memberships.insert(Membership {
                member,
                entitlement: entitlement.clone(),
                state: GrantState::Active,
                scope: None,
            });
        }
    }

    /// Returns the template id of a directory role named by its object id in a member list.
    fn role_of_object(&mut self, id: &str, file: &Path, path: &str) -> String {
        if let Some(template_id) = self.directory_roles.get(id) {
            return template_id.clone();
        }
        if !self.roles.contains_key(id) {
            self.warn(
                file,
                path,
                format!(
                    "directory role `{id}` is in no `directoryRoles` response, so its template \
                     id is unknown and its object id is used: save `directoryRoles.json` too"
                ),
            );
            self.role(id);
        }
        id.to_owned()
    }

    /// Adds a role assignment or eligibility.
    pub(super) fn add_grant(&mut self, grant: &Grant) {
        let template_id = self
            .definitions
            .get(&grant.role_definition_id)
            .cloned()
            .unwrap_or_else(|| grant.role_definition_id.clone());
        self.role(&template_id);
        let Some(member) = self.resolve(&grant.principal, &grant.file, &grant.path) else {
            return;
        };
        self.memberships.insert(Membership {
            member,
            entitlement: template_id,
            state: grant.state,
            scope: grant.scope.clone(),
        });
    }

    /// Turns a member reference into a member. Users and groups are known by their
    /// `@odata.type`, or without one by an account or group of that id. Anything else
    /// (service principals, devices, contacts) stays unresolved, with its type in the text.
    fn resolve(&mut self, member: &MemberRef, file: &Path, path: &str) -> Option<Member> {
        let id = member.id.clone();
        match member.type_name.as_deref() {
            Some("user") => return Some(Member::Account(id)),
            Some("group") => return Some(Member::Entitlement(id)),
            Some(other) => return Some(Member::Unresolved(self.label(other, &id))),
            None => {}
        }
        if self.accounts.contains(&id) {
            return Some(Member::Account(id));
        }
        if self.groups.contains_key(&id) {
            return Some(Member::Entitlement(id));
        }
        self.warn(
            file,
            path,
            format!(
                "member `{id}` has no `@odata.type` and is in no users or groups response, so \
                 it is kept unresolved: save `users.json` and `groups.json`, or expand the \
                 principal with `$expand=principal`"
            ),
        );
        Some(Member::Unresolved(self.label("directoryObject", &id)))
    }

    fn label(&self, type_name: &str, id: &str) -> String {
        match self.names.get(id) {
            Some(name) => format!("{type_name}:{id} ({name})"),
            None => format!("{type_name}:{id}"),
        }
    }

    fn warn(&mut self, file: &Path, path: &str, message: String) {
        self.diagnostics.push(Diagnostic::new(
            Level::Warning,
            file,
            Location::JsonPath(path.to_owned()),
            message,
        ));
    }

    /// Takes all entitlements: groups, then roles, each sorted by id.
    pub(super) fn entitlements(&mut self) -> Vec<Entitlement> {
        let groups = std::mem::take(&mut self.groups);
        let roles = std::mem::take(&mut self.roles);
        groups.into_values().chain(roles.into_values()).collect()
    }
}

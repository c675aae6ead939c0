//! Reads directory roles, role definitions, role assignments and PIM eligibility.

use rollcall_core::model::GrantState;
use serde_json::Value;

use super::fields::{Field, Item, Notes};
use super::groups::{read_expanded_members, read_member};
use super::records::{Collected, Grant, MemberRef, MemberTarget, RoleOrigin, RoleRecord};

/// Reads the items of `GET /directoryRoles`, with expanded members.
///
/// A `directoryRole.id` differs from tenant to tenant; the `roleTemplateId` is the same in
/// every tenant, so it is the entitlement id.
pub(crate) fn read_directory_roles(items: &[Item], out: &mut Collected, notes: &mut Notes) {
    for item in items {
        let object_id = item.id();
        let template_id = match item.text("roleTemplateId", notes).value() {
            Some(template_id) => template_id,
            None => {
                notes.warn(
                    &item.path,
                    format!(
                        "directory role `{}` has no `roleTemplateId`, so it is skipped: keep \
                         `roleTemplateId` in `$select`",
                        object_id.as_deref().unwrap_or("?")
                    ),
                );
                continue;
            }
        };
        out.roles.push(RoleRecord {
            template_id: template_id.clone(),
            object_id: object_id.clone(),
            origin: RoleOrigin::DirectoryRole,
            display_name: item.text("displayName", notes),
            description: item.text("description", notes),
            is_privileged: Field::Absent,
            attributes: object_id
                .iter()
                .map(|id| ("directoryRole.id".to_owned(), id.clone()))
                .collect(),
        });
        let target = MemberTarget::DirectoryRole(object_id.unwrap_or(template_id));
        read_expanded_members(item, &target, out, notes);
    }
}

/// Reads role definitions, from `GET /roleManagement/directory/roleDefinitions` or expanded
/// in an assignment.
pub(crate) fn read_definition(
    item: &Item,
    origin: RoleOrigin,
    out: &mut Collected,
    notes: &mut Notes,
) {
    let id = item.id();
    // Built-in roles have `templateId` equal to `id`; custom roles have their own.
    let Some(template_id) = item.text("templateId", notes).value().or_else(|| id.clone()) else {
        notes.warn(
            &item.path,
            "this role definition has neither `id` nor `templateId`, so it is skipped",
        );
        return;
    };
    let mut record = RoleRecord {
        template_id,
        object_id: id,
        origin,
        display_name: item.text("displayName", notes),
        description: item.text("description", notes),
        // Only the beta endpoint sends `isPrivileged`.
        is_privileged: item.flag("isPrivileged", notes),
        attributes: Default::default(),
    };
    for key in ["isBuiltIn", "isEnabled", "isPrivileged"] {
        if let Some(raw) = item.raw(key) {
            record.attributes.insert(key.to_owned(), raw);
        }
    }
    out.roles.push(record);
}

/// Reads role assignments (`Active`) or eligibility schedules and instances (`Eligible`).
pub(crate) fn read_grants(
    items: &[Item],
    state: GrantState,
    out: &mut Collected,
    notes: &mut Notes,
) {
    for item in items {
        let principal_id = item.text("principalId", notes).value();
        let expanded =
            item.child("principal").and_then(|principal| read_member(&principal, out, notes));
        let principal = match (expanded, principal_id) {
            (Some(mut principal), Some(id)) => {
                principal.id = id;
                principal
            }
            (Some(principal), None) => principal,
            (None, Some(id)) => MemberRef { id, type_name: None, display_name: None },
            (None, None) => {
                notes.warn(
                    &item.path,
                    "this role assignment has no `principalId`, so it is skipped",
                );
                continue;
            }
        };

        if let Some(definition) = item.child("roleDefinition") {
            read_definition(&definition, RoleOrigin::ExpandedDefinition, out, notes);
        }
        let role_definition_id = item
            .text("roleDefinitionId", notes)
            .value()
            .or_else(|| item.child("roleDefinition").and_then(|definition| definition.id()));
        let Some(role_definition_id) = role_definition_id else {
            notes.warn(
                &item.path,
                format!(
                    "the role assignment of `{}` has no `roleDefinitionId`, so it is skipped",
                    principal.id
                ),
            );
            continue;
        };

        // `/` is the whole directory; anything else is an administrative unit or an object.
        let scope = match item.get("directoryScopeId") {
            Some(Value::String(scope)) if !scope.trim().is_empty() && scope.trim() != "/" => {
                Some(scope.clone())
            }
            _ => None,
        };
        out.grants.push(Grant {
            principal,
            role_definition_id,
            scope,
            state,
            file: notes.file().to_path_buf(),
            path: item.path.clone(),
        });
    }
}

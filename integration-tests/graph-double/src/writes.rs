//! The Graph writes that remediation sends: disabling a user, revoking the user's
//! sign-in sessions, and removing a member from a group.
//!
//! `PATCH /v1.0/users/{id}` accepts the `accountEnabled` property only, which is all
//! remediation changes, and returns `204 No Content` as Graph does. The change is logged
//! like [`Tenant::upsert_user`], so the next full or delta read sees the account
//! disabled. `POST /v1.0/users/{id}/revokeSignInSessions` returns `200` with
//! `"value": true` as Graph v1.0 documents, and counts the revocation per user.
//! `DELETE /v1.0/groups/{group}/members/{user}/$ref` removes the member and returns `204`,
//! or `404` when the group does not exist or the user is not among its members, as Graph
//! does for a member it cannot find.

use serde_json::{Value, json};

use crate::server::Reply;
use crate::tenant::{Tenant, object_id};

/// Routes a write request, or returns `None` when `method` and `segments` name no write
/// the double serves, so the read routes handle it.
pub(crate) fn route(
    tenant: &mut Tenant,
    method: &str,
    segments: &[&str],
    version: &str,
    body: &[u8],
) -> Option<Reply> {
    match (method, segments) {
        ("PATCH", ["users", id]) => Some(patch_user(tenant, id, body)),
        ("POST", ["users", id, "revokeSignInSessions"]) => {
            Some(revoke_sessions(tenant, id, version))
        }
        ("DELETE", ["groups", group, "members", member, "$ref"]) => {
            Some(remove_member(tenant, group, member))
        }
        _ => None,
    }
}

fn not_found(id: &str) -> Reply {
    Reply::error(404, "Request_ResourceNotFound", &format!("Resource '{id}' does not exist."))
}

/// `PATCH /users/{id}` with `{"accountEnabled": bool}`.
fn patch_user(tenant: &mut Tenant, id: &str, body: &[u8]) -> Reply {
    let Some(mut user) = tenant.users.iter().find(|u| object_id(u).as_deref() == Some(id)).cloned()
    else {
        return not_found(id);
    };
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(body) else {
        return Reply::error(400, "BadRequest", "Invalid request body: expected a JSON object.");
    };
    if let Some(name) = changes.keys().find(|name| name.as_str() != "accountEnabled") {
        return Reply::error(
            400,
            "Request_BadRequest",
            &format!("The double changes only accountEnabled, not '{name}'."),
        );
    }
    let Some(enabled) = changes.get("accountEnabled").and_then(Value::as_bool) else {
        return Reply::error(
            400,
            "Request_BadRequest",
            "accountEnabled is missing or not a boolean.",
        );
    };
    if let Some(fields) = user.as_object_mut() {
        fields.insert("accountEnabled".into(), json!(enabled));
    }
    tenant.upsert_user(user);
    Reply::no_content()
}

/// `POST /users/{id}/revokeSignInSessions`.
fn revoke_sessions(tenant: &mut Tenant, id: &str, version: &str) -> Reply {
    if !tenant.users.iter().any(|u| object_id(u).as_deref() == Some(id)) {
        return not_found(id);
    }
    *tenant.revocations.entry(id.to_owned()).or_default() += 1;
    Reply::ok(json!({
        "@odata.context": format!("{version}/$metadata#Edm.Boolean"),
        "value": true,
    }))
}

/// `DELETE /groups/{group}/members/{member}/$ref`. The double keeps transitive member
/// lists, so the member leaves the list of this group only; membership through a nested
/// group stays in the lists of the groups that contain it.
fn remove_member(tenant: &mut Tenant, group: &str, member: &str) -> Reply {
    let Some(members) = tenant.members.get(group) else {
        return not_found(group);
    };
    if !members.iter().any(|m| object_id(m).as_deref() == Some(member)) {
        return not_found(member);
    }
    let kept: Vec<Value> =
        members.iter().filter(|m| object_id(m).as_deref() != Some(member)).cloned().collect();
    tenant.set_members(group, kept);
    Reply::no_content()
}

//! Disabling an Entra ID user through Microsoft Graph.
//!
//! Two requests, in this order: `PATCH /v1.0/users/{id}` with `accountEnabled: false`
//! (permissions `User.EnableDisableAccount.All` and `User.Read.All`), which stops new
//! sign-ins, then `POST /v1.0/users/{id}/revokeSignInSessions` (permission
//! `User.RevokeSessions.All`), which invalidates the refresh tokens and session cookies already issued. Disabling
//! first means a session cannot be used to sign in again after the revocation. Both
//! requests are idempotent, so a failed attempt is repeated whole.

use rollcall_entra_connector::{GraphClient, GraphError, Transport};
use serde_json::{Value, json};

/// Endpoint labels in the client's request statistics.
const PATCH_ENDPOINT: &str = "users/accountEnabled";
const REVOKE_ENDPOINT: &str = "users/revokeSignInSessions";
const MEMBER_ENDPOINT: &str = "groups/members";

/// Disables the user with `object_id` and revokes its sessions. Returns the audit detail
/// of what was done, or the reason it failed.
pub(crate) async fn disable_user<T: Transport>(
    client: &mut GraphClient<'_, T>,
    graph_url: &str,
    object_id: &str,
) -> Result<Value, String> {
    if !is_object_id(object_id) {
        return Err(format!(
            "`{object_id}` is not an Entra object id (a GUID such as 00000000-0000-4000-8000-000000000000); the target must carry the user's `id` from Graph"
        ));
    }
    let user_url = format!("{}/v1.0/users/{object_id}", graph_url.trim_end_matches('/'));
    client
        .patch(PATCH_ENDPOINT, &user_url, &json!({ "accountEnabled": false }))
        .await
        .map_err(|error| describe(&error, object_id, "disabling"))?;
    tracing::info!(user = object_id, "Entra ID user disabled");

    let revoke_url = format!("{user_url}/revokeSignInSessions");
    // The action has no parameters; Graph accepts an empty JSON object as its body.
    client
        .post(REVOKE_ENDPOINT, &revoke_url, &json!({}))
        .await
        .map_err(|error| describe(&error, object_id, "revoking the sign-in sessions of"))?;
    tracing::info!(user = object_id, "Entra ID sign-in sessions revoked");
    Ok(json!({ "account_enabled": false, "sessions_revoked": true }))
}

/// Removes the user `member` from the group `group`: `DELETE
/// /v1.0/groups/{group}/members/{member}/$ref` (permission `GroupMember.ReadWrite.All`).
/// Graph removes direct members only; a membership through a nested group is not planned
/// as a removal. Returns the audit detail, or the reason it failed.
pub(crate) async fn remove_member<T: Transport>(
    client: &mut GraphClient<'_, T>,
    graph_url: &str,
    group: &str,
    member: &str,
) -> Result<Value, String> {
    for (id, what) in [(group, "group"), (member, "user")] {
        if !is_object_id(id) {
            return Err(format!(
                "`{id}` is not an Entra object id (a GUID such as 00000000-0000-4000-8000-000000000000); the {what} must be named by its `id` from Graph"
            ));
        }
    }
    let url =
        format!("{}/v1.0/groups/{group}/members/{member}/$ref", graph_url.trim_end_matches('/'));
    client.delete(MEMBER_ENDPOINT, &url).await.map_err(|error| match error.status() {
        Some(404) => format!(
            "removing user {member} from Entra ID group {group} failed: Graph returned 404 because the group does not exist or the user is not a direct member of it (the next sync shows whether the access is gone)"
        ),
        Some(403) => format!(
            "removing user {member} from Entra ID group {group} failed: {error}; grant the app GroupMember.ReadWrite.All with admin consent (role-assignable groups also need RoleManagement.ReadWrite.Directory)"
        ),
        _ => format!("removing user {member} from Entra ID group {group} failed: {error}"),
    })?;
    tracing::info!(group, user = member, "Entra ID group member removed");
    Ok(json!({ "group_id": group, "member_removed": true }))
}

/// Describes what failed, with the usual causes of Graph's status.
fn describe(error: &GraphError, object_id: &str, step: &str) -> String {
    match error.status() {
        Some(404) => format!(
            "{step} Entra ID user {object_id} failed: Graph returned 404 because the user does not exist (deleted, or the id belongs to another tenant)"
        ),
        Some(403) => format!(
            "{step} Entra ID user {object_id} failed: {error}; grant the app User.EnableDisableAccount.All, User.Read.All and User.RevokeSessions.All with admin consent"
        ),
        _ => format!("{step} Entra ID user {object_id} failed: {error}"),
    }
}

/// Checks the GUID form `8-4-4-4-12` of hex digits, so the id cannot change the URL path.
fn is_object_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();
    lengths == [8, 4, 4, 4, 12]
        && groups.iter().all(|group| group.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::is_object_id;

    #[test]
    fn object_id_form() {
        assert!(is_object_id("0c0ffee0-0000-4000-8000-000000000001"));
        assert!(is_object_id("0C0FFEE0-0000-4000-8000-00000000000A"));
        assert!(!is_object_id("../../groups"));
        assert!(!is_object_id("0c0ffee0-0000-4000-8000-00000000000"));
        assert!(!is_object_id("0c0ffee0-0000-4000-8000-00000000000g"));
        assert!(!is_object_id(""));
    }
}

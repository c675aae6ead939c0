//! Every Microsoft Graph request that the connector and the leaver remediation send, with
//! the application permissions each one needs.
//!
//! [`GRAPH_REQUESTS`] is the single list: [`READ_PERMISSIONS`] and [`WRITE_PERMISSIONS`]
//! are derived from it, the client names its permissions when Graph returns
//! `403 Authorization_RequestDenied`, and the tests check it three ways. A sync granted
//! exactly the read permissions reaches every read request against the Graph double, whose
//! own table of accepted permissions is written separately. A sync without any one of them
//! fails with an error that names it, and the remediation writes behave the same way.
//! The permission tables of `docs/connectors/entra.md`, `docs/operations/onboarding.md`
//! and `docs/services/remediation.md` must list the same sets.
//!
//! The permissions are the least privileged application permissions of the Graph v1.0
//! reference for each request. NOTE: they are checked against the Graph double, which
//! models that reference, and not against a live tenant.

use std::collections::BTreeSet;

/// The error code Graph sends with `403` when the access token lacks the permissions of
/// the request.
pub const DENIED_CODE: &str = "Authorization_RequestDenied";

/// Whether a request reads or changes the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A read by the connector's sync, with the connector's app.
    Read,
    /// A change by the leaver remediation, with the separate write app the engine holds.
    Write,
}

/// One Graph request and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphRequest {
    /// The endpoint label in request statistics, metrics and errors.
    pub endpoint: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// The path pattern with the API version, such as `/v1.0/users/{id}`.
    pub path: &'static str,
    /// The application permissions the request needs, all of them.
    pub permissions: &'static [&'static str],
    /// Whether the request reads or writes.
    pub access: Access,
    /// Whether the request is sent inside a `POST /v1.0/$batch` instead of on its own.
    pub batched: bool,
}

const fn read(
    endpoint: &'static str,
    path: &'static str,
    permissions: &'static [&'static str],
) -> GraphRequest {
    GraphRequest {
        endpoint,
        method: "GET",
        path,
        permissions,
        access: Access::Read,
        batched: false,
    }
}

const fn batched_read(
    endpoint: &'static str,
    path: &'static str,
    permissions: &'static [&'static str],
) -> GraphRequest {
    GraphRequest { endpoint, method: "GET", path, permissions, access: Access::Read, batched: true }
}

const fn write(
    endpoint: &'static str,
    method: &'static str,
    path: &'static str,
    permissions: &'static [&'static str],
) -> GraphRequest {
    GraphRequest { endpoint, method, path, permissions, access: Access::Write, batched: false }
}

/// Every Graph request the connector's sync and the leaver remediation send.
///
/// `signInActivity` is selected on users, which needs `AuditLog.Read.All` on top of
/// `User.Read.All`. `RoleManagement.Read.Directory` also covers the eligibility schedules,
/// whose least privileged permission on its own would be
/// `RoleEligibilitySchedule.Read.Directory`, so one permission serves all three role reads.
/// Changing `accountEnabled` with `User.EnableDisableAccount.All` also needs
/// `User.Read.All`, so the write app needs that read permission too.
pub const GRAPH_REQUESTS: &[GraphRequest] = &[
    read("users/delta", "/v1.0/users/delta", &["User.Read.All"]),
    read("users", "/v1.0/users", &["User.Read.All", "AuditLog.Read.All"]),
    batched_read("$batch users", "/v1.0/users/{id}", &["User.Read.All", "AuditLog.Read.All"]),
    read("groups/delta", "/v1.0/groups/delta", &["GroupMember.Read.All"]),
    read("groups", "/v1.0/groups", &["GroupMember.Read.All"]),
    read(
        "groups/transitiveMembers",
        "/v1.0/groups/{id}/transitiveMembers",
        &["GroupMember.Read.All"],
    ),
    read(
        "roleAssignments",
        "/v1.0/roleManagement/directory/roleAssignments",
        &["RoleManagement.Read.Directory"],
    ),
    read(
        "roleEligibilitySchedules",
        "/v1.0/roleManagement/directory/roleEligibilitySchedules",
        &["RoleManagement.Read.Directory"],
    ),
    read(
        "roleDefinitions",
        "/beta/roleManagement/directory/roleDefinitions",
        &["RoleManagement.Read.Directory"],
    ),
    read(
        "userRegistrationDetails",
        "/v1.0/reports/authenticationMethods/userRegistrationDetails",
        &["AuditLog.Read.All"],
    ),
    // Graph checks each request inside a batch on its own; the batch needs nothing more.
    GraphRequest {
        endpoint: "$batch",
        method: "POST",
        path: "/v1.0/$batch",
        permissions: &[],
        access: Access::Read,
        batched: false,
    },
    batched_read(
        "$batch users/authentication/methods",
        "/v1.0/users/{id}/authentication/methods",
        &["UserAuthenticationMethod.Read.All"],
    ),
    read(
        "authenticationMethodsPolicy",
        "/v1.0/policies/authenticationMethodsPolicy",
        &["Policy.Read.AuthenticationMethod"],
    ),
    write(
        "users/accountEnabled",
        "PATCH",
        "/v1.0/users/{id}",
        &["User.EnableDisableAccount.All", "User.Read.All"],
    ),
    write(
        "users/revokeSignInSessions",
        "POST",
        "/v1.0/users/{id}/revokeSignInSessions",
        &["User.RevokeSessions.All"],
    ),
    write(
        "groups/members",
        "DELETE",
        "/v1.0/groups/{id}/members/{id}/$ref",
        &["GroupMember.ReadWrite.All"],
    ),
];

/// The application permissions of the connector's app: every permission of a read.
pub const READ_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "AuditLog.Read.All",
    "GroupMember.Read.All",
    "RoleManagement.Read.Directory",
    "UserAuthenticationMethod.Read.All",
    "Policy.Read.AuthenticationMethod",
];

/// The application permissions of the remediation's write app: every permission of a
/// write.
pub const WRITE_PERMISSIONS: &[&str] = &[
    "User.EnableDisableAccount.All",
    "User.Read.All",
    "User.RevokeSessions.All",
    "GroupMember.ReadWrite.All",
];

/// Returns the request with the endpoint label `endpoint`, if the table has one.
pub fn request_for(endpoint: &str) -> Option<&'static GraphRequest> {
    GRAPH_REQUESTS.iter().find(|request| request.endpoint == endpoint)
}

/// Returns the union of the permissions of every request with `access`.
pub fn permissions_for(access: Access) -> BTreeSet<&'static str> {
    GRAPH_REQUESTS
        .iter()
        .filter(|request| request.access == access)
        .flat_map(|request| request.permissions.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_lists_match_table() {
        let reads: BTreeSet<&str> = READ_PERMISSIONS.iter().copied().collect();
        let writes: BTreeSet<&str> = WRITE_PERMISSIONS.iter().copied().collect();
        assert_eq!(reads, permissions_for(Access::Read));
        assert_eq!(writes, permissions_for(Access::Write));
        assert_eq!(reads.len(), READ_PERMISSIONS.len(), "a read permission is listed twice");
        assert_eq!(writes.len(), WRITE_PERMISSIONS.len(), "a write permission is listed twice");
    }

    #[test]
    fn endpoint_labels_are_unique() {
        let labels: BTreeSet<&str> = GRAPH_REQUESTS.iter().map(|r| r.endpoint).collect();
        assert_eq!(labels.len(), GRAPH_REQUESTS.len());
    }

    #[test]
    fn writes_never_batched() {
        for request in GRAPH_REQUESTS.iter().filter(|r| r.access == Access::Write) {
            assert!(!request.batched, "{}", request.endpoint);
        }
    }
}

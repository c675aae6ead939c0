//! The application permissions Graph accepts for each endpoint the double serves.
//!
//! This table models Microsoft Graph, so it is written here from the permissions sections
//! of the Graph v1.0 reference and kept apart from the connector's own table of the
//! permissions it requests. A test that syncs with the connector's permissions against this table
//! therefore checks the connector's list against a second, independent list.
//!
//! Each endpoint has a list of requirements. Every requirement must be met, and a
//! requirement is met by any one of its permissions, which are the least privileged one
//! first and then the higher ones Graph also accepts.

/// The error code Graph sends with `403` when the token lacks a required permission.
pub const DENIED_CODE: &str = "Authorization_RequestDenied";
/// The message Graph sends with [`DENIED_CODE`].
pub const DENIED_MESSAGE: &str = "Insufficient privileges to complete the operation.";

/// The permissions a tenant grants unless a test changes them: every read and write
/// permission Rollcall documents, so tests that do not look at permissions pass.
pub const DEFAULT_GRANTED: &[&str] = &[
    "User.Read.All",
    "AuditLog.Read.All",
    "GroupMember.Read.All",
    "RoleManagement.Read.Directory",
    "UserAuthenticationMethod.Read.All",
    "Policy.Read.AuthenticationMethod",
    "User.EnableDisableAccount.All",
    "User.RevokeSessions.All",
    "GroupMember.ReadWrite.All",
];

/// Reading any property of a user.
const READ_USERS: &[&str] =
    &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
/// Reading groups and their members.
const READ_GROUPS: &[&str] = &[
    "GroupMember.Read.All",
    "Group.Read.All",
    "GroupMember.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
/// Reading directory role assignments and definitions.
const READ_ROLES: &[&str] = &[
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
/// Reading PIM eligibility schedules. Graph does not list `Directory.Read.All` here.
const READ_ELIGIBILITY: &[&str] = &[
    "RoleEligibilitySchedule.Read.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
];

/// The extra requirement of selecting `signInActivity` on users: Graph accepts only
/// `AuditLog.Read.All` for it, on top of a permission that reads users.
pub const SIGN_IN_ACTIVITY: &[&str] = &["AuditLog.Read.All"];

/// An endpoint the double serves, by method and path pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /v1.0/users`.
    ListUsers,
    /// `GET /v1.0/users/delta`.
    UsersDelta,
    /// `GET /v1.0/users/{id}`.
    GetUser,
    /// `GET /v1.0/groups`.
    ListGroups,
    /// `GET /v1.0/groups/delta`.
    GroupsDelta,
    /// `GET /v1.0/groups/{id}/transitiveMembers`.
    TransitiveMembers,
    /// `GET /v1.0/groups/{id}/members`, the direct members.
    Members,
    /// `GET /v1.0/roleManagement/directory/roleAssignments`.
    RoleAssignments,
    /// `GET /v1.0/roleManagement/directory/roleEligibilitySchedules`.
    RoleEligibilitySchedules,
    /// `GET /beta/roleManagement/directory/roleDefinitions`.
    RoleDefinitions,
    /// `GET /v1.0/reports/authenticationMethods/userRegistrationDetails`.
    RegistrationDetails,
    /// `GET /v1.0/users/{id}/authentication/methods`.
    AuthenticationMethods,
    /// `GET /v1.0/policies/authenticationMethodsPolicy`.
    MethodsPolicy,
    /// `POST /v1.0/$batch`.
    Batch,
    /// `PATCH /v1.0/users/{id}`, which the double serves for `accountEnabled` only.
    UpdateUser,
    /// `POST /v1.0/users/{id}/revokeSignInSessions`.
    RevokeSessions,
    /// `DELETE /v1.0/groups/{id}/members/{id}/$ref`.
    RemoveMember,
}

impl Endpoint {
    /// Every endpoint the double serves.
    pub const ALL: [Endpoint; 17] = [
        Endpoint::ListUsers,
        Endpoint::UsersDelta,
        Endpoint::GetUser,
        Endpoint::ListGroups,
        Endpoint::GroupsDelta,
        Endpoint::TransitiveMembers,
        Endpoint::Members,
        Endpoint::RoleAssignments,
        Endpoint::RoleEligibilitySchedules,
        Endpoint::RoleDefinitions,
        Endpoint::RegistrationDetails,
        Endpoint::AuthenticationMethods,
        Endpoint::MethodsPolicy,
        Endpoint::Batch,
        Endpoint::UpdateUser,
        Endpoint::RevokeSessions,
        Endpoint::RemoveMember,
    ];

    /// The HTTP method.
    pub fn method(self) -> &'static str {
        match self {
            Endpoint::Batch | Endpoint::RevokeSessions => "POST",
            Endpoint::UpdateUser => "PATCH",
            Endpoint::RemoveMember => "DELETE",
            _ => "GET",
        }
    }

    /// The path pattern with the API version, such as `/v1.0/users/{id}`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ListUsers => "/v1.0/users",
            Endpoint::UsersDelta => "/v1.0/users/delta",
            Endpoint::GetUser | Endpoint::UpdateUser => "/v1.0/users/{id}",
            Endpoint::ListGroups => "/v1.0/groups",
            Endpoint::GroupsDelta => "/v1.0/groups/delta",
            Endpoint::TransitiveMembers => "/v1.0/groups/{id}/transitiveMembers",
            Endpoint::Members => "/v1.0/groups/{id}/members",
            Endpoint::RoleAssignments => "/v1.0/roleManagement/directory/roleAssignments",
            Endpoint::RoleEligibilitySchedules => {
                "/v1.0/roleManagement/directory/roleEligibilitySchedules"
            }
            Endpoint::RoleDefinitions => "/beta/roleManagement/directory/roleDefinitions",
            Endpoint::RegistrationDetails => {
                "/v1.0/reports/authenticationMethods/userRegistrationDetails"
            }
            Endpoint::AuthenticationMethods => "/v1.0/users/{id}/authentication/methods",
            Endpoint::MethodsPolicy => "/v1.0/policies/authenticationMethodsPolicy",
            Endpoint::Batch => "/v1.0/$batch",
            Endpoint::RevokeSessions => "/v1.0/users/{id}/revokeSignInSessions",
            Endpoint::RemoveMember => "/v1.0/groups/{id}/members/{id}/$ref",
        }
    }

    /// Returns the requirements Graph checks before it serves the endpoint. Each inner list is
    /// one requirement, met by any of its permissions. `$batch` has none of its own,
    /// because Graph checks each request inside it.
    pub fn requirements(self) -> &'static [&'static [&'static str]] {
        match self {
            Endpoint::ListUsers | Endpoint::UsersDelta | Endpoint::GetUser => &[READ_USERS],
            Endpoint::ListGroups
            | Endpoint::GroupsDelta
            | Endpoint::TransitiveMembers
            | Endpoint::Members => &[READ_GROUPS],
            Endpoint::RoleAssignments | Endpoint::RoleDefinitions => &[READ_ROLES],
            Endpoint::RoleEligibilitySchedules => &[READ_ELIGIBILITY],
            // Graph lists no higher permission for the registration report.
            Endpoint::RegistrationDetails => &[&["AuditLog.Read.All"]],
            Endpoint::AuthenticationMethods => {
                &[&["UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"]]
            }
            Endpoint::MethodsPolicy => {
                &[&["Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod"]]
            }
            Endpoint::Batch => &[],
            // Changing `accountEnabled` with the narrow permission also needs the user to
            // be readable, so the least privileged pair is
            // User.EnableDisableAccount.All with User.Read.All.
            Endpoint::UpdateUser => &[
                &["User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All"],
                READ_USERS,
            ],
            Endpoint::RevokeSessions => {
                &[&["User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"]]
            }
            Endpoint::RemoveMember => {
                &[&["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"]]
            }
        }
    }

    /// Finds the endpoint of a request by method and the path segments after the API
    /// version. The double serves both versions alike, so the version does not matter
    /// here. Returns `None` for a path the double does not serve.
    pub fn classify(method: &str, segments: &[&str]) -> Option<Endpoint> {
        let endpoint = match (method, segments) {
            ("GET", ["users"]) => Endpoint::ListUsers,
            ("GET", ["users", "delta"]) => Endpoint::UsersDelta,
            ("GET", ["users", _]) => Endpoint::GetUser,
            ("GET", ["users", _, "authentication", "methods"]) => Endpoint::AuthenticationMethods,
            ("PATCH", ["users", _]) => Endpoint::UpdateUser,
            ("POST", ["users", _, "revokeSignInSessions"]) => Endpoint::RevokeSessions,
            ("GET", ["groups"]) => Endpoint::ListGroups,
            ("GET", ["groups", "delta"]) => Endpoint::GroupsDelta,
            ("GET", ["groups", _, "transitiveMembers"]) => Endpoint::TransitiveMembers,
            ("GET", ["groups", _, "members"]) => Endpoint::Members,
            ("DELETE", ["groups", _, "members", _, "$ref"]) => Endpoint::RemoveMember,
            ("GET", ["roleManagement", "directory", "roleAssignments"]) => {
                Endpoint::RoleAssignments
            }
            ("GET", ["roleManagement", "directory", "roleEligibilitySchedules"]) => {
                Endpoint::RoleEligibilitySchedules
            }
            ("GET", ["roleManagement", "directory", "roleDefinitions"]) => {
                Endpoint::RoleDefinitions
            }
            ("GET", ["reports", "authenticationMethods", "userRegistrationDetails"]) => {
                Endpoint::RegistrationDetails
            }
            ("GET", ["policies", "authenticationMethodsPolicy"]) => Endpoint::MethodsPolicy,
            ("POST", ["$batch"]) => Endpoint::Batch,
            _ => return None,
        };
        Some(endpoint)
    }
}

/// Returns whether `granted` meets every requirement in `requirements`.
pub(crate) fn allows<'a>(
    granted: impl Fn(&str) -> bool + Copy,
    requirements: impl IntoIterator<Item = &'a [&'a str]>,
) -> bool {
    requirements.into_iter().all(|any_of| any_of.iter().any(|permission| granted(permission)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_round_trips_paths() {
        for endpoint in Endpoint::ALL {
            let (_version, rest) =
                endpoint.path().trim_start_matches('/').split_once('/').unwrap_or_default();
            let segments: Vec<&str> = rest
                .split('/')
                .map(|segment| if segment == "{id}" { "0c0ffee0" } else { segment })
                .collect();
            assert_eq!(
                Endpoint::classify(endpoint.method(), &segments),
                Some(endpoint),
                "{} {}",
                endpoint.method(),
                endpoint.path()
            );
        }
    }

    #[test]
    fn default_grant_allows_every_endpoint() {
        let granted = |permission: &str| DEFAULT_GRANTED.contains(&permission);
        for endpoint in Endpoint::ALL {
            assert!(allows(granted, endpoint.requirements().iter().copied()), "{endpoint:?}");
        }
        assert!(allows(granted, [SIGN_IN_ACTIVITY]));
    }

    #[test]
    fn higher_permission_is_accepted() {
        let granted = |permission: &str| permission == "Directory.Read.All";
        assert!(allows(granted, Endpoint::ListUsers.requirements().iter().copied()));
        assert!(allows(granted, Endpoint::TransitiveMembers.requirements().iter().copied()));
        assert!(!allows(granted, [SIGN_IN_ACTIVITY]));
        assert!(!allows(granted, Endpoint::UpdateUser.requirements().iter().copied()));
    }
}

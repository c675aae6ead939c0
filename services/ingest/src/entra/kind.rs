//! Response kinds and the routing of one response to its reader.

/// The Graph request a saved response answers, as far as Rollcall reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResponseKind {
    /// `GET /users`, `/users/delta` or `/users/{id}`: accounts.
    Users,
    /// `GET /groups`, optionally with `$expand=members`.
    Groups,
    /// `GET /groups/{id}/members`: direct members of one group.
    GroupMembers,
    /// `GET /groups/{id}/transitiveMembers`: direct and nested members of one group.
    GroupTransitiveMembers,
    /// `GET /directoryRoles`: the activated directory roles.
    DirectoryRoles,
    /// `GET /directoryRoles/{id}/members`.
    DirectoryRoleMembers,
    /// `GET /roleManagement/directory/roleAssignments`: active role assignments.
    RoleAssignments,
    /// `GET /roleManagement/directory/roleEligibilitySchedules`: PIM eligibility.
    RoleEligibilitySchedules,
    /// `GET /roleManagement/directory/roleEligibilityScheduleInstances`: PIM eligibility.
    RoleEligibilityScheduleInstances,
    /// `GET /roleManagement/directory/roleDefinitions`.
    RoleDefinitions,
    /// `GET /users/{id}/authentication/methods` or one of its typed sub-collections.
    AuthenticationMethods,
    /// `GET /reports/authenticationMethods/userRegistrationDetails`.
    UserRegistrationDetails,
    /// `GET /policies/authenticationMethodsPolicy`.
    AuthenticationMethodsPolicy,
}

impl ResponseKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [ResponseKind; 13] = [
        ResponseKind::Users,
        ResponseKind::Groups,
        ResponseKind::GroupMembers,
        ResponseKind::GroupTransitiveMembers,
        ResponseKind::DirectoryRoles,
        ResponseKind::DirectoryRoleMembers,
        ResponseKind::RoleAssignments,
        ResponseKind::RoleEligibilitySchedules,
        ResponseKind::RoleEligibilityScheduleInstances,
        ResponseKind::RoleDefinitions,
        ResponseKind::AuthenticationMethods,
        ResponseKind::UserRegistrationDetails,
        ResponseKind::AuthenticationMethodsPolicy,
    ];

    /// The Graph request path of this kind, as used in messages and the documentation.
    pub fn request(self) -> &'static str {
        match self {
            ResponseKind::Users => "users",
            ResponseKind::Groups => "groups",
            ResponseKind::GroupMembers => "groups/{id}/members",
            ResponseKind::GroupTransitiveMembers => "groups/{id}/transitiveMembers",
            ResponseKind::DirectoryRoles => "directoryRoles",
            ResponseKind::DirectoryRoleMembers => "directoryRoles/{id}/members",
            ResponseKind::RoleAssignments => "roleManagement/directory/roleAssignments",
            ResponseKind::RoleEligibilitySchedules => {
                "roleManagement/directory/roleEligibilitySchedules"
            }
            ResponseKind::RoleEligibilityScheduleInstances => {
                "roleManagement/directory/roleEligibilityScheduleInstances"
            }
            ResponseKind::RoleDefinitions => "roleManagement/directory/roleDefinitions",
            ResponseKind::AuthenticationMethods => "users/{id}/authentication/methods",
            ResponseKind::UserRegistrationDetails => {
                "reports/authenticationMethods/userRegistrationDetails"
            }
            ResponseKind::AuthenticationMethodsPolicy => "policies/authenticationMethodsPolicy",
        }
    }

    /// Whether the items are directory objects of mixed types whose list the request path
    /// names, so the file name decides the kind over the items' own types.
    pub(crate) fn is_member_list(self) -> bool {
        matches!(
            self,
            ResponseKind::GroupMembers
                | ResponseKind::GroupTransitiveMembers
                | ResponseKind::DirectoryRoleMembers
        )
    }

    /// The kind whose items carry `@odata.type` `type_name`, when exactly one does.
    pub(crate) fn of_item_type(type_name: &str) -> Option<Self> {
        let name = short_type(type_name);
        if name.ends_with("AuthenticationMethod") {
            return Some(ResponseKind::AuthenticationMethods);
        }
        let kind = match name {
            "user" => ResponseKind::Users,
            "group" => ResponseKind::Groups,
            "directoryRole" => ResponseKind::DirectoryRoles,
            "unifiedRoleAssignment" => ResponseKind::RoleAssignments,
            "unifiedRoleEligibilitySchedule" => ResponseKind::RoleEligibilitySchedules,
            "unifiedRoleEligibilityScheduleInstance" => {
                ResponseKind::RoleEligibilityScheduleInstances
            }
            "unifiedRoleDefinition" => ResponseKind::RoleDefinitions,
            "userRegistrationDetails" => ResponseKind::UserRegistrationDetails,
            "authenticationMethodsPolicy" => ResponseKind::AuthenticationMethodsPolicy,
            _ => return None,
        };
        Some(kind)
    }
}

/// The part of an `@odata.type` after `#microsoft.graph.`.
pub(crate) fn short_type(type_name: &str) -> &str {
    let name = type_name.strip_prefix('#').unwrap_or(type_name);
    name.strip_prefix("microsoft.graph.").unwrap_or(name)
}

/// A collection under `/users/{id}/authentication`: the mixed `methods` list or one typed
/// sub-collection, whose items Graph sends without `@odata.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MethodCollection {
    Mixed,
    Password,
    Email,
    Phone,
    MicrosoftAuthenticator,
    PasswordlessMicrosoftAuthenticator,
    SoftwareOath,
    HardwareOath,
    Fido2,
    WindowsHelloForBusiness,
    PlatformCredential,
    TemporaryAccessPass,
    QrCodePin,
    External,
}

impl MethodCollection {
    const NAMES: [(&'static str, MethodCollection); 14] = [
        ("methods", MethodCollection::Mixed),
        ("passwordMethods", MethodCollection::Password),
        ("emailMethods", MethodCollection::Email),
        ("phoneMethods", MethodCollection::Phone),
        ("microsoftAuthenticatorMethods", MethodCollection::MicrosoftAuthenticator),
        (
            "passwordlessMicrosoftAuthenticatorMethods",
            MethodCollection::PasswordlessMicrosoftAuthenticator,
        ),
        ("softwareOathMethods", MethodCollection::SoftwareOath),
        ("hardwareOathMethods", MethodCollection::HardwareOath),
        ("fido2Methods", MethodCollection::Fido2),
        ("windowsHelloForBusinessMethods", MethodCollection::WindowsHelloForBusiness),
        ("platformCredentialMethods", MethodCollection::PlatformCredential),
        ("temporaryAccessPassMethods", MethodCollection::TemporaryAccessPass),
        // A single entity: a user has at most one QR code with PIN.
        ("qrCodePinMethod", MethodCollection::QrCodePin),
        ("externalAuthenticationMethods", MethodCollection::External),
    ];

    /// The collection named by a request path segment, in any letter case.
    pub(crate) fn from_segment(segment: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(segment))
            .map(|(_, collection)| *collection)
    }

    /// The `@odata.type` of the items of a typed sub-collection.
    pub(crate) fn item_type(self) -> Option<&'static str> {
        let name = match self {
            MethodCollection::Mixed => return None,
            MethodCollection::Password => "#microsoft.graph.passwordAuthenticationMethod",
            MethodCollection::Email => "#microsoft.graph.emailAuthenticationMethod",
            MethodCollection::Phone => "#microsoft.graph.phoneAuthenticationMethod",
            MethodCollection::MicrosoftAuthenticator => {
                "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
            }
            MethodCollection::PasswordlessMicrosoftAuthenticator => {
                "#microsoft.graph.passwordlessMicrosoftAuthenticatorAuthenticationMethod"
            }
            MethodCollection::SoftwareOath => "#microsoft.graph.softwareOathAuthenticationMethod",
            MethodCollection::HardwareOath => "#microsoft.graph.hardwareOathAuthenticationMethod",
            MethodCollection::Fido2 => "#microsoft.graph.fido2AuthenticationMethod",
            MethodCollection::WindowsHelloForBusiness => {
                "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"
            }
            MethodCollection::PlatformCredential => {
                "#microsoft.graph.platformCredentialAuthenticationMethod"
            }
            MethodCollection::TemporaryAccessPass => {
                "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
            }
            MethodCollection::QrCodePin => "#microsoft.graph.qrCodePinAuthenticationMethod",
            MethodCollection::External => "#microsoft.graph.externalAuthenticationMethod",
        };
        Some(name)
    }
}

/// Where a response goes: its kind and the object its request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) kind: ResponseKind,
    /// The id in the request path: the user of a methods list, the group or directory
    /// role of a member list.
    pub(crate) target: Option<String>,
    /// The authentication-method collection, for `AuthenticationMethods`.
    pub(crate) collection: MethodCollection,
    /// Whether the request selected `signInActivity`, as `@odata.context` shows it.
    pub(crate) sign_in_selected: bool,
}

impl Route {
    pub(crate) fn new(kind: ResponseKind) -> Self {
        Self { kind, target: None, collection: MethodCollection::Mixed, sign_in_selected: false }
    }
}

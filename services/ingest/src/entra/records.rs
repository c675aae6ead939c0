//! What the readers take from each file, before files are merged into one snapshot.
//!
//! Records keep absent and `null` properties apart (see [`Field`]) so that a file that did
//! not select a property never clears what another file sent.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rollcall_core::model::{AuthMethod, GrantState, LastSignIn};

use super::fields::Field;

/// The kind of response a user or group object was found in. Listings win over objects expanded inside
/// other responses (a role assignment's `principal`, a group's `members`), because an
/// expansion often carries fewer properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Origin {
    Expansion,
    Listing,
}

/// One user object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserRecord {
    pub(crate) id: String,
    pub(crate) origin: Origin,
    pub(crate) upn: Field<String>,
    pub(crate) mail: Field<String>,
    pub(crate) display_name: Field<String>,
    pub(crate) given_name: Field<String>,
    pub(crate) surname: Field<String>,
    pub(crate) employee_id: Field<String>,
    pub(crate) job_title: Field<String>,
    pub(crate) department: Field<String>,
    pub(crate) user_type: Field<String>,
    pub(crate) account_enabled: Field<bool>,
    pub(crate) created_at: Field<DateTime<Utc>>,
    /// `None` when the response did not carry sign-in activity at all.
    pub(crate) sign_in: Option<LastSignIn>,
    /// The direct manager's object id.
    pub(crate) manager: Field<String>,
    /// Raw values kept as evidence.
    pub(crate) attributes: BTreeMap<String, String>,
}

impl UserRecord {
    pub(crate) fn new(id: String, origin: Origin) -> Self {
        Self {
            id,
            origin,
            upn: Field::Absent,
            mail: Field::Absent,
            display_name: Field::Absent,
            given_name: Field::Absent,
            surname: Field::Absent,
            employee_id: Field::Absent,
            job_title: Field::Absent,
            department: Field::Absent,
            user_type: Field::Absent,
            account_enabled: Field::Absent,
            created_at: Field::Absent,
            sign_in: None,
            manager: Field::Absent,
            attributes: BTreeMap::new(),
        }
    }
}

/// One group object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupRecord {
    pub(crate) id: String,
    pub(crate) origin: Origin,
    pub(crate) display_name: Field<String>,
    pub(crate) description: Field<String>,
    pub(crate) security_enabled: Field<bool>,
    pub(crate) attributes: BTreeMap<String, String>,
}

/// A member as a member list or role assignment names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberRef {
    pub(crate) id: String,
    /// The `@odata.type` without `#microsoft.graph.`, when the object carried one.
    pub(crate) type_name: Option<String>,
    pub(crate) display_name: Option<String>,
}

/// The object whose members a member list contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemberTarget {
    /// A group, by object id.
    Group(String),
    /// A directory role by its tenant-specific object id (or its template id).
    DirectoryRole(String),
}

/// The members of one group or directory role.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MemberList {
    pub(crate) target: MemberTarget,
    pub(crate) members: Vec<MemberRef>,
    pub(crate) file: PathBuf,
    pub(crate) path: String,
}

/// The kind of response a role record comes from. Role definitions name roles best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RoleOrigin {
    DirectoryRole,
    ExpandedDefinition,
    Definition,
}

/// One directory role or role definition, keyed by its template id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoleRecord {
    pub(crate) template_id: String,
    /// The tenant-specific `directoryRole.id`, or the role definition's `id`.
    pub(crate) object_id: Option<String>,
    pub(crate) origin: RoleOrigin,
    pub(crate) display_name: Field<String>,
    pub(crate) description: Field<String>,
    pub(crate) is_privileged: Field<bool>,
    pub(crate) attributes: BTreeMap<String, String>,
}

/// One role assignment or PIM eligibility.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grant {
    pub(crate) principal: MemberRef,
    /// `roleDefinitionId`: the template id for built-in roles.
    pub(crate) role_definition_id: String,
    /// `directoryScopeId` when it is narrower than the whole directory (`/`).
    pub(crate) scope: Option<String>,
    pub(crate) state: GrantState,
    pub(crate) file: PathBuf,
    pub(crate) path: String,
}

/// The methods one file lists for one user.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MethodList {
    /// The user id (or user principal name) from the request path.
    pub(crate) user: String,
    pub(crate) methods: Vec<AuthMethod>,
    pub(crate) file: PathBuf,
    pub(crate) path: String,
}

/// One row of the registration report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Registration {
    pub(crate) id: String,
    pub(crate) upn: Field<String>,
    pub(crate) display_name: Field<String>,
    pub(crate) user_type: Field<String>,
    pub(crate) is_admin: bool,
    /// `None` when the row has no `methodsRegistered`.
    pub(crate) methods: Option<Vec<AuthMethod>>,
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) file: PathBuf,
    pub(crate) path: String,
}

/// Everything read from one file, or from all files once merged.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Collected {
    pub(crate) users: Vec<UserRecord>,
    pub(crate) groups: Vec<GroupRecord>,
    pub(crate) member_lists: Vec<MemberList>,
    pub(crate) roles: Vec<RoleRecord>,
    pub(crate) grants: Vec<Grant>,
    pub(crate) method_lists: Vec<MethodList>,
    pub(crate) registrations: Vec<Registration>,
    /// Lowercase ids of the enabled weak methods, one entry per policy response read.
    pub(crate) policies: Vec<Vec<String>>,
    /// A users response carried `signInActivity`.
    pub(crate) sign_in_available: bool,
    /// Graph rejected sign-in activity because the tenant has no Entra ID P1 or P2.
    pub(crate) sign_in_unlicensed: bool,
}

impl Collected {
    /// Appends `other` after the records already here.
    pub(crate) fn extend(&mut self, other: Collected) {
        self.users.extend(other.users);
        self.groups.extend(other.groups);
        self.member_lists.extend(other.member_lists);
        self.roles.extend(other.roles);
        self.grants.extend(other.grants);
        self.method_lists.extend(other.method_lists);
        self.registrations.extend(other.registrations);
        self.policies.extend(other.policies);
        self.sign_in_available |= other.sign_in_available;
        self.sign_in_unlicensed |= other.sign_in_unlicensed;
    }
}

//! Entitlements and the memberships that grant them.

use std::collections::BTreeMap;

/// What kind of grantable thing an entitlement is in its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntitlementKind {
    /// A directory group (Entra, LDAP or AD).
    Group,
    /// An Entra directory role.
    DirectoryRole,
    /// An EHR user template (Epic linked template).
    Template,
    /// An EHR subtemplate (Epic), with a priority.
    Subtemplate,
    /// An EHR security class.
    SecurityClass,
    /// An EHR role (athenahealth, eClinicalWorks).
    Role,
    /// A single EHR permission (DrChrono).
    Permission,
    /// An EHR user group (DrChrono).
    UserGroup,
}

impl EntitlementKind {
    /// The lowercase name used in policy patterns and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EntitlementKind::Group => "group",
            EntitlementKind::DirectoryRole => "directory_role",
            EntitlementKind::Template => "template",
            EntitlementKind::Subtemplate => "subtemplate",
            EntitlementKind::SecurityClass => "security_class",
            EntitlementKind::Role => "role",
            EntitlementKind::Permission => "permission",
            EntitlementKind::UserGroup => "user_group",
        }
    }

    /// Every kind, for parsing policy patterns.
    pub const ALL: [EntitlementKind; 8] = [
        EntitlementKind::Group,
        EntitlementKind::DirectoryRole,
        EntitlementKind::Template,
        EntitlementKind::Subtemplate,
        EntitlementKind::SecurityClass,
        EntitlementKind::Role,
        EntitlementKind::Permission,
        EntitlementKind::UserGroup,
    ];
}

/// Something grantable in one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Entitlement {
    /// The source's stable id: Entra object id or role template id, AD `objectGUID` or DN,
    /// EHR role or class code. Directory roles use the role template id, which is the same
    /// in every Entra tenant.
    pub id: String,
    /// What kind of entitlement it is.
    pub kind: EntitlementKind,
    /// The name the source shows.
    pub name: String,
    /// The source's description, if it has one.
    pub description: Option<String>,
    /// The Entra role template id, for directory roles.
    pub role_template_id: Option<String>,
    /// Entra's own `isPrivileged` flag on the role definition, where the export has it.
    pub source_privileged: Option<bool>,
    /// The AD security identifier of a group, for protected groups found by RID.
    pub sid: Option<String>,
    /// Whether the entitlement holds no security permissions (an AD distribution group, an
    /// Entra group that is not security-enabled). Such groups are listed but not privileged.
    pub security_enabled: bool,
    /// Raw source values kept as evidence.
    pub attributes: BTreeMap<String, String>,
}

impl Entitlement {
    /// Creates a security-enabled entitlement with only its id, kind and name.
    pub fn new(id: impl Into<String>, kind: EntitlementKind, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind,
            name: name.into(),
            description: None,
            role_template_id: None,
            source_privileged: None,
            sid: None,
            security_enabled: true,
            attributes: BTreeMap::new(),
        }
    }
}

/// Whether a grant is in effect now or can be activated (Entra PIM eligibility).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantState {
    /// In effect.
    Active,
    /// Can be activated by the holder on demand.
    Eligible,
}

/// The member side of a membership: an account or a nested entitlement (a group in a group).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Member {
    /// An account of the same source, by id.
    Account(String),
    /// An entitlement of the same source, by id: its holders inherit the target.
    Entitlement(String),
    /// A member the snapshot has no record of (a DN outside the export, a service
    /// principal), kept so the evidence shows it.
    Unresolved(String),
}

/// One direct membership as the source records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Membership {
    /// Who holds the entitlement.
    pub member: Member,
    /// The entitlement's id.
    pub entitlement: String,
    /// Active or eligible.
    pub state: GrantState,
    /// Where the grant applies, when narrower than the whole source (an athenahealth
    /// practice id, an Entra administrative unit).
    pub scope: Option<String>,
}

impl Membership {
    /// An active, unscoped membership of an account.
    pub fn account(account: impl Into<String>, entitlement: impl Into<String>) -> Self {
        Self {
            member: Member::Account(account.into()),
            entitlement: entitlement.into(),
            state: GrantState::Active,
            scope: None,
        }
    }

    /// An active, unscoped membership of a nested entitlement.
    pub fn nested(child: impl Into<String>, entitlement: impl Into<String>) -> Self {
        Self {
            member: Member::Entitlement(child.into()),
            entitlement: entitlement.into(),
            state: GrantState::Active,
            scope: None,
        }
    }
}

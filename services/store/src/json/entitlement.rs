//! The JSON form of entitlements and memberships, the elements of a snapshot's
//! `entitlements` and `memberships` arrays.

use std::collections::BTreeMap;

use rollcall_core::model::{Entitlement, EntitlementKind, GrantState, Member, Membership};
use serde::{Deserialize, Serialize};

/// [`Entitlement`] as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EntitlementJson {
    id: String,
    kind: EntitlementKindJson,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role_template_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_privileged: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    security_enabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<String, String>,
}

/// [`EntitlementKind`], spelled as in policy patterns and reports.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum EntitlementKindJson {
    Group,
    DirectoryRole,
    Template,
    Subtemplate,
    SecurityClass,
    Role,
    Permission,
    UserGroup,
}

/// [`Membership`] as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct MembershipJson {
    member: MemberJson,
    entitlement: String,
    state: GrantStateJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

/// [`Member`]: `{"account": "..."}`, `{"entitlement": "..."}` or `{"unresolved": "..."}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum MemberJson {
    Account(String),
    Entitlement(String),
    Unresolved(String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum GrantStateJson {
    Active,
    Eligible,
}

impl From<&Entitlement> for EntitlementJson {
    fn from(entitlement: &Entitlement) -> Self {
        Self {
            id: entitlement.id.clone(),
            kind: match entitlement.kind {
                EntitlementKind::Group => EntitlementKindJson::Group,
                EntitlementKind::DirectoryRole => EntitlementKindJson::DirectoryRole,
                EntitlementKind::Template => EntitlementKindJson::Template,
                EntitlementKind::Subtemplate => EntitlementKindJson::Subtemplate,
                EntitlementKind::SecurityClass => EntitlementKindJson::SecurityClass,
                EntitlementKind::Role => EntitlementKindJson::Role,
                EntitlementKind::Permission => EntitlementKindJson::Permission,
                EntitlementKind::UserGroup => EntitlementKindJson::UserGroup,
            },
            name: entitlement.name.clone(),
            description: entitlement.description.clone(),
            role_template_id: entitlement.role_template_id.clone(),
            source_privileged: entitlement.source_privileged,
            sid: entitlement.sid.clone(),
            security_enabled: entitlement.security_enabled,
            attributes: entitlement.attributes.clone(),
        }
    }
}

impl From<EntitlementJson> for Entitlement {
    fn from(json: EntitlementJson) -> Self {
        Self {
            id: json.id,
            kind: match json.kind {
                EntitlementKindJson::Group => EntitlementKind::Group,
                EntitlementKindJson::DirectoryRole => EntitlementKind::DirectoryRole,
                EntitlementKindJson::Template => EntitlementKind::Template,
                EntitlementKindJson::Subtemplate => EntitlementKind::Subtemplate,
                EntitlementKindJson::SecurityClass => EntitlementKind::SecurityClass,
                EntitlementKindJson::Role => EntitlementKind::Role,
                EntitlementKindJson::Permission => EntitlementKind::Permission,
                EntitlementKindJson::UserGroup => EntitlementKind::UserGroup,
            },
            name: json.name,
            description: json.description,
            role_template_id: json.role_template_id,
            source_privileged: json.source_privileged,
            sid: json.sid,
            security_enabled: json.security_enabled,
            attributes: json.attributes,
        }
    }
}

impl From<&Membership> for MembershipJson {
    fn from(membership: &Membership) -> Self {
        Self {
            member: match &membership.member {
                Member::Account(id) => MemberJson::Account(id.clone()),
                Member::Entitlement(id) => MemberJson::Entitlement(id.clone()),
                Member::Unresolved(id) => MemberJson::Unresolved(id.clone()),
            },
            entitlement: membership.entitlement.clone(),
            state: match membership.state {
                GrantState::Active => GrantStateJson::Active,
                GrantState::Eligible => GrantStateJson::Eligible,
            },
            scope: membership.scope.clone(),
        }
    }
}

impl From<MembershipJson> for Membership {
    fn from(json: MembershipJson) -> Self {
        Self {
            member: match json.member {
                MemberJson::Account(id) => Member::Account(id),
                MemberJson::Entitlement(id) => Member::Entitlement(id),
                MemberJson::Unresolved(id) => Member::Unresolved(id),
            },
            entitlement: json.entitlement,
            state: match json.state {
                GrantStateJson::Active => GrantState::Active,
                GrantStateJson::Eligible => GrantState::Eligible,
            },
            scope: json.scope,
        }
    }
}

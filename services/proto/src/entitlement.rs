//! Conversions of entitlements and memberships between the domain and `rollcall.v1`.

use rollcall_core::model::{Entitlement, EntitlementKind, GrantState, Member, Membership};

use crate::error::ConvertError;
use crate::v1;
use crate::v1::membership::Member as ProtoMember;
use crate::wire::enum_from_proto;

/// Converts an entitlement into its `rollcall.v1.Entitlement` message, without loss.
pub fn entitlement_to_proto(entitlement: &Entitlement) -> v1::Entitlement {
    v1::Entitlement {
        id: entitlement.id.clone(),
        kind: entitlement_kind_to_proto(entitlement.kind).into(),
        name: entitlement.name.clone(),
        description: entitlement.description.clone(),
        role_template_id: entitlement.role_template_id.clone(),
        source_privileged: entitlement.source_privileged,
        sid: entitlement.sid.clone(),
        security_enabled: entitlement.security_enabled,
        attributes: entitlement.attributes.clone(),
    }
}

/// Converts a `rollcall.v1.Entitlement` message into an entitlement.
///
/// # Errors
///
/// [`ConvertError::Missing`] or [`ConvertError::UnknownEnum`] for an unset or unknown
/// `kind`.
pub fn entitlement_from_proto(message: v1::Entitlement) -> Result<Entitlement, ConvertError> {
    Ok(Entitlement {
        id: message.id,
        kind: entitlement_kind_from_proto(message.kind)?,
        name: message.name,
        description: message.description,
        role_template_id: message.role_template_id,
        source_privileged: message.source_privileged,
        sid: message.sid,
        security_enabled: message.security_enabled,
        attributes: message.attributes,
    })
}

/// Converts a membership into its `rollcall.v1.Membership` message, without loss.
pub fn membership_to_proto(membership: &Membership) -> v1::Membership {
    let member = match &membership.member {
        Member::Account(id) => ProtoMember::MemberAccount(id.clone()),
        Member::Entitlement(id) => ProtoMember::MemberEntitlement(id.clone()),
        Member::Unresolved(text) => ProtoMember::MemberUnresolved(text.clone()),
    };
    let state = match membership.state {
        GrantState::Active => v1::GrantState::Active,
        GrantState::Eligible => v1::GrantState::Eligible,
    };
    v1::Membership {
        member: Some(member),
        entitlement_id: membership.entitlement.clone(),
        state: state.into(),
        scope: membership.scope.clone(),
    }
}

/// Converts a `rollcall.v1.Membership` message into a membership.
///
/// # Errors
///
/// [`ConvertError::Missing`] when no member is set or `state` is unset, and
/// [`ConvertError::UnknownEnum`] for an unknown `state`.
pub fn membership_from_proto(message: v1::Membership) -> Result<Membership, ConvertError> {
    let member = match message.member {
        Some(ProtoMember::MemberAccount(id)) => Member::Account(id),
        Some(ProtoMember::MemberEntitlement(id)) => Member::Entitlement(id),
        Some(ProtoMember::MemberUnresolved(text)) => Member::Unresolved(text),
        None => return Err(ConvertError::missing("member")),
    };
    let state = match enum_from_proto(message.state, "state")? {
        v1::GrantState::Unspecified => return Err(ConvertError::missing("state")),
        v1::GrantState::Active => GrantState::Active,
        v1::GrantState::Eligible => GrantState::Eligible,
    };
    Ok(Membership { member, entitlement: message.entitlement_id, state, scope: message.scope })
}

fn entitlement_kind_to_proto(kind: EntitlementKind) -> v1::EntitlementKind {
    match kind {
        EntitlementKind::Group => v1::EntitlementKind::Group,
        EntitlementKind::DirectoryRole => v1::EntitlementKind::DirectoryRole,
        EntitlementKind::Template => v1::EntitlementKind::Template,
        EntitlementKind::Subtemplate => v1::EntitlementKind::Subtemplate,
        EntitlementKind::SecurityClass => v1::EntitlementKind::SecurityClass,
        EntitlementKind::Role => v1::EntitlementKind::Role,
        EntitlementKind::Permission => v1::EntitlementKind::Permission,
        EntitlementKind::UserGroup => v1::EntitlementKind::UserGroup,
    }
}

fn entitlement_kind_from_proto(value: i32) -> Result<EntitlementKind, ConvertError> {
    match enum_from_proto(value, "kind")? {
        v1::EntitlementKind::Unspecified => Err(ConvertError::missing("kind")),
        v1::EntitlementKind::Group => Ok(EntitlementKind::Group),
        v1::EntitlementKind::DirectoryRole => Ok(EntitlementKind::DirectoryRole),
        v1::EntitlementKind::Template => Ok(EntitlementKind::Template),
        v1::EntitlementKind::Subtemplate => Ok(EntitlementKind::Subtemplate),
        v1::EntitlementKind::SecurityClass => Ok(EntitlementKind::SecurityClass),
        v1::EntitlementKind::Role => Ok(EntitlementKind::Role),
        v1::EntitlementKind::Permission => Ok(EntitlementKind::Permission),
        v1::EntitlementKind::UserGroup => Ok(EntitlementKind::UserGroup),
    }
}

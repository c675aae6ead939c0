//! Conversions of accounts between the domain and `rollcall.v1.Account`.

use rollcall_core::model::{
    Account, AccountKind, AccountMarker, AccountStatus, EpcsStatus, LastSignIn, ManagerRef,
};

use crate::auth::{auth_method_from_proto, auth_method_to_proto};
use crate::error::ConvertError;
use crate::snapshot::convert_list;
use crate::v1;
use crate::wire::{
    enum_from_proto, optional_timestamp_from_proto, optional_timestamp_to_proto,
    timestamp_from_proto, timestamp_to_proto,
};

/// Converts an account into its `rollcall.v1.Account` message, without loss except for a
/// leap second in a timestamp, which becomes the nanosecond before it.
pub fn account_to_proto(account: &Account) -> v1::Account {
    v1::Account {
        id: account.id.clone(),
        login: account.login.clone(),
        upn: account.upn.clone(),
        sam_account_name: account.sam_account_name.clone(),
        email: account.email.clone(),
        employee_id: account.employee_id.clone(),
        sid: account.sid.clone(),
        display_name: account.display_name.clone(),
        given_name: account.given_name.clone(),
        family_name: account.family_name.clone(),
        job_title: account.job_title.clone(),
        department: account.department.clone(),
        kind: account_kind_to_proto(account.kind).into(),
        status: account_status_to_proto(account.status).into(),
        last_sign_in: Some(last_sign_in_to_proto(account.last_sign_in)),
        status_raw: account.status_raw.clone(),
        status_since: optional_timestamp_to_proto(account.status_since),
        created_at: optional_timestamp_to_proto(account.created_at),
        manager: account.manager.as_ref().map(manager_to_proto),
        auth_methods: account.auth_methods.as_ref().map(|methods| v1::AuthMethodList {
            methods: methods.iter().map(auth_method_to_proto).collect(),
        }),
        markers: account.markers.iter().map(marker_to_proto).collect(),
        is_provider: account.is_provider,
        npi: account.npi.clone(),
        epcs: account.epcs.map(|epcs| epcs_to_proto(epcs).into()),
        attributes: account.attributes.clone(),
    }
}

/// Converts a `rollcall.v1.Account` message into an account.
///
/// # Errors
///
/// A [`ConvertError`] naming the first field that is missing (`kind`, `status`,
/// `last_sign_in`, an enum at `0`), has an unknown enum number, has an invalid
/// timestamp, or contradicts another field.
pub fn account_from_proto(message: v1::Account) -> Result<Account, ConvertError> {
    let last_sign_in = message.last_sign_in.ok_or_else(|| ConvertError::missing("last_sign_in"))?;
    let auth_methods = match message.auth_methods {
        None => None,
        Some(list) => Some(
            convert_list(list.methods, "methods", auth_method_from_proto)
                .map_err(|e| e.within("auth_methods"))?,
        ),
    };
    let markers = convert_list(message.markers, "markers", marker_from_proto)?;
    Ok(Account {
        id: message.id,
        login: message.login,
        upn: message.upn,
        sam_account_name: message.sam_account_name,
        email: message.email,
        employee_id: message.employee_id,
        sid: message.sid,
        display_name: message.display_name,
        given_name: message.given_name,
        family_name: message.family_name,
        job_title: message.job_title,
        department: message.department,
        kind: account_kind_from_proto(message.kind)?,
        status: account_status_from_proto(message.status)?,
        status_raw: message.status_raw,
        status_since: optional_timestamp_from_proto(message.status_since, "status_since")?,
        created_at: optional_timestamp_from_proto(message.created_at, "created_at")?,
        last_sign_in: last_sign_in_from_proto(last_sign_in)
            .map_err(|e| e.within("last_sign_in"))?,
        manager: message
            .manager
            .map(manager_from_proto)
            .transpose()
            .map_err(|e| e.within("manager"))?,
        auth_methods,
        markers,
        is_provider: message.is_provider,
        npi: message.npi,
        epcs: message.epcs.map(epcs_from_proto).transpose()?,
        attributes: message.attributes,
    })
}

fn account_kind_to_proto(kind: AccountKind) -> v1::AccountKind {
    match kind {
        AccountKind::Member => v1::AccountKind::Member,
        AccountKind::Guest => v1::AccountKind::Guest,
        AccountKind::Service => v1::AccountKind::Service,
    }
}

fn account_kind_from_proto(value: i32) -> Result<AccountKind, ConvertError> {
    match enum_from_proto(value, "kind")? {
        v1::AccountKind::Unspecified => Err(ConvertError::missing("kind")),
        v1::AccountKind::Member => Ok(AccountKind::Member),
        v1::AccountKind::Guest => Ok(AccountKind::Guest),
        v1::AccountKind::Service => Ok(AccountKind::Service),
    }
}

fn account_status_to_proto(status: AccountStatus) -> v1::AccountStatus {
    match status {
        AccountStatus::Enabled => v1::AccountStatus::Enabled,
        AccountStatus::Disabled => v1::AccountStatus::Disabled,
        AccountStatus::Unknown => v1::AccountStatus::Unknown,
    }
}

fn account_status_from_proto(value: i32) -> Result<AccountStatus, ConvertError> {
    match enum_from_proto(value, "status")? {
        v1::AccountStatus::Unspecified => Err(ConvertError::missing("status")),
        v1::AccountStatus::Enabled => Ok(AccountStatus::Enabled),
        v1::AccountStatus::Disabled => Ok(AccountStatus::Disabled),
        v1::AccountStatus::Unknown => Ok(AccountStatus::Unknown),
    }
}

fn last_sign_in_to_proto(last_sign_in: LastSignIn) -> v1::LastSignIn {
    let (state, at) = match last_sign_in {
        LastSignIn::At(at) => (v1::SignInState::Recorded, Some(timestamp_to_proto(at))),
        LastSignIn::Never => (v1::SignInState::Never, None),
        LastSignIn::Unknown => (v1::SignInState::Unknown, None),
    };
    v1::LastSignIn { state: state.into(), at }
}

fn last_sign_in_from_proto(message: v1::LastSignIn) -> Result<LastSignIn, ConvertError> {
    let state = enum_from_proto(message.state, "state")?;
    let unexpected_at = |reason| Err(ConvertError::Unexpected { field: "at".to_owned(), reason });
    match (state, message.at) {
        (v1::SignInState::Unspecified, _) => Err(ConvertError::missing("state")),
        (v1::SignInState::Recorded, Some(at)) => {
            Ok(LastSignIn::At(timestamp_from_proto(at, "at")?))
        }
        (v1::SignInState::Recorded, None) => Err(ConvertError::missing("at")),
        (v1::SignInState::Never, None) => Ok(LastSignIn::Never),
        (v1::SignInState::Never, Some(_)) => unexpected_at("the state is SIGN_IN_STATE_NEVER"),
        (v1::SignInState::Unknown, None) => Ok(LastSignIn::Unknown),
        (v1::SignInState::Unknown, Some(_)) => unexpected_at("the state is SIGN_IN_STATE_UNKNOWN"),
    }
}

fn manager_to_proto(manager: &ManagerRef) -> v1::ManagerRef {
    let target = match manager {
        ManagerRef::Account(id) => v1::manager_ref::Target::AccountId(id.clone()),
        ManagerRef::EmployeeId(id) => v1::manager_ref::Target::EmployeeId(id.clone()),
    };
    v1::ManagerRef { target: Some(target) }
}

fn manager_from_proto(message: v1::ManagerRef) -> Result<ManagerRef, ConvertError> {
    match message.target {
        Some(v1::manager_ref::Target::AccountId(id)) => Ok(ManagerRef::Account(id)),
        Some(v1::manager_ref::Target::EmployeeId(id)) => Ok(ManagerRef::EmployeeId(id)),
        None => Err(ConvertError::missing("target")),
    }
}

fn marker_to_proto(marker: &AccountMarker) -> v1::AccountMarker {
    let (kind, rid) = match marker {
        AccountMarker::AdAdminCount => (v1::AccountMarkerKind::AdAdminCount, None),
        AccountMarker::AdPrivilegedRid(rid) => (v1::AccountMarkerKind::AdPrivilegedRid, Some(*rid)),
        AccountMarker::EntraReportIsAdmin => (v1::AccountMarkerKind::EntraReportIsAdmin, None),
    };
    v1::AccountMarker { kind: kind.into(), rid }
}

fn marker_from_proto(message: v1::AccountMarker) -> Result<AccountMarker, ConvertError> {
    let kind = enum_from_proto(message.kind, "kind")?;
    let unexpected_rid = Err(ConvertError::Unexpected {
        field: "rid".to_owned(),
        reason: "the marker kind is not ACCOUNT_MARKER_KIND_AD_PRIVILEGED_RID",
    });
    match (kind, message.rid) {
        (v1::AccountMarkerKind::Unspecified, _) => Err(ConvertError::missing("kind")),
        (v1::AccountMarkerKind::AdPrivilegedRid, Some(rid)) => {
            Ok(AccountMarker::AdPrivilegedRid(rid))
        }
        (v1::AccountMarkerKind::AdPrivilegedRid, None) => Err(ConvertError::missing("rid")),
        (v1::AccountMarkerKind::AdAdminCount, None) => Ok(AccountMarker::AdAdminCount),
        (v1::AccountMarkerKind::EntraReportIsAdmin, None) => Ok(AccountMarker::EntraReportIsAdmin),
        (
            v1::AccountMarkerKind::AdAdminCount | v1::AccountMarkerKind::EntraReportIsAdmin,
            Some(_),
        ) => unexpected_rid,
    }
}

fn epcs_to_proto(epcs: EpcsStatus) -> v1::EpcsStatus {
    match epcs {
        EpcsStatus::Enabled => v1::EpcsStatus::Enabled,
        EpcsStatus::Pending => v1::EpcsStatus::Pending,
        EpcsStatus::Disabled => v1::EpcsStatus::Disabled,
    }
}

fn epcs_from_proto(value: i32) -> Result<EpcsStatus, ConvertError> {
    match enum_from_proto(value, "epcs")? {
        v1::EpcsStatus::Unspecified => Err(ConvertError::missing("epcs")),
        v1::EpcsStatus::Enabled => Ok(EpcsStatus::Enabled),
        v1::EpcsStatus::Pending => Ok(EpcsStatus::Pending),
        v1::EpcsStatus::Disabled => Ok(EpcsStatus::Disabled),
    }
}

//! The JSON form of accounts, one element of a snapshot's `accounts` array.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rollcall_core::model::{
    Account, AccountKind, AccountMarker, AccountStatus, EpcsStatus, LastSignIn, ManagerRef,
};
use serde::{Deserialize, Serialize};

use super::auth::AuthMethodJson;

/// [`Account`] as stored. Absent optional fields are left out to keep large snapshots
/// small. `auth_methods` keeps the difference between "no MFA data" (absent) and "no
/// methods" (an empty array).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AccountJson {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sam_account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    employee_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department: Option<String>,
    kind: AccountKindJson,
    status: AccountStatusJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<DateTime<Utc>>,
    last_sign_in: LastSignInJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    manager: Option<ManagerJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_methods: Option<Vec<AuthMethodJson>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    markers: Vec<MarkerJson>,
    #[serde(default)]
    is_provider: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    npi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epcs: Option<EpcsJson>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AccountKindJson {
    Member,
    Guest,
    Service,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AccountStatusJson {
    Enabled,
    Disabled,
    Unknown,
}

/// [`LastSignIn`]: `{"state": "at", "at": "..."}`, `{"state": "never"}` or
/// `{"state": "unknown"}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum LastSignInJson {
    At { at: DateTime<Utc> },
    Never,
    Unknown,
}

/// [`ManagerRef`]: `{"account": "..."}` or `{"employee_id": "..."}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ManagerJson {
    Account(String),
    EmployeeId(String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum MarkerJson {
    AdAdminCount,
    AdPrivilegedRid { rid: u32 },
    EntraReportIsAdmin,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum EpcsJson {
    Enabled,
    Pending,
    Disabled,
}

impl From<&Account> for AccountJson {
    fn from(account: &Account) -> Self {
        Self {
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
            kind: match account.kind {
                AccountKind::Member => AccountKindJson::Member,
                AccountKind::Guest => AccountKindJson::Guest,
                AccountKind::Service => AccountKindJson::Service,
            },
            status: match account.status {
                AccountStatus::Enabled => AccountStatusJson::Enabled,
                AccountStatus::Disabled => AccountStatusJson::Disabled,
                AccountStatus::Unknown => AccountStatusJson::Unknown,
            },
            status_raw: account.status_raw.clone(),
            status_since: account.status_since,
            created_at: account.created_at,
            last_sign_in: match account.last_sign_in {
                LastSignIn::At(at) => LastSignInJson::At { at },
                LastSignIn::Never => LastSignInJson::Never,
                LastSignIn::Unknown => LastSignInJson::Unknown,
            },
            manager: account.manager.as_ref().map(|manager| match manager {
                ManagerRef::Account(id) => ManagerJson::Account(id.clone()),
                ManagerRef::EmployeeId(id) => ManagerJson::EmployeeId(id.clone()),
            }),
            auth_methods: account
                .auth_methods
                .as_ref()
                .map(|methods| methods.iter().map(AuthMethodJson::from).collect()),
            markers: account.markers.iter().map(MarkerJson::from).collect(),
            is_provider: account.is_provider,
            npi: account.npi.clone(),
            epcs: account.epcs.map(|epcs| match epcs {
                EpcsStatus::Enabled => EpcsJson::Enabled,
                EpcsStatus::Pending => EpcsJson::Pending,
                EpcsStatus::Disabled => EpcsJson::Disabled,
            }),
            attributes: account.attributes.clone(),
        }
    }
}

impl From<AccountJson> for Account {
    fn from(json: AccountJson) -> Self {
        Self {
            id: json.id,
            login: json.login,
            upn: json.upn,
            sam_account_name: json.sam_account_name,
            email: json.email,
            employee_id: json.employee_id,
            sid: json.sid,
            display_name: json.display_name,
            given_name: json.given_name,
            family_name: json.family_name,
            job_title: json.job_title,
            department: json.department,
            kind: match json.kind {
                AccountKindJson::Member => AccountKind::Member,
                AccountKindJson::Guest => AccountKind::Guest,
                AccountKindJson::Service => AccountKind::Service,
            },
            status: match json.status {
                AccountStatusJson::Enabled => AccountStatus::Enabled,
                AccountStatusJson::Disabled => AccountStatus::Disabled,
                AccountStatusJson::Unknown => AccountStatus::Unknown,
            },
            status_raw: json.status_raw,
            status_since: json.status_since,
            created_at: json.created_at,
            last_sign_in: match json.last_sign_in {
                LastSignInJson::At { at } => LastSignIn::At(at),
                LastSignInJson::Never => LastSignIn::Never,
                LastSignInJson::Unknown => LastSignIn::Unknown,
            },
            manager: json.manager.map(|manager| match manager {
                ManagerJson::Account(id) => ManagerRef::Account(id),
                ManagerJson::EmployeeId(id) => ManagerRef::EmployeeId(id),
            }),
            auth_methods: json
                .auth_methods
                .map(|methods| methods.into_iter().map(Into::into).collect()),
            markers: json.markers.into_iter().map(Into::into).collect(),
            is_provider: json.is_provider,
            npi: json.npi,
            epcs: json.epcs.map(|epcs| match epcs {
                EpcsJson::Enabled => EpcsStatus::Enabled,
                EpcsJson::Pending => EpcsStatus::Pending,
                EpcsJson::Disabled => EpcsStatus::Disabled,
            }),
            attributes: json.attributes,
        }
    }
}

impl From<&AccountMarker> for MarkerJson {
    fn from(marker: &AccountMarker) -> Self {
        match marker {
            AccountMarker::AdAdminCount => Self::AdAdminCount,
            AccountMarker::AdPrivilegedRid(rid) => Self::AdPrivilegedRid { rid: *rid },
            AccountMarker::EntraReportIsAdmin => Self::EntraReportIsAdmin,
        }
    }
}

impl From<MarkerJson> for AccountMarker {
    fn from(json: MarkerJson) -> Self {
        match json {
            MarkerJson::AdAdminCount => Self::AdAdminCount,
            MarkerJson::AdPrivilegedRid { rid } => Self::AdPrivilegedRid(rid),
            MarkerJson::EntraReportIsAdmin => Self::EntraReportIsAdmin,
        }
    }
}

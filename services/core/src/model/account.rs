//! Accounts: one login in one source, with the facts the rules read.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::auth::AuthMethod;
use super::source::SourceId;

/// Whether the source lets the account sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountStatus {
    /// The account can sign in.
    Enabled,
    /// Disabled, blocked, suspended, end-dated or deleted: the account cannot sign in.
    Disabled,
    /// The export does not say.
    Unknown,
}

/// What kind of principal the account is, as far as the source says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountKind {
    /// A workforce member of the tenant.
    Member,
    /// An external user invited into the tenant (Entra `userType` Guest).
    Guest,
    /// A service, application or system account.
    Service,
}

/// When the account last signed in.
///
/// `Unknown` and `Never` differ: a source without sign-in data (Entra without a premium
/// licence, an EHR export without a last-login column) says nothing about dormancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastSignIn {
    /// The last successful or attempted sign-in the source recorded.
    At(DateTime<Utc>),
    /// The source records sign-ins and has none for this account.
    Never,
    /// The source does not provide sign-in times for this account.
    Unknown,
}

/// A reference to a person's manager, as the source writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ManagerRef {
    /// The manager's account id in the same source (Entra object id, LDAP DN, EHR user id).
    Account(String),
    /// The manager's HR employee id.
    EmployeeId(String),
}

/// A fact from the source that marks the account itself as privileged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountMarker {
    /// Active Directory `adminCount=1`: the account was in a protected group at some point.
    /// It is not cleared when membership ends, so it is a marker, not proof.
    AdAdminCount,
    /// The account's security identifier ends in a privileged well-known RID (500, 502).
    AdPrivilegedRid(u32),
    /// The Entra registration report says `isAdmin: true`.
    EntraReportIsAdmin,
}

/// Electronic prescribing of controlled substances, from an EHR's provider record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EpcsStatus {
    /// The prescriber may sign controlled-substance prescriptions.
    Enabled,
    /// Enrolment started and waits for approval.
    Pending,
    /// Not enrolled.
    Disabled,
}

/// One login in one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// The source's stable id for the account: Entra object id, AD `objectGUID` (or the DN
    /// where a directory has none), EHR user id.
    pub id: String,
    /// What the person types to sign in: UPN, `sAMAccountName`, `uid` or EHR login.
    pub login: Option<String>,
    /// Entra or AD user principal name.
    pub upn: Option<String>,
    /// AD `sAMAccountName`.
    pub sam_account_name: Option<String>,
    /// The primary e-mail address.
    pub email: Option<String>,
    /// The HR employee id the source carries (Entra `employeeId`, AD `employeeID`).
    pub employee_id: Option<String>,
    /// AD `objectSid` in its string form, or an EHR column that stores it.
    pub sid: Option<String>,
    /// The name shown to people.
    pub display_name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Job title as the source records it.
    pub job_title: Option<String>,
    /// Department as the source records it.
    pub department: Option<String>,
    /// Member, guest or service account.
    pub kind: AccountKind,
    /// Whether the account can sign in.
    pub status: AccountStatus,
    /// The source's own words for the status (`Blocked: Y`, `userAccountControl: 514`).
    pub status_raw: Option<String>,
    /// When the account was disabled, where the source records it.
    pub status_since: Option<DateTime<Utc>>,
    /// When the account was created in the source.
    pub created_at: Option<DateTime<Utc>>,
    /// The last sign-in.
    pub last_sign_in: LastSignIn,
    /// The person's manager, if the source records one.
    pub manager: Option<ManagerRef>,
    /// Registered authentication methods, or `None` when the source provides no MFA data
    /// for this account. `Some(vec![])` means the source reported no methods at all.
    pub auth_methods: Option<Vec<AuthMethod>>,
    /// Source facts that mark this account privileged.
    pub markers: Vec<AccountMarker>,
    /// Whether the account belongs to a clinical provider (an EHR provider record link).
    pub is_provider: bool,
    /// The provider's NPI, as exported (not validated).
    pub npi: Option<String>,
    /// Controlled-substance prescribing status, where the EHR exports it.
    pub epcs: Option<EpcsStatus>,
    /// Raw source values kept as evidence, by the source's own attribute or column name.
    pub attributes: BTreeMap<String, String>,
}

impl Account {
    /// Creates an enabled member account with nothing else known.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            login: None,
            upn: None,
            sam_account_name: None,
            email: None,
            employee_id: None,
            sid: None,
            display_name: None,
            given_name: None,
            family_name: None,
            job_title: None,
            department: None,
            kind: AccountKind::Member,
            status: AccountStatus::Enabled,
            status_raw: None,
            status_since: None,
            created_at: None,
            last_sign_in: LastSignIn::Unknown,
            manager: None,
            auth_methods: None,
            markers: Vec::new(),
            is_provider: false,
            npi: None,
            epcs: None,
            attributes: BTreeMap::new(),
        }
    }

    /// Returns the status as evidence: the source's own words where the export has them,
    /// else `enabled`, `disabled` or `unknown`.
    pub fn status_text(&self) -> String {
        if let Some(raw) = self.status_raw.as_deref() {
            return raw.to_owned();
        }
        match self.status {
            AccountStatus::Enabled => "enabled".into(),
            AccountStatus::Disabled => "disabled".into(),
            AccountStatus::Unknown => "unknown".into(),
        }
    }

    /// The best name for people: display name, then given and family name, then login, then id.
    pub fn label(&self) -> String {
        if let Some(name) = self.display_name.as_deref().filter(|n| !n.trim().is_empty()) {
            return name.to_owned();
        }
        match (self.given_name.as_deref(), self.family_name.as_deref()) {
            (Some(given), Some(family)) => return format!("{given} {family}"),
            (None, Some(name)) | (Some(name), None) => return name.to_owned(),
            (None, None) => {}
        }
        self.login.clone().unwrap_or_else(|| self.id.clone())
    }
}

/// A reference to one account of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountRef {
    /// The source that holds the account.
    pub source: SourceId,
    /// The account's id in that source.
    pub id: String,
}

impl std::fmt::Display for AccountRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.source, self.id)
    }
}

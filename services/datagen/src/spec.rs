//! A synthetic tenant, described source-neutrally; the writers turn it into export files.

use chrono::{DateTime, Utc};

/// When the last sign-in was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// This many days before the reference instant.
    DaysAgo(i64),
    /// Never signed in.
    Never,
}

/// A registered authentication method, named as Graph names the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `passwordAuthenticationMethod`.
    Password,
    /// `emailAuthenticationMethod`.
    Email,
    /// `phoneAuthenticationMethod`, mobile.
    MobilePhone,
    /// `phoneAuthenticationMethod`, office (voice).
    OfficePhone,
    /// `microsoftAuthenticatorAuthenticationMethod`.
    Authenticator,
    /// `fido2AuthenticationMethod`.
    Fido2,
    /// `windowsHelloForBusinessAuthenticationMethod`.
    WindowsHello,
    /// `softwareOathAuthenticationMethod`.
    SoftwareOath,
    /// A method type newer than Rollcall.
    Future,
}

/// How an account's methods reach Rollcall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodsFrom {
    /// The bulk registration report.
    Report,
    /// A saved `users/{id}/authentication/methods` response.
    PerUser,
}

/// An Entra user account.
#[derive(Debug, Clone)]
pub struct EntraUser {
    /// Object id (a GUID).
    pub id: String,
    /// User principal name.
    pub upn: String,
    /// `accountEnabled`.
    pub enabled: bool,
    /// Write `employeeId`.
    pub with_employee_id: bool,
    /// A guest (`userType: Guest`).
    pub guest: bool,
    /// The last sign-in.
    pub sign_in: SignIn,
    /// Days since creation.
    pub created_days_ago: i64,
    /// Registered methods.
    pub methods: Vec<Method>,
    /// Where the methods come from.
    pub methods_from: MethodsFrom,
    /// Group display names.
    pub groups: Vec<String>,
    /// Directory role template ids held actively.
    pub roles: Vec<String>,
    /// Directory role template ids held as PIM eligibility.
    pub eligible_roles: Vec<String>,
}

/// An Active Directory user account.
#[derive(Debug, Clone)]
pub struct AdUser {
    /// The common name, when the full name would repeat another person's DN.
    pub cn: Option<String>,
    /// `sAMAccountName`.
    pub sam: String,
    /// Not disabled in `userAccountControl`.
    pub enabled: bool,
    /// Write `employeeID`.
    pub with_employee_id: bool,
    /// Group common names.
    pub groups: Vec<String>,
    /// `adminCount: 1`.
    pub admin_count: bool,
    /// The RID of the account's SID.
    pub rid: u32,
}

/// An athenahealth user.
#[derive(Debug, Clone)]
pub struct AthenaUser {
    /// Username (login).
    pub username: String,
    /// Roles per practice id.
    pub roles: Vec<(String, Vec<String>)>,
    /// Blocked.
    pub blocked: bool,
    /// Write `Other ID` (the employee id).
    pub with_employee_id: bool,
    /// Write the work e-mail.
    pub with_email: bool,
    /// The last login; `None` leaves the cell empty.
    pub last_login: Option<SignIn>,
    /// Provider NPI and EPCS status, for providers.
    pub provider: Option<(String, String)>,
    /// Position, as athenahealth's profile shows it.
    pub position: String,
}

/// Employment status in the HR roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Employment {
    /// Active.
    Active,
    /// On leave.
    Leave,
    /// Terminated this many hours before the reference instant.
    TerminatedHoursAgo(i64),
}

/// One person, with the accounts they have.
#[derive(Debug, Clone)]
pub struct Person {
    /// HR employee id; `None` for people HR does not know.
    pub employee_id: Option<String>,
    /// The local part of the work e-mail, when `given.family` would collide.
    pub handle: Option<String>,
    /// Given name.
    pub given: String,
    /// Family name.
    pub family: String,
    /// Job title.
    pub title: String,
    /// Department.
    pub department: String,
    /// Work location.
    pub location: String,
    /// Employment.
    pub employment: Employment,
    /// The manager's employee id.
    pub manager: Option<String>,
    /// Days since hire.
    pub hired_days_ago: i64,
    /// Entra account.
    pub entra: Option<EntraUser>,
    /// AD account.
    pub ad: Option<AdUser>,
    /// athenahealth account.
    pub athena: Option<AthenaUser>,
}

impl Person {
    /// `given.family` in lowercase ASCII, for logins and e-mail.
    pub fn handle(&self) -> String {
        self.handle
            .clone()
            .unwrap_or_else(|| format!("{}.{}", ascii(&self.given), ascii(&self.family)))
    }

    /// The full name.
    pub fn name(&self) -> String {
        format!("{} {}", self.given, self.family)
    }
}

/// Lowercase ASCII letters of `text`, accents dropped for the few letters the example uses.
pub fn ascii(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => Some('a'),
            'é' | 'è' | 'ë' | 'ê' => Some('e'),
            'í' | 'ï' => Some('i'),
            'ó' | 'ö' | 'ô' => Some('o'),
            'ú' | 'ü' => Some('u'),
            'ñ' => Some('n'),
            'ç' => Some('c'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// A whole synthetic tenant.
#[derive(Debug, Clone)]
pub struct TenantSpec {
    /// Tenant id.
    pub id: String,
    /// Practice name.
    pub name: String,
    /// E-mail domain.
    pub domain: String,
    /// AD domain SID prefix (`S-1-5-21-a-b-c`).
    pub domain_sid: String,
    /// AD base DN.
    pub base_dn: String,
    /// The instant relative times are computed from.
    pub reference: DateTime<Utc>,
    /// Entra groups: display name and whether security-enabled.
    pub entra_groups: Vec<String>,
    /// AD groups: common name and, for built-in ones, the RID.
    pub ad_groups: Vec<(String, Option<u32>)>,
    /// AD nested groups: (child, parent).
    pub ad_nesting: Vec<(String, String)>,
    /// athenahealth practices: (practice id, department name).
    pub practices: Vec<(String, String)>,
    /// Methods enabled in the Entra authentication methods policy.
    pub policy_methods: Vec<(&'static str, bool)>,
    /// Everyone.
    pub people: Vec<Person>,
    /// The policy and identity sections of tenant.yaml, as YAML text.
    pub policy_yaml: String,
}

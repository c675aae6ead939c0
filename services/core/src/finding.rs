//! Findings: rule violations with their subject, evidence, severity and HIPAA citation.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::model::{AccountRef, SourceId};

/// How urgent a finding is, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; nothing to fix yet.
    Info,
    /// Fix in the next review.
    Low,
    /// Fix this month.
    Medium,
    /// Fix this week.
    High,
    /// Fix today.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The lowercase name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lowercase severity name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A HIPAA provision a finding supports, in 45 CFR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Citation {
    /// The section and paragraph, such as `164.312(d)`.
    pub section: &'static str,
    /// The provision's title in the regulation.
    pub title: &'static str,
}

const UNIQUE_USER_ID: Citation =
    Citation { section: "164.312(a)(2)(i)", title: "Unique user identification" };
const AUTHENTICATION: Citation =
    Citation { section: "164.312(d)", title: "Person or entity authentication" };
const ACCESS_AUTHORIZATION: Citation =
    Citation { section: "164.308(a)(4)(ii)(B)", title: "Access authorization" };
const ACCESS_MODIFICATION: Citation =
    Citation { section: "164.308(a)(4)(ii)(C)", title: "Access establishment and modification" };
const MINIMUM_NECESSARY: Citation = Citation {
    section: "164.514(d)(2)",
    title: "Minimum necessary: uses of protected health information by the workforce",
};
const TERMINATION: Citation =
    Citation { section: "164.308(a)(3)(ii)(C)", title: "Termination procedures" };
const ACTIVITY_REVIEW: Citation =
    Citation { section: "164.308(a)(1)(ii)(D)", title: "Information system activity review" };

/// The stable kinds of finding. Their names are part of the report schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// An account matches several people and was not linked to any.
    IdentityAmbiguous,
    /// A privileged person has SMS or voice registered.
    MfaPrivilegedPhone,
    /// A privileged person has a method weaker than phishing-resistant, or none.
    MfaPrivilegedNotPhishingResistant,
    /// No second factor registered.
    MfaNone,
    /// Only SMS, voice or other weak second factors registered.
    MfaWeakOnly,
    /// A method type Rollcall does not know.
    MfaUnrecognizedMethod,
    /// SMS or voice is enabled tenant-wide while privileged accounts exist.
    MfaPolicyPhoneEnabled,
    /// A grant no baseline of the person's job roles covers.
    GrantOutsideBaseline,
    /// A person holds both sides of a separation-of-duties rule.
    SodConflict,
    /// A privileged grant held by someone whose job roles are not privileged.
    PrivilegedWithoutRole,
    /// A grant few peers with the same job role hold.
    PeerOutlier,
    /// A person with access but no job role, so drift cannot be assessed.
    JobRoleUnknown,
    /// No sign-in for longer than the dormancy threshold.
    DormantAccount,
    /// Never signed in, and older than the dormancy threshold or of unknown age.
    NeverSignedIn,
    /// Enabled in one source and disabled in another for a person still employed.
    StatusMismatch,
    /// An enabled account no HR worker accounts for.
    OrphanAccount,
    /// A shared or generic login.
    GenericAccount,
    /// A disabled account that still holds grants.
    DisabledWithGrants,
    /// A terminated worker's account is still enabled, before the deadline.
    TerminatedActive,
    /// A terminated worker's account is still enabled after the deadline.
    DeprovisionOverdue,
    /// A source provides no sign-in times, so dormancy cannot be checked there.
    SigninDataMissing,
    /// Pipeline kind: a message for the tenant could not be processed and went to the
    /// dead-letter stream, so the stored data may miss a change.
    PipelineDeadLetter,
    /// Pipeline kind: the latest sync of a source failed, so the stored data of that
    /// source may be out of date.
    SourceSyncFailed,
    /// A grant revoked in an access review is still present in its source after the
    /// tenant's verification window.
    RevocationUnverified,
    /// A grant revoked in an access review, and seen gone, is present again.
    RevokedGrantReturned,
}

impl FindingKind {
    /// Every kind, in report order.
    pub const ALL: [FindingKind; 25] = [
        FindingKind::IdentityAmbiguous,
        FindingKind::MfaPrivilegedPhone,
        FindingKind::MfaPrivilegedNotPhishingResistant,
        FindingKind::MfaNone,
        FindingKind::MfaWeakOnly,
        FindingKind::MfaUnrecognizedMethod,
        FindingKind::MfaPolicyPhoneEnabled,
        FindingKind::GrantOutsideBaseline,
        FindingKind::SodConflict,
        FindingKind::PrivilegedWithoutRole,
        FindingKind::PeerOutlier,
        FindingKind::JobRoleUnknown,
        FindingKind::DormantAccount,
        FindingKind::NeverSignedIn,
        FindingKind::StatusMismatch,
        FindingKind::OrphanAccount,
        FindingKind::GenericAccount,
        FindingKind::DisabledWithGrants,
        FindingKind::TerminatedActive,
        FindingKind::DeprovisionOverdue,
        FindingKind::SigninDataMissing,
        FindingKind::PipelineDeadLetter,
        FindingKind::SourceSyncFailed,
        FindingKind::RevocationUnverified,
        FindingKind::RevokedGrantReturned,
    ];

    /// Returns whether the engine raises this kind about its own pipeline rather than a
    /// rule about the tenant's data. `evaluate` never produces a pipeline kind, so a scan
    /// of exported files never reports one.
    pub fn is_pipeline(self) -> bool {
        matches!(self, FindingKind::PipelineDeadLetter | FindingKind::SourceSyncFailed)
    }

    /// Returns whether only the engine can raise this kind, from what the store keeps
    /// between syncs: the pipeline kinds, and the follow-up of revoked review grants.
    /// A scan of exported files never reports one.
    pub fn needs_store(self) -> bool {
        self.is_pipeline()
            || matches!(self, FindingKind::RevocationUnverified | FindingKind::RevokedGrantReturned)
    }

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::IdentityAmbiguous => "identity_ambiguous",
            FindingKind::MfaPrivilegedPhone => "mfa_privileged_phone",
            FindingKind::MfaPrivilegedNotPhishingResistant => {
                "mfa_privileged_not_phishing_resistant"
            }
            FindingKind::MfaNone => "mfa_none",
            FindingKind::MfaWeakOnly => "mfa_weak_only",
            FindingKind::MfaUnrecognizedMethod => "mfa_unrecognized_method",
            FindingKind::MfaPolicyPhoneEnabled => "mfa_policy_phone_enabled",
            FindingKind::GrantOutsideBaseline => "grant_outside_baseline",
            FindingKind::SodConflict => "sod_conflict",
            FindingKind::PrivilegedWithoutRole => "privileged_without_role",
            FindingKind::PeerOutlier => "peer_outlier",
            FindingKind::JobRoleUnknown => "job_role_unknown",
            FindingKind::DormantAccount => "dormant_account",
            FindingKind::NeverSignedIn => "never_signed_in",
            FindingKind::StatusMismatch => "status_mismatch",
            FindingKind::OrphanAccount => "orphan_account",
            FindingKind::GenericAccount => "generic_account",
            FindingKind::DisabledWithGrants => "disabled_with_grants",
            FindingKind::TerminatedActive => "terminated_active",
            FindingKind::DeprovisionOverdue => "deprovision_overdue",
            FindingKind::SigninDataMissing => "signin_data_missing",
            FindingKind::PipelineDeadLetter => "pipeline_dead_letter",
            FindingKind::SourceSyncFailed => "source_sync_failed",
            FindingKind::RevocationUnverified => "revocation_unverified",
            FindingKind::RevokedGrantReturned => "revoked_grant_returned",
        }
    }

    /// Parses a snake_case kind name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The HIPAA provision the finding supports.
    pub fn citation(self) -> Citation {
        match self {
            FindingKind::IdentityAmbiguous
            | FindingKind::OrphanAccount
            | FindingKind::GenericAccount => UNIQUE_USER_ID,
            FindingKind::MfaPrivilegedPhone
            | FindingKind::MfaPrivilegedNotPhishingResistant
            | FindingKind::MfaNone
            | FindingKind::MfaWeakOnly
            | FindingKind::MfaUnrecognizedMethod
            | FindingKind::MfaPolicyPhoneEnabled => AUTHENTICATION,
            FindingKind::GrantOutsideBaseline
            | FindingKind::PeerOutlier
            | FindingKind::JobRoleUnknown => MINIMUM_NECESSARY,
            FindingKind::SodConflict
            | FindingKind::PrivilegedWithoutRole
            | FindingKind::RevokedGrantReturned => ACCESS_AUTHORIZATION,
            FindingKind::DormantAccount
            | FindingKind::NeverSignedIn
            | FindingKind::StatusMismatch
            | FindingKind::DisabledWithGrants
            | FindingKind::RevocationUnverified => ACCESS_MODIFICATION,
            FindingKind::TerminatedActive | FindingKind::DeprovisionOverdue => TERMINATION,
            FindingKind::SigninDataMissing
            | FindingKind::PipelineDeadLetter
            | FindingKind::SourceSyncFailed => ACTIVITY_REVIEW,
        }
    }

    /// What to do about it, in one sentence.
    pub fn remediation(self) -> &'static str {
        match self {
            FindingKind::IdentityAmbiguous => {
                "Link the account to the right person with a manual link in tenant.yaml, or fix the duplicated employee id, e-mail or login in the source."
            }
            FindingKind::MfaPrivilegedPhone => {
                "Remove SMS and voice methods from this person's accounts and register a FIDO2 key, passkey or Windows Hello for Business."
            }
            FindingKind::MfaPrivilegedNotPhishingResistant => {
                "Register a phishing-resistant method (FIDO2 key, passkey, Windows Hello for Business) and remove the weaker ones."
            }
            FindingKind::MfaNone => {
                "Have the person register Microsoft Authenticator or a passkey, and require MFA for every sign-in."
            }
            FindingKind::MfaWeakOnly => {
                "Have the person register Microsoft Authenticator or a passkey, then remove the phone method."
            }
            FindingKind::MfaUnrecognizedMethod => {
                "Check what this method type is; upgrade Rollcall if it is a new Microsoft method."
            }
            FindingKind::MfaPolicyPhoneEnabled => {
                "Disable SMS and voice in the authentication methods policy, or at least exclude privileged users from them."
            }
            FindingKind::GrantOutsideBaseline => {
                "Remove the grant, or add it to the job role's baseline if the role really needs it."
            }
            FindingKind::SodConflict => {
                "Remove one side of the conflict, or record a documented exception approved by the security officer."
            }
            FindingKind::PrivilegedWithoutRole => {
                "Remove the privileged grant, or assign a job role that needs it."
            }
            FindingKind::PeerOutlier => {
                "Confirm with the manager that this person needs the grant; remove it otherwise."
            }
            FindingKind::JobRoleUnknown => {
                "Give the person a job title the policy maps to a role, or assign a role in tenant.yaml."
            }
            FindingKind::DormantAccount => {
                "Disable the account, or confirm with the manager that it is still needed."
            }
            FindingKind::NeverSignedIn => {
                "Disable the account if nobody needs it; otherwise confirm who will use it."
            }
            FindingKind::StatusMismatch => {
                "Find out why the account is disabled in one source and enabled in the other, and align them."
            }
            FindingKind::OrphanAccount => {
                "Find the person who uses the account and add them to HR or link it; disable it if nobody does."
            }
            FindingKind::GenericAccount => {
                "Replace the shared account with personal accounts so every action is traceable to one person."
            }
            FindingKind::DisabledWithGrants => {
                "Remove the roles of the disabled account so that re-enabling it does not restore access."
            }
            FindingKind::TerminatedActive => "Disable the account before the deadline.",
            FindingKind::DeprovisionOverdue => {
                "Disable the account now and record why the deadline was missed."
            }
            FindingKind::SigninDataMissing => {
                "Export sign-in times (Entra signInActivity needs a P1 or P2 licence; add the last-login column to EHR exports)."
            }
            FindingKind::PipelineDeadLetter => {
                "Read the dead letter's reason, fix the connector or the export, and publish the source again."
            }
            FindingKind::SourceSyncFailed => {
                "Read the sync report's problems, fix the file or the connection it names, and sync again."
            }
            FindingKind::RevocationUnverified => {
                "Remove the grant in its source, or find out why the removal did not reach the latest sync."
            }
            FindingKind::RevokedGrantReturned => {
                "Find out who gave the grant back and remove it, or record the new approval in a review."
            }
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An identity as a finding names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySubject {
    /// The identity key (`hr:E1001`, or `account:ldap/<id>` for people HR does not know).
    pub key: String,
    /// The person's name.
    pub name: String,
    /// The HR employee id.
    pub employee_id: Option<String>,
}

/// An account as a finding names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSubject {
    /// Which account.
    pub account: AccountRef,
    /// Its login.
    pub login: Option<String>,
    /// Its display name.
    pub name: String,
}

/// An entitlement as a finding names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementSubject {
    /// The source that holds it.
    pub source: SourceId,
    /// Its id in that source.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// What a finding is about. At least one part is set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subject {
    /// The person.
    pub identity: Option<IdentitySubject>,
    /// The account.
    pub account: Option<AccountSubject>,
    /// The entitlement.
    pub entitlement: Option<EntitlementSubject>,
    /// The source, for tenant-wide findings about one source.
    pub source: Option<SourceId>,
}

impl Subject {
    /// A stable key for the subject, used in the finding id.
    pub fn key(&self) -> String {
        let mut parts = Vec::new();
        if let Some(identity) = &self.identity {
            parts.push(format!("identity={}", identity.key));
        }
        if let Some(account) = &self.account {
            parts.push(format!("account={}", account.account));
        }
        if let Some(entitlement) = &self.entitlement {
            parts.push(format!("entitlement={}/{}", entitlement.source, entitlement.id));
        }
        if let Some(source) = &self.source {
            parts.push(format!("source={source}"));
        }
        parts.join(";")
    }
}

/// Formats an instant for evidence: RFC 3339 in UTC with a `Z`, as the report's own
/// timestamps are.
pub fn timestamp(instant: chrono::DateTime<chrono::Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One fact that caused a finding: a value in a source record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The source the value comes from; `None` for values from the policy or HR settings.
    pub source: Option<SourceId>,
    /// The record: an account, an entitlement, an HR worker, a policy entry.
    pub record: String,
    /// The field or attribute name.
    pub field: String,
    /// The value as the source holds it.
    pub value: String,
}

impl Evidence {
    /// Creates an evidence item.
    pub fn new(
        source: Option<&SourceId>,
        record: impl Into<String>,
        field: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        Self {
            source: source.cloned(),
            record: record.into(),
            field: field.into(),
            value: value.into(),
        }
    }
}

/// A rule violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A stable id: the same tenant, kind, subject and detail give the same id on every
    /// run, so the engine can tell opened from resolved findings.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// The rule.
    pub kind: FindingKind,
    /// How urgent.
    pub severity: Severity,
    /// What it is about.
    pub subject: Subject,
    /// One sentence for people.
    pub summary: String,
    /// The source values that caused it.
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// Creates a finding. `detail` tells apart findings of one kind on one subject (the
    /// name of a separation-of-duties rule, an unrecognised method type); it is part of
    /// the id.
    pub fn new(
        tenant: &str,
        kind: FindingKind,
        severity: Severity,
        subject: Subject,
        detail: &str,
        summary: String,
        evidence: Vec<Evidence>,
    ) -> Self {
        let mut hasher = Sha256::new();
        for part in [tenant, kind.as_str(), &subject.key(), detail] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        let digest = hasher.finalize();
        let id = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Self { id, tenant: tenant.to_owned(), kind, severity, subject, summary, evidence }
    }

    /// The HIPAA provision the finding supports.
    pub fn citation(&self) -> Citation {
        self.kind.citation()
    }

    /// What to do about it.
    pub fn remediation(&self) -> &'static str {
        self.kind.remediation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in FindingKind::ALL {
            assert_eq!(FindingKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn finding_id_is_stable_and_distinct() {
        let subject = Subject { source: Some(SourceId::entra()), ..Subject::default() };
        let make = |detail: &str| {
            Finding::new(
                "t1",
                FindingKind::SigninDataMissing,
                Severity::Info,
                subject.clone(),
                detail,
                String::new(),
                Vec::new(),
            )
        };
        assert_eq!(make("a").id, make("a").id);
        assert_ne!(make("a").id, make("b").id);
        assert_eq!(make("a").id.len(), 32);
    }
}

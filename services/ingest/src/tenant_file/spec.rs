//! The shape of `tenant.yaml`, as serde reads it. `docs/scan-input.md` documents every
//! key with an example; unknown keys are errors.

use std::collections::BTreeMap;

use rollcall_core::policy::PolicySpec;
use serde::Deserialize;

use super::campaigns::CampaignSpec;
use crate::ehr::ProfileSpec;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    /// Who the tenant is.
    pub tenant: TenantSection,
    /// Deadlines.
    #[serde(default)]
    pub slas: SlaSection,
    /// Where the practice's people sign in to the review app.
    #[serde(default)]
    pub sign_in: Option<SignInSection>,
    /// The policy written inline.
    #[serde(default)]
    pub policy: Option<PolicySpec>,
    /// A policy file, relative to the tenant folder; several tenants can share one.
    #[serde(default)]
    pub policy_file: Option<String>,
    /// Where each source's exports are.
    #[serde(default)]
    pub sources: SourcesSection,
    /// Custom EHR export profiles, by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileSpec>,
    /// Overrides of identity resolution.
    #[serde(default)]
    pub identity: IdentitySection,
    /// Access-review campaign definitions.
    #[serde(default)]
    pub campaigns: Vec<CampaignSpec>,
    /// The id of the campaign definition whose reviewers, deadline and default action the
    /// event-triggered reviews use; absent when no review opens on events.
    #[serde(default)]
    pub event_reviews: Option<String>,
}

/// `tenant:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSection {
    /// The tenant id.
    pub id: String,
    /// The practice's name.
    pub name: String,
    /// An IANA time zone such as `America/Chicago`.
    pub time_zone: String,
}

/// `sign_in:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInSection {
    /// The OpenID Connect issuer URL, compared exactly with every ID token's `iss`.
    pub issuer: String,
}

/// `slas:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSection {
    /// How long after a termination every account must be disabled: a duration such as
    /// `24h`, `90m` or `2d`, or the preset `hipaa-2025-proposal` (1 hour).
    #[serde(default)]
    pub deprovision: Option<String>,
    /// How long after a review campaign closes a revoked grant may still appear in its
    /// source before it is a finding: a duration such as `72h` or `7d`.
    #[serde(default)]
    pub revocation: Option<String>,
}

/// `sources:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesSection {
    /// The folder of saved Graph responses; `entra` when the folder exists.
    #[serde(default)]
    pub entra: Option<String>,
    /// The folder of LDIF files, or one LDIF file; `ldap` when the folder exists.
    #[serde(default)]
    pub ldap: Option<String>,
    /// The HR roster CSV; `hr/roster.csv` when the file exists.
    #[serde(default)]
    pub hr: Option<String>,
    /// EHR exports.
    #[serde(default)]
    pub ehr: Vec<EhrSection>,
}

/// One EHR export entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EhrSection {
    /// The export files, relative to the tenant folder. Several files of one vendor (the
    /// athenahealth Users page and User Access by Location) make one source.
    pub files: Vec<String>,
    /// `csv` (default), `athenahealth`, `drchrono`, `fhir` or `scim`.
    #[serde(default)]
    pub format: EhrFormat,
    /// A preset (`epic`, `athenahealth`, `eclinicalworks`) or a name under `profiles:`.
    /// Required for CSV.
    #[serde(default)]
    pub profile: Option<String>,
    /// The vendor, for formats without a profile: the source is `ehr:<vendor>`.
    #[serde(default)]
    pub vendor: Option<String>,
    /// The zone of timestamps without an offset. For Epic Community Connect this is the
    /// host health system's zone, which can differ from the practice's.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// FHIR identifier systems that also hold NPIs, beside `http://hl7.org/fhir/sid/us-npi`.
    #[serde(default)]
    pub npi_systems: Vec<String>,
    /// Column renames applied to the profile: the profile's column name, then the name the
    /// export uses (an eClinicalWorks vendor report whose headers differ per practice).
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// The format of an EHR export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EhrFormat {
    /// A CSV user export read through a profile.
    #[default]
    Csv,
    /// athenahealth's Users page and User Access by Location CSV exports, with saved
    /// providers API responses (`.json`), joined on the username. The profile defaults to
    /// `athenahealth`.
    Athenahealth,
    /// A saved set of DrChrono API responses.
    Drchrono,
    /// A FHIR R4 Bundle of Practitioner and PractitionerRole: enriches providers.
    Fhir,
    /// A SCIM 2.0 ListResponse of Users and Groups.
    Scim,
}

/// `identity:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySection {
    /// Manual links.
    #[serde(default)]
    pub links: Vec<LinkSection>,
    /// Accounts that belong to no person.
    #[serde(default)]
    pub exclusions: Vec<ExclusionSection>,
    /// Job roles by employee id.
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
}

/// One manual link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSection {
    /// The worker's employee id.
    pub employee_id: String,
    /// Accounts as `<source>/<account id>`, such as `ehr:epic/88120431`.
    pub accounts: Vec<String>,
}

/// One exclusion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionSection {
    /// The account as `<source>/<account id>`.
    pub account: String,
    /// Why it belongs to no person.
    pub reason: String,
}

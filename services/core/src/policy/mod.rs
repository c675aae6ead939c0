//! The tenant policy: role baselines, privileged entitlements, separation of duties and
//! the thresholds of the hygiene rules.
//!
//! [`PolicySpec`] is the form a security officer writes in `tenant.yaml` (or a policy
//! file); [`Policy`] is the compiled form the rules read. Every field has a default, so an
//! empty policy is valid and runs every rule that needs no baseline.

mod pattern;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use pattern::{
    EntitlementPattern, EntitlementSet, NamePattern, NameSet, PatternError, SourcePattern,
};

use crate::model::{Entitlement, SourceId, Worker};

/// Days without a sign-in after which an account is dormant, unless the policy says
/// otherwise. Ninety days is one quarter, the interval of the access reviews Rollcall runs.
pub const DEFAULT_DORMANT_DAYS: u32 = 90;

/// The policy as written in YAML.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Dormancy thresholds.
    #[serde(default)]
    pub dormancy: DormancySpec,
    /// Entitlements every person may hold whatever their job role (an all-staff group,
    /// AD's Domain Users), by source pattern.
    #[serde(default)]
    pub common_baseline: BTreeMap<String, Vec<String>>,
    /// Job roles with their baselines, by role name.
    #[serde(default)]
    pub job_roles: BTreeMap<String, JobRoleSpec>,
    /// Entitlements the tenant treats as privileged, by source pattern.
    #[serde(default)]
    pub privileged_entitlements: BTreeMap<String, Vec<String>>,
    /// Pairs of entitlement sets that one person must not hold together.
    #[serde(default)]
    pub separation_of_duties: Vec<SodSpec>,
    /// Login or name patterns of generic and shared accounts. `None` uses the defaults
    /// listed in `docs/rules.md`.
    #[serde(default)]
    pub generic_accounts: Option<Vec<String>>,
    /// Login or name patterns of service accounts: not people, so never orphans.
    #[serde(default)]
    pub service_accounts: Option<Vec<String>>,
    /// Peer-outlier thresholds.
    #[serde(default)]
    pub peer_outliers: PeerOutlierSpec,
    /// Whether an EHR account enabled for electronic prescribing of controlled substances
    /// makes its holder privileged (default true: DEA-regulated access that a stolen
    /// session can abuse).
    #[serde(default)]
    pub epcs_privileged: Option<bool>,
    /// Sources where a disabled account that still holds grants is a finding. `None`
    /// means every EHR (`ehr:*`): athenahealth, for one, tells practices to remove roles
    /// and block the user, and a blocked user with roles comes back with one click.
    #[serde(default)]
    pub disabled_with_grants: Option<Vec<String>>,
    /// The entitlement catalogue: plain names and descriptions for reviewers, by source
    /// pattern, then entitlement pattern. An entry that names one entitlement wins over a
    /// wildcard pattern, then an exact source over a source pattern, then key order.
    #[serde(default)]
    pub entitlement_catalogue: BTreeMap<String, BTreeMap<String, CatalogueEntrySpec>>,
}

/// One entry of the entitlement catalogue as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntrySpec {
    /// The name a practice manager understands (`Front desk check-in`).
    pub name: String,
    /// One sentence on what the entitlement allows.
    #[serde(default)]
    pub description: Option<String>,
    /// The person or team that answers questions about it.
    #[serde(default)]
    pub owner: Option<String>,
    /// The HR employee id of the person who owns the entitlement and reviews its grants
    /// in campaigns with `reviewers.entitlement_owner: true`.
    #[serde(default)]
    pub reviewer: Option<String>,
}

/// A compiled catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The plain name.
    pub name: String,
    /// A sentence on what the entitlement allows.
    pub description: Option<String>,
    /// The person or team that answers questions about it.
    pub owner: Option<String>,
    /// The owner's HR employee id, trimmed: the reviewer of the entitlement's grants in
    /// campaigns that route items to entitlement owners.
    pub reviewer: Option<String>,
}

/// Dormancy thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DormancySpec {
    /// Days without a sign-in after which an account is dormant.
    #[serde(default = "default_dormant_days")]
    pub days: u32,
    /// Per-source overrides, by source pattern.
    #[serde(default)]
    pub sources: BTreeMap<String, u32>,
}

fn default_dormant_days() -> u32 {
    DEFAULT_DORMANT_DAYS
}

impl Default for DormancySpec {
    fn default() -> Self {
        Self { days: DEFAULT_DORMANT_DAYS, sources: BTreeMap::new() }
    }
}

/// One job role and what it needs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRoleSpec {
    /// A sentence for reviewers.
    #[serde(default)]
    pub description: Option<String>,
    /// The HR records that have this role, by title and department.
    #[serde(default, rename = "match")]
    pub matcher: RoleMatchSpec,
    /// The entitlements the role needs, by source pattern.
    #[serde(default)]
    pub baseline: BTreeMap<String, Vec<String>>,
    /// Whether the role needs privileged access (an IT administrator, a security officer).
    #[serde(default)]
    pub privileged: bool,
    /// The second factor the role's holders must use.
    #[serde(default)]
    pub mfa: MfaRequirement,
}

/// The second factor a job role's holders must use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaRequirement {
    /// Any method stronger than SMS, voice or e-mail codes: the rule for everyone.
    #[default]
    Strong,
    /// Phishing-resistant methods only, the rule for privileged people: for roles whose
    /// stolen session is as harmful, such as prescribers of controlled substances.
    PhishingResistant,
}

impl MfaRequirement {
    /// Returns the word `policy.yaml` uses for the requirement.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strong => "strong",
            Self::PhishingResistant => "phishing_resistant",
        }
    }
}

/// Title and department globs. A role matches a worker when a title pattern matches and a
/// department pattern matches, where an empty list matches anything. A role with neither
/// list is only assigned explicitly in `tenant.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMatchSpec {
    /// Job-title patterns.
    #[serde(default)]
    pub titles: Vec<String>,
    /// Department patterns.
    #[serde(default)]
    pub departments: Vec<String>,
}

/// A separation-of-duties rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SodSpec {
    /// A short name for the rule.
    pub name: String,
    /// The reason the two must not be combined.
    #[serde(default)]
    pub description: Option<String>,
    /// One side, by source pattern.
    pub left: BTreeMap<String, Vec<String>>,
    /// The other side, by source pattern.
    pub right: BTreeMap<String, Vec<String>>,
}

/// Peer-outlier thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerOutlierSpec {
    /// Smallest peer group (identities with the same job role) the rule looks at.
    #[serde(default = "default_min_peers")]
    pub min_peers: usize,
    /// A grant held by a smaller share of the peer group than this is an outlier (0 to 1).
    #[serde(default = "default_max_share")]
    pub max_share: f64,
}

fn default_min_peers() -> usize {
    5
}

fn default_max_share() -> f64 {
    0.2
}

impl Default for PeerOutlierSpec {
    fn default() -> Self {
        Self { min_peers: default_min_peers(), max_share: default_max_share() }
    }
}

/// Logins and names that mark shared or generic accounts when the policy lists none.
pub const DEFAULT_GENERIC_ACCOUNTS: [&str; 8] = [
    "*front*desk*",
    "*frontdesk*",
    "*shared*",
    "*generic*",
    "*reception*",
    "*nurse*station*",
    "*kiosk*",
    "*temp[0-9]*",
];

/// Logins that mark service accounts when the policy lists none.
pub const DEFAULT_SERVICE_ACCOUNTS: [&str; 5] = ["svc-*", "svc_*", "svc.*", "krbtgt", "*$"];

/// A policy that cannot be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// A pattern is not a valid glob.
    #[error("in {field}: {source}")]
    Pattern {
        /// The policy key of the pattern (`job_roles.physician.baseline`).
        field: String,
        /// The glob error.
        source: PatternError,
    },
    /// A threshold is out of range.
    #[error("`{field}` is {value}; it must be {expected}")]
    OutOfRange {
        /// The setting.
        field: String,
        /// The value written.
        value: String,
        /// The accepted range.
        expected: &'static str,
    },
}

/// A compiled job role.
#[derive(Debug, Clone)]
pub struct JobRole {
    /// The role's name.
    pub name: String,
    /// A sentence for reviewers.
    pub description: Option<String>,
    titles: Vec<NamePattern>,
    departments: Vec<NamePattern>,
    /// The entitlements the role needs.
    pub baseline: EntitlementSet,
    /// Whether the role needs privileged access.
    pub privileged: bool,
    /// The second factor its holders must use.
    pub mfa: MfaRequirement,
}

impl JobRole {
    /// Checks whether the role matches this title and department.
    pub fn matches(&self, title: Option<&str>, department: Option<&str>) -> bool {
        if self.titles.is_empty() && self.departments.is_empty() {
            return false;
        }
        let title_ok = self.titles.is_empty()
            || title.is_some_and(|t| self.titles.iter().any(|p| p.matches(t)));
        let department_ok = self.departments.is_empty()
            || department.is_some_and(|d| self.departments.iter().any(|p| p.matches(d)));
        title_ok && department_ok
    }
}

/// A compiled separation-of-duties rule.
#[derive(Debug, Clone)]
pub struct SodRule {
    /// The rule's name.
    pub name: String,
    /// The reason the two sides conflict.
    pub description: Option<String>,
    /// One side.
    pub left: EntitlementSet,
    /// The other side.
    pub right: EntitlementSet,
}

/// The compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    dormant_days: u32,
    dormant_sources: Vec<(SourcePattern, u32)>,
    /// Entitlements every person may hold.
    pub common_baseline: EntitlementSet,
    /// Job roles in name order.
    pub job_roles: Vec<JobRole>,
    /// Entitlements the tenant marks privileged.
    pub privileged: EntitlementSet,
    /// Separation-of-duties rules.
    pub separation_of_duties: Vec<SodRule>,
    /// Generic and shared account patterns.
    pub generic_accounts: Vec<NamePattern>,
    /// Service account patterns.
    pub service_accounts: Vec<NamePattern>,
    /// `generic_accounts` and `service_accounts` combined for matching. NOTE: built by
    /// `compile`; a caller that edits the lists above afterwards must compile again.
    generic_set: NameSet,
    service_set: NameSet,
    /// Smallest peer group for the outlier rule.
    pub min_peers: usize,
    /// Outlier share threshold.
    pub max_peer_share: f64,
    /// Sources where disabled accounts must hold no grants.
    pub disabled_with_grants: Vec<SourcePattern>,
    /// Whether EPCS-enabled accounts are privileged.
    pub epcs_privileged: bool,
    /// The entitlement catalogue, in key order.
    catalogue: Vec<(SourcePattern, EntitlementPattern, CatalogueEntry)>,
}

fn in_field<T>(
    field: impl Into<String>,
    result: Result<T, PatternError>,
) -> Result<T, PolicyError> {
    result.map_err(|source| PolicyError::Pattern { field: field.into(), source })
}

fn names(field: &str, patterns: &[String]) -> Result<Vec<NamePattern>, PolicyError> {
    patterns.iter().map(|p| in_field(field, NamePattern::new(p))).collect()
}

/// Compiles the catalogue, naming the key of the first invalid pattern or empty name.
fn compile_catalogue(
    spec: &BTreeMap<String, BTreeMap<String, CatalogueEntrySpec>>,
) -> Result<Vec<(SourcePattern, EntitlementPattern, CatalogueEntry)>, PolicyError> {
    let mut catalogue = Vec::new();
    for (source, entries) in spec {
        let sources = in_field("entitlement_catalogue", SourcePattern::new(source))?;
        for (pattern, entry) in entries {
            let field = format!("entitlement_catalogue.{source}.{pattern}");
            let compiled = in_field(field.clone(), EntitlementPattern::new(pattern))?;
            if entry.name.trim().is_empty() {
                return Err(PolicyError::OutOfRange {
                    field: format!("{field}.name"),
                    value: "empty".into(),
                    expected: "a plain name for reviewers, such as `Front desk check-in`",
                });
            }
            let reviewer = match entry.reviewer.as_deref() {
                Some(id) => Some(check_employee_id(&format!("{field}.reviewer"), id)?),
                None => None,
            };
            let entry = CatalogueEntry {
                name: entry.name.trim().to_owned(),
                description: entry.description.clone(),
                owner: entry.owner.clone(),
                reviewer,
            };
            catalogue.push((sources.clone(), compiled, entry));
        }
    }
    Ok(catalogue)
}

/// Checks that `id`, the value of `field`, looks like an HR employee id and returns it
/// trimmed. Whether the roster lists the person is checked only at launch.
fn check_employee_id(field: &str, id: &str) -> Result<String, PolicyError> {
    let trimmed = id.trim();
    let valid = !trimmed.is_empty()
        && trimmed.chars().count() <= MAX_EMPLOYEE_ID_CHARS
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && !trimmed.to_ascii_lowercase().starts_with("hr:");
    if valid {
        return Ok(trimmed.to_owned());
    }
    Err(PolicyError::OutOfRange {
        field: field.to_owned(),
        value: format!("`{id}`"),
        expected: "an HR employee id as the roster writes it, such as `E1003`: not empty, \
                   at most 64 characters, without spaces and without the `hr:` prefix",
    })
}

/// The maximum length, in characters, of a catalogue reviewer's employee id.
const MAX_EMPLOYEE_ID_CHARS: usize = 64;

impl Policy {
    /// Compiles `spec`, naming the field of the first invalid pattern or threshold.
    pub fn compile(spec: &PolicySpec) -> Result<Self, PolicyError> {
        if !(spec.peer_outliers.max_share > 0.0 && spec.peer_outliers.max_share < 1.0) {
            return Err(PolicyError::OutOfRange {
                field: "peer_outliers.max_share".into(),
                value: spec.peer_outliers.max_share.to_string(),
                expected: "between 0 and 1, for example 0.2",
            });
        }
        if spec.peer_outliers.min_peers < 2 {
            return Err(PolicyError::OutOfRange {
                field: "peer_outliers.min_peers".into(),
                value: spec.peer_outliers.min_peers.to_string(),
                expected: "at least 2",
            });
        }
        let mut dormant_sources = Vec::new();
        for (source, days) in &spec.dormancy.sources {
            dormant_sources
                .push((in_field("dormancy.sources", SourcePattern::new(source))?, *days));
        }
        let mut job_roles = Vec::new();
        for (name, role) in &spec.job_roles {
            let field = format!("job_roles.{name}");
            job_roles.push(JobRole {
                name: name.clone(),
                description: role.description.clone(),
                titles: names(&format!("{field}.match.titles"), &role.matcher.titles)?,
                departments: names(
                    &format!("{field}.match.departments"),
                    &role.matcher.departments,
                )?,
                baseline: in_field(
                    format!("{field}.baseline"),
                    EntitlementSet::new(&role.baseline),
                )?,
                privileged: role.privileged,
                mfa: role.mfa,
            });
        }
        let mut separation_of_duties = Vec::new();
        for rule in &spec.separation_of_duties {
            let field = format!("separation_of_duties.{}", rule.name);
            separation_of_duties.push(SodRule {
                name: rule.name.clone(),
                description: rule.description.clone(),
                left: in_field(format!("{field}.left"), EntitlementSet::new(&rule.left))?,
                right: in_field(format!("{field}.right"), EntitlementSet::new(&rule.right))?,
            });
        }
        let defaults = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let generic =
            spec.generic_accounts.clone().unwrap_or_else(|| defaults(&DEFAULT_GENERIC_ACCOUNTS));
        let service =
            spec.service_accounts.clone().unwrap_or_else(|| defaults(&DEFAULT_SERVICE_ACCOUNTS));
        let disabled =
            spec.disabled_with_grants.clone().unwrap_or_else(|| vec!["ehr:*".to_owned()]);
        let catalogue = compile_catalogue(&spec.entitlement_catalogue)?;
        let generic_accounts = names("generic_accounts", &generic)?;
        let service_accounts = names("service_accounts", &service)?;
        let generic_set = in_field("generic_accounts", NameSet::new(&generic_accounts))?;
        let service_set = in_field("service_accounts", NameSet::new(&service_accounts))?;
        Ok(Self {
            dormant_days: spec.dormancy.days,
            dormant_sources,
            common_baseline: in_field(
                "common_baseline",
                EntitlementSet::new(&spec.common_baseline),
            )?,
            job_roles,
            privileged: in_field(
                "privileged_entitlements",
                EntitlementSet::new(&spec.privileged_entitlements),
            )?,
            separation_of_duties,
            generic_accounts,
            service_accounts,
            generic_set,
            service_set,
            min_peers: spec.peer_outliers.min_peers,
            max_peer_share: spec.peer_outliers.max_share,
            disabled_with_grants: disabled
                .iter()
                .map(|p| in_field("disabled_with_grants", SourcePattern::new(p)))
                .collect::<Result<_, _>>()?,
            epcs_privileged: spec.epcs_privileged.unwrap_or(true),
            catalogue,
        })
    }

    /// Returns the most specific catalogue entry for `entitlement` of `source`: an exact
    /// entitlement pattern before a wildcard one, then an exact source before a source
    /// pattern, then the first in key order.
    pub fn catalogue_entry(
        &self,
        source: &SourceId,
        entitlement: &Entitlement,
    ) -> Option<&CatalogueEntry> {
        self.catalogue
            .iter()
            .filter(|(sources, pattern, _)| sources.matches(source) && pattern.matches(entitlement))
            .min_by_key(|(sources, pattern, _)| (!pattern.is_exact(), !sources.is_exact()))
            .map(|(_, _, entry)| entry)
    }

    /// Returns the dormancy threshold in days for `source`: the first matching override,
    /// else the tenant default.
    pub fn dormant_days(&self, source: &SourceId) -> u32 {
        self.dormant_sources
            .iter()
            .find(|(pattern, _)| pattern.matches(source))
            .map_or(self.dormant_days, |(_, days)| *days)
    }

    /// Lists every source pattern of the policy with the key it is written under
    /// (`job_roles.nurse.baseline`), so a caller can warn about patterns that match none
    /// of a tenant's sources.
    pub fn source_patterns(&self) -> Vec<(String, &SourcePattern)> {
        let mut patterns: Vec<(String, &SourcePattern)> = Vec::new();
        patterns
            .extend(self.dormant_sources.iter().map(|(p, _)| ("dormancy.sources".to_owned(), p)));
        patterns.extend(self.common_baseline.sources().map(|p| ("common_baseline".to_owned(), p)));
        for role in &self.job_roles {
            let field = format!("job_roles.{}.baseline", role.name);
            patterns.extend(role.baseline.sources().map(|p| (field.clone(), p)));
        }
        patterns
            .extend(self.privileged.sources().map(|p| ("privileged_entitlements".to_owned(), p)));
        for rule in &self.separation_of_duties {
            let field = format!("separation_of_duties.{}", rule.name);
            patterns.extend(
                rule.left.sources().chain(rule.right.sources()).map(|p| (field.clone(), p)),
            );
        }
        patterns.extend(
            self.disabled_with_grants.iter().map(|p| ("disabled_with_grants".to_owned(), p)),
        );
        patterns
            .extend(self.catalogue.iter().map(|(p, _, _)| ("entitlement_catalogue".to_owned(), p)));
        patterns
    }

    /// Lists the job roles whose title and department patterns match `worker`.
    pub fn roles_for_worker(&self, worker: &Worker) -> Vec<&JobRole> {
        self.roles_for(worker.job_title.as_deref(), worker.department.as_deref())
    }

    /// Lists the job roles that match a title and department.
    pub fn roles_for(&self, title: Option<&str>, department: Option<&str>) -> Vec<&JobRole> {
        self.job_roles.iter().filter(|role| role.matches(title, department)).collect()
    }

    /// Finds the first generic-account pattern, in policy order, that matches any of
    /// `values`.
    pub fn generic_match<'v>(
        &self,
        values: impl IntoIterator<Item = &'v str>,
    ) -> Option<&NamePattern> {
        let first = values.into_iter().filter_map(|v| self.generic_set.first_match(v)).min()?;
        self.generic_accounts.get(first)
    }

    /// Checks whether any of `values` matches a service-account pattern.
    pub fn is_service_name<'v>(&self, values: impl IntoIterator<Item = &'v str>) -> bool {
        values.into_iter().any(|v| self.service_set.is_match(v))
    }

    /// Finds the job role named `name`.
    pub fn role(&self, name: &str) -> Option<&JobRole> {
        self.job_roles.iter().find(|role| role.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_compiles() {
        let policy = Policy::compile(&PolicySpec::default()).unwrap();
        assert_eq!(policy.generic_accounts.len(), DEFAULT_GENERIC_ACCOUNTS.len());
        assert_eq!(policy.service_accounts.len(), DEFAULT_SERVICE_ACCOUNTS.len());
    }

    fn catalogue_policy(yaml: &str) -> Result<Policy, PolicyError> {
        let spec: PolicySpec = serde_yaml_ng::from_str(yaml).unwrap();
        Policy::compile(&spec)
    }

    #[test]
    fn catalogue_most_specific_applies() {
        let policy = catalogue_policy(
            "entitlement_catalogue:\n  \"ehr:epic\":\n    \"subtemplate:S5030\":\n      \
             name: Request user changes\n      owner: Practice manager\n    \
             \"subtemplate:*\": { name: Epic add-on access }\n  \"ehr:*\":\n    \
             \"role:Front Desk\": { name: Front desk check-in, description: Checks patients in. }\n",
        )
        .unwrap();
        let epic = SourceId::ehr("epic").unwrap();
        let subtemplate = Entitlement::new(
            "S5030",
            crate::model::EntitlementKind::Subtemplate,
            "CC AFFILIATE USER SECURITY REQUESTOR",
        );
        let entry = policy.catalogue_entry(&epic, &subtemplate).unwrap();
        assert_eq!(entry.name, "Request user changes");
        assert_eq!(entry.owner.as_deref(), Some("Practice manager"));

        let other = Entitlement::new("S5002", crate::model::EntitlementKind::Subtemplate, "X");
        assert_eq!(policy.catalogue_entry(&epic, &other).unwrap().name, "Epic add-on access");

        let athena = SourceId::ehr("athenahealth").unwrap();
        let role =
            Entitlement::new("Front Desk", crate::model::EntitlementKind::Role, "Front Desk");
        let entry = policy.catalogue_entry(&athena, &role).unwrap();
        assert_eq!(entry.description.as_deref(), Some("Checks patients in."));
        assert_eq!(policy.catalogue_entry(&athena, &subtemplate), None);
    }

    #[test]
    fn catalogue_empty_name_rejected() {
        let error = catalogue_policy(
            "entitlement_catalogue:\n  entra:\n    \"group:Billing\": { name: \" \" }\n",
        )
        .unwrap_err();
        assert!(
            matches!(error, PolicyError::OutOfRange { ref field, .. }
                if field == "entitlement_catalogue.entra.group:Billing.name"),
            "{error}"
        );
    }

    #[test]
    fn catalogue_reviewer_is_trimmed() {
        let policy = catalogue_policy(
            "entitlement_catalogue:\n  entra:\n    \"group:Billing\": \
             { name: Billing, reviewer: \" E1003 \" }\n    \"group:Nursing\": { name: Nursing }\n",
        )
        .unwrap();
        let billing = Entitlement::new("g1", crate::model::EntitlementKind::Group, "Billing");
        let entry = policy.catalogue_entry(&SourceId::entra(), &billing).unwrap();
        assert_eq!(entry.reviewer.as_deref(), Some("E1003"));
        let nursing = Entitlement::new("g2", crate::model::EntitlementKind::Group, "Nursing");
        let entry = policy.catalogue_entry(&SourceId::entra(), &nursing).unwrap();
        assert_eq!(entry.reviewer, None);
    }

    #[test]
    fn catalogue_bad_reviewer_names_key() {
        for bad in ["\" \"", "hr:E1003", "\"E 1003\""] {
            let yaml = format!(
                "entitlement_catalogue:\n  entra:\n    \"group:Billing\": \
                 {{ name: Billing, reviewer: {bad} }}\n"
            );
            let error = catalogue_policy(&yaml).unwrap_err();
            assert!(
                matches!(error, PolicyError::OutOfRange { ref field, .. }
                    if field == "entitlement_catalogue.entra.group:Billing.reviewer"),
                "{bad}: {error}"
            );
            assert!(error.to_string().contains("HR employee id"), "{bad}: {error}");
        }
    }

    #[test]
    fn catalogue_unknown_key_rejected() {
        let result: Result<PolicySpec, _> = serde_yaml_ng::from_str(
            "entitlement_catalogue:\n  entra:\n    \"group:Billing\": { title: Billing }\n",
        );
        assert!(result.unwrap_err().to_string().contains("unknown field `title`"));
    }

    #[test]
    fn role_needs_both_title_and_department() {
        let spec = JobRoleSpec {
            matcher: RoleMatchSpec {
                titles: vec!["Medical Assistant".into()],
                departments: vec!["Pediatrics*".into()],
            },
            ..JobRoleSpec::default()
        };
        let mut policy_spec = PolicySpec::default();
        policy_spec.job_roles.insert("ma-peds".into(), spec);
        let policy = Policy::compile(&policy_spec).unwrap();
        assert_eq!(policy.roles_for(Some("medical assistant"), Some("Pediatrics North")).len(), 1);
        assert!(policy.roles_for(Some("Medical Assistant"), Some("Billing")).is_empty());
        assert!(policy.roles_for(Some("Medical Assistant"), None).is_empty());
    }

    #[test]
    fn bad_share_rejected() {
        let mut spec = PolicySpec::default();
        spec.peer_outliers.max_share = 1.5;
        assert!(matches!(Policy::compile(&spec), Err(PolicyError::OutOfRange { .. })));
    }

    #[test]
    fn bad_baseline_pattern_names_field() {
        let mut spec = PolicySpec::default();
        let role = JobRoleSpec {
            baseline: BTreeMap::from([("entra".to_owned(), vec!["group:{x".to_owned()])]),
            ..JobRoleSpec::default()
        };
        spec.job_roles.insert("nurse".into(), role);
        let error = Policy::compile(&spec).unwrap_err();
        assert!(error.to_string().starts_with("in job_roles.nurse.baseline:"), "{error}");
    }

    #[test]
    fn dormancy_override_by_source() {
        let mut spec = PolicySpec::default();
        spec.dormancy.sources.insert("ehr:*".into(), 45);
        let policy = Policy::compile(&spec).unwrap();
        assert_eq!(policy.dormant_days(&"ehr:epic".parse().unwrap()), 45);
        assert_eq!(policy.dormant_days(&SourceId::entra()), DEFAULT_DORMANT_DAYS);
    }
}

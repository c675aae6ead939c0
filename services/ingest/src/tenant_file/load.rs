//! Reading and checking `tenant.yaml`: everything is validated before any export is read,
//! so a mistake in the file is reported once, with its key, instead of as odd findings.

use std::path::{Component, Path, PathBuf};

use chrono::TimeDelta;
use chrono_tz::Tz;
use rollcall_core::model::{AccountRef, SourceId};
use rollcall_core::policy::{Policy, PolicySpec};
use rollcall_core::tenant::{
    DEFAULT_DEPROVISION_SLA_HOURS, Exclusion, IdentityOverrides, ManualLink,
};
use rollcall_core::{Tenant, TenantId};

use super::campaigns::{self, Campaign};
use super::error::{TenantFileError, yaml_error};
use super::spec::{EhrFormat, EhrSection, TenantFile};
use super::{guard, locate};
use crate::ehr::{PRESET_NAMES, ProfileSpec};

/// The name of the SLA preset for the deadline in the January 2025 proposed HIPAA
/// Security Rule: access removed within one hour of termination.
pub const SLA_PRESET_2025_PROPOSAL: &str = "hipaa-2025-proposal";

/// One EHR export to read.
#[derive(Debug, Clone)]
pub struct EhrInput {
    /// The key in `tenant.yaml` (`sources.ehr[0]`), for messages.
    pub field: String,
    /// The source the files make.
    pub source: SourceId,
    /// The files, relative to the tenant folder.
    pub files: Vec<PathBuf>,
    /// How to read them.
    pub format: EhrFormat,
    /// The profile, for CSV.
    pub profile: Option<ProfileSpec>,
    /// The zone of timestamps without an offset.
    pub time_zone: Tz,
    /// Extra FHIR NPI identifier systems.
    pub npi_systems: Vec<String>,
}

/// The exports to read, relative to the tenant folder. `None` means "the conventional
/// location, if it exists".
#[derive(Debug, Clone, Default)]
pub struct SourcePlan {
    /// The Entra folder, if `tenant.yaml` names one.
    pub entra: Option<PathBuf>,
    /// The LDAP folder or file, if `tenant.yaml` names one.
    pub ldap: Option<PathBuf>,
    /// The HR roster, if `tenant.yaml` names one.
    pub hr: Option<PathBuf>,
    /// EHR exports.
    pub ehr: Vec<EhrInput>,
}

/// A checked `tenant.yaml`.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// The tenant, ready for the rules.
    pub tenant: Tenant,
    /// The exports to read.
    pub sources: SourcePlan,
    /// The policy file, relative to the tenant folder, when the policy is not inline.
    pub policy_file: Option<PathBuf>,
    /// The access-review campaign definitions, in file order.
    pub campaigns: Vec<Campaign>,
    /// The id of the definition in `campaigns` that event-triggered reviews take their
    /// reviewers, deadline and default action from.
    pub event_reviews: Option<String>,
    /// The OpenID Connect issuer the practice's people sign in with (`sign_in.issuer`).
    pub sign_in_issuer: Option<String>,
}

fn time_zone(field: &str, value: &str) -> Result<Tz, TenantFileError> {
    value
        .trim()
        .parse::<Tz>()
        .map_err(|_| TenantFileError::TimeZone { field: field.to_owned(), value: value.to_owned() })
}

/// Parses `24h`, `90m`, `2d`, `1h30m` or the 2025 proposal preset.
pub fn parse_sla(text: &str) -> Option<TimeDelta> {
    let text = text.trim();
    if text.eq_ignore_ascii_case(SLA_PRESET_2025_PROPOSAL) {
        return Some(TimeDelta::hours(1));
    }
    let mut total = TimeDelta::zero();
    let mut number = String::new();
    let mut parts = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let value: i64 = number.parse().ok()?;
        number.clear();
        let part = match c {
            'd' => TimeDelta::try_days(value)?,
            'h' => TimeDelta::try_hours(value)?,
            'm' => TimeDelta::try_minutes(value)?,
            _ => return None,
        };
        total = total.checked_add(&part)?;
        parts += 1;
    }
    (number.is_empty() && parts > 0 && total > TimeDelta::zero()).then_some(total)
}

/// Checks that `value` is a relative path inside the tenant folder.
fn relative_path(field: &str, value: &str) -> Result<PathBuf, TenantFileError> {
    let path = PathBuf::from(value.trim());
    let inside = !value.trim().is_empty()
        && path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if inside {
        Ok(path)
    } else {
        Err(TenantFileError::Path { field: field.to_owned(), value: value.to_owned() })
    }
}

fn account_ref(field: &str, value: &str) -> Result<AccountRef, TenantFileError> {
    let error = |reason: String| TenantFileError::AccountRef {
        field: field.to_owned(),
        value: value.to_owned(),
        reason,
    };
    let (source, id) = value.split_once('/').ok_or_else(|| error("there is no `/`".into()))?;
    let source: SourceId = source.trim().parse().map_err(|e| error(format!("{e}")))?;
    let id = id.trim();
    if id.is_empty() {
        return Err(error("the account id is empty".into()));
    }
    Ok(AccountRef { source, id: id.to_owned() })
}

/// Parses and checks the text of `tenant.yaml`. `dir` is the tenant folder, for the
/// policy file. An error about one value carries the value's line and column.
pub fn parse(text: &str, dir: &Path) -> Result<TenantConfig, TenantFileError> {
    guard::check(text)?;
    parse_checked(text, &PolicySource::Folder(dir))
        .map_err(|error| locate::with_position(text, error))
}

/// Parses `tenant.yaml` as [`parse`] does, but takes the text of the file that its
/// `policy_file` names from `policy_text` instead of reading it from a folder. The engine
/// keeps both texts in PostgreSQL and rebuilds the tenant from them, so it evaluates the
/// same tenant that `rollcall scan` reads from the folder. A `policy_file` without
/// `policy_text` is [`TenantFileError::PolicyFile`].
pub fn parse_stored(
    text: &str,
    policy_text: Option<&str>,
) -> Result<TenantConfig, TenantFileError> {
    guard::check(text)?;
    parse_checked(text, &PolicySource::Text(policy_text))
        .map_err(|error| locate::with_position(text, error))
}

/// Where the file named by `policy_file` comes from.
enum PolicySource<'a> {
    /// Read it relative to the tenant folder.
    Folder(&'a Path),
    /// Its text, kept elsewhere (`None` when it was not kept).
    Text(Option<&'a str>),
}

fn parse_checked(
    text: &str,
    policy_source: &PolicySource<'_>,
) -> Result<TenantConfig, TenantFileError> {
    let file: TenantFile = serde_yaml_ng::from_str(text).map_err(|e| yaml_error(&e))?;
    let id = TenantId::new(file.tenant.id.trim())?;
    let zone = time_zone("tenant.time_zone", &file.tenant.time_zone)?;

    let policy_file = file.policy_file.clone();
    let spec = match (file.policy, file.policy_file) {
        (Some(_), Some(_)) => return Err(TenantFileError::TwoPolicies),
        (Some(spec), None) => spec,
        (None, Some(path)) => match policy_source {
            PolicySource::Folder(dir) => read_policy_file(dir, &path)?,
            PolicySource::Text(policy_text) => policy_from_text(&path, *policy_text)?,
        },
        (None, None) => PolicySpec::default(),
    };
    // An error in a shared policy file names that file, not the tenant.yaml that points at it.
    let policy = Policy::compile(&spec).map_err(|error| match &policy_file {
        Some(path) => TenantFileError::PolicyFileInvalid { path: path.clone(), source: error },
        None => TenantFileError::Policy(error),
    })?;

    let mut tenant = Tenant::new(id, file.tenant.name.trim(), zone, policy);
    tenant.deprovision_sla = match file.slas.deprovision.as_deref() {
        Some(text) => parse_sla(text).ok_or_else(|| TenantFileError::Sla(text.to_owned()))?,
        None => TimeDelta::hours(DEFAULT_DEPROVISION_SLA_HOURS),
    };
    if let Some(text) = file.slas.revocation.as_deref() {
        // The deprovisioning preset is a deadline for leavers, not a verification window.
        tenant.revocation_window = parse_sla(text)
            .filter(|window| text.trim() != "hipaa-2025-proposal" && *window > TimeDelta::zero())
            .ok_or_else(|| TenantFileError::RevocationWindow(text.to_owned()))?;
    }
    tenant.identity = identity(&file.identity, &tenant.policy)?;

    let mut sources = SourcePlan {
        entra: file
            .sources
            .entra
            .as_deref()
            .map(|p| relative_path("sources.entra", p))
            .transpose()?,
        ldap: file.sources.ldap.as_deref().map(|p| relative_path("sources.ldap", p)).transpose()?,
        hr: file.sources.hr.as_deref().map(|p| relative_path("sources.hr", p)).transpose()?,
        ehr: Vec::new(),
    };
    for (name, profile) in &file.profiles {
        profile
            .validate()
            .map_err(|source| TenantFileError::Profile { name: name.clone(), source })?;
    }
    for (index, entry) in file.sources.ehr.iter().enumerate() {
        sources.ehr.push(ehr_input(&format!("sources.ehr[{index}]"), entry, &file.profiles, zone)?);
    }
    let campaigns = campaigns::check(&file.campaigns)?;
    let event_reviews = match file.event_reviews.as_deref().map(str::trim) {
        Some(id) if campaigns.iter().any(|campaign| campaign.id == id) => Some(id.to_owned()),
        Some(id) => {
            return Err(TenantFileError::Campaign {
                field: "event_reviews".into(),
                reason: format!(
                    "names `{id}`, which is not the id of a definition under `campaigns:`; write one of them"
                ),
            });
        }
        None => None,
    };
    let sign_in_issuer = file.sign_in.map(|section| sign_in_issuer(&section.issuer)).transpose()?;
    Ok(TenantConfig {
        tenant,
        sources,
        policy_file: policy_file.map(PathBuf::from),
        campaigns,
        event_reviews,
        sign_in_issuer,
    })
}

/// Checks an issuer before any sign-in uses it.
fn sign_in_issuer(value: &str) -> Result<String, TenantFileError> {
    match issuer_problem(value) {
        Some(reason) => Err(TenantFileError::SignInIssuer { value: value.to_owned(), reason }),
        None => Ok(value.trim().to_owned()),
    }
}

/// Returns what makes `issuer` unfit to name one practice's sign-in, or `None` when it
/// will do. The issuer decides whose tokens the review app accepts for the practice, so
/// it must be one directory's issuer over HTTPS. Plain HTTP is accepted on loopback,
/// where a test or lab provider runs.
pub fn issuer_problem(issuer: &str) -> Option<&'static str> {
    let issuer = issuer.trim();
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(name, _port)| name);
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Some(
                "plain HTTP is accepted only on loopback; write the provider's https:// issuer",
            );
        }
        rest
    } else {
        return Some(
            "write the provider's issuer URL, such as https://login.microsoftonline.com/<directory GUID>/v2.0",
        );
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Some("the URL has no host; write the provider's full issuer URL");
    }
    // Entra's `common`, `organizations` and `consumers` endpoints publish a `{tenantid}`
    // template as their issuer, which no token carries: accepting it would let any
    // directory sign in.
    let lower = issuer.to_ascii_lowercase();
    if ["{tenantid}", "/common/", "/organizations/", "/consumers/"]
        .iter()
        .any(|shared| lower.contains(shared))
    {
        return Some(
            "that is a multi-tenant endpoint, not one directory's issuer; write https://login.microsoftonline.com/<directory GUID>/v2.0",
        );
    }
    None
}

fn read_policy_file(dir: &Path, path: &str) -> Result<PolicySpec, TenantFileError> {
    let relative = relative_path("policy_file", path)?;
    let error = |reason: String| TenantFileError::PolicyFile { path: path.to_owned(), reason };
    let text = std::fs::read_to_string(dir.join(relative)).map_err(|e| error(e.to_string()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| error(yaml_error(&e).to_string()))
}

fn policy_from_text(path: &str, text: Option<&str>) -> Result<PolicySpec, TenantFileError> {
    relative_path("policy_file", path)?;
    let error = |reason: String| TenantFileError::PolicyFile { path: path.to_owned(), reason };
    let text = text.ok_or_else(|| {
        error("its text was not stored with tenant.yaml; apply the tenant folder again".into())
    })?;
    serde_yaml_ng::from_str(text).map_err(|e| error(yaml_error(&e).to_string()))
}

fn identity(
    section: &super::spec::IdentitySection,
    policy: &Policy,
) -> Result<IdentityOverrides, TenantFileError> {
    let mut overrides = IdentityOverrides::default();
    for (i, link) in section.links.iter().enumerate() {
        let accounts = link
            .accounts
            .iter()
            .enumerate()
            .map(|(j, a)| account_ref(&format!("identity.links[{i}].accounts[{j}]"), a))
            .collect::<Result<_, _>>()?;
        overrides
            .links
            .push(ManualLink { employee_id: link.employee_id.trim().to_owned(), accounts });
    }
    for (i, exclusion) in section.exclusions.iter().enumerate() {
        overrides.exclusions.push(Exclusion {
            account: account_ref(&format!("identity.exclusions[{i}].account"), &exclusion.account)?,
            reason: exclusion.reason.clone(),
        });
    }
    for (employee_id, roles) in &section.roles {
        for (index, role) in roles.iter().enumerate() {
            if policy.role(role).is_none() {
                let known: Vec<&str> = policy.job_roles.iter().map(|r| r.name.as_str()).collect();
                return Err(TenantFileError::UnknownRole {
                    employee_id: employee_id.clone(),
                    role: role.clone(),
                    index,
                    known: if known.is_empty() { "none".into() } else { known.join(", ") },
                });
            }
        }
        overrides.roles.insert(employee_id.trim().to_owned(), roles.clone());
    }
    Ok(overrides)
}

fn ehr_input(
    field: &str,
    entry: &EhrSection,
    profiles: &std::collections::BTreeMap<String, ProfileSpec>,
    tenant_zone: Tz,
) -> Result<EhrInput, TenantFileError> {
    let presets = PRESET_NAMES.join(", ");
    if entry.files.is_empty() {
        return Err(TenantFileError::NoFiles { field: format!("{field}.files") });
    }
    let files = entry
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| relative_path(&format!("{field}.files[{i}]"), f))
        .collect::<Result<Vec<_>, _>>()?;
    let time_zone = match &entry.time_zone {
        Some(zone) => time_zone(&format!("{field}.time_zone"), zone)?,
        None => tenant_zone,
    };
    let profile = match (&entry.profile, entry.format) {
        (Some(name), _) => {
            Some(profiles.get(name).cloned().or_else(|| ProfileSpec::preset(name)).ok_or_else(
                || TenantFileError::UnknownProfile {
                    field: format!("{field}.profile"),
                    name: name.clone(),
                    presets: presets.clone(),
                },
            )?)
        }
        (None, EhrFormat::Csv) => {
            return Err(TenantFileError::MissingProfile { field: field.to_owned(), presets });
        }
        (None, EhrFormat::Athenahealth) => Some(ProfileSpec::athenahealth()),
        (None, _) => None,
    };
    let profile = match profile {
        Some(profile) if !entry.columns.is_empty() => {
            Some(profile.with_renamed_columns(&entry.columns).map_err(|source| {
                TenantFileError::Columns { field: format!("{field}.columns"), source }
            })?)
        }
        other => other,
    };
    let vendor = match (&entry.vendor, &profile) {
        (Some(vendor), _) => vendor.trim().to_owned(),
        (None, Some(profile)) => profile.vendor.clone(),
        (None, None) => return Err(TenantFileError::MissingVendor { field: field.to_owned() }),
    };
    let source = SourceId::ehr(&vendor).map_err(|e| TenantFileError::Vendor {
        field: format!("{field}.vendor"),
        reason: e.to_string(),
    })?;
    Ok(EhrInput {
        field: field.to_owned(),
        source,
        files,
        format: entry.format,
        profile,
        time_zone,
        npi_systems: entry.npi_systems.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_forms() {
        assert_eq!(parse_sla("24h"), Some(TimeDelta::hours(24)));
        assert_eq!(parse_sla("1h30m"), Some(TimeDelta::minutes(90)));
        assert_eq!(parse_sla("2d"), Some(TimeDelta::days(2)));
        assert_eq!(parse_sla("hipaa-2025-proposal"), Some(TimeDelta::hours(1)));
        for bad in ["", "24", "h", "0h", "24x", "-1h", "99999999999999999999d"] {
            assert_eq!(parse_sla(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths_stay_inside() {
        assert!(relative_path("f", "ehr/users.csv").is_ok());
        assert!(relative_path("f", "../other/users.csv").is_err());
        assert!(relative_path("f", "/etc/passwd").is_err());
        assert!(relative_path("f", "").is_err());
    }

    #[test]
    fn account_refs() {
        let parsed = account_ref("f", "ehr:epic/88120431").unwrap();
        assert_eq!(parsed.source.to_string(), "ehr:epic");
        assert_eq!(parsed.id, "88120431");
        let dn = account_ref("f", "ldap/CN=Front Desk \\#2,OU=Shared,DC=x").unwrap();
        assert_eq!(dn.id, "CN=Front Desk \\#2,OU=Shared,DC=x");
        assert!(account_ref("f", "ehr/1").is_err());
        assert!(account_ref("f", "entra/").is_err());
        assert!(account_ref("f", "entra").is_err());
    }
}

//! Remediation in the engine: after each recorded evaluation of a tenant, still under its
//! evaluation lock, the engine hands the accounts of leavers past their deadline and the
//! grants revoked in signed-off access reviews to `rollcall-remediation`, in the mode the
//! tenant's `remediation_settings` row sets.
//!
//! The engine acts at the deadline, not at the termination. The deadline is the
//! practice's own SLA (`slas.deprovision`), and the time before it is when the
//! practice's staff hand over and remove access themselves; an MSP expects the
//! automation to be the backstop that keeps the SLA, not to pre-empt the handover. A
//! practice that wants access removed at once sets a short SLA.
//!
//! The write credentials are this module's alone (`remediation.tenants.<tenant>` in the
//! engine's configuration), separate from the connectors' read-only accounts.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rollcall_core::model::{
    Account, EntitlementKind, Member, SourceId, SourceKind, SourceSnapshot,
};
use rollcall_core::{TenantData, TenantId};
use rollcall_entra_connector::config::{AppConfig, Limits};
use rollcall_entra_connector::{Credential, GraphClient, HttpTransport};
use rollcall_ldap_connector::DirectoryConfig;
use rollcall_remediation::{
    Action, EntraAccess, Executor, LdapAccess, LdapDisable, Mode, OutcomeKind, ReviewGrant, Revoke,
    Settings, Target,
};
use rollcall_store::{LeaverState, RevocationState, TenantScope};

use crate::config::{DisableMethod, EntraWriteConfig, LdapWriteConfig, RemediationConfig};
use crate::metrics::{EngineMetrics, RemediationLabels};

/// The LDAP attribute the ingest keeps an entry's DN in.
const DN_ATTRIBUTE: &str = "distinguishedName";
/// Seconds before one Graph request times out.
const GRAPH_TIMEOUT: Duration = Duration::from_secs(60);

/// A `remediation` section that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum RemediationConfigError {
    /// A key has a value that cannot work; the message names the key and the fix.
    #[error("remediation.tenants.{tenant}.{key}: {reason}")]
    Invalid {
        /// The tenant id as written.
        tenant: String,
        /// The key under the tenant.
        key: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

/// The checked write access of every configured tenant.
#[derive(Debug, Default)]
pub struct RemediationAccess {
    tenants: BTreeMap<TenantId, TenantAccess>,
    transport: Option<HttpTransport>,
}

/// One tenant's write access.
#[derive(Debug, Default)]
struct TenantAccess {
    entra: Option<EntraWrite>,
    ldap: Option<LdapAccessFor>,
}

#[derive(Debug)]
struct EntraWrite {
    source: SourceId,
    directory_id: String,
    client_id: String,
    credential: Credential,
    authority_url: String,
    graph_url: String,
}

#[derive(Debug)]
struct LdapAccessFor {
    source: SourceId,
    access: LdapAccess,
}

impl RemediationAccess {
    /// Checks the section and reads the Entra credentials. Secrets stay in memory only.
    ///
    /// # Errors
    ///
    /// [`RemediationConfigError`] naming the first key that cannot work.
    pub fn from_config(config: RemediationConfig) -> Result<Self, RemediationConfigError> {
        let mut tenants = BTreeMap::new();
        for (name, tenant) in config.tenants {
            let invalid = |key: &'static str, reason: String| RemediationConfigError::Invalid {
                tenant: name.clone(),
                key,
                reason,
            };
            let id = TenantId::new(&name)
                .map_err(|error| invalid("", format!("not a valid tenant id: {error}")))?;
            let entra = tenant
                .entra
                .map(|entra| entra_write(&name, entra))
                .transpose()
                .map_err(|reason| invalid("entra", reason))?;
            let ldap = tenant
                .ldap
                .map(|ldap| ldap_write(&name, ldap))
                .transpose()
                .map_err(|reason| invalid("ldap", reason))?;
            tenants.insert(id, TenantAccess { entra, ldap });
        }
        let transport = if tenants.values().any(|tenant| tenant.entra.is_some()) {
            Some(HttpTransport::new(GRAPH_TIMEOUT).map_err(|error| {
                RemediationConfigError::Invalid {
                    tenant: String::new(),
                    key: "entra",
                    reason: format!("the HTTP client cannot start: {error}"),
                }
            })?)
        } else {
            None
        };
        Ok(Self { tenants, transport })
    }

    /// Returns the tenants with write access, for the start log.
    pub fn tenants(&self) -> impl Iterator<Item = (&TenantId, bool, bool)> {
        self.tenants.iter().map(|(id, access)| (id, access.entra.is_some(), access.ldap.is_some()))
    }
}

fn entra_write(tenant: &str, config: EntraWriteConfig) -> Result<EntraWrite, String> {
    let source = parse_source(&config.source, SourceKind::Entra)?;
    if config.client_secret_file.is_some() == config.certificate_file.is_some() {
        return Err("set exactly one of client_secret_file and certificate_file".to_owned());
    }
    for (key, url) in [("authority_url", &config.authority_url), ("graph_url", &config.graph_url)] {
        if !url.starts_with("https://") && !is_loopback_http(url) {
            return Err(format!("{key} `{url}` must be https (http only on loopback)"));
        }
    }
    let app = AppConfig {
        client_id: config.client_id.clone(),
        client_secret_file: config.client_secret_file,
        certificate_file: config.certificate_file,
    };
    let credential = Credential::load(&format!("remediation {tenant}"), &app).map_err(|error| {
        format!(
            "{error}; set exactly one of client_secret_file and certificate_file to a readable file"
        )
    })?;
    Ok(EntraWrite {
        source,
        directory_id: config.directory_id,
        client_id: config.client_id,
        credential,
        authority_url: config.authority_url.trim_end_matches('/').to_owned(),
        graph_url: config.graph_url.trim_end_matches('/').to_owned(),
    })
}

fn ldap_write(tenant: &str, config: LdapWriteConfig) -> Result<LdapAccessFor, String> {
    use rollcall_ldap_connector::{Flavor, ReferralPolicy, TlsMode};

    let disable = match config.disable {
        DisableMethod::ActiveDirectory => LdapDisable::ActiveDirectory,
        DisableMethod::Attribute => match (config.disable_attribute, config.disable_value) {
            (Some(attribute), Some(value)) if !attribute.is_empty() => {
                LdapDisable::Attribute { attribute, value }
            }
            _ => {
                return Err(
                    "disable `attribute` needs disable_attribute and disable_value, such as pwdAccountLockedTime and 000001010000Z".to_owned(),
                );
            }
        },
    };
    let tls = config.tls.unwrap_or_else(|| {
        if config.url.trim().to_ascii_lowercase().starts_with("ldaps://") {
            TlsMode::Ldaps
        } else {
            TlsMode::Starttls
        }
    });
    let directory = DirectoryConfig {
        tenant: tenant.to_owned(),
        source: config.source,
        url: config.url,
        tls,
        ca_file: config.ca_file,
        flavor: match disable {
            LdapDisable::ActiveDirectory => Flavor::ActiveDirectory,
            LdapDisable::Attribute { .. } => Flavor::Openldap,
        },
        bind_dn: config.bind_dn,
        password: config.password,
        // Remediation reads and writes entries by DN and never searches.
        base_dn: String::new(),
        filter: None,
        attributes: None,
        page_size: 1,
        connect_timeout_seconds: config.connect_timeout_seconds,
        operation_timeout_seconds: config.operation_timeout_seconds,
        interval_seconds: 1,
        jitter_seconds: 0,
        follow_groups_outside_base: false,
        member_range_size: None,
        referrals: ReferralPolicy::Report,
        referral_servers: Vec::new(),
    }
    .check()
    .map_err(|error| error.to_string())?;
    if directory.tls == TlsMode::Insecure {
        tracing::warn!(tenant, url = %directory.url, "remediation LDAP access without TLS: the write account's password travels in clear text");
    }
    Ok(LdapAccessFor {
        source: directory.source.clone(),
        access: LdapAccess { directory, disable },
    })
}

fn parse_source(text: &str, kind: SourceKind) -> Result<SourceId, String> {
    text.parse::<SourceId>()
        .ok()
        .filter(|source| source.kind() == kind)
        .ok_or_else(|| format!("source `{text}` is not a source id of this kind"))
}

fn is_loopback_http(url: &str) -> bool {
    ["http://127.0.0.1", "http://[::1]", "http://localhost"]
        .iter()
        .any(|prefix| url.starts_with(prefix))
}

/// What one remediation pass of a tenant did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Outcomes by kind of outcome.
    pub outcomes: BTreeMap<&'static str, usize>,
    /// Tasks verified by the data of this evaluation.
    pub verified: usize,
}

/// Runs one remediation pass of `tenant` on the data of the evaluation at `as_of`. The
/// caller holds the tenant's evaluation lock, so no other pass of the tenant runs at the
/// same time.
pub(crate) async fn run_pass(
    scope: &TenantScope<'_>,
    access: &RemediationAccess,
    data: &TenantData,
    as_of: DateTime<Utc>,
    metrics: &EngineMetrics,
) -> Result<PassReport, rollcall_remediation::RemediationError> {
    let tenant = scope.tenant_id().clone();
    let mut report = PassReport::default();
    for snapshot in data.sources.iter().filter(|s| s.source.kind() == SourceKind::Ehr) {
        report.verified +=
            rollcall_remediation::verify_ehr_tasks(scope, snapshot, as_of).await?.len();
    }
    report.verified += scope.verify_revoke_tasks(rollcall_remediation::ACTOR, as_of).await?.len();

    let settings = scope.remediation_settings().await?;
    let mut actions = if settings.mode == Mode::Off {
        Vec::new()
    } else {
        rollcall_remediation::plan(&leaver_targets(scope, data, as_of).await?, &settings)
    };
    actions.extend(rollcall_remediation::plan_revokes(&revokes(scope, data).await?, &settings));
    if actions.is_empty() {
        return Ok(report);
    }

    let tenant_access = access.tenants.get(&tenant);
    let missing = missing_access(&tenant, &settings, tenant_access, &actions);
    let entra = tenant_access.and_then(|t| t.entra.as_ref());
    let transport = access.transport.as_ref();
    let mut executor = Executor::new(scope.clone());
    if let (Some(entra), Some(transport)) = (entra, transport) {
        let client = GraphClient::new(
            transport,
            &entra.authority_url,
            &entra.directory_id,
            &entra.client_id,
            &entra.credential,
            Limits::default(),
        );
        executor = executor.with_entra(
            entra.source.clone(),
            EntraAccess { client, graph_url: entra.graph_url.clone() },
        );
    }
    if let Some(ldap) = tenant_access.and_then(|t| t.ldap.as_ref()) {
        executor = executor.with_ldap(ldap.source.clone(), ldap.access.clone());
    }
    for (source, reason) in missing {
        executor = executor.without_access(source, reason);
    }

    let outcomes = executor.run(&actions, settings.mode, as_of).await?;
    for outcome in &outcomes {
        let label = outcome_label(&outcome.kind);
        *report.outcomes.entry(label).or_default() += 1;
        metrics
            .remediation_actions
            .get_or_create(&RemediationLabels {
                tenant: tenant.to_string(),
                source: outcome.action.target.source.to_string(),
                kind: outcome.action.kind.as_str().to_owned(),
                outcome: label.to_owned(),
            })
            .inc();
        if let OutcomeKind::Failed(reason) = &outcome.kind {
            tracing::warn!(
                tenant = %tenant, source = %outcome.action.target.source,
                kind = outcome.action.kind.as_str(), task_id = %outcome.task_id,
                account = %outcome.action.target.account_id, error = %reason,
                "remediation action failed; the next pass tries again"
            );
        }
    }
    Ok(report)
}

/// Logs an error per source that the tenant's settings let remediation act on but that
/// the engine has no write access for, and returns the reason each enforced action of
/// such a source fails with.
fn missing_access(
    tenant: &TenantId,
    settings: &Settings,
    access: Option<&TenantAccess>,
    actions: &[Action],
) -> BTreeMap<SourceId, String> {
    let mut missing = BTreeMap::new();
    if settings.mode == Mode::Off {
        return missing;
    }
    for action in actions {
        let source = &action.target.source;
        let (key, configured) = match source.kind() {
            SourceKind::Entra => (
                "entra",
                access.and_then(|a| a.entra.as_ref()).is_some_and(|e| &e.source == source),
            ),
            SourceKind::Ldap => {
                ("ldap", access.and_then(|a| a.ldap.as_ref()).is_some_and(|l| &l.source == source))
            }
            SourceKind::Ehr | SourceKind::Hr => continue,
        };
        if configured || missing.contains_key(source) || !settings.sources.contains(source) {
            continue;
        }
        let reason = format!(
            "the engine has no write credentials for source `{source}` of tenant `{tenant}`: set remediation.tenants.{tenant}.{key} in the engine's configuration (the connector's read-only account cannot write)"
        );
        tracing::error!(
            tenant = %tenant, source = %source, mode = settings.mode.as_str(),
            "remediation is switched on for a source without write credentials; {reason}"
        );
        missing.insert(source.clone(), reason);
    }
    missing
}

fn outcome_label(kind: &OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Skipped => "skipped",
        OutcomeKind::DryRun => "dry_run",
        OutcomeKind::Done => "done",
        OutcomeKind::Opened => "opened",
        OutcomeKind::AwaitingApproval => "awaiting_approval",
        OutcomeKind::AlreadyCarriedOut(_) => "already_carried_out",
        OutcomeKind::Failed(_) => "failed",
    }
}

/// The enabled accounts of open leavers whose deadline passed at `as_of`, as the
/// leaver tracking last saw them, with the account's facts from `data`.
async fn leaver_targets(
    scope: &TenantScope<'_>,
    data: &TenantData,
    as_of: DateTime<Utc>,
) -> Result<Vec<Target>, rollcall_store::StoreError> {
    let due: BTreeMap<_, _> = scope
        .leavers(Some(LeaverState::Open))
        .await?
        .into_iter()
        .filter(|leaver| leaver.deadline <= as_of)
        .map(|leaver| (leaver.leaver_id, leaver.employee_id))
        .collect();
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let mut targets = Vec::new();
    for account in scope.leaver_accounts().await? {
        let Some(employee_id) = due.get(&account.leaver_id) else { continue };
        if account.disabled_at.is_some() {
            continue;
        }
        let Ok(source) = account.source.parse::<SourceId>() else { continue };
        let Some((_, found)) = find_account(data, &source, &account.account_id) else {
            continue;
        };
        targets.push(target(scope.tenant_id(), employee_id, &source, found));
    }
    Ok(targets)
}

/// The open removals of signed-off review campaigns, with the account and entitlement
/// from the latest sync of their source. A removal whose account or entitlement the
/// sync no longer has is left to the verification.
async fn revokes(
    scope: &TenantScope<'_>,
    data: &TenantData,
) -> Result<Vec<Revoke>, rollcall_store::StoreError> {
    let mut revokes = Vec::new();
    for revocation in scope.review_revocations(None).await? {
        if revocation.state != RevocationState::Open {
            continue;
        }
        let Ok(source) = revocation.source.parse::<SourceId>() else { continue };
        let Some((snapshot, account)) = find_account(data, &source, &revocation.account_id) else {
            continue;
        };
        let Some(entitlement) =
            snapshot.entitlements.iter().find(|e| e.id == revocation.entitlement_id)
        else {
            continue;
        };
        let direct = snapshot.memberships.iter().any(|membership| {
            membership.entitlement == entitlement.id
                && membership.member == Member::Account(account.id.clone())
        });
        let entitlement_id = match source.kind() {
            SourceKind::Ldap => entitlement
                .attributes
                .get(DN_ATTRIBUTE)
                .cloned()
                .unwrap_or_else(|| entitlement.id.clone()),
            _ => entitlement.id.clone(),
        };
        revokes.push(Revoke {
            target: target(scope.tenant_id(), &revocation.reviewee, &source, account),
            grant: ReviewGrant {
                entitlement_id,
                campaign_id: revocation.campaign_id,
                item_id: revocation.item_id,
            },
            entitlement_name: entitlement.name.clone(),
            removable: entitlement.kind == EntitlementKind::Group && direct,
        });
    }
    Ok(revokes)
}

fn find_account<'d>(
    data: &'d TenantData,
    source: &SourceId,
    account_id: &str,
) -> Option<(&'d SourceSnapshot, &'d Account)> {
    let snapshot = data.sources.iter().find(|s| &s.source == source)?;
    let account = snapshot.accounts.iter().find(|a| a.id == account_id)?;
    Some((snapshot, account))
}

/// The target of `account`: an LDAP account is named by its DN, which writes need,
/// every other account by its id.
fn target(tenant: &TenantId, employee_id: &str, source: &SourceId, account: &Account) -> Target {
    let account_id = match source.kind() {
        SourceKind::Ldap => {
            account.attributes.get(DN_ATTRIBUTE).cloned().unwrap_or_else(|| account.id.clone())
        }
        _ => account.id.clone(),
    };
    Target {
        tenant: tenant.clone(),
        employee_id: employee_id.to_owned(),
        source: source.clone(),
        account_id,
        login: account.login.clone().or_else(|| account.upn.clone()),
        epcs: account.epcs == Some(rollcall_core::model::EpcsStatus::Enabled),
        privileged: !account.markers.is_empty(),
    }
}

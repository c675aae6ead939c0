//! Leavers' accounts in, remediation actions out.

use std::collections::BTreeSet;

use rollcall_core::TenantId;
use rollcall_core::model::{SourceId, SourceKind};
use rollcall_store::{NewRemediationTask, RemediationMode, RemediationSettings, TaskKind};

/// One enabled account of a leaver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The tenant.
    pub tenant: TenantId,
    /// The leaver's HR employee id.
    pub employee_id: String,
    /// The source of the account; its kind chooses the action.
    pub source: SourceId,
    /// The account as the source names it: the Entra object id, the LDAP DN, the EHR
    /// user id.
    pub account_id: String,
    /// The login, for people reading tasks and the audit log.
    pub login: Option<String>,
    /// Whether the account has EPCS prescribing rights (EHR accounts).
    pub epcs: bool,
    /// Whether the account is privileged.
    pub privileged: bool,
}

/// One remediation action on one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The action kind.
    pub kind: TaskKind,
    /// The account it is done to.
    pub target: Target,
}

impl Action {
    /// Returns the task the store keeps for this action.
    pub fn task(&self) -> NewRemediationTask {
        NewRemediationTask {
            kind: self.kind,
            employee_id: self.target.employee_id.clone(),
            source: self.target.source.clone(),
            account_id: self.target.account_id.clone(),
            login: self.target.login.clone(),
            privileged: self.target.privileged,
            epcs: self.target.epcs,
        }
    }

    /// Returns what the action does, in a sentence for the audit log and the EHR's
    /// administrators.
    pub fn instruction(&self) -> String {
        let target = &self.target;
        let login = target.login.as_deref().unwrap_or("(no login)");
        match self.kind {
            TaskKind::DisableEntraUser => format!(
                "Disable Entra ID user {} ({login}) and revoke its sign-in sessions.",
                target.account_id
            ),
            TaskKind::DisableLdapAccount => {
                format!(
                    "Disable directory account {} ({login}) in {}.",
                    target.account_id, target.source
                )
            }
            TaskKind::EhrTask => format!(
                "Disable or end-date user {} ({login}) in {}; the next export of {} confirms it.",
                target.account_id, target.source, target.source
            ),
            TaskKind::EpcsTask => format!(
                "Revoke the EPCS prescribing rights and disable user {} ({login}) in {}, after two people approved; the next export of {} confirms it.",
                target.account_id, target.source, target.source
            ),
        }
    }
}

/// Returns the actions for `targets` under `settings`: none when the mode is `Off`, and
/// none for accounts of sources the settings do not allow. An Entra account becomes
/// [`TaskKind::DisableEntraUser`], an LDAP account [`TaskKind::DisableLdapAccount`], an
/// EHR account with EPCS rights [`TaskKind::EpcsTask`] and any other EHR account
/// [`TaskKind::EhrTask`]. HR sources hold workers, not accounts, and get nothing. A
/// target given twice gives one action.
pub fn plan(targets: &[Target], settings: &RemediationSettings) -> Vec<Action> {
    if settings.mode == RemediationMode::Off {
        return Vec::new();
    }
    let mut seen = BTreeSet::new();
    let mut actions = Vec::new();
    for target in targets {
        if !settings.sources.contains(&target.source) {
            tracing::debug!(tenant = %target.tenant, source = %target.source, "source not enabled for remediation, skipping");
            continue;
        }
        let kind = match target.source.kind() {
            SourceKind::Entra => TaskKind::DisableEntraUser,
            SourceKind::Ldap => TaskKind::DisableLdapAccount,
            SourceKind::Ehr if target.epcs => TaskKind::EpcsTask,
            SourceKind::Ehr => TaskKind::EhrTask,
            SourceKind::Hr => continue,
        };
        let action = Action { kind, target: target.clone() };
        let key = (action.target.tenant.clone(), action.task().task_id());
        if seen.insert(key) {
            actions.push(action);
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

    use super::*;

    fn target(source: &str, epcs: bool) -> Target {
        Target {
            tenant: TenantId::new("harborview").unwrap(),
            employee_id: "E1001".into(),
            source: source.parse().unwrap(),
            account_id: "acct-1".into(),
            login: Some("jdoe".into()),
            epcs,
            privileged: false,
        }
    }

    fn settings(mode: RemediationMode, sources: &[&str]) -> RemediationSettings {
        RemediationSettings { mode, sources: sources.iter().map(|s| s.parse().unwrap()).collect() }
    }

    #[test]
    fn kinds_follow_the_source() {
        let targets = [
            target("entra", false),
            target("ldap", false),
            target("ehr:epic", false),
            target("ehr:athenahealth", true),
        ];
        let all =
            settings(RemediationMode::Enforce, &["entra", "ldap", "ehr:epic", "ehr:athenahealth"]);
        let kinds: Vec<TaskKind> = plan(&targets, &all).iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                TaskKind::DisableEntraUser,
                TaskKind::DisableLdapAccount,
                TaskKind::EhrTask,
                TaskKind::EpcsTask
            ]
        );
    }

    #[test]
    fn off_plans_nothing() {
        let targets = [target("entra", false)];
        assert!(plan(&targets, &settings(RemediationMode::Off, &["entra"])).is_empty());
    }

    #[test]
    fn sources_not_enabled_are_skipped() {
        let targets = [target("entra", false), target("ldap", false)];
        let actions = plan(&targets, &settings(RemediationMode::DryRun, &["ldap"]));
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].kind, TaskKind::DisableLdapAccount);
    }

    #[test]
    fn duplicate_targets_give_one_action() {
        let targets = [target("entra", false), target("entra", false)];
        assert_eq!(plan(&targets, &settings(RemediationMode::DryRun, &["entra"])).len(), 1);
    }

    #[test]
    fn hr_source_gets_nothing() {
        let targets = [target("hr", false)];
        assert!(plan(&targets, &settings(RemediationMode::Enforce, &["hr"])).is_empty());
    }
}

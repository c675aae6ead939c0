//! Leavers' accounts in, remediation actions out.

use std::collections::BTreeSet;

use rollcall_core::TenantId;
use rollcall_core::model::{SourceId, SourceKind};
use rollcall_store::{
    NewRemediationTask, RemediationMode, RemediationSettings, ReviewGrant, TaskKind,
};

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

/// One grant revoked in a signed-off access review: the account, the entitlement and
/// the review item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoke {
    /// The account. `employee_id` holds the reviewee's identity key (`hr:E1004`), because
    /// a reviewed person need not have left.
    pub target: Target,
    /// The entitlement and review item.
    pub grant: ReviewGrant,
    /// The entitlement's name, for the task's sentence.
    pub entitlement_name: String,
    /// Whether Rollcall can remove the grant itself: a direct membership of an Entra ID
    /// or LDAP group. Directory roles, EHR roles and grants through a nested group are
    /// not.
    pub removable: bool,
}

/// One remediation action on one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The action kind.
    pub kind: TaskKind,
    /// The account it is done to.
    pub target: Target,
    /// For revoke actions, the grant and the entitlement's name.
    pub grant: Option<(ReviewGrant, String)>,
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
            grant: self.grant.as_ref().map(|(grant, _)| grant.clone()),
        }
    }

    /// Returns what the action does, in a sentence for the audit log and the EHR's
    /// administrators.
    pub fn instruction(&self) -> String {
        let target = &self.target;
        let login = target.login.as_deref().unwrap_or("(no login)");
        let (entitlement, name) = self
            .grant
            .as_ref()
            .map_or(("", ""), |(grant, name)| (grant.entitlement_id.as_str(), name.as_str()));
        match self.kind {
            TaskKind::RemoveGroupMember => format!(
                "Remove account {} ({login}) from group {name} ({entitlement}) in {}; the next sync of {} confirms it.",
                target.account_id, target.source, target.source
            ),
            TaskKind::RevokeTask => format!(
                "Remove {name} ({entitlement}) from account {} ({login}) in {}, as the access review decided; the next sync of {} confirms it.",
                target.account_id, target.source, target.source
            ),
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
        let action = Action { kind, target: target.clone(), grant: None };
        let key = (action.target.tenant.clone(), action.task().task_id());
        if seen.insert(key) {
            actions.push(action);
        }
    }
    actions
}

/// Returns one action per revoked grant. In `Enforce`, a removable grant of a source the
/// settings allow becomes [`TaskKind::RemoveGroupMember`]; every other grant, and every
/// grant in `DryRun` and `Off`, becomes a [`TaskKind::RevokeTask`] for the source's
/// administrators. A revoke decision is a signed-off instruction of the practice, so it
/// gives a task even with remediation off: only carrying it out automatically needs the
/// switch. A revoke given twice gives one action.
pub fn plan_revokes(revokes: &[Revoke], settings: &RemediationSettings) -> Vec<Action> {
    let mut seen = BTreeSet::new();
    let mut actions = Vec::new();
    for revoke in revokes {
        let automatic = settings.mode == RemediationMode::Enforce
            && revoke.removable
            && settings.sources.contains(&revoke.target.source)
            && matches!(revoke.target.source.kind(), SourceKind::Entra | SourceKind::Ldap);
        let kind = if automatic { TaskKind::RemoveGroupMember } else { TaskKind::RevokeTask };
        let action = Action {
            kind,
            target: revoke.target.clone(),
            grant: Some((revoke.grant.clone(), revoke.entitlement_name.clone())),
        };
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

    fn revoke(source: &str, removable: bool) -> Revoke {
        Revoke {
            target: target(source, false),
            grant: ReviewGrant {
                entitlement_id: "grp-1".into(),
                campaign_id: uuid::Uuid::from_u128(7),
                item_id: 3,
            },
            entitlement_name: "Billing".into(),
            removable,
        }
    }

    #[test]
    fn revokes_follow_the_mode() {
        let revokes = [revoke("entra", true), revoke("ldap", false), revoke("ehr:epic", true)];
        let enforce = settings(RemediationMode::Enforce, &["entra", "ldap", "ehr:epic"]);
        let kinds: Vec<TaskKind> =
            plan_revokes(&revokes, &enforce).iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [TaskKind::RemoveGroupMember, TaskKind::RevokeTask, TaskKind::RevokeTask]
        );
        for mode in [RemediationMode::Off, RemediationMode::DryRun] {
            let actions = plan_revokes(&revokes, &settings(mode, &["entra", "ldap"]));
            assert!(actions.iter().all(|a| a.kind == TaskKind::RevokeTask), "{mode:?}");
            assert_eq!(actions.len(), 3);
        }
        let not_allowed = settings(RemediationMode::Enforce, &["ldap"]);
        assert_eq!(plan_revokes(&revokes, &not_allowed)[0].kind, TaskKind::RevokeTask);
    }

    #[test]
    fn hr_source_gets_nothing() {
        let targets = [target("hr", false)];
        assert!(plan(&targets, &settings(RemediationMode::Enforce, &["hr"])).is_empty());
    }
}

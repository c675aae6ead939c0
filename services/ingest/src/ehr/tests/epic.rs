//! The Epic Community Connect extract: templates mixed in with users, blocked but active,
//! end-dated, not yet started, provider links and SIDs.

use chrono_tz::America::Chicago;
use rollcall_core::model::{AccountStatus, EntitlementKind, EpcsStatus, LastSignIn, ManagerRef};

use super::*;
use crate::diagnostic::Level;

fn epic() -> EhrRead {
    read_example("epic", &ProfileSpec::epic(), Chicago)
}

#[test]
fn templates_dropped_and_counted() {
    let read = epic();
    let ids: Vec<&str> = read.snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "88120431", "88120455", "88120477", "88120490", "88120502", "88120515", "88120529",
            "88120533"
        ]
    );
    let infos: Vec<&str> = read
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Info)
        .map(|d| d.message.as_str())
        .collect();
    // The example predates the extract specification and has only the EpicCare class column.
    assert_eq!(
        infos,
        [
            "the profile maps columns that the file lacks, so those fields are unknown: \
             `IB_SEC_CLASS`, `RX_SEC_CLASS`, `DFLT_SEC_CLASS`, `RW_CLASS`, `CR_DFLT_ECL`, \
             `ADMIN_SEC_CL`, `HKU_SEC_CLASS`",
            "dropped 2 records of type `template`, which are not user accounts"
        ]
    );
    assert!(read.diagnostics.iter().all(|d| d.level == Level::Info));
    assert_eq!(read.snapshot.source.to_string(), "ehr:epic");
}

#[test]
fn physician_fields_mapped() {
    let read = epic();
    let user = account(&read, "88120431");
    assert_eq!(user.login.as_deref(), Some("QVANTERPOOL"));
    assert_eq!(user.display_name.as_deref(), Some("VANTERPOOL, QUINCY"));
    assert_eq!(user.family_name.as_deref(), Some("VANTERPOOL"));
    assert_eq!(user.given_name.as_deref(), Some("QUINCY"));
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(user.status_raw.as_deref(), Some("USER_STATUS: Active, LOGIN_BLOCKED: N"));
    assert_eq!(user.status_since, None);
    assert_eq!(user.last_sign_in, LastSignIn::At(utc("2026-11-30T13:41:12Z")));
    assert_eq!(user.department.as_deref(), Some("BRIARWOOD FAMILY MED"));
    assert!(user.is_provider);
    assert_eq!(user.npi.as_deref(), Some("9999900118"));
    assert_eq!(user.epcs, Some(EpcsStatus::Enabled));
    assert_eq!(user.manager, Some(ManagerRef::Account("88120477".into())));
    assert_eq!(user.sid.as_deref(), Some("S-1-5-21-3623811015-3361044348-30300820-4117"));
    assert_eq!(attribute(user, "PROV_ID"), Some("E90311"));
    assert_eq!(attribute(user, "ehr.status"), Some("active"));
    assert_eq!(attribute(user, "ehr.valid_from"), Some("2019-03-04T06:00:00Z"));
}

#[test]
fn template_subtemplates_and_class_granted() {
    let read = epic();
    assert_eq!(
        grants(&read, "88120431"),
        [
            grant(
                EntitlementKind::Template,
                "T41020",
                "AMB PHYSICIAN - CC AFFILIATE TEMPLATE",
                None
            ),
            grant(EntitlementKind::Subtemplate, "S5002", "IN BASKET PROXY MGMT", None),
            grant(
                EntitlementKind::Subtemplate,
                "S5007",
                "CC AFFILIATE DEPT ACCESS - BRIARWOOD",
                None
            ),
            grant(
                EntitlementKind::SecurityClass,
                "EPICCARE AMB PHYSICIAN",
                "EPICCARE AMB PHYSICIAN",
                Some("EpicCare")
            ),
        ]
    );
}

#[test]
fn subtemplate_priority_kept() {
    let read = epic();
    let user = account(&read, "88120477");
    assert_eq!(attribute(user, "ehr.priority.subtemplate.S5007"), Some("1"));
    assert_eq!(attribute(user, "ehr.priority.subtemplate.S5021"), Some("2"));
    assert_eq!(attribute(user, "ehr.priority.subtemplate.S5030"), Some("3"));
    assert_eq!(attribute(user, "ehr.priority.template.T41031"), None);
}

#[test]
fn active_but_blocked_is_disabled() {
    let read = epic();
    let user = account(&read, "88120490");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(user.status_raw.as_deref(), Some("USER_STATUS: Active, LOGIN_BLOCKED: Y"));
    assert_eq!(user.status_since, Some(utc("2026-11-21T23:02:44Z")));
    assert_eq!(attribute(user, "ehr.status"), Some("blocked"));
    // A blocked user keeps the grants, which the review still has to remove.
    assert_eq!(grants(&read, "88120490").len(), 3);
    assert_eq!(attribute(user, "LAST_LOGIN_DEPT"), Some("BRIARWOOD PEDS ANNEX"));
}

#[test]
fn inactive_and_end_dated_is_disabled() {
    let read = epic();
    let user = account(&read, "88120502");
    assert_eq!(user.status, AccountStatus::Disabled);
    assert_eq!(
        user.status_raw.as_deref(),
        Some("USER_STATUS: Inactive, LOGIN_BLOCKED: N, EFF_TO_DATE: 2026-06-30 00:00:00.000")
    );
    assert_eq!(user.status_since, Some(utc("2026-06-30T05:00:00Z")));
    assert_eq!(attribute(user, "ehr.status"), Some("inactive"));
    assert_eq!(attribute(user, "ehr.valid_to"), Some("2026-06-30T05:00:00Z"));
    assert_eq!(user.sid, None);
}

#[test]
fn future_start_without_access_time() {
    let read = epic();
    let user = account(&read, "88120529");
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(user.last_sign_in, LastSignIn::Unknown);
    assert_eq!(attribute(user, "ehr.valid_from"), Some("2026-12-15T06:00:00Z"));
    assert!(user.is_provider);
    assert_eq!(user.epcs, Some(EpcsStatus::Disabled));
    assert_eq!(
        grants(&read, "88120529"),
        [
            grant(
                EntitlementKind::Template,
                "T41020",
                "AMB PHYSICIAN - CC AFFILIATE TEMPLATE",
                None
            ),
            grant(
                EntitlementKind::SecurityClass,
                "EPICCARE AMB PHYSICIAN",
                "EPICCARE AMB PHYSICIAN",
                Some("EpicCare")
            ),
        ]
    );
}

#[test]
fn future_end_date_stays_enabled() {
    let read = epic();
    let user = account(&read, "88120533");
    assert_eq!(user.status, AccountStatus::Enabled);
    assert_eq!(user.status_raw.as_deref(), Some("USER_STATUS: Active, LOGIN_BLOCKED: N"));
    assert_eq!(attribute(user, "ehr.valid_to"), Some("2026-12-31T06:00:00Z"));
    assert_eq!(
        grants(&read, "88120533"),
        [grant(
            EntitlementKind::SecurityClass,
            "EPICCARE AMB CLINICAL STAFF",
            "EPICCARE AMB CLINICAL STAFF",
            Some("EpicCare")
        )]
    );
}

#[test]
fn non_ascii_name_split() {
    let read = epic();
    let user = account(&read, "88120477");
    assert_eq!(user.family_name.as_deref(), Some("SZCZEPAŃSKA"));
    assert_eq!(user.given_name.as_deref(), Some("HALINA"));
    assert_eq!(user.login.as_deref(), Some("HSZCZEPANSKA"));
    assert_eq!(user.manager, None);
    assert!(!user.is_provider);
}

#[test]
fn non_provider_has_no_provider_fields() {
    let read = epic();
    let user = account(&read, "88120455");
    assert!(!user.is_provider);
    assert_eq!(user.npi, None);
    assert_eq!(user.epcs, None);
}

#[test]
fn entitlements_listed_once() {
    let read = epic();
    let ids: Vec<(EntitlementKind, &str)> =
        read.snapshot.entitlements.iter().map(|e| (e.kind, e.id.as_str())).collect();
    assert_eq!(
        ids,
        [
            (EntitlementKind::Template, "T41020"),
            (EntitlementKind::Subtemplate, "S5002"),
            (EntitlementKind::Subtemplate, "S5007"),
            (EntitlementKind::SecurityClass, "EPICCARE AMB PHYSICIAN"),
            (EntitlementKind::Template, "T41031"),
            (EntitlementKind::Subtemplate, "S5011"),
            (EntitlementKind::Subtemplate, "S5019"),
            (EntitlementKind::SecurityClass, "EPICCARE AMB CLINICAL STAFF"),
            (EntitlementKind::Subtemplate, "S5021"),
            (EntitlementKind::Subtemplate, "S5030"),
            (EntitlementKind::Subtemplate, "S5040"),
        ]
    );
    assert_eq!(
        read.snapshot.settings.sign_in_activity,
        rollcall_core::model::Availability::Available
    );
}

//! Which EHR accounts of the `ehr-extracts` scenario count as privileged, and why: EPCS
//! prescribing, the athenahealth roles that control EPCS enrolment, and classes the policy
//! marks. `scenarios.rs` checks the findings of the same folder. This test checks the
//! evidence behind them, because the review items and the MFA rules read it.

use chrono::{DateTime, Utc};
use rollcall_core::context::{Context, account_privilege};
use rollcall_core::model::AccountRef;
use rollcall_ingest::layout::load_tenant;
use rollcall_integration_tests::repo;

/// Returns `field: value` of each privilege evidence item of `account` in `source`.
fn privilege(ctx: &Context<'_>, source: &str, account: &str) -> Vec<String> {
    let view = ctx
        .sources
        .iter()
        .find(|candidate| candidate.source().to_string() == source)
        .unwrap_or_else(|| panic!("no source `{source}`"));
    let reference = AccountRef { source: view.source().clone(), id: account.to_owned() };
    let (view, found) =
        ctx.account(&reference).unwrap_or_else(|| panic!("no account `{source}/{account}`"));
    account_privilege(ctx.tenant, view, found)
        .into_iter()
        .map(|evidence| format!("{}: {}", evidence.field, evidence.value))
        .collect()
}

#[test]
fn ehr_privilege_evidence() {
    let as_of: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
    let dir = repo().join("integration-tests/scenarios/ehr-extracts");
    let loaded = load_tenant(&dir, as_of).unwrap();
    let ctx = Context::new(&loaded.config.tenant, &loaded.data, as_of);

    // An Epic prescriber with EPRESC_CNTRLD_YN = Y.
    assert_eq!(
        privilege(&ctx, "ehr:epic", "88120431"),
        ["EPCS: enabled (controlled-substance prescribing)"]
    );
    // The Epic practice manager has the User Security class that the policy marks.
    assert_eq!(
        privilege(&ctx, "ehr:epic", "88120477"),
        ["grant: CC AFFILIATE USER SECURITY: marked privileged by the tenant policy pattern \
             `security_class:*USER SECURITY*`"]
    );
    // An approved athenahealth prescriber who is also an EPCS approver.
    assert_eq!(
        privilege(&ctx, "ehr:athenahealth", "gadeyemi2"),
        [
            "EPCS: enabled (controlled-substance prescribing)",
            "grant: Clinicals: EPCS Enrollment Approval: it controls EPCS enrolment \
             (controlled-substance prescribing)",
        ]
    );
    // A pending enrolment is not yet prescribing, but the approver role still counts.
    assert_eq!(
        privilege(&ctx, "ehr:athenahealth", "cduarte"),
        ["grant: Clinicals: EPCS Enrollment Approval: it controls EPCS enrolment \
             (controlled-substance prescribing)"]
    );
    assert_eq!(
        privilege(&ctx, "ehr:athenahealth", "mkowalczyk1"),
        ["grant: User Admin: Identity Verification: it controls EPCS enrolment \
             (controlled-substance prescribing)"]
    );
    assert!(privilege(&ctx, "ehr:athenahealth", "jthibodeaux").is_empty());
    // A Clarity analyst: reporting classes that the policy does not mark.
    assert!(privilege(&ctx, "ehr:epic", "88120541").is_empty());
}

//! Subject and stream names, without a server: every builder rejects a tenant or source
//! that would add a token or a wildcard.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use proptest::prelude::*;
use rollcall_bus::{MessageKind, Namespace, StreamFamily, SubjectError};
use rollcall_proto::v1::FindingEventType;

#[test]
fn subjects_of_each_kind() {
    let ns = Namespace::default();

    assert_eq!(
        ns.snapshot_subject("oakridge-family-medicine", "entra").unwrap(),
        "rollcall.oakridge-family-medicine.source.entra.snapshot"
    );
    assert_eq!(
        ns.delta_subject("harborview", "ehr:athenahealth").unwrap(),
        "rollcall.harborview.source.ehr:athenahealth.delta"
    );
    assert_eq!(
        ns.sync_report_subject("harborview", "ehr:athenahealth").unwrap(),
        "rollcall.harborview.source.ehr:athenahealth.sync"
    );
    assert_eq!(ns.hr_event_subject("harborview").unwrap(), "rollcall.harborview.hr.event");
    assert_eq!(
        ns.finding_subject("harborview", FindingEventType::Resolved as i32).unwrap(),
        "rollcall.harborview.finding.resolved"
    );
    assert_eq!(
        ns.dead_letter_subject("harborview", MessageKind::HrEvent).unwrap(),
        "rollcall.harborview.deadletter.hr"
    );
}

#[test]
fn stream_names_and_filters() {
    let ns = Namespace::default();

    assert_eq!(ns.stream_name(StreamFamily::Source), "ROLLCALL_SOURCE");
    assert_eq!(ns.stream_name(StreamFamily::DeadLetter), "ROLLCALL_DEADLETTER");
    assert_eq!(ns.stream_subjects(StreamFamily::Hr), "rollcall.*.hr.>");
    assert_eq!(ns.stream_subjects(StreamFamily::Finding), "rollcall.*.finding.>");
    assert_eq!(ns.kind_filter(MessageKind::Snapshot), "rollcall.*.source.*.snapshot");
    assert_eq!(ns.kind_filter(MessageKind::Finding), "rollcall.*.finding.*");
    assert_eq!(ns.kind_filter(MessageKind::SyncReport), "rollcall.*.source.*.sync");
    assert_eq!(MessageKind::SyncReport.stream(), StreamFamily::Source);
}

#[test]
fn tenant_with_dot_or_wildcard_rejected() {
    let ns = Namespace::default();

    for tenant in ["acme.hr", "*", ">", "acme>", "acme *", "", "Acme", "acme\r\n"] {
        assert_eq!(
            ns.hr_event_subject(tenant),
            Err(SubjectError::InvalidTenant(tenant.to_owned())),
            "{tenant:?}"
        );
    }
}

#[test]
fn source_with_dot_or_wildcard_rejected() {
    let ns = Namespace::default();

    for source in ["entra.x", "ehr:*", "ehr:epic.snapshot", ">", "ehr", "crm", "ldap:North"] {
        assert_eq!(
            ns.snapshot_subject("acme", source),
            Err(SubjectError::InvalidSource(source.to_owned())),
            "{source:?}"
        );
    }
}

#[test]
fn unspecified_finding_type_rejected() {
    let ns = Namespace::default();

    assert_eq!(ns.finding_subject("acme", 0), Err(SubjectError::InvalidFindingType(0)));
    assert_eq!(ns.finding_subject("acme", 99), Err(SubjectError::InvalidFindingType(99)));
}

#[test]
fn namespace_prefix_checked() {
    assert!(Namespace::new("t1a2b", "T1A2B").is_ok());
    for bad in ["", "a.b", "a*", "a>", "a b", &"x".repeat(33)] {
        assert!(
            matches!(Namespace::new(bad, "OK"), Err(SubjectError::InvalidPrefix { .. })),
            "{bad:?}"
        );
        assert!(
            matches!(Namespace::new("ok", bad), Err(SubjectError::InvalidPrefix { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn tenant_of_reads_the_second_token() {
    let ns = Namespace::default();

    assert_eq!(ns.tenant_of("rollcall.acme.hr.event"), Some("acme"));
    assert_eq!(ns.tenant_of("other.acme.hr.event"), None);
    assert_eq!(ns.tenant_of("rollcallx.acme.hr.event"), None);
    assert_eq!(ns.tenant_of("rollcall.Bad_Tenant.hr.event"), None);
}

#[test]
fn error_message_names_value_and_fix() {
    let error = Namespace::default().hr_event_subject("acme.*").unwrap_err();

    assert_eq!(
        error.to_string(),
        "invalid tenant id `acme.*` for a NATS subject: use 1 to 63 lowercase letters, digits and `-`, starting with a letter or digit"
    );
}

proptest! {
    /// Whatever the tenant and source text, a built subject has exactly the five tokens of
    /// the scheme and no wildcard.
    #[test]
    fn built_subject_has_five_plain_tokens(
        tenant in "[a-z0-9.*>: _-]{0,12}",
        source in "[a-z0-9.*>: _-]{0,12}",
    ) {
        if let Ok(subject) = Namespace::default().snapshot_subject(&tenant, &source) {
            let tokens: Vec<&str> = subject.split('.').collect();
            prop_assert_eq!(tokens.len(), 5);
            prop_assert!(tokens.iter().all(|t| !t.is_empty() && !t.contains(['*', '>'])));
            prop_assert!(!subject.contains(char::is_whitespace));
            prop_assert_eq!(tokens[1], tenant.as_str());
            prop_assert_eq!(tokens[3], source.as_str());
        }
    }

    /// A tenant id made of the allowed bytes always builds.
    #[test]
    fn valid_tenant_always_builds(tenant in "[a-z0-9][a-z0-9-]{0,62}") {
        prop_assert!(Namespace::default().hr_event_subject(&tenant).is_ok());
    }
}

//! Conversion of domain findings into `rollcall.v1` messages, and the protobuf encoding of
//! those messages.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use proptest::prelude::*;
use prost::Message;
use rollcall_core::finding::{
    AccountSubject, EntitlementSubject, Evidence, IdentitySubject, Subject,
};
use rollcall_core::model::{AccountRef, SourceId};
use rollcall_core::{Finding, FindingKind, Severity};
use rollcall_proto::{SeverityError, finding_to_proto, severity_from_proto, severity_to_proto, v1};

/// Builds a subject with every part set, from synthetic values.
fn full_subject() -> Subject {
    let epic = SourceId::ehr("epic").unwrap();
    Subject {
        identity: Some(IdentitySubject {
            key: "hr:E1001".to_owned(),
            name: "Dana Example".to_owned(),
            employee_id: Some("E1001".to_owned()),
        }),
        account: Some(AccountSubject {
            account: AccountRef { source: epic.clone(), id: "U-2231".to_owned() },
            login: Some("dexample".to_owned()),
            name: "Example, Dana".to_owned(),
        }),
        entitlement: Some(EntitlementSubject {
            source: epic,
            id: "SECADMIN".to_owned(),
            name: "Security Administrator".to_owned(),
        }),
        source: Some(SourceId::ldap()),
    }
}

fn full_finding(kind: FindingKind, severity: Severity) -> Finding {
    let evidence = vec![
        Evidence::new(Some(&SourceId::entra()), "user 7f3c", "phoneMethods", "mobile"),
        Evidence::new(None, "policy", "roles.front_desk", "no match"),
    ];
    Finding::new(
        "clinic-north",
        kind,
        severity,
        full_subject(),
        "",
        "Dana Example has SMS registered.".to_owned(),
        evidence,
    )
}

#[test]
fn every_kind_converts() {
    for kind in FindingKind::ALL {
        let message = finding_to_proto(&full_finding(kind, Severity::High));
        let citation = message.citation.unwrap();

        assert_eq!(message.kind, kind.as_str());
        assert_eq!(FindingKind::parse(&message.kind), Some(kind));
        assert_eq!(citation.section, format!("45 CFR {}", kind.citation().section));
        assert_eq!(citation.title, kind.citation().title);
        assert_eq!(message.remediation, kind.remediation());
    }
}

#[test]
fn every_severity_round_trips() {
    for severity in Severity::ALL {
        let message = finding_to_proto(&full_finding(FindingKind::MfaNone, severity));

        assert_eq!(message.severity, i32::from(severity_to_proto(severity)));
        assert_eq!(severity_from_proto(message.severity), Ok(severity));
    }
}

#[test]
fn finding_fields_are_copied() {
    let finding = full_finding(FindingKind::MfaPrivilegedPhone, Severity::Critical);
    let message = finding_to_proto(&finding);
    let subject = message.subject.unwrap();
    let identity = subject.identity.unwrap();
    let account = subject.account.unwrap();
    let entitlement = subject.entitlement.unwrap();

    assert_eq!(message.id, finding.id);
    assert_eq!(message.tenant, "clinic-north");
    assert_eq!(message.kind, "mfa_privileged_phone");
    assert_eq!(message.severity, v1::Severity::Critical as i32);
    assert_eq!(message.summary, "Dana Example has SMS registered.");
    assert_eq!(identity.key, "hr:E1001");
    assert_eq!(identity.name, "Dana Example");
    assert_eq!(identity.employee_id.as_deref(), Some("E1001"));
    assert_eq!(account.source, "ehr:epic");
    assert_eq!(account.id, "U-2231");
    assert_eq!(account.login.as_deref(), Some("dexample"));
    assert_eq!(account.name, "Example, Dana");
    assert_eq!(entitlement.source, "ehr:epic");
    assert_eq!(entitlement.id, "SECADMIN");
    assert_eq!(entitlement.name, "Security Administrator");
    assert_eq!(subject.source.as_deref(), Some("ldap"));
}

#[test]
fn evidence_keeps_order_and_source() {
    let message = finding_to_proto(&full_finding(FindingKind::MfaWeakOnly, Severity::Medium));
    let first = message.evidence.first().unwrap();
    let second = message.evidence.get(1).unwrap();

    assert_eq!(message.evidence.len(), 2);
    assert_eq!(first.source.as_deref(), Some("entra"));
    assert_eq!(first.record, "user 7f3c");
    assert_eq!(first.field, "phoneMethods");
    assert_eq!(first.value, "mobile");
    assert_eq!(second.source, None);
    assert_eq!(second.record, "policy");
}

#[test]
fn finding_encodes_and_decodes() {
    let message = finding_to_proto(&full_finding(FindingKind::SodConflict, Severity::High));

    let bytes = message.encode_to_vec();
    let decoded = v1::Finding::decode(bytes.as_slice()).unwrap();

    assert_eq!(decoded, message);
}

#[test]
fn absent_parts_stay_unset_on_wire() {
    let subject = Subject { source: Some(SourceId::entra()), ..Subject::default() };
    let evidence = vec![Evidence::new(None, "policy", "mfa.sms_allowed", "true")];
    let finding = Finding::new(
        "clinic-north",
        FindingKind::MfaPolicyPhoneEnabled,
        Severity::Medium,
        subject,
        "",
        "SMS sign-in is enabled tenant-wide.".to_owned(),
        evidence,
    );

    let bytes = finding_to_proto(&finding).encode_to_vec();
    let decoded = v1::Finding::decode(bytes.as_slice()).unwrap();
    let subject = decoded.subject.unwrap();

    assert_eq!(subject.identity, None);
    assert_eq!(subject.account, None);
    assert_eq!(subject.entitlement, None);
    assert_eq!(subject.source.as_deref(), Some("entra"));
    assert_eq!(decoded.evidence.first().unwrap().source, None);
}

#[test]
fn empty_strings_stay_set_on_wire() {
    // Fields declared `optional` in proto3 keep presence, so an empty login is not read
    // back as no login.
    let mut subject = full_subject();
    if let Some(account) = subject.account.as_mut() {
        account.login = Some(String::new());
    }
    let finding = Finding::new(
        "clinic-north",
        FindingKind::GenericAccount,
        Severity::Low,
        subject,
        "",
        String::new(),
        Vec::new(),
    );

    let bytes = finding_to_proto(&finding).encode_to_vec();
    let decoded = v1::Finding::decode(bytes.as_slice()).unwrap();
    let account = decoded.subject.unwrap().account.unwrap();

    assert_eq!(account.login.as_deref(), Some(""));
}

#[test]
fn finding_event_encodes_and_decodes() {
    let finding = finding_to_proto(&full_finding(FindingKind::DeprovisionOverdue, Severity::High));
    let event = v1::FindingEvent {
        event_id: "0f8e2c1a-5b7d-4e39-9a61-2d4c8b0e7f13".to_owned(),
        tenant: "clinic-north".to_owned(),
        r#type: v1::FindingEventType::Opened.into(),
        finding: Some(finding),
        occurred_at: Some(prost_types::Timestamp { seconds: 1_796_115_600, nanos: 0 }),
        first_seen: Some(prost_types::Timestamp { seconds: 1_796_115_600, nanos: 0 }),
        last_seen: Some(prost_types::Timestamp { seconds: 1_796_115_600, nanos: 250_000_000 }),
    };

    let bytes = event.encode_to_vec();
    let decoded = v1::FindingEvent::decode(bytes.as_slice()).unwrap();

    assert_eq!(decoded, event);
    assert_eq!(decoded.r#type(), v1::FindingEventType::Opened);
    assert_eq!(decoded.last_seen.unwrap().nanos, 250_000_000);
}

#[test]
fn severity_zero_is_unspecified() {
    let error = severity_from_proto(0).unwrap_err();

    assert_eq!(error, SeverityError::Unspecified);
    assert_eq!(
        error.to_string(),
        "finding severity is unspecified (`0`): the publisher must set info, low, medium, high or critical"
    );
}

#[test]
fn severity_unknown_number_rejected() {
    let error = severity_from_proto(9).unwrap_err();

    assert_eq!(error, SeverityError::Unknown(9));
    assert!(error.to_string().starts_with("unknown finding severity number `9`: "));
}

#[test]
fn severity_negative_number_rejected() {
    assert_eq!(severity_from_proto(-1), Err(SeverityError::Unknown(-1)));
}

proptest! {
    /// Any number from the wire converts without panicking, and only the five defined
    /// severity numbers convert to a severity.
    #[test]
    fn severity_from_any_number(value in any::<i32>()) {
        let result = severity_from_proto(value);

        prop_assert_eq!(result.is_ok(), (1..=5).contains(&value));
    }
}

//! Conversion of HR workers, HR events and snapshot deltas between the domain and
//! `rollcall.v1`, and the errors for messages that do not convert.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

mod support;

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use prost::Message;
use rollcall_core::TenantId;
use rollcall_core::model::{SourceId, SourceSnapshot, Worker};
use rollcall_proto::{
    ContentHash, ConvertError, HrEvent, HrEventSender, HrEventType, SourceDelta,
    hr_event_from_proto, hr_event_to_proto, source_delta_from_proto, source_delta_to_proto, v1,
    worker_from_proto, worker_to_proto,
};
use uuid::Uuid;

fn tenant() -> impl Strategy<Value = TenantId> {
    "[a-z0-9][a-z0-9-]{0,20}".prop_map(|id| TenantId::new(&id).unwrap())
}

fn event_type() -> impl Strategy<Value = HrEventType> {
    proptest::sample::select(vec![
        HrEventType::Hire,
        HrEventType::Change,
        HrEventType::Termination,
        HrEventType::Rehire,
        HrEventType::Correction,
    ])
}

fn sender() -> impl Strategy<Value = HrEventSender> {
    proptest::sample::select(vec![
        HrEventSender::Webhook,
        HrEventSender::Scim,
        HrEventSender::RosterFile,
        HrEventSender::VendorPoll,
    ])
}

prop_compose! {
    fn hr_event()(
        event_id in any::<u128>(),
        tenant in tenant(),
        event_type in event_type(),
        worker in option::of(support::worker()),
        employee_id in "[A-Z0-9]{1,8}",
        effective_at in support::instant(),
        time_zone in proptest::sample::select(chrono_tz::TZ_VARIANTS.to_vec()),
        reason in support::optional_text(),
        manager_employee_id in support::optional_text(),
        received_at in support::instant(),
        sender in sender(),
        corrected in any::<u128>(),
    ) -> HrEvent {
        let worker = worker.map(|worker| Worker { employee_id: employee_id.clone(), ..worker });
        let corrected_event_id =
            (event_type == HrEventType::Correction).then(|| Uuid::from_u128(corrected));
        HrEvent {
            event_id: Uuid::from_u128(event_id), tenant, event_type, employee_id, effective_at,
            time_zone, reason, manager_employee_id, received_at, sender, worker,
            corrected_event_id,
        }
    }
}

prop_compose! {
    fn delta()(
        ids in any::<(u128, u128)>(),
        tenant in tenant(),
        source in support::source_id(),
        collected_at in support::optional_instant(),
        settings in option::of(support::settings()),
        changed_accounts in vec(support::account(), 0..3),
        removed_account_ids in vec(support::text(), 0..3),
        changed_entitlements in vec(support::entitlement(), 0..3),
        removed_entitlement_ids in vec(support::text(), 0..3),
        added_memberships in vec(support::membership(), 0..3),
        removed_memberships in vec(support::membership(), 0..3),
    ) -> SourceDelta {
        SourceDelta {
            delta_id: Uuid::from_u128(ids.0),
            tenant,
            content_hash: ContentHash::of(&SourceSnapshot::new(source.clone())),
            source,
            base_snapshot_id: Uuid::from_u128(ids.1),
            collected_at, settings, changed_accounts, removed_account_ids, changed_entitlements,
            removed_entitlement_ids, added_memberships, removed_memberships,
        }
    }
}

fn termination() -> HrEvent {
    HrEvent {
        event_id: Uuid::parse_str("5b0c7d2e-1f3a-4c8b-9e6d-7a2f4b1c0d93").unwrap(),
        tenant: TenantId::new("harborview").unwrap(),
        event_type: HrEventType::Termination,
        employee_id: "E1001".to_owned(),
        effective_at: Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap(),
        time_zone: Tz::America__Chicago,
        reason: Some("voluntary resignation".to_owned()),
        manager_employee_id: Some("E0042".to_owned()),
        received_at: Utc.with_ymd_and_hms(2026, 11, 20, 15, 4, 5).unwrap(),
        sender: HrEventSender::Webhook,
        worker: None,
        corrected_event_id: None,
    }
}

proptest! {
    #[test]
    fn worker_round_trips(worker in support::worker()) {
        let bytes = worker_to_proto(&worker).encode_to_vec();
        let decoded = v1::Worker::decode(bytes.as_slice()).unwrap();

        prop_assert_eq!(worker_from_proto(decoded), Ok(worker));
    }

    #[test]
    fn hr_event_round_trips(event in hr_event()) {
        let bytes = hr_event_to_proto(&event).encode_to_vec();
        let decoded = v1::HrEvent::decode(bytes.as_slice()).unwrap();

        prop_assert_eq!(hr_event_from_proto(decoded), Ok(event));
    }

    #[test]
    fn delta_round_trips(delta in delta()) {
        let bytes = source_delta_to_proto(&delta).encode_to_vec();
        let decoded = v1::SnapshotDelta::decode(bytes.as_slice()).unwrap();

        prop_assert_eq!(source_delta_from_proto(decoded), Ok(delta));
    }
}

#[test]
fn hr_event_fields_are_written() {
    let message = hr_event_to_proto(&termination());

    assert_eq!(message.event_id, "5b0c7d2e-1f3a-4c8b-9e6d-7a2f4b1c0d93");
    assert_eq!(message.nats_msg_id(), "5b0c7d2e-1f3a-4c8b-9e6d-7a2f4b1c0d93");
    assert_eq!(message.tenant, "harborview");
    assert_eq!(message.r#type(), v1::HrEventType::Termination);
    assert_eq!(message.employee_id, "E1001");
    assert_eq!(message.effective_at.unwrap().seconds, 1_796_079_600);
    assert_eq!(message.time_zone, "America/Chicago");
    assert_eq!(message.reason.as_deref(), Some("voluntary resignation"));
    assert_eq!(message.manager_employee_id.as_deref(), Some("E0042"));
    assert_eq!(message.sender(), v1::HrEventSender::Webhook);
    assert_eq!(message.corrected_event_id, None);
}

#[test]
fn unknown_time_zone_rejected() {
    let mut message = hr_event_to_proto(&termination());
    message.time_zone = "Central Standard Time".to_owned();

    let error = hr_event_from_proto(message).unwrap_err();

    assert_eq!(
        error.to_string(),
        "`time_zone` has the unknown time zone `Central Standard Time`: use an IANA name such as `America/Chicago`"
    );
}

#[test]
fn empty_employee_id_rejected() {
    let mut message = hr_event_to_proto(&termination());
    message.employee_id = String::new();

    assert_eq!(
        hr_event_from_proto(message),
        Err(ConvertError::Missing { field: "employee_id".to_owned() })
    );
}

#[test]
fn worker_of_other_employee_rejected() {
    let mut event = termination();
    event.worker = Some(Worker::new("E2002"));

    let error = hr_event_from_proto(hr_event_to_proto(&event)).unwrap_err();

    assert_eq!(error.field(), "worker.employee_id");
    assert_eq!(
        error.to_string(),
        "`worker.employee_id` is `E2002` but must equal `E1001`, the value of `employee_id`"
    );
}

#[test]
fn correction_needs_corrected_id() {
    let mut message = hr_event_to_proto(&termination());
    message.r#type = v1::HrEventType::Correction.into();

    assert_eq!(
        hr_event_from_proto(message),
        Err(ConvertError::Missing { field: "corrected_event_id".to_owned() })
    );
}

#[test]
fn corrected_id_on_hire_rejected() {
    let mut message = hr_event_to_proto(&termination());
    message.r#type = v1::HrEventType::Hire.into();
    message.corrected_event_id = Some("0f8e2c1a-5b7d-4e39-9a61-2d4c8b0e7f13".to_owned());

    let error = hr_event_from_proto(message).unwrap_err();

    assert!(
        matches!(error, ConvertError::Unexpected { ref field, .. } if field == "corrected_event_id")
    );
}

#[test]
fn unspecified_sender_rejected() {
    let mut message = hr_event_to_proto(&termination());
    message.sender = 0;

    assert_eq!(
        hr_event_from_proto(message),
        Err(ConvertError::Missing { field: "sender".to_owned() })
    );
}

#[test]
fn missing_effective_time_rejected() {
    let mut message = hr_event_to_proto(&termination());
    message.effective_at = None;

    assert_eq!(
        hr_event_from_proto(message),
        Err(ConvertError::Missing { field: "effective_at".to_owned() })
    );
}

#[test]
fn invalid_tenant_rejected() {
    let mut message = hr_event_to_proto(&termination());
    message.tenant = "Harbor.View".to_owned();

    let error = hr_event_from_proto(message).unwrap_err();

    assert_eq!(
        error,
        ConvertError::InvalidTenant { field: "tenant".to_owned(), value: "Harbor.View".to_owned() }
    );
}

#[test]
fn invalid_worker_status_names_field() {
    let mut message = hr_event_to_proto(&termination());
    let mut worker = worker_to_proto(&Worker::new("E1001"));
    worker.status = 17;
    message.worker = Some(worker);

    assert_eq!(
        hr_event_from_proto(message),
        Err(ConvertError::UnknownEnum { field: "worker.status".to_owned(), value: 17 })
    );
}

#[test]
fn delta_invalid_base_id_rejected() {
    let delta = SourceDelta {
        delta_id: Uuid::from_u128(1),
        tenant: TenantId::new("harborview").unwrap(),
        source: SourceId::entra(),
        base_snapshot_id: Uuid::from_u128(2),
        content_hash: ContentHash::of(&SourceSnapshot::new(SourceId::entra())),
        collected_at: None,
        settings: None,
        changed_accounts: Vec::new(),
        removed_account_ids: vec!["7f3c".to_owned()],
        changed_entitlements: Vec::new(),
        removed_entitlement_ids: Vec::new(),
        added_memberships: Vec::new(),
        removed_memberships: Vec::new(),
    };
    let mut message = source_delta_to_proto(&delta);
    message.base_snapshot_id = "not-a-uuid".to_owned();

    let error = source_delta_from_proto(message.clone()).unwrap_err();

    assert_eq!(message.nats_msg_id(), "00000000-0000-0000-0000-000000000001");
    assert_eq!(
        error,
        ConvertError::InvalidUuid {
            field: "base_snapshot_id".to_owned(),
            value: "not-a-uuid".to_owned()
        }
    );
}

#[test]
fn delta_invalid_hash_rejected() {
    let delta = SourceDelta {
        delta_id: Uuid::from_u128(1),
        tenant: TenantId::new("harborview").unwrap(),
        source: SourceId::entra(),
        base_snapshot_id: Uuid::from_u128(2),
        content_hash: ContentHash::of(&SourceSnapshot::new(SourceId::entra())),
        collected_at: None,
        settings: None,
        changed_accounts: Vec::new(),
        removed_account_ids: Vec::new(),
        changed_entitlements: Vec::new(),
        removed_entitlement_ids: Vec::new(),
        added_memberships: Vec::new(),
        removed_memberships: Vec::new(),
    };
    let mut message = source_delta_to_proto(&delta);
    message.content_sha256 = "ABC".to_owned();

    let error = source_delta_from_proto(message).unwrap_err();

    assert_eq!(
        error.to_string(),
        "`content_sha256` has the invalid SHA-256 hash `ABC`: use 64 lowercase hex digits"
    );
}

//! Arbitrary and corrupted bytes given to the decoders and conversions: each returns a value
//! or an error, and never panics.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::time::Instant;

use chrono::{TimeZone, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message;
use rollcall_core::TenantId;
use rollcall_core::model::Worker;
use rollcall_proto::{
    Assembler, HrEvent, HrEventSender, HrEventType, hr_event_from_proto, hr_event_to_proto,
    source_delta_from_proto, source_snapshot_from_proto, v1,
};
use uuid::Uuid;

/// Decodes `bytes` as `M` and converts the message, discarding the outcome: the test only
/// checks that neither step panics.
fn decode_and_convert<M: Message + Default, D, E>(bytes: &[u8], convert: fn(M) -> Result<D, E>) {
    if let Ok(message) = M::decode(bytes) {
        let _ = convert(message);
    }
}

fn hire_encoding() -> Vec<u8> {
    let event = HrEvent {
        event_id: Uuid::from_u128(42),
        tenant: TenantId::new("harborview").unwrap(),
        event_type: HrEventType::Hire,
        employee_id: "E1001".to_owned(),
        effective_at: Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap(),
        time_zone: chrono_tz::Tz::America__Chicago,
        reason: None,
        manager_employee_id: Some("E0042".to_owned()),
        received_at: Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap(),
        sender: HrEventSender::Scim,
        worker: Some(Worker::new("E1001")),
        corrected_event_id: None,
    };
    hr_event_to_proto(&event).encode_to_vec()
}

proptest! {
    #[test]
    fn assembler_takes_any_bytes(bytes in vec(any::<u8>(), 0..512)) {
        let result = Assembler::new().accept_bytes(&bytes, Instant::now());

        prop_assert!(!matches!(result, Ok(Some(_))));
    }

    #[test]
    fn snapshot_decodes_any_bytes(bytes in vec(any::<u8>(), 0..512)) {
        decode_and_convert(&bytes, source_snapshot_from_proto);
    }

    #[test]
    fn delta_decodes_any_bytes(bytes in vec(any::<u8>(), 0..512)) {
        decode_and_convert(&bytes, source_delta_from_proto);
    }

    #[test]
    fn hr_event_decodes_any_bytes(bytes in vec(any::<u8>(), 0..512)) {
        decode_and_convert(&bytes, hr_event_from_proto);
    }

    /// A valid event with one altered byte reaches the conversion's checks more often than
    /// random bytes do.
    #[test]
    fn hr_event_with_altered_byte(position in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let mut bytes = hire_encoding();
        *position.get_mut(&mut bytes) ^= xor;

        decode_and_convert::<v1::HrEvent, _, _>(&bytes, hr_event_from_proto);
    }
}

//! Property tests: no input makes the DrChrono reader panic.

use std::path::Path;

use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::json_support::strategies::tree;

use super::read;

/// Strings this reader looks for, so generated documents reach deeper code.
const WORDS: &[&str] = &[
    "true",
    "False",
    "Login",
    "US/Pacific",
    "Mars/Olympus",
    "2026-03-08T02:30:00",
    "2026-11-30T07:58:12",
    "https://app.drchrono.com/api/doctors/1",
    "1",
    "1234567893",
];

/// Keys this reader looks for.
const KEYS: &[&str] = &[
    "id",
    "user_id",
    "doctor",
    "doctor_id",
    "username",
    "is_doctor",
    "is_staff",
    "permissions",
    "members",
    "archived",
    "name",
    "first_name",
    "last_name",
    "npi_number",
    "group_npi_number",
    "is_account_suspended",
    "timezone",
    "active",
    "type",
    "created_at",
    "data",
    "next",
    "x",
];

fn json_value() -> impl Strategy<Value = Value> {
    tree(WORDS.to_vec(), KEYS.to_vec(), 4)
}

/// Generates a dump whose five responses contain arbitrary values, so the join code runs on them.
fn dump_value() -> impl Strategy<Value = Value> {
    (json_value(), json_value(), json_value(), json_value(), json_value()).prop_map(
        |(users, groups, doctors, staff, log)| {
            json!({"source": "drchrono", "responses": {
                "/api/users": [{"next": null, "data": [users, {"id": "1", "doctor": 1, "is_doctor": true}]}],
                "/api/user_groups": [{"data": [groups]}],
                "/api/doctors": [{"data": [doctors, {"id": 1, "timezone": "US/Pacific"}]}],
                "/api/staff": [{"data": [staff]}],
                "/api/audit_log?since=2026-09-01": [{"data": [log]}]
            }})
        },
    )
}

proptest! {
    #[test]
    fn drchrono_read_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read(Path::new("fuzz.json"), &bytes, Tz::UTC);
    }

    #[test]
    fn drchrono_read_any_json_never_panics(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let _ = read(Path::new("fuzz.json"), &bytes, Tz::UTC);
    }

    #[test]
    fn drchrono_read_any_records_never_panics(value in dump_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        prop_assert!(read(Path::new("fuzz.json"), &bytes, Tz::UTC).is_ok());
    }
}

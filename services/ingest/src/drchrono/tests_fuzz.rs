//! Property tests: no input makes the DrChrono reader panic.

use std::path::Path;

use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::read;

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        // Values this reader looks for, so generated records reach deeper code.
        prop::sample::select(vec![
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
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
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
    ]);
    json_leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
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

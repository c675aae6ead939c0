//! Property tests: no input makes the SCIM reader panic.

use std::path::Path;

use proptest::prelude::*;
use rollcall_core::model::SourceId;
use serde_json::{Value, json};

use crate::json_support::strategies::tree;

use super::read;

/// Strings this reader looks for, so generated documents reach deeper code.
const WORDS: &[&str] = &[
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:ietf:params:scim:api:messages:2.0:ListResponse",
    "urn:ietf:params:scim:api:messages:2.0:Error",
    "User",
    "Group",
    "False",
    "indirect",
    "u-1",
];

/// Keys this reader looks for.
const KEYS: &[&str] = &[
    "schemas",
    "Resources",
    "totalResults",
    "id",
    "userName",
    "name",
    "givenName",
    "familyName",
    "displayName",
    "emails",
    "value",
    "primary",
    "type",
    "active",
    "externalId",
    "groups",
    "members",
    "meta",
    "resourceType",
    "created",
    "status",
    "detail",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "employeeNumber",
    "manager",
    "x",
];

fn json_value() -> impl Strategy<Value = Value> {
    tree(WORDS.to_vec(), KEYS.to_vec(), 5)
}

/// A ListResponse whose resources are arbitrary objects typed as Users or Groups, so the
/// User and Group readers and the membership join run on them.
fn list_value() -> impl Strategy<Value = Value> {
    let schema = prop::sample::select(vec![
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    ]);
    let resource = (schema, json_value(), prop::sample::select(vec!["u-1", "g-1", "x"])).prop_map(
        |(schema, value, id)| {
            let mut resource = match value {
                Value::Object(map) => map,
                other => std::iter::once(("members".to_owned(), other)).collect(),
            };
            resource.insert("schemas".into(), json!([schema]));
            resource.entry("id").or_insert_with(|| Value::from(id));
            Value::Object(resource)
        },
    );
    (prop::collection::vec(resource, 0..6), any::<u8>()).prop_map(|(resources, total)| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
               "totalResults": total, "Resources": resources})
    })
}

proptest! {
    #[test]
    fn scim_read_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read(Path::new("fuzz.json"), &bytes, SourceId::entra());
    }

    #[test]
    fn scim_read_any_json_never_panics(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let _ = read(Path::new("fuzz.json"), &bytes, SourceId::entra());
    }

    #[test]
    fn scim_read_any_resources_never_panics(value in list_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        prop_assert!(read(Path::new("fuzz.json"), &bytes, SourceId::entra()).is_ok());
    }
}

//! Property tests: no input makes the FHIR reader or the join panic.

use std::path::Path;

use proptest::prelude::*;
use rollcall_core::model::{Account, SourceId, SourceSnapshot};
use serde_json::{Value, json};

use crate::json_support::strategies::tree;

use super::{EPIC_SANDBOX_NPI_SYSTEM, enrich, read};

/// Strings this reader looks for, so generated documents reach deeper code.
const WORDS: &[&str] = &[
    "Bundle",
    "Practitioner",
    "PractitionerRole",
    "OperationOutcome",
    "http://hl7.org/fhir/sid/us-npi",
    "1234567893",
    "Practitioner/p1",
    "official",
    "next",
];

/// Keys this reader looks for.
const KEYS: &[&str] = &[
    "resourceType",
    "id",
    "entry",
    "resource",
    "fullUrl",
    "link",
    "relation",
    "url",
    "identifier",
    "system",
    "value",
    "name",
    "family",
    "given",
    "text",
    "use",
    "active",
    "practitioner",
    "reference",
    "display",
    "code",
    "coding",
    "specialty",
    "organization",
    "location",
    "practitionerRole",
    "role",
    "issue",
    "diagnostics",
    "x",
];

fn json_value() -> impl Strategy<Value = Value> {
    tree(WORDS.to_vec(), KEYS.to_vec(), 5)
}

/// A Bundle whose entries are arbitrary objects typed as provider resources, so the
/// resource readers and the role join run on them.
fn bundle_value() -> impl Strategy<Value = Value> {
    let resource_type = prop::sample::select(vec!["Practitioner", "PractitionerRole", "Endpoint"]);
    let entry = (resource_type, json_value(), prop::option::of(".{0,8}")).prop_map(
        |(resource_type, value, full_url)| {
            let mut resource = match value {
                Value::Object(map) => map,
                other => std::iter::once(("id".to_owned(), other)).collect(),
            };
            resource.insert("resourceType".into(), Value::from(resource_type));
            json!({"fullUrl": full_url, "resource": resource})
        },
    );
    prop::collection::vec(entry, 0..6).prop_map(
        |entries| json!({"resourceType": "Bundle", "type": "searchset", "entry": entries}),
    )
}

fn aliases() -> Vec<String> {
    vec![EPIC_SANDBOX_NPI_SYSTEM.to_owned()]
}

proptest! {
    #[test]
    fn fhir_read_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read(Path::new("fuzz.json"), &bytes, &aliases());
    }

    #[test]
    fn fhir_read_and_enrich_any_json_never_panic(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        if let Ok((providers, _)) = read(Path::new("fuzz.json"), &bytes, &aliases()) {
            let mut snapshot = SourceSnapshot::new(SourceId::ehr("epic").unwrap());
            let mut account = Account::new("E1");
            account.npi = Some("1234567893".into());
            account.display_name = Some("x".into());
            snapshot.accounts.push(account);
            let _ = enrich(&mut snapshot, &providers, Path::new("fuzz.json"));
        }
    }

    #[test]
    fn fhir_read_any_bundle_entries_never_panics(value in bundle_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        prop_assert!(read(Path::new("fuzz.json"), &bytes, &aliases()).is_ok());
    }
}

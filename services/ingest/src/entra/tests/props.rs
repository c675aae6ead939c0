//! Property tests: no input makes the reader panic, and add order never changes the result.

use std::path::Path;

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::entra::EntraImport;

/// Property names the readers look at, so generated objects reach the typed code paths.
const KEYS: &[&str] = &[
    "id",
    "@odata.type",
    "@odata.context",
    "value",
    "error",
    "code",
    "message",
    "userPrincipalName",
    "displayName",
    "accountEnabled",
    "userType",
    "signInActivity",
    "lastSignInDateTime",
    "lastNonInteractiveSignInDateTime",
    "lastSuccessfulSignInDateTime",
    "createdDateTime",
    "creationDateTime",
    "manager",
    "members",
    "transitiveMembers",
    "principal",
    "principalId",
    "roleDefinition",
    "roleDefinitionId",
    "directoryScopeId",
    "roleTemplateId",
    "templateId",
    "isPrivileged",
    "securityEnabled",
    "phoneType",
    "smsSignInState",
    "keyStrength",
    "isUsable",
    "methodsRegistered",
    "isAdmin",
    "authenticationMethodConfigurations",
    "state",
    "@removed",
    "reason",
];

/// Values the readers treat specially.
const STRINGS: &[&str] = &[
    "",
    "/",
    "u1",
    "g1",
    "#microsoft.graph.user",
    "#microsoft.graph.group",
    "#microsoft.graph.servicePrincipal",
    "#microsoft.graph.orgContact",
    "#microsoft.graph.phoneAuthenticationMethod",
    "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
    "#microsoft.graph.someFutureAuthenticationMethod",
    "#microsoft.graph.unifiedRoleAssignment",
    "https://graph.microsoft.com/v1.0/$metadata#users(id,signInActivity)",
    "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
    "$metadata#users('u1')/authentication/phoneMethods",
    "$metadata#groups('g1')/members",
    "$metadata#(((",
    "0001-01-01T00:00:00Z",
    "2026-01-01T00:00:00.1234567Z",
    "9999-99-99T99:99:99Z",
    "Guest",
    "ready",
    "weak",
    "Sms",
    "enabled",
    "mobilePhone",
    "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
];

/// Contexts under which generated items are read.
const CONTEXTS: &[&str] = &[
    "https://graph.microsoft.com/v1.0/$metadata#users(displayName,signInActivity,manager())",
    "https://graph.microsoft.com/v1.0/$metadata#groups(members())",
    "https://graph.microsoft.com/v1.0/$metadata#directoryRoles",
    "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
    "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments(principal(),roleDefinition())",
    "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleInstances",
    "https://graph.microsoft.com/beta/$metadata#roleManagement/directory/roleDefinitions",
    "https://graph.microsoft.com/v1.0/$metadata#users('u1')/authentication/methods",
    "https://graph.microsoft.com/v1.0/$metadata#users('u1')/authentication/phoneMethods",
    "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",
    "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy",
];

/// File names that route by the naming convention.
const NAMES: &[&str] = &[
    "users.json",
    "groups/g1/members.json",
    "directoryRoles/r1/members.json",
    "users/u1/authentication/methods.json",
    "users/u1/authentication/temporaryAccessPassMethods.json",
    "other.json",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => ".{0,8}"]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(STRINGS).prop_map(|text| Value::String(text.to_owned())),
    ];
    leaf.prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Reads `files` in order and returns the result; only a panic fails.
fn read(files: &[(&str, &[u8])]) -> (rollcall_core::model::SourceSnapshot, Vec<crate::Diagnostic>) {
    let mut import = EntraImport::new();
    for (name, bytes) in files {
        let _ = import.add_file(Path::new(name), bytes);
    }
    import.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), name in prop::sample::select(NAMES)) {
        let mut import = EntraImport::new();
        let _ = import.add_file(Path::new(name), &bytes);
        let _ = import.finish();
    }

    #[test]
    fn any_json_value_is_read(value in json(), name in prop::sample::select(NAMES)) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let mut import = EntraImport::new();
        prop_assert!(import.add_file(Path::new(name), &bytes).is_ok());
        let _ = import.finish();
    }

    #[test]
    fn any_items_under_context(
        items in prop::collection::vec(json(), 0..6),
        context in prop::sample::select(CONTEXTS),
        name in prop::sample::select(NAMES),
    ) {
        let listing = serde_json::json!({ "@odata.context": context, "value": items.clone() });
        let bytes = serde_json::to_vec(&listing).unwrap();
        let mut import = EntraImport::new();
        prop_assert!(import.add_file(Path::new(name), &bytes).is_ok());
        // Each item also as a single entity under the same context.
        for item in items {
            let mut entity = match item {
                Value::Object(object) => object,
                other => Map::from_iter([("value".to_owned(), other)]),
            };
            entity.insert("@odata.context".to_owned(), Value::String(context.to_owned()));
            let bytes = serde_json::to_vec(&entity).unwrap();
            prop_assert!(import.add_file(Path::new(name), &bytes).is_ok());
        }
        let _ = import.finish();
    }

    #[test]
    fn add_order_never_matters(
        first in json(),
        second in json(),
        names in (prop::sample::select(NAMES), prop::sample::select(NAMES)),
    ) {
        let first = serde_json::to_vec(&first).unwrap();
        let second = serde_json::to_vec(&second).unwrap();
        let forward = read(&[(names.0, &first), (names.1, &second)]);
        let backward = read(&[(names.1, &second), (names.0, &first)]);
        prop_assert_eq!(forward, backward);
    }
}

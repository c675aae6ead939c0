//! Every public Graph sample in `testdata/public-payloads/` parses and classifies as
//! `PROVENANCE.md` describes it.

use std::path::Path;

use super::{import, payload, testdata, warnings};
use crate::diagnostic::Location;
use crate::entra::{EntraError, EntraImport, ResponseKind, ResponseSummary};

/// The user id under which per-user samples are saved; the samples come from `/me`.
const USER: &str = "8f3b0000-5555-4666-8777-000000000900";

/// What a sample should read as.
enum Expected {
    Read(ResponseKind, usize),
    Unsupported,
    GraphError(&'static str),
}

/// Each sample, the path an engineer following the naming convention would save it under
/// (the sample's own name where its context or item types are enough), and the expected
/// reading.
fn table() -> Vec<(&'static str, String, Expected)> {
    use Expected::{GraphError, Read, Unsupported};
    use ResponseKind as K;
    let methods = |collection: &str| format!("users/{USER}/authentication/{collection}.json");
    let same = |name: &'static str| name.to_owned();
    vec![
        (
            "entra-beta-roleassignments.expand-roledefinition.filter-isprivileged.json",
            same("entra-beta-roleassignments.expand-roledefinition.filter-isprivileged.json"),
            Read(K::RoleAssignments, 2),
        ),
        (
            "entra-beta-roledefinitions.filter-isprivileged.json",
            same("entra-beta-roledefinitions.filter-isprivileged.json"),
            Read(K::RoleDefinitions, 2),
        ),
        (
            "graph-beta-list-hardwareoathmethods.masked-ids.json",
            methods("hardwareOathMethods"),
            Read(K::AuthenticationMethods, 2),
        ),
        (
            "graph-beta-list-platformcredentialmethods.json",
            methods("platformCredentialMethods"),
            Read(K::AuthenticationMethods, 2),
        ),
        (
            "graph-throttling-429.body.json",
            same("graph-throttling-429.body.json"),
            GraphError("TooManyRequests"),
        ),
        (
            "graph-v1-authenticationstrength-authenticationmethodmodes.json",
            same("graph-v1-authenticationstrength-authenticationmethodmodes.json"),
            Unsupported,
        ),
        (
            "graph-v1-authenticationstrength-combinations.json",
            same("graph-v1-authenticationstrength-combinations.json"),
            Unsupported,
        ),
        (
            "graph-v1-directoryrole-members.no-odata-type.json",
            "directoryRoles/62e90394-69f5-4237-9190-012177145e10/members.json".to_owned(),
            Read(K::DirectoryRoleMembers, 1),
        ),
        (
            "graph-v1-list-authentication-methods.fido2-whfb.json",
            methods("methods"),
            Read(K::AuthenticationMethods, 2),
        ),
        (
            "graph-v1-list-authenticationstrengthpolicies.builtin.json",
            same("graph-v1-list-authenticationstrengthpolicies.builtin.json"),
            Unsupported,
        ),
        (
            "graph-v1-list-authenticationstrengthpolicies.filter-sms-password.json",
            same("graph-v1-list-authenticationstrengthpolicies.filter-sms-password.json"),
            Unsupported,
        ),
        (
            "graph-v1-list-directoryroles.placeholder-values.json",
            "directoryRoles.json".to_owned(),
            Read(K::DirectoryRoles, 1),
        ),
        (
            "graph-v1-list-emailmethods.json",
            methods("emailMethods"),
            Read(K::AuthenticationMethods, 1),
        ),
        (
            "graph-v1-list-fido2methods.json",
            methods("fido2Methods"),
            Read(K::AuthenticationMethods, 2),
        ),
        (
            "graph-v1-list-microsoftauthenticatormethods.json",
            methods("microsoftAuthenticatorMethods"),
            Read(K::AuthenticationMethods, 1),
        ),
        (
            "graph-v1-list-passwordmethods.json",
            methods("passwordMethods"),
            Read(K::AuthenticationMethods, 1),
        ),
        (
            "graph-v1-list-phonemethods.json",
            methods("phoneMethods"),
            Read(K::AuthenticationMethods, 3),
        ),
        (
            "graph-v1-list-softwareoathmethods.json",
            methods("softwareOathMethods"),
            Read(K::AuthenticationMethods, 1),
        ),
        (
            "graph-v1-list-temporaryaccesspassmethods.json",
            same("graph-v1-list-temporaryaccesspassmethods.json"),
            Read(K::AuthenticationMethods, 1),
        ),
        (
            "graph-v1-list-userregistrationdetails.json",
            same("graph-v1-list-userregistrationdetails.json"),
            Read(K::UserRegistrationDetails, 3),
        ),
        (
            "graph-v1-list-users.default-properties.json",
            same("graph-v1-list-users.default-properties.json"),
            Read(K::Users, 2),
        ),
        (
            "graph-v1-list-users.signinactivity.json",
            same("graph-v1-list-users.signinactivity.json"),
            Read(K::Users, 2),
        ),
        (
            "graph-v1-list-windowshelloforbusinessmethods.json",
            methods("windowsHelloForBusinessMethods"),
            Read(K::AuthenticationMethods, 2),
        ),
        (
            "graph-v1-roleassignments.filter-ga.expand-principal.repaired.json",
            same("graph-v1-roleassignments.filter-ga.expand-principal.repaired.json"),
            Read(K::RoleAssignments, 3),
        ),
        (
            "graph-v1-roleassignments.filter-principalid.json",
            same("graph-v1-roleassignments.filter-principalid.json"),
            Read(K::RoleAssignments, 2),
        ),
        (
            "graph-v1-user-manager-chain.levels-max.json",
            "users/a97733ce-92a4-4e7e-8d45-8e1f3e6a69d8.json".to_owned(),
            Read(K::Users, 1),
        ),
        (
            "graph-v1-users-delta.1-initial-with-removed-deleted.json",
            same("graph-v1-users-delta.1-initial-with-removed-deleted.json"),
            Read(K::Users, 4),
        ),
        (
            "graph-v1-users-delta.2-nextlink-page.json",
            same("graph-v1-users-delta.2-nextlink-page.json"),
            Read(K::Users, 2),
        ),
        (
            "graph-v1-users-delta.3-final-page-deltalink.json",
            same("graph-v1-users-delta.3-final-page-deltalink.json"),
            Read(K::Users, 2),
        ),
        (
            "graph-v1-users-delta.4-deltalink-no-changes.json",
            same("graph-v1-users-delta.4-deltalink-no-changes.json"),
            Read(K::Users, 0),
        ),
        (
            "graph-v1-users-delta.5-deltalink-changes-removed-changed.json",
            same("graph-v1-users-delta.5-deltalink-changes-removed-changed.json"),
            Read(K::Users, 2),
        ),
        (
            "graph-v1-users-delta.select-minimal-null-jobtitle.json",
            same("graph-v1-users-delta.select-minimal-null-jobtitle.json"),
            Read(K::Users, 1),
        ),
        (
            "graph-v1-usersregisteredbymethod.json",
            same("graph-v1-usersregisteredbymethod.json"),
            Unsupported,
        ),
    ]
}

#[test]
fn table_covers_every_sample() {
    let mut on_disk: Vec<String> = std::fs::read_dir(testdata("public-payloads"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = table().into_iter().map(|(name, _, _)| name.to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn every_sample_classifies() {
    for (name, saved_as, expected) in table() {
        let mut import = EntraImport::new();
        let summary = import
            .add_file(Path::new(&saved_as), &payload(name))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let [response] = summary.responses.as_slice() else {
            panic!("{name}: expected one response, got {:?}", summary.responses)
        };
        let (_, diagnostics) = import.finish();
        match expected {
            Expected::Read(kind, items) => {
                assert_eq!(response, &ResponseSummary::Read { kind, items }, "{name}");
            }
            Expected::Unsupported => {
                assert!(
                    matches!(response, ResponseSummary::Unsupported { .. }),
                    "{name}: {response:?}"
                );
                let found = warnings(&diagnostics, "is not a kind Rollcall reads");
                assert_eq!(found.len(), 1, "{name}: {diagnostics:?}");
                assert_eq!(found[0].file, Path::new(&saved_as), "{name}");
                assert!(found[0].message.contains("users/{id}/authentication/methods"), "{name}");
            }
            Expected::GraphError(code) => {
                assert_eq!(response, &ResponseSummary::GraphError { code: code.into() }, "{name}");
                let found = warnings(&diagnostics, "holds a Graph error response, not data");
                assert_eq!(found.len(), 1, "{name}");
                assert!(found[0].message.contains("`TooManyRequests`"), "{name}");
                assert!(found[0].message.contains("Please retry again later."), "{name}");
            }
        }
    }
}

#[test]
fn unsupported_warning_names_context() {
    let name = "graph-v1-authenticationstrength-combinations.json";
    let (_, diagnostics) = import(&[(name, &payload(name))]);
    let found = warnings(&diagnostics, "is not a kind Rollcall reads");
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .message
            .contains("`#identity/conditionalAccess/authenticationStrength/combinations`")
    );
    assert_eq!(found[0].location, Location::JsonPath("$".into()));
}

#[test]
fn unsupported_warning_names_type() {
    let name = "graph-v1-usersregisteredbymethod.json";
    let (_, diagnostics) = import(&[(name, &payload(name))]);
    let found = warnings(&diagnostics, "is not a kind Rollcall reads");
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("`userRegistrationMethodSummary`"), "{}", found[0].message);
}

#[test]
fn trailing_comma_names_position() {
    // The unrepaired documentation sample has a trailing comma after `"userType"`.
    let repaired = String::from_utf8(payload(
        "graph-v1-roleassignments.filter-ga.expand-principal.repaired.json",
    ))
    .unwrap();
    let broken = repaired.replacen("\"userType\": \"Member\"", "\"userType\": \"Member\",", 1);
    assert_ne!(broken, repaired);
    let line = broken.lines().position(|line| line.contains("\"Member\",")).unwrap() + 1;

    let mut import = EntraImport::new();
    let error = import.add_file(Path::new("roleAssignments.json"), broken.as_bytes()).unwrap_err();
    let EntraError::InvalidJson { file, line: at_line, problem, .. } = &error else {
        panic!("unexpected error {error:?}")
    };
    assert_eq!(file, Path::new("roleAssignments.json"));
    // serde_json reports the brace after the comma, on the next line.
    assert_eq!(*at_line, line + 1);
    assert!(problem.contains("trailing comma"), "{problem}");
    let message = error.to_string();
    assert!(message.starts_with("invalid JSON in `roleAssignments.json` at line"), "{message}");
    assert!(message.contains("remove the comma"), "{message}");
}

#[test]
fn empty_file_rejected() {
    let mut import = EntraImport::new();
    let error = import.add_file(Path::new("users.json"), b"\xEF\xBB\xBF \r\n").unwrap_err();
    assert_eq!(error, EntraError::Empty { file: "users.json".into() });
}

#[test]
fn utf16_without_bom_hinted() {
    let text: Vec<u8> = "{\"value\": []}".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut import = EntraImport::new();
    let error = import.add_file(Path::new("users.json"), &text).unwrap_err();
    assert!(error.to_string().contains("UTF-16 without a byte order mark"), "{error}");
}

#[test]
fn utf16_with_bom_read() {
    let name = "graph-v1-list-users.default-properties.json";
    let text = String::from_utf8(payload(name)).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (snapshot, diagnostics) = import(&[(name, &bytes)]);
    assert_eq!(snapshot.accounts.len(), 2);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
}

//! Authentication methods and the registration report.

use rollcall_core::model::{
    AccountKind, AccountMarker, AccountStatus, AuthMethod, MethodKind, PhoneType,
};

use super::{account, import, payload, warnings};
use crate::entra::registration::registered_kind;

const USER: &str = "8f3b0000-5555-4666-8777-000000000901";

fn methods_path(collection: &str) -> String {
    format!("users/{USER}/authentication/{collection}.json")
}

/// Reads `files` and returns the kinds of `USER`'s methods.
fn kinds(files: &[(&str, &[u8])]) -> Vec<MethodKind> {
    let (snapshot, _) = import(files);
    let methods = account(&snapshot, USER).auth_methods.clone().unwrap();
    methods.into_iter().map(|method| method.kind).collect()
}

fn phone(phone_type: PhoneType, sms_sign_in: bool) -> MethodKind {
    MethodKind::Phone { phone_type, sms_sign_in }
}

#[test]
fn every_type_dispatched() {
    let cases = [
        ("passwordAuthenticationMethod", MethodKind::Password),
        ("emailAuthenticationMethod", MethodKind::Email),
        ("microsoftAuthenticatorAuthenticationMethod", MethodKind::MicrosoftAuthenticator),
        (
            "passwordlessMicrosoftAuthenticatorAuthenticationMethod",
            MethodKind::MicrosoftAuthenticator,
        ),
        ("softwareOathAuthenticationMethod", MethodKind::SoftwareOath),
        ("hardwareOathAuthenticationMethod", MethodKind::HardwareOath),
        ("fido2AuthenticationMethod", MethodKind::Fido2),
        (
            "windowsHelloForBusinessAuthenticationMethod",
            MethodKind::WindowsHelloForBusiness { weak_key: false },
        ),
        ("platformCredentialAuthenticationMethod", MethodKind::PlatformCredential),
        (
            "temporaryAccessPassAuthenticationMethod",
            MethodKind::TemporaryAccessPass { usable: None },
        ),
        ("qrCodePinAuthenticationMethod", MethodKind::QrCodePin),
        ("externalAuthenticationMethod", MethodKind::External),
        ("phoneAuthenticationMethod", phone(PhoneType::Unspecified, false)),
        (
            "x509CertificateAuthenticationMethod",
            MethodKind::Unrecognized("#microsoft.graph.x509CertificateAuthenticationMethod".into()),
        ),
    ];
    for (type_name, expected) in cases {
        let body = format!(
            r##"{{"value": [{{"@odata.type": "#microsoft.graph.{type_name}", "id": "m1"}}]}}"##
        );
        assert_eq!(
            kinds(&[(&methods_path("methods"), body.as_bytes())]),
            vec![expected],
            "{type_name}"
        );
    }
}

#[test]
fn phone_types_and_sms_sign_in() {
    let found =
        kinds(&[(&methods_path("phoneMethods"), &payload("graph-v1-list-phonemethods.json"))]);
    assert_eq!(
        found,
        vec![
            phone(PhoneType::Mobile, true),
            phone(PhoneType::AlternateMobile, false),
            phone(PhoneType::Office, false),
        ]
    );
}

#[test]
fn sub_collection_gives_type() {
    let cases = [
        ("graph-v1-list-fido2methods.json", "fido2Methods", MethodKind::Fido2),
        ("graph-v1-list-emailmethods.json", "emailMethods", MethodKind::Email),
        ("graph-v1-list-passwordmethods.json", "passwordMethods", MethodKind::Password),
        (
            "graph-beta-list-platformcredentialmethods.json",
            "platformCredentialMethods",
            MethodKind::PlatformCredential,
        ),
    ];
    for (name, collection, expected) in cases {
        let found = kinds(&[(&methods_path(collection), &payload(name))]);
        assert!(!found.is_empty(), "{name}");
        assert!(found.iter().all(|kind| *kind == expected), "{name}: {found:?}");
    }
}

#[test]
fn sub_collection_raw_type_is_canonical() {
    let (snapshot, _) =
        import(&[(&methods_path("fido2Methods"), &payload("graph-v1-list-fido2methods.json"))]);
    let methods = account(&snapshot, USER).auth_methods.clone().unwrap();
    assert_eq!(methods[0].raw_type, "#microsoft.graph.fido2AuthenticationMethod");
}

#[test]
fn creation_date_spellings_accepted() {
    let (snapshot, diagnostics) = import(&[(
        &methods_path("methods"),
        &payload("graph-v1-list-authentication-methods.fido2-whfb.json"),
    )]);
    assert_eq!(warnings(&diagnostics, "created").len(), 0, "{diagnostics:?}");
    let methods = account(&snapshot, USER).auth_methods.clone().unwrap();
    let created: Vec<String> =
        methods.iter().map(|method| method.created_at.unwrap().to_rfc3339()).collect();
    // fido2 sends `creationDateTime`, Windows Hello `createdDateTime`.
    assert_eq!(created, vec!["2020-08-10T06:44:09+00:00", "2020-11-27T23:12:49+00:00"]);
}

#[test]
fn masked_ids_kept_as_strings() {
    let name = "graph-beta-list-hardwareoathmethods.masked-ids.json";
    let (snapshot, _) = import(&[(&methods_path("hardwareOathMethods"), &payload(name))]);
    let methods = account(&snapshot, USER).auth_methods.clone().unwrap();
    let ids: Vec<&str> = methods.iter().filter_map(|method| method.id.as_deref()).collect();
    assert_eq!(
        ids,
        vec!["3dee0e53-####-####-####-############", "aad49556-####-####-####-############"]
    );
}

#[test]
fn expired_tap_not_usable() {
    let name = "graph-v1-list-temporaryaccesspassmethods.json";
    let (snapshot, _) = import(&[(name, &payload(name))]);
    // The context names the user.
    let user = account(&snapshot, "071cc716-8147-4397-a5ba-b2105951cc0b");
    let methods = user.auth_methods.clone().unwrap();
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].kind, MethodKind::TemporaryAccessPass { usable: Some(false) });
    assert_eq!(methods[0].created_at.unwrap().timestamp_subsec_nanos(), 643_821_300);
}

#[test]
fn weak_hello_key_flagged() {
    let body = br##"{"value": [{"@odata.type": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
        "id": "w1", "keyStrength": "weak"}]}"##;
    assert_eq!(
        kinds(&[(&methods_path("methods"), body)]),
        vec![MethodKind::WindowsHelloForBusiness { weak_key: true }]
    );
}

#[test]
fn files_merge_without_duplicates() {
    let mixed = br##"{"value": [
        {"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "3179e48a-750b-4051-897c-87b9720928f7",
         "phoneNumber": "+1 2065555555", "phoneType": "mobile", "smsSignInState": "ready"},
        {"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "28c10230-6103-485e-b985-444c60001490"}]}"##;
    let phones = payload("graph-v1-list-phonemethods.json");
    let found =
        kinds(&[(&methods_path("methods"), mixed), (&methods_path("phoneMethods"), &phones)]);
    assert_eq!(
        found,
        vec![
            MethodKind::Password,
            phone(PhoneType::Mobile, true),
            phone(PhoneType::AlternateMobile, false),
            phone(PhoneType::Office, false),
        ]
    );
}

#[test]
fn disagreeing_files_keep_riskier() {
    let first =
        br##"{"value": [{"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
        "id": "t1", "isUsable": false, "createdDateTime": "2026-01-02T00:00:00Z"}]}"##;
    let second = br##"{"value": [{"id": "t1", "isUsable": true, "createdDateTime": "2026-01-01T00:00:00Z"}]}"##;
    let (snapshot, _) = import(&[
        (&methods_path("methods"), first),
        (&methods_path("temporaryAccessPassMethods"), second),
    ]);
    let methods = account(&snapshot, USER).auth_methods.clone().unwrap();
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].kind, MethodKind::TemporaryAccessPass { usable: Some(true) });
    assert_eq!(methods[0].created_at.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
}

#[test]
fn untyped_item_in_mixed_list_warns() {
    let body = br#"{"value": [{"id": "m1"}]}"#;
    let (snapshot, diagnostics) = import(&[(&methods_path("methods"), body)]);
    assert_eq!(account(&snapshot, USER).auth_methods, Some(Vec::new()));
    assert_eq!(warnings(&diagnostics, "has no `@odata.type`").len(), 1);
}

#[test]
fn methods_for_unknown_user_kept() {
    let body = payload("graph-v1-list-fido2methods.json");
    let (snapshot, diagnostics) = import(&[(&methods_path("fido2Methods"), &body)]);
    let user = account(&snapshot, USER);
    assert_eq!(user.status, AccountStatus::Unknown);
    assert_eq!(user.upn, None);
    assert_eq!(user.auth_methods.as_ref().map(Vec::len), Some(2));
    let found = warnings(&diagnostics, "is in no users response");
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains(USER));
}

#[test]
fn upn_named_file_resolves_account() {
    let users = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "value": [{"id": "u1", "userPrincipalName": "Kim.Lee@clinic.example"}]}"#;
    let body = payload("graph-v1-list-emailmethods.json");
    let (snapshot, diagnostics) = import(&[
        ("users.json", users),
        ("users/kim.lee@clinic.example/authentication/emailMethods.json", &body),
    ]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(account(&snapshot, "u1").auth_methods.as_ref().map(Vec::len), Some(1));
}

#[test]
fn methods_without_user_skipped() {
    let name = "graph-v1-list-microsoftauthenticatormethods.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    assert!(snapshot.accounts.is_empty());
    assert_eq!(warnings(&diagnostics, "users/<user-id>/authentication/methods.json").len(), 1);
}

#[test]
fn registration_report_fills_methods() {
    let name = "graph-v1-list-userregistrationdetails.json";
    let (snapshot, diagnostics) = import(&[(name, &payload(name))]);
    let bianca = account(&snapshot, "c8096958-797c-44fa-8fde-a6fb62567cf0");
    let kinds: Vec<MethodKind> =
        bianca.auth_methods.clone().unwrap().into_iter().map(|method| method.kind).collect();
    assert_eq!(
        kinds,
        vec![
            phone(PhoneType::Mobile, false),
            MethodKind::MicrosoftAuthenticator,
            MethodKind::SoftwareOath,
        ]
    );
    assert_eq!(bianca.upn.as_deref(), Some("BiancaP@Contoso.com"));
    assert_eq!(
        bianca.attributes.get("userPreferredMethodForSecondaryAuthentication").map(String::as_str),
        Some("voiceMobile")
    );
    assert_eq!(
        bianca.attributes.get("systemPreferredAuthenticationMethods").map(String::as_str),
        Some("push")
    );
    // Not in any users export: kept, with status unknown and one warning for the file.
    assert_eq!(bianca.status, AccountStatus::Unknown);
    assert_eq!(warnings(&diagnostics, "3 users in this registration report").len(), 1);
}

#[test]
fn registration_guest_keeps_empty_preference() {
    let name = "graph-v1-list-userregistrationdetails.json";
    let (snapshot, _) = import(&[(name, &payload(name))]);
    let guest = account(&snapshot, "c6ad1942-4afa-47f8-8d48-afb5d8d69d2f");
    assert_eq!(guest.kind, AccountKind::Guest);
    assert_eq!(guest.auth_methods, Some(Vec::new()));
    assert_eq!(
        guest.attributes.get("userPreferredMethodForSecondaryAuthentication").map(String::as_str),
        Some("")
    );
}

#[test]
fn registration_is_admin_marks_account() {
    let report = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",
        "value": [{"id": "u1", "isAdmin": true, "methodsRegistered": ["mobilePhone"]},
                  {"id": "u2", "isAdmin": false, "methodsRegistered": []}]}"#;
    let (snapshot, _) = import(&[("userRegistrationDetails.json", report)]);
    assert_eq!(account(&snapshot, "u1").markers, vec![AccountMarker::EntraReportIsAdmin]);
    assert!(account(&snapshot, "u2").markers.is_empty());
}

#[test]
fn method_files_override_report() {
    let report = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",
        "value": [{"id": "8f3b0000-5555-4666-8777-000000000901", "methodsRegistered": ["mobilePhone", "email"]}]}"#;
    let fido = payload("graph-v1-list-fido2methods.json");
    let found =
        kinds(&[("userRegistrationDetails.json", report), (&methods_path("fido2Methods"), &fido)]);
    assert_eq!(found, vec![MethodKind::Fido2, MethodKind::Fido2]);
}

#[test]
fn registered_names_mapped() {
    let phone_mobile = phone(PhoneType::Mobile, false);
    let cases = [
        ("mobilePhone", phone_mobile.clone()),
        ("sms", phone_mobile.clone()),
        ("mobileSMS", phone_mobile.clone()),
        ("mobileCall", phone_mobile),
        ("alternateMobilePhone", phone(PhoneType::AlternateMobile, false)),
        ("alternateMobileCall", phone(PhoneType::AlternateMobile, false)),
        ("officePhone", phone(PhoneType::Office, false)),
        ("fido2", MethodKind::Fido2),
        ("fido", MethodKind::Fido2),
        ("fido2SecurityKey", MethodKind::Fido2),
        ("passKeyDeviceBound", MethodKind::Fido2),
        ("passKeyDeviceBoundAuthenticator", MethodKind::Fido2),
        ("passKeyDeviceBoundWindowsHello", MethodKind::Fido2),
        ("passKeySynced", MethodKind::Fido2),
        ("windowsHelloForBusiness", MethodKind::WindowsHelloForBusiness { weak_key: false }),
        ("macOsSecureEnclaveKey", MethodKind::PlatformCredential),
        ("microsoftAuthenticatorPush", MethodKind::MicrosoftAuthenticator),
        ("microsoftAuthenticatorPasswordless", MethodKind::MicrosoftAuthenticator),
        ("appNotification", MethodKind::MicrosoftAuthenticator),
        ("appCode", MethodKind::MicrosoftAuthenticator),
        ("softwareOneTimePasscode", MethodKind::SoftwareOath),
        ("hardwareOneTimePasscode", MethodKind::HardwareOath),
        ("email", MethodKind::Email),
        ("temporaryAccessPass", MethodKind::TemporaryAccessPass { usable: None }),
        ("password", MethodKind::Password),
        ("appPassword", MethodKind::AppPassword),
        ("securityQuestion", MethodKind::SecurityQuestions),
        ("qrCode", MethodKind::QrCodePin),
        ("externalAuthMethod", MethodKind::External),
        ("oneTimePasscode", MethodKind::Unrecognized("oneTimePasscode".into())),
    ];
    for (name, expected) in cases {
        assert_eq!(registered_kind(name), expected, "{name}");
    }
}

#[test]
fn registered_raw_type_kept() {
    let report = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",
        "value": [{"id": "u1", "methodsRegistered": ["mobilePhone", "sms"]}]}"#;
    let (snapshot, _) = import(&[("userRegistrationDetails.json", report)]);
    let methods = account(&snapshot, "u1").auth_methods.clone().unwrap();
    let raw: Vec<&str> =
        methods.iter().map(|method: &AuthMethod| method.raw_type.as_str()).collect();
    assert_eq!(raw, vec!["mobilePhone", "sms"]);
}

//! The authentication methods policy.

use super::{import, warnings};

/// A synthetic `GET /policies/authenticationMethodsPolicy` body in the shape of the Graph
/// v1.0 `authenticationMethodsPolicy` resource page.
const POLICY: &str = r##"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy",
  "id": "authenticationMethodsPolicy",
  "displayName": "Authentication Methods Policy",
  "policyVersion": "1.5",
  "registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {"state": "default"}},
  "authenticationMethodConfigurations@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
  "authenticationMethodConfigurations": [
    {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2", "state": "enabled"},
    {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms", "state": "enabled"},
    {"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "id": "Voice", "state": "disabled"},
    {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "id": "Email", "state": "enabled",
     "allowExternalIdToUseEmailOtp": "default"}
  ]
}"##;

#[test]
fn policy_lists_enabled_weak_methods() {
    let (snapshot, diagnostics) =
        import(&[("authenticationMethodsPolicy.json", POLICY.as_bytes())]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(
        snapshot.settings.weak_methods_enabled,
        Some(vec!["email".to_owned(), "sms".to_owned()])
    );
}

#[test]
fn policy_configuration_list_read() {
    let list = r##"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        "value": [{"id": "Voice", "state": "enabled"}, {"id": "Sms", "state": "disabled"}]}"##;
    let (snapshot, _) = import(&[("policy.json", list.as_bytes())]);
    assert_eq!(snapshot.settings.weak_methods_enabled, Some(vec!["voice".to_owned()]));
}

#[test]
fn policy_absent_leaves_none() {
    let (snapshot, _) =
        import(&[("users.json", br#"{"@odata.context": "$metadata#users", "value": []}"#)]);
    assert_eq!(snapshot.settings.weak_methods_enabled, None);
}

#[test]
fn policy_without_configurations_warns() {
    let body = br#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy(id,displayName)",
        "id": "authenticationMethodsPolicy"}"#;
    let (snapshot, diagnostics) = import(&[("authenticationMethodsPolicy.json", body)]);
    assert_eq!(snapshot.settings.weak_methods_enabled, None);
    assert_eq!(warnings(&diagnostics, "no `authenticationMethodConfigurations`").len(), 1);
}

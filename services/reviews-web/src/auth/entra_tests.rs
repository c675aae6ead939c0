//! The tenant check against the ID tokens of the Entra issuer fixture
//! (`tests/fixtures/entra-issuer-tenant`).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use std::path::PathBuf;

use serde_json::Value;
use uuid::Uuid;

use super::{Expected, TenantRejection, check_tenant, issuer_directory};

fn fixture(path: &str) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/entra-issuer-tenant");
    serde_json::from_str(&std::fs::read_to_string(dir.join(path)).unwrap()).unwrap()
}

/// The practices of the fixture with their directories, the domain-name one resolved the
/// way onboarding resolves it: from the issuer of its discovery document.
fn practices() -> Vec<(String, Uuid)> {
    let tenants = fixture("rollcall-tenants.json");
    let by_domain = fixture("discovery-maplestreet-by-domain.json");
    let resolved = issuer_directory(by_domain["issuer"].as_str().unwrap()).unwrap();
    tenants["practices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|practice| {
            let name = practice["practice"].as_str().unwrap().to_owned();
            let directory = match practice["entra_tenant"].as_str() {
                Some(guid) => Uuid::parse_str(guid).unwrap(),
                None => resolved,
            };
            (name, directory)
        })
        .collect()
}

fn rejection(code: &str) -> TenantRejection {
    [
        TenantRejection::ConsumerAccount,
        TenantRejection::TenantNotOnboarded,
        TenantRejection::IssuerTidMismatch,
        TenantRejection::TenantMismatch,
        TenantRejection::IssuerMismatch,
    ]
    .into_iter()
    .find(|rejection| rejection.code() == code)
    .unwrap()
}

#[test]
fn fixture_tokens_get_expected_results() {
    let practices = practices();
    let onboarded: Vec<Uuid> = practices.iter().map(|(_, directory)| *directory).collect();
    let expected = fixture("expected.json");
    let cases = expected["id_tokens"].as_object().unwrap();
    assert_eq!(cases.len(), 7);
    for (name, outcome) in cases {
        let file = fixture(&format!("id-tokens/{name}.json"));
        let practice = file["login_started_for_practice"].as_str().unwrap();
        let directory = practices.iter().find(|(p, _)| p == practice).unwrap().1;
        let issuer = format!("https://login.microsoftonline.com/{directory}/v2.0");
        let claims = &file["claims"];
        let result = check_tenant(
            claims["tid"].as_str(),
            claims["iss"].as_str().unwrap(),
            &Expected { issuer: &issuer, directory, onboarded: &onboarded },
        );
        match outcome["result"].as_str().unwrap() {
            "accept" => {
                let key = &outcome["user_key"];
                assert_eq!(
                    result,
                    Ok(Uuid::parse_str(key[0].as_str().unwrap()).unwrap()),
                    "{name}"
                );
                assert_eq!(claims["oid"], key[1], "{name}");
            }
            _ => {
                let code = outcome["reason"].as_str().unwrap();
                assert_eq!(result, Err(rejection(code)), "{name}");
            }
        }
    }
}

#[test]
fn domain_configured_tenant_resolves_to_guid() {
    let practices = practices();
    let maple = practices.iter().find(|(p, _)| p == "maple-street-dental").unwrap();
    assert_eq!(maple.1, Uuid::parse_str("0a6f3d92-c18e-47b5-a2d4-98e7f1b06c3d").unwrap());
}

#[test]
fn organizations_template_has_no_directory() {
    let organizations = fixture("discovery-organizations.json");
    assert_eq!(issuer_directory(organizations["issuer"].as_str().unwrap()), None);
}

#[test]
fn missing_tid_is_rejected() {
    let directory = Uuid::from_u128(7);
    let expected = Expected { issuer: "http://127.0.0.1:1", directory, onboarded: &[directory] };
    assert_eq!(
        check_tenant(None, "http://127.0.0.1:1", &expected),
        Err(TenantRejection::MissingTid)
    );
    assert_eq!(
        check_tenant(Some("not-a-guid"), "http://127.0.0.1:1", &expected),
        Err(TenantRejection::MissingTid)
    );
}

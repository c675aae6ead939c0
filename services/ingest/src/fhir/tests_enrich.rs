//! Joining providers to EHR accounts.

use std::path::Path;

use rollcall_core::model::{Account, SourceId, SourceSnapshot};

use super::{Provider, enrich, read};
use crate::diagnostic::Level;

fn snapshot(accounts: Vec<Account>) -> SourceSnapshot {
    let mut snapshot = SourceSnapshot::new(SourceId::ehr("epic").unwrap());
    snapshot.accounts = accounts;
    snapshot
}

fn account(id: &str, given: &str, family: &str, npi: Option<&str>) -> Account {
    let mut account = Account::new(id);
    account.given_name = Some(given.into());
    account.family_name = Some(family.into());
    account.npi = npi.map(str::to_owned);
    account
}

fn provider(id: &str, given: &[&str], family: &str, npi: Option<&str>) -> Provider {
    let mut provider = Provider::new(id);
    provider.given_names = given.iter().map(|g| (*g).to_owned()).collect();
    provider.family_name = Some(family.into());
    provider.npi = npi.map(str::to_owned);
    provider
}

fn fhir_path() -> &'static Path {
    Path::new("providers.json")
}

#[test]
fn enrich_matches_us_core_example_by_npi() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../testdata/field-cases/ehr-exports/fhir/us-core.Practitioner-practitioner-1.json",
    );
    let (providers, _) = read(&path, &std::fs::read(&path).unwrap(), &[]).unwrap();
    let mut snapshot = snapshot(vec![
        account("E100", "Ron", "Bone", Some("9941339100")),
        account("E200", "Ronald", "Bone", None),
    ]);

    enrich(&mut snapshot, &providers, &path);

    let matched = &snapshot.accounts[0];
    assert!(matched.is_provider);
    assert_eq!(matched.attributes.get("fhir.practitioner_id").unwrap(), "practitioner-1");
    assert_eq!(matched.attributes.get("fhir.match").unwrap(), "npi");
    assert!(!matched.attributes.contains_key("fhir.active"));
    // The NPI matched, so the same-named account is not used as a fallback.
    assert!(!snapshot.accounts[1].is_provider);
}

#[test]
fn enrich_marks_every_account_with_npi() {
    let mut snapshot = snapshot(vec![
        account("E1", "Ann", "Lee", Some("1234567893")),
        account("E2", "Ann", "Lee", Some(" 1234567893 ")),
    ]);
    let providers = [provider("p1", &["Ann"], "Lee", Some("1234567893"))];

    enrich(&mut snapshot, &providers, fhir_path());

    assert!(snapshot.accounts.iter().all(|a| a.is_provider));
}

#[test]
fn enrich_name_fallback_fills_npi() {
    let mut snapshot = snapshot(vec![account("E1", "Ann Marie", "O'Neil", None)]);
    let mut found = provider("p1", &["Ann", "Marie"], "O Neil", Some("1234567893"));
    found.active = Some(false);
    found.roles.push(super::ProviderRole {
        specialties: vec![super::Coding {
            system: Some("http://nucc.org/provider-taxonomy".into()),
            code: Some("208D00000X".into()),
            display: Some("General Practice Physician".into()),
        }],
        ..Default::default()
    });

    enrich(&mut snapshot, &[found], fhir_path());

    let matched = &snapshot.accounts[0];
    assert!(matched.is_provider);
    assert_eq!(matched.npi.as_deref(), Some("1234567893"));
    assert_eq!(matched.attributes.get("fhir.match").unwrap(), "name");
    assert_eq!(matched.attributes.get("fhir.active").unwrap(), "false");
    assert_eq!(
        matched.attributes.get("fhir.specialties").unwrap(),
        "208D00000X (General Practice Physician)"
    );
}

#[test]
fn enrich_name_fallback_uses_display_name() {
    let mut only_display = Account::new("E1");
    only_display.display_name = Some("Lee,  Ann".into());
    let mut snapshot = snapshot(vec![only_display]);
    let providers = [provider("p1", &["Lee"], "Ann", None)];

    enrich(&mut snapshot, &providers, fhir_path());

    assert!(snapshot.accounts[0].is_provider);
    assert_eq!(snapshot.accounts[0].npi, None);
}

#[test]
fn enrich_ambiguous_name_not_matched() {
    let mut snapshot =
        snapshot(vec![account("E1", "Sam", "Park", None), account("E2", "Sam", "Park", None)]);
    let providers = [provider("p1", &["Sam"], "Park", Some("1234567893"))];

    let diagnostics = enrich(&mut snapshot, &providers, fhir_path());

    assert!(snapshot.accounts.iter().all(|a| !a.is_provider));
    let note = diagnostics.iter().find(|d| d.message.contains("match no account")).unwrap();
    assert!(note.message.contains("`p1`"), "{}", note.message);
}

#[test]
fn enrich_two_providers_same_name_not_matched() {
    let mut snapshot = snapshot(vec![account("E1", "Sam", "Park", None)]);
    let providers = [
        provider("p1", &["Sam"], "Park", Some("1234567893")),
        provider("p2", &["Sam"], "Park", Some("9941339100")),
    ];

    enrich(&mut snapshot, &providers, fhir_path());

    assert!(!snapshot.accounts[0].is_provider);
    assert_eq!(snapshot.accounts[0].npi, None);
}

#[test]
fn enrich_name_with_conflicting_npi_warns() {
    let mut snapshot = snapshot(vec![account("E1", "Sam", "Park", Some("9941339100"))]);
    let providers = [provider("p1", &["Sam"], "Park", Some("1234567893"))];

    let diagnostics = enrich(&mut snapshot, &providers, fhir_path());

    assert!(!snapshot.accounts[0].is_provider);
    assert_eq!(snapshot.accounts[0].npi.as_deref(), Some("9941339100"));
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(warning.message.contains("`1234567893`"), "{}", warning.message);
}

#[test]
fn enrich_accents_not_folded() {
    let mut snapshot = snapshot(vec![account("E1", "José", "Ruiz", None)]);
    let providers = [provider("p1", &["Jose"], "Ruiz", None)];

    enrich(&mut snapshot, &providers, fhir_path());

    assert!(!snapshot.accounts[0].is_provider);
}

#[test]
fn enrich_without_accounts_says_fhir_lists_providers() {
    let mut empty = snapshot(Vec::new());
    let providers = [provider("p1", &["Sam"], "Park", Some("1234567893"))];

    let diagnostics = enrich(&mut empty, &providers, fhir_path());

    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].level, Level::Info);
    assert!(diagnostics[0].message.starts_with("FHIR lists providers, not user accounts"));
    assert_eq!(diagnostics[0].file, fhir_path());
}

//! Reading the public FHIR examples under `testdata/field-cases/ehr-exports/fhir/` and
//! small synthetic resources.

use std::path::{Path, PathBuf};

use super::{EPIC_SANDBOX_NPI_SYSTEM, FhirError, Provider, read};
use crate::diagnostic::{Diagnostic, Level};

fn example(name: &str) -> (PathBuf, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/field-cases/ehr-exports/fhir")
        .join(name);
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn read_example(name: &str, aliases: &[String]) -> (Vec<Provider>, Vec<Diagnostic>) {
    let (path, bytes) = example(name);
    read(&path, &bytes, aliases).unwrap()
}

fn read_text(text: &str) -> (Vec<Provider>, Vec<Diagnostic>) {
    read(Path::new("providers.json"), text.as_bytes(), &[]).unwrap()
}

fn epic_alias() -> Vec<String> {
    vec![EPIC_SANDBOX_NPI_SYSTEM.to_owned()]
}

#[test]
fn us_core_practitioner_npi_and_name() {
    let (providers, diagnostics) = read_example("us-core.Practitioner-practitioner-1.json", &[]);
    assert_eq!(providers.len(), 1);
    let provider = &providers[0];
    assert_eq!(provider.id, "practitioner-1");
    assert_eq!(provider.npi.as_deref(), Some("9941339100"));
    assert_eq!(provider.given_names, vec!["Ronald".to_owned()]);
    assert_eq!(provider.family_name.as_deref(), Some("Bone"));
    assert_eq!(provider.full_name().as_deref(), Some("Ronald Bone"));
    assert!(diagnostics.iter().all(|d| d.level != Level::Warning), "{diagnostics:?}");
}

#[test]
fn us_core_practitioner_active_absent_is_unknown() {
    let (providers, _) = read_example("us-core.Practitioner-practitioner-1.json", &[]);
    assert_eq!(providers[0].active, None);
}

#[test]
fn us_core_practitioner_keeps_no_local_identifier() {
    let (providers, _) = read_example("us-core.Practitioner-practitioner-1.json", &[]);
    let debug = format!("{:?}", providers[0]);
    assert!(!debug.contains("25456"), "{debug}");
}

#[test]
fn us_core_bundle_npi_not_first_identifier() {
    let (providers, _) =
        read_example("us-core.PractitionerRole_Practitioner_Endpoint_Bundle_Example.json", &[]);
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0].id, "Practitioner-1011");
    assert_eq!(providers[0].npi.as_deref(), Some("9999991018"));
}

#[test]
fn us_core_bundle_drops_ssn() {
    let (providers, diagnostics) =
        read_example("us-core.PractitionerRole_Practitioner_Endpoint_Bundle_Example.json", &[]);
    let text = format!("{providers:?} {diagnostics:?}");
    assert!(!text.contains("000001011"), "the SSN leaked: {text}");
    assert!(!text.contains("us-ssn"), "{text}");
}

#[test]
fn us_core_bundle_role_joined_to_practitioner() {
    let (providers, _) =
        read_example("us-core.PractitionerRole_Practitioner_Endpoint_Bundle_Example.json", &[]);
    let provider = &providers[0];
    assert_eq!(provider.given_names, vec!["Brenda".to_owned(), "Jennings".to_owned()]);
    assert_eq!(provider.family_name.as_deref(), Some("Richard"));
    assert_eq!(provider.active, None);
    assert_eq!(provider.roles.len(), 1);

    let role = &provider.roles[0];
    assert_eq!(role.id.as_deref(), Some("PractitionerRole-1"));
    assert_eq!(role.active, None);
    let codes: Vec<_> = role.codes.iter().map(|c| c.code.as_deref().unwrap()).collect();
    assert_eq!(codes, vec!["PCP", "261QP2300X"]);
    assert_eq!(role.codes[1].system.as_deref(), Some("http://nucc.org/provider-taxonomy"));
    assert_eq!(role.specialties.len(), 1);
    assert_eq!(role.specialties[0].code.as_deref(), Some("208D00000X"));
    assert_eq!(role.specialties[0].display.as_deref(), Some("General Practice Physician"));
    let organization = role.organization.as_ref().unwrap();
    assert_eq!(organization.reference.as_deref(), Some("Organization/acme-lab"));
    assert_eq!(organization.display.as_deref(), Some("Acme Lab"));
    assert_eq!(role.locations.len(), 1);
    assert_eq!(role.locations[0].reference.as_deref(), Some("Location/hl7east"));
}

#[test]
fn us_core_bundle_endpoint_ignored_with_note() {
    let (_, diagnostics) =
        read_example("us-core.PractitionerRole_Practitioner_Endpoint_Bundle_Example.json", &[]);
    let note = diagnostics.iter().find(|d| d.message.contains("ignored resources")).unwrap();
    assert_eq!(note.level, Level::Info);
    assert!(note.message.contains("1 Endpoint"), "{}", note.message);
}

#[test]
fn cms_dpc_practitioner_active_and_npi() {
    let (providers, diagnostics) = read_example("cms-dpc.synthea-derived.practitioner-2.json", &[]);
    assert_eq!(providers.len(), 1);
    let provider = &providers[0];
    assert_eq!(provider.id, "0c527d2e-2e8a-4808-b11d-0fa06baf8254");
    assert_eq!(provider.npi.as_deref(), Some("5185897399"));
    assert_eq!(provider.active, Some(true));
    assert_eq!(provider.full_name().as_deref(), Some("Leonard963 Klocko335"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
}

#[test]
fn epic_dstu2_npis_under_alias() {
    let (providers, _) = read_example(
        "epic-open-sandbox-dstu2-via-1uphealth.Practitioner-searchset.json",
        &epic_alias(),
    );
    let npis: Vec<(&str, Option<&str>)> =
        providers.iter().map(|p| (p.id.as_str(), p.npi.as_deref())).collect();
    assert_eq!(
        npis,
        vec![
            ("2de9253687c3", None),
            ("31903d3bb791", Some("1100099997")),
            ("465efd946568", Some("1101199994")),
            ("6bc8e0032ced", None),
            ("99c389c2674d", None),
            ("9ed87921cf7a", None),
            ("c9d9b5f2ff14", None),
            ("ffb211d9ab79", Some("1104199991")),
        ]
    );
}

#[test]
fn epic_dstu2_without_alias_has_no_npi() {
    let (providers, _) =
        read_example("epic-open-sandbox-dstu2-via-1uphealth.Practitioner-searchset.json", &[]);
    assert_eq!(providers.len(), 8);
    assert!(providers.iter().all(|p| p.npi.is_none()));
}

#[test]
fn epic_dstu2_malformed_system_record_has_no_npi() {
    let (providers, diagnostics) = read_example(
        "epic-open-sandbox-dstu2-via-1uphealth.Practitioner-searchset.json",
        &epic_alias(),
    );
    let record = providers.iter().find(|p| p.id == "99c389c2674d").unwrap();
    assert_eq!(record.npi, None);
    assert!(record.attributes.is_empty());
    assert_eq!(record.full_name().as_deref(), Some("Nick Moore"));
    assert!(diagnostics.iter().all(|d| d.level == Level::Info), "{diagnostics:?}");
}

#[test]
fn epic_dstu2_family_array_and_text() {
    let (providers, _) = read_example(
        "epic-open-sandbox-dstu2-via-1uphealth.Practitioner-searchset.json",
        &epic_alias(),
    );
    let record = providers.iter().find(|p| p.id == "31903d3bb791").unwrap();
    assert_eq!(record.family_name.as_deref(), Some("Family Medicine"));
    assert_eq!(record.given_names, vec!["Physician".to_owned()]);
    assert_eq!(record.name_text.as_deref(), Some("Physician Family Medicine"));
    assert_eq!(record.active, Some(true));
}

#[test]
fn invalid_npi_kept_as_evidence_with_warning() {
    let (providers, diagnostics) = read_text(
        r#"{"resourceType":"Practitioner","id":"p1",
            "identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567890"}]}"#,
    );
    assert_eq!(providers[0].npi, None);
    assert_eq!(providers[0].attributes.get("npi_invalid").map(String::as_str), Some("1234567890"));
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(warning.message.contains("`1234567890`"), "{}", warning.message);
    assert_eq!(warning.location.to_string(), "$.identifier[0]");
}

#[test]
fn invalid_npi_then_valid_npi_uses_valid() {
    let (providers, _) = read_text(
        r#"{"resourceType":"Practitioner","id":"p1","identifier":[
            {"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567890"},
            {"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}"#,
    );
    assert_eq!(providers[0].npi.as_deref(), Some("1234567893"));
    assert_eq!(providers[0].attributes.get("npi_invalid").map(String::as_str), Some("1234567890"));
}

#[test]
fn second_distinct_npi_warns_and_keeps_first() {
    let (providers, diagnostics) = read_text(
        r#"{"resourceType":"Practitioner","id":"p1","identifier":[
            {"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"},
            {"system":"http://hl7.org/fhir/sid/us-npi","value":"9941339100"}]}"#,
    );
    assert_eq!(providers[0].npi.as_deref(), Some("1234567893"));
    assert_eq!(providers[0].attributes.get("npi_other").map(String::as_str), Some("9941339100"));
    assert_eq!(diagnostics.iter().filter(|d| d.level == Level::Warning).count(), 1);
}

#[test]
fn active_false_is_read() {
    let (providers, _) = read_text(r#"{"resourceType":"Practitioner","id":"p1","active":false}"#);
    assert_eq!(providers[0].active, Some(false));
}

#[test]
fn active_string_warns_and_reads_unknown() {
    let (providers, diagnostics) =
        read_text(r#"{"resourceType":"Practitioner","id":"p1","active":"false"}"#);
    assert_eq!(providers[0].active, None);
    assert_eq!(diagnostics[0].level, Level::Warning);
    assert_eq!(diagnostics[0].location.to_string(), "$.active");
}

#[test]
fn official_name_preferred_over_old() {
    let (providers, _) = read_text(
        r#"{"resourceType":"Practitioner","id":"p1","name":[
            {"use":"old","family":"Maidenname","given":["Ann"]},
            {"use":"official","family":"Marriedname","given":["Ann","B."]}]}"#,
    );
    assert_eq!(providers[0].family_name.as_deref(), Some("Marriedname"));
    assert_eq!(providers[0].full_name().as_deref(), Some("Ann B. Marriedname"));
}

#[test]
fn role_without_included_practitioner_keeps_reference() {
    let (providers, diagnostics) = read_text(
        r#"{"resourceType":"PractitionerRole","id":"r1",
            "practitioner":{"reference":"https://fhir.example/r4/Practitioner/77/_history/2",
                            "display":"Dana Example MD"},
            "specialty":[{"text":"Cardiology"}]}"#,
    );
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0].id, "77");
    assert_eq!(providers[0].name_text.as_deref(), Some("Dana Example MD"));
    assert_eq!(providers[0].npi, None);
    assert_eq!(providers[0].roles[0].specialties[0].display.as_deref(), Some("Cardiology"));
    assert_eq!(diagnostics[0].level, Level::Info);
}

#[test]
fn role_without_practitioner_skipped() {
    let (providers, diagnostics) =
        read_text(r#"{"resourceType":"PractitionerRole","id":"r1","code":[{"text":"Nurse"}]}"#);
    assert!(providers.is_empty());
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(warning.message.contains("without `practitioner`"), "{}", warning.message);
}

#[test]
fn collection_bundle_uses_full_url_without_id() {
    let (providers, _) = read_text(
        r#"{"resourceType":"Bundle","type":"collection","entry":[
            {"fullUrl":"urn:uuid:5a0c6b52-0000-4000-8000-000000000001",
             "resource":{"resourceType":"Practitioner","name":[{"family":"Example","given":["Lee"]}]}},
            {"resource":{"resourceType":"PractitionerRole","active":true,
             "practitioner":{"reference":"urn:uuid:5a0c6b52-0000-4000-8000-000000000001"}}}]}"#,
    );
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0].id, "urn:uuid:5a0c6b52-0000-4000-8000-000000000001");
    assert_eq!(providers[0].roles.len(), 1);
    assert_eq!(providers[0].roles[0].active, Some(true));
}

#[test]
fn searchset_next_link_warns() {
    let (_, diagnostics) = read_text(
        r#"{"resourceType":"Bundle","type":"searchset",
            "link":[{"relation":"next","url":"https://fhir.example/r4/Practitioner?page=2"}],
            "entry":[{"resource":{"resourceType":"Practitioner","id":"p1"}}]}"#,
    );
    let warning = diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert!(warning.message.contains("page=2"), "{}", warning.message);
    assert_eq!(warning.location.to_string(), "$.link");
}

#[test]
fn pages_array_merges_repeated_practitioner() {
    let (providers, diagnostics) = read_text(
        r#"[{"resourceType":"Bundle","type":"searchset","entry":[
              {"resource":{"resourceType":"Practitioner","id":"p1"}}]},
            {"resourceType":"Bundle","type":"searchset","entry":[
              {"resource":{"resourceType":"Practitioner","id":"p1"}},
              {"resource":{"resourceType":"Practitioner","id":"p2"}}]}]"#,
    );
    let ids: Vec<_> = providers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, vec!["p1", "p2"]);
    assert!(
        diagnostics
            .iter()
            .any(|d| d.message.starts_with("Practitioner entries that repeat an earlier id: 1;"))
    );
}

#[test]
fn dstu2_inline_practitioner_role_read() {
    let (providers, _) = read_text(
        r#"{"resourceType":"Practitioner","id":"p1","practitionerRole":[{
            "role":{"coding":[{"system":"http://hl7.org/fhir/practitioner-role","code":"doctor"}]},
            "specialty":[{"coding":[{"code":"394814009","display":"General practice"}]}],
            "managingOrganization":{"reference":"Organization/1"},
            "location":[{"reference":"Location/2"}]}]}"#,
    );
    let role = &providers[0].roles[0];
    assert_eq!(role.codes[0].code.as_deref(), Some("doctor"));
    assert_eq!(role.specialties[0].code.as_deref(), Some("394814009"));
    assert_eq!(role.organization.as_ref().unwrap().reference.as_deref(), Some("Organization/1"));
    assert_eq!(role.locations[0].reference.as_deref(), Some("Location/2"));
}

#[test]
fn byte_order_mark_accepted() {
    let text = "\u{feff}{\"resourceType\":\"Practitioner\",\"id\":\"p1\"}";
    let (providers, _) = read_text(text);
    assert_eq!(providers[0].id, "p1");
}

#[test]
fn invalid_json_names_line_and_column() {
    let error = read(Path::new("p.json"), b"{\n  \"resourceType\": }", &[]).unwrap_err();
    let FhirError::InvalidJson { line, column, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*line, *column), (2, 19));
    assert!(!error.to_string().contains(" at line 2 column"), "{error}");
}

#[test]
fn patient_resource_rejected() {
    let error =
        read(Path::new("p.json"), br#"{"resourceType":"Patient","id":"x"}"#, &[]).unwrap_err();
    assert!(
        matches!(&error, FhirError::UnsupportedResource { resource_type, .. } if resource_type == "Patient")
    );
    assert!(error.to_string().contains("`Patient`"), "{error}");
}

#[test]
fn object_without_resource_type_rejected() {
    let error = read(Path::new("p.json"), br#"{"id":"x"}"#, &[]).unwrap_err();
    assert!(matches!(error, FhirError::NotFhir { found: "object", .. }));
}

#[test]
fn operation_outcome_rejected_with_text() {
    let error = read(
        Path::new("p.json"),
        br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"scope user/Practitioner.read missing"}]}"#,
        &[],
    )
    .unwrap_err();
    assert!(error.to_string().contains("`scope user/Practitioner.read missing`"), "{error}");
}

#[test]
fn empty_bundle_warns_no_provider() {
    let (providers, diagnostics) =
        read_text(r#"{"resourceType":"Bundle","type":"searchset","total":0}"#);
    assert!(providers.is_empty());
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].level, Level::Warning);
}

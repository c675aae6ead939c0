//! Scenario folders: each `scenarios/<name>/` is a tenant folder in the `rollcall scan`
//! layout with an `expected.txt` listing every finding as `kind subject`, one per line.
//! The first line may set the evaluation instant: `# as-of: 2026-12-01T15:00:00Z`.

use std::path::Path;

use chrono::{DateTime, Utc};
use rollcall_integration_tests::{expected, repo, scan, tally};

const DEFAULT_AS_OF: &str = "2026-12-01T15:00:00Z";

/// Scans `name` and compares its findings with `expected.txt`, naming every difference.
fn check(name: &str) {
    let dir = repo().join("integration-tests/scenarios").join(name);
    let text = std::fs::read_to_string(dir.join("expected.txt"))
        .unwrap_or_else(|e| panic!("{name}: cannot read expected.txt: {e}"));
    let as_of = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("# as-of:"))
        .map_or(DEFAULT_AS_OF, str::trim);
    let as_of: DateTime<Utc> = as_of.parse().unwrap_or_else(|e| panic!("{name}: bad as-of: {e}"));
    let (tenant, evaluation) = scan(&dir, as_of);
    let found = tally(&evaluation.findings);
    let wanted = expected(&text);
    let missing: Vec<_> = wanted.iter().filter(|(k, n)| found.get(*k) != Some(n)).collect();
    let extra: Vec<_> = found.iter().filter(|(k, n)| wanted.get(*k) != Some(n)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: findings differ\n  expected but not found: {missing:?}\n  found but not expected: {extra:?}\n  diagnostics: {:#?}",
        tenant.diagnostics
    );
}

/// One test per scenario folder, so a failure names its scenario.
macro_rules! scenarios {
    ($($test:ident => $folder:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($folder);
            }
        )*

        #[test]
        fn every_scenario_folder_has_a_test() {
            let listed = [$($folder),*];
            let dir = repo().join("integration-tests/scenarios");
            for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
                if Path::new(&entry.path()).join("tenant.yaml").is_file() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    assert!(listed.contains(&name.as_str()), "scenario `{name}` has no test in scenarios.rs");
                }
            }
        }
    };
}

scenarios! {
    ad_ranged_members => "ad-ranged-members",
    ehr_athena_leavers => "ehr-athena-leavers",
    ehr_exports => "ehr-exports",
    ehr_extracts => "ehr-extracts",
    ehr_fhir => "ehr-fhir",
    ehr_leavers_epcs => "ehr-leavers-epcs",
    excel_roster_ansi => "excel-roster-ansi",
    excel_roster_utf8 => "excel-roster-utf8",
    graph_mfa_method_types => "graph-mfa-method-types",
    ldap_dn_escaping => "ldap-dn-escaping",
}

/// The FHIR files of `ehr-fhir` mark providers in the exports beside them. NPIs are picked
/// by identifier system (Epic's OID, and the NPI after a social security number in US
/// Core), and a provider is matched by name when the export has no NPI. `active` is kept
/// only where the resource sends it, and no account is added for a practitioner without
/// one.
#[test]
fn ehr_fhir_enriches_the_exports() {
    let dir = repo().join("integration-tests/scenarios/ehr-fhir");
    let as_of: DateTime<Utc> = DEFAULT_AS_OF.parse().unwrap();
    let (tenant, evaluation) = scan(&dir, as_of);
    // Privileged and still employed: the security administrator by policy and the Epic
    // EPCS prescriber (`EPRESC_CNTRLD_YN`). The eClinicalWorks EPCS prescriber has left,
    // so the count leaves him out. FHIR changes neither.
    assert_eq!(evaluation.stats.privileged_identities, 2);
    let account = |source: &str, id: &str| {
        let snapshot = tenant.data.sources.iter().find(|s| s.source.to_string() == source);
        let snapshot = snapshot.unwrap_or_else(|| panic!("no source {source}"));
        snapshot.accounts.iter().find(|a| a.id == id).unwrap_or_else(|| panic!("no {id}")).clone()
    };
    let facts = |source: &str, id: &str| {
        let account = account(source, id);
        let attribute = |name: &str| account.attributes.get(name).cloned();
        (
            account.is_provider,
            account.npi.clone(),
            attribute("fhir.match"),
            attribute("fhir.active"),
        )
    };
    let text = |value: &str| Some(value.to_owned());

    // Epic's sandbox: the NPI only under Epic's OID, matched by name, then by NPI.
    assert_eq!(
        facts("ehr:epic", "88210002"),
        (true, text("1100099997"), text("name"), text("true"))
    );
    assert_eq!(
        facts("ehr:epic", "88210003"),
        (true, text("1104199991"), text("npi"), text("true"))
    );
    // Staff without a provider record stay as they were.
    assert_eq!(facts("ehr:epic", "88210004"), (false, None, None, None));
    // US Core without `active`: matched by name, the NPI filled, activity unknown.
    assert_eq!(
        facts("ehr:eclinicalworks", "20501"),
        (true, text("9941339100"), text("name"), None)
    );
    // The bundle's practitioner lists a social security number first.
    assert_eq!(facts("ehr:eclinicalworks", "20502"), (true, text("9999991018"), text("npi"), None));
    assert_eq!(
        facts("ehr:eclinicalworks", "20503"),
        (true, text("5185897399"), text("npi"), text("true"))
    );

    // Eight sandbox practitioners and three US Core or CMS ones, but only the exports'
    // accounts: FHIR adds none.
    let counts: Vec<(String, usize)> = tenant
        .data
        .sources
        .iter()
        .map(|s| (s.source.to_string(), s.accounts.len()))
        .filter(|(source, _)| source.starts_with("ehr:"))
        .collect();
    assert_eq!(counts, [("ehr:epic".to_owned(), 4), ("ehr:eclinicalworks".to_owned(), 4)]);
}

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
    ehr_leavers_epcs => "ehr-leavers-epcs",
    excel_roster_ansi => "excel-roster-ansi",
    excel_roster_utf8 => "excel-roster-utf8",
    graph_mfa_method_types => "graph-mfa-method-types",
    ldap_dn_escaping => "ldap-dn-escaping",
}

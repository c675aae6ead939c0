//! The bundled example practice: the scan must find exactly the problems its README
//! lists, and the generator must reproduce the committed files.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rollcall_core::{FindingKind, Severity};
use rollcall_integration_tests::{repo, scan, tally};

/// The instant the example data describes: 09:00 in Chicago on 1 December 2026.
const AS_OF: &str = "2026-12-01T15:00:00Z";

/// The `finding subject` pairs of the README's planted-problems table.
fn planted() -> BTreeMap<String, usize> {
    let readme = std::fs::read_to_string(repo().join("examples/harborview/README.md")).unwrap();
    let (_, table) = readme
        .split_once("## Planted problems")
        .expect("the README has a planted-problems section");
    let mut rows = BTreeMap::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let kind = cells[1].trim_matches('`');
        let subject = cells[2].trim_matches('`');
        *rows.entry(format!("{kind} {subject}")).or_default() += 1;
    }
    rows
}

#[test]
fn example_reports_exactly_the_planted_problems() {
    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    let (tenant, evaluation) = scan(&repo().join("examples/harborview"), as_of);
    let found = tally(&evaluation.findings);
    let planted = planted();
    let missing: Vec<_> = planted.keys().filter(|k| !found.contains_key(*k)).collect();
    let extra: Vec<_> = found.keys().filter(|k| !planted.contains_key(*k)).collect();
    assert!(missing.is_empty(), "planted but not found: {missing:#?}");
    assert!(extra.is_empty(), "found but not planted: {extra:#?}");
    assert_eq!(found, planted);
    let warnings: Vec<_> =
        tenant.diagnostics.iter().filter(|d| d.level >= rollcall_ingest::Level::Warning).collect();
    assert!(warnings.is_empty(), "the example files have problems: {warnings:#?}");
}

#[test]
fn example_plants_every_finding_kind() {
    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    let (_, evaluation) = scan(&repo().join("examples/harborview"), as_of);
    // Pipeline and revocation kinds come from the engine's stored state, not from the
    // rules, so no file can plant them.
    for kind in FindingKind::ALL.into_iter().filter(|kind| !kind.needs_store()) {
        assert!(evaluation.findings.iter().any(|f| f.kind == kind), "no `{kind}` planted");
    }
    let critical = evaluation.findings.iter().filter(|f| f.severity == Severity::Critical).count();
    assert_eq!(critical, 2);
}

#[test]
fn example_files_match_the_generator() {
    let out = std::env::temp_dir().join(format!("rollcall-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    rollcall_datagen::write::tenant(&rollcall_datagen::example::harborview(), &out).unwrap();
    let committed = repo().join("examples/harborview");
    let mut compared = 0;
    for entry in walk(&out) {
        let relative = entry.strip_prefix(&out).unwrap();
        let generated = std::fs::read(&entry).unwrap();
        let stored = std::fs::read(committed.join(relative)).unwrap_or_else(|e| {
            panic!("{} is not committed: {e}; run make example-data", relative.display())
        });
        assert!(
            generated == stored,
            "{} differs from the generator; run make example-data",
            relative.display()
        );
        compared += 1;
    }
    std::fs::remove_dir_all(&out).unwrap();
    assert!(compared >= 10, "only {compared} files generated");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

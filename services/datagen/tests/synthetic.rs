//! The seeded generator: the same seed gives the same bytes, and what it writes is read
//! without problems and exercises every rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rollcall_core::{FindingKind, evaluate};
use rollcall_datagen::synthetic::{self, Params};
use rollcall_ingest::Level;
use rollcall_ingest::layout;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { found.push(path) }
        }
    }
    found.sort();
    found
}

#[test]
fn same_seed_gives_identical_files() {
    let params = Params { tenants: 2, people: 120, grants: 12, seed: 99 };
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    synthetic::write_all(&params, first.path()).unwrap();
    synthetic::write_all(&params, second.path()).unwrap();
    let a = files(first.path());
    let b = files(second.path());
    let relative = |dir: &Path, list: &[PathBuf]| -> Vec<PathBuf> {
        list.iter().map(|p| p.strip_prefix(dir).unwrap().to_path_buf()).collect()
    };
    assert_eq!(relative(first.path(), &a), relative(second.path(), &b));
    assert!(a.len() > 20, "only {} files written", a.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(std::fs::read(x).unwrap() == std::fs::read(y).unwrap(), "{} differs", x.display());
    }

    let other = tempfile::tempdir().unwrap();
    synthetic::write_all(&Params { seed: 100, ..params }, other.path()).unwrap();
    let roster = Path::new("practice-0001/hr/roster.csv");
    assert_ne!(
        std::fs::read(first.path().join(roster)).unwrap(),
        std::fs::read(other.path().join(roster)).unwrap(),
        "another seed gave the same roster"
    );
}

#[test]
fn generated_tenant_scans_cleanly_and_every_rule_fires() {
    let params = Params { tenants: 1, people: 3_000, grants: 20, seed: 5 };
    let out = tempfile::tempdir().unwrap();
    synthetic::write_all(&params, out.path()).unwrap();
    let dirs = layout::find_tenants(&[out.path().to_path_buf()]).unwrap();
    assert_eq!(dirs.len(), 1);
    let as_of = synthetic::reference();
    let tenant = layout::load_tenant(&dirs[0], as_of).unwrap();
    let problems: Vec<_> =
        tenant.diagnostics.iter().filter(|d| d.level >= Level::Warning).collect();
    assert!(problems.is_empty(), "the generated files have problems: {problems:#?}");
    assert_eq!(tenant.data.sources.len(), 3, "Entra, AD and the EHR");
    assert!(tenant.data.hr.is_some());

    let evaluation = evaluate(&tenant.config.tenant, &tenant.data, as_of);
    let kinds: BTreeSet<FindingKind> = evaluation.findings.iter().map(|f| f.kind).collect();
    let expected = [
        FindingKind::MfaPrivilegedPhone,
        FindingKind::MfaNone,
        FindingKind::MfaWeakOnly,
        FindingKind::MfaUnrecognizedMethod,
        FindingKind::MfaPolicyPhoneEnabled,
        FindingKind::GrantOutsideBaseline,
        FindingKind::SodConflict,
        FindingKind::PrivilegedWithoutRole,
        FindingKind::PeerOutlier,
        FindingKind::JobRoleUnknown,
        FindingKind::DormantAccount,
        FindingKind::NeverSignedIn,
        FindingKind::OrphanAccount,
        FindingKind::GenericAccount,
        FindingKind::TerminatedActive,
        FindingKind::DeprovisionOverdue,
    ];
    let missing: Vec<_> = expected.iter().filter(|k| !kinds.contains(k)).collect();
    assert!(missing.is_empty(), "no finding of {missing:?}; found {kinds:?}");
    // Problems are planted at rates of a few percent, not everywhere.
    let people = evaluation.stats.identities;
    assert!(people >= params.people, "{people} identities for {} people", params.people);
    assert!(
        evaluation.findings.len() < people,
        "{} findings for {people} people: the planted rates are too high",
        evaluation.findings.len()
    );
}

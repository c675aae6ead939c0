//! The JSON report of the example, compared byte for byte with a committed copy so that
//! every schema change shows up in review. `ROLLCALL_BLESS=1 cargo test -p rollcall-cli`
//! rewrites the copy after an intended change.

use std::fs;
use std::path::PathBuf;

use crate::support::{Scratch, scan};

/// What the generator version is replaced with, so a version bump alone changes nothing.
const VERSION_PLACEHOLDER: &str = "<generator version>";

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/harborview.json")
}

/// Replaces the generator version in `report` with [`VERSION_PLACEHOLDER`]. Fails the test
/// unless the version occurs exactly once, where the schema puts it.
fn without_version(report: &str) -> String {
    let line = format!("\n    \"version\": \"{}\"\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(report.matches(&line).count(), 1, "the generator version is not in the report");
    report.replacen(&line, &format!("\n    \"version\": \"{VERSION_PLACEHOLDER}\"\n"), 1)
}

#[test]
fn json_report_matches_golden() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    // A relative folder name keeps the temporary path out of the report.
    let run = scan(scratch.path(), "harborview", &["--format", "json"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let actual = without_version(&run.stdout);

    let path = golden_path();
    if std::env::var_os("ROLLCALL_BLESS").is_some_and(|v| v == "1") {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {}: {e}; run with ROLLCALL_BLESS=1 to create it", path.display())
    });
    if actual != expected {
        let first = actual.lines().zip(expected.lines()).position(|(a, e)| a != e);
        let line = first.unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "the JSON report differs from {} at line {}:\n  expected: {}\n  actual:   {}\n\
             If the change is intended, run with ROLLCALL_BLESS=1 and review the diff.",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end of file>"),
            actual.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn golden_names_no_version_or_temp_path() {
    let golden = fs::read_to_string(golden_path()).unwrap();

    assert!(golden.contains(&format!("\"version\": \"{VERSION_PLACEHOLDER}\"")));
    assert!(!golden.contains(env!("CARGO_PKG_VERSION")), "a version number is in the golden file");
    assert!(golden.contains("\"path\": \"harborview\""));
    assert!(!golden.contains("/tmp"), "a temporary path is in the golden file");
}

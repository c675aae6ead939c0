//! The reviewer guide names the app's buttons, headings and labels in bold. Each one must
//! still be a text of the review app or of its mail, so the guide cannot describe a
//! button that was renamed.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::path::{Path, PathBuf};

/// Collapses every run of white space into one space, so a label wrapped across lines
/// in the guide or the code still matches.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Appends the text of every `.rs` file under `dir` to `out`.
fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
            out.push(' ');
        }
    }
}

#[test]
fn guide_labels_exist_in_app() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide = std::fs::read_to_string(root.join("docs/reviewer-guide.md")).unwrap();
    let mut app = String::new();
    sources(&root.join("services/reviews-web/src"), &mut app);
    sources(&root.join("services/reviews/src"), &mut app);
    let app = flat(&app);

    let labels: Vec<String> = guide.split("**").skip(1).step_by(2).map(flat).collect();
    // Examples with dates or quoted names are built from data, not fixed texts.
    let fixed: Vec<&String> = labels
        .iter()
        .filter(|label| !label.contains('"') && !label.chars().any(|c| c.is_ascii_digit()))
        .collect();
    assert!(fixed.len() >= 25, "the guide lost its labels: {fixed:?}");
    let missing: Vec<&&String> =
        fixed.iter().filter(|label| !app.contains(label.as_str())).collect();
    assert!(
        missing.is_empty(),
        "labels in docs/reviewer-guide.md the app does not show: {missing:?}"
    );
}

//! A broken export file: without `--strict` the other files are still read and the scan
//! exits 0; with `--strict` it exits 3. Either way the report names the file and where in
//! it the problem is.

use serde_json::Value;

use crate::support::{Scratch, scan, source_accounts};

/// Returns the diagnostics of the first tenant of a JSON report at warning level or above.
fn problems(report: &Value) -> Vec<Value> {
    report["tenants"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["level"] != "info")
        .cloned()
        .collect()
}

fn accounts(report: &Value) -> Vec<(String, u64)> {
    source_accounts(&report["tenants"][0])
}

/// Copies the example and replaces `file` in the copy with `contents`.
fn example_with(file: &str, contents: &str) -> Scratch {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");
    scratch.write(&format!("harborview/{file}"), contents);
    scratch
}

/// Copies the example and cuts its `entra/groups.json` off in the middle.
fn truncated_entra_groups() -> Scratch {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");
    let text = scratch.read("harborview/entra/groups.json");
    scratch.write("harborview/entra/groups.json", &text[..text.len() / 2]);
    scratch
}

#[test]
fn invalid_entra_json_fails_but_others_are_read() {
    let scratch = truncated_entra_groups();

    let run = scan(scratch.path(), "harborview", &["--format", "json"]);

    // A file that cannot be read drops part of a source, so the run fails even without
    // --strict; the report still has everything that could be read.
    assert_eq!(run.status, 3, "{}", run.stderr);
    assert!(run.stderr.contains("entra/groups.json"), "{}", run.stderr);
    let report = run.json();
    let problems = problems(&report);
    let (errors, warnings): (Vec<_>, Vec<_>) = problems.iter().partition(|d| d["level"] == "error");
    assert_eq!(errors.len(), 1, "{problems:#?}");
    assert_eq!(errors[0]["file"], "entra/groups.json");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("invalid JSON in `entra/groups.json` at line "), "{message}");
    // Without the groups response, each group's member file warns that its name is lost.
    assert_eq!(warnings.len(), 7, "{warnings:#?}");
    assert!(warnings.iter().all(|w| w["message"].as_str().unwrap().contains("save `groups.json`")));
    assert_eq!(
        accounts(&report),
        [("entra".to_owned(), 49), ("ldap".to_owned(), 49), ("ehr:athenahealth".to_owned(), 47)]
    );
}

#[test]
fn invalid_entra_json_with_strict_exits_3() {
    let scratch = truncated_entra_groups();

    let run = scan(scratch.path(), "harborview", &["--strict"]);

    assert_eq!(run.status, 3);
    assert!(
        run.stdout
            .contains("   error: entra/groups.json: invalid JSON in `entra/groups.json` at line ")
    );
}

/// Copies the example and cuts its LDIF off in the middle of an attribute name. Returns
/// the copy and the line the LDIF now ends on.
fn truncated_ldif() -> (Scratch, usize) {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");
    let text = scratch.read("harborview/ldap/directory.ldif");
    let (cut, _) = text.match_indices("userAccountControl").nth(10).expect("eleven user entries");
    let truncated = &text[..cut + "userAccoun".len()];
    scratch.write("harborview/ldap/directory.ldif", truncated);
    (scratch, truncated.lines().count())
}

#[test]
fn truncated_ldif_is_read_up_to_the_cut() {
    let (scratch, last_line) = truncated_ldif();

    let run = scan(scratch.path(), "harborview", &["--format", "json"]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    let report = run.json();
    let problems = problems(&report);
    // The half line is skipped, and the missing final line break says the file is cut off.
    assert_eq!(problems.len(), 2, "{problems:#?}");
    for problem in &problems {
        assert_eq!(problem["level"], "warning");
        assert_eq!(problem["file"], "ldap/directory.ldif");
        assert_eq!(problem["location"], format!("line {last_line}"));
    }
    let messages: Vec<&str> = problems.iter().map(|p| p["message"].as_str().unwrap()).collect();
    assert!(messages.iter().any(|m| m.contains("`userAccoun`")), "{problems:#?}");
    assert!(messages.iter().any(|m| m.contains("may be cut off")), "{problems:#?}");
    let accounts = accounts(&report);
    assert_eq!(accounts[0], ("entra".to_owned(), 49));
    assert_eq!(accounts[1].0, "ldap");
    assert!((1..49).contains(&accounts[1].1), "{accounts:?}");
    assert_eq!(accounts[2], ("ehr:athenahealth".to_owned(), 47));
}

#[test]
fn truncated_ldif_with_strict_exits_3() {
    let (scratch, last_line) = truncated_ldif();

    let run = scan(scratch.path(), "harborview", &["--strict"]);

    assert_eq!(run.status, 3);
    let expected = format!("   warning: ldap/directory.ldif, line {last_line}: ");
    assert!(run.stdout.contains(&expected), "{expected} is not in:\n{}", run.stdout);
}

/// Copies the example and renames a column of `file`'s header to one it already has.
fn duplicate_header(file: &str, from: &str, to: &str) -> Scratch {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");
    let text = scratch.read(&format!("harborview/{file}"));
    let (header, rows) = text.split_once('\n').unwrap();
    assert!(header.contains(from), "`{from}` is not in the header of {file}");
    scratch
        .write(&format!("harborview/{file}"), format!("{}\n{rows}", header.replacen(from, to, 1)));
    scratch
}

#[test]
fn duplicate_csv_header_fails_but_others_are_read() {
    let scratch = duplicate_header("ehr/athena-users.csv", "\"Last name\"", "\"Username\"");

    let run = scan(scratch.path(), "harborview", &["--format", "json"]);

    assert_eq!(run.status, 3, "{}", run.stderr);
    let report = run.json();
    let problems = problems(&report);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["level"], "error");
    assert_eq!(problems[0]["file"], "ehr/athena-users.csv");
    let message = problems[0]["message"].as_str().unwrap();
    assert!(message.contains("duplicate column `Username` in the header at line 1"), "{message}");
    assert_eq!(
        accounts(&report),
        [("entra".to_owned(), 49), ("ldap".to_owned(), 49), ("ehr:athenahealth".to_owned(), 0)]
    );
}

#[test]
fn duplicate_roster_header_with_strict_exits_3() {
    let scratch = duplicate_header("hr/roster.csv", "Last Name", "First Name");

    let strict = scan(scratch.path(), "harborview", &["--strict"]);
    let lenient = scan(scratch.path(), "harborview", &["--format", "json"]);

    assert_eq!(strict.status, 3);
    assert!(
        strict.stdout.contains(
            "   error: hr/roster.csv: duplicate column `First Name` in the header at line 1"
        ),
        "{}",
        strict.stdout
    );
    assert_eq!(lenient.status, 3);
    assert_eq!(lenient.json()["tenants"][0]["hr_workers"], Value::Null);
    assert!(lenient.stderr.contains("duplicate column `First Name`"), "{}", lenient.stderr);
}

#[test]
fn example_with_strict_exits_0() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &["--strict"]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

#[test]
fn unclaimed_file_is_a_warning() {
    let scratch = example_with("exports/users-old.csv", "Username\nold\n");

    let lenient = scan(scratch.path(), "harborview", &["--format", "json"]);
    let strict = scan(scratch.path(), "harborview", &["--strict"]);

    assert_eq!(lenient.status, 0);
    let problems = problems(&lenient.json());
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["file"], "exports/users-old.csv");
    assert_eq!(strict.status, 3);
}

#[test]
fn strict_names_problems_on_stderr() {
    let (scratch, last_line) = truncated_ldif();

    let run =
        scan(scratch.path(), "harborview", &["--strict", "--format", "json", "-o", "report.json"]);

    assert_eq!(run.status, 3);
    assert_eq!(run.stdout, "");
    let expected = format!("rollcall: warning: harborview/ldap/directory.ldif, line {last_line}: ");
    assert!(run.stderr.contains(&expected), "{expected} is not in:\n{}", run.stderr);
}

#[test]
fn strict_text_on_terminal_names_problems_once() {
    let (scratch, _) = truncated_ldif();

    let run = scan(scratch.path(), "harborview", &["--strict"]);

    assert_eq!(run.status, 3);
    assert!(run.stdout.contains("warning: ldap/directory.ldif"), "{}", run.stdout);
    assert!(!run.stderr.contains("directory.ldif"), "{}", run.stderr);
}

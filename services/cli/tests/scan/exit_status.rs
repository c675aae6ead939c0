//! Exit statuses: 0 when the scan ran, 1 for findings at or above `--fail-on`, 2 for a
//! bad command line, 3 when an input cannot be read.

use crate::support::{RECENT_LOGON, Scratch, YEAR_OLD_LOGON, rollcall, scan};

#[test]
fn fail_on_high_exits_1() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &["--fail-on", "high"]);

    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stdout.contains("27 findings"), "the report is still written");
}

#[test]
fn fail_on_critical_exits_1() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &["--fail-on", "critical", "--format", "json"]);

    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(run.json()["summary"]["by_severity"]["critical"], 2);
}

#[test]
fn example_without_fail_on_exits_0() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    assert_eq!(scan(scratch.path(), "harborview", &[]).status, 0);
}

#[test]
fn clean_tenant_with_fail_on_info_exits_0() {
    let scratch = Scratch::new();
    scratch.write_small_tenant("small", "small", RECENT_LOGON);

    let run = scan(scratch.path(), "small", &["--fail-on", "info", "--format", "json"]);

    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["findings"], 0);
    assert_eq!(report["tenants"][0]["identities"], 1);
    assert_eq!(report["tenants"][0]["sources"][0]["accounts"], 1);
}

#[test]
fn fail_on_above_worst_finding_exits_0() {
    let scratch = Scratch::new();
    scratch.write_small_tenant("small", "small", YEAR_OLD_LOGON);

    let medium = scan(scratch.path(), "small", &["--fail-on", "medium"]);
    let high = scan(scratch.path(), "small", &["--fail-on", "high"]);

    assert!(medium.stdout.contains("dormant_account"), "{}", medium.stdout);
    assert_eq!(medium.status, 1);
    assert_eq!(high.status, 0);
}

#[test]
fn as_of_garbage_exits_2() {
    let scratch = Scratch::new();
    scratch.write_small_tenant("small", "small", RECENT_LOGON);

    let run = rollcall(scratch.path(), &["scan", "small", "--as-of", "garbage"]);

    assert_eq!(run.status, 2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("`garbage` is not a timestamp"), "{}", run.stderr);
    assert!(run.stderr.contains("RFC 3339"), "{}", run.stderr);
}

#[test]
fn unknown_fail_on_level_exits_2() {
    let scratch = Scratch::new();
    scratch.write_small_tenant("small", "small", RECENT_LOGON);

    let run = scan(scratch.path(), "small", &["--fail-on", "severe"]);

    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("severe"), "{}", run.stderr);
}

#[test]
fn missing_folder_exits_3() {
    let scratch = Scratch::new();

    let run = scan(scratch.path(), "no-such-practice", &[]);

    assert_eq!(run.status, 3);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("`no-such-practice` is not a folder"), "{}", run.stderr);
}

#[test]
fn file_instead_of_folder_exits_3() {
    let scratch = Scratch::new();
    scratch.write("tenant.yaml", "tenant: {}\n");

    let run = scan(scratch.path(), "tenant.yaml", &[]);

    assert_eq!(run.status, 3);
    assert!(run.stderr.contains("it is a file"), "{}", run.stderr);
}

#[test]
fn folder_without_tenant_yaml_exits_3() {
    let scratch = Scratch::new();
    scratch.write("exports/entra/users.json", "{\"value\": []}");

    let run = scan(scratch.path(), "exports", &[]);

    assert_eq!(run.status, 3);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("no tenant.yaml found in `exports`"), "{}", run.stderr);
}

#[test]
fn strict_help_states_what_it_changes() {
    let run = rollcall(std::path::Path::new("."), &["scan", "--help"]);

    assert_eq!(run.status, 0);
    let help = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("--strict Exit with status 3 also when an input file has a warning"),
        "{help}"
    );
    assert!(help.contains("The report is still written"), "{help}");
}

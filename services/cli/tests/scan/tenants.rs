//! Several tenants in one report (the MSP view), and reports that do not change between
//! runs.

use serde_json::Value;

use crate::support::{Scratch, YEAR_OLD_LOGON, scan};

/// Writes an MSP folder with the example practice and a small tenant whose one account
/// is dormant.
fn msp_folder() -> Scratch {
    let scratch = Scratch::new();
    scratch.copy_example("msp/harborview");
    scratch.write_small_tenant("msp/lakeside", "lakeside", YEAR_OLD_LOGON);
    scratch
}

fn count(findings: &[Value], tenant: &str) -> usize {
    findings.iter().filter(|f| f["tenant"] == tenant).count()
}

#[test]
fn two_tenants_make_one_report() {
    let scratch = msp_folder();

    let run = scan(scratch.path(), "msp", &["--format", "json"]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    let report = run.json();
    let tenants = report["tenants"].as_array().unwrap();
    let ids: Vec<&str> = tenants.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["harborview", "lakeside"]);
    assert_eq!(tenants[0]["path"], "msp/harborview");
    assert_eq!(tenants[1]["path"], "msp/lakeside");
    assert_eq!(tenants[0]["summary"]["findings"], 27);
    assert_eq!(tenants[1]["summary"]["findings"], 1);
    assert_eq!(tenants[1]["summary"]["by_kind"]["dormant_account"], 1);
    assert_eq!(report["summary"]["findings"], 28);

    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 28);
    assert_eq!(count(findings, "harborview"), 27);
    assert_eq!(count(findings, "lakeside"), 1);
    let dormant = findings.iter().find(|f| f["tenant"] == "lakeside").unwrap();
    assert_eq!(dormant["kind"], "dormant_account");
    assert_eq!(dormant["subject"]["account"]["login"], "aexample");
}

#[test]
fn two_tenants_in_text() {
    let scratch = msp_folder();

    let run = scan(scratch.path(), "msp", &[]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("== harborview Harborview Family Health (msp/harborview)\n"), "{out}");
    assert!(out.contains("== lakeside Small Test Clinic (msp/lakeside)\n"), "{out}");
    assert!(out.contains("   1 finding: 0 critical, 0 high, 1 medium, 0 low, 0 info\n"), "{out}");
    assert!(out.contains("Total: 28 findings in 2 tenants"), "{out}");
    let harborview = out.find("== harborview").unwrap();
    let lakeside = out.find("== lakeside").unwrap();
    assert!(harborview < lakeside);
}

#[test]
fn tenant_folders_given_one_by_one() {
    let scratch = msp_folder();

    let run = scan(scratch.path(), "msp/lakeside", &["msp/harborview", "--format", "json"]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    let report = run.json();
    let ids: Vec<&str> =
        report["tenants"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["harborview", "lakeside"]);
}

#[test]
fn one_broken_tenant_keeps_the_other() {
    let scratch = msp_folder();
    scratch.write("msp/lakeside/tenant.yaml", "tenant:\n  id: lakeside\n");

    let run = scan(scratch.path(), "msp", &["--format", "json"]);

    assert_eq!(run.status, 3);
    let report = run.json();
    let tenants = report["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 2);
    assert_eq!(tenants[0]["status"], "evaluated");
    assert_eq!(tenants[0]["summary"]["findings"], 27);
    assert_eq!(tenants[1]["status"], "failed");
    assert!(tenants[1]["error"].as_str().unwrap().contains("missing field `name`"));
    assert_eq!(report["summary"]["findings"], 27);
    assert!(run.stderr.contains("cannot read tenant `msp/lakeside`"), "{}", run.stderr);
}

#[test]
fn same_as_of_gives_identical_json() {
    let scratch = msp_folder();

    let first = scan(scratch.path(), "msp", &["--format", "json"]);
    let second = scan(scratch.path(), "msp", &["--format", "json"]);

    assert_eq!(first.status, 0, "{}", first.stderr);
    assert!(first.stdout == second.stdout, "two runs of the same scan differ");
}

#[test]
fn copies_give_identical_reports() {
    let scratch = Scratch::new();
    scratch.copy_example("first/harborview");
    scratch.copy_example("second/harborview");

    let first = scan(&scratch.path().join("first"), "harborview", &["--format", "json"]);
    let second = scan(&scratch.path().join("second"), "harborview", &["--format", "json"]);

    assert!(first.stdout == second.stdout, "the report depends on where the folder is");
}

#[test]
fn practice_folder_without_tenant_yaml_fails() {
    let scratch = msp_folder();
    scratch.write("msp/maple-ridge/hr/roster.csv", "Employee ID,Status\nE1,Active\n");
    scratch.write("msp/.git/HEAD", "ref: refs/heads/main\n");

    let run = scan(scratch.path(), "msp", &["--format", "json"]);

    assert_eq!(run.status, 3, "{}", run.stderr);
    let report = run.json();
    let tenants = report["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 3, "hidden folders are not practices");
    let maple = tenants.iter().find(|t| t["id"] == "maple-ridge").unwrap();
    assert_eq!(maple["status"], "failed");
    assert!(maple["error"].as_str().unwrap().contains("has no tenant.yaml"), "{maple}");
    assert!(run.stderr.contains("maple-ridge"), "{}", run.stderr);
    assert_eq!(count(report["findings"].as_array().unwrap(), "lakeside"), 1);
}

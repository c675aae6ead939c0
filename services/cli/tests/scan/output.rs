//! The three output formats and `--output`, on a copy of the example practice.

use serde_json::Value;

use crate::support::{AS_OF, Scratch, example, scan, source_accounts};

/// The CSV header `render::csv` writes.
const CSV_HEADER: &str = "tenant,id,severity,kind,summary,person,employee_id,account_source,\
account_id,login,entitlement_source,entitlement,subject_source,evidence,citation,remediation";

#[test]
fn text_shows_tenant_counts_and_worst() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &[]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let out = &run.stdout;
    assert!(out.starts_with("Rollcall scan, rules evaluated at 2026-12-01T15:00:00Z\n"), "{out}");
    assert!(out.contains("== harborview Harborview Family Health (harborview)\n"), "{out}");
    assert!(out.contains("   entra                      49 accounts"), "{out}");
    assert!(out.contains("   ldap                       49 accounts"), "{out}");
    assert!(out.contains("   ehr:athenahealth           47 accounts"), "{out}");
    assert!(out.contains("   hr                         49 workers\n"), "{out}");
    assert!(out.contains("   52 people, 13 privileged\n"), "{out}");
    assert!(
        out.contains("   27 findings: 2 critical, 7 high, 10 medium, 4 low, 4 info\n"),
        "{out}"
    );
    assert!(out.contains("        3  deprovision_overdue\n"), "{out}");
    assert!(out.ends_with(
        "Total: 27 findings in 1 tenant (2 critical, 7 high, 10 medium, 4 low, 4 info)\n"
    ));
}

#[test]
fn text_lists_most_severe_first() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &[]);

    let (_, worst) = run
        .stdout
        .split_once("   Most severe (15 of 23 above info; --format json or csv lists all):\n")
        .expect("a most-severe list that says it is cut");
    let lines: Vec<&str> = worst.lines().take_while(|l| l.starts_with("   [")).collect();
    assert_eq!(lines.len(), 15, "{worst}");
    assert!(lines[0].starts_with("   [critical] deprovision_overdue"), "{}", lines[0]);
    assert!(lines[1].starts_with("   [critical] deprovision_overdue"), "{}", lines[1]);
    assert!(lines[2].starts_with("   [high    ] "), "{}", lines[2]);
    assert!(lines[0].contains("Gideon Ferris has left"), "{}", lines[0]);
    let severities: Vec<&str> = lines.iter().map(|l| &l[4..12]).collect();
    let rank =
        |s: &str| ["critical", "high    ", "medium  ", "low     "].iter().position(|r| *r == s);
    assert!(severities.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "{severities:?}");
}

#[test]
fn json_has_schema_findings_and_sources() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &["--format", "json"]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["schema"], "rollcall.scan-report/v1");
    assert_eq!(report["as_of"], "2026-12-01T15:00:00Z");
    assert_eq!(report["generator"]["name"], "rollcall");
    assert_eq!(report["generator"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["findings"].as_array().unwrap().len(), 27);
    assert_eq!(report["summary"]["findings"], 27);
    assert_eq!(report["summary"]["by_severity"]["critical"], 2);
    assert_eq!(report["summary"]["by_severity"]["high"], 7);

    let tenants = report["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 1);
    let tenant = &tenants[0];
    assert_eq!(tenant["id"], "harborview");
    assert_eq!(tenant["name"], "Harborview Family Health");
    assert_eq!(tenant["status"], "evaluated");
    assert_eq!(tenant["error"], Value::Null);
    assert_eq!(tenant["hr_workers"], 49);
    assert_eq!(tenant["identities"], 52);
    assert_eq!(tenant["privileged_identities"], 13);
    assert_eq!(
        source_accounts(tenant),
        [("entra".to_owned(), 49), ("ldap".to_owned(), 49), ("ehr:athenahealth".to_owned(), 47)]
    );
    let entra = &tenant["sources"][0];
    assert_eq!(entra["entitlements"], 9);
    assert_eq!(entra["memberships"], 111);
}

#[test]
fn json_findings_are_complete_and_ordered() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let report = scan(scratch.path(), "harborview", &["--format", "json"]).json();

    let findings = report["findings"].as_array().unwrap();
    let rank = |f: &Value| {
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .position(|s| f["severity"] == *s)
            .expect("a known severity")
    };
    assert!(findings.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])));
    for finding in findings {
        assert_eq!(finding["tenant"], "harborview");
        assert!(!finding["id"].as_str().unwrap().is_empty(), "{finding}");
        assert!(finding["citation"]["section"].as_str().unwrap().starts_with("45 CFR 164."));
        assert!(!finding["remediation"].as_str().unwrap().is_empty(), "{finding}");
    }
    let mut ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 27, "finding ids repeat");
}

#[test]
fn csv_has_header_and_row_per_finding() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &["--format", "csv"]);
    let json = scan(scratch.path(), "harborview", &["--format", "json"]).json();

    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().next(), Some(CSV_HEADER));
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 27);
    assert!(rows.iter().all(|r| r.len() == 16));
    assert!(rows.iter().all(|r| &r[0] == "harborview"));
    let csv_ids: Vec<&str> = rows.iter().map(|r| r.get(1).unwrap()).collect();
    let json_ids: Vec<&str> =
        json["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(csv_ids, json_ids);
    let critical = rows.iter().filter(|r| &r[2] == "critical").count();
    assert_eq!(critical, 2);
}

#[test]
fn output_file_gets_report_not_stdout() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let to_file = scan(scratch.path(), "harborview", &["--format", "json", "-o", "report.json"]);
    let to_stdout = scan(scratch.path(), "harborview", &["--format", "json"]);

    assert_eq!(to_file.status, 0, "{}", to_file.stderr);
    assert_eq!(to_file.stdout, "");
    assert_eq!(to_file.stderr, "");
    assert_eq!(scratch.read("report.json"), to_stdout.stdout);
}

#[test]
fn output_file_takes_text_too() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &["--output", "summary.txt"]);

    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(scratch.read("summary.txt").contains("27 findings: 2 critical"));
}

#[test]
fn kind_filter_keeps_named_kinds() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(
        scratch.path(),
        "harborview",
        &["--format", "json", "--kind", "mfa_privileged_phone", "--kind", "deprovision_overdue"],
    );

    assert_eq!(run.status, 0, "{}", run.stderr);
    let report = run.json();
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(kinds.iter().all(|k| *k == "mfa_privileged_phone" || *k == "deprovision_overdue"));
    assert_eq!(report["summary"]["findings"], 4);
}

#[test]
fn unknown_kind_is_a_usage_error() {
    let scratch = Scratch::new();
    scratch.copy_example("harborview");

    let run = scan(scratch.path(), "harborview", &["--kind", "mfa_sms"]);

    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("`mfa_sms` is not a finding kind"), "{}", run.stderr);
    assert!(run.stderr.contains("mfa_privileged_phone"), "{}", run.stderr);
}

#[test]
fn closed_output_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["scan", "--as-of", AS_OF, "--format", "json"])
        .arg(example())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The read end is dropped here, as `| head -c 16` would do.
    let output = child.wait_with_output().unwrap();

    assert_eq!(&first, b"{\n  \"schema\": \"r");
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}

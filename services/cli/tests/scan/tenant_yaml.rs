//! An invalid `tenant.yaml` stops its tenant with exit status 3 and a message that names
//! the key and its line.

use crate::support::{RECENT_LOGON, Scratch, scan};

/// One broken `tenant.yaml`: how to break the small tenant's file and what the message
/// must contain.
struct Case {
    name: &'static str,
    from: &'static str,
    to: &'static str,
    message: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "unknown key",
        from: "  time_zone: America/Chicago\n",
        to: "  time_zone: America/Chicago\n  colour: blue\n",
        message: &["unknown field `colour`", "(line 5, column 3)"],
    },
    Case {
        name: "bad time zone",
        from: "America/Chicago",
        to: "America/Chikago",
        message: &[
            "`tenant.time_zone` is `America/Chikago`, which is not an IANA time zone",
            "(line 4, column 14)",
        ],
    },
    Case {
        name: "unknown profile",
        from: "policy:\n",
        to: "sources:\n  ehr:\n    - files: [ehr/users.csv]\n      profile: nextgen\npolicy:\n",
        message: &["`sources.ehr[0].profile` names the profile `nextgen`", "(line 8, column 16)"],
    },
    Case {
        name: "path with parent folder",
        from: "policy:\n",
        to: "sources:\n  hr: ../roster.csv\npolicy:\n",
        message: &["`sources.hr` is `../roster.csv`", "(line 6, column 7)"],
    },
];

/// Writes the small tenant with `case` applied to its `tenant.yaml`.
fn broken_tenant(case: &Case) -> Scratch {
    let scratch = Scratch::new();
    scratch.write_small_tenant("small", "small", RECENT_LOGON);
    let text = scratch.read("small/tenant.yaml");
    assert!(text.contains(case.from), "{}: `{}` is not in tenant.yaml", case.name, case.from);
    scratch.write("small/tenant.yaml", text.replacen(case.from, case.to, 1));
    scratch
}

#[test]
fn invalid_tenant_yaml_exits_3_in_text() {
    for case in CASES {
        let scratch = broken_tenant(case);

        let run = scan(scratch.path(), "small", &[]);

        assert_eq!(run.status, 3, "{}: {}", case.name, run.stderr);
        let prefix = "   not evaluated: `small/tenant.yaml`: ";
        assert!(run.stdout.contains(prefix), "{}: {}", case.name, run.stdout);
        for words in case.message {
            assert!(
                run.stdout.contains(words),
                "{}: `{words}` is not in:\n{}",
                case.name,
                run.stdout
            );
        }
    }
}

#[test]
fn invalid_tenant_yaml_exits_3_in_json() {
    for case in CASES {
        let scratch = broken_tenant(case);

        let run = scan(scratch.path(), "small", &["--format", "json"]);

        assert_eq!(run.status, 3, "{}: {}", case.name, run.stderr);
        let report = run.json();
        let tenant = &report["tenants"][0];
        assert_eq!(tenant["status"], "failed", "{}", case.name);
        assert_eq!(tenant["id"], "small", "{}", case.name);
        let error = tenant["error"].as_str().unwrap();
        assert!(run.stderr.contains("rollcall: cannot read tenant `small`"), "{}", run.stderr);
        for words in case.message {
            assert!(error.contains(words), "{}: `{words}` is not in: {error}", case.name);
            assert!(
                run.stderr.contains(words),
                "{}: `{words}` is not in: {}",
                case.name,
                run.stderr
            );
        }
    }
}

#[test]
fn tenant_yaml_in_utf16_exits_3() {
    let scratch = Scratch::new();
    scratch.write_small_tenant("small", "small", RECENT_LOGON);
    let text = scratch.read("small/tenant.yaml");
    let utf16: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    scratch.write("small/tenant.yaml", utf16);

    let run = scan(scratch.path(), "small", &[]);

    assert_eq!(run.status, 3);
    assert!(
        run.stdout.contains("is not UTF-8 (invalid byte at offset 0); save it as UTF-8"),
        "{}",
        run.stdout
    );
}

#[test]
fn oversized_tenant_yaml_exits_3() {
    let scratch = Scratch::new();
    scratch.write_small_tenant("small", "small", RECENT_LOGON);
    let padding = format!("# {}\n", "-".repeat(78)).repeat(20_000);
    scratch.write("small/tenant.yaml", scratch.read("small/tenant.yaml") + &padding);

    let run = scan(scratch.path(), "small", &[]);

    assert_eq!(run.status, 3);
    assert!(
        run.stdout.contains("bytes, more than the 1048576 a tenant.yaml may have"),
        "{}",
        run.stdout
    );
}

#[test]
fn alias_bomb_in_tenant_yaml_exits_3() {
    let scratch = Scratch::new();
    scratch.write_small_tenant("small", "small", RECENT_LOGON);
    let mut text = scratch.read("small/tenant.yaml");
    text.push_str("identity:\n  roles:\n    E0: &roles\n");
    text.push_str(&"      - nurse\n".repeat(2_000));
    for employee in 1..2_000 {
        text.push_str(&format!("    E{employee}: *roles\n"));
    }
    scratch.write("small/tenant.yaml", text);

    let run = scan(scratch.path(), "small", &[]);

    assert_eq!(run.status, 3);
    assert!(run.stdout.contains("aliases (`*name`) expand the file"), "{}", run.stdout);
}

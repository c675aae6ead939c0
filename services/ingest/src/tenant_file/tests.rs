//! Tests of `tenant.yaml` parsing: every invalid case gives its own error kind and names
//! the key, and no input makes the parser panic.

use std::path::{Component, Path, PathBuf};

use chrono::TimeDelta;
use proptest::prelude::*;

use super::*;

/// A valid file that each table case changes in one place.
const BASE: &str = "\
tenant:
  id: clinic-one
  name: Clinic One
  time_zone: America/Chicago
slas:
  deprovision: 24h
sources:
  hr: hr/roster.csv
  ehr:
    - files: [ehr/users.csv]
      profile: athenahealth
policy:
  job_roles:
    nurse:
      match: { titles: [\"Registered Nurse\"] }
identity:
  roles:
    E100: [nurse]
";

/// Parses `text` with a tenant folder that has no files.
fn parse_text(text: &str) -> Result<TenantConfig, TenantFileError> {
    parse(text, Path::new("/nonexistent/tenant"))
}

/// Returns `BASE` with `from` replaced by `to`. Fails the test when `from` is not in `BASE`.
fn edited(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "`{from}` is not in the base file");
    BASE.replacen(from, to, 1)
}

#[test]
fn revocation_window_is_read() {
    let text = edited("deprovision: 24h", "deprovision: 24h\n  revocation: 72h");
    let config = parse_text(&text).unwrap();
    assert_eq!(config.tenant.revocation_window, TimeDelta::hours(72));
}

#[test]
fn sign_in_issuer_is_read() {
    assert_eq!(parse_text(BASE).unwrap().sign_in_issuer, None);
    for issuer in [
        "https://login.microsoftonline.com/3f1c2a9e-0000-4000-8000-000000000001/v2.0",
        "http://127.0.0.1:4455/oidc",
        "http://localhost:8080",
    ] {
        let text = edited("slas:", &format!("sign_in:\n  issuer: \"{issuer} \"\nslas:"));
        assert_eq!(parse_text(&text).unwrap().sign_in_issuer.as_deref(), Some(issuer));
    }
}

#[test]
fn base_file_parses() {
    let config = parse_text(BASE).unwrap();
    assert_eq!(config.tenant.id.as_str(), "clinic-one");
    assert_eq!(config.tenant.name, "Clinic One");
    assert_eq!(config.tenant.time_zone, chrono_tz::America::Chicago);
    assert_eq!(config.tenant.deprovision_sla, TimeDelta::hours(24));
    assert_eq!(config.tenant.revocation_window, TimeDelta::days(7));
    assert_eq!(config.sources.hr, Some(PathBuf::from("hr/roster.csv")));
    assert_eq!(config.sources.ehr.len(), 1);
    assert_eq!(config.sources.ehr[0].source.to_string(), "ehr:athenahealth");
    assert_eq!(config.tenant.identity.roles["E100"], vec!["nurse".to_owned()]);
}

#[test]
fn athenahealth_format_defaults_profile() {
    let config = parse_text(&edited(
        "      profile: athenahealth\n",
        "      format: athenahealth\n      columns: { Other ID: Employee ID }\n",
    ))
    .unwrap();
    let input = &config.sources.ehr[0];
    assert_eq!(input.format, EhrFormat::Athenahealth);
    assert_eq!(input.source.to_string(), "ehr:athenahealth");
    let profile = input.profile.as_ref().unwrap();
    assert_eq!(profile.employee_id.as_deref(), Some("Employee ID"));
    assert_eq!(profile.epcs_roles.len(), 2);
}

/// One invalid file: its name, the text, the expected kind and words of the message.
struct Case {
    name: &'static str,
    text: String,
    kind: fn(&TenantFileError) -> bool,
    message: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "unknown key in tenant",
            text: edited(
                "  time_zone: America/Chicago\n",
                "  time_zone: America/Chicago\n  colour: blue\n",
            ),
            kind: |e| matches!(e, TenantFileError::Yaml { line: 5, column: 3, .. }),
            message: &["unknown field `colour`", "line 5, column 3"],
        },
        Case {
            name: "unknown top-level key",
            text: format!("{BASE}reports: weekly\n"),
            kind: |e| matches!(e, TenantFileError::Yaml { line: 19, .. }),
            message: &["unknown field `reports`", "line 19"],
        },
        Case {
            name: "missing tenant name",
            text: edited("  name: Clinic One\n", ""),
            kind: |e| matches!(e, TenantFileError::Yaml { .. }),
            message: &["missing field `name`"],
        },
        Case {
            name: "list where text belongs",
            text: edited("time_zone: America/Chicago", "time_zone: [America/Chicago]"),
            kind: |e| matches!(e, TenantFileError::Yaml { line: 4, .. }),
            message: &["tenant.time_zone", "line 4"],
        },
        Case {
            name: "tenant as a list",
            text: edited(
                "tenant:\n  id: clinic-one\n  name: Clinic One\n  time_zone: America/Chicago\n",
                "tenant: [clinic-one]\n",
            ),
            kind: |e| matches!(e, TenantFileError::Yaml { line: 1, column: 9, .. }),
            message: &["tenant: invalid type: sequence, expected a mapping"],
        },
        Case {
            name: "policy as text",
            text: edited(
                "policy:\n  job_roles:\n    nurse:\n      match: { titles: [\"Registered Nurse\"] }\n",
                "policy: strict\n",
            ),
            kind: |e| matches!(e, TenantFileError::Yaml { line: 12, .. }),
            message: &["expected a mapping"],
        },
        Case {
            name: "dormancy days as text",
            text: edited("policy:\n", "policy:\n  dormancy: { days: ninety }\n"),
            kind: |e| matches!(e, TenantFileError::Yaml { line: 13, .. }),
            message: &["\"ninety\"", "expected a whole number from 0 to 4294967295"],
        },
        Case {
            name: "EHR rename of an unused column",
            text: edited(
                "      profile: athenahealth\n",
                "      profile: athenahealth\n      columns: { Roles Held: Roles }\n",
            ),
            kind: |e| matches!(e, TenantFileError::Columns { .. }),
            message: &["sources.ehr[0].columns", "`Roles Held`", "`Username`"],
        },
        Case {
            name: "EHR format as a list",
            text: edited("      profile: athenahealth\n", "      format: [csv]\n"),
            kind: |e| matches!(e, TenantFileError::Yaml { line: 11, .. }),
            message: &["sources.ehr[0].format", "expected a single name"],
        },
        Case {
            name: "empty file",
            text: String::new(),
            kind: |e| matches!(e, TenantFileError::Yaml { line: 1, .. }),
            message: &["missing field `tenant`"],
        },
        Case {
            name: "two documents",
            text: format!("{BASE}---\n{BASE}"),
            kind: |e| matches!(e, TenantFileError::YamlNoPosition(_)),
            message: &["more than one document"],
        },
        Case {
            name: "invalid tenant id",
            text: edited("id: clinic-one", "id: Clinic One"),
            kind: |e| matches!(e, TenantFileError::TenantId(_)),
            message: &["`tenant.id`", "`Clinic One`"],
        },
        Case {
            name: "bad time zone",
            text: edited("America/Chicago", "America/Chikago"),
            kind: |e| matches!(e, TenantFileError::TimeZone { field, .. } if field == "tenant.time_zone"),
            message: &["`tenant.time_zone`", "`America/Chikago`", "IANA"],
        },
        Case {
            name: "bad EHR time zone",
            text: edited(
                "      profile: athenahealth\n",
                "      profile: athenahealth\n      time_zone: CST\n",
            ),
            kind: |e| matches!(e, TenantFileError::TimeZone { field, .. } if field == "sources.ehr[0].time_zone"),
            message: &["`sources.ehr[0].time_zone`", "`CST`"],
        },
        Case {
            name: "sign-in issuer over plain HTTP to another host",
            text: edited("slas:", "sign_in:\n  issuer: http://idp.example.test/realm\nslas:"),
            kind: |e| matches!(e, TenantFileError::SignInIssuer { value, .. } if value == "http://idp.example.test/realm"),
            message: &["`sign_in.issuer`", "loopback", "https://"],
        },
        Case {
            name: "sign-in issuer of Entra's shared endpoint",
            text: edited(
                "slas:",
                "sign_in:\n  issuer: https://login.microsoftonline.com/common/v2.0\nslas:",
            ),
            kind: |e| matches!(e, TenantFileError::SignInIssuer { .. }),
            message: &["`sign_in.issuer`", "multi-tenant", "<directory GUID>"],
        },
        Case {
            name: "sign-in issuer that is not a URL",
            text: edited("slas:", "sign_in:\n  issuer: harborview.onmicrosoft.com\nslas:"),
            kind: |e| matches!(e, TenantFileError::SignInIssuer { .. }),
            message: &["`sign_in.issuer`", "issuer URL"],
        },
        Case {
            name: "sign-in issuer without a host",
            text: edited("slas:", "sign_in:\n  issuer: https:///v2.0\nslas:"),
            kind: |e| matches!(e, TenantFileError::SignInIssuer { .. }),
            message: &["`sign_in.issuer`", "no host"],
        },
        Case {
            name: "bad deprovision SLA",
            text: edited("deprovision: 24h", "deprovision: 24 hours"),
            kind: |e| matches!(e, TenantFileError::Sla(value) if value == "24 hours"),
            message: &["`slas.deprovision`", "`24 hours`"],
        },
        Case {
            name: "bad revocation window",
            text: edited("deprovision: 24h", "deprovision: 24h\n  revocation: a week"),
            kind: |e| matches!(e, TenantFileError::RevocationWindow(value) if value == "a week"),
            message: &["`slas.revocation`", "`a week`"],
        },
        Case {
            name: "revocation window preset",
            text: edited("deprovision: 24h", "deprovision: 24h\n  revocation: hipaa-2025-proposal"),
            kind: |e| matches!(e, TenantFileError::RevocationWindow(value) if value == "hipaa-2025-proposal"),
            message: &["`slas.revocation`", "positive duration"],
        },
        Case {
            name: "zero revocation window",
            text: edited("deprovision: 24h", "deprovision: 24h\n  revocation: 0h"),
            kind: |e| matches!(e, TenantFileError::RevocationWindow(value) if value == "0h"),
            message: &["`slas.revocation`", "`0h`"],
        },
        Case {
            name: "policy and policy file",
            text: edited("policy:\n", "policy_file: policy.yaml\npolicy:\n"),
            kind: |e| matches!(e, TenantFileError::TwoPolicies),
            message: &["`policy`", "`policy_file`"],
        },
        Case {
            name: "missing policy file",
            text: edited(
                "policy:\n  job_roles:\n    nurse:\n      match: { titles: [\"Registered Nurse\"] }\n",
                "policy_file: policy.yaml\n",
            ),
            kind: |e| matches!(e, TenantFileError::PolicyFile { path, .. } if path == "policy.yaml"),
            message: &["`policy.yaml`"],
        },
        Case {
            name: "policy file outside the folder",
            text: edited(
                "policy:\n  job_roles:\n    nurse:\n      match: { titles: [\"Registered Nurse\"] }\n",
                "policy_file: ../common/policy.yaml\n",
            ),
            kind: |e| matches!(e, TenantFileError::Path { field, .. } if field == "policy_file"),
            message: &["`policy_file`", "`../common/policy.yaml`"],
        },
        Case {
            name: "invalid policy glob",
            text: edited("[\"Registered Nurse\"]", "[\"Registered [Nurse\"]"),
            kind: |e| matches!(e, TenantFileError::Policy(_)),
            message: &["job_roles.nurse.match.titles"],
        },
        Case {
            name: "roster path with parent folder",
            text: edited("hr: hr/roster.csv", "hr: ../other/roster.csv"),
            kind: |e| matches!(e, TenantFileError::Path { field, .. } if field == "sources.hr"),
            message: &["`sources.hr`", "`../other/roster.csv`"],
        },
        Case {
            name: "absolute EHR file path",
            text: edited("[ehr/users.csv]", "[/srv/exports/users.csv]"),
            kind: |e| matches!(e, TenantFileError::Path { field, .. } if field == "sources.ehr[0].files[0]"),
            message: &["`sources.ehr[0].files[0]`", "`/srv/exports/users.csv`"],
        },
        Case {
            name: "entra folder with parent folder",
            text: edited(
                "  hr: hr/roster.csv\n",
                "  hr: hr/roster.csv\n  entra: exports/../../entra\n",
            ),
            kind: |e| matches!(e, TenantFileError::Path { field, .. } if field == "sources.entra"),
            message: &["`sources.entra`"],
        },
        Case {
            name: "unknown EHR profile",
            text: edited("profile: athenahealth", "profile: nextgen"),
            kind: |e| {
                matches!(e, TenantFileError::UnknownProfile { field, name, .. }
                    if field == "sources.ehr[0].profile" && name == "nextgen")
            },
            message: &["`sources.ehr[0].profile`", "`nextgen`", "epic"],
        },
        Case {
            name: "CSV export without profile",
            text: edited("      profile: athenahealth\n", ""),
            kind: |e| matches!(e, TenantFileError::MissingProfile { field, .. } if field == "sources.ehr[0]"),
            message: &["`sources.ehr[0]`", "`profile:`"],
        },
        Case {
            name: "DrChrono export without vendor",
            text: edited("      profile: athenahealth\n", "      format: drchrono\n"),
            kind: |e| matches!(e, TenantFileError::MissingVendor { field } if field == "sources.ehr[0]"),
            message: &["`sources.ehr[0]`", "`vendor:`"],
        },
        Case {
            name: "invalid vendor name",
            text: edited(
                "      profile: athenahealth\n",
                "      format: scim\n      vendor: Dr Chrono\n",
            ),
            kind: |e| matches!(e, TenantFileError::Vendor { field, .. } if field == "sources.ehr[0].vendor"),
            message: &["`sources.ehr[0].vendor`"],
        },
        Case {
            name: "EHR entry without files",
            text: edited("[ehr/users.csv]", "[]"),
            kind: |e| matches!(e, TenantFileError::NoFiles { field } if field == "sources.ehr[0].files"),
            message: &["`sources.ehr[0].files`"],
        },
        Case {
            name: "custom profile with empty column",
            text: format!(
                "{}profiles:\n  clinic-csv:\n    vendor: clinic\n    user_id: \"\"\n    login: Login\n",
                edited("profile: athenahealth", "profile: clinic-csv")
            ),
            kind: |e| matches!(e, TenantFileError::Profile { name, .. } if name == "clinic-csv"),
            message: &["`profiles.clinic-csv`", "`user_id`"],
        },
        Case {
            name: "role the policy lacks",
            text: edited("E100: [nurse]", "E100: [surgeon]"),
            kind: |e| {
                matches!(e, TenantFileError::UnknownRole { employee_id, role, .. }
                    if employee_id == "E100" && role == "surgeon")
            },
            message: &["`identity.roles.E100`", "`surgeon`", "nurse"],
        },
        Case {
            name: "link account without source",
            text: format!(
                "{BASE}  links:\n    - employee_id: E100\n      accounts: [\"88120431\"]\n"
            ),
            kind: |e| {
                matches!(e, TenantFileError::AccountRef { field, .. }
                    if field == "identity.links[0].accounts[0]")
            },
            message: &["`identity.links[0].accounts[0]`", "`88120431`", "no `/`"],
        },
        Case {
            name: "exclusion with unknown source",
            text: format!("{BASE}  exclusions:\n    - account: crm/42\n      reason: shared\n"),
            kind: |e| {
                matches!(e, TenantFileError::AccountRef { field, .. }
                    if field == "identity.exclusions[0].account")
            },
            message: &["`identity.exclusions[0].account`", "`crm/42`"],
        },
    ]
}

#[test]
fn invalid_files_give_their_error_kind() {
    for case in cases() {
        let error = match parse_text(&case.text) {
            Ok(_) => panic!("{}: the file was accepted", case.name),
            Err(error) => error,
        };
        assert!((case.kind)(error.kind()), "{}: wrong kind {error:?}", case.name);
        let message = error.to_string();
        for words in case.message {
            assert!(message.contains(words), "{}: `{words}` is not in: {message}", case.name);
        }
    }
}

#[test]
fn errors_name_line_and_column() {
    let expected = [
        ("invalid tenant id", 2, 7),
        ("bad time zone", 4, 14),
        ("bad EHR time zone", 12, 18),
        ("bad deprovision SLA", 6, 16),
        ("bad revocation window", 7, 15),
        ("policy and policy file", 12, 14),
        ("missing policy file", 12, 14),
        ("policy file outside the folder", 12, 14),
        ("invalid policy glob", 15, 24),
        ("roster path with parent folder", 8, 7),
        ("absolute EHR file path", 10, 15),
        ("entra folder with parent folder", 9, 10),
        ("unknown EHR profile", 11, 16),
        ("CSV export without profile", 10, 7),
        ("DrChrono export without vendor", 10, 7),
        ("invalid vendor name", 12, 15),
        ("EHR entry without files", 10, 14),
        ("custom profile with empty column", 21, 5),
        ("role the policy lacks", 18, 12),
        ("link account without source", 21, 18),
        ("exclusion with unknown source", 20, 16),
    ];
    let cases = cases();
    for (name, line, column) in expected {
        let case = cases.iter().find(|c| c.name == name).unwrap();
        let message = parse_text(&case.text).unwrap_err().to_string();
        let position = format!("(line {line}, column {column})");
        assert!(message.ends_with(&position), "{name}: {position} is not at the end of: {message}");
    }
}

#[test]
fn numeric_employee_id_is_located() {
    let text = edited("E100: [nurse]", "0042: [nurse, surgeon]");
    let error = parse_text(&text).unwrap_err();

    assert!(
        matches!(error.kind(), TenantFileError::UnknownRole { employee_id, index: 1, .. } if employee_id == "0042")
    );
    assert!(error.to_string().ends_with("(line 18, column 19)"), "{error}");
}

#[test]
fn policy_file_error_has_no_tenant_position() {
    let dir = std::env::temp_dir().join(format!("rollcall-tenant-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("policy.yaml"),
        "job_roles:\n  nurse:\n    match: { titles: [\"[\"] }\n",
    )
    .unwrap();
    let text = edited(
        "policy:\n  job_roles:\n    nurse:\n      match: { titles: [\"Registered Nurse\"] }\n",
        "policy_file: policy.yaml\n",
    );

    let error = parse(&text, &dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();

    assert!(
        matches!(&error, TenantFileError::PolicyFileInvalid { path, .. } if path == "policy.yaml"),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("the policy file `policy.yaml` is invalid"), "{error}");
    assert!(!error.to_string().contains("(line"), "{error}");
}

#[test]
fn error_messages_name_no_rust_types() {
    for case in cases() {
        let Err(error) = parse_text(&case.text) else { continue };
        let message = error.to_string();
        let rust_words =
            ["struct ", "enum ", "Option<", "Vec<", "TenantFile", "String", "u32", "i64"];
        for rust_word in rust_words {
            assert!(!message.contains(rust_word), "{}: `{rust_word}` in: {message}", case.name);
        }
    }
}

#[test]
fn flow_nesting_within_limit_is_a_yaml_error() {
    let text = format!("tenant: {}{}", "[".repeat(200), "]".repeat(200));
    let error = parse_text(&text).unwrap_err();
    assert!(matches!(error, TenantFileError::Yaml { line: 1, .. }), "{error:?}");
}

#[test]
fn deep_block_nesting_is_rejected() {
    let mut text = String::from("policy:\n");
    for depth in 1..400 {
        text.push_str(&" ".repeat(depth));
        text.push_str("a:\n");
    }
    assert!(parse_text(&text).is_err());
}

#[test]
fn anchors_and_aliases_are_read() {
    let text = edited("E100: [nurse]", "E100: &roles [nurse]\n    E101: *roles");
    let config = parse_text(&text).unwrap();
    assert_eq!(config.tenant.identity.roles["E101"], vec!["nurse".to_owned()]);
}

#[test]
fn huge_numbers_are_read_as_text() {
    let text = edited("id: clinic-one", "id: 99999999999999999999999999999999");
    let config = parse_text(&text).unwrap();
    assert_eq!(config.tenant.id.as_str(), "99999999999999999999999999999999");

    let text = edited("deprovision: 24h", "deprovision: 1e999999");
    let error = parse_text(&text).unwrap_err();
    assert!(
        matches!(error.kind(), TenantFileError::Sla(value) if value == "1e999999"),
        "{error:?}"
    );

    let text = edited("deprovision: 24h", "deprovision: 99999999999999999999d");
    let error = parse_text(&text).unwrap_err();
    assert!(matches!(error.kind(), TenantFileError::Sla(_)), "{error:?}");
}

/// Returns `BASE` with `count` employees whose roles are all aliases of one anchored
/// list of `length` roles: the text grows with `count + length`, the parsed value with
/// `count * length`.
fn alias_fan_out(count: usize, length: usize) -> String {
    let mut text = BASE.replacen("    E100: [nurse]\n", "    E100: &roles\n", 1);
    for _ in 0..length {
        text.push_str("      - nurse\n");
    }
    for employee in 1..count {
        text.push_str(&format!("    E{employee:05}: *roles\n"));
    }
    text
}

#[test]
fn alias_fan_out_is_rejected() {
    let text = alias_fan_out(3_000, 3_000);
    assert!(text.len() < 100_000);

    let error = parse_text(&text).unwrap_err();
    assert!(matches!(error, TenantFileError::AliasExpansion), "{error:?}");
    assert!(error.to_string().contains("aliases (`*name`) expand the file"), "{error}");
}

#[test]
fn small_alias_fan_out_is_read() {
    let config = parse_text(&alias_fan_out(100, 100)).unwrap();
    assert_eq!(config.tenant.identity.roles.len(), 100);
    assert_eq!(config.tenant.identity.roles["E00099"].len(), 100);
}

#[test]
fn billion_laughs_is_rejected() {
    let mut text = BASE.replacen(
        "    E100: [nurse]\n",
        "    E100: &a0 [nurse, nurse, nurse, nurse, nurse, nurse, nurse, nurse, nurse]\n",
        1,
    );
    for level in 1..9 {
        let previous = format!("*a{}", level - 1);
        let aliases = [previous.as_str(); 9].join(", ");
        text.push_str(&format!("    E10{level}: &a{level} [{aliases}]\n"));
    }

    let error = parse_text(&text).unwrap_err();
    assert!(matches!(error, TenantFileError::AliasExpansion), "{error:?}");
}

#[test]
fn long_text_aliased_is_rejected() {
    let long_name = "x".repeat(200_000);
    let mut text = BASE.replacen("name: Clinic One", &format!("name: &name {long_name}"), 1);
    text.push_str("  exclusions:\n");
    for _ in 0..200 {
        text.push_str("    - { account: entra/1, reason: *name }\n");
    }

    let error = parse_text(&text).unwrap_err();
    assert!(matches!(error, TenantFileError::AliasExpansion), "{error:?}");
}

#[test]
fn oversized_file_is_rejected() {
    let comment = format!("# {}\n", "x".repeat(1_000));
    let text = format!("{BASE}{}", comment.repeat(1_100));

    let error = parse_text(&text).unwrap_err();
    assert!(
        matches!(error, TenantFileError::TooLarge { bytes } if bytes == text.len()),
        "{error:?}"
    );
    assert!(error.to_string().contains(&format!("`{}` bytes", text.len())), "{error}");
}

#[test]
fn deep_flow_nesting_is_rejected_early() {
    let text = format!("{BASE}profiles: {}{}", "[".repeat(20_000), "]".repeat(20_000));

    let error = parse_text(&text).unwrap_err();
    assert!(matches!(error, TenantFileError::TooDeep { line: 19 }), "{error:?}");
    assert!(error.to_string().contains("nested more than 256 deep (line 19)"), "{error}");
}

/// Tokens from which the YAML-like inputs are built: the file's keys, YAML syntax
/// (anchors, aliases, tags, block scalars, flow collections, documents) and odd scalars.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "tenant:", "id:", "name:", "time_zone:", "slas:", "deprovision:", "policy:",
    "policy_file:", "sources:", "entra:", "ldap:", "hr:", "ehr:", "files:", "format:",
    "profile:", "vendor:", "npi_systems:", "profiles:", "identity:", "links:", "accounts:",
    "exclusions:", "roles:", "job_roles:", "match:", "titles:", "baseline:", "\n", "\n  ",
    "\n    ", "\n- ", " ", ": ", "- ", "[", "]", "{", "}", ", ", "&a ", "*a", "&b ", "*b",
    "<<: *a", "!!str ", "!!map ", "!custom ", "? ", "|\n  ", ">-\n  ", "'", "\"", "\\",
    "# note", "---\n", "...\n", "%YAML 1.2\n", "99999999999999999999999999999999",
    "1e999999", "-0", ".nan", "0x7fffffffffffffff", "~", "null", "true", "24h",
    "America/Chicago", "../", "/etc/", "ehr:epic/1", "\u{feff}", "\t", "\r\n", "\u{0}",
];

fn yaml_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        3 => prop::sample::select(TOKENS).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9_./*-]{0,10}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(token, 0..160).prop_map(|tokens| tokens.concat())
}

proptest! {
    #[test]
    fn parse_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = parse_text(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parse_never_panics_on_yaml_like_text(text in yaml_like()) {
        let _ = parse_text(&text);
    }

    #[test]
    fn parse_never_panics_after_base(tail in yaml_like()) {
        let _ = parse_text(&format!("{BASE}{tail}"));
    }

    /// Any text in any value gives a result.
    #[test]
    fn parse_never_panics_on_values(
        field in prop::sample::select(&["clinic-one", "Clinic One", "America/Chicago", "24h",
            "hr/roster.csv", "ehr/users.csv", "athenahealth", "Registered Nurse", "E100", "nurse"][..]),
        value in any::<String>(),
    ) {
        let quoted = serde_json::to_string(&value).unwrap_or_default();
        let _ = parse_text(&BASE.replacen(field, &quoted, 1));
    }

    /// A path is accepted only when it stays inside the tenant folder.
    #[test]
    fn accepted_paths_stay_inside(path in "(\\.\\.|\\.|/|//|[a-z]{1,3}|\\\\|~|:| ){0,8}") {
        let quoted = serde_json::to_string(&path).unwrap_or_default();
        match parse_text(&BASE.replacen("hr/roster.csv", &quoted, 1)) {
            Ok(config) => {
                let hr = config.sources.hr.unwrap_or_default();
                let inside = hr.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
                prop_assert!(inside, "`{path}` was accepted as {}", hr.display());
            }
            Err(error) => {
                prop_assert!(matches!(error.kind(), TenantFileError::Path { .. }), "`{path}`: {error:?}");
            }
        }
    }
}

/// `BASE` with its inline policy moved to a file named `policy.yaml`.
fn with_policy_file() -> (String, &'static str) {
    let start = BASE.find("policy:\n").unwrap_or(BASE.len());
    let end = BASE.find("identity:\n").unwrap_or(BASE.len());
    let text = format!("{}policy_file: policy.yaml\n{}", &BASE[..start], &BASE[end..]);
    let policy = "job_roles:\n  nurse:\n    match: { titles: [\"Registered Nurse\"] }\n";
    (text, policy)
}

#[test]
fn stored_policy_text_gives_the_tenant_the_folder_gives() {
    let (text, policy) = with_policy_file();
    let dir = std::env::temp_dir().join(format!("rollcall-stored-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), policy).unwrap();
    let from_folder = parse(&text, &dir).unwrap();
    let stored = parse_stored(&text, Some(policy)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(format!("{:?}", stored.tenant.policy), format!("{:?}", from_folder.tenant.policy));
    assert_eq!(stored.tenant.identity, from_folder.tenant.identity);
    assert_eq!(stored.tenant.deprovision_sla, TimeDelta::hours(24));
}

#[test]
fn stored_tenant_without_its_policy_text_names_the_file() {
    let (text, _) = with_policy_file();
    let error = parse_stored(&text, None).unwrap_err();
    assert!(
        matches!(error.kind(), TenantFileError::PolicyFile { path, .. } if path == "policy.yaml"),
        "{error:?}"
    );
    assert!(error.to_string().contains("apply the tenant folder again"), "{error}");
    let inline = parse_stored(BASE, None).unwrap();
    assert_eq!(inline.tenant.id.as_str(), "clinic-one");
}

/// A `campaigns:` list with every key set, appended to `BASE`.
const CAMPAIGNS: &str = "\
campaigns:
  - id: quarterly-all
    name: Quarterly access review
    reviewers:
      fallback: E100
  - id: monthly-ehr
    name: Monthly EHR roles
    schedule: \"0 8 1 * *\"
    scope: ehr_roles
    reviewers:
      manager: hr
      fallback: \" E100 \"
      second_stage: E200
    deadline_days: 7
    at_expiry: revoke
    max_source_age: 2d
  - id: entra-only
    name: Entra
    scope: { source: entra }
    reviewers: { fallback: E100, manager: directory }
";

#[test]
fn campaigns_parse_with_defaults() {
    let config = parse_text(&format!("{BASE}{CAMPAIGNS}")).unwrap();
    assert_eq!(config.campaigns.len(), 3);

    let all = &config.campaigns[0];
    assert_eq!(all.id, "quarterly-all");
    assert_eq!(all.schedule, Schedule::Quarterly);
    assert_eq!(all.schedule_text, "quarterly");
    assert_eq!(all.scope, ScopeSpec::Everyone);
    assert_eq!(all.manager, ManagerSource::HrThenDirectory);
    assert_eq!(all.deadline_days, DEFAULT_DEADLINE_DAYS);
    assert_eq!(all.at_expiry, ExpiryAction::None);
    assert_eq!(all.max_source_age, TimeDelta::hours(DEFAULT_MAX_SOURCE_AGE_HOURS));
    assert_eq!(all.second_stage_reviewer, None);

    let ehr = &config.campaigns[1];
    assert!(matches!(ehr.schedule, Schedule::Cron(_)));
    assert_eq!(ehr.scope, ScopeSpec::EhrRoles);
    assert_eq!(ehr.manager, ManagerSource::Hr);
    assert_eq!(ehr.fallback_reviewer, "E100");
    assert_eq!(ehr.second_stage_reviewer.as_deref(), Some("E200"));
    assert_eq!(ehr.deadline_days, 7);
    assert_eq!(ehr.at_expiry, ExpiryAction::Revoke);
    assert_eq!(ehr.max_source_age, TimeDelta::days(2));

    assert_eq!(config.campaigns[2].scope, ScopeSpec::Source("entra".into()));
    assert_eq!(config.campaigns[2].manager, ManagerSource::Directory);
}

#[test]
fn file_without_campaigns_has_none() {
    let config = parse_text(BASE).unwrap();
    assert!(config.campaigns.is_empty());
    assert_eq!(config.event_reviews, None);
}

#[test]
fn event_reviews_name_a_definition() {
    let first = CAMPAIGNS.lines().find_map(|line| line.trim().strip_prefix("- id: ")).unwrap();
    let text = format!("{BASE}{CAMPAIGNS}event_reviews: {first}\n");
    assert_eq!(parse_text(&text).unwrap().event_reviews.as_deref(), Some(first));

    let text = format!("{BASE}{CAMPAIGNS}event_reviews: monthly-nothing\n");
    let error = parse_text(&text).unwrap_err();
    assert!(
        matches!(error.kind(), TenantFileError::Campaign { field, .. } if field == "event_reviews"),
        "{error:?}"
    );
    assert!(error.to_string().contains("`monthly-nothing`"), "{error}");
}

#[test]
fn campaign_unknown_keys_are_rejected() {
    for (from, to, key) in [
        ("    name: Entra\n", "    name: Entra\n    owner: it\n", "owner"),
        ("{ fallback: E100, manager: directory }", "{ fallback: E100, backup: E200 }", "backup"),
    ] {
        let text = format!("{BASE}{}", CAMPAIGNS.replacen(from, to, 1));
        let error = parse_text(&text).unwrap_err();
        assert!(matches!(error.kind(), TenantFileError::Yaml { .. }), "{key}: {error}");
        assert!(error.to_string().contains(&format!("unknown field `{key}`")), "{error}");
    }
}

#[test]
fn campaign_unknown_scope_is_rejected() {
    let text = format!("{BASE}{}", CAMPAIGNS.replacen("scope: ehr_roles", "scope: interns", 1));
    let error = parse_text(&text).unwrap_err();
    assert!(matches!(error.kind(), TenantFileError::Yaml { .. }), "{error}");
    assert!(error.to_string().contains("interns"), "{error}");
}

#[test]
fn invalid_campaigns_name_their_key() {
    let table = [
        ("schedule: \"0 8 1 * *\"", "schedule: \"0 8 1 *\"", "campaigns[1].schedule", "5"),
        ("schedule: \"0 8 1 * *\"", "schedule: weekly", "campaigns[1].schedule", "quarterly"),
        ("deadline_days: 7", "deadline_days: 0", "campaigns[1].deadline_days", "1 to 366"),
        ("max_source_age: 2d", "max_source_age: soon", "campaigns[1].max_source_age", "`soon`"),
        (
            "scope: { source: entra }",
            "scope: { source: \"ehr:\" }",
            "campaigns[2].scope.source",
            "ehr:",
        ),
        ("id: entra-only", "id: quarterly-all", "campaigns[2].id", "unique"),
        ("id: entra-only", "id: Entra Only", "campaigns[2].id", "a-z"),
        (
            "fallback: \" E100 \"",
            "fallback: \" \"",
            "campaigns[1].reviewers.fallback",
            "employee id",
        ),
    ];
    for (from, to, field, words) in table {
        let text = format!("{BASE}{}", CAMPAIGNS.replacen(from, to, 1));
        let error = parse_text(&text).unwrap_err();
        let TenantFileError::Campaign { field: found, reason } = error.kind() else {
            panic!("`{to}` gave another error: {error}");
        };
        assert_eq!(found, field, "{to}");
        assert!(reason.contains(words), "`{to}`: {reason}");
        assert!(
            matches!(error, TenantFileError::Located { .. }),
            "`{to}` has no position: {error}"
        );
    }
}

#[test]
fn entitlement_owner_defaults_off() {
    let config = parse_text(&format!("{BASE}{CAMPAIGNS}")).unwrap();
    assert!(config.campaigns.iter().all(|campaign| !campaign.entitlement_owner));

    let text =
        CAMPAIGNS.replacen("      second_stage: E200\n", "      entitlement_owner: true\n", 1);
    let config = parse_text(&format!("{BASE}{text}")).unwrap();
    assert!(config.campaigns[1].entitlement_owner);
    assert!(!config.campaigns[0].entitlement_owner);

    let text = CAMPAIGNS.replacen("manager: directory }", "entitlement_owner: false }", 1);
    let config = parse_text(&format!("{BASE}{text}")).unwrap();
    assert!(!config.campaigns[2].entitlement_owner);
}

#[test]
fn entitlement_owner_not_boolean_names_key() {
    let text =
        CAMPAIGNS.replacen("      second_stage: E200\n", "      entitlement_owner: always\n", 1);
    let error = parse_text(&format!("{BASE}{text}")).unwrap_err();
    assert!(matches!(error.kind(), TenantFileError::Yaml { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("campaigns[1].reviewers.entitlement_owner"), "{message}");
    assert!(message.contains("a boolean"), "{message}");
}

/// `BASE` with one entitlement catalogue entry for the Entra group `Billing`, written as
/// the flow mapping `entry`.
fn with_catalogue_entry(entry: &str) -> String {
    edited(
        "policy:\n",
        &format!(
            "policy:\n  entitlement_catalogue:\n    entra:\n      \"group:Billing\": {entry}\n"
        ),
    )
}

#[test]
fn catalogue_reviewer_parses() {
    let config = parse_text(&with_catalogue_entry("{ name: Billing, reviewer: E300 }")).unwrap();
    let billing = rollcall_core::model::Entitlement::new(
        "g1",
        rollcall_core::model::EntitlementKind::Group,
        "Billing",
    );
    let entra = rollcall_core::model::SourceId::entra();
    let entry = config.tenant.policy.catalogue_entry(&entra, &billing).unwrap();
    assert_eq!(entry.reviewer.as_deref(), Some("E300"));
}

#[test]
fn catalogue_bad_reviewer_names_key() {
    let text = with_catalogue_entry("{ name: Billing, reviewer: \"hr:E300\" }");
    let error = parse_text(&text).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("entitlement_catalogue.entra.group:Billing.reviewer"), "{message}");
    assert!(message.contains("`hr:E300`"), "{message}");
    assert!(message.contains("HR employee id"), "{message}");
}

#[test]
fn campaign_mail_keys_default() {
    let config = parse_text(&format!("{BASE}{CAMPAIGNS}")).unwrap();
    let all = &config.campaigns[0];
    assert_eq!(all.reminders, DEFAULT_REMINDERS.to_vec());
    // Without a second stage, escalation has no default recipient.
    assert_eq!(all.escalation.to, Vec::<EscalationTarget>::new());
    let ehr = &config.campaigns[1];
    assert_eq!(ehr.escalation.to, vec![EscalationTarget::SecondStage]);
    assert_eq!(ehr.escalation.after, DEFAULT_ESCALATION_AFTER);
}

#[test]
fn campaign_mail_keys_parse() {
    let text = format!(
        "{BASE}{}",
        CAMPAIGNS.replacen(
            "    max_source_age: 2d\n",
            "    max_source_age: 2d\n    reminders: [1d, 7d, 12h]\n    escalation:\n      after: 2d\n      to: [manager, second_stage, manager]\n",
            1
        )
    );
    let config = parse_text(&text).unwrap();
    let ehr = &config.campaigns[1];
    let offsets: Vec<String> = ehr.reminders.iter().map(ToString::to_string).collect();
    assert_eq!(offsets, ["7d", "1d", "12h"]);
    assert_eq!(ehr.escalation.after, MailOffset { days: 2, minutes: 0 });
    assert_eq!(ehr.escalation.to, vec![EscalationTarget::SecondStage, EscalationTarget::Manager]);

    let off = format!(
        "{BASE}{}",
        CAMPAIGNS.replacen(
            "    max_source_age: 2d\n",
            "    max_source_age: 2d\n    reminders: []\n    escalation: { to: [] }\n",
            1
        )
    );
    let config = parse_text(&off).unwrap();
    assert!(config.campaigns[1].reminders.is_empty());
    assert!(config.campaigns[1].escalation.to.is_empty());
}

#[test]
fn invalid_campaign_mail_keys_name_their_key() {
    let table = [
        ("reminders: [3d, soon]", "campaigns[1].reminders[1]", "`soon`", 4),
        ("reminders: [3d, 72h]", "campaigns[1].reminders[1]", "repeats", 4),
        ("reminders: [0d]", "campaigns[1].reminders[0]", "`0d`", 4),
        (
            "reminders: [1d, 2d, 3d, 4d, 5d, 6d, 7d, 8d, 9d, 10d, 11d]",
            "campaigns[1].reminders",
            "at most 10",
            4,
        ),
        ("escalation: { after: later }", "campaigns[1].escalation.after", "`later`", 4),
    ];
    for (line, field, words, indent) in table {
        let to = format!("    max_source_age: 2d\n{}{line}\n", " ".repeat(indent));
        let text = format!("{BASE}{}", CAMPAIGNS.replacen("    max_source_age: 2d\n", &to, 1));
        let error = parse_text(&text).unwrap_err();
        let TenantFileError::Campaign { field: found, reason } = error.kind() else {
            panic!("`{line}` gave another error: {error}");
        };
        assert_eq!(found, field, "{line}");
        assert!(reason.contains(words), "`{line}`: {reason}");
        let TenantFileError::Located { line: at_line, .. } = error else {
            panic!("`{line}` has no position: {error}");
        };
        // The key is the line after `max_source_age`, the 17th of the edited CAMPAIGNS.
        assert_eq!(at_line, BASE.lines().count() + 17, "`{line}`");
    }
}

#[test]
fn escalation_to_missing_second_stage_is_rejected() {
    let text = format!(
        "{BASE}{}",
        CAMPAIGNS.replacen(
            "    reviewers:\n      fallback: E100\n",
            "    reviewers:\n      fallback: E100\n    escalation:\n      to: [second_stage]\n",
            1
        )
    );
    let error = parse_text(&text).unwrap_err();
    let TenantFileError::Campaign { field, reason } = error.kind() else {
        panic!("another error: {error}");
    };
    assert_eq!(field, "campaigns[0].escalation.to");
    assert!(reason.contains("reviewers.second_stage"), "{reason}");
}

#[test]
fn campaign_mail_unknown_keys_are_rejected() {
    let text = format!(
        "{BASE}{}",
        CAMPAIGNS.replacen(
            "    max_source_age: 2d\n",
            "    max_source_age: 2d\n    escalation: { to: [manager], cc: [it] }\n",
            1
        )
    );
    let error = parse_text(&text).unwrap_err();
    assert!(matches!(error.kind(), TenantFileError::Yaml { .. }), "{error}");
    assert!(error.to_string().contains("unknown field `cc`"), "{error}");

    let text = format!(
        "{BASE}{}",
        CAMPAIGNS.replacen(
            "    max_source_age: 2d\n",
            "    max_source_age: 2d\n    escalation: { to: [hr] }\n",
            1
        )
    );
    let error = parse_text(&text).unwrap_err();
    assert!(error.to_string().contains("hr"), "{error}");
}

//! Built-in profiles for the exports Rollcall documents in `docs/inputs/ehr.md`.
//!
//! Column names match the example exports in `testdata/field-cases/ehr-exports/`. For Epic they
//! are the Clarity column names (`CLARITY_EMP`, `CLARITY_EMP_2`, `CLARITY_SER_2`), so a host's
//! report writer can check each one against the Clarity dictionary; for eClinicalWorks they
//! are the `users` and `doctors` columns of the `mobiledoc` database.

use std::collections::BTreeMap;

use rollcall_core::model::EntitlementKind;

use super::spec::{
    EpcsWord, GrantSpec, LastLoginSpec, ManagerRefersTo, ManagerSpec, NameFormat, ProfileSpec,
    RecordType, StatusWord, ValueMap,
};

/// The Epic extract's security class columns and the application each applies to. Each
/// column contains the `CLARITY_ECL` name of the class that the `CLARITY_EMP` or
/// `CLARITY_EMP_2` column without the `_ID` or `_C` suffix points at (`MR_DFLT_SEC_CLS`
/// from `MR_DFLT_SEC_CLS_ID`), as Epic's Clarity dictionary describes those columns.
pub const EPIC_SECURITY_CLASS_COLUMNS: [(&str, &str); 8] = [
    ("MR_DFLT_SEC_CLS", "EpicCare"),
    ("IB_SEC_CLASS", "In Basket"),
    ("RX_SEC_CLASS", "Willow"),
    ("DFLT_SEC_CLASS", "Resolute Billing"),
    ("RW_CLASS", "Reporting Workbench"),
    ("CR_DFLT_ECL", "Clarity"),
    ("ADMIN_SEC_CL", "User Security"),
    ("HKU_SEC_CLASS", "Haiku"),
];

/// The athenahealth roles that control EPCS: the trusted individual who verifies a
/// prescriber's identity, and the approvers of EPCS enrolment ("EPCS Setup",
/// help.athenahealth.com).
pub const ATHENAHEALTH_EPCS_ROLES: [&str; 2] =
    ["User Admin: Identity Verification", "Clinicals: EPCS Enrollment Approval"];

/// The names of the built-in profiles.
pub const PRESET_NAMES: [&str; 4] =
    ["epic", "athenahealth", "eclinicalworks", "eclinicalworks-report"];

impl ProfileSpec {
    /// Returns the built-in profile called `name`, if there is one.
    pub fn preset(name: &str) -> Option<ProfileSpec> {
        match name.trim().to_ascii_lowercase().as_str() {
            "epic" => Some(Self::epic()),
            "athenahealth" => Some(Self::athenahealth()),
            "eclinicalworks" => Some(Self::eclinicalworks()),
            "eclinicalworks-report" => Some(Self::eclinicalworks_report()),
            _ => None,
        }
    }

    /// Returns the profile for the Epic Community Connect extract: one row per `CLARITY_EMP`
    /// record, templates included. `docs/connectors/epic-extract.md` specifies the columns.
    pub fn epic() -> ProfileSpec {
        let mut grants = vec![
            GrantSpec {
                name_column: Some("LNK_SEC_TEMPLT_NAME".into()),
                separator: None,
                ..GrantSpec::new("LNK_SEC_TEMPLT_ID", EntitlementKind::Template)
            },
            // Subtemplates carry a priority, and the extract lists them in priority order,
            // so the position is kept.
            GrantSpec {
                pairs: true,
                ordered: true,
                ..GrantSpec::new("SUBTEMPLATES", EntitlementKind::Subtemplate)
            },
        ];
        // One security class per application; the application is the grant's scope, so
        // the same class name in two applications stays two grants.
        grants.extend(EPIC_SECURITY_CLASS_COLUMNS.iter().map(|(column, application)| GrantSpec {
            separator: None,
            scope: Some((*application).to_owned()),
            ..GrantSpec::new(column, EntitlementKind::SecurityClass)
        }));
        ProfileSpec {
            display_name: Some("NAME".into()),
            name_format: NameFormat::LastCommaFirst,
            record_type: Some(value_map(
                "EMP_RECORD_TYPE",
                &[("User", RecordType::User), ("Template", RecordType::Template)],
                None,
            )),
            status: vec![
                value_map(
                    "USER_STATUS",
                    &[("Active", StatusWord::Active), ("Inactive", StatusWord::Inactive)],
                    None,
                ),
                value_map(
                    "LOGIN_BLOCKED",
                    &[("Y", StatusWord::Blocked), ("N", StatusWord::Active)],
                    None,
                ),
            ],
            status_since: Some("LOGIN_BLOCKED_INST_DTTM".into()),
            valid_from: Some("EFF_FROM_DATE".into()),
            valid_to: Some("EFF_TO_DATE".into()),
            // Epic's Clarity dictionary (CLARITY_EMP) defines LAST_ACCS_DATETIME as "the last
            // date and time the user record was accessed", not as a sign-in, so an empty cell
            // leaves the sign-in unknown.
            last_login: Some(LastLoginSpec {
                column: "LAST_ACCS_DATETIME".into(),
                reliable: false,
            }),
            grants,
            departments: vec!["LGIN_DEPARTMENT".into()],
            provider_id: Some("PROV_ID".into()),
            npi: Some("PROVIDER_NPI".into()),
            epcs: Some(yes_no_epcs("EPRESC_CNTRLD_YN")),
            manager: Some(ManagerSpec {
                column: "PRIM_MANAGER_ID".into(),
                refers_to: ManagerRefersTo::Account,
            }),
            sid: Some("WEB_EXT_IDENTIFIER".into()),
            ..ProfileSpec::minimal("epic", "USER_ID", "SYSTEM_LOGIN")
        }
    }

    /// Returns the profile for athenahealth's user export: one row per user and practice,
    /// folded into one account whose roles are scoped by practice.
    pub fn athenahealth() -> ProfileSpec {
        ProfileSpec {
            family_name: Some("Last name".into()),
            given_name: Some("First name".into()),
            status: vec![value_map(
                "Blocked",
                &[("Y", StatusWord::Blocked), ("N", StatusWord::Active)],
                None,
            )],
            last_login: Some(LastLoginSpec { column: "Last login".into(), reliable: true }),
            grants: vec![GrantSpec {
                scope_column: Some("Practice ID".into()),
                ..GrantSpec::new("Roles", EntitlementKind::Role)
            }],
            departments: vec!["Department name".into()],
            job_title: Some("Position".into()),
            provider_id: Some("Provider ID".into()),
            npi: Some("NPI".into()),
            epcs: Some(value_map(
                "EPCS status",
                &[("Approved", EpcsWord::Enabled), ("Pending approval", EpcsWord::Pending)],
                None,
            )),
            email: Some("Email".into()),
            employee_id: Some("Other ID".into()),
            fold_rows: true,
            epcs_roles: ATHENAHEALTH_EPCS_ROLES.iter().map(|role| (*role).to_owned()).collect(),
            ..ProfileSpec::minimal("athenahealth", "Username", "Username")
        }
    }

    /// Returns the profile for an eClinicalWorks `users` extract joined with `doctors`.
    pub fn eclinicalworks() -> ProfileSpec {
        ProfileSpec {
            family_name: Some("ulname".into()),
            given_name: Some("ufname".into()),
            // `usertype` 1 is a provider and 2 staff; patients are rows of the same table.
            record_type: Some(value_map(
                "usertype",
                &[("1", RecordType::Provider), ("2", RecordType::User)],
                Some(RecordType::NonUser),
            )),
            // Only the user row decides sign-in: a provider whose `doctors` record is
            // inactive can still sign in while `status` is 0 and `delFlag` is 0.
            status: vec![
                value_map("status", &[("0", StatusWord::Active)], Some(StatusWord::Inactive)),
                value_map(
                    "delFlag",
                    &[("0", StatusWord::Active), ("1", StatusWord::Deleted)],
                    None,
                ),
            ],
            // The documented query selects `NULL` until the site adds its own join, and a
            // join finds no row for a user who never signed in, so an empty cell is unknown.
            last_login: Some(LastLoginSpec { column: "last_login".into(), reliable: false }),
            grants: vec![GrantSpec::new("security_roles", EntitlementKind::Role)],
            departments: vec!["facility_name".into()],
            npi: Some("NPI".into()),
            epcs: Some(yes_no_epcs("epcs_registered")),
            null_text: Some("NULL".into()),
            ..ProfileSpec::minimal("eclinicalworks", "uid", "uname")
        }
    }

    /// Returns the profile for a user security report that eClinicalWorks support produces
    /// for a cloud-hosted practice. The report's layout is not published, so these column
    /// names are a starting point: `columns:` in `tenant.yaml` renames them to the
    /// report's own.
    pub fn eclinicalworks_report() -> ProfileSpec {
        ProfileSpec {
            family_name: Some("Last Name".into()),
            given_name: Some("First Name".into()),
            record_type: Some(value_map(
                "User Type",
                &[
                    ("Provider", RecordType::Provider),
                    ("Staff", RecordType::User),
                    ("Patient", RecordType::Patient),
                ],
                Some(RecordType::NonUser),
            )),
            status: vec![
                value_map(
                    "Status",
                    &[("Active", StatusWord::Active), ("Inactive", StatusWord::Inactive)],
                    None,
                ),
                value_map(
                    "Deleted",
                    &[
                        ("Yes", StatusWord::Deleted),
                        ("Y", StatusWord::Deleted),
                        ("No", StatusWord::Active),
                        ("N", StatusWord::Active),
                    ],
                    None,
                ),
            ],
            last_login: Some(LastLoginSpec { column: "Last Login".into(), reliable: false }),
            grants: vec![GrantSpec::new("Security Roles", EntitlementKind::Role)],
            departments: vec!["Facility".into()],
            npi: Some("NPI".into()),
            epcs: Some(value_map(
                "EPCS",
                &[
                    ("Yes", EpcsWord::Enabled),
                    ("Y", EpcsWord::Enabled),
                    ("No", EpcsWord::Disabled),
                    ("N", EpcsWord::Disabled),
                ],
                None,
            )),
            email: Some("Email".into()),
            ..ProfileSpec::minimal("eclinicalworks", "User ID", "Username")
        }
    }

    /// Creates a profile that maps only the user id and login columns.
    pub fn minimal(vendor: &str, user_id: &str, login: &str) -> ProfileSpec {
        ProfileSpec {
            vendor: vendor.to_owned(),
            encoding: None,
            delimiter: None,
            user_id: user_id.to_owned(),
            login: login.to_owned(),
            display_name: None,
            name_format: NameFormat::AsIs,
            family_name: None,
            given_name: None,
            record_type: None,
            status: Vec::new(),
            status_since: None,
            valid_from: None,
            valid_to: None,
            last_login: None,
            grants: Vec::new(),
            departments: Vec::new(),
            job_title: None,
            provider_id: None,
            npi: None,
            epcs: None,
            manager: None,
            email: None,
            employee_id: None,
            sid: None,
            fold_rows: false,
            epcs_roles: Vec::new(),
            null_text: None,
        }
    }
}

fn value_map<T: Copy>(column: &str, values: &[(&str, T)], other: Option<T>) -> ValueMap<T> {
    ValueMap {
        column: column.to_owned(),
        values: values
            .iter()
            .map(|(key, value)| ((*key).to_owned(), *value))
            .collect::<BTreeMap<_, _>>(),
        other,
    }
}

fn yes_no_epcs(column: &str) -> ValueMap<EpcsWord> {
    value_map(column, &[("Y", EpcsWord::Enabled), ("N", EpcsWord::Disabled)], None)
}

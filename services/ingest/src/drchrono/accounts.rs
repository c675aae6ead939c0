//! Accounts: `/api/users` joined to `/api/doctors` and `/api/staff`.

use std::collections::{HashMap, HashSet};

use chrono_tz::Tz;
use rollcall_core::model::{Account, AccountStatus};

use super::Notes;
use super::dump::Record;
use super::people::{Doctor, Staff};
use super::values::{Flag, TimeError, doctor_ref, flag, id_field, text, timestamp};
use crate::diagnostic::Level;
use crate::fhir::is_valid_npi;

/// The accounts, the zone each one's naive times are read in, and the user records that
/// became accounts (for their permissions).
pub(super) struct Joined<'a> {
    pub accounts: Vec<Account>,
    pub zones: HashMap<String, Tz>,
    pub users: Vec<(String, &'a Record<'a>)>,
}

/// Builds one account per user, then one per staff record that has no user.
///
/// A doctor user (`is_doctor`) takes name, e-mail, NPI and suspension from the doctor its
/// `doctor` field names. Any user takes name, e-mail, `active` and creation time from the
/// staff record with its id as `user_id`. A staff user's `doctor` is its primary
/// physician, whose `timezone` is the zone of the user's naive times. Without a doctor or
/// staff record, the status is unknown.
pub(super) fn join<'a>(
    users: &'a [Record<'a>],
    doctors: &HashMap<String, Doctor<'_>>,
    staff: &[Staff<'_>],
    default_zone: Tz,
    notes: &mut Notes,
) -> Joined<'a> {
    let staff_by_user: HashMap<&str, &Staff<'_>> =
        staff.iter().map(|record| (record.user_id.as_str(), record)).collect();
    let mut joined = Joined { accounts: Vec::new(), zones: HashMap::new(), users: Vec::new() };
    let mut seen = HashSet::new();

    for record in users {
        let fields = record.fields;
        let Some(id) = id_field(fields, "id") else {
            let message = format!(
                "skipped user `{}` without `id`",
                text(fields, "username").unwrap_or_default()
            );
            notes.push(Level::Warning, &record.at, message);
            continue;
        };
        if !seen.insert(id.clone()) {
            let message = format!("skipped a second user with id `{id}`; the first is used");
            notes.push(Level::Warning, &record.at, message);
            continue;
        }

        let (account, zone) =
            user_account(record, &id, doctors, &staff_by_user, default_zone, notes);
        joined.zones.insert(id.clone(), zone);
        joined.users.push((id, record));
        joined.accounts.push(account);
    }

    add_staff_only(staff, doctors, default_zone, &seen, &mut joined, notes);
    joined
}

/// Builds the account of one `/api/users` record and returns it with the zone of its
/// naive times.
fn user_account(
    record: &Record<'_>,
    id: &str,
    doctors: &HashMap<String, Doctor<'_>>,
    staff_by_user: &HashMap<&str, &Staff<'_>>,
    default_zone: Tz,
    notes: &mut Notes,
) -> (Account, Tz) {
    let fields = record.fields;
    let mut account = Account::new(id);
    account.status = AccountStatus::Unknown;
    account.login = text(fields, "username").map(str::to_owned);
    let is_doctor = read_flag(fields, "is_doctor", &record.at, notes);
    let is_staff = read_flag(fields, "is_staff", &record.at, notes);
    if is_doctor == Some(true) && is_staff == Some(true) {
        let message = format!(
            "user `{id}` has both `is_doctor` and `is_staff` set, which DrChrono documents \
             as mutually exclusive; both records are joined"
        );
        notes.push(Level::Warning, &record.at, message);
    }
    for (name, value) in [("is_doctor", is_doctor), ("is_staff", is_staff)] {
        if let Some(value) = value {
            account.attributes.insert(name.into(), value.to_string());
        }
    }
    if let Some(group) = id_field(fields, "practice_group") {
        account.attributes.insert("practice_group".into(), group);
    }

    let doctor_id = fields.get("doctor").and_then(doctor_ref);
    let doctor = doctor_id.as_deref().and_then(|doctor_id| doctors.get(doctor_id));
    if let Some(doctor_id) = &doctor_id {
        account.attributes.insert("doctor".into(), doctor_id.clone());
    }
    let zone = doctor.and_then(|doctor| doctor.timezone).unwrap_or(default_zone);

    if is_doctor == Some(true) {
        account.is_provider = true;
        match doctor {
            Some(doctor) => apply_doctor(&mut account, doctor, notes),
            None => {
                let message = format!(
                    "user `{id}` is a doctor but `/api/doctors` has no doctor `{}`, so its \
                     name, NPI and suspension are unknown",
                    doctor_id.as_deref().unwrap_or_default()
                );
                notes.push(Level::Warning, &record.at, message);
            }
        }
    }
    match staff_by_user.get(id) {
        Some(staff) => apply_staff(&mut account, staff, zone, notes),
        None if is_staff == Some(true) => {
            let message = format!(
                "user `{id}` is staff but `/api/staff` has no record with this `user_id`, \
                 so its status is unknown"
            );
            notes.push(Level::Warning, &record.at, message);
        }
        None => {}
    }
    (account, zone)
}

/// Adds an account for each staff record whose user `/api/users` does not list, so that a
/// login the dump shows only through `/api/staff` (an inactive staff member, say) is
/// still counted.
fn add_staff_only(
    staff: &[Staff<'_>],
    doctors: &HashMap<String, Doctor<'_>>,
    default_zone: Tz,
    seen: &HashSet<String>,
    joined: &mut Joined<'_>,
    notes: &mut Notes,
) {
    let mut added = Vec::new();
    for record in staff.iter().filter(|record| !seen.contains(&record.user_id)) {
        let mut account = Account::new(record.user_id.clone());
        account.status = AccountStatus::Unknown;
        account.login = record.username.map(str::to_owned);
        account.attributes.insert("listed_in".into(), "/api/staff".into());
        if let Some(doctor_id) = &record.doctor {
            account.attributes.insert("doctor".into(), doctor_id.clone());
        }
        let zone = record
            .doctor
            .as_deref()
            .and_then(|doctor_id| doctors.get(doctor_id))
            .and_then(|doctor| doctor.timezone)
            .unwrap_or(default_zone);
        apply_staff(&mut account, record, zone, notes);

        added.push(record.user_id.clone());
        joined.zones.insert(record.user_id.clone(), zone);
        joined.accounts.push(account);
    }
    if !added.is_empty() {
        let message = format!(
            "staff records of users `{}` have no entry in `/api/users`; they were added as \
             accounts from `/api/staff` alone",
            added.join("`, `")
        );
        notes.push(Level::Info, "$.responses", message);
    }
}

fn apply_doctor(account: &mut Account, doctor: &Doctor<'_>, notes: &mut Notes) {
    account.given_name = doctor.first_name.map(str::to_owned);
    account.family_name = doctor.last_name.map(str::to_owned);
    account.email = doctor.email.map(str::to_owned);
    account.job_title = doctor.job_title.map(str::to_owned);
    for (name, value) in [("suffix", doctor.suffix), ("specialty", doctor.specialty)] {
        if let Some(value) = value {
            account.attributes.insert(name.into(), value.to_owned());
        }
    }

    // `group_npi_number` identifies the practice (a type 2 NPI), not the person, so it is
    // kept as evidence and never used as the account's NPI.
    if let Some(group_npi) = doctor.group_npi_number {
        account.attributes.insert("group_npi_number".into(), group_npi.to_owned());
    }
    match (doctor.npi_number, doctor.group_npi_number) {
        (Some(npi), _) => {
            if !is_valid_npi(npi) {
                let message = format!(
                    "`{npi}` in `npi_number` of doctor `{}` is not a valid NPI (ten digits \
                     with a Luhn check digit); it is kept as exported, so correct it in DrChrono",
                    doctor.id
                );
                notes.push(Level::Warning, &format!("{}.npi_number", doctor.at), message);
            }
            account.npi = Some(npi.to_owned());
        }
        (None, Some(group_npi)) => {
            let message = format!(
                "doctor `{}` has only a group NPI (`{group_npi}`), which names the practice, not \
                 the person, so account `{}` gets no NPI; enter the doctor's own NPI in DrChrono",
                doctor.id, account.id
            );
            notes.push(Level::Warning, doctor.at, message);
        }
        (None, None) => {}
    }

    match &doctor.suspended {
        Flag::Value(true) => {
            restrict(account, AccountStatus::Disabled, "is_account_suspended: true")
        }
        Flag::Value(false) => {
            restrict(account, AccountStatus::Enabled, "is_account_suspended: false")
        }
        Flag::Invalid(raw) => {
            let message = format!(
                "`is_account_suspended` is `{raw}`, not `true` or `false`, so the status is unknown"
            );
            notes.push(Level::Warning, &format!("{}.is_account_suspended", doctor.at), message);
        }
        Flag::Absent => {}
    }
}

fn apply_staff(account: &mut Account, staff: &Staff<'_>, zone: Tz, notes: &mut Notes) {
    if account.given_name.is_none() && account.family_name.is_none() {
        account.given_name = staff.first_name.map(str::to_owned);
        account.family_name = staff.last_name.map(str::to_owned);
    }
    if account.email.is_none() {
        account.email = staff.email.map(str::to_owned);
    }
    if let Some(staff_id) = &staff.id {
        account.attributes.insert("staff_id".into(), staff_id.clone());
    }
    if let Some(created) = staff.created_at {
        match timestamp(created, zone) {
            Ok(time) => account.created_at = Some(time),
            Err(error) => notes.push(
                Level::Warning,
                &format!("{}.created_at", staff.at),
                time_message(created, error, zone),
            ),
        }
    }

    match &staff.active {
        Flag::Value(false) => restrict(account, AccountStatus::Disabled, "active: false"),
        Flag::Value(true) => restrict(account, AccountStatus::Enabled, "active: true"),
        Flag::Invalid(raw) => {
            let message =
                format!("`active` is `{raw}`, not `true` or `false`, so the status is unknown");
            notes.push(Level::Warning, &format!("{}.active", staff.at), message);
        }
        Flag::Absent => {}
    }
}

/// Sets the status unless a record already disabled the account: a suspended doctor or an
/// inactive staff record cannot sign in, whatever the other record contains.
fn restrict(account: &mut Account, status: AccountStatus, raw: &str) {
    if account.status != AccountStatus::Disabled {
        account.status = status;
        account.status_raw = Some(raw.to_owned());
    }
}

/// Reads a boolean field, warning when it is neither a boolean nor `"true"`/`"false"`.
fn read_flag(
    fields: &serde_json::Map<String, serde_json::Value>,
    name: &str,
    at: &str,
    notes: &mut Notes,
) -> Option<bool> {
    match flag(fields, name) {
        Flag::Value(value) => Some(value),
        Flag::Absent => None,
        Flag::Invalid(raw) => {
            let message =
                format!("`{name}` is `{raw}`, not `true` or `false`; it is read as absent");
            notes.push(Level::Warning, &format!("{at}.{name}"), message);
            None
        }
    }
}

/// Describes a timestamp that could not be read.
pub(super) fn time_message(text: &str, error: TimeError, zone: Tz) -> String {
    match error {
        TimeError::Format => format!(
            "`{text}` is not a time in the form `2026-11-30T07:58:12` or RFC 3339; it is ignored"
        ),
        TimeError::Skipped => format!(
            "`{text}` does not exist in `{}` (the clocks skipped it for daylight saving time); \
             it is ignored",
            zone.name()
        ),
    }
}

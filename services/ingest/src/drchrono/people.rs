//! Doctor and staff records (`/api/doctors`, `/api/staff`), indexed for the join with
//! `/api/users`.

use std::collections::{HashMap, HashSet};

use chrono_tz::Tz;

use super::Notes;
use super::dump::Record;
use super::values::{Flag, doctor_ref, flag, id_field, text};
use crate::diagnostic::Level;

/// One `/api/doctors` record: the provider profile of a doctor's own user.
pub(super) struct Doctor<'a> {
    pub at: &'a str,
    pub id: String,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub job_title: Option<&'a str>,
    pub suffix: Option<&'a str>,
    pub specialty: Option<&'a str>,
    pub npi_number: Option<&'a str>,
    pub group_npi_number: Option<&'a str>,
    pub suspended: Flag,
    /// The doctor's `timezone`, in which DrChrono writes the practice's naive times.
    pub timezone: Option<Tz>,
}

/// One `/api/staff` record: the profile of a staff member's user.
pub(super) struct Staff<'a> {
    pub at: &'a str,
    pub id: Option<String>,
    pub user_id: String,
    pub username: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub active: Flag,
    /// The primary physician's doctor id.
    pub doctor: Option<String>,
    pub created_at: Option<&'a str>,
}

/// Indexes doctors by id. A record without an id, or repeating one, is skipped with a
/// warning.
pub(super) fn doctors<'a>(
    records: &'a [Record<'a>],
    notes: &mut Notes,
) -> HashMap<String, Doctor<'a>> {
    let mut index = HashMap::new();
    for record in records {
        let fields = record.fields;
        let Some(id) = id_field(fields, "id") else {
            notes.push(Level::Warning, &record.at, "skipped a doctor without `id`".to_owned());
            continue;
        };
        if index.contains_key(&id) {
            let message = format!("skipped a second doctor with id `{id}`; the first is used");
            notes.push(Level::Warning, &record.at, message);
            continue;
        }

        let timezone = text(fields, "timezone").and_then(|name| match name.parse::<Tz>() {
            Ok(zone) => Some(zone),
            Err(_) => {
                let message = format!(
                    "`{name}` is not an IANA time zone name, so this doctor's times are read \
                     in the default zone"
                );
                notes.push(Level::Warning, &format!("{}.timezone", record.at), message);
                None
            }
        });
        let doctor = Doctor {
            at: &record.at,
            id: id.clone(),
            first_name: text(fields, "first_name"),
            last_name: text(fields, "last_name"),
            email: text(fields, "email"),
            job_title: text(fields, "job_title"),
            suffix: text(fields, "suffix"),
            specialty: text(fields, "specialty"),
            npi_number: text(fields, "npi_number"),
            group_npi_number: text(fields, "group_npi_number"),
            suspended: flag(fields, "is_account_suspended"),
            timezone,
        };
        index.insert(id, doctor);
    }
    index
}

/// Reads staff records in file order. A record without `user_id` is skipped with a
/// warning, because nothing ties it to a login, and so is a second record for one user.
pub(super) fn staff<'a>(records: &'a [Record<'a>], notes: &mut Notes) -> Vec<Staff<'a>> {
    let mut list: Vec<Staff<'a>> = Vec::new();
    let mut seen = HashSet::new();
    for record in records {
        let fields = record.fields;
        let Some(user_id) = id_field(fields, "user_id") else {
            let message = format!(
                "skipped staff member `{}` without `user_id`, because nothing ties it to a login",
                text(fields, "username").unwrap_or_default()
            );
            notes.push(Level::Warning, &record.at, message);
            continue;
        };
        if !seen.insert(user_id.clone()) {
            let message =
                format!("skipped a second staff record for user `{user_id}`; the first is used");
            notes.push(Level::Warning, &record.at, message);
            continue;
        }
        list.push(Staff {
            at: &record.at,
            id: id_field(fields, "id"),
            user_id,
            username: text(fields, "username"),
            first_name: text(fields, "first_name"),
            last_name: text(fields, "last_name"),
            email: text(fields, "email"),
            active: flag(fields, "active"),
            doctor: fields.get("doctor").and_then(doctor_ref),
            created_at: text(fields, "created_at"),
        });
    }
    list
}

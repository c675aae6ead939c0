//! Last sign-in from `/api/audit_log` entries of type `Login`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_core::model::{Account, Availability, LastSignIn};

use super::Notes;
use super::accounts::time_message;
use super::dump::{Dump, Record};
use super::people::Doctor;
use super::values::{id_field, text, timestamp};
use crate::diagnostic::Level;

/// Sets every account's last sign-in and returns whether the dump has sign-in data.
///
/// The last sign-in is the latest `Login` entry for the account's `user_id`. A naive
/// `created_at` is read in the `timezone` of the entry's `doctor_id`, else in the zone of
/// the account (`zones`), else in `default_zone`.
///
/// An account without a `Login` entry has `Never` signed in when the dump has `Login`
/// entries for other users. When the audit log request had a `since` parameter, such an
/// account only has no sign-in since that date. It is then left unknown, with the date in
/// its `no_login_since` attribute. A dump with no `Login` entry at all contains no sign-in
/// data, so every account stays unknown.
pub(super) fn apply(
    dump: &Dump<'_>,
    doctors: &HashMap<String, Doctor<'_>>,
    zones: &HashMap<String, Tz>,
    default_zone: Tz,
    accounts: &mut [Account],
    notes: &mut Notes,
) -> Availability {
    let Logins { latest, unreadable } =
        latest_logins(&dump.audit_log, doctors, zones, default_zone, notes);

    if latest.is_empty() && unreadable.is_empty() {
        let message = if dump.has_audit_log {
            "the audit log has no `Login` entries, so every account's last sign-in is unknown; \
             save `GET /api/audit_log` with `type=Login`"
        } else {
            "the dump has no `/api/audit_log` response, so every account's last sign-in is \
             unknown; save `GET /api/audit_log` with `type=Login`"
        };
        notes.push(Level::Info, "$.responses", message.to_owned());
        return if dump.has_audit_log { Availability::Unknown } else { Availability::Missing };
    }

    let mut without_login = 0usize;
    for account in accounts.iter_mut() {
        match latest.get(&account.id) {
            Some(time) => account.last_sign_in = LastSignIn::At(*time),
            // A user whose only entries could not be read did sign in at some time.
            None if unreadable.contains(&account.id) => account.last_sign_in = LastSignIn::Unknown,
            None => {
                without_login += 1;
                // NOTE: the model has no "not since" value. `Never` would claim the account
                // never signed in, which a window cannot show, so it stays unknown.
                match &dump.audit_log_since {
                    Some(since) => {
                        account.last_sign_in = LastSignIn::Unknown;
                        account.attributes.insert("no_login_since".into(), since.clone());
                    }
                    None => account.last_sign_in = LastSignIn::Never,
                }
            }
        }
    }
    if let (Some(since), true) = (&dump.audit_log_since, without_login > 0) {
        let message = format!(
            "the audit log starts at `{since}`, so accounts without a `Login` entry since then \
             ({without_login}) have an unknown last sign-in and a `no_login_since` attribute"
        );
        notes.push(Level::Info, "$.responses", message);
    }

    let known: HashSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    let strangers: Vec<&str> =
        latest.keys().map(String::as_str).filter(|id| !known.contains(id)).collect();
    if !strangers.is_empty() {
        let message = format!(
            "users who signed in but are not in `/api/users` or `/api/staff` ({}); their sign-ins are ignored",
            strangers.len()
        );
        notes.push(Level::Info, "$.responses", message);
    }
    Availability::Available
}

/// The `Login` entries of the audit log, by `user_id`.
struct Logins {
    /// The latest readable `Login` time of each user.
    latest: HashMap<String, DateTime<Utc>>,
    /// Users with a `Login` entry whose `created_at` could not be read.
    unreadable: HashSet<String>,
}

fn latest_logins(
    entries: &[Record<'_>],
    doctors: &HashMap<String, Doctor<'_>>,
    zones: &HashMap<String, Tz>,
    default_zone: Tz,
    notes: &mut Notes,
) -> Logins {
    let mut latest: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut unreadable = HashSet::new();
    for entry in entries {
        let fields = entry.fields;
        if !text(fields, "type").is_some_and(|kind| kind.eq_ignore_ascii_case("Login")) {
            continue;
        }
        let Some(user_id) = id_field(fields, "user_id") else {
            notes.push(
                Level::Warning,
                &entry.at,
                "skipped a `Login` entry without `user_id`".to_owned(),
            );
            continue;
        };
        let Some(created) = text(fields, "created_at") else {
            let message =
                format!("skipped a `Login` entry of user `{user_id}` without `created_at`");
            notes.push(Level::Warning, &entry.at, message);
            unreadable.insert(user_id);
            continue;
        };

        let zone = id_field(fields, "doctor_id")
            .and_then(|doctor_id| doctors.get(&doctor_id))
            .and_then(|doctor| doctor.timezone)
            .or_else(|| zones.get(&user_id).copied())
            .unwrap_or(default_zone);
        let time = match timestamp(created, zone) {
            Ok(time) => time,
            Err(error) => {
                let at = format!("{}.created_at", entry.at);
                notes.push(Level::Warning, &at, time_message(created, error, zone));
                unreadable.insert(user_id);
                continue;
            }
        };
        latest.entry(user_id).and_modify(|seen| *seen = (*seen).max(time)).or_insert(time);
    }
    Logins { latest, unreadable }
}

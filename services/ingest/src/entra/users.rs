//! Reads user objects: `GET /users`, `/users/delta`, `/users/{id}`, and users expanded in
//! other responses.

use std::collections::BTreeMap;

use rollcall_core::model::LastSignIn;
use serde_json::Value;

use super::fields::{Field, Item, Notes};
use super::kind::{Route, short_type};
use super::records::{Collected, Origin, UserRecord};

/// Properties kept in `Account::attributes` as evidence, under their Graph names.
const EVIDENCE: [&str; 3] = ["accountEnabled", "onPremisesSyncEnabled", "userType"];

/// The `signInActivity` timestamps, in the order they are preferred.
const SIGN_IN_TIMES: [&str; 3] =
    ["lastSuccessfulSignInDateTime", "lastSignInDateTime", "lastNonInteractiveSignInDateTime"];

/// Reads the items of a users listing.
pub(crate) fn read_users(items: &[Item], route: &Route, out: &mut Collected, notes: &mut Notes) {
    // Graph sends every selected property, with `null` for no value, so a response in which
    // any user carries `signInActivity` selected it for all of them.
    let sign_in_selected =
        route.sign_in_selected || items.iter().any(|item| item.get("signInActivity").is_some());
    out.sign_in_available |= sign_in_selected;

    for item in items {
        if let Some(removed) = item.get("@removed") {
            note_removed(item, removed, notes);
            continue;
        }
        read_user(item, Origin::Listing, sign_in_selected, out, notes);
    }
}

/// Reads one user object into `out`, with the managers its `manager` expansion nests.
/// Returns its id, or `None` when it has none.
pub(crate) fn read_user(
    item: &Item,
    origin: Origin,
    sign_in_selected: bool,
    out: &mut Collected,
    notes: &mut Notes,
) -> Option<String> {
    let Some(id) = item.id() else {
        notes.warn(
            &item.path,
            "this user has no `id`, so it is skipped: keep `id` in `$select` (Graph returns it \
             unless a select list leaves it out)",
        );
        return None;
    };

    let mut record = UserRecord::new(id.clone(), origin);
    record.upn = item.text("userPrincipalName", notes);
    record.mail = item.text("mail", notes);
    record.display_name = item.text("displayName", notes);
    record.given_name = item.text("givenName", notes);
    record.surname = item.text("surname", notes);
    record.employee_id = item.text("employeeId", notes);
    record.job_title = item.text("jobTitle", notes);
    record.department = item.text("department", notes);
    record.user_type = item.text("userType", notes);
    record.account_enabled = item.flag("accountEnabled", notes);
    record.created_at = item.time("createdDateTime", notes);
    for key in EVIDENCE {
        if let Some(raw) = item.raw(key) {
            record.attributes.insert(key.to_owned(), raw);
        }
    }
    record.sign_in = read_sign_in(item, sign_in_selected, &mut record.attributes, notes);
    record.manager = read_manager(item, &mut record.attributes, out, notes);

    out.users.push(record);
    Some(id)
}

/// Reads `signInActivity`: `None` when the response did not carry it at all.
///
/// Prefers `lastSuccessfulSignInDateTime`, which Graph added in December 2023 and did not
/// backfill. Otherwise it takes the later of the interactive and non-interactive times,
/// which also count failed attempts. An activity object with no time in it means the account
/// never signed in.
fn read_sign_in(
    item: &Item,
    selected: bool,
    attributes: &mut BTreeMap<String, String>,
    notes: &mut Notes,
) -> Option<LastSignIn> {
    let activity = match item.get("signInActivity") {
        None => return selected.then_some(LastSignIn::Never),
        Some(Value::Null) => return Some(LastSignIn::Never),
        Some(Value::Object(_)) => item.child("signInActivity")?,
        Some(other) => {
            notes.warn(
                &item.path_of("signInActivity"),
                format!(
                    "`signInActivity` should be an object but is `{}`, so the last sign-in \
                     is unknown: save the response exactly as Graph returned it",
                    super::fields::shorten(&other.to_string())
                ),
            );
            return None;
        }
    };

    let mut times = Vec::new();
    let mut unreadable = false;
    for key in SIGN_IN_TIMES {
        if let Some(raw) = activity.raw(key) {
            attributes.insert(format!("signInActivity.{key}"), raw);
        }
        let field = activity.time(key, notes);
        unreadable |= field == Field::Absent && activity.get(key).is_some();
        times.push(field.value());
    }
    let [successful, interactive, non_interactive] = times.as_slice() else { return None };
    match (*successful).or((*interactive).max(*non_interactive)) {
        Some(at) => Some(LastSignIn::At(at)),
        // An unparsable time does not show whether the account signed in.
        None if unreadable => None,
        None => Some(LastSignIn::Never),
    }
}

/// Reads the expanded `manager`. With `$expand=manager($levels=max)` Graph nests the
/// whole chain, so each nested manager that is a user becomes a record of its own that
/// names its manager in turn. A manager may be an organizational contact.
fn read_manager(
    item: &Item,
    attributes: &mut BTreeMap<String, String>,
    out: &mut Collected,
    notes: &mut Notes,
) -> Field<String> {
    let manager = match item.get("manager") {
        None => return Field::Absent,
        Some(Value::Null) => return Field::Null,
        Some(Value::Object(_)) => match item.child("manager") {
            Some(manager) => manager,
            None => return Field::Absent,
        },
        Some(other) => {
            notes.warn(
                &item.path_of("manager"),
                format!(
                    "`manager` should be an object but is `{}`, so it is ignored: expand it \
                     with `$expand=manager`",
                    super::fields::shorten(&other.to_string())
                ),
            );
            return Field::Absent;
        }
    };

    let type_name = manager.odata_type().map(short_type);
    if let Some(type_name) = type_name.filter(|name| *name != "user") {
        attributes.insert("manager@odata.type".to_owned(), type_name.to_owned());
    }
    if type_name.is_none_or(|name| name == "user") && manager.get("manager").is_some() {
        read_user(&manager, Origin::Expansion, false, out, notes);
    }
    match manager.id() {
        Some(id) => Field::Value(id),
        None => {
            notes.warn(
                &manager.path,
                "the expanded manager has no `id`, so it is ignored: keep `id` in the \
                 manager's `$select`",
            );
            Field::Absent
        }
    }
}

fn note_removed(item: &Item, removed: &Value, notes: &mut Notes) {
    let id = item.id().unwrap_or_default();
    let reason = removed.get("reason").and_then(Value::as_str).unwrap_or("unknown");
    // `deleted` is permanent; `changed` is a soft delete that can still be restored.
    notes.info(
        &item.path,
        format!(
            "user `{id}` is marked `@removed` with reason `{reason}` in this delta response, \
             so it is left out"
        ),
    );
}

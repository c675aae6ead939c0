//! SCIM User resources (RFC 7643, section 4.1, and the enterprise extension, section 4.3).

use chrono::{DateTime, Utc};
use rollcall_core::model::{Account, AccountStatus, ManagerRef};
use serde_json::{Map, Value};

use super::json::{attribute, flag, id_text, object, objects, text};
use super::{ENTERPRISE_SCHEMA, Notes};
use crate::diagnostic::Level;

/// A group a User's read-only `groups` attribute lists.
pub(super) struct GroupRef {
    pub id: String,
    pub display: Option<String>,
}

/// An account and the direct groups its `groups` attribute lists.
pub(super) struct UserRecord {
    pub account: Account,
    pub groups: Vec<GroupRef>,
    /// Entries of `groups` with `type: indirect`, which nesting already implies.
    pub indirect_groups: usize,
}

/// Reads a User; a User without `id` is skipped with a warning.
pub(super) fn read_user(
    resource: &Map<String, Value>,
    at: &str,
    notes: &mut Notes,
) -> Option<UserRecord> {
    let Some(id) = id_text(resource, "id") else {
        let message = format!(
            "skipped a User without `id` (userName `{}`); export Users from the SCIM server, \
             which assigns every resource an id",
            text(resource, "userName").unwrap_or_default()
        );
        notes.push(Level::Warning, at, message);
        return None;
    };

    let mut account = Account::new(id);
    account.login = text(resource, "userName").map(str::to_owned);
    account.display_name = text(resource, "displayName").map(str::to_owned);
    if let Some(name) = object(resource, "name") {
        account.given_name = text(name, "givenName").map(str::to_owned);
        account.family_name = text(name, "familyName").map(str::to_owned);
    }
    account.email = primary_email(resource);
    account.job_title = text(resource, "title").map(str::to_owned);
    read_active(resource, at, notes, &mut account);
    read_enterprise(resource, &mut account);

    let attributes = &mut account.attributes;
    for name in ["externalId", "userType"] {
        if let Some(value) = text(resource, name) {
            attributes.insert(name.to_owned(), value.to_owned());
        }
    }
    if let Some(meta) = object(resource, "meta") {
        account.created_at = text(meta, "created").and_then(timestamp);
        if let Some(modified) = text(meta, "lastModified") {
            account.attributes.insert("meta.lastModified".into(), modified.to_owned());
        }
    }

    let mut groups = Vec::new();
    let mut indirect_groups = 0;
    for (_, group) in objects(resource, "groups") {
        let Some(id) = id_text(group, "value") else { continue };
        if text(group, "type").is_some_and(|kind| kind.eq_ignore_ascii_case("indirect")) {
            indirect_groups += 1;
            continue;
        }
        groups.push(GroupRef { id, display: text(group, "display").map(str::to_owned) });
    }
    Some(UserRecord { account, groups, indirect_groups })
}

/// Reads `active`. RFC 7643 gives it no default, so an absent value leaves the status
/// unknown rather than enabled.
fn read_active(resource: &Map<String, Value>, at: &str, notes: &mut Notes, account: &mut Account) {
    let Some(value) = attribute(resource, "active") else {
        account.status = AccountStatus::Unknown;
        return;
    };
    account.status_raw = Some(format!("active: {value}"));
    account.status = match flag(value) {
        Some(true) => AccountStatus::Enabled,
        Some(false) => AccountStatus::Disabled,
        None => {
            let message = format!(
                "`active` is `{value}`, not `true` or `false`, so the status of User `{}` is unknown",
                account.id
            );
            notes.push(Level::Warning, &format!("{at}.active"), message);
            AccountStatus::Unknown
        }
    };
}

/// Reads the enterprise extension: employee number, department, manager and the
/// organisation fields kept as evidence.
fn read_enterprise(resource: &Map<String, Value>, account: &mut Account) {
    let Some(enterprise) = object(resource, ENTERPRISE_SCHEMA) else { return };

    account.employee_id = id_text(enterprise, "employeeNumber");
    account.department = text(enterprise, "department").map(str::to_owned);
    // `manager.value` is the SCIM `id` of the manager's User (RFC 7643, section 4.3).
    account.manager = object(enterprise, "manager")
        .and_then(|manager| id_text(manager, "value"))
        .map(ManagerRef::Account);
    for name in ["costCenter", "organization", "division"] {
        if let Some(value) = text(enterprise, name) {
            account.attributes.insert(format!("enterprise.{name}"), value.to_owned());
        }
    }
}

/// Picks the e-mail marked `primary`, else the first of type `work`, else the first.
fn primary_email(resource: &Map<String, Value>) -> Option<String> {
    let emails: Vec<&Map<String, Value>> =
        objects(resource, "emails").into_iter().map(|(_, email)| email).collect();
    let is_primary =
        |email: &&Map<String, Value>| attribute(email, "primary").and_then(flag).unwrap_or(false);
    let is_work = |email: &&Map<String, Value>| {
        text(email, "type").is_some_and(|kind| kind.eq_ignore_ascii_case("work"))
    };
    let chosen = emails
        .iter()
        .copied()
        .find(is_primary)
        .or_else(|| emails.iter().copied().find(is_work))
        .or_else(|| emails.iter().copied().find(|email| text(email, "value").is_some()))?;
    text(chosen, "value").map(str::to_owned)
}

/// Parses an RFC 3339 `dateTime` (RFC 7643, section 2.3.5).
fn timestamp(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value).ok().map(|time| time.with_timezone(&Utc))
}

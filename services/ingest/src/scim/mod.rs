//! SCIM 2.0 exports: the ListResponse bodies of `GET /Users` and `GET /Groups`
//! (RFC 7644, section 3.4.2), read into a [`SourceSnapshot`].
//!
//! Many EHRs and SaaS tools expose their users through SCIM, so one reader serves any
//! source; the caller names it with a [`SourceId`]. SCIM carries no sign-in times and no
//! authentication methods, so every account's last sign-in is unknown.

mod error;
mod group;
mod json;
mod list;
mod user;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fuzz;

use std::collections::HashSet;
use std::path::Path;

pub(super) use crate::json_support::Notes;
use crate::json_support::json_reason;

use rollcall_core::model::{Availability, SourceId, SourceSnapshot};

pub use error::ScimError;

use crate::diagnostic::{Diagnostic, Level};
use list::Kind;

/// The core User schema URN (RFC 7643).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN (RFC 7643).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension URN (RFC 7643, section 4.3), also the attribute name
/// under which a User carries the extension's values.
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The ListResponse message URN (RFC 7644, section 3.4.2).
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The error response message URN (RFC 7644, section 3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Reads a SCIM export into a snapshot of `source`.
///
/// The file contains one ListResponse, or a JSON array of them (the saved pages of one or
/// more queries), with User and Group resources in any order. Users become accounts:
/// `id`, `userName` as login, `name.givenName` and `name.familyName`, `displayName`, the
/// primary e-mail, `title`, and from the enterprise extension `employeeNumber` (as the
/// employee id), `department` and `manager.value` (as a manager account id). `active`
/// sets the status. An absent `active` leaves it unknown, because RFC 7643 gives the
/// attribute no default. `externalId`, `userType` and `meta.lastModified` are kept as
/// attributes. Groups become entitlements of kind group, and their `members` become
/// memberships of Users or nested Groups.
///
/// # Errors
///
/// [`ScimError`] when the file is not JSON, is not a ListResponse or a list of them, or
/// contains a SCIM error response.
pub fn read(
    path: &Path,
    bytes: &[u8],
    source: SourceId,
) -> Result<(SourceSnapshot, Vec<Diagnostic>), ScimError> {
    // Windows tools save JSON with a UTF-8 byte order mark, which the JSON grammar rejects.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| ScimError::InvalidJson {
            file: path.to_owned(),
            line: error.line(),
            column: error.column(),
            reason: json_reason(&error),
        })?;

    let mut notes = Notes { file: path, diagnostics: Vec::new() };
    let found = list::resources(&root, path, &mut notes)?;

    let mut snapshot = SourceSnapshot::new(source);
    snapshot.settings.sign_in_activity = Availability::Missing;
    let mut account_ids = HashSet::new();
    let mut user_groups = Vec::new();
    let mut indirect_groups = 0usize;
    let mut groups = Vec::new();
    let mut duplicates = 0usize;

    for item in found.iter().filter(|item| item.kind == Kind::User) {
        let Some(record) = user::read_user(item.resource, &item.at, &mut notes) else { continue };
        // The same User on two saved pages, when the server's order shifted between them.
        if !account_ids.insert(record.account.id.clone()) {
            duplicates += 1;
            continue;
        }
        indirect_groups += record.indirect_groups;
        user_groups.push((record.account.id.clone(), record.groups));
        snapshot.accounts.push(record.account);
    }

    let mut group_ids = HashSet::new();
    for item in found.iter().filter(|item| item.kind == Kind::Group) {
        let Some(record) = group::read_group(item.resource, &item.at, &mut notes) else { continue };
        if !group_ids.insert(record.entitlement.id.clone()) {
            duplicates += 1;
            continue;
        }
        snapshot.entitlements.push(record.entitlement.clone());
        groups.push(record);
    }

    snapshot.memberships = group::memberships(
        &groups,
        &user_groups,
        &account_ids,
        &mut snapshot.entitlements,
        &mut notes,
    );

    if duplicates > 0 {
        let message =
            format!("resources that repeat an earlier id: {duplicates}; the first of each is used");
        notes.push(Level::Warning, "$", message);
    }
    if indirect_groups > 0 {
        let message = format!(
            "skipped User `groups` entries of type `indirect` ({indirect_groups}), because only \
             direct memberships are recorded and nesting is read from the Groups' `members`"
        );
        notes.push(Level::Info, "$", message);
    }
    Ok((snapshot, notes.diagnostics))
}

//! DrChrono API dumps: saved responses of the DrChrono REST API (v4), read into a
//! snapshot of source `ehr:drchrono`.
//!
//! A dump is one JSON object:
//!
//! ```json
//! {"source": "drchrono", "collected_at": "2026-12-01T06:00:04Z",
//!  "responses": {"/api/users": [page, ...], "/api/user_groups": [...],
//!                "/api/doctors": [...], "/api/staff": [...],
//!                "/api/audit_log?type=Login&since=2026-09-01": [...]}}
//! ```
//!
//! Each page is the API's `{"previous", "next", "data"}` object. Users become accounts,
//! joined to their doctor or staff record. Permissions and user groups become grants, and
//! `Login` entries of the audit log give the last sign-in.

mod accounts;
mod dump;
mod error;
mod grants;
mod people;
mod signin;
mod values;

#[cfg(test)]
mod tests_example;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_shapes;

use std::collections::HashSet;
use std::path::Path;

pub(super) use crate::json_support::Notes;
use crate::json_support::json_reason;

use chrono_tz::Tz;
use rollcall_core::model::{SourceId, SourceSnapshot};

pub use error::DrChronoError;

use crate::diagnostic::Diagnostic;

/// Reads a DrChrono dump into a snapshot of source `ehr:drchrono`.
///
/// `default_zone` is the zone of naive timestamps whose doctor has no readable
/// `timezone`. Record problems become diagnostics and the rest of the dump is still read.
///
/// # Errors
///
/// [`DrChronoError`] when the file is not JSON, is not a dump object, names another
/// source, or has no `/api/users` response.
pub fn read(
    path: &Path,
    bytes: &[u8],
    default_zone: Tz,
) -> Result<(SourceSnapshot, Vec<Diagnostic>), DrChronoError> {
    // Windows tools save JSON with a UTF-8 byte order mark, which the JSON grammar rejects.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| DrChronoError::InvalidJson {
            file: path.to_owned(),
            line: error.line(),
            column: error.column(),
            reason: json_reason(&error),
        })?;

    let mut notes = Notes { file: path, diagnostics: Vec::new() };
    let dump = dump::open(&root, path, &mut notes)?;
    let doctors = people::doctors(&dump.doctors, &mut notes);
    let staff = people::staff(&dump.staff, &mut notes);
    let joined = accounts::join(&dump.users, &doctors, &staff, default_zone, &mut notes);

    let mut snapshot = SourceSnapshot::new(drchrono_source());
    snapshot.collected_at = dump.collected_at;
    snapshot.accounts = joined.accounts;

    grants::permissions(
        &joined.users,
        &mut snapshot.entitlements,
        &mut snapshot.memberships,
        &mut notes,
    );
    let account_ids: HashSet<&str> = snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    let mut groups = Vec::new();
    let mut group_memberships = Vec::new();
    grants::user_groups(
        &dump.user_groups,
        &account_ids,
        &mut groups,
        &mut group_memberships,
        &mut notes,
    );
    snapshot.entitlements.extend(groups);
    snapshot.memberships.extend(group_memberships);

    snapshot.settings.sign_in_activity = signin::apply(
        &dump,
        &doctors,
        &joined.zones,
        default_zone,
        &mut snapshot.accounts,
        &mut notes,
    );
    Ok((snapshot, notes.diagnostics))
}

/// Returns the source id `ehr:drchrono`.
#[expect(
    clippy::expect_used,
    reason = "the constant `drchrono` is lowercase ASCII letters, which `SourceId::ehr` accepts"
)]
fn drchrono_source() -> SourceId {
    SourceId::ehr("drchrono").expect("`drchrono` is a valid EHR vendor name")
}

//! ListResponse pages (RFC 7644, section 3.4.2) and the User and Group resources in them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::error::ScimError;
use super::json::{attribute, has_schema, object, text, type_name};
use super::{ERROR_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, Notes, USER_SCHEMA};
use crate::diagnostic::Level;

/// The resource types Rollcall reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    User,
    Group,
}

/// One resource found in the file, with its JSON path.
pub(super) struct Found<'a> {
    pub at: String,
    pub kind: Kind,
    pub resource: &'a Map<String, Value>,
}

/// Returns every User and Group in the file, in file order.
///
/// The file contains one ListResponse or a JSON array of them (the saved pages of one
/// query). A page that is not a ListResponse is skipped with a warning.
pub(super) fn resources<'a>(
    root: &'a Value,
    file: &Path,
    notes: &mut Notes,
) -> Result<Vec<Found<'a>>, ScimError> {
    let mut found = Vec::new();
    let mut totals = Totals::default();

    match root {
        Value::Object(page) => {
            if let Some(error) = error_response(page, file) {
                return Err(error);
            }
            if !is_list_response(page) {
                return Err(ScimError::NotListResponse { file: file.to_owned(), found: "object" });
            }
            read_page(page, "$", &mut found, &mut totals, notes);
        }
        Value::Array(pages) => {
            for (index, page) in pages.iter().enumerate() {
                let at = format!("$[{index}]");
                match page.as_object() {
                    Some(page) if is_list_response(page) => {
                        read_page(page, &at, &mut found, &mut totals, notes);
                    }
                    _ => {
                        let message = format!(
                            "skipped a JSON {} that is not a SCIM ListResponse; each item \
                             of the list must be one response page",
                            type_name(page)
                        );
                        notes.push(Level::Warning, &at, message);
                    }
                }
            }
        }
        other => {
            return Err(ScimError::NotListResponse {
                file: file.to_owned(),
                found: type_name(other),
            });
        }
    }

    totals.report(notes);
    Ok(found)
}

/// `totalResults` against the resources actually saved.
#[derive(Default)]
struct Totals {
    /// The largest `totalResults` of any page.
    reported: Option<u64>,
    /// Resources in every page's `Resources`.
    saved: u64,
    /// Resources skipped because their type is not User or Group, by type.
    ignored: BTreeMap<String, usize>,
}

impl Totals {
    fn report(&self, notes: &mut Notes) {
        if let Some(reported) = self.reported
            && reported > self.saved
        {
            let message = format!(
                "`totalResults` is {reported} but the file has {} resources; save every page \
                 (follow `startIndex` and `count`), or the missing users and groups are not checked",
                self.saved
            );
            notes.push(Level::Warning, "$", message);
        }
        if !self.ignored.is_empty() {
            let list: Vec<String> =
                self.ignored.iter().map(|(kind, count)| format!("{count} {kind}")).collect();
            let message =
                format!("ignored resources that are neither User nor Group: {}", list.join(", "));
            notes.push(Level::Info, "$", message);
        }
    }
}

fn read_page<'a>(
    page: &'a Map<String, Value>,
    at: &str,
    found: &mut Vec<Found<'a>>,
    totals: &mut Totals,
    notes: &mut Notes,
) {
    if let Some(total) = attribute(page, "totalResults").and_then(Value::as_u64) {
        totals.reported = Some(totals.reported.map_or(total, |seen| seen.max(total)));
    }
    let Some(Value::Array(items)) = attribute(page, "Resources") else { return };

    for (index, item) in items.iter().enumerate() {
        totals.saved += 1;
        let item_at = format!("{at}.Resources[{index}]");
        let Some(resource) = item.as_object() else {
            let message =
                format!("skipped a JSON {} where a resource was expected", type_name(item));
            notes.push(Level::Warning, &item_at, message);
            continue;
        };
        match kind(resource) {
            Ok(kind) => found.push(Found { at: item_at, kind, resource }),
            Err(name) => *totals.ignored.entry(name).or_default() += 1,
        }
    }
}

/// Tells a User from a Group: by `schemas`, then `meta.resourceType`, then by `userName`
/// (required on every User, RFC 7643, section 4.1). Returns the type name otherwise.
fn kind(resource: &Map<String, Value>) -> Result<Kind, String> {
    if has_schema(resource, USER_SCHEMA) {
        return Ok(Kind::User);
    }
    if has_schema(resource, GROUP_SCHEMA) {
        return Ok(Kind::Group);
    }
    let declared = object(resource, "meta").and_then(|meta| text(meta, "resourceType"));
    match declared {
        Some(name) if name.eq_ignore_ascii_case("User") => Ok(Kind::User),
        Some(name) if name.eq_ignore_ascii_case("Group") => Ok(Kind::Group),
        Some(name) => Err(name.to_owned()),
        None if attribute(resource, "userName").is_some() => Ok(Kind::User),
        None if attribute(resource, "members").is_some() => Ok(Kind::Group),
        None => Err("untyped".to_owned()),
    }
}

fn is_list_response(page: &Map<String, Value>) -> bool {
    has_schema(page, LIST_RESPONSE_SCHEMA)
        || attribute(page, "Resources").is_some()
        || attribute(page, "totalResults").is_some()
}

/// Reads a SCIM error response (RFC 7644, section 3.12) saved in place of results.
fn error_response(page: &Map<String, Value>, file: &Path) -> Option<ScimError> {
    if !has_schema(page, ERROR_SCHEMA) {
        return None;
    }
    let status = match attribute(page, "status") {
        Some(Value::String(status)) => status.trim().to_owned(),
        Some(Value::Number(status)) => status.to_string(),
        _ => String::new(),
    };
    let detail = text(page, "detail").unwrap_or_default().to_owned();
    Some(ScimError::ErrorResponse { file: file.to_owned(), status, detail })
}

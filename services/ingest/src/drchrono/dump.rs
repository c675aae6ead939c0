//! The dump envelope: `source`, `collected_at`, and `responses` mapping each API path to
//! its saved pages.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::Notes;
use super::error::DrChronoError;
use super::values::{text, type_name};
use crate::diagnostic::Level;

/// One record of a response page, with its JSON path.
pub(super) struct Record<'a> {
    pub at: String,
    pub fields: &'a Map<String, Value>,
}

/// The records of every endpoint Rollcall reads.
#[derive(Default)]
pub(super) struct Dump<'a> {
    pub collected_at: Option<DateTime<Utc>>,
    pub users: Vec<Record<'a>>,
    pub user_groups: Vec<Record<'a>>,
    pub doctors: Vec<Record<'a>>,
    pub staff: Vec<Record<'a>>,
    pub audit_log: Vec<Record<'a>>,
    /// Whether any `/api/audit_log` response was saved, even an empty one.
    pub has_audit_log: bool,
    /// The `since` query parameter of the audit log request, when it had one: sign-ins
    /// before it are not in the dump.
    pub audit_log_since: Option<String>,
}

/// Checks the envelope and sorts the saved responses by endpoint.
///
/// A response key is a request path with an optional query (`/api/audit_log?since=...`)
/// or a full URL. The path alone picks the endpoint, and several keys for one endpoint are
/// read in file order.
pub(super) fn open<'a>(
    root: &'a Value,
    file: &Path,
    notes: &mut Notes,
) -> Result<Dump<'a>, DrChronoError> {
    let Value::Object(envelope) = root else {
        return Err(DrChronoError::NotADump { file: file.to_owned(), found: type_name(root) });
    };
    if let Some(source) = envelope.get("source")
        && !source.as_str().is_some_and(|name| name.trim().eq_ignore_ascii_case("drchrono"))
    {
        let found = source.as_str().map_or_else(|| source.to_string(), str::to_owned);
        return Err(DrChronoError::WrongSource { file: file.to_owned(), found });
    }
    let Some(Value::Object(responses)) = envelope.get("responses") else {
        return Err(DrChronoError::MissingResponses { file: file.to_owned() });
    };

    let mut dump = Dump::default();
    if let Some(collected) = text(envelope, "collected_at") {
        match DateTime::parse_from_rfc3339(collected) {
            Ok(time) => dump.collected_at = Some(time.with_timezone(&Utc)),
            Err(_) => {
                let message = format!(
                    "`{collected}` is not an RFC 3339 time with an offset, so the collection \
                     time is unknown; write it as `2026-12-01T06:00:04Z`"
                );
                notes.push(Level::Warning, "$.collected_at", message);
            }
        }
    }

    let mut ignored = Vec::new();
    let mut has_users = false;
    for (key, response) in responses {
        let path = endpoint_path(key);
        let records = match path {
            "/api/users" => {
                has_users = true;
                &mut dump.users
            }
            "/api/user_groups" => &mut dump.user_groups,
            "/api/doctors" => &mut dump.doctors,
            "/api/staff" => &mut dump.staff,
            "/api/audit_log" => {
                dump.has_audit_log = true;
                if let Some(since) = query_parameter(key, "since") {
                    dump.audit_log_since = Some(since.to_owned());
                }
                &mut dump.audit_log
            }
            _ => {
                ignored.push(key.as_str());
                continue;
            }
        };
        let at = format!("$.responses[{}]", serde_json::Value::from(key.as_str()));
        read_pages(response, &at, key, records, notes);
    }

    if !ignored.is_empty() {
        let message =
            format!("ignored responses that Rollcall does not read: `{}`", ignored.join("`, `"));
        notes.push(Level::Info, "$.responses", message);
    }
    if !has_users {
        return Err(DrChronoError::MissingUsers { file: file.to_owned() });
    }
    Ok(dump)
}

/// Returns the API path of a response key: from `/api/` up to the query, without a
/// trailing `/`.
fn endpoint_path(key: &str) -> &str {
    let start = key.find("/api/").unwrap_or(0);
    let path = key.get(start..).unwrap_or(key);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.trim_end_matches('/')
}

/// Returns the raw value of one query parameter of a response key.
fn query_parameter<'a>(key: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = key.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(parameter, _)| *parameter == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Collects the records of one response: a list of pages (`{previous, next, data}`), one
/// page, or a bare list of records.
fn read_pages<'a>(
    response: &'a Value,
    at: &str,
    key: &str,
    records: &mut Vec<Record<'a>>,
    notes: &mut Notes,
) {
    let pages: Vec<(String, &'a Value)> = match response {
        Value::Array(items) => {
            items.iter().enumerate().map(|(i, item)| (format!("{at}[{i}]"), item)).collect()
        }
        page @ Value::Object(_) => vec![(at.to_owned(), page)],
        other => {
            let message = format!(
                "the response is a JSON {}, not a list of pages; save the pages that \
                 `GET {key}` returned",
                type_name(other)
            );
            notes.push(Level::Warning, at, message);
            return;
        }
    };

    let mut last_next: Option<(String, &str)> = None;
    for (page_at, page) in pages {
        let Some(page) = page.as_object() else {
            let message =
                format!("skipped a JSON {} where a page or record was expected", type_name(page));
            notes.push(Level::Warning, &page_at, message);
            continue;
        };
        let Some(data) = page.get("data") else {
            // A bare list of records, saved without the page envelope.
            records.push(Record { at: page_at, fields: page });
            last_next = None;
            continue;
        };
        last_next = text(page, "next").map(|next| (page_at.clone(), next));
        let Value::Array(items) = data else {
            let message = format!(
                "`data` is a JSON {}, not a list of records; the page is skipped",
                type_name(data)
            );
            notes.push(Level::Warning, &format!("{page_at}.data"), message);
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            let item_at = format!("{page_at}.data[{index}]");
            match item.as_object() {
                Some(fields) => records.push(Record { at: item_at, fields }),
                None => {
                    let message =
                        format!("skipped a JSON {} where a record was expected", type_name(item));
                    notes.push(Level::Warning, &item_at, message);
                }
            }
        }
    }

    // The API sets `next` on every page but the last, so a `next` on the last saved page
    // means the dump stopped early.
    if let Some((page_at, next)) = last_next {
        let message = format!(
            "the last saved page of `{key}` has a `next` link (`{next}`), so later pages are \
             missing; save every page until `next` is null"
        );
        notes.push(Level::Warning, &format!("{page_at}.next"), message);
    }
}

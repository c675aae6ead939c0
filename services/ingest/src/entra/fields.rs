//! Typed access to the fields of one Graph item, with problems noted as diagnostics.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, Level, Location};

/// Diagnostics for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notes {
    file: PathBuf,
    pub(crate) list: Vec<Diagnostic>,
}

impl Notes {
    pub(crate) fn new(file: &Path) -> Self {
        Self { file: file.to_path_buf(), list: Vec::new() }
    }

    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Notes a skipped record or field at a JSON path.
    pub(crate) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(Level::Warning, path, message.into());
    }

    /// Notes something worth knowing where nothing was lost.
    pub(crate) fn info(&mut self, path: &str, message: impl Into<String>) {
        self.push(Level::Info, path, message.into());
    }

    fn push(&mut self, level: Level, path: &str, message: String) {
        let location =
            if path.is_empty() { Location::File } else { Location::JsonPath(path.to_owned()) };
        self.list.push(Diagnostic::new(level, self.file.clone(), location, message));
    }
}

/// A property as a response carries it. Graph leaves out properties that were not
/// selected, and sends `null` for a selected property with no value, so the two differ: an
/// absent property leaves what another file sent, and a `null` clears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field<T> {
    /// Not in the response.
    Absent,
    /// In the response with no value (`null`, `""`, or the `0001-01-01` sentinel for times).
    Null,
    /// In the response with a value.
    Value(T),
}

impl<T> Field<T> {
    /// Writes this property over `target` unless it was absent.
    pub(crate) fn apply_to(self, target: &mut Option<T>) {
        match self {
            Field::Absent => {}
            Field::Null => *target = None,
            Field::Value(value) => *target = Some(value),
        }
    }

    pub(crate) fn value(self) -> Option<T> {
        match self {
            Field::Value(value) => Some(value),
            Field::Absent | Field::Null => None,
        }
    }
}

/// One JSON object of a response and its JSON path, for reading typed fields.
#[derive(Debug, Clone)]
pub(crate) struct Item<'a> {
    pub(crate) object: &'a Map<String, Value>,
    pub(crate) path: String,
}

impl<'a> Item<'a> {
    pub(crate) fn new(object: &'a Map<String, Value>, path: String) -> Self {
        Self { object, path }
    }

    /// Returns the object under `key` as an item of its own.
    pub(crate) fn child(&self, key: &str) -> Option<Item<'a>> {
        self.get(key).and_then(Value::as_object).map(|object| Item::new(object, self.path_of(key)))
    }

    /// Returns the objects in the array under `key` as items, and notes other elements.
    pub(crate) fn children(&self, key: &str, notes: &mut Notes) -> Vec<Item<'a>> {
        let Some(Value::Array(elements)) = self.get(key) else { return Vec::new() };
        objects(elements, &self.path_of(key), notes)
    }

    /// Returns the JSON path of a property of this item.
    pub(crate) fn path_of(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key)
    }

    /// Returns the object id when it is a non-empty string.
    pub(crate) fn id(&self) -> Option<String> {
        self.get("id").and_then(Value::as_str).filter(|id| !id.trim().is_empty()).map(str::to_owned)
    }

    /// Returns the `@odata.type` annotation when it is a string.
    pub(crate) fn odata_type(&self) -> Option<&'a str> {
        self.get("@odata.type").and_then(Value::as_str)
    }

    /// Reads a string property. An empty string counts as no value.
    pub(crate) fn text(&self, key: &str, notes: &mut Notes) -> Field<String> {
        match self.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(Value::String(text)) if text.trim().is_empty() => Field::Null,
            Some(Value::String(text)) => Field::Value(text.clone()),
            Some(other) => {
                notes.warn(&self.path_of(key), wrong_type(key, "a string", other));
                Field::Absent
            }
        }
    }

    /// Reads a boolean property.
    pub(crate) fn flag(&self, key: &str, notes: &mut Notes) -> Field<bool> {
        match self.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(Value::Bool(flag)) => Field::Value(*flag),
            Some(other) => {
                notes.warn(&self.path_of(key), wrong_type(key, "true or false", other));
                Field::Absent
            }
        }
    }

    /// Reads a timestamp property. An unparsable value is noted and read as absent.
    pub(crate) fn time(&self, key: &str, notes: &mut Notes) -> Field<DateTime<Utc>> {
        match self.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(Value::String(text)) => match parse_time(text) {
                Ok(Some(time)) => Field::Value(time),
                Ok(None) => Field::Null,
                Err(()) => {
                    notes.warn(
                        &self.path_of(key),
                        format!(
                            "`{key}` has the value `{}`, which is not an RFC 3339 timestamp, so \
                             it is ignored: save the response exactly as Graph returned it",
                            shorten(text)
                        ),
                    );
                    Field::Absent
                }
            },
            Some(other) => {
                notes.warn(&self.path_of(key), wrong_type(key, "a timestamp string", other));
                Field::Absent
            }
        }
    }

    /// Returns the first of several spellings of a property that the item contains.
    pub(crate) fn first_present<'k>(&self, keys: &[&'k str]) -> Option<&'k str> {
        keys.iter().copied().find(|key| self.object.contains_key(*key))
    }

    /// Formats a property as evidence text: strings as they are, arrays of strings joined
    /// with `,`, and other values as compact JSON. Returns `None` for an absent property or
    /// `null`.
    pub(crate) fn raw(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
            }
            other => Some(other.to_string()),
        }
    }
}

/// Returns the objects of a JSON array as items at `path[i]`, and notes and skips other
/// elements.
pub(crate) fn objects<'a>(elements: &'a [Value], path: &str, notes: &mut Notes) -> Vec<Item<'a>> {
    let mut items = Vec::new();
    for (index, element) in elements.iter().enumerate() {
        let item_path = format!("{path}[{index}]");
        match element.as_object() {
            Some(object) => items.push(Item::new(object, item_path)),
            None => notes.warn(
                &item_path,
                format!(
                    "the item `{}` is not a JSON object, so it is skipped",
                    shorten(&element.to_string())
                ),
            ),
        }
    }
    items
}

/// Parses a Graph `DateTimeOffset`: RFC 3339 with up to 7 fractional digits, always UTC.
///
/// Returns `Ok(None)` for `""` and for `0001-01-01T00:00:00Z`, the .NET minimum date that
/// Graph sends for "never" (for example in `signInActivity`). A value without an offset is
/// read as UTC, because Graph stores every `DateTimeOffset` in UTC.
pub(crate) fn parse_time(text: &str) -> Result<Option<DateTime<Utc>>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let time = match DateTime::parse_from_rfc3339(text) {
        Ok(time) => time.with_timezone(&Utc),
        Err(_) => {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| ())?.and_utc()
        }
    };
    if time.timestamp() <= SENTINEL_SECONDS { Ok(None) } else { Ok(Some(time)) }
}

/// `0001-01-01T00:00:00Z` as seconds since the Unix epoch.
const SENTINEL_SECONDS: i64 = -62_135_596_800;

fn wrong_type(key: &str, expected: &str, found: &Value) -> String {
    format!(
        "`{key}` should be {expected} but is `{}`, so it is ignored: save the response \
         exactly as Graph returned it",
        shorten(&found.to_string())
    )
}

/// Cuts a value shown in a message to 60 characters.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}...")
}

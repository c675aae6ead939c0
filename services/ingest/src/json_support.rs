//! Helpers shared by the JSON readers (DrChrono, FHIR, SCIM): diagnostics located by JSON
//! path, and short descriptions of parser errors and value types for messages.

use std::path::Path;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Level, Location};

/// The file being read and the diagnostics found so far.
pub(crate) struct Notes<'a> {
    /// The file named in every diagnostic.
    pub(crate) file: &'a Path,
    /// The diagnostics, in the order found.
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Notes<'_> {
    /// Records a problem at JSON path `at` (`$.responses./api/users[0].data[3]`).
    pub(crate) fn push(&mut self, level: Level, at: &str, message: String) {
        let location = Location::JsonPath(at.to_owned());
        self.diagnostics.push(Diagnostic::new(level, self.file, location, message));
    }
}

/// Returns the parser's message without its ` at line L column C` suffix, because the
/// error reports line and column itself.
pub(crate) fn json_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(end) => message.get(..end).unwrap_or(&message).to_owned(),
        None => message,
    }
}

/// Returns the JSON type name of `value`, for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Strategies for property tests of the JSON readers: arbitrary JSON trees whose strings
/// and keys are drawn partly from a reader's own vocabulary, so generated documents reach
/// past the first type check into the mapping code.
#[cfg(test)]
pub(crate) mod strategies {
    use proptest::prelude::*;
    use serde_json::Value;

    /// A scalar: null, a boolean, a number, any short string, or one of `words`.
    pub(crate) fn leaf(words: Vec<&'static str>) -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
            prop::sample::select(words).prop_map(|s| Value::String(s.to_owned())),
        ]
    }

    /// A tree of arrays and objects up to `depth` levels, whose object keys are `keys`.
    pub(crate) fn tree(
        words: Vec<&'static str>,
        keys: Vec<&'static str>,
        depth: u32,
    ) -> impl Strategy<Value = Value> {
        let keys = prop::sample::select(keys);
        leaf(words).prop_recursive(depth, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }
}

//! Errors for files that cannot be read at all.

use std::path::PathBuf;

/// A saved Graph response file that cannot be read at all.
///
/// Problems inside a readable file (one bad record, an unsupported response, a Graph error
/// body) are diagnostics instead, so the rest of the export still loads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntraError {
    /// The file holds nothing but whitespace or a byte order mark.
    #[error("`{}` is empty: save the Graph response body into it again", file.display())]
    Empty {
        /// The file, relative to the tenant's entra folder.
        file: PathBuf,
    },
    /// The file is not valid JSON at the given position.
    #[error(
        "invalid JSON in `{}` at line {line}, column {column} ({problem}): {fix}",
        file.display()
    )]
    InvalidJson {
        /// The file, relative to the tenant's entra folder.
        file: PathBuf,
        /// The 1-based line of the first invalid character.
        line: usize,
        /// The 1-based column of the first invalid character, in bytes.
        column: usize,
        /// What the JSON parser found wrong, in its own words.
        problem: String,
        /// What to change in the file.
        fix: &'static str,
    },
}

impl EntraError {
    /// Builds the error for a JSON syntax error, with a fix suited to the problem.
    pub(crate) fn invalid_json(file: PathBuf, error: &serde_json::Error, utf16: bool) -> Self {
        let full = error.to_string();
        // serde_json appends " at line L column C"; the position is given separately.
        let problem = match full.rsplit_once(" at line ") {
            Some((text, _)) => text.to_owned(),
            None => full,
        };
        let fix = if utf16 {
            "the file looks like UTF-16 without a byte order mark, so save it again as UTF-8"
        } else if problem.contains("trailing comma") {
            "remove the comma before the closing bracket or brace, as Graph itself never sends one"
        } else if error.is_eof() {
            "the file ends early, so save the whole response body again"
        } else if problem.contains("recursion limit") {
            "the JSON nests deeper than 128 levels, so save a response with fewer expanded levels"
        } else {
            "save the raw response body exactly as Graph returned it"
        };
        Self::InvalidJson { file, line: error.line(), column: error.column(), problem, fix }
    }
}

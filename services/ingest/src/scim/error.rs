//! Errors for a SCIM file that cannot be read at all.

use std::path::PathBuf;

/// A SCIM file that yields no snapshot at all.
#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    /// The bytes are not JSON.
    #[error(
        "{}: invalid JSON at line {line}, column {column}: {reason}; save the SCIM response body as it was returned",
        file.display()
    )]
    InvalidJson {
        /// The file.
        file: PathBuf,
        /// The 1-based line of the error.
        line: usize,
        /// The 1-based column of the error.
        column: usize,
        /// The JSON parser's message.
        reason: String,
    },
    /// The top-level value is neither a ListResponse nor a list of them.
    #[error(
        "{}: `$` is a JSON {found}, not a SCIM ListResponse; save the response of `GET /Users` and `GET /Groups`, one ListResponse or a list of pages",
        file.display()
    )]
    NotListResponse {
        /// The file.
        file: PathBuf,
        /// The JSON type found: `object`, `string`, `number`...
        found: &'static str,
    },
    /// The file contains the error response a SCIM server returned instead of results.
    #[error(
        "{}: the file contains a SCIM error response (status `{status}`): `{detail}`; fix the request and export again",
        file.display()
    )]
    ErrorResponse {
        /// The HTTP status the error names.
        status: String,
        /// The server's `detail` text.
        detail: String,
        /// The file.
        file: PathBuf,
    },
}

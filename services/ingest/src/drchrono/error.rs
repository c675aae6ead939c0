//! Errors for a DrChrono dump that cannot be read at all.

use std::path::PathBuf;

/// A DrChrono dump that yields no snapshot at all.
#[derive(Debug, thiserror::Error)]
pub enum DrChronoError {
    /// The bytes are not JSON.
    #[error(
        "{}: invalid JSON at line {line}, column {column}: {reason}; save the dump again as UTF-8 JSON",
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
    /// The top-level value is not an object.
    #[error(
        "{}: `$` is a JSON {found}, not a DrChrono dump; the file must be an object with `responses` mapping each API path to its pages",
        file.display()
    )]
    NotADump {
        /// The file.
        file: PathBuf,
        /// The JSON type found: `array`, `string`...
        found: &'static str,
    },
    /// `source` names another system.
    #[error(
        "{}: `$.source` is `{found}`, not `drchrono`; read this file with the reader for that source",
        file.display()
    )]
    WrongSource {
        /// The file.
        file: PathBuf,
        /// The `source` value.
        found: String,
    },
    /// The `responses` object is missing.
    #[error(
        "{}: `$.responses` is missing or not an object; save the API responses under `responses`, keyed by path such as `/api/users`",
        file.display()
    )]
    MissingResponses {
        /// The file.
        file: PathBuf,
    },
    /// No `/api/users` response, so there are no accounts to read.
    #[error(
        "{}: `$.responses` has no `/api/users` response, so the dump lists no accounts; save every page of `GET /api/users`",
        file.display()
    )]
    MissingUsers {
        /// The file.
        file: PathBuf,
    },
}

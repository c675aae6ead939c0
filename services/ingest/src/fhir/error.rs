//! Errors for a FHIR file that cannot be read at all.

use std::path::PathBuf;

/// A FHIR file that yields no providers at all.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    /// The bytes are not JSON (FHIR XML and NDJSON are not read).
    #[error(
        "{}: invalid JSON at line {line}, column {column}: {reason}; export the resources as a FHIR JSON Bundle",
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
    /// The top-level value is not a FHIR resource or a list of them.
    #[error(
        "{}: `$` is a JSON {found}, not a FHIR resource with `resourceType`; save a Bundle, Practitioner or PractitionerRole",
        file.display()
    )]
    NotFhir {
        /// The file.
        file: PathBuf,
        /// The JSON type found: `object`, `string`, `number`...
        found: &'static str,
    },
    /// The file contains a resource of another type, such as a single Patient.
    #[error(
        "{}: `{at}` is a `{resource_type}` resource; save a Bundle of Practitioner and PractitionerRole resources instead",
        file.display()
    )]
    UnsupportedResource {
        /// The file.
        file: PathBuf,
        /// The JSON path of the resource.
        at: String,
        /// Its `resourceType`.
        resource_type: String,
    },
    /// The file contains the OperationOutcome a server returned instead of results.
    #[error(
        "{}: the file contains a FHIR OperationOutcome instead of results: `{message}`; fix the request and export again",
        file.display()
    )]
    OperationOutcome {
        /// The file.
        file: PathBuf,
        /// The issue diagnostics or details text, joined with `; `.
        message: String,
    },
}

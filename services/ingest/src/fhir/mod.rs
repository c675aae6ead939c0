//! FHIR Practitioner and PractitionerRole resources: a provider directory, used to mark EHR
//! accounts as clinical providers and to fill in their NPI.
//!
//! A FHIR server lists providers, not user accounts. Staff without a provider record never
//! appear, and `Practitioner.active` is optional (US Core does not make it must-support),
//! so an absent flag means unknown. [`read`] turns a file into [`Provider`] records and
//! [`enrich`] joins them to the accounts of an EHR user export.
//!
//! Accepted files: a Bundle of any type (a `searchset` with `_include` entries, a
//! `collection`), a single Practitioner or PractitionerRole, or a JSON array of these (the
//! saved pages of one search). R4 is the target version. DSTU2 shapes are also read: a
//! single `name` object whose `family` is an array, and inline `practitionerRole` elements.

mod bundle;
mod enrich;
mod error;
mod npi;
mod provider;
mod resource;

#[cfg(test)]
mod tests_enrich;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_read;

use std::path::Path;

use crate::json_support::json_reason;

pub use enrich::enrich;
pub use error::FhirError;
pub use npi::is_valid_npi;
pub use provider::{Coding, Provider, ProviderRole, Reference};

use crate::diagnostic::Diagnostic;

/// The NPI identifier system of FHIR R4 (`http://hl7.org/fhir/sid/us-npi`), always
/// recognised.
pub const US_NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";

/// The identifier system under which Epic's public open sandbox (DSTU2) writes NPIs.
///
/// Epic servers write NPIs under an Epic OID rather than [`US_NPI_SYSTEM`]. Other Epic
/// installations may use a different OID, so callers pass the ones their tenant uses as
/// aliases to [`read`].
pub const EPIC_SANDBOX_NPI_SYSTEM: &str = "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.60";

/// Reads the providers in a FHIR JSON file.
///
/// `npi_systems` lists identifier systems that also hold NPIs, besides [`US_NPI_SYSTEM`]
/// (for example [`EPIC_SANDBOX_NPI_SYSTEM`]). The NPI is chosen by system, never by the
/// identifier's position. A value that fails the check digit is kept in the provider's
/// `npi_invalid` attribute with a warning. A record problem becomes a diagnostic and the
/// rest of the file is still read.
///
/// # Errors
///
/// [`FhirError`] when the file is not JSON, is not a FHIR resource, contains a resource of
/// another type, or contains an OperationOutcome instead of results.
pub fn read(
    path: &Path,
    bytes: &[u8],
    npi_systems: &[String],
) -> Result<(Vec<Provider>, Vec<Diagnostic>), FhirError> {
    // Windows tools save JSON with a UTF-8 byte order mark, which the JSON grammar rejects.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| FhirError::InvalidJson {
            file: path.to_owned(),
            line: error.line(),
            column: error.column(),
            reason: json_reason(&error),
        })?;
    bundle::collect(&root, path, npi_systems)
}

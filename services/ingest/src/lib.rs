//! Readers for every input Rollcall takes from files: saved Microsoft Graph responses,
//! LDIF, EHR user exports (CSV, JSON, FHIR, SCIM), the HR roster and `tenant.yaml`.
//!
//! Each reader turns bytes into the source-neutral model of `rollcall-core`. Readers never
//! panic on any input; a bad record becomes a [`Diagnostic`] and the rest of the file is
//! still read, while a file that cannot be read at all returns a typed error.

pub mod delimited;
pub mod diagnostic;
pub mod drchrono;
pub mod ehr;
pub mod entra;
pub mod fhir;
pub mod hr;
mod json_support;
pub mod layout;
pub mod ldap;
pub mod ldif;
pub mod scim;
pub mod tenant_file;
pub mod text;

pub use diagnostic::{Diagnostic, Level, Location};

//! Provider records: what Rollcall keeps of a FHIR Practitioner and its PractitionerRoles.

use std::collections::BTreeMap;

/// A coded value from a FHIR `Coding`, or the `text` of a `CodeableConcept` that has no
/// coding (then only `display` is set).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Coding {
    /// The code system URI, such as `http://nucc.org/provider-taxonomy`.
    pub system: Option<String>,
    /// The code within that system, such as `208D00000X`.
    pub code: Option<String>,
    /// The human-readable text.
    pub display: Option<String>,
}

/// A FHIR `Reference` to another resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// The literal reference (`Organization/acme-lab`, an absolute URL or `urn:uuid:...`).
    pub reference: Option<String>,
    /// The text the server sent alongside it.
    pub display: Option<String>,
}

/// One role of a provider: an R4 PractitionerRole, or an element of the DSTU2
/// `Practitioner.practitionerRole` list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderRole {
    /// The PractitionerRole's logical id; `None` for a DSTU2 inline role.
    pub id: Option<String>,
    /// `PractitionerRole.active`; `None` when absent, which means unknown.
    pub active: Option<bool>,
    /// Every coding of every `code` concept (function such as PCP, NUCC classification).
    pub codes: Vec<Coding>,
    /// Every coding of every `specialty` concept.
    pub specialties: Vec<Coding>,
    /// The organization the role is at.
    pub organization: Option<Reference>,
    /// The locations the role is at.
    pub locations: Vec<Reference>,
}

/// One clinical provider from a FHIR provider directory.
///
/// Only the fields needed to match the provider to an EHR account are kept. Identifiers
/// other than the NPI are dropped on purpose, because servers put social security numbers
/// among them (US Core's PractitionerRole bundle example lists a `us-ssn` identifier first).
/// Birth date, gender, telecom and address are dropped for the same reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provider {
    /// `Practitioner.id`. When a PractitionerRole points at a Practitioner that the file
    /// does not include, the id is taken from the role's `practitioner` reference.
    pub id: String,
    /// Given names in order (first and middle names).
    pub given_names: Vec<String>,
    /// Family name. A DSTU2 `family` array is joined with single spaces.
    pub family_name: Option<String>,
    /// `HumanName.text`, or a reference's `display` when only the role names the person.
    pub name_text: Option<String>,
    /// The NPI: the first value under an NPI identifier system that passes the check digit.
    pub npi: Option<String>,
    /// `Practitioner.active`; `None` when absent, because US Core does not require servers
    /// to send it.
    pub active: Option<bool>,
    /// The provider's roles.
    pub roles: Vec<ProviderRole>,
    /// Evidence kept from the record: `npi_invalid` (values under an NPI system that fail
    /// the check digit) and `npi_other` (further valid NPIs), each joined with `; `.
    pub attributes: BTreeMap<String, String>,
}

impl Provider {
    /// Creates a provider with only its id known.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), ..Self::default() }
    }

    /// Returns the full name used for matching: the given names and the family name, or
    /// the name text when the record has no family name.
    pub fn full_name(&self) -> Option<String> {
        match &self.family_name {
            Some(family) => {
                let mut parts: Vec<&str> = self.given_names.iter().map(String::as_str).collect();
                parts.push(family);
                Some(parts.join(" "))
            }
            None => self.name_text.clone(),
        }
    }
}

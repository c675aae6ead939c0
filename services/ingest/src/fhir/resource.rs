//! Practitioner and PractitionerRole resources in their R4 and DSTU2 shapes.

use std::path::Path;

use serde_json::{Map, Value};

use super::US_NPI_SYSTEM;
use super::npi::is_valid_npi;
use super::provider::{Coding, Provider, ProviderRole, Reference};
use crate::diagnostic::{Diagnostic, Level, Location};

/// Shared state of the resource readers: the file named in diagnostics, the NPI systems,
/// and the diagnostics found so far.
pub(super) struct Context<'a> {
    pub file: &'a Path,
    pub npi_systems: &'a [String],
    pub diagnostics: Vec<Diagnostic>,
}

impl Context<'_> {
    pub fn push(&mut self, level: Level, at: &str, message: String) {
        let location = Location::JsonPath(at.to_owned());
        self.diagnostics.push(Diagnostic::new(level, self.file, location, message));
    }

    fn is_npi_system(&self, system: &str) -> bool {
        system == US_NPI_SYSTEM || self.npi_systems.iter().any(|alias| alias.trim() == system)
    }
}

/// A PractitionerRole and the practitioner it points at.
pub(super) struct RoleRecord {
    pub role: ProviderRole,
    pub practitioner: Option<Reference>,
}

/// Reads a Practitioner. `fallback_id` (the entry's `fullUrl`) names a resource that has
/// no `id`, as in a `collection` Bundle built by a client; without either it is skipped.
pub(super) fn practitioner(
    resource: &Map<String, Value>,
    at: &str,
    fallback_id: Option<&str>,
    context: &mut Context<'_>,
) -> Option<Provider> {
    let Some(id) = text(resource, "id").or(fallback_id) else {
        let message = "skipped a Practitioner without `id` or `fullUrl`, because nothing \
                       identifies it; export it from the server, which assigns ids"
            .to_owned();
        context.push(Level::Warning, at, message);
        return None;
    };

    let mut provider = Provider::new(id);
    read_name(resource.get("name"), &mut provider);
    provider.active = read_active(resource, at, context);
    read_npi(resource.get("identifier"), at, context, &mut provider);

    // DSTU2 carries the roles inside the Practitioner; R4 moved them to PractitionerRole.
    if let Some(Value::Array(roles)) = resource.get("practitionerRole") {
        for role in roles.iter().filter_map(Value::as_object) {
            provider.roles.push(ProviderRole {
                id: None,
                active: None,
                codes: codings(role.get("role")),
                specialties: codings(role.get("specialty")),
                organization: reference(role.get("managingOrganization")),
                locations: references(role.get("location")),
            });
        }
    }
    Some(provider)
}

/// Reads a PractitionerRole.
pub(super) fn practitioner_role(
    resource: &Map<String, Value>,
    at: &str,
    context: &mut Context<'_>,
) -> RoleRecord {
    let role = ProviderRole {
        id: text(resource, "id").map(str::to_owned),
        active: read_active(resource, at, context),
        codes: codings(resource.get("code")),
        specialties: codings(resource.get("specialty")),
        organization: reference(resource.get("organization")),
        locations: references(resource.get("location")),
    };
    RoleRecord { role, practitioner: reference(resource.get("practitioner")) }
}

/// Reads `active`. FHIR JSON writes it as a boolean; anything else is reported and read as
/// absent.
fn read_active(resource: &Map<String, Value>, at: &str, context: &mut Context<'_>) -> Option<bool> {
    match resource.get("active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(active)) => Some(*active),
        Some(other) => {
            let message = format!(
                "`active` is `{other}`, not `true` or `false`; it is read as absent, so the \
                 provider's status is unknown"
            );
            context.push(Level::Warning, &format!("{at}.active"), message);
            None
        }
    }
}

/// Picks one name: `official`, then `usual`, then one without a use, then any other.
fn read_name(names: Option<&Value>, provider: &mut Provider) {
    let name = match names {
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_object)
            .enumerate()
            .min_by_key(|(index, name)| (name_rank(name), *index))
            .map(|(_, name)| name),
        // DSTU2 Practitioner.name is a single HumanName.
        Some(Value::Object(name)) => Some(name),
        _ => None,
    };
    let Some(name) = name else { return };

    provider.given_names = strings(name.get("given"));
    let family = strings(name.get("family"));
    if !family.is_empty() {
        provider.family_name = Some(family.join(" "));
    }
    provider.name_text = text(name, "text").map(str::to_owned);
}

fn name_rank(name: &Map<String, Value>) -> u8 {
    match text(name, "use") {
        Some("official") => 0,
        Some("usual") => 1,
        None => 2,
        Some(_) => 3,
    }
}

/// Selects the NPI by identifier `system`, never by position: US Core's bundle example
/// lists a social security number first.
fn read_npi(
    identifiers: Option<&Value>,
    at: &str,
    context: &mut Context<'_>,
    provider: &mut Provider,
) {
    let Some(Value::Array(identifiers)) = identifiers else { return };
    let mut others: Vec<&str> = Vec::new();
    let mut invalid: Vec<&str> = Vec::new();

    for (index, identifier) in identifiers.iter().enumerate() {
        let Some(identifier) = identifier.as_object() else { continue };
        let Some(system) = text(identifier, "system") else { continue };
        if !context.is_npi_system(system) {
            continue;
        }
        let Some(value) = text(identifier, "value") else { continue };

        if !is_valid_npi(value) {
            let message = format!(
                "`{value}` under NPI system `{system}` is not a valid NPI (ten digits with a \
                 Luhn check digit); it is kept as evidence but not used to match accounts"
            );
            context.push(Level::Warning, &format!("{at}.identifier[{index}]"), message);
            invalid.push(value);
            continue;
        }
        match &provider.npi {
            None => provider.npi = Some(value.to_owned()),
            Some(first) if first == value => {}
            Some(_) => others.push(value),
        }
    }

    if let (Some(first), false) = (&provider.npi, others.is_empty()) {
        let message = format!(
            "Practitioner `{}` has more than one NPI; `{first}` is used and `{}` kept as \
             evidence, so check which one the EHR uses",
            provider.id,
            others.join("`, `"),
        );
        context.push(Level::Warning, at, message);
        provider.attributes.insert("npi_other".into(), others.join("; "));
    }
    if !invalid.is_empty() {
        provider.attributes.insert("npi_invalid".into(), invalid.join("; "));
    }
}

/// Flattens one CodeableConcept or a list of them into codings. A concept with only `text`
/// becomes a coding with only `display`.
fn codings(concepts: Option<&Value>) -> Vec<Coding> {
    let concepts: Vec<&Map<String, Value>> = match concepts {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(concept)) => vec![concept],
        _ => Vec::new(),
    };

    let mut result = Vec::new();
    for concept in concepts {
        let before = result.len();
        if let Some(Value::Array(codings)) = concept.get("coding") {
            for coding in codings.iter().filter_map(Value::as_object) {
                let coding = Coding {
                    system: text(coding, "system").map(str::to_owned),
                    code: text(coding, "code").map(str::to_owned),
                    display: text(coding, "display").map(str::to_owned),
                };
                if coding.code.is_some() || coding.display.is_some() {
                    result.push(coding);
                }
            }
        }
        if result.len() == before
            && let Some(concept_text) = text(concept, "text")
        {
            result.push(Coding { system: None, code: None, display: Some(concept_text.into()) });
        }
    }
    result
}

fn reference(value: Option<&Value>) -> Option<Reference> {
    let object = value?.as_object()?;
    let reference = Reference {
        reference: text(object, "reference").map(str::to_owned),
        display: text(object, "display").map(str::to_owned),
    };
    (reference.reference.is_some() || reference.display.is_some()).then_some(reference)
}

fn references(value: Option<&Value>) -> Vec<Reference> {
    match value {
        Some(Value::Array(items)) => {
            items.iter().filter_map(|item| reference(Some(item))).collect()
        }
        Some(single @ Value::Object(_)) => reference(Some(single)).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Returns the string member `key`, trimmed, or `None` when it is missing, empty or not a
/// string.
pub(super) fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key)?.as_str().map(str::trim).filter(|value| !value.is_empty())
}

/// Reads a string or a list of strings, trimmed, with empty ones dropped.
fn strings(value: Option<&Value>) -> Vec<String> {
    let items: Vec<&Value> = match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::String(_)) => vec![single],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

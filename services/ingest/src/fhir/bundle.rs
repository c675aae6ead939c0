//! Walking a FHIR file: Bundles and their entries, and joining roles to practitioners.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::json_support::type_name;
use serde_json::{Map, Value};

use super::error::FhirError;
use super::provider::Provider;
use super::resource::{self, Context, RoleRecord, text};
use crate::diagnostic::Level;

/// One resource found in the file, with where it is.
struct Found<'a> {
    at: String,
    full_url: Option<&'a str>,
    resource: &'a Map<String, Value>,
}

/// Providers read so far, with the keys a reference can use to find each one.
#[derive(Default)]
struct Directory {
    providers: Vec<Provider>,
    /// `fullUrl` and `Practitioner/{id}` of each provider, to its index.
    keys: HashMap<String, usize>,
}

impl Directory {
    fn insert(&mut self, provider: Provider, full_url: Option<&str>) -> usize {
        let index = self.providers.len();
        if let Some(url) = full_url {
            self.keys.entry(url.to_owned()).or_insert(index);
        }
        self.keys.entry(format!("Practitioner/{}", provider.id)).or_insert(index);
        self.providers.push(provider);
        index
    }

    /// Finds the provider a PractitionerRole's `practitioner.reference` points at: the
    /// exact `fullUrl` of an entry first, then the `Practitioner/{id}` tail of the reference.
    fn find(&self, reference: &str) -> Option<usize> {
        if let Some(index) = self.keys.get(reference) {
            return Some(*index);
        }
        practitioner_id(reference)
            .and_then(|id| self.keys.get(&format!("Practitioner/{id}")))
            .copied()
    }
}

/// Returns the id in a reference of the form
/// `[base/]Practitioner/{id}[/_history/{version}]`.
fn practitioner_id(reference: &str) -> Option<&str> {
    let segments: Vec<&str> = reference.split('/').collect();
    segments
        .windows(2)
        .rev()
        .find(|pair| pair.first() == Some(&"Practitioner"))
        .and_then(|pair| pair.get(1).copied())
        .filter(|id| !id.is_empty())
}

/// Reads every Practitioner and PractitionerRole under `root` into providers.
pub(super) fn collect(
    root: &Value,
    file: &Path,
    npi_systems: &[String],
) -> Result<(Vec<Provider>, Vec<crate::Diagnostic>), FhirError> {
    let mut context = Context { file, npi_systems, diagnostics: Vec::new() };
    let mut found = Vec::new();
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();

    match root {
        Value::Object(resource) => {
            top_level(resource, "$", file, &mut found, &mut ignored, &mut context)?;
        }
        // A list of resources or Bundles, such as the saved pages of one search.
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let at = format!("$[{index}]");
                match item.as_object() {
                    Some(resource) if text(resource, "resourceType").is_some() => {
                        gather(resource, &at, None, &mut found, &mut ignored, &mut context);
                    }
                    _ => {
                        let message = "skipped a list item that is not a FHIR resource \
                                       (no `resourceType`)"
                            .to_owned();
                        context.push(Level::Warning, &at, message);
                    }
                }
            }
        }
        other => return Err(FhirError::NotFhir { file: file.to_owned(), found: type_name(other) }),
    }

    let mut directory = Directory::default();
    let mut duplicates = 0usize;
    for item in
        found.iter().filter(|item| text(item.resource, "resourceType") == Some("Practitioner"))
    {
        let Some(provider) =
            resource::practitioner(item.resource, &item.at, item.full_url, &mut context)
        else {
            continue;
        };
        if directory.keys.contains_key(&format!("Practitioner/{}", provider.id)) {
            // The same Practitioner on two pages, or included by two roles.
            duplicates += 1;
            continue;
        }
        directory.insert(provider, item.full_url);
    }

    for item in
        found.iter().filter(|item| text(item.resource, "resourceType") == Some("PractitionerRole"))
    {
        let record = resource::practitioner_role(item.resource, &item.at, &mut context);
        attach_role(record, &item.at, &mut directory, &mut context);
    }

    if duplicates > 0 {
        let message = format!(
            "Practitioner entries that repeat an earlier id: {duplicates}; the first of each is used"
        );
        context.push(Level::Info, "$", message);
    }
    if !ignored.is_empty() {
        let list: Vec<String> =
            ignored.iter().map(|(kind, count)| format!("{count} {kind}")).collect();
        let message = format!("ignored resources that name no provider: {}", list.join(", "));
        context.push(Level::Info, "$", message);
    }
    if directory.providers.is_empty() {
        let message =
            "the file has no Practitioner or PractitionerRole, so it names no provider".to_owned();
        context.push(Level::Warning, "$", message);
    }
    Ok((directory.providers, context.diagnostics))
}

/// Adds a role to the provider it references, or to a provider made from the reference
/// when the file does not include that Practitioner.
fn attach_role(record: RoleRecord, at: &str, directory: &mut Directory, context: &mut Context<'_>) {
    let RoleRecord { role, practitioner } = record;
    let Some(practitioner) = practitioner else {
        let message = "skipped a PractitionerRole without `practitioner`, because it names \
                       no person"
            .to_owned();
        context.push(Level::Warning, at, message);
        return;
    };

    let index = match practitioner.reference.as_deref().and_then(|r| directory.find(r)) {
        Some(index) => index,
        None => {
            let reference = practitioner.reference.as_deref();
            let id = reference.map(|r| practitioner_id(r).unwrap_or(r));
            let Some(id) = id else {
                let message = format!(
                    "skipped a PractitionerRole whose `practitioner` has only the display \
                     text `{}` and no reference; export it with `_include=PractitionerRole:practitioner`",
                    practitioner.display.as_deref().unwrap_or_default()
                );
                context.push(Level::Warning, at, message);
                return;
            };
            let message = format!(
                "PractitionerRole references `{}`, which the file does not include, so the \
                 provider has no NPI; export with `_include=PractitionerRole:practitioner`",
                reference.unwrap_or_default()
            );
            context.push(Level::Info, at, message);
            let mut provider = Provider::new(id);
            provider.name_text = practitioner.display.clone();
            directory.insert(provider, reference)
        }
    };
    if let Some(provider) = directory.providers.get_mut(index) {
        provider.roles.push(role);
    }
}

/// Handles the top-level object: a Bundle or one provider resource is read, an
/// OperationOutcome or any other resource type fails the file.
fn top_level<'a>(
    resource: &'a Map<String, Value>,
    at: &str,
    file: &Path,
    found: &mut Vec<Found<'a>>,
    ignored: &mut BTreeMap<String, usize>,
    context: &mut Context<'_>,
) -> Result<(), FhirError> {
    match text(resource, "resourceType") {
        None => Err(FhirError::NotFhir { file: file.to_owned(), found: "object" }),
        Some("Bundle" | "Practitioner" | "PractitionerRole") => {
            gather(resource, at, None, found, ignored, context);
            Ok(())
        }
        Some("OperationOutcome") => Err(FhirError::OperationOutcome {
            file: file.to_owned(),
            message: outcome_text(resource),
        }),
        Some(other) => Err(FhirError::UnsupportedResource {
            file: file.to_owned(),
            at: at.to_owned(),
            resource_type: other.to_owned(),
        }),
    }
}

/// Collects provider resources from a resource or a Bundle and counts the others.
fn gather<'a>(
    resource: &'a Map<String, Value>,
    at: &str,
    full_url: Option<&'a str>,
    found: &mut Vec<Found<'a>>,
    ignored: &mut BTreeMap<String, usize>,
    context: &mut Context<'_>,
) {
    match text(resource, "resourceType") {
        Some("Practitioner" | "PractitionerRole") => {
            found.push(Found { at: at.to_owned(), full_url, resource });
        }
        Some("Bundle") => bundle_entries(resource, at, found, ignored, context),
        Some("OperationOutcome") => {
            let message = format!(
                "the server added an OperationOutcome: `{}`; the results may be incomplete",
                outcome_text(resource)
            );
            context.push(Level::Warning, at, message);
        }
        Some(other) => *ignored.entry(other.to_owned()).or_default() += 1,
        None => {
            let message = "skipped an entry resource without `resourceType`".to_owned();
            context.push(Level::Warning, at, message);
        }
    }
}

fn bundle_entries<'a>(
    bundle: &'a Map<String, Value>,
    at: &str,
    found: &mut Vec<Found<'a>>,
    ignored: &mut BTreeMap<String, usize>,
    context: &mut Context<'_>,
) {
    // A searchset with a `next` link was saved without its later pages.
    if let Some(Value::Array(links)) = bundle.get("link") {
        let next = links
            .iter()
            .filter_map(Value::as_object)
            .find(|link| text(link, "relation") == Some("next"))
            .and_then(|link| text(link, "url"));
        if let Some(url) = next {
            let message = format!(
                "the Bundle has a `next` link (`{url}`) but the file ends here; save every \
                 page, or providers on later pages are missing"
            );
            context.push(Level::Warning, &format!("{at}.link"), message);
        }
    }

    let Some(Value::Array(entries)) = bundle.get("entry") else { return };
    for (index, entry) in entries.iter().enumerate() {
        let entry_at = format!("{at}.entry[{index}]");
        let Some(entry) = entry.as_object() else { continue };
        let Some(resource) = entry.get("resource").and_then(Value::as_object) else {
            continue;
        };
        // Nested Bundles are not followed: a Bundle entry of a Bundle is a document or
        // message, not part of a provider search.
        if text(resource, "resourceType") == Some("Bundle") {
            *ignored.entry("Bundle".to_owned()).or_default() += 1;
            continue;
        }
        let full_url = text(entry, "fullUrl");
        gather(resource, &format!("{entry_at}.resource"), full_url, found, ignored, context);
    }
}

/// Joins the `diagnostics` (or `details.text`) of an OperationOutcome's issues.
fn outcome_text(outcome: &Map<String, Value>) -> String {
    let Some(Value::Array(issues)) = outcome.get("issue") else { return String::new() };
    let texts: Vec<&str> = issues
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|issue| {
            text(issue, "diagnostics").or_else(|| {
                issue.get("details").and_then(Value::as_object).and_then(|d| text(d, "text"))
            })
        })
        .collect();
    texts.join("; ")
}

//! Joining FHIR providers to the accounts of an EHR user export.

use std::collections::HashMap;
use std::path::Path;

use rollcall_core::model::{Account, SourceSnapshot};

use super::provider::{Coding, Provider};
use crate::diagnostic::{Diagnostic, Level, Location};

/// Marks the accounts of `snapshot` that belong to a provider in `providers` and fills
/// their NPI. `path` is the FHIR file, named in the diagnostics.
///
/// An account matches a provider by NPI first: every account whose `npi` equals the
/// provider's NPI. A provider that matches no account by NPI falls back to its full name:
/// the given names and family name, lowercased, with every run of characters other than
/// letters and digits read as one space (`O'Neil,  Ann` and `o neil ann` are equal). The
/// name must belong to exactly one account and one provider, and the account must not
/// carry a different NPI. Accents are not folded, so `José` and `Jose` do not match.
///
/// A matched account gets `is_provider = true`, the provider's NPI when it had none, and
/// the attributes `fhir.practitioner_id`, `fhir.match` (`npi` or `name`) and, where the
/// provider has them, `fhir.active`, `fhir.role_codes` and `fhir.specialties`.
///
/// A snapshot without accounts gets one info diagnostic and no change: FHIR lists
/// providers, not user accounts, so it cannot stand in for the EHR's user export.
pub fn enrich(
    snapshot: &mut SourceSnapshot,
    providers: &[Provider],
    path: &Path,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut note = |level, message: String| {
        diagnostics.push(Diagnostic::new(level, path, Location::File, message));
    };

    if snapshot.accounts.is_empty() {
        note(
            Level::Info,
            format!(
                "FHIR lists providers, not user accounts, so the {} providers in this file \
                 were not checked; add the EHR's user export beside it",
                providers.len()
            ),
        );
        return diagnostics;
    }

    let mut accounts_by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, account) in snapshot.accounts.iter().enumerate() {
        if let Some(name) = account_name(account) {
            accounts_by_name.entry(name).or_default().push(index);
        }
    }
    let mut providers_by_name: HashMap<String, usize> = HashMap::new();
    for name in providers.iter().filter_map(|p| p.full_name()).map(|n| normalize_name(&n)) {
        *providers_by_name.entry(name).or_default() += 1;
    }

    let mut unmatched = Vec::new();
    let mut by_npi = 0usize;
    let mut by_name = 0usize;
    for provider in providers {
        let npi_matches: Vec<usize> = match &provider.npi {
            Some(npi) => (0..snapshot.accounts.len())
                .filter(|i| {
                    let account_npi = snapshot.accounts.get(*i).and_then(|a| a.npi.as_deref());
                    account_npi.map(str::trim) == Some(npi.as_str())
                })
                .collect(),
            None => Vec::new(),
        };
        if !npi_matches.is_empty() {
            for index in npi_matches {
                if let Some(account) = snapshot.accounts.get_mut(index) {
                    mark(account, provider, "npi");
                    by_npi += 1;
                }
            }
            continue;
        }

        let name = provider.full_name().map(|n| normalize_name(&n)).filter(|n| !n.is_empty());
        let candidate = name.as_ref().and_then(|name| {
            let accounts = accounts_by_name.get(name)?;
            let unique = accounts.len() == 1 && providers_by_name.get(name) == Some(&1);
            if unique { accounts.first().copied() } else { None }
        });
        let Some(index) = candidate else {
            unmatched.push(provider.id.as_str());
            continue;
        };
        let Some(account) = snapshot.accounts.get_mut(index) else { continue };

        match (&account.npi, &provider.npi) {
            (Some(account_npi), Some(provider_npi)) if account_npi.trim() != provider_npi => {
                note(
                    Level::Warning,
                    format!(
                        "Practitioner `{}` has the same name as account `{}` but NPI \
                         `{provider_npi}` where the account has `{account_npi}`; they were not \
                         joined, so check which NPI is right",
                        provider.id, account.id
                    ),
                );
                unmatched.push(provider.id.as_str());
            }
            _ => {
                mark(account, provider, "name");
                by_name += 1;
            }
        }
    }

    note(
        Level::Info,
        format!("accounts marked as providers: {by_npi} by NPI, {by_name} by unique full name"),
    );
    if !unmatched.is_empty() {
        note(
            Level::Info,
            format!(
                "providers that match no account by NPI or unique full name ({}): `{}`",
                unmatched.len(),
                unmatched.join("`, `")
            ),
        );
    }
    diagnostics
}

fn mark(account: &mut Account, provider: &Provider, matched_by: &str) {
    account.is_provider = true;
    if account.npi.is_none() {
        account.npi = provider.npi.clone();
    }

    let attributes = &mut account.attributes;
    attributes.insert("fhir.practitioner_id".into(), provider.id.clone());
    attributes.insert("fhir.match".into(), matched_by.into());
    if let Some(active) = provider.active {
        attributes.insert("fhir.active".into(), active.to_string());
    }
    let codes: Vec<String> = provider.roles.iter().flat_map(|r| &r.codes).map(describe).collect();
    if !codes.is_empty() {
        attributes.insert("fhir.role_codes".into(), codes.join("; "));
    }
    let specialties: Vec<String> =
        provider.roles.iter().flat_map(|r| &r.specialties).map(describe).collect();
    if !specialties.is_empty() {
        attributes.insert("fhir.specialties".into(), specialties.join("; "));
    }
}

/// `code (display)`, or whichever of the two exists.
fn describe(coding: &Coding) -> String {
    match (&coding.code, &coding.display) {
        (Some(code), Some(display)) => format!("{code} ({display})"),
        (Some(text), None) | (None, Some(text)) => text.clone(),
        (None, None) => String::new(),
    }
}

/// Returns the account's normalised full name for matching: given and family name, else
/// the display name.
fn account_name(account: &Account) -> Option<String> {
    let name = match (&account.given_name, &account.family_name) {
        (Some(given), Some(family)) => format!("{given} {family}"),
        _ => account.display_name.clone()?,
    };
    let name = normalize_name(&name);
    (!name.is_empty()).then_some(name)
}

/// Lowercases and turns every run of non-alphanumeric characters into one space.
pub(super) fn normalize_name(name: &str) -> String {
    let lowered = name.to_lowercase();
    let words: Vec<&str> =
        lowered.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    words.join(" ")
}

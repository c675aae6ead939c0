//! Notes on what a scan could not check, so that zero findings of a kind is never read as
//! "all clear" when the data for the rule was missing, and a policy that names a source
//! the tenant does not have is caught.

use std::path::{Path, PathBuf};

use rollcall_core::TenantData;

use super::TENANT_FILE;
use crate::diagnostic::{Diagnostic, Level, Location};
use crate::tenant_file::TenantConfig;

/// Lists the rules that had no data to run on, and policy source patterns that match none
/// of the tenant's sources.
pub fn notes(config: &TenantConfig, data: &TenantData) -> Vec<Diagnostic> {
    let mut notes = Vec::new();
    if data.hr.is_none() {
        notes.push(Diagnostic::new(
            Level::Info,
            "hr/roster.csv",
            Location::File,
            "no HR roster, so leavers and orphan accounts were not checked; add the roster as \
             hr/roster.csv or name it under `sources.hr`",
        ));
    }
    let has_methods =
        data.sources.iter().flat_map(|s| s.accounts.iter()).any(|a| a.auth_methods.is_some());
    if !has_methods {
        notes.push(Diagnostic::new(
            Level::Info,
            "entra",
            Location::File,
            "no source reports authentication methods, so MFA was not checked; save the Entra \
             registration report or per-user method lists (docs/inputs/entra.md)",
        ));
    }

    let policy_file: PathBuf =
        config.policy_file.clone().unwrap_or_else(|| Path::new(TENANT_FILE).to_path_buf());
    let sources: Vec<String> = data.sources.iter().map(|s| s.source.to_string()).collect();
    let mut reported = Vec::new();
    for (field, pattern) in config.tenant.policy.source_patterns() {
        let unmatched = !data.sources.iter().any(|s| pattern.matches(&s.source));
        if !unmatched || !pattern.is_exact() || reported.contains(&pattern.as_str()) {
            continue;
        }
        reported.push(pattern.as_str());
        // A pattern of a kind the tenant has (`ehr:ecw` beside `ehr:eclinicalworks`) is
        // most likely a misspelling; one of a kind it lacks may come from a policy file
        // shared by practices with other systems.
        let kind = pattern.as_str().split(':').next().unwrap_or_default();
        let same_kind = data.sources.iter().any(|s| s.source.kind().as_str() == kind);
        let level = if same_kind { Level::Warning } else { Level::Info };
        notes.push(Diagnostic::new(
            level,
            &policy_file,
            Location::File,
            format!(
                "`{field}` names the source `{}`, which matches none of this tenant's sources ({}); \
                 check the spelling",
                pattern.as_str(),
                if sources.is_empty() { "none".to_owned() } else { sources.join(", ") }
            ),
        ));
    }
    notes
}

//! Reading each source named in `tenant.yaml`, or found at its conventional place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rollcall_core::TenantData;
use rollcall_core::model::{Availability, SourceId, SourceSnapshot};

use super::TENANT_FILE;
use super::files::{self, has_extension, read, walk};
use crate::diagnostic::{Diagnostic, Level, Location};
use crate::ehr::{EhrOptions, ExportFile, ProfileSpec, read_athenahealth, read_ehr_csv};
use crate::entra::EntraImport;
use crate::hr::{HrOptions, read_hr_roster};
use crate::ldap::LdapImport;
use crate::tenant_file::{EhrFormat, EhrInput, TenantConfig};
use crate::{drchrono, fhir, scim};

/// The place of a source when `tenant.yaml` names none.
const ENTRA_DIR: &str = "entra";
const LDAP_DIR: &str = "ldap";
const HR_FILE: &str = "hr/roster.csv";

fn error(file: &Path, message: String) -> Diagnostic {
    Diagnostic::new(Level::Error, file, Location::File, message)
}

/// Reads every source of the tenant in `dir`.
pub fn read_all(
    dir: &Path,
    config: &TenantConfig,
    as_of: DateTime<Utc>,
    diagnostics: &mut Vec<Diagnostic>,
) -> TenantData {
    let mut claimed: BTreeSet<PathBuf> = BTreeSet::from([PathBuf::from(TENANT_FILE)]);
    let mut data = TenantData::default();

    let plan = &config.sources;
    if let Some(folder) = conventional(dir, &plan.entra, ENTRA_DIR) {
        data.sources.push(read_entra(dir, &folder, &mut claimed, diagnostics));
    }
    if let Some(path) = conventional(dir, &plan.ldap, LDAP_DIR) {
        data.sources.push(read_ldap(dir, &path, &mut claimed, diagnostics));
    }
    let zone = config.tenant.time_zone;
    // FHIR entries only enrich accounts, so they run after every user export, and one that
    // names the same source as an export enriches that export's accounts.
    let (fhir_inputs, exports): (Vec<&EhrInput>, Vec<&EhrInput>) =
        plan.ehr.iter().partition(|input| input.format == EhrFormat::Fhir);
    for input in exports.into_iter().chain(fhir_inputs) {
        if input.format == EhrFormat::Fhir
            && let Some(existing) = data.sources.iter_mut().find(|s| s.source == input.source)
        {
            enrich_from_fhir(dir, input, existing, &mut claimed, diagnostics);
            continue;
        }
        let snapshot = read_ehr(dir, input, as_of, &mut claimed, diagnostics);
        match data.sources.iter_mut().find(|s| s.source == snapshot.source) {
            Some(existing) => merge(existing, snapshot),
            None => data.sources.push(snapshot),
        }
    }
    if let Some(path) = conventional(dir, &plan.hr, HR_FILE) {
        claimed.insert(path.clone());
        if let Some(bytes) = read(dir, &path, diagnostics) {
            match read_hr_roster(&bytes, &path, &HrOptions::new(zone)) {
                Ok(roster) => {
                    diagnostics.extend(roster.diagnostics);
                    data.hr = Some(roster.snapshot);
                }
                Err(e) => diagnostics.push(error(&path, e.to_string())),
            }
        }
    }
    report_unclaimed(dir, &claimed, diagnostics);
    data
}

/// Returns the path `tenant.yaml` gives, or else `default` when it exists in `dir`.
fn conventional(dir: &Path, given: &Option<PathBuf>, default: &str) -> Option<PathBuf> {
    given.clone().or_else(|| dir.join(default).exists().then(|| PathBuf::from(default)))
}

/// One source of a tenant and the paths it is read from, relative to the tenant folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInputs {
    /// The source: `entra`, `ldap`, `ehr:<vendor>` or `hr`.
    pub source: SourceId,
    /// Folders, read with every file under them, and files.
    pub paths: Vec<PathBuf>,
}

impl SourceInputs {
    /// Checks whether `file`, relative to the tenant folder, is one of the paths or lies
    /// under one of them.
    pub fn contains(&self, file: &Path) -> bool {
        self.paths.iter().any(|path| file.starts_with(path))
    }
}

/// Lists the sources that [`super::load_tenant`] reads for `config` and the paths of each,
/// in the order it reads them. Several `sources.ehr` entries of one vendor make one
/// source. A connector uses it to tell which source a diagnostic's file belongs to.
pub fn source_inputs(dir: &Path, config: &TenantConfig) -> Vec<SourceInputs> {
    let plan = &config.sources;
    let mut inputs = Vec::new();
    if let Some(folder) = conventional(dir, &plan.entra, ENTRA_DIR) {
        inputs.push(SourceInputs { source: SourceId::entra(), paths: vec![folder] });
    }
    if let Some(path) = conventional(dir, &plan.ldap, LDAP_DIR) {
        inputs.push(SourceInputs { source: SourceId::ldap(), paths: vec![path] });
    }
    for input in &plan.ehr {
        match inputs.iter_mut().find(|i: &&mut SourceInputs| i.source == input.source) {
            Some(existing) => existing.paths.extend(input.files.iter().cloned()),
            None => inputs
                .push(SourceInputs { source: input.source.clone(), paths: input.files.clone() }),
        }
    }
    if let Some(path) = conventional(dir, &plan.hr, HR_FILE) {
        inputs.push(SourceInputs { source: SourceId::hr(), paths: vec![path] });
    }
    inputs
}

fn read_entra(
    dir: &Path,
    folder: &Path,
    claimed: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) -> SourceSnapshot {
    let mut import = EntraImport::new();
    for file in walk(dir, &dir.join(folder), diagnostics) {
        claimed.insert(file.clone());
        if !has_extension(&file, "json") {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                &file,
                Location::File,
                "not read: the Entra folder holds saved Graph responses, which end in `.json`",
            ));
            continue;
        }
        let Some(bytes) = read(dir, &file, diagnostics) else { continue };
        if let Err(e) = import.add_file(&file, &bytes) {
            diagnostics.push(error(&file, e.to_string()));
        }
    }
    let (snapshot, found) = import.finish();
    diagnostics.extend(found);
    snapshot
}

fn read_ldap(
    dir: &Path,
    path: &Path,
    claimed: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) -> SourceSnapshot {
    let mut import = LdapImport::new();
    let files = if dir.join(path).is_dir() {
        walk(dir, &dir.join(path), diagnostics)
    } else {
        vec![path.to_path_buf()]
    };
    for file in files {
        claimed.insert(file.clone());
        // ldifde names its exports `.ldf`.
        if !has_extension(&file, "ldif") && !has_extension(&file, "ldf") {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                &file,
                Location::File,
                "not read: the LDAP folder holds LDIF exports, which end in `.ldif` or `.ldf`",
            ));
            continue;
        }
        let Some(bytes) = read(dir, &file, diagnostics) else { continue };
        if let Err(e) = import.add_ldif(&file, &bytes) {
            diagnostics.push(error(&file, e.to_string()));
        }
    }
    let (snapshot, found) = import.finish();
    diagnostics.extend(found);
    snapshot
}

fn read_ehr(
    dir: &Path,
    input: &EhrInput,
    as_of: DateTime<Utc>,
    claimed: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) -> SourceSnapshot {
    let mut snapshot = SourceSnapshot::new(input.source.clone());
    let mut providers = Vec::new();
    let mut fhir_files = Vec::new();
    if input.format == EhrFormat::Athenahealth {
        return read_athenahealth_set(dir, input, as_of, claimed, diagnostics);
    }
    for file in &input.files {
        claimed.insert(file.clone());
        let Some(bytes) = read(dir, file, diagnostics) else { continue };
        let read = match input.format {
            EhrFormat::Csv => match &input.profile {
                Some(profile) => {
                    let options = EhrOptions { time_zone: input.time_zone, as_of };
                    read_ehr_csv(&bytes, file, profile, &options)
                        .map(|r| (r.snapshot, r.diagnostics))
                        .map_err(|e| e.to_string())
                }
                None => Err(format!("`{}` needs a profile", input.field)),
            },
            // Read as one set above, because the files only make accounts once joined.
            EhrFormat::Athenahealth => continue,
            EhrFormat::Drchrono => {
                drchrono::read(file, &bytes, input.time_zone).map_err(|e| e.to_string())
            }
            EhrFormat::Scim => {
                scim::read(file, &bytes, input.source.clone()).map_err(|e| e.to_string())
            }
            EhrFormat::Fhir => {
                match fhir::read(file, &bytes, &input.npi_systems) {
                    Ok((found, notes)) => {
                        providers.extend(found);
                        diagnostics.extend(notes);
                        fhir_files.push(file.clone());
                    }
                    Err(e) => diagnostics.push(error(file, e.to_string())),
                }
                continue;
            }
        };
        match read {
            Ok((part, notes)) => {
                diagnostics.extend(notes);
                merge(&mut snapshot, relabel(part, &input.source));
            }
            Err(message) => diagnostics.push(error(file, message)),
        }
    }
    if let Some(file) = fhir_files.first() {
        diagnostics.extend(fhir::enrich(&mut snapshot, &providers, file));
    }
    snapshot
}

/// Adds the providers of a FHIR entry's files to the accounts of `snapshot`, the user
/// export of the same source.
fn enrich_from_fhir(
    dir: &Path,
    input: &EhrInput,
    snapshot: &mut SourceSnapshot,
    claimed: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut providers = Vec::new();
    let mut first = None;
    for file in &input.files {
        claimed.insert(file.clone());
        let Some(bytes) = read(dir, file, diagnostics) else { continue };
        match fhir::read(file, &bytes, &input.npi_systems) {
            Ok((found, notes)) => {
                providers.extend(found);
                diagnostics.extend(notes);
                first.get_or_insert_with(|| file.clone());
            }
            Err(e) => diagnostics.push(error(file, e.to_string())),
        }
    }
    if let Some(file) = first {
        diagnostics.extend(fhir::enrich(snapshot, &providers, &file));
    }
}

/// Reads an athenahealth export set: every file of the entry is joined into one snapshot.
fn read_athenahealth_set(
    dir: &Path,
    input: &EhrInput,
    as_of: DateTime<Utc>,
    claimed: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) -> SourceSnapshot {
    let mut contents = Vec::new();
    for file in &input.files {
        claimed.insert(file.clone());
        if let Some(bytes) = read(dir, file, diagnostics) {
            contents.push((file.clone(), bytes));
        }
    }
    let files: Vec<ExportFile<'_>> =
        contents.iter().map(|(path, bytes)| ExportFile { path, bytes }).collect();
    let profile = input.profile.clone().unwrap_or_else(ProfileSpec::athenahealth);
    let options = EhrOptions { time_zone: input.time_zone, as_of };
    match read_athenahealth(&files, &profile, &options) {
        Ok(read) => {
            diagnostics.extend(read.diagnostics);
            relabel(read.snapshot, &input.source)
        }
        Err(e) => {
            let file = input.files.first().cloned().unwrap_or_default();
            diagnostics.push(error(&file, e.to_string()));
            SourceSnapshot::new(input.source.clone())
        }
    }
}

/// Gives a reader's snapshot the source `tenant.yaml` names: a preset's vendor may differ
/// from the entry's `vendor:`.
fn relabel(mut snapshot: SourceSnapshot, source: &SourceId) -> SourceSnapshot {
    snapshot.source = source.clone();
    snapshot
}

/// Adds `part` to `into`: accounts and entitlements by id (the first file's record wins,
/// a later file adds only what is new), memberships without duplicates. A setting that
/// `into` leaves unknown is taken from `part`.
pub fn merge(into: &mut SourceSnapshot, part: SourceSnapshot) {
    let accounts: BTreeSet<String> = into.accounts.iter().map(|a| a.id.clone()).collect();
    into.accounts.extend(part.accounts.into_iter().filter(|a| !accounts.contains(&a.id)));
    let entitlements: BTreeSet<String> = into.entitlements.iter().map(|e| e.id.clone()).collect();
    into.entitlements
        .extend(part.entitlements.into_iter().filter(|e| !entitlements.contains(&e.id)));
    let memberships: BTreeSet<_> = into.memberships.iter().cloned().collect();
    into.memberships.extend(part.memberships.into_iter().filter(|m| !memberships.contains(m)));
    into.collected_at = into.collected_at.max(part.collected_at);
    if into.settings.weak_methods_enabled.is_none() {
        into.settings.weak_methods_enabled = part.settings.weak_methods_enabled;
    }
    if into.settings.sign_in_activity == Availability::Unknown {
        into.settings.sign_in_activity = part.settings.sign_in_activity;
    }
}

/// Suggests the `tenant.yaml` entry or folder for an unclaimed file, from its place and
/// extension.
fn where_it_belongs(file: &Path) -> String {
    let text = file.display().to_string();
    let top = file.components().next().map(|c| c.as_os_str().to_string_lossy().to_lowercase());
    if has_extension(file, "ldif") || has_extension(file, "ldf") {
        format!("move it into `ldap/`, or set `sources.ldap: \"{text}\"`")
    } else if top.as_deref() == Some("hr") || text.to_lowercase().contains("roster") {
        format!("if it is the HR roster, set `sources.hr: \"{text}\"`")
    } else if top.as_deref() == Some("ehr") || has_extension(file, "csv") {
        format!(
            "if it is an EHR export, add `- files: [\"{text}\"]` with its `profile:` under `sources.ehr`"
        )
    } else if has_extension(file, "json") {
        "if it is a saved Graph response, move it into `entra/`; if it is an EHR export, add it under `sources.ehr` with its `format:`".to_owned()
    } else {
        "name it under `sources:`, or move it out of the tenant folder".to_owned()
    }
}

/// Files no source claimed get a warning, so a dropped export is not silently ignored.
/// Markdown notes and the policy file are expected beside the exports.
fn report_unclaimed(dir: &Path, claimed: &BTreeSet<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    for file in files::walk(dir, dir, diagnostics) {
        let note = has_extension(&file, "md") || has_extension(&file, "txt");
        let yaml = has_extension(&file, "yaml") || has_extension(&file, "yml");
        if claimed.contains(&file) || note || yaml {
            continue;
        }
        diagnostics.push(Diagnostic::new(
            Level::Warning,
            &file,
            Location::File,
            format!(
                "not read: no source in tenant.yaml names this file; {}",
                where_it_belongs(&file)
            ),
        ));
    }
}

//! athenahealth's two user exports joined into one account per user, with the NPI from
//! the providers API.
//!
//! A User Admin takes two exports from Settings > User: the Users page (one row per user:
//! name, position, Other ID, blocked) and User Access by Location (one or more rows per
//! user and practice, with the roles granted there). The providers API
//! (`GET /v1/{practiceid}/providers`) gives each provider's NPI and the athenahealth
//! username it belongs to (`providerusername`). This module joins the three on the username
//! and reads the result with the `athenahealth` profile, whose `fold_rows` turns the rows of
//! one user into one account with practice-scoped roles.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::delimited::{self, ReadOptions, Row, Table};
use crate::diagnostic::{Diagnostic, Level, Location};
use crate::json_support::{json_reason, type_name};

use super::columns::Columns;
use super::error::EhrError;
use super::spec::ProfileSpec;
use super::{EhrOptions, EhrRead, RowSet, quote_list};

/// The column the joined rows get for the provider type from the providers API.
pub const PROVIDER_TYPE_COLUMN: &str = "Provider type";
/// The column the joined rows get for the provider username from the providers API.
pub const PROVIDER_USERNAME_COLUMN: &str = "Provider username";

/// One file of an athenahealth export set.
#[derive(Debug, Clone, Copy)]
pub struct ExportFile<'a> {
    /// The path, for diagnostics and to tell JSON from CSV by its extension.
    pub path: &'a Path,
    /// The file's bytes.
    pub bytes: &'a [u8],
}

/// Reads athenahealth's Users page and User Access by Location exports, and any saved
/// providers API responses, into one snapshot.
///
/// Files ending in `.json` are providers API responses. A CSV file with the profile's role
/// column is a User Access by Location export; any other CSV file is a Users page export.
/// A set with only access exports is read as it is (the combined one-file export has the
/// profile columns and roles together).
///
/// # Errors
///
/// Returns [`EhrError`] when the profile is invalid, when no CSV file is given, when a file
/// cannot be read as a table or as JSON, or when a CSV file lacks the username column.
pub fn read_athenahealth(
    files: &[ExportFile<'_>],
    profile: &ProfileSpec,
    options: &EhrOptions,
) -> Result<EhrRead, EhrError> {
    let source = profile.validate()?;
    let read_options = ReadOptions { encoding: profile.encoding, delimiter: profile.delimiter };
    let roles_column =
        profile.grants.first().map(|grant| grant.column.clone()).ok_or(EhrError::NoRoleColumn)?;

    let mut diagnostics = Vec::new();
    let mut users_pages: Vec<(PathBuf, Table)> = Vec::new();
    let mut access: Vec<(PathBuf, Table)> = Vec::new();
    let mut providers = Providers::default();
    for file in files {
        if file.path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json")) {
            providers.add(file.path, file.bytes, &mut diagnostics)?;
            continue;
        }
        let table = delimited::read_table(file.bytes, file.path, &read_options)
            .map_err(|source| EhrError::File { file: file.path.display().to_string(), source })?;
        table
            .require(&[profile.user_id.as_str()])
            .map_err(|source| EhrError::File { file: file.path.display().to_string(), source })?;
        diagnostics.extend(table.diagnostics.iter().cloned());
        if table.column(&roles_column).is_some() {
            access.push((file.path.to_path_buf(), table));
        } else {
            users_pages.push((file.path.to_path_buf(), table));
        }
    }
    let Some((first_path, first_table)) = access.first().or(users_pages.first()) else {
        return Err(EhrError::NoCsvFile);
    };
    let (first_path, template) = (first_path.clone(), first_table.clone());
    if access.is_empty() {
        diagnostics.push(Diagnostic::new(
            Level::Warning,
            &first_path,
            Location::File,
            format!(
                "no file has the `{roles_column}` column, so no roles were read and every user \
                 looks as if they had none; add the User Access by Location export to `files`"
            ),
        ));
    }

    let users = UsersPage::index(&users_pages, &profile.user_id, &mut diagnostics);
    let header = joined_header(&users_pages, &access, profile);
    let joined = Table { columns: header, rows: Vec::new(), ..template.clone() };
    let columns = Columns::resolve(profile, &joined)
        .map_err(|source| EhrError::File { file: first_path.display().to_string(), source })?;
    if !columns.absent.is_empty() {
        diagnostics.push(Diagnostic::new(
            Level::Info,
            &first_path,
            Location::File,
            format!(
                "the profile maps columns that none of the files has, so those fields are \
                 unknown: {}",
                quote_list(&columns.absent)
            ),
        ));
    }

    let join = Join {
        header: &joined.columns,
        user_id: &profile.user_id,
        provider_id: profile.provider_id.as_deref(),
        npi: profile.npi.as_deref(),
        providers: &providers,
    };
    let mut rows = RowSet::default();
    let mut seen: HashSet<String> = HashSet::new();
    for (path, table) in &access {
        let mut part = Table { rows: Vec::new(), ..joined.clone() };
        for row in &table.rows {
            let username = cell(table, row, &profile.user_id).to_lowercase();
            let user_row = users.get(&username);
            if user_row.is_none() && !users_pages.is_empty() && !username.is_empty() {
                diagnostics.push(Diagnostic::new(
                    Level::Warning,
                    path,
                    row.location(),
                    format!(
                        "username `{}` has roles but is not on the Users page export, so only \
                         the access row is read; export the Users page again with every user",
                        cell(table, row, &profile.user_id)
                    ),
                ));
            }
            seen.insert(username);
            part.rows.push(join.row(Some((table, row)), user_row, path, &mut diagnostics));
        }
        rows.read(&part, &columns, profile, options, path, &mut diagnostics);
    }
    // Users without any access row still have an account: athenahealth's advice for a
    // leaver is to remove every role and block the user, which leaves exactly this.
    for (path, table) in &users_pages {
        let mut part = Table { rows: Vec::new(), ..joined.clone() };
        for row in &table.rows {
            let username = cell(table, row, &profile.user_id).to_lowercase();
            // Rows without a username are passed on, so each gets its own warning.
            if !username.is_empty() && seen.contains(&username) {
                continue;
            }
            seen.insert(username);
            part.rows.push(join.row(None, Some((table, row)), path, &mut diagnostics));
        }
        rows.read(&part, &columns, profile, options, path, &mut diagnostics);
    }
    providers.report_unmatched(&seen, &mut diagnostics);

    let snapshot = rows.finish(source, &columns, profile, &first_path, &mut diagnostics);
    Ok(EhrRead {
        snapshot,
        diagnostics,
        decoding: template.decoding,
        delimiter: template.delimiter,
        line_ending: template.line_ending,
    })
}

/// The Users page rows by lowercased username; the first row of a repeated username wins.
struct UsersPage<'t> {
    rows: HashMap<String, (&'t Table, &'t Row)>,
}

impl<'t> UsersPage<'t> {
    fn index(
        pages: &'t [(PathBuf, Table)],
        user_id: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut rows = HashMap::new();
        for (path, table) in pages {
            for row in &table.rows {
                let username = cell(table, row, user_id).to_lowercase();
                if username.is_empty() {
                    continue;
                }
                if rows.contains_key(&username) {
                    diagnostics.push(Diagnostic::new(
                        Level::Warning,
                        path,
                        row.location(),
                        format!(
                            "username `{}` is on the Users page twice, so this row was skipped",
                            cell(table, row, user_id)
                        ),
                    ));
                    continue;
                }
                rows.insert(username, (table, row));
            }
        }
        Self { rows }
    }

    fn get(&self, username: &str) -> Option<(&'t Table, &'t Row)> {
        self.rows.get(username).copied()
    }
}

/// Lists the columns of the joined rows: every Users page column, then every access column not
/// already listed, then the provider columns the profile reads.
fn joined_header(
    users: &[(PathBuf, Table)],
    access: &[(PathBuf, Table)],
    profile: &ProfileSpec,
) -> Vec<String> {
    let mut header: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !header.iter().any(|existing| existing.eq_ignore_ascii_case(name.trim())) {
            header.push(name.trim().to_owned());
        }
    };
    for (_, table) in users.iter().chain(access) {
        table.columns.iter().for_each(|name| add(name));
    }
    let provider_columns = [
        profile.provider_id.as_deref(),
        profile.npi.as_deref(),
        Some(PROVIDER_USERNAME_COLUMN),
        Some(PROVIDER_TYPE_COLUMN),
    ];
    provider_columns.into_iter().flatten().for_each(add);
    header
}

/// Builds joined rows.
struct Join<'a> {
    header: &'a [String],
    user_id: &'a str,
    /// The profile's provider id and NPI columns, which the providers API fills.
    provider_id: Option<&'a str>,
    npi: Option<&'a str>,
    providers: &'a Providers,
}

impl Join<'_> {
    /// Joins an access row and a Users page row (either may be absent) with the provider
    /// whose `providerusername` is the row's username. A cell of the access row wins over
    /// the Users page, because department and position can differ per practice.
    fn row(
        &self,
        access: Option<(&Table, &Row)>,
        user: Option<(&Table, &Row)>,
        path: &Path,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Row {
        let (record, line) = access.or(user).map_or((0, 0), |(_, row)| (row.record, row.line));
        let value = |name: &str| -> String {
            [access, user]
                .into_iter()
                .flatten()
                .map(|(table, row)| cell(table, row, name))
                .find(|value| !value.is_empty())
                .unwrap_or_default()
                .to_owned()
        };
        let mut fields: Vec<String> = self.header.iter().map(|name| value(name)).collect();
        let username = value(self.user_id);
        if let Some(provider) = self.providers.get(&username.to_lowercase()) {
            let location = Location::Record { record, line };
            for (column, api_value) in provider.columns(self.provider_id, self.npi) {
                let Some(index) =
                    self.header.iter().position(|name| name.eq_ignore_ascii_case(column))
                else {
                    continue;
                };
                let Some(field) = fields.get_mut(index) else { continue };
                if !field.is_empty() && field.trim() != api_value {
                    diagnostics.push(Diagnostic::new(
                        Level::Warning,
                        path,
                        location.clone(),
                        format!(
                            "user `{username}` has `{column}` `{}` in the export but `{api_value}` \
                             in the providers API, so the API's value is used; correct the \
                             provider profile",
                            field.trim()
                        ),
                    ));
                }
                *field = api_value.to_owned();
            }
        }
        Row { record, line, fields }
    }
}

/// Returns the trimmed cell of `row` in the column called `name`, or `""`.
fn cell<'r>(table: &Table, row: &'r Row, name: &str) -> &'r str {
    table.column(name).and_then(|index| row.get(index)).unwrap_or_default().trim()
}

/// One provider from the providers API.
#[derive(Debug, Clone, Default)]
struct Provider {
    id: String,
    npi: String,
    username: String,
    provider_type: String,
}

impl Provider {
    /// Lists the joined columns this provider fills, with the API's values. Empty values are
    /// left out, so the export's own value stays.
    fn columns<'s>(
        &'s self,
        provider_id: Option<&'s str>,
        npi: Option<&'s str>,
    ) -> Vec<(&'s str, &'s str)> {
        [
            (provider_id, self.id.as_str()),
            (npi, self.npi.as_str()),
            (Some(PROVIDER_USERNAME_COLUMN), self.username.as_str()),
            (Some(PROVIDER_TYPE_COLUMN), self.provider_type.as_str()),
        ]
        .into_iter()
        .filter_map(|(column, value)| Some((column?, value)))
        .filter(|(_, value)| !value.is_empty())
        .collect()
    }
}

/// Providers by lowercased `providerusername`, from every providers file.
#[derive(Debug, Default)]
struct Providers {
    by_username: HashMap<String, Provider>,
    /// The file and JSON path each provider came from, for diagnostics.
    origin: HashMap<String, (PathBuf, String)>,
}

impl Providers {
    fn get(&self, username: &str) -> Option<&Provider> {
        if username.is_empty() {
            return None;
        }
        self.by_username.get(username)
    }

    /// Reads one saved `GET /v1/{practiceid}/providers` response: an object with a
    /// `providers` array, or the array alone.
    fn add(
        &mut self,
        path: &Path,
        bytes: &[u8],
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<(), EhrError> {
        let root: Value = serde_json::from_slice(bytes).map_err(|error| EhrError::Providers {
            file: path.display().to_string(),
            reason: format!(
                "invalid JSON at line {}, column {}: {}",
                error.line(),
                error.column(),
                json_reason(&error)
            ),
        })?;
        let (list, at) = match &root {
            Value::Array(list) => (list, "$"),
            Value::Object(object) => match object.get("providers") {
                Some(Value::Array(list)) => (list, "$.providers"),
                other => {
                    return Err(EhrError::Providers {
                        file: path.display().to_string(),
                        reason: format!(
                            "`providers` is {}, not an array; save the response of \
                             `GET /v1/{{practiceid}}/providers` as it is",
                            other.map_or("missing", type_name)
                        ),
                    });
                }
            },
            other => {
                return Err(EhrError::Providers {
                    file: path.display().to_string(),
                    reason: format!(
                        "the document is {}, not an object with `providers`",
                        type_name(other)
                    ),
                });
            }
        };
        for (index, item) in list.iter().enumerate() {
            let at = format!("{at}[{index}]");
            let Value::Object(object) = item else {
                diagnostics.push(Diagnostic::new(
                    Level::Warning,
                    path,
                    Location::JsonPath(at),
                    format!("provider is {}, not an object, so it was skipped", type_name(item)),
                ));
                continue;
            };
            let text = |key: &str| match object.get(key) {
                Some(Value::String(value)) => value.trim().to_owned(),
                Some(Value::Number(value)) => value.to_string(),
                _ => String::new(),
            };
            let provider = Provider {
                id: text("providerid"),
                npi: text("npi"),
                username: text("providerusername"),
                provider_type: text("providertype"),
            };
            // Providers without a username (referring or billing-only entries) have no
            // login to join, so they are left out.
            if provider.username.is_empty() {
                continue;
            }
            let key = provider.username.to_lowercase();
            if let Some((first_file, first_at)) = self.origin.get(&key) {
                let same =
                    self.by_username.get(&key).is_some_and(|first| first.npi == provider.npi);
                if !same {
                    diagnostics.push(Diagnostic::new(
                        Level::Warning,
                        path,
                        Location::JsonPath(at),
                        format!(
                            "provider username `{}` is also at {first_at} of `{}` with another \
                             NPI, so the first is kept; correct the provider profiles",
                            provider.username,
                            first_file.display()
                        ),
                    ));
                }
                continue;
            }
            self.origin.insert(key.clone(), (path.to_path_buf(), at));
            self.by_username.insert(key, provider);
        }
        Ok(())
    }

    /// Notes providers whose username no export row has: a provider profile without a
    /// login is not an account, but may be a username typed differently.
    fn report_unmatched(&self, seen: &HashSet<String>, diagnostics: &mut Vec<Diagnostic>) {
        let mut unmatched: Vec<&String> =
            self.by_username.keys().filter(|key| !seen.contains(*key)).collect();
        unmatched.sort();
        for key in unmatched {
            let Some((file, at)) = self.origin.get(key) else { continue };
            let username =
                self.by_username.get(key).map(|p| p.username.as_str()).unwrap_or_default();
            diagnostics.push(Diagnostic::new(
                Level::Info,
                file,
                Location::JsonPath(at.clone()),
                format!(
                    "provider username `{username}` matches no user in the exports, so its NPI \
                     was not used"
                ),
            ));
        }
    }
}

//! A profile resolved against one file's header: column indices instead of names.

use std::collections::HashMap;

use rollcall_core::model::EntitlementKind;

use crate::delimited::{DelimitedError, Table};

use super::spec::{ManagerRefersTo, ProfileSpec, ValueMap};

/// A value-map column found in the file, with its keys lowercased for lookup.
#[derive(Debug, Clone)]
pub(crate) struct MappedColumn<T> {
    pub index: usize,
    pub name: String,
    values: HashMap<String, T>,
    other: Option<T>,
}

/// The meaning of one cell of a value-map column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mapped<T> {
    /// The cell is empty.
    Empty,
    /// The cell's value, or `other`, gives this meaning.
    Known(T),
    /// The value is not in the map and the map has no `other`.
    Unlisted,
}

impl<T: Copy> MappedColumn<T> {
    pub(crate) fn lookup(&self, cell: &str) -> Mapped<T> {
        let cell = cell.trim();
        if cell.is_empty() {
            return Mapped::Empty;
        }
        match self.values.get(&cell.to_lowercase()).copied().or(self.other) {
            Some(value) => Mapped::Known(value),
            None => Mapped::Unlisted,
        }
    }
}

/// A grant column found in the file.
#[derive(Debug, Clone)]
pub(crate) struct GrantColumn {
    pub index: usize,
    pub name: String,
    pub kind: EntitlementKind,
    pub separator: Option<String>,
    pub pairs: bool,
    pub name_index: Option<usize>,
    pub scope_index: Option<usize>,
    pub scope: Option<String>,
    pub ordered: bool,
}

/// The profile's columns that the file has.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    pub user_id: usize,
    pub login: usize,
    pub display_name: Option<usize>,
    pub family_name: Option<usize>,
    pub given_name: Option<usize>,
    pub record_type: Option<MappedColumn<super::spec::RecordType>>,
    pub status: Vec<MappedColumn<super::spec::StatusWord>>,
    pub status_since: Option<usize>,
    pub valid_from: Option<usize>,
    pub valid_to: Option<usize>,
    pub last_login: Option<(usize, bool)>,
    pub grants: Vec<GrantColumn>,
    pub departments: Vec<usize>,
    pub job_title: Option<usize>,
    pub provider_id: Option<usize>,
    pub npi: Option<usize>,
    pub epcs: Option<MappedColumn<super::spec::EpcsWord>>,
    pub manager: Option<(usize, ManagerRefersTo)>,
    pub email: Option<usize>,
    pub employee_id: Option<usize>,
    pub sid: Option<usize>,
    /// Columns the profile maps that the file lacks, in profile order.
    pub absent: Vec<String>,
}

/// Looks up optional columns and remembers the ones the file lacks.
struct Resolver<'a> {
    table: &'a Table,
    absent: Vec<String>,
}

impl Resolver<'_> {
    fn optional(&mut self, name: Option<&String>) -> Option<usize> {
        let name = name?;
        let index = self.table.column(name);
        if index.is_none() && !self.absent.contains(name) {
            self.absent.push(name.clone());
        }
        index
    }

    fn mapped<T: Copy>(&mut self, map: Option<&ValueMap<T>>) -> Option<MappedColumn<T>> {
        let map = map?;
        let index = self.optional(Some(&map.column))?;
        Some(MappedColumn {
            index,
            name: map.column.clone(),
            values: map
                .values
                .iter()
                .map(|(key, value)| (key.trim().to_lowercase(), *value))
                .collect(),
            other: map.other,
        })
    }
}

impl Columns {
    /// Resolves `profile` against the header of `table`.
    ///
    /// # Errors
    ///
    /// Returns [`DelimitedError::MissingColumns`] when the user id or login column is absent.
    pub(crate) fn resolve(profile: &ProfileSpec, table: &Table) -> Result<Self, DelimitedError> {
        let mut required = vec![profile.user_id.as_str()];
        if profile.login.trim().to_lowercase() != profile.user_id.trim().to_lowercase() {
            required.push(profile.login.as_str());
        }
        let indices = table.require(&required)?;
        let user_id = indices.first().copied().unwrap_or_default();
        let login = indices.get(1).copied().unwrap_or(user_id);

        let mut resolver = Resolver { table, absent: Vec::new() };
        let record_type = resolver.mapped(profile.record_type.as_ref());
        let status = profile.status.iter().filter_map(|map| resolver.mapped(Some(map))).collect();
        let last_login = profile.last_login.as_ref().and_then(|spec| {
            resolver.optional(Some(&spec.column)).map(|index| (index, spec.reliable))
        });
        let mut grants = Vec::new();
        for spec in &profile.grants {
            let Some(index) = resolver.optional(Some(&spec.column)) else { continue };
            grants.push(GrantColumn {
                index,
                name: spec.column.clone(),
                kind: spec.kind,
                separator: spec.separator.clone(),
                pairs: spec.pairs,
                name_index: resolver.optional(spec.name_column.as_ref()),
                scope_index: resolver.optional(spec.scope_column.as_ref()),
                scope: spec.scope.as_ref().map(|scope| scope.trim().to_owned()),
                ordered: spec.ordered,
            });
        }
        let departments =
            profile.departments.iter().filter_map(|name| resolver.optional(Some(name))).collect();
        let manager = profile.manager.as_ref().and_then(|spec| {
            resolver.optional(Some(&spec.column)).map(|index| (index, spec.refers_to))
        });

        Ok(Columns {
            user_id,
            login,
            display_name: resolver.optional(profile.display_name.as_ref()),
            family_name: resolver.optional(profile.family_name.as_ref()),
            given_name: resolver.optional(profile.given_name.as_ref()),
            record_type,
            status,
            status_since: resolver.optional(profile.status_since.as_ref()),
            valid_from: resolver.optional(profile.valid_from.as_ref()),
            valid_to: resolver.optional(profile.valid_to.as_ref()),
            last_login,
            grants,
            departments,
            job_title: resolver.optional(profile.job_title.as_ref()),
            provider_id: resolver.optional(profile.provider_id.as_ref()),
            npi: resolver.optional(profile.npi.as_ref()),
            epcs: resolver.mapped(profile.epcs.as_ref()),
            manager,
            email: resolver.optional(profile.email.as_ref()),
            employee_id: resolver.optional(profile.employee_id.as_ref()),
            sid: resolver.optional(profile.sid.as_ref()),
            absent: resolver.absent,
        })
    }
}

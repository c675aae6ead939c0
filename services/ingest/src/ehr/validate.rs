//! Checks a profile before it is applied to a file.

use std::collections::BTreeSet;

use rollcall_core::model::SourceId;

use super::error::ProfileError;
use super::spec::{ProfileSpec, ValueMap};

impl ProfileSpec {
    /// Checks the profile and returns the source id it reads into.
    ///
    /// # Errors
    ///
    /// Returns [`ProfileError`] for an invalid vendor name, an empty column name or
    /// separator, or a value listed twice in one value map.
    pub fn validate(&self) -> Result<SourceId, ProfileError> {
        let source = SourceId::ehr(&self.vendor)
            .map_err(|_| ProfileError::InvalidVendor(self.vendor.clone()))?;

        let mut named: Vec<(&'static str, &str)> =
            vec![("user_id", &self.user_id), ("login", &self.login)];
        let optional = [
            ("display_name", &self.display_name),
            ("family_name", &self.family_name),
            ("given_name", &self.given_name),
            ("status_since", &self.status_since),
            ("valid_from", &self.valid_from),
            ("valid_to", &self.valid_to),
            ("job_title", &self.job_title),
            ("provider_id", &self.provider_id),
            ("npi", &self.npi),
            ("email", &self.email),
            ("employee_id", &self.employee_id),
            ("sid", &self.sid),
        ];
        for (field, column) in optional {
            if let Some(column) = column {
                named.push((field, column));
            }
        }
        named.extend(self.departments.iter().map(|column| ("departments", column.as_str())));
        if let Some(last_login) = &self.last_login {
            named.push(("last_login", &last_login.column));
        }
        if let Some(manager) = &self.manager {
            named.push(("manager", &manager.column));
        }
        for grant in &self.grants {
            named.push(("grants", &grant.column));
            if let Some(column) = &grant.name_column {
                named.push(("grants", column));
            }
            if let Some(column) = &grant.scope_column {
                named.push(("grants", column));
            }
            if grant.scope.as_deref().is_some_and(|scope| scope.trim().is_empty()) {
                return Err(ProfileError::EmptyScope(grant.column.clone()));
            }
            if grant.separator.as_deref() == Some("") {
                return Err(ProfileError::EmptySeparator(grant.column.clone()));
            }
        }
        if let Some(field) = named.iter().find(|(_, column)| column.trim().is_empty()) {
            return Err(ProfileError::EmptyColumn(field.0));
        }

        if let Some(map) = &self.record_type {
            check_value_map("record_type", map)?;
        }
        for map in &self.status {
            check_value_map("status", map)?;
        }
        if let Some(map) = &self.epcs {
            check_value_map("epcs", map)?;
        }
        if self.epcs_roles.iter().any(|role| role.trim().is_empty()) {
            return Err(ProfileError::EmptyEpcsRole);
        }
        Ok(source)
    }
}

fn check_value_map<T>(field: &'static str, map: &ValueMap<T>) -> Result<(), ProfileError> {
    if map.column.trim().is_empty() {
        return Err(ProfileError::EmptyColumn(field));
    }
    let mut seen = BTreeSet::new();
    for value in map.values.keys() {
        if !seen.insert(value.trim().to_lowercase()) {
            return Err(ProfileError::DuplicateValue {
                column: map.column.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(())
}

//! Column renames applied to a profile, so a preset reads an export whose headers differ
//! from the preset's (an eClinicalWorks report whose layout each practice receives
//! differently).

use std::collections::BTreeMap;

use super::error::ProfileError;
use super::spec::ProfileSpec;

impl ProfileSpec {
    /// Returns a copy with every column named by a key of `renames` renamed to its value.
    /// Keys and column names are compared trimmed and without regard to case.
    ///
    /// # Errors
    ///
    /// Returns [`ProfileError::UnknownRename`] for a key that names no column of the
    /// profile, and [`ProfileError::EmptyColumn`] for an empty new name.
    pub fn with_renamed_columns(
        &self,
        renames: &BTreeMap<String, String>,
    ) -> Result<ProfileSpec, ProfileError> {
        let mut profile = self.clone();
        let known: Vec<String> = profile.column_names_mut().map(|name| name.clone()).collect();
        for (from, to) in renames {
            let key = from.trim().to_lowercase();
            if !known.iter().any(|name| name.trim().to_lowercase() == key) {
                return Err(ProfileError::UnknownRename {
                    column: from.clone(),
                    known: known.join("`, `"),
                });
            }
            if to.trim().is_empty() {
                return Err(ProfileError::EmptyColumn("columns"));
            }
        }
        for name in profile.column_names_mut() {
            let current = name.trim().to_lowercase();
            if let Some((_, to)) =
                renames.iter().find(|(from, _)| from.trim().to_lowercase() == current)
            {
                *name = to.trim().to_owned();
            }
        }
        Ok(profile)
    }

    /// Iterates over every column name the profile uses, in profile order.
    pub(super) fn column_names_mut(&mut self) -> impl Iterator<Item = &mut String> {
        let single = [
            &mut self.display_name,
            &mut self.family_name,
            &mut self.given_name,
            &mut self.status_since,
            &mut self.valid_from,
            &mut self.valid_to,
            &mut self.job_title,
            &mut self.provider_id,
            &mut self.npi,
            &mut self.email,
            &mut self.employee_id,
            &mut self.sid,
        ];
        let mut names: Vec<&mut String> = vec![&mut self.user_id, &mut self.login];
        names.extend(single.into_iter().filter_map(Option::as_mut));
        if let Some(map) = &mut self.record_type {
            names.push(&mut map.column);
        }
        names.extend(self.status.iter_mut().map(|map| &mut map.column));
        if let Some(spec) = &mut self.last_login {
            names.push(&mut spec.column);
        }
        for grant in &mut self.grants {
            names.push(&mut grant.column);
            names.extend(grant.name_column.as_mut());
            names.extend(grant.scope_column.as_mut());
        }
        names.extend(self.departments.iter_mut());
        if let Some(map) = &mut self.epcs {
            names.push(&mut map.column);
        }
        if let Some(spec) = &mut self.manager {
            names.push(&mut spec.column);
        }
        names.into_iter()
    }
}

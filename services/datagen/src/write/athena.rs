//! The athenahealth user export: the Users page and User Access by Location joined, one
//! row per user and practice.

use std::path::Path;

use anyhow::Result;
use chrono::TimeDelta;

use super::file;
use crate::spec::{SignIn, TenantSpec};

const HEADER: &str = "\"Username\",\"Last name\",\"First name\",\"Practice ID\",\"Department name\",\"Position\",\"Other ID\",\"Email\",\"Blocked\",\"Roles\",\"Provider ID\",\"Provider username\",\"Provider type\",\"NPI\",\"EPCS status\",\"Last login\"";

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// Writes `ehr/athena-users.csv` of `spec`. Last login is local practice time
/// (America/Chicago, six hours behind UTC in December), without an offset, as athenahealth
/// exports it.
pub fn write(spec: &TenantSpec, dir: &Path) -> Result<()> {
    let mut out = String::from(HEADER);
    out.push_str("\r\n");
    let mut provider_number = 30;
    for person in &spec.people {
        let Some(user) = &person.athena else { continue };
        let last_login = match user.last_login {
            Some(SignIn::DaysAgo(days)) => {
                (spec.reference - TimeDelta::days(days) - TimeDelta::hours(6))
                    .format("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            }
            Some(SignIn::Never) | None => String::new(),
        };
        let (provider_id, provider_user, provider_type, npi, epcs) = match &user.provider {
            Some((npi, epcs)) => {
                provider_number += 1;
                (
                    provider_number.to_string(),
                    user.username.clone(),
                    "MD".to_owned(),
                    npi.clone(),
                    epcs.clone(),
                )
            }
            None => Default::default(),
        };
        for (practice, roles) in &user.roles {
            let department = spec
                .practices
                .iter()
                .find(|(id, _)| id == practice)
                .map_or("", |(_, name)| name.as_str());
            let other_id = if user.with_employee_id {
                person.employee_id.clone().unwrap_or_default()
            } else {
                String::new()
            };
            let email = if user.with_email {
                format!("{}@{}", person.handle(), spec.domain)
            } else {
                String::new()
            };
            let row = [
                user.username.as_str(),
                person.family.as_str(),
                person.given.as_str(),
                practice.as_str(),
                department,
                user.position.as_str(),
                other_id.as_str(),
                email.as_str(),
                if user.blocked { "Y" } else { "N" },
                &roles.join("; "),
                provider_id.as_str(),
                provider_user.as_str(),
                provider_type.as_str(),
                npi.as_str(),
                epcs.as_str(),
                last_login.as_str(),
            ];
            out.push_str(&row.iter().map(|v| quote(v)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
    }
    file(dir, "ehr/athena-users.csv", out.as_bytes())
}

//! The HR roster CSV.

use std::path::Path;

use anyhow::Result;
use chrono::TimeDelta;

use super::file;
use crate::spec::{Employment, TenantSpec};

/// Writes `hr/roster.csv` of `spec`. Termination instants carry their UTC offset (the
/// practice's zone, six hours behind UTC in December); hire dates are dates.
pub fn write(spec: &TenantSpec, dir: &Path) -> Result<()> {
    let mut out = String::from(
        "Employee ID,First Name,Last Name,Work Email,Status,Hire Date,Termination Date,Manager Employee ID,Job Title,Department,Location\n",
    );
    for person in &spec.people {
        let Some(id) = &person.employee_id else { continue };
        let hired = (spec.reference - TimeDelta::days(person.hired_days_ago))
            .format("%Y-%m-%d")
            .to_string();
        let (status, terminated) = match person.employment {
            Employment::Active => ("Active", String::new()),
            Employment::Leave => ("On Leave", String::new()),
            Employment::TerminatedHoursAgo(hours) => (
                "Terminated",
                (spec.reference - TimeDelta::hours(hours) - TimeDelta::hours(6))
                    .format("%Y-%m-%dT%H:%M:%S-06:00")
                    .to_string(),
            ),
        };
        let row = [
            id.as_str(),
            person.given.as_str(),
            person.family.as_str(),
            &format!("{}@{}", person.handle(), spec.domain),
            status,
            &hired,
            &terminated,
            person.manager.as_deref().unwrap_or(""),
            person.title.as_str(),
            person.department.as_str(),
            person.location.as_str(),
        ];
        let cells: Vec<String> = row
            .iter()
            .map(|v| {
                if v.contains([',', '"', '\n']) {
                    format!("\"{}\"", v.replace('"', "\"\""))
                } else {
                    (*v).to_owned()
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    file(dir, "hr/roster.csv", out.as_bytes())
}

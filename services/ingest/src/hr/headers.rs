//! The roster's columns, found by any of their common header spellings.

use crate::delimited::Table;

/// A roster field and the header spellings that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterField {
    /// The HR employee id. Required.
    EmployeeId,
    /// The full name.
    Name,
    /// The given name, joined with the family name when there is no full name.
    FirstName,
    /// The family name.
    LastName,
    /// The work e-mail address.
    Email,
    /// The employment status. Required.
    Status,
    /// The hire (or rehire) date.
    Hired,
    /// The termination date or last day worked.
    Terminated,
    /// The manager's employee id.
    ManagerId,
    /// The job title.
    JobTitle,
    /// The department.
    Department,
    /// The work location.
    Location,
}

impl RosterField {
    /// Every field, in the order the docs list them.
    pub const ALL: [RosterField; 12] = [
        RosterField::EmployeeId,
        RosterField::Name,
        RosterField::FirstName,
        RosterField::LastName,
        RosterField::Email,
        RosterField::Status,
        RosterField::Hired,
        RosterField::Terminated,
        RosterField::ManagerId,
        RosterField::JobTitle,
        RosterField::Department,
        RosterField::Location,
    ];

    /// Returns the field's name as messages write it.
    pub fn label(self) -> &'static str {
        match self {
            RosterField::EmployeeId => "employee id",
            RosterField::Name => "name",
            RosterField::FirstName => "first name",
            RosterField::LastName => "last name",
            RosterField::Email => "work e-mail",
            RosterField::Status => "status",
            RosterField::Hired => "hire date",
            RosterField::Terminated => "termination date",
            RosterField::ManagerId => "manager's employee id",
            RosterField::JobTitle => "job title",
            RosterField::Department => "department",
            RosterField::Location => "location",
        }
    }

    /// Returns the accepted header spellings, preferred first.
    ///
    /// Headers are compared after [`normalize_header`], so `Employee ID`, `employee_id`,
    /// `EmployeeID` and `EMPLOYEE-ID` all match `Employee ID`.
    pub fn spellings(self) -> &'static [&'static str] {
        match self {
            RosterField::EmployeeId => &[
                "Employee ID",
                "Employee Number",
                "Employee No",
                "Emp ID",
                "Emp No",
                "Worker ID",
                "Associate ID",
                "Person Number",
            ],
            RosterField::Name => {
                &["Name", "Full Name", "Employee Name", "Worker Name", "Display Name", "Legal Name"]
            }
            RosterField::FirstName => {
                &["First Name", "Given Name", "Legal First Name", "First", "FName"]
            }
            RosterField::LastName => {
                &["Last Name", "Family Name", "Surname", "Legal Last Name", "Last", "LName"]
            }
            RosterField::Email => {
                &["Work Email", "Work Email Address", "Business Email", "Email", "Email Address"]
            }
            RosterField::Status => {
                &["Employment Status", "Employee Status", "Worker Status", "Emp Status", "Status"]
            }
            // A rehire date is newer than the original hire date, so it comes first.
            RosterField::Hired => &[
                "Rehire Date",
                "Hire Date",
                "Hire Datetime",
                "Hired At",
                "Date Hired",
                "Date of Hire",
                "Hired",
                "Start Date",
                "Original Hire Date",
            ],
            RosterField::Terminated => &[
                "Termination Date",
                "Termination Datetime",
                "Terminated At",
                "Term Date",
                "Date of Termination",
                "Separation Date",
                "Last Day Worked",
                "Last Day",
                "End Date",
            ],
            RosterField::ManagerId => &[
                "Manager Employee ID",
                "Manager ID",
                "Manager Employee Number",
                "Supervisor Employee ID",
                "Supervisor ID",
                "Reports To ID",
                "Reports To Employee ID",
            ],
            RosterField::JobTitle => &["Job Title", "Title", "Position Title", "Position", "Job"],
            RosterField::Department => &["Department", "Department Name", "Dept", "Dept Name"],
            RosterField::Location => &[
                "Work Location",
                "Location",
                "Location Name",
                "Work Site",
                "Site",
                "Clinic",
                "Office",
            ],
        }
    }
}

/// Reduces a header to lowercase letters and digits, with `#` read as `number`.
pub fn normalize_header(header: &str) -> String {
    header
        .replace('#', "number")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The roster columns found in one file: for each field, every matching column, preferred
/// spelling first. A row takes the first of them whose cell is not empty.
#[derive(Debug, Clone, Default)]
pub(crate) struct RosterColumns {
    columns: Vec<(RosterField, Vec<usize>)>,
}

impl RosterColumns {
    pub(crate) fn find(table: &Table) -> Self {
        let normalized: Vec<String> =
            table.columns.iter().map(|column| normalize_header(column)).collect();
        let mut taken = vec![false; normalized.len()];
        let mut columns = Vec::new();
        for field in RosterField::ALL {
            let mut indices = Vec::new();
            for spelling in field.spellings() {
                let wanted = normalize_header(spelling);
                for (index, header) in normalized.iter().enumerate() {
                    let free = taken.get(index).is_some_and(|taken| !taken);
                    if free && *header == wanted {
                        indices.push(index);
                        if let Some(slot) = taken.get_mut(index) {
                            *slot = true;
                        }
                    }
                }
            }
            columns.push((field, indices));
        }
        Self { columns }
    }

    /// Returns the columns of `field`, preferred first.
    pub(crate) fn of(&self, field: RosterField) -> &[usize] {
        self.columns
            .iter()
            .find(|(candidate, _)| *candidate == field)
            .map(|(_, indices)| indices.as_slice())
            .unwrap_or_default()
    }
}

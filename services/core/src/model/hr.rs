//! Workers as the HR system records them.

use chrono::{DateTime, Utc};

/// Employment status from the HR roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkerStatus {
    /// Employed and working.
    Active,
    /// Employed but on leave.
    Leave,
    /// Employment ended.
    Terminated,
    /// Hired with a start date still to come.
    Pending,
}

/// One workforce member from the HR system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// The HR employee id: the key every other source should carry.
    pub employee_id: String,
    /// Full name.
    pub name: Option<String>,
    /// Work e-mail address.
    pub email: Option<String>,
    /// Employment status.
    pub status: WorkerStatus,
    /// The roster's own word for the status.
    pub status_raw: String,
    /// First day of work.
    pub hired_at: Option<DateTime<Utc>>,
    /// The instant employment ended or ends; access must be gone by this plus the SLA.
    pub terminated_at: Option<DateTime<Utc>>,
    /// The manager's employee id.
    pub manager_employee_id: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Work location (clinic site).
    pub location: Option<String>,
}

impl Worker {
    /// Creates an active worker with only an employee id.
    pub fn new(employee_id: impl Into<String>) -> Self {
        Self {
            employee_id: employee_id.into(),
            name: None,
            email: None,
            status: WorkerStatus::Active,
            status_raw: "active".into(),
            hired_at: None,
            terminated_at: None,
            manager_employee_id: None,
            job_title: None,
            department: None,
            location: None,
        }
    }

    /// Whether the worker has left as of `as_of`.
    ///
    /// A termination instant at or before `as_of` counts even while the roster still says
    /// active (a future-dated termination that has become current), unless a later hire
    /// date shows a rehire. A terminated status without a date counts as left.
    pub fn has_left(&self, as_of: DateTime<Utc>) -> bool {
        match self.terminated_at {
            Some(ended) => {
                let rehired = self.hired_at.is_some_and(|hired| hired > ended && hired <= as_of);
                ended <= as_of && !rehired
            }
            None => self.status == WorkerStatus::Terminated,
        }
    }
}

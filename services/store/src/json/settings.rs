//! The JSON form of a source's tenant-wide settings and of HR workers.

use chrono::{DateTime, Utc};
use rollcall_core::model::{Availability, SourceSettings, Worker, WorkerStatus};
use serde::{Deserialize, Serialize};

/// [`SourceSettings`] as stored. `weak_methods_enabled` is absent when the policy was not
/// exported, and an array (possibly empty) when it was.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SettingsJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weak_methods_enabled: Option<Vec<String>>,
    sign_in_activity: AvailabilityJson,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AvailabilityJson {
    Available,
    Missing,
    Unknown,
}

/// [`Worker`] as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WorkerJson {
    employee_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    status: WorkerStatusJson,
    status_raw: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hired_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    terminated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    manager_employee_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WorkerStatusJson {
    Active,
    Leave,
    Terminated,
    Pending,
}

impl From<&SourceSettings> for SettingsJson {
    fn from(settings: &SourceSettings) -> Self {
        Self {
            weak_methods_enabled: settings.weak_methods_enabled.clone(),
            sign_in_activity: match settings.sign_in_activity {
                Availability::Available => AvailabilityJson::Available,
                Availability::Missing => AvailabilityJson::Missing,
                Availability::Unknown => AvailabilityJson::Unknown,
            },
        }
    }
}

impl From<SettingsJson> for SourceSettings {
    fn from(json: SettingsJson) -> Self {
        Self {
            weak_methods_enabled: json.weak_methods_enabled,
            sign_in_activity: match json.sign_in_activity {
                AvailabilityJson::Available => Availability::Available,
                AvailabilityJson::Missing => Availability::Missing,
                AvailabilityJson::Unknown => Availability::Unknown,
            },
        }
    }
}

impl From<&Worker> for WorkerJson {
    fn from(worker: &Worker) -> Self {
        Self {
            employee_id: worker.employee_id.clone(),
            name: worker.name.clone(),
            email: worker.email.clone(),
            status: match worker.status {
                WorkerStatus::Active => WorkerStatusJson::Active,
                WorkerStatus::Leave => WorkerStatusJson::Leave,
                WorkerStatus::Terminated => WorkerStatusJson::Terminated,
                WorkerStatus::Pending => WorkerStatusJson::Pending,
            },
            status_raw: worker.status_raw.clone(),
            hired_at: worker.hired_at,
            terminated_at: worker.terminated_at,
            manager_employee_id: worker.manager_employee_id.clone(),
            job_title: worker.job_title.clone(),
            department: worker.department.clone(),
            location: worker.location.clone(),
        }
    }
}

impl From<WorkerJson> for Worker {
    fn from(json: WorkerJson) -> Self {
        Self {
            employee_id: json.employee_id,
            name: json.name,
            email: json.email,
            status: match json.status {
                WorkerStatusJson::Active => WorkerStatus::Active,
                WorkerStatusJson::Leave => WorkerStatus::Leave,
                WorkerStatusJson::Terminated => WorkerStatus::Terminated,
                WorkerStatusJson::Pending => WorkerStatus::Pending,
            },
            status_raw: json.status_raw,
            hired_at: json.hired_at,
            terminated_at: json.terminated_at,
            manager_employee_id: json.manager_employee_id,
            job_title: json.job_title,
            department: json.department,
            location: json.location,
        }
    }
}

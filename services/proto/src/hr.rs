//! HR workers and HR events, and their conversions to and from `rollcall.v1`.
//!
//! `rollcall-core` has no HR event type, so [`HrEvent`] is defined here.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_core::TenantId;
use rollcall_core::model::{Worker, WorkerStatus};
use uuid::Uuid;

use crate::error::ConvertError;
use crate::v1;
use crate::wire::{
    enum_from_proto, optional_timestamp_from_proto, optional_timestamp_to_proto,
    required_timestamp_from_proto, tenant_from_proto, timestamp_to_proto, uuid_from_proto,
};

/// Kind of change to a worker's employment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HrEventType {
    /// A new worker was hired.
    Hire,
    /// Job, department, manager or location changed.
    Change,
    /// Employment ended or will end at the effective instant.
    Termination,
    /// A former worker was hired again.
    Rehire,
    /// An earlier event was wrong; [`HrEvent::corrected_event_id`] names it.
    Correction,
}

/// Channel through which an HR event reached Rollcall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HrEventSender {
    /// A webhook call from the HR system.
    Webhook,
    /// A SCIM request from the HR system (RFC 7644).
    Scim,
    /// A difference found between two roster files.
    RosterFile,
    /// A poll of the HR vendor's API.
    VendorPoll,
}

/// One change of one worker's employment, as published on `rollcall.<tenant>.hr.event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrEvent {
    /// Event id, also the NATS message id.
    pub event_id: Uuid,
    /// Tenant the worker belongs to.
    pub tenant: TenantId,
    /// What happened.
    pub event_type: HrEventType,
    /// HR employee id of the worker, never empty.
    pub employee_id: String,
    /// Instant the change takes effect.
    pub effective_at: DateTime<Utc>,
    /// Time zone in which the HR system gave the effective date.
    pub time_zone: Tz,
    /// Reason the HR system gives.
    pub reason: Option<String>,
    /// Manager's employee id as of the event.
    pub manager_employee_id: Option<String>,
    /// Instant Rollcall received the event.
    pub received_at: DateTime<Utc>,
    /// Channel through which the event arrived.
    pub sender: HrEventSender,
    /// Worker record as of the event; its employee id equals [`HrEvent::employee_id`].
    pub worker: Option<Worker>,
    /// Event this one corrects: set exactly for [`HrEventType::Correction`].
    pub corrected_event_id: Option<Uuid>,
}

/// Converts a worker into its `rollcall.v1.Worker` message, without loss except for a leap
/// second in a timestamp, which becomes the nanosecond before it.
pub fn worker_to_proto(worker: &Worker) -> v1::Worker {
    let status = match worker.status {
        WorkerStatus::Active => v1::WorkerStatus::Active,
        WorkerStatus::Leave => v1::WorkerStatus::Leave,
        WorkerStatus::Terminated => v1::WorkerStatus::Terminated,
        WorkerStatus::Pending => v1::WorkerStatus::Pending,
    };
    v1::Worker {
        employee_id: worker.employee_id.clone(),
        name: worker.name.clone(),
        email: worker.email.clone(),
        status: status.into(),
        status_raw: worker.status_raw.clone(),
        hired_at: optional_timestamp_to_proto(worker.hired_at),
        terminated_at: optional_timestamp_to_proto(worker.terminated_at),
        manager_employee_id: worker.manager_employee_id.clone(),
        job_title: worker.job_title.clone(),
        department: worker.department.clone(),
        location: worker.location.clone(),
    }
}

/// Converts a `rollcall.v1.Worker` message into a worker.
///
/// # Errors
///
/// A [`ConvertError`] for an unset or unknown `status` or an invalid timestamp.
pub fn worker_from_proto(message: v1::Worker) -> Result<Worker, ConvertError> {
    let status = match enum_from_proto(message.status, "status")? {
        v1::WorkerStatus::Unspecified => return Err(ConvertError::missing("status")),
        v1::WorkerStatus::Active => WorkerStatus::Active,
        v1::WorkerStatus::Leave => WorkerStatus::Leave,
        v1::WorkerStatus::Terminated => WorkerStatus::Terminated,
        v1::WorkerStatus::Pending => WorkerStatus::Pending,
    };
    Ok(Worker {
        employee_id: message.employee_id,
        name: message.name,
        email: message.email,
        status,
        status_raw: message.status_raw,
        hired_at: optional_timestamp_from_proto(message.hired_at, "hired_at")?,
        terminated_at: optional_timestamp_from_proto(message.terminated_at, "terminated_at")?,
        manager_employee_id: message.manager_employee_id,
        job_title: message.job_title,
        department: message.department,
        location: message.location,
    })
}

/// Converts an HR event into its `rollcall.v1.HrEvent` message.
pub fn hr_event_to_proto(event: &HrEvent) -> v1::HrEvent {
    let event_type = match event.event_type {
        HrEventType::Hire => v1::HrEventType::Hire,
        HrEventType::Change => v1::HrEventType::Change,
        HrEventType::Termination => v1::HrEventType::Termination,
        HrEventType::Rehire => v1::HrEventType::Rehire,
        HrEventType::Correction => v1::HrEventType::Correction,
    };
    let sender = match event.sender {
        HrEventSender::Webhook => v1::HrEventSender::Webhook,
        HrEventSender::Scim => v1::HrEventSender::Scim,
        HrEventSender::RosterFile => v1::HrEventSender::RosterFile,
        HrEventSender::VendorPoll => v1::HrEventSender::VendorPoll,
    };
    v1::HrEvent {
        event_id: event.event_id.hyphenated().to_string(),
        tenant: event.tenant.as_str().to_owned(),
        r#type: event_type.into(),
        employee_id: event.employee_id.clone(),
        effective_at: Some(timestamp_to_proto(event.effective_at)),
        time_zone: event.time_zone.name().to_owned(),
        reason: event.reason.clone(),
        manager_employee_id: event.manager_employee_id.clone(),
        received_at: Some(timestamp_to_proto(event.received_at)),
        sender: sender.into(),
        worker: event.worker.as_ref().map(worker_to_proto),
        corrected_event_id: event.corrected_event_id.map(|id| id.hyphenated().to_string()),
    }
}

/// Converts a `rollcall.v1.HrEvent` message into an HR event.
///
/// # Errors
///
/// A [`ConvertError`] naming the first invalid field. Such a field is an invalid id,
/// tenant or time zone, an unset required field, an empty `employee_id`, or a
/// `worker.employee_id` that differs from `employee_id`. A `corrected_event_id` is also
/// invalid on an event that is not a correction, and missing on one that is.
pub fn hr_event_from_proto(message: v1::HrEvent) -> Result<HrEvent, ConvertError> {
    let event_type = match enum_from_proto(message.r#type, "type")? {
        v1::HrEventType::Unspecified => return Err(ConvertError::missing("type")),
        v1::HrEventType::Hire => HrEventType::Hire,
        v1::HrEventType::Change => HrEventType::Change,
        v1::HrEventType::Termination => HrEventType::Termination,
        v1::HrEventType::Rehire => HrEventType::Rehire,
        v1::HrEventType::Correction => HrEventType::Correction,
    };
    let sender = match enum_from_proto(message.sender, "sender")? {
        v1::HrEventSender::Unspecified => return Err(ConvertError::missing("sender")),
        v1::HrEventSender::Webhook => HrEventSender::Webhook,
        v1::HrEventSender::Scim => HrEventSender::Scim,
        v1::HrEventSender::RosterFile => HrEventSender::RosterFile,
        v1::HrEventSender::VendorPoll => HrEventSender::VendorPoll,
    };
    if message.employee_id.is_empty() {
        return Err(ConvertError::missing("employee_id"));
    }
    let time_zone: Tz = message.time_zone.parse().map_err(|_| ConvertError::InvalidTimeZone {
        field: "time_zone".to_owned(),
        value: message.time_zone.clone(),
    })?;
    let worker =
        message.worker.map(worker_from_proto).transpose().map_err(|e| e.within("worker"))?;
    if let Some(worker) = &worker
        && worker.employee_id != message.employee_id
    {
        return Err(ConvertError::Mismatch {
            field: "worker.employee_id".to_owned(),
            value: worker.employee_id.clone(),
            other: "employee_id".to_owned(),
            expected: message.employee_id,
        });
    }
    let corrected_event_id = match (event_type, message.corrected_event_id) {
        (HrEventType::Correction, Some(id)) => Some(uuid_from_proto(id, "corrected_event_id")?),
        (HrEventType::Correction, None) => return Err(ConvertError::missing("corrected_event_id")),
        (_, None) => None,
        (_, Some(_)) => {
            return Err(ConvertError::Unexpected {
                field: "corrected_event_id".to_owned(),
                reason: "the event type is not HR_EVENT_TYPE_CORRECTION",
            });
        }
    };
    Ok(HrEvent {
        event_id: uuid_from_proto(message.event_id, "event_id")?,
        tenant: tenant_from_proto(message.tenant, "tenant")?,
        event_type,
        employee_id: message.employee_id,
        effective_at: required_timestamp_from_proto(message.effective_at, "effective_at")?,
        time_zone,
        reason: message.reason,
        manager_employee_id: message.manager_employee_id,
        received_at: required_timestamp_from_proto(message.received_at, "received_at")?,
        sender,
        worker,
        corrected_event_id,
    })
}

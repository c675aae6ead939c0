//! The webhook's JSON body: one HR event, as `docs/services/hr-webhook.md` documents it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_core::model::{Worker, WorkerStatus};
use rollcall_proto::HrEventType;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The members of the body object.
const EVENT_FIELDS: [&str; 9] = [
    "type",
    "employee_id",
    "effective_at",
    "time_zone",
    "reason",
    "manager_employee_id",
    "worker",
    "corrected_event_id",
    "schema_version",
];

/// The members of `worker`.
const WORKER_FIELDS: [&str; 9] = [
    "name",
    "email",
    "status",
    "status_raw",
    "hired_at",
    "terminated_at",
    "job_title",
    "department",
    "location",
];

/// Maximum length of a text value, in characters.
const MAX_TEXT: usize = 1024;

/// An HR event as the webhook body gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// `type`.
    pub event_type: HrEventType,
    /// `employee_id`.
    pub employee_id: String,
    /// `effective_at`, converted to UTC.
    pub effective_at: DateTime<Utc>,
    /// `time_zone`.
    pub time_zone: Tz,
    /// `reason`.
    pub reason: Option<String>,
    /// `manager_employee_id`.
    pub manager_employee_id: Option<String>,
    /// `worker`, with the event's employee id and manager.
    pub worker: Option<Worker>,
    /// `corrected_event_id`.
    pub corrected_event_id: Option<Uuid>,
}

/// A body that is not a valid event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is not JSON, or not an object.
    #[error("the body is not a JSON object: {0}")]
    Syntax(String),
    /// A member is unknown, missing or has a wrong value.
    #[error("`{field}`: {message}")]
    Field {
        /// JSON pointer of the member, such as `/worker/status`.
        field: String,
        /// The problem with the value.
        message: String,
    },
}

fn field(name: &str, message: impl Into<String>) -> BodyError {
    BodyError::Field { field: format!("/{name}"), message: message.into() }
}

/// Parses and checks a webhook body.
pub fn parse(body: &[u8]) -> Result<WebhookEvent, BodyError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|error| BodyError::Syntax(error.to_string()))?;
    let Value::Object(object) = value else {
        return Err(BodyError::Syntax("the top level is not an object".to_owned()));
    };
    check_known(&object, &EVENT_FIELDS, "")?;

    // `schema_version` distinguishes a later body format. Only version 1 exists.
    match object.get("schema_version") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(_) => return Err(field("schema_version", "only schema version 1 exists")),
    }

    let type_text = required_text(&object, "type", "")?;
    let event_type = match type_text.as_str() {
        "hire" => HrEventType::Hire,
        "change" => HrEventType::Change,
        "termination" => HrEventType::Termination,
        "rehire" => HrEventType::Rehire,
        "correction" => HrEventType::Correction,
        _ => {
            return Err(field(
                "type",
                "must be one of hire, change, termination, rehire, correction",
            ));
        }
    };
    let employee_id = required_text(&object, "employee_id", "")?;
    let effective_at = instant(&object, "effective_at", "")?
        .ok_or_else(|| field("effective_at", "is required"))?;
    let zone_text = required_text(&object, "time_zone", "")?;
    let time_zone: Tz = zone_text.parse().map_err(|_| {
        field("time_zone", "must be an IANA time zone name such as America/Chicago")
    })?;
    let reason = optional_text(&object, "reason", "")?;
    let manager_employee_id = optional_text(&object, "manager_employee_id", "")?;
    let corrected_event_id = match optional_text(&object, "corrected_event_id", "")? {
        None => None,
        Some(text) => Some(Uuid::parse_str(&text).map_err(|_| {
            field("corrected_event_id", "must be a UUID, the corrected event's id")
        })?),
    };
    match (event_type, corrected_event_id) {
        (HrEventType::Correction, None) => {
            return Err(field("corrected_event_id", "is required for a correction"));
        }
        (HrEventType::Correction, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(field("corrected_event_id", "is allowed only for a correction"));
        }
    }
    let worker = match object.get("worker") {
        None | Some(Value::Null) => None,
        Some(Value::Object(worker)) => {
            Some(parse_worker(worker, &employee_id, manager_employee_id.clone(), event_type)?)
        }
        Some(_) => return Err(field("worker", "must be an object")),
    };
    Ok(WebhookEvent {
        event_type,
        employee_id,
        effective_at,
        time_zone,
        reason,
        manager_employee_id,
        worker,
        corrected_event_id,
    })
}

fn parse_worker(
    object: &Map<String, Value>,
    employee_id: &str,
    manager_employee_id: Option<String>,
    event_type: HrEventType,
) -> Result<Worker, BodyError> {
    const AT: &str = "worker/";
    check_known(object, &WORKER_FIELDS, AT)?;
    let status_text = optional_text(object, "status", AT)?;
    let status = match status_text.as_deref() {
        // Without a status, the event's type gives the worker's status.
        None if event_type == HrEventType::Termination => WorkerStatus::Terminated,
        None => WorkerStatus::Active,
        Some("active") => WorkerStatus::Active,
        Some("leave") => WorkerStatus::Leave,
        Some("terminated") => WorkerStatus::Terminated,
        Some("pending") => WorkerStatus::Pending,
        Some(_) => {
            return Err(field(
                "worker/status",
                "must be one of active, leave, terminated, pending",
            ));
        }
    };
    let status_raw = optional_text(object, "status_raw", AT)?.unwrap_or_else(|| {
        match status {
            WorkerStatus::Active => "active",
            WorkerStatus::Leave => "leave",
            WorkerStatus::Terminated => "terminated",
            WorkerStatus::Pending => "pending",
        }
        .to_owned()
    });
    Ok(Worker {
        employee_id: employee_id.to_owned(),
        name: optional_text(object, "name", AT)?,
        email: optional_text(object, "email", AT)?,
        status,
        status_raw,
        hired_at: instant(object, "hired_at", AT)?,
        terminated_at: instant(object, "terminated_at", AT)?,
        manager_employee_id,
        job_title: optional_text(object, "job_title", AT)?,
        department: optional_text(object, "department", AT)?,
        location: optional_text(object, "location", AT)?,
    })
}

fn check_known(object: &Map<String, Value>, known: &[&str], at: &str) -> Result<(), BodyError> {
    match object.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(field(
            &format!("{at}{key}"),
            format!("unknown field; the known fields are {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn optional_text(
    object: &Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<Option<String>, BodyError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => {
            Err(field(&format!("{at}{name}"), "must not be blank; leave it out instead"))
        }
        Some(Value::String(text)) if text.chars().count() > MAX_TEXT || text.contains('\0') => {
            Err(field(
                &format!("{at}{name}"),
                format!("must be at most {MAX_TEXT} characters without NUL"),
            ))
        }
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(field(&format!("{at}{name}"), "must be a string")),
    }
}

fn required_text(object: &Map<String, Value>, name: &str, at: &str) -> Result<String, BodyError> {
    optional_text(object, name, at)?.ok_or_else(|| field(&format!("{at}{name}"), "is required"))
}

/// Reads an RFC 3339 instant, which must carry `Z` or an offset: a bare local time would
/// be ambiguous across the zones a practice spans.
fn instant(
    object: &Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<Option<DateTime<Utc>>, BodyError> {
    match optional_text(object, name, at)? {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(&text)
            .map(|instant| Some(instant.with_timezone(&Utc)))
            .map_err(|_| {
                field(
                    &format!("{at}{name}"),
                    "must be an RFC 3339 date and time with an offset, such as 2026-12-04T17:00:00-06:00",
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_full_body() {
        let body = br#"{"type":"termination","employee_id":"E1","effective_at":"2026-12-04T17:00:00-06:00",
            "time_zone":"America/Chicago","reason":"resigned","manager_employee_id":"E0",
            "worker":{"name":"Ana Diaz","department":"Front desk"}}"#;
        let event = parse(body).unwrap();
        assert_eq!(event.event_type, HrEventType::Termination);
        assert_eq!(event.effective_at.to_rfc3339(), "2026-12-04T23:00:00+00:00");
        let worker = event.worker.unwrap();
        assert_eq!(worker.status, WorkerStatus::Terminated);
        assert_eq!(worker.manager_employee_id.as_deref(), Some("E0"));
    }

    #[test]
    fn parse_names_unknown_fields() {
        let body = br#"{"type":"hire","employee_id":"E1","effective_at":"2026-12-04T17:00:00Z","time_zone":"UTC","salary":1}"#;
        let BodyError::Field { field, .. } = parse(body).unwrap_err() else { panic!() };
        assert_eq!(field, "/salary");
        let body = br#"{"type":"hire","employee_id":"E1","effective_at":"2026-12-04T17:00:00Z","time_zone":"UTC","worker":{"ssn":"x"}}"#;
        let BodyError::Field { field, .. } = parse(body).unwrap_err() else { panic!() };
        assert_eq!(field, "/worker/ssn");
    }

    #[test]
    fn parse_rejects_invalid_values() {
        let body = br#"{"type":"hire","employee_id":"E1","effective_at":"2026-12-04T17:00:00","time_zone":"UTC"}"#;
        assert!(
            matches!(parse(body), Err(BodyError::Field { field, .. }) if field == "/effective_at")
        );
        let body = br#"{"type":"correction","employee_id":"E1","effective_at":"2026-12-04T17:00:00Z","time_zone":"UTC"}"#;
        assert!(
            matches!(parse(body), Err(BodyError::Field { field, .. }) if field == "/corrected_event_id")
        );
        let body = br#"{"type":"hire","employee_id":"E1","effective_at":"2026-12-04T17:00:00Z","time_zone":"Mars/Olympus"}"#;
        assert!(
            matches!(parse(body), Err(BodyError::Field { field, .. }) if field == "/time_zone")
        );
    }
}

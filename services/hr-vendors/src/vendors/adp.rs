//! ADP Workforce Now: event notifications pulled from the subscriber's queue over mutual
//! TLS, and the workers API. Nothing is pushed, so [`VendorAdapter::verify`] rejects
//! every delivery.
//!
//! The consumer reads `GET /core/v1/event-notification-messages` (200 with one message
//! and its id in `adp-msg-msgid`, or 204 when the queue is empty), records it, and only
//! then deletes it, so a crash in between serves the same message again.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{VendorAdapter, VendorSettings, date_at, json, text_at};
use crate::auth::{Credentials, Delivery, Verified};
use crate::effective::start_of_day;
use crate::error::{ParseError, Rejection};
use crate::model::{
    ApiMethod, ApiRequest, EmploymentStatus, Notice, WorkerPage, WorkerRecord, encode_segment,
};
use crate::vendors::Vendor;

/// The response header with the queue message's id.
pub const MESSAGE_ID_HEADER: &str = "adp-msg-msgid";

/// Workers per page of the list (`$top`).
pub const PAGE_SIZE: usize = 100;

const MESSAGE: &str = "ADP event notification";
const WORKER: &str = "ADP worker response";
const LIST: &str = "ADP workers response";

/// Builds the request for the next queue message.
pub fn queue_request() -> ApiRequest {
    ApiRequest::get("/core/v1/event-notification-messages".to_owned())
}

/// Builds the request that deletes a processed queue message.
pub fn delete_request(message_id: &str) -> ApiRequest {
    ApiRequest {
        method: ApiMethod::Delete,
        path: format!("/core/v1/event-notification-messages/{}", encode_segment(message_id)),
        json: None,
    }
}

/// The ADP Workforce Now adapter of one tenant.
#[derive(Debug)]
pub struct AdpWorkforceNow {
    settings: VendorSettings,
}

impl AdpWorkforceNow {
    /// Builds the adapter.
    pub fn new(settings: VendorSettings) -> Self {
        Self { settings }
    }
}

impl VendorAdapter for AdpWorkforceNow {
    fn vendor(&self) -> Vendor {
        Vendor::AdpWorkforceNow
    }

    fn verify(
        &self,
        _delivery: &Delivery<'_>,
        _credentials: &Credentials,
        _now: DateTime<Utc>,
    ) -> Result<Verified, Rejection> {
        // NOTE: ADP added webhook delivery in October 2025, but its signing scheme is not
        // documented in any source Rollcall could read, so pushed deliveries are rejected.
        Err(Rejection::NotPushed)
    }

    fn notices(&self, body: &[u8]) -> Result<Vec<Notice>, ParseError> {
        let body = json(body, MESSAGE)?;
        let events = body
            .get("events")
            .and_then(Value::as_array)
            .ok_or(ParseError::MissingField { what: MESSAGE, field: "/events" })?;
        let mut notices = Vec::new();
        for event in events {
            let Some(worker_id) = text_at(event, "/data/eventContext/worker/associateOID") else {
                continue;
            };
            let name = text_at(event, "/eventNameCode/codeValue").unwrap_or_default();
            let dedupe_key = text_at(event, "/eventID");
            notices.push(Notice { worker_id, event: name, dedupe_key });
        }
        Ok(notices)
    }

    fn worker_request(&self, worker_id: &str) -> ApiRequest {
        ApiRequest::get(format!("/hr/v2/workers/{}", encode_segment(worker_id)))
    }

    fn parse_worker(
        &self,
        worker_id: &str,
        body: &[u8],
    ) -> Result<Option<WorkerRecord>, ParseError> {
        let body = json(body, WORKER)?;
        let Some(worker) = body.get("workers").and_then(Value::as_array).and_then(|w| w.first())
        else {
            return Ok(None);
        };
        let status = text_at(worker, "/workerStatus/statusCode/codeValue").unwrap_or_default();
        // A worker terminated with a future date shows as active, or "Scheduled for
        // Termination", until the date, with the date already set, so the date decides.
        let mut date = date_at(worker, "/workerDates/terminationDate", WORKER)?;
        if date.is_none() {
            // Some workers carry the date only on their assignments; the latest counts.
            if let Some(assignments) = worker.get("workAssignments").and_then(Value::as_array) {
                for assignment in assignments {
                    let assigned = date_at(assignment, "/terminationDate", WORKER)?;
                    if assigned > date {
                        date = assigned;
                    }
                }
            }
        }
        let zone = self.settings.time_zone;
        let employment = match date {
            Some(date) => {
                EmploymentStatus::Terminated { effective_at: start_of_day(date, zone), date }
            }
            None if status.eq_ignore_ascii_case("terminated") => {
                return Err(ParseError::MissingField {
                    what: WORKER,
                    field: "/workers/0/workerDates/terminationDate",
                });
            }
            None => EmploymentStatus::Active,
        };
        Ok(Some(WorkerRecord {
            worker_id: text_at(worker, "/associateOID").unwrap_or_else(|| worker_id.to_owned()),
            status: employment,
            status_raw: status,
            time_zone: zone,
            email: text_at(worker, "/businessCommunication/emails/0/emailUri"),
            reason: None,
        }))
    }

    fn list_request(&self, cursor: Option<&str>, _since: DateTime<Utc>) -> ApiRequest {
        // ADP's worker list has no modification time to filter on, so the poll pages
        // through every worker.
        let skip = cursor.unwrap_or("0");
        ApiRequest::get(format!(
            "/hr/v2/workers?%24top={PAGE_SIZE}&%24skip={}",
            encode_segment(skip)
        ))
    }

    fn parse_list(&self, cursor: Option<&str>, body: &[u8]) -> Result<WorkerPage, ParseError> {
        // ADP returns 204 with no body past the last worker.
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(WorkerPage::default());
        }
        let body = json(body, LIST)?;
        let workers = body
            .get("workers")
            .and_then(Value::as_array)
            .ok_or(ParseError::MissingField { what: LIST, field: "/workers" })?;
        let worker_ids =
            workers.iter().filter_map(|worker| text_at(worker, "/associateOID")).collect();
        let skip: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let next_cursor = (workers.len() >= PAGE_SIZE).then(|| (skip + PAGE_SIZE).to_string());
        Ok(WorkerPage { worker_ids, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> AdpWorkforceNow {
        AdpWorkforceNow::new(VendorSettings::new(chrono_tz::America::New_York))
    }

    #[test]
    fn scheduled_termination_is_terminated_at_date() {
        let body = br#"{"workers":[{"associateOID":"G3","workerStatus":{"statusCode":{"codeValue":"Active"}},"workerDates":{"terminationDate":"2026-11-30"}}]}"#;
        let record = adapter().parse_worker("G3", body).ok().flatten();
        let expected = "2026-11-30T05:00:00Z".parse().ok();
        assert!(
            matches!(record.map(|r| r.status), Some(EmploymentStatus::Terminated { effective_at, .. }) if Some(effective_at) == expected)
        );
    }

    #[test]
    fn assignment_date_used_when_worker_has_none() {
        let body = br#"{"workers":[{"associateOID":"G3","workerStatus":{"statusCode":{"codeValue":"Terminated"}},"workAssignments":[{"terminationDate":"2026-11-20"},{"terminationDate":"2026-11-30"}]}]}"#;
        let record = adapter().parse_worker("G3", body).ok().flatten();
        assert!(
            matches!(record.map(|r| r.status), Some(EmploymentStatus::Terminated { date, .. }) if date.to_string() == "2026-11-30")
        );
    }

    #[test]
    fn pushed_delivery_rejected() {
        let headers = reqwest::header::HeaderMap::new();
        let delivery = Delivery { headers: &headers, body: b"{}", peer: None, url_token: None };
        let rejected = adapter().verify(&delivery, &Credentials::default(), Utc::now());
        assert_eq!(rejected, Err(Rejection::NotPushed));
    }
}

//! Rippling: App Shop partner webhooks, form-encoded, with an optional bearer token and
//! no signature, and the workers API.
//!
//! `employee.terminated` names only the worker, so the worker is read back with
//! `GET /workers/{id}` (`status`, `end_date`, `termination_details`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{VendorAdapter, VendorSettings, date_at, json, text_at};
use crate::auth::{Credentials, Delivery, Verified, verify_static};
use crate::effective::end_of_day;
use crate::error::{ParseError, Rejection};
use crate::model::{
    ApiRequest, EmploymentStatus, Notice, WorkerPage, WorkerRecord, encode_segment,
};
use crate::vendors::Vendor;

/// Workers per page of the list.
pub const PAGE_SIZE: usize = 100;

const WEBHOOK: &str = "Rippling webhook body";
const WORKER: &str = "Rippling worker response";
const LIST: &str = "Rippling workers response";

/// The Rippling adapter of one tenant.
#[derive(Debug)]
pub struct Rippling {
    settings: VendorSettings,
}

impl Rippling {
    /// Builds the adapter.
    pub fn new(settings: VendorSettings) -> Self {
        Self { settings }
    }
}

impl VendorAdapter for Rippling {
    fn vendor(&self) -> Vendor {
        Vendor::Rippling
    }

    fn verify(
        &self,
        delivery: &Delivery<'_>,
        credentials: &Credentials,
        _now: DateTime<Utc>,
    ) -> Result<Verified, Rejection> {
        verify_static(credentials, delivery)
    }

    fn notices(&self, body: &[u8]) -> Result<Vec<Notice>, ParseError> {
        let text = std::str::from_utf8(body).map_err(|error| ParseError::Syntax {
            what: WEBHOOK,
            format: "form data",
            message: error.to_string(),
        })?;
        let mut event = None;
        let mut worker_id = None;
        for (key, value) in form_urlencoded::parse(text.as_bytes()) {
            match key.as_ref() {
                "event_name" => event = Some(value.into_owned()),
                "id" => worker_id = Some(value.into_owned()),
                _ => {}
            }
        }
        let event = event
            .filter(|e| !e.is_empty())
            .ok_or(ParseError::MissingField { what: WEBHOOK, field: "event_name" })?;
        if !event.starts_with("employee.") {
            return Ok(Vec::new());
        }
        let worker_id = worker_id
            .filter(|id| !id.is_empty())
            .ok_or(ParseError::MissingField { what: WEBHOOK, field: "id" })?;
        Ok(vec![Notice { worker_id, event, dedupe_key: None }])
    }

    fn worker_request(&self, worker_id: &str) -> ApiRequest {
        ApiRequest::get(format!("/workers/{}", encode_segment(worker_id)))
    }

    fn parse_worker(
        &self,
        worker_id: &str,
        body: &[u8],
    ) -> Result<Option<WorkerRecord>, ParseError> {
        let body = json(body, WORKER)?;
        let status = text_at(&body, "/status").unwrap_or_default();
        let end = date_at(&body, "/end_date", WORKER)?;
        let zone = self.settings.time_zone;
        // `end_date` is the last day worked. A scheduled termination has it before the
        // status changes, so the date decides.
        let employment = match end {
            Some(date) => {
                EmploymentStatus::Terminated { effective_at: end_of_day(date, zone), date }
            }
            None if status.eq_ignore_ascii_case("terminated") => {
                return Err(ParseError::MissingField { what: WORKER, field: "/end_date" });
            }
            None => EmploymentStatus::Active,
        };
        Ok(Some(WorkerRecord {
            worker_id: text_at(&body, "/id").unwrap_or_else(|| worker_id.to_owned()),
            status: employment,
            status_raw: status,
            time_zone: zone,
            email: text_at(&body, "/work_email"),
            reason: text_at(&body, "/termination_details/reason"),
        }))
    }

    fn list_request(&self, cursor: Option<&str>, _since: DateTime<Utc>) -> ApiRequest {
        let mut path = format!("/workers?limit={PAGE_SIZE}&order_by=-updated_at");
        if let Some(cursor) = cursor {
            path.push_str("&cursor=");
            path.push_str(&encode_segment(cursor));
        }
        ApiRequest::get(path)
    }

    fn parse_list(&self, _cursor: Option<&str>, body: &[u8]) -> Result<WorkerPage, ParseError> {
        let body = json(body, LIST)?;
        let results = body
            .get("results")
            .and_then(Value::as_array)
            .ok_or(ParseError::MissingField { what: LIST, field: "/results" })?;
        let worker_ids = results.iter().filter_map(|worker| text_at(worker, "/id")).collect();
        // `next_link` is a whole URL; its `cursor` parameter is the next page's cursor.
        let next_cursor = text_at(&body, "/next_link").and_then(|link| {
            let query = link.split_once('?')?.1;
            form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "cursor")
                .map(|(_, value)| value.into_owned())
        });
        Ok(WorkerPage { worker_ids, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> Rippling {
        Rippling::new(VendorSettings::new(chrono_tz::America::Phoenix))
    }

    #[test]
    fn end_date_ends_at_next_local_midnight() {
        let body = br#"{"id":"r1","status":"TERMINATED","end_date":"2026-11-30","termination_details":{"reason":"resigned"}}"#;
        let record = adapter().parse_worker("r1", body).ok().flatten();
        let expected = "2026-12-01T07:00:00Z".parse().ok();
        assert!(
            matches!(record.map(|r| r.status), Some(EmploymentStatus::Terminated { effective_at, .. }) if Some(effective_at) == expected)
        );
    }

    #[test]
    fn next_link_gives_cursor() {
        let body = br#"{"results":[{"id":"a"}],"next_link":"https://rest.ripplingapis.com/workers?limit=100&cursor=abc%3D"}"#;
        let page = adapter().parse_list(None, body).unwrap_or_default();
        assert_eq!(page.next_cursor.as_deref(), Some("abc="));
    }

    #[test]
    fn form_without_id_is_named() {
        let error = adapter().notices(b"event_name=employee.terminated&company_id=c");
        assert_eq!(error, Err(ParseError::MissingField { what: WEBHOOK, field: "id" }));
    }
}

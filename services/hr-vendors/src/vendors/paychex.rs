//! Paychex Flex: `WRKR_EMPL` webhooks with a receiver credential and no signature, and
//! the workers API.
//!
//! Paychex documents the domain but shows its body only in a part of the API reference
//! that Rollcall's research could not read, so the body is read loosely: `workerId` and
//! `domain` when present. The worker is read back with `GET /workers/{workerId}`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{VendorAdapter, VendorSettings, date_at, json, text_at};
use crate::auth::{Credentials, Delivery, Verified, verify_static};
use crate::effective::start_of_day;
use crate::error::{ParseError, Rejection};
use crate::model::{
    ApiRequest, EmploymentStatus, Notice, WorkerPage, WorkerRecord, encode_segment,
};
use crate::vendors::Vendor;

/// Workers per page of the list.
pub const PAGE_SIZE: usize = 100;

const WEBHOOK: &str = "Paychex webhook body";
const WORKER: &str = "Paychex worker response";
const LIST: &str = "Paychex workers response";

/// The Paychex adapter of one tenant.
#[derive(Debug)]
pub struct Paychex {
    settings: VendorSettings,
}

impl Paychex {
    /// Builds the adapter.
    pub fn new(settings: VendorSettings) -> Self {
        Self { settings }
    }
}

impl VendorAdapter for Paychex {
    fn vendor(&self) -> Vendor {
        Vendor::Paychex
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
        // NOTE: the body shape is assumed (see the module comment); only `workerId` is used.
        let body = json(body, WEBHOOK)?;
        let Some(worker_id) = text_at(&body, "/workerId") else {
            return Ok(Vec::new());
        };
        let event = text_at(&body, "/domain").unwrap_or_else(|| "WRKR_EMPL".to_owned());
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
        // Paychex wraps results in `content[]`.
        let Some(worker) = body.get("content").and_then(Value::as_array).and_then(|c| c.first())
        else {
            return Ok(None);
        };
        let status = text_at(worker, "/currentStatus/statusType").unwrap_or_default();
        let zone = self.settings.time_zone;
        let employment = if status.eq_ignore_ascii_case("terminated") {
            let date = date_at(worker, "/currentStatus/effectiveDate", WORKER)?.ok_or(
                ParseError::MissingField { what: WORKER, field: "/currentStatus/effectiveDate" },
            )?;
            // The status row is current from its effective date on.
            EmploymentStatus::Terminated { effective_at: start_of_day(date, zone), date }
        } else {
            EmploymentStatus::Active
        };
        Ok(Some(WorkerRecord {
            worker_id: text_at(worker, "/workerId").unwrap_or_else(|| worker_id.to_owned()),
            status: employment,
            status_raw: status,
            time_zone: zone,
            email: None,
            reason: text_at(worker, "/currentStatus/statusReason"),
        }))
    }

    fn list_request(&self, cursor: Option<&str>, _since: DateTime<Utc>) -> ApiRequest {
        let company = self.settings.company_id.as_deref().unwrap_or_default();
        let offset = cursor.unwrap_or("0");
        ApiRequest::get(format!(
            "/companies/{}/workers?offset={}&limit={PAGE_SIZE}",
            encode_segment(company),
            encode_segment(offset)
        ))
    }

    fn parse_list(&self, cursor: Option<&str>, body: &[u8]) -> Result<WorkerPage, ParseError> {
        let body = json(body, LIST)?;
        let content = body
            .get("content")
            .and_then(Value::as_array)
            .ok_or(ParseError::MissingField { what: LIST, field: "/content" })?;
        let worker_ids = content.iter().filter_map(|worker| text_at(worker, "/workerId")).collect();
        let offset: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let next_cursor = (content.len() >= PAGE_SIZE).then(|| (offset + PAGE_SIZE).to_string());
        Ok(WorkerPage { worker_ids, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_row_is_current_from_its_date() {
        let adapter = Paychex::new(VendorSettings::new(chrono_tz::America::Denver));
        let body = br#"{"content":[{"workerId":"W1","currentStatus":{"statusType":"TERMINATED","effectiveDate":"2026-11-30T00:00:00Z","statusReason":"RESIGNED"}}]}"#;
        let record = adapter.parse_worker("W1", body).ok().flatten();
        let expected = "2026-11-30T07:00:00Z".parse().ok();
        assert!(
            matches!(record.as_ref().map(|r| &r.status), Some(EmploymentStatus::Terminated { effective_at, .. }) if Some(*effective_at) == expected)
        );
        assert_eq!(record.and_then(|r| r.reason).as_deref(), Some("RESIGNED"));
    }

    #[test]
    fn empty_content_is_not_found() {
        let adapter = Paychex::new(VendorSettings::new(chrono_tz::UTC));
        assert_eq!(adapter.parse_worker("W1", br#"{"content":[]}"#), Ok(None));
    }
}

//! Paylocity: legacy (Web Link) termination and employee change webhooks with a receiver
//! credential and no signature, and the NextGen Core HR employees API.
//!
//! A future-dated termination is sent when the future record becomes current, which
//! Paylocity ties to payroll processing, so it can arrive days after the last day. The
//! daily poll covers that gap. Paylocity advises against trusting the body, so only the
//! ids are read and the employee is read back.

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

/// The networks Paylocity documents as the senders of its legacy webhooks, for a
/// tenant's allowed networks.
pub const SENDER_NETWORKS: [&str; 2] = ["198.245.157.0/24", "192.40.49.0/24"];

/// Employees per page of the list.
pub const PAGE_SIZE: usize = 100;

const WEBHOOK: &str = "Paylocity webhook body";
const WORKER: &str = "Paylocity employee response";
const LIST: &str = "Paylocity employees response";

/// The Paylocity adapter of one tenant.
#[derive(Debug)]
pub struct Paylocity {
    settings: VendorSettings,
}

impl Paylocity {
    /// Builds the adapter.
    pub fn new(settings: VendorSettings) -> Self {
        Self { settings }
    }

    fn company(&self) -> String {
        encode_segment(self.settings.company_id.as_deref().unwrap_or_default())
    }
}

impl VendorAdapter for Paylocity {
    fn vendor(&self) -> Vendor {
        Vendor::Paylocity
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
        let body = json(body, WEBHOOK)?;
        let Some(worker_id) = text_at(&body, "/employeeId") else {
            return Ok(Vec::new());
        };
        // The termination and employee change webhooks carry the same ids and no event
        // name; only the receiver URL could distinguish them.
        Ok(vec![Notice { worker_id, event: "webhook".to_owned(), dedupe_key: None }])
    }

    fn worker_request(&self, worker_id: &str) -> ApiRequest {
        // NOTE: public client code shows only the list path; this single-employee path
        // below it is assumed.
        ApiRequest::get(format!(
            "/apiHub/coreHr/v1/companies/{}/employees/{}",
            self.company(),
            encode_segment(worker_id)
        ))
    }

    fn parse_worker(
        &self,
        worker_id: &str,
        body: &[u8],
    ) -> Result<Option<WorkerRecord>, ParseError> {
        let body = json(body, WORKER)?;
        let status = text_at(&body, "/currentStatus/status").unwrap_or_default();
        let status_type = text_at(&body, "/currentStatus/statusType").unwrap_or_default();
        let terminated = [&status, &status_type]
            .iter()
            .any(|word| word.eq_ignore_ascii_case("t") || word.eq_ignore_ascii_case("terminated"));
        let zone = self.settings.time_zone;
        let employment = if terminated {
            let date = date_at(&body, "/currentStatus/effectiveDate", WORKER)?.ok_or(
                ParseError::MissingField { what: WORKER, field: "/currentStatus/effectiveDate" },
            )?;
            // The status record is current from its effective date on.
            EmploymentStatus::Terminated { effective_at: start_of_day(date, zone), date }
        } else {
            EmploymentStatus::Active
        };
        Ok(Some(WorkerRecord {
            worker_id: text_at(&body, "/id").unwrap_or_else(|| worker_id.to_owned()),
            status: employment,
            status_raw: if status_type.is_empty() { status } else { status_type },
            time_zone: zone,
            email: None,
            reason: text_at(&body, "/currentStatus/changeReason"),
        }))
    }

    fn list_request(&self, cursor: Option<&str>, _since: DateTime<Utc>) -> ApiRequest {
        let offset = cursor.unwrap_or("0");
        ApiRequest::get(format!(
            "/apiHub/coreHr/v1/companies/{}/employees?offset={}&limit={PAGE_SIZE}",
            self.company(),
            encode_segment(offset)
        ))
    }

    fn parse_list(&self, cursor: Option<&str>, body: &[u8]) -> Result<WorkerPage, ParseError> {
        let body = json(body, LIST)?;
        let employees = body
            .as_array()
            .ok_or(ParseError::MissingField { what: LIST, field: "(array of employees)" })?;
        let worker_ids =
            employees.iter().filter_map(|employee: &Value| text_at(employee, "/id")).collect();
        let offset: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let next_cursor = (employees.len() >= PAGE_SIZE).then(|| (offset + PAGE_SIZE).to_string());
        Ok(WorkerPage { worker_ids, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_letter_t_is_terminated() {
        let adapter = Paylocity::new(VendorSettings::new(chrono_tz::America::Chicago));
        let body = br#"{"id":"2048","currentStatus":{"status":"T","effectiveDate":"2026-11-30","changeReason":"Resigned"}}"#;
        let record = adapter.parse_worker("2048", body).ok().flatten();
        let expected = "2026-11-30T06:00:00Z".parse().ok();
        assert!(
            matches!(record.map(|r| r.status), Some(EmploymentStatus::Terminated { effective_at, .. }) if Some(effective_at) == expected)
        );
    }

    #[test]
    fn active_status_is_active() {
        let adapter = Paylocity::new(VendorSettings::new(chrono_tz::UTC));
        let body = br#"{"id":"2048","currentStatus":{"status":"A","effectiveDate":"2026-01-05"}}"#;
        let record = adapter.parse_worker("2048", body).ok().flatten();
        assert_eq!(record.map(|r| r.status), Some(EmploymentStatus::Active));
    }
}

//! BambooHR: event-based webhooks signed with HMAC-SHA256, and the employees API.
//!
//! A termination arrives as `employee.updated` with the employment status fields in
//! `changedFields`, on the day the new Employment Status row takes effect. The body
//! carries no date, so the worker is read back with
//! `GET /api/v1/employees/{id}?fields=status,employmentHistoryStatus,terminationDate,workEmail`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{VendorAdapter, VendorSettings, date_at, json, required_text, text_at};
use crate::auth::{
    Credentials, Delivery, HmacAlgorithm, TagEncoding, Verified, header, verify_hmac,
};
use crate::effective::start_of_day;
use crate::error::{ParseError, Rejection};
use crate::model::{
    ApiRequest, EmploymentStatus, Notice, WorkerPage, WorkerRecord, encode_segment,
};
use crate::vendors::Vendor;

/// The header with the signed timestamp, Unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-bamboohr-timestamp";
/// The header with the hex HMAC-SHA256 tag.
pub const SIGNATURE_HEADER: &str = "x-bamboohr-signature";

/// The default maximum age of a signed timestamp: 3 hours. BambooHR retries a delivery
/// that got a 5xx response 5 times, 5, 10, 20, 40 and 80 minutes apart (155 minutes in
/// all). It does not document whether a retry is signed again with a new timestamp, so
/// the window covers the whole retry schedule. A replay inside it is harmless, because
/// the receiver reads the worker back from the API and deduplicates.
pub const DEFAULT_MAX_AGE_SECONDS: i64 = 3 * 60 * 60;

/// The maximum time a timestamp may be ahead of the receiver's clock: 5 minutes of skew.
pub const MAX_FUTURE_SECONDS: i64 = 5 * 60;

/// The "no date" value BambooHR returns for an empty date field.
const EMPTY_DATE: &str = "0000-00-00";

const WEBHOOK: &str = "BambooHR webhook body";
const WORKER: &str = "BambooHR employee response";
const LIST: &str = "BambooHR changed-employees response";

/// The BambooHR adapter of one tenant.
#[derive(Debug)]
pub struct BambooHr {
    settings: VendorSettings,
}

impl BambooHr {
    /// Builds the adapter.
    pub fn new(settings: VendorSettings) -> Self {
        Self { settings }
    }
}

impl VendorAdapter for BambooHr {
    fn vendor(&self) -> Vendor {
        Vendor::BambooHr
    }

    fn verify(
        &self,
        delivery: &Delivery<'_>,
        credentials: &Credentials,
        now: DateTime<Utc>,
    ) -> Result<Verified, Rejection> {
        let timestamp = header(delivery.headers, TIMESTAMP_HEADER)?;
        let signature = header(delivery.headers, SIGNATURE_HEADER)?;
        let seconds: i64 = timestamp
            .parse()
            .map_err(|_| Rejection::MalformedTimestamp { header: TIMESTAMP_HEADER })?;
        let max_age = self.settings.timestamp_max_age_seconds;
        if now.timestamp().saturating_sub(seconds) > max_age {
            return Err(Rejection::ExpiredTimestamp {
                header: TIMESTAMP_HEADER,
                window_seconds: max_age,
            });
        }
        if seconds.saturating_sub(now.timestamp()) > MAX_FUTURE_SECONDS {
            return Err(Rejection::FutureTimestamp {
                header: TIMESTAMP_HEADER,
                window_seconds: MAX_FUTURE_SECONDS,
            });
        }
        // The signed message is the body followed directly by the timestamp header's
        // text, with no separator.
        verify_hmac(
            credentials,
            HmacAlgorithm::Sha256,
            TagEncoding::Hex,
            SIGNATURE_HEADER,
            signature,
            &[delivery.body, timestamp.as_bytes()],
        )
    }

    fn notices(&self, body: &[u8]) -> Result<Vec<Notice>, ParseError> {
        // NOTE: BambooHR can also post form-encoded bodies; only JSON is read, so the
        // webhook must be created with the JSON format.
        let body = json(body, WEBHOOK)?;
        // Field-based (legacy) webhooks post `employees[]`; event-based ones post `data`.
        if let Some(employees) = body.get("employees").and_then(Value::as_array) {
            return employees
                .iter()
                .map(|employee| {
                    let worker_id = required_text(employee, "/id", WEBHOOK)?;
                    let action = text_at(employee, "/action").unwrap_or_default();
                    let timestamp = text_at(employee, "/timestamp").unwrap_or_default();
                    let fields = changed_fields(employee);
                    Ok(Notice {
                        dedupe_key: Some(format!("{worker_id}/{action}/{timestamp}/{fields}")),
                        event: format!("employee.{}", action.to_ascii_lowercase()),
                        worker_id,
                    })
                })
                .collect();
        }
        let event = required_text(&body, "/type", WEBHOOK)?;
        let worker_id = required_text(&body, "/data/employeeId", WEBHOOK)?;
        let company = text_at(&body, "/data/companyId").unwrap_or_default();
        let timestamp = text_at(&body, "/timestamp").unwrap_or_default();
        let fields = body.get("data").map(changed_fields).unwrap_or_default();
        Ok(vec![Notice {
            dedupe_key: Some(format!("{company}/{worker_id}/{event}/{timestamp}/{fields}")),
            event,
            worker_id,
        }])
    }

    fn worker_request(&self, worker_id: &str) -> ApiRequest {
        ApiRequest::get(format!(
            "/api/v1/employees/{}?fields=status,employmentHistoryStatus,terminationDate,workEmail",
            encode_segment(worker_id)
        ))
    }

    fn parse_worker(
        &self,
        worker_id: &str,
        body: &[u8],
    ) -> Result<Option<WorkerRecord>, ParseError> {
        let body = json(body, WORKER)?;
        let status = text_at(&body, "/status").unwrap_or_default();
        let history = text_at(&body, "/employmentHistoryStatus").unwrap_or_default();
        let date = match text_at(&body, "/terminationDate") {
            Some(text) if text == EMPTY_DATE => None,
            Some(_) => date_at(&body, "/terminationDate", WORKER)?,
            None => None,
        };
        // The current Employment Status row decides. A future-dated "Terminated" row is
        // not current yet, and a termination date can remain from an earlier employment.
        let terminated =
            history.eq_ignore_ascii_case("terminated") || status.eq_ignore_ascii_case("inactive");
        let zone = self.settings.time_zone;
        let employment = match (terminated, date) {
            (true, Some(date)) => {
                EmploymentStatus::Terminated { effective_at: start_of_day(date, zone), date }
            }
            (true, None) => {
                return Err(ParseError::MissingField { what: WORKER, field: "/terminationDate" });
            }
            (false, _) => EmploymentStatus::Active,
        };
        let status_raw = if history.is_empty() { status } else { history };
        Ok(Some(WorkerRecord {
            worker_id: text_at(&body, "/id").unwrap_or_else(|| worker_id.to_owned()),
            status: employment,
            status_raw,
            time_zone: zone,
            email: text_at(&body, "/workEmail"),
            reason: None,
        }))
    }

    fn list_request(&self, _cursor: Option<&str>, since: DateTime<Utc>) -> ApiRequest {
        let since = since.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        ApiRequest::get(format!("/api/v1/employees/changed?since={}", encode_segment(&since)))
    }

    fn parse_list(&self, _cursor: Option<&str>, body: &[u8]) -> Result<WorkerPage, ParseError> {
        let body = json(body, LIST)?;
        let employees = body
            .get("employees")
            .and_then(Value::as_object)
            .ok_or(ParseError::MissingField { what: LIST, field: "/employees" })?;
        Ok(WorkerPage { worker_ids: employees.keys().cloned().collect(), next_cursor: None })
    }
}

/// Returns the changed fields sorted and joined, for the deduplication key.
fn changed_fields(value: &Value) -> String {
    let mut fields: Vec<&str> = value
        .get("changedFields")
        .and_then(Value::as_array)
        .map(|fields| fields.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    fields.sort_unstable();
    fields.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> BambooHr {
        BambooHr::new(VendorSettings::new(chrono_tz::America::Chicago))
    }

    #[test]
    fn terminated_row_takes_effect_at_local_midnight() {
        let body = br#"{"id":"1187","status":"Inactive","employmentHistoryStatus":"Terminated","terminationDate":"2026-12-01"}"#;
        let record = adapter().parse_worker("1187", body).ok().flatten();
        let effective = record.map(|r| r.status);
        let expected = "2026-12-01T06:00:00Z".parse().ok();
        assert!(
            matches!(effective, Some(EmploymentStatus::Terminated { effective_at, .. }) if Some(effective_at) == expected)
        );
    }

    #[test]
    fn empty_date_with_active_status_is_active() {
        let body = br#"{"id":"1187","status":"Active","employmentHistoryStatus":"Full-Time","terminationDate":"0000-00-00"}"#;
        let record = adapter().parse_worker("1187", body).ok().flatten();
        assert_eq!(record.map(|r| r.status), Some(EmploymentStatus::Active));
    }

    #[test]
    fn terminated_without_date_is_an_error() {
        let body = br#"{"id":"1187","employmentHistoryStatus":"Terminated","terminationDate":"0000-00-00"}"#;
        let error = adapter().parse_worker("1187", body);
        assert_eq!(
            error,
            Err(ParseError::MissingField { what: WORKER, field: "/terminationDate" })
        );
    }

    #[test]
    fn invalid_date_is_named() {
        let body = br#"{"id":"1187","employmentHistoryStatus":"Terminated","terminationDate":"12/01/2026"}"#;
        let error = adapter().parse_worker("1187", body);
        assert!(matches!(error, Err(ParseError::InvalidValue { field: "/terminationDate", .. })));
    }

    #[test]
    fn legacy_body_names_each_employee() {
        let body = br#"{"employees":[{"id":"7","action":"Updated","timestamp":"t","changedFields":["status"],"fields":{}},{"id":"8","action":"Deleted","timestamp":"t","changedFields":[],"fields":{}}]}"#;
        let ids: Vec<String> =
            adapter().notices(body).unwrap_or_default().into_iter().map(|n| n.worker_id).collect();
        assert_eq!(ids, ["7", "8"]);
    }
}

//! Gusto: partner-app webhooks signed with HMAC-SHA256 under the subscription's
//! verification token, and the terminations API.
//!
//! `employee.terminated` fires when a termination is created and
//! `employee.termination_effective` when it takes effect. Neither carries the date, so
//! the worker is read back with `GET /v1/employees/{uuid}/terminations`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json as json_value};

use super::{VendorAdapter, VendorSettings, date_at, json, required_text, text_at};
use crate::auth::{
    Credentials, Delivery, HmacAlgorithm, TagEncoding, Verified, header, verify_hmac,
};
use crate::effective::end_of_day;
use crate::error::{ParseError, Rejection};
use crate::model::{
    ApiMethod, ApiRequest, EmploymentStatus, Notice, WorkerPage, WorkerRecord, encode_segment,
};
use crate::vendors::Vendor;

/// The header with the hex HMAC-SHA256 tag.
pub const SIGNATURE_HEADER: &str = "x-gusto-signature";

/// Employees per page of the list; Gusto's `per` parameter.
pub const PAGE_SIZE: usize = 100;

const WEBHOOK: &str = "Gusto webhook body";
const WORKER: &str = "Gusto terminations response";
const LIST: &str = "Gusto employees response";

/// The first request of a new subscription: Gusto posts the verification token, unsigned,
/// and the subscription stays unverified until the token is sent back.
#[derive(Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The subscription.
    pub subscription_uuid: String,
    /// The token, which is also the key of every later signature.
    pub verification_token: String,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("subscription_uuid", &self.subscription_uuid)
            .field("verification_token", &"<redacted>")
            .finish()
    }
}

/// Returns the handshake when `body` is one: a JSON object with `verification_token` and
/// `webhook_subscription_uuid` and no `event_type`.
pub fn handshake(body: &[u8]) -> Option<Handshake> {
    let body: Value = serde_json::from_slice(body).ok()?;
    if body.get("event_type").is_some() {
        return None;
    }
    Some(Handshake {
        subscription_uuid: text_at(&body, "/webhook_subscription_uuid")?,
        verification_token: text_at(&body, "/verification_token")?,
    })
}

/// Builds the request that completes the handshake:
/// `PUT /v1/webhook_subscriptions/{uuid}/verify` with the token.
pub fn verify_subscription_request(handshake: &Handshake) -> ApiRequest {
    ApiRequest {
        method: ApiMethod::Put,
        path: format!(
            "/v1/webhook_subscriptions/{}/verify",
            encode_segment(&handshake.subscription_uuid)
        ),
        json: Some(json_value!({ "verification_token": handshake.verification_token })),
    }
}

/// The Gusto adapter of one tenant.
#[derive(Debug)]
pub struct Gusto {
    settings: VendorSettings,
}

impl Gusto {
    /// Builds the adapter.
    pub fn new(settings: VendorSettings) -> Self {
        Self { settings }
    }
}

impl VendorAdapter for Gusto {
    fn vendor(&self) -> Vendor {
        Vendor::Gusto
    }

    fn verify(
        &self,
        delivery: &Delivery<'_>,
        credentials: &Credentials,
        _now: DateTime<Utc>,
    ) -> Result<Verified, Rejection> {
        // Gusto signs no timestamp; `uuid` deduplicates replays and retries.
        let signature = header(delivery.headers, SIGNATURE_HEADER)?;
        verify_hmac(
            credentials,
            HmacAlgorithm::Sha256,
            TagEncoding::Hex,
            SIGNATURE_HEADER,
            signature,
            &[delivery.body],
        )
    }

    fn notices(&self, body: &[u8]) -> Result<Vec<Notice>, ParseError> {
        let body = json(body, WEBHOOK)?;
        let event = required_text(&body, "/event_type", WEBHOOK)?;
        let entity_type = text_at(&body, "/entity_type").unwrap_or_default();
        if !entity_type.eq_ignore_ascii_case("employee") {
            return Ok(Vec::new());
        }
        let worker_id = required_text(&body, "/entity_uuid", WEBHOOK)?;
        // `uuid` exists since the API version of February 2024; older versions get the
        // fields Gusto suggests instead.
        let dedupe_key = text_at(&body, "/uuid").or_else(|| {
            let timestamp = text_at(&body, "/timestamp").unwrap_or_default();
            Some(format!("{worker_id}/{event}/{timestamp}"))
        });
        Ok(vec![Notice { worker_id, event, dedupe_key }])
    }

    fn worker_request(&self, worker_id: &str) -> ApiRequest {
        ApiRequest::get(format!("/v1/employees/{}/terminations", encode_segment(worker_id)))
    }

    fn parse_worker(
        &self,
        worker_id: &str,
        body: &[u8],
    ) -> Result<Option<WorkerRecord>, ParseError> {
        let body = json(body, WORKER)?;
        let terminations = body
            .as_array()
            .ok_or(ParseError::MissingField { what: WORKER, field: "(array of terminations)" })?;
        // A cancelled termination is deleted from the list, so any entry counts, scheduled
        // (`active` false) or in effect. The latest date wins.
        let mut latest = None;
        for termination in terminations {
            let date = date_at(termination, "/effective_date", WORKER)?
                .ok_or(ParseError::MissingField { what: WORKER, field: "/effective_date" })?;
            if latest.is_none_or(|latest| date > latest) {
                latest = Some(date);
            }
        }
        let zone = self.settings.time_zone;
        // `effective_date` is the last day worked: employment ends at the next midnight.
        let (status, status_raw) = match latest {
            Some(date) => (
                EmploymentStatus::Terminated { effective_at: end_of_day(date, zone), date },
                "terminated",
            ),
            None => (EmploymentStatus::Active, "active"),
        };
        Ok(Some(WorkerRecord {
            worker_id: worker_id.to_owned(),
            status,
            status_raw: status_raw.to_owned(),
            time_zone: zone,
            email: None,
            reason: None,
        }))
    }

    fn list_request(&self, cursor: Option<&str>, _since: DateTime<Utc>) -> ApiRequest {
        let company = self.settings.company_id.as_deref().unwrap_or_default();
        let page = cursor.unwrap_or("1");
        ApiRequest::get(format!(
            "/v1/companies/{}/employees?terminated=true&page={}&per={PAGE_SIZE}",
            encode_segment(company),
            encode_segment(page)
        ))
    }

    fn parse_list(&self, cursor: Option<&str>, body: &[u8]) -> Result<WorkerPage, ParseError> {
        let body = json(body, LIST)?;
        let employees = body
            .as_array()
            .ok_or(ParseError::MissingField { what: LIST, field: "(array of employees)" })?;
        let worker_ids: Vec<String> =
            employees.iter().filter_map(|employee| text_at(employee, "/uuid")).collect();
        let page: u32 = cursor.and_then(|c| c.parse().ok()).unwrap_or(1);
        let next_cursor = (employees.len() >= PAGE_SIZE).then(|| (page + 1).to_string());
        Ok(WorkerPage { worker_ids, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> Gusto {
        Gusto::new(VendorSettings::new(chrono_tz::America::New_York))
    }

    #[test]
    fn last_day_ends_at_next_local_midnight() {
        let body = br#"[{"uuid":"t1","employee_uuid":"e1","active":false,"effective_date":"2026-11-30","run_termination_payroll":false}]"#;
        let record = adapter().parse_worker("e1", body).ok().flatten();
        let expected = "2026-12-01T05:00:00Z".parse().ok();
        assert!(
            matches!(record.map(|r| r.status), Some(EmploymentStatus::Terminated { effective_at, .. }) if Some(effective_at) == expected)
        );
    }

    #[test]
    fn empty_list_is_active() {
        let record = adapter().parse_worker("e1", b"[]").ok().flatten();
        assert_eq!(record.map(|r| r.status), Some(EmploymentStatus::Active));
    }

    #[test]
    fn handshake_is_recognized() {
        let body = br#"{"verification_token":"tok","webhook_subscription_uuid":"sub-1"}"#;
        let found = handshake(body);
        assert_eq!(found.as_ref().map(|h| h.subscription_uuid.as_str()), Some("sub-1"));
        let request = found.map(|h| verify_subscription_request(&h));
        assert_eq!(request.map(|r| r.path), Some("/v1/webhook_subscriptions/sub-1/verify".into()));
        assert_eq!(handshake(br#"{"event_type":"employee.terminated","verification_token":"x","webhook_subscription_uuid":"y"}"#), None);
    }

    #[test]
    fn full_page_has_next_cursor() {
        let page: Vec<Value> =
            (0..PAGE_SIZE).map(|i| json_value!({ "uuid": i.to_string() })).collect();
        let body = serde_json::to_vec(&page).unwrap_or_default();
        let parsed = adapter().parse_list(Some("2"), &body).unwrap_or_default();
        assert_eq!(parsed.next_cursor.as_deref(), Some("3"));
        assert_eq!(parsed.worker_ids.len(), PAGE_SIZE);
    }
}

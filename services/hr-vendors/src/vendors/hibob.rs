//! HiBob (Bob): webhooks v2 signed with HMAC-SHA512, and the people API.
//!
//! `employee.left` fires at 00:00 on the lifecycle entry's effective date in the site's
//! time zone. Its body carries only `data.employeeId`, so the worker is read back with
//! `POST /v1/people/{id}`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json as json_value};

use super::{VendorAdapter, VendorSettings, date_at, json, required_text, text_at};
use crate::auth::{
    Credentials, Delivery, HmacAlgorithm, TagEncoding, Verified, header, verify_hmac,
};
use crate::effective::start_of_day;
use crate::error::{ParseError, Rejection};
use crate::model::{
    ApiMethod, ApiRequest, EmploymentStatus, Notice, WorkerPage, WorkerRecord, encode_segment,
};
use crate::vendors::Vendor;

/// The header with the base64 HMAC-SHA512 tag.
pub const SIGNATURE_HEADER: &str = "bob-signature";

/// The people fields Rollcall reads; HiBob returns only the fields requested.
const FIELDS: [&str; 7] = [
    "root.id",
    "root.email",
    "internal.status",
    "internal.lifecycleStatus",
    "internal.terminationDate",
    "internal.terminationReason",
    "work.site",
];

const WEBHOOK: &str = "HiBob webhook body";
const WORKER: &str = "HiBob people response";
const LIST: &str = "HiBob people search response";

/// The HiBob adapter of one tenant.
#[derive(Debug)]
pub struct HiBob {
    settings: VendorSettings,
}

impl HiBob {
    /// Builds the adapter.
    pub fn new(settings: VendorSettings) -> Self {
        Self { settings }
    }
}

impl VendorAdapter for HiBob {
    fn vendor(&self) -> Vendor {
        Vendor::HiBob
    }

    fn verify(
        &self,
        delivery: &Delivery<'_>,
        credentials: &Credentials,
        _now: DateTime<Utc>,
    ) -> Result<Verified, Rejection> {
        // Bob signs no timestamp, so there is no freshness window; replays are absorbed
        // by reading the worker back and deduplicating.
        let signature = header(delivery.headers, SIGNATURE_HEADER)?;
        verify_hmac(
            credentials,
            HmacAlgorithm::Sha512,
            TagEncoding::Base64,
            SIGNATURE_HEADER,
            signature,
            &[delivery.body],
        )
    }

    fn notices(&self, body: &[u8]) -> Result<Vec<Notice>, ParseError> {
        let body = json(body, WEBHOOK)?;
        let event = required_text(&body, "/type", WEBHOOK)?;
        let Some(worker_id) = text_at(&body, "/data/employeeId") else {
            // Company and list events name no employee.
            return Ok(Vec::new());
        };
        let company = text_at(&body, "/companyId").unwrap_or_default();
        let triggered = text_at(&body, "/triggeredAt").unwrap_or_default();
        Ok(vec![Notice {
            dedupe_key: Some(format!("{company}/{event}/{worker_id}/{triggered}")),
            event,
            worker_id,
        }])
    }

    fn worker_request(&self, worker_id: &str) -> ApiRequest {
        ApiRequest {
            method: ApiMethod::Post,
            path: format!("/v1/people/{}", encode_segment(worker_id)),
            json: Some(json_value!({ "fields": FIELDS, "humanReadable": "REPLACE" })),
        }
    }

    fn parse_worker(
        &self,
        worker_id: &str,
        body: &[u8],
    ) -> Result<Option<WorkerRecord>, ParseError> {
        let body = json(body, WORKER)?;
        let lifecycle = text_at(&body, "/internal/lifecycleStatus").unwrap_or_default();
        let status = text_at(&body, "/internal/status").unwrap_or_default();
        let date = date_at(&body, "/internal/terminationDate", WORKER)?;
        let zone = text_at(&body, "/work/site")
            .and_then(|site| self.settings.site_time_zones.get(&site).copied())
            .unwrap_or(self.settings.time_zone);
        // A scheduled termination keeps the lifecycle status `employed` until the date,
        // with the date already set, so the date alone decides.
        // NOTE: that HiBob clears `internal.terminationDate` on a rehire is assumed.
        let employment = match date {
            Some(date) => {
                EmploymentStatus::Terminated { effective_at: start_of_day(date, zone), date }
            }
            None if lifecycle.eq_ignore_ascii_case("terminated") => {
                return Err(ParseError::MissingField {
                    what: WORKER,
                    field: "/internal/terminationDate",
                });
            }
            None => EmploymentStatus::Active,
        };
        Ok(Some(WorkerRecord {
            worker_id: text_at(&body, "/id").unwrap_or_else(|| worker_id.to_owned()),
            status: employment,
            status_raw: if lifecycle.is_empty() { status } else { lifecycle },
            time_zone: zone,
            email: text_at(&body, "/email"),
            reason: text_at(&body, "/internal/terminationReason"),
        }))
    }

    fn list_request(&self, _cursor: Option<&str>, _since: DateTime<Utc>) -> ApiRequest {
        // HiBob has no "changed since" search, so the poll reads every worker, inactive
        // ones included.
        ApiRequest {
            method: ApiMethod::Post,
            path: "/v1/people/search".to_owned(),
            json: Some(json_value!({ "fields": ["root.id"], "showInactive": true })),
        }
    }

    fn parse_list(&self, _cursor: Option<&str>, body: &[u8]) -> Result<WorkerPage, ParseError> {
        let body = json(body, LIST)?;
        let employees = body
            .get("employees")
            .and_then(Value::as_array)
            .ok_or(ParseError::MissingField { what: LIST, field: "/employees" })?;
        let worker_ids = employees.iter().filter_map(|employee| text_at(employee, "/id")).collect();
        Ok(WorkerPage { worker_ids, next_cursor: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_zone_sets_midnight() {
        let mut settings = VendorSettings::new(chrono_tz::America::Los_Angeles);
        settings.site_time_zones.insert("Lakeside".into(), chrono_tz::America::New_York);
        let body = br#"{"id":"34","internal":{"lifecycleStatus":"terminated","terminationDate":"2026-12-01"},"work":{"site":"Lakeside"}}"#;
        let record = HiBob::new(settings).parse_worker("34", body).ok().flatten();
        let expected = "2026-12-01T05:00:00Z".parse().ok();
        assert!(
            matches!(record.map(|r| r.status), Some(EmploymentStatus::Terminated { effective_at, .. }) if Some(effective_at) == expected)
        );
    }

    #[test]
    fn unknown_site_uses_tenant_zone() {
        let settings = VendorSettings::new(chrono_tz::America::Los_Angeles);
        let body = br#"{"id":"34","internal":{"lifecycleStatus":"employed","terminationDate":"2026-12-01"},"work":{"site":"Elsewhere"}}"#;
        let record = HiBob::new(settings).parse_worker("34", body).ok().flatten();
        let expected = "2026-12-01T08:00:00Z".parse().ok();
        assert!(
            matches!(record.map(|r| r.status), Some(EmploymentStatus::Terminated { effective_at, .. }) if Some(effective_at) == expected)
        );
    }

    #[test]
    fn company_event_names_no_worker() {
        let settings = VendorSettings::new(chrono_tz::UTC);
        let body = br#"{"companyId":1,"type":"table.entry.created","data":{}}"#;
        assert_eq!(HiBob::new(settings).notices(body), Ok(Vec::new()));
    }
}

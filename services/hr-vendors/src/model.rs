//! The vendor-neutral values the adapters produce: the worker a delivery names, the
//! worker's employment read back from the vendor, and the API requests to read it.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// One worker that a delivery reports as changed: what the adapter maps a delivery to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The vendor's id of the worker, the key of the lookup.
    pub worker_id: String,
    /// The vendor's event name, such as `employee.left`, or the webhook kind where the
    /// vendor names none (`termination` for Paylocity's termination webhook).
    pub event: String,
    /// A key that is equal for two deliveries of the same vendor event: the vendor's
    /// event id where it has one, else the fields its documentation suggests, including a
    /// timestamp. `None` for vendors whose bodies have neither (Paychex, Paylocity,
    /// Rippling): two of their deliveries with the same body may be two changes, so each
    /// is kept, and reading the worker back makes a repeat harmless.
    pub dedupe_key: Option<String>,
}

/// A worker's employment as the vendor's API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmploymentStatus {
    /// Employed, with no termination on record.
    Active,
    /// Employment ends, or ended, at `effective_at`. A future instant is a scheduled
    /// termination.
    Terminated {
        /// The instant employment ends, computed as the vendor defines its date
        /// (`crate::effective`).
        effective_at: DateTime<Utc>,
        /// The date the vendor returned.
        date: NaiveDate,
    },
}

/// One worker read back from the vendor's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRecord {
    /// The vendor's id of the worker. Rollcall uses it as the HR employee id.
    pub worker_id: String,
    /// Active or terminated.
    pub status: EmploymentStatus,
    /// The vendor's own word for the status, such as `Terminated` or `T`.
    pub status_raw: String,
    /// The time zone in which the date was read: the site's or the tenant's.
    pub time_zone: Tz,
    /// Work e-mail address, when the response has one.
    pub email: Option<String>,
    /// The reason the vendor gives for the termination.
    pub reason: Option<String>,
}

/// One page of the vendor's worker list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkerPage {
    /// The vendor ids of the workers on the page.
    pub worker_ids: Vec<String>,
    /// The cursor of the next page, or `None` on the last page.
    pub next_cursor: Option<String>,
}

/// An HTTP method the vendor APIs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMethod {
    /// A read.
    Get,
    /// HiBob's people read and searches.
    Post,
    /// Gusto's subscription verification.
    Put,
    /// ADP's queue acknowledgement.
    Delete,
}

/// A request to a vendor's API, relative to the connection's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// The method.
    pub method: ApiMethod,
    /// The path and query, starting with `/`, with every id percent-encoded.
    pub path: String,
    /// A JSON body, for `POST` and `PUT`.
    pub json: Option<serde_json::Value>,
}

impl ApiRequest {
    /// Builds a `GET` request.
    pub fn get(path: String) -> Self {
        Self { method: ApiMethod::Get, path, json: None }
    }

    /// Returns the path without its query, for logs and errors.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }
}

/// Percent-encodes one path segment or query value, so that a vendor id cannot change
/// the path it is put into.
pub fn encode_segment(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

//! Rollcall's HR vendor adapters.
//!
//! No HR vendor's webhook carries the termination date, so a delivery is only a hint
//! that one worker changed. Each adapter implements [`VendorAdapter`]: it verifies a
//! delivery in the vendor's own scheme, maps it to the worker to look up, and builds and
//! parses the vendor's worker API requests (one worker, and the worker list for the daily
//! poll). The adapters do no I/O; [`client::VendorClient`] sends their requests with
//! retries, backoff and timeouts, pauses the connection after a 429 ([`throttle`]) and
//! reads a file-based API secret again for each use ([`secret`]).
//!
//! | vendor | delivery authenticity | lookup |
//! | --- | --- | --- |
//! | BambooHR | HMAC-SHA256 hex over body then `X-BambooHR-Timestamp` | `GET /api/v1/employees/{id}` |
//! | HiBob | HMAC-SHA512 base64 over the body (`Bob-Signature`) | `POST /v1/people/{id}` |
//! | Gusto | HMAC-SHA256 hex over the body, keyed by the verification token | `GET /v1/employees/{id}/terminations` |
//! | Paychex Flex | Basic, bearer or URL token | `GET /workers/{id}` |
//! | Paylocity | Basic, bearer or URL token, and the sender's networks | `GET /apiHub/coreHr/v1/companies/{company}/employees/{id}` |
//! | Rippling | bearer or URL token | `GET /workers/{id}` |
//! | ADP Workforce Now | none pushed: pulled from its event queue over mutual TLS | `GET /hr/v2/workers/{aoid}` |
//!
//! `docs/connectors/hr.md` documents each vendor: what the practice administrator sets up,
//! what Rollcall cannot see, and how the effective instant is computed.

pub mod auth;
pub mod client;
#[cfg(feature = "double")]
pub mod double;
pub mod effective;
pub mod error;
pub mod model;
pub mod secret;
pub mod throttle;
pub mod vendors;

pub use auth::{Credentials, Delivery, NamedSecret, StaticCredential, Verified};
pub use client::{ApiAuth, ClientOptions, VendorClient};
pub use error::{LookupError, ParseError, Rejection};
pub use model::{ApiMethod, ApiRequest, EmploymentStatus, Notice, WorkerPage, WorkerRecord};
pub use secret::{ApiSecret, SecretFileError};
pub use vendors::{Vendor, VendorAdapter, adapter};

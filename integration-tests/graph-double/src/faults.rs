//! Faults the double injects, the way Graph and the Microsoft identity platform fail.

use std::collections::VecDeque;
use std::time::Duration;

/// One fault that replaces the answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Throttling: `status` 429 or 503 with an optional `Retry-After` value, sent as given
    /// (`"2"`, `"0.5"`), or no header at all.
    Throttle {
        /// 429 or 503.
        status: u16,
        /// The `Retry-After` header value, if any.
        retry_after: Option<String>,
    },
    /// A server error with this status and a Graph error body.
    ServerError(u16),
    /// The response starts and the connection closes before the body ends.
    DropConnection,
    /// A `200` whose body is cut in the middle of the JSON, as a proxy that gives up does.
    TruncatePage,
}

/// A fault waiting in the queue, for the next request whose path contains `path_contains`
/// (every request when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedFault {
    /// A substring of the request path (after `/v1.0` or `/beta`), or `None` for any.
    pub path_contains: Option<String>,
    /// The fault.
    pub fault: Fault,
}

/// How an expired delta token is rejected. Directory objects answer `400` with
/// `syncStateNotFound`; other Graph resources answer `410 Gone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiredDelta {
    /// `400 Bad Request`, error code `syncStateNotFound`.
    BadRequest,
    /// `410 Gone`, error code `resyncRequired`.
    Gone,
}

/// The faults in effect.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// One-shot faults, consumed in order by matching requests.
    pub queue: VecDeque<ScriptedFault>,
    /// When set, every delta token is rejected this way.
    pub expired_delta: Option<ExpiredDelta>,
    /// When set, an access token is rejected with `401` after this many Graph requests,
    /// which is how a token that expires in the middle of a sync looks to the client.
    pub token_lifetime_requests: Option<u32>,
    /// A delay before every Graph answer, standing in for the network and Graph's own time.
    pub latency: Duration,
}

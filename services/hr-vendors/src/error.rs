//! The errors of the adapters and of the vendor API client.

/// The reason a delivery was rejected as not coming from the vendor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A header the vendor always sends is missing or not visible ASCII.
    #[error("the `{header}` header is missing or not visible ASCII")]
    MissingHeader {
        /// The header name.
        header: &'static str,
    },
    /// The signature header does not have the vendor's encoding or length.
    #[error("the `{header}` header is not {expected}")]
    MalformedSignature {
        /// The header name.
        header: &'static str,
        /// The encoding and length the vendor uses.
        expected: &'static str,
    },
    /// The timestamp header is not a whole number of seconds.
    #[error("the `{header}` header is not a whole number of Unix seconds")]
    MalformedTimestamp {
        /// The header name.
        header: &'static str,
    },
    /// The timestamp is older than the window.
    #[error("the `{header}` header is more than {window_seconds} seconds in the past")]
    ExpiredTimestamp {
        /// The header name.
        header: &'static str,
        /// The accepted age, in seconds.
        window_seconds: i64,
    },
    /// The timestamp is later than the clock allows.
    #[error("the `{header}` header is more than {window_seconds} seconds in the future")]
    FutureTimestamp {
        /// The header name.
        header: &'static str,
        /// The accepted skew, in seconds.
        window_seconds: i64,
    },
    /// No configured key produces the signature.
    #[error("the signature matches none of the configured keys")]
    SignatureMismatch,
    /// The delivery carries no credential of a configured kind.
    #[error("the delivery carries no `Authorization` header or URL token of a configured kind")]
    MissingCredential,
    /// The credential matches none of the configured ones.
    #[error("the credential matches none of the configured ones")]
    CredentialMismatch,
    /// The sender's address is outside the configured networks.
    #[error("the sender's address is outside the configured networks")]
    SourceNotAllowed,
    /// The connection has no key or credential for this vendor's scheme.
    #[error(
        "no key or credential is configured for this vendor's scheme; add one to the tenant's vendor settings"
    )]
    NotConfigured,
    /// The vendor does not push deliveries: Rollcall pulls them from its API.
    #[error("this vendor's events are pulled from its API, not received as webhooks")]
    NotPushed,
}

impl Rejection {
    /// Returns the reason as a short snake_case word, for problem bodies and metric labels.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::MissingHeader { .. } => "missing_header",
            Rejection::MalformedSignature { .. } => "malformed_signature",
            Rejection::MalformedTimestamp { .. } => "malformed_timestamp",
            Rejection::ExpiredTimestamp { .. } => "expired_timestamp",
            Rejection::FutureTimestamp { .. } => "future_timestamp",
            Rejection::SignatureMismatch => "signature_mismatch",
            Rejection::MissingCredential => "missing_credential",
            Rejection::CredentialMismatch => "credential_mismatch",
            Rejection::SourceNotAllowed => "source_not_allowed",
            Rejection::NotConfigured => "not_configured",
            Rejection::NotPushed => "not_pushed",
        }
    }
}

/// A vendor body that does not have the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not valid JSON or form data.
    #[error("the {what} is not valid {format}: {message}")]
    Syntax {
        /// The body's name, such as "HiBob webhook body" or "Gusto terminations response".
        what: &'static str,
        /// `JSON` or `form data`.
        format: &'static str,
        /// The parser's message.
        message: String,
    },
    /// A member the vendor documents is missing or empty.
    #[error("the {what} has no `{field}`")]
    MissingField {
        /// Which body.
        what: &'static str,
        /// The member, as a JSON pointer or form key.
        field: &'static str,
    },
    /// A member has a value outside the documented ones.
    #[error("the {what} has an invalid `{field}`: `{value}`")]
    InvalidValue {
        /// Which body.
        what: &'static str,
        /// The member.
        field: &'static str,
        /// The value, cut to 64 characters.
        value: String,
    },
}

impl ParseError {
    /// Builds [`ParseError::InvalidValue`], cutting the value so that a long or hostile
    /// value cannot flood a log line.
    pub fn invalid(what: &'static str, field: &'static str, value: &str) -> Self {
        ParseError::InvalidValue { what, field, value: value.chars().take(64).collect() }
    }
}

/// A failed call to a vendor's API.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The client options are invalid.
    #[error("invalid vendor API settings: {0}")]
    Config(String),
    /// The vendor rejected the credentials (401 or 403).
    #[error(
        "{vendor} rejected the API credentials with status {status}; check the tenant's vendor API credential"
    )]
    Unauthorized {
        /// The vendor.
        vendor: &'static str,
        /// 401 or 403.
        status: u16,
    },
    /// The worker does not exist, or not yet.
    #[error("{vendor} has no worker `{worker_id}` (yet)")]
    NotFound {
        /// The vendor.
        vendor: &'static str,
        /// The vendor's worker id.
        worker_id: String,
    },
    /// The vendor kept returning 429, or requested a wait longer than the client allows.
    #[error("{vendor} is rate limiting the API; retry after {retry_after_seconds} s")]
    RateLimited {
        /// The vendor.
        vendor: &'static str,
        /// The wait the vendor asked for last, in seconds.
        retry_after_seconds: u64,
    },
    /// The connection is paused after a 429, so the call sent no request.
    #[error(
        "{vendor} answered an earlier request with 429, so no request is sent for {retry_after_seconds} s"
    )]
    Paused {
        /// The vendor.
        vendor: &'static str,
        /// The time left until the pause ends, rounded up to whole seconds.
        retry_after_seconds: u64,
    },
    /// The API credential's secret file cannot be used.
    #[error("the {vendor} API credential is not usable: {source}; check the mounted secret file")]
    Credential {
        /// The vendor.
        vendor: &'static str,
        /// The problem with the file.
        source: crate::secret::SecretFileError,
    },
    /// The vendor returned a status the client does not retry, or kept failing.
    #[error("{vendor} answered {path} with status {status}")]
    Status {
        /// The vendor.
        vendor: &'static str,
        /// The request path, without its query.
        path: String,
        /// The HTTP status.
        status: u16,
    },
    /// The request failed or timed out before a complete response.
    #[error("request to {vendor} failed: {message}")]
    Network {
        /// The vendor.
        vendor: &'static str,
        /// The HTTP client's message.
        message: String,
    },
    /// The response does not have the documented shape.
    #[error("{vendor}: {source}")]
    Parse {
        /// The vendor.
        vendor: &'static str,
        /// The problem.
        source: ParseError,
    },
}

impl LookupError {
    /// Returns whether a later attempt may succeed without a change of configuration.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            LookupError::NotFound { .. }
                | LookupError::RateLimited { .. }
                | LookupError::Paused { .. }
                | LookupError::Network { .. }
                | LookupError::Status { status: 500..=599, .. }
        )
    }
}

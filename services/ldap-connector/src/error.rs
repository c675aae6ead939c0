//! Failures that stop one sync, by the stage they stopped it in.

use std::path::PathBuf;

/// The stage of a sync, the label of the error metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Reading the pinned CA file.
    Tls,
    /// TCP connect, TLS handshake, StartTLS.
    Connect,
    /// The simple bind.
    Bind,
    /// The paged search and the follow-up reads.
    Search,
    /// Connecting to, binding to and searching a server that a referral leads to.
    Referral,
    /// Splitting the snapshot and publishing it and the sync report.
    Publish,
}

impl Stage {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Tls => "tls",
            Stage::Connect => "connect",
            Stage::Bind => "bind",
            Stage::Search => "search",
            Stage::Referral => "referral",
            Stage::Publish => "publish",
        }
    }
}

/// A failed sync. Each message names the server or file and what to check.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The CA file cannot be read or contains no certificate.
    #[error("CA file `{path}`: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Reason it is invalid.
        reason: String,
    },
    /// The server cannot be reached or the TLS handshake failed.
    #[error(
        "cannot connect to `{url}`: {reason}; check the URL, that the server is up, and that its certificate is valid and signed by the CA in `ca_file`"
    )]
    Connect {
        /// The server.
        url: String,
        /// The underlying error.
        reason: String,
    },
    /// Connect, handshake and StartTLS took longer than allowed.
    #[error("cannot connect to `{url}`: no answer within {seconds} s (`connect_timeout_seconds`)")]
    ConnectTimeout {
        /// The server.
        url: String,
        /// The timeout.
        seconds: u64,
    },
    /// The server refused the bind.
    #[error(
        "the server `{url}` refused the bind as `{bind_dn}` (result code {rc}{text}); check the bind DN and the password file"
    )]
    Bind {
        /// The server.
        url: String,
        /// The DN bound as.
        bind_dn: String,
        /// LDAP result code (49 is invalid credentials).
        rc: u32,
        /// The server's diagnostic text, with a leading `: `, or empty.
        text: String,
    },
    /// An operation failed at the protocol level: connection lost, timeout, bad response.
    #[error("{operation} on `{url}` failed: {reason}; nothing was published")]
    Operation {
        /// The server.
        url: String,
        /// Operation (`bind`, `search page 3`).
        operation: String,
        /// The underlying error.
        reason: String,
    },
    /// The server returned an error result for the search.
    #[error(
        "the search of `{base}` on `{url}` ended with result code {rc}{text}: {hint}; nothing was published"
    )]
    SearchResult {
        /// The server.
        url: String,
        /// The search base.
        base: String,
        /// LDAP result code.
        rc: u32,
        /// The server's diagnostic text, with a leading `: `, or empty.
        text: String,
        /// Meaning of the code and the fix.
        hint: &'static str,
    },
    /// The server sent something that is not a search result entry.
    #[error("the server `{url}` sent a malformed {what}; nothing was published")]
    Malformed {
        /// The server.
        url: String,
        /// Description of the malformed part.
        what: &'static str,
    },
    /// A referral to a server in `referral_servers` could not be followed.
    #[error(
        "following the referral `{referral}` failed, so entries held by that server would be missing: {source}"
    )]
    Referral {
        /// The referral URL as the server returned it.
        referral: String,
        /// The failure on the referred server.
        source: Box<SyncError>,
    },
    /// Splitting or publishing failed.
    #[error("publishing to NATS failed: {reason}")]
    Publish {
        /// The underlying error.
        reason: String,
    },
}

impl SyncError {
    /// The stage the sync stopped in.
    pub fn stage(&self) -> Stage {
        match self {
            SyncError::CaFile { .. } => Stage::Tls,
            SyncError::Connect { .. } | SyncError::ConnectTimeout { .. } => Stage::Connect,
            SyncError::Bind { .. } => Stage::Bind,
            SyncError::Operation { operation, .. } if operation == "bind" => Stage::Bind,
            SyncError::Operation { .. }
            | SyncError::SearchResult { .. }
            | SyncError::Malformed { .. } => Stage::Search,
            SyncError::Referral { .. } => Stage::Referral,
            SyncError::Publish { .. } => Stage::Publish,
        }
    }
}

/// Formats the server's diagnostic text as `: text`, or nothing when it is empty.
pub(crate) fn server_text(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() { String::new() } else { format!(": {text}") }
}

/// What an LDAP result code of a search means, with the fix.
pub(crate) fn search_hint(rc: u32) -> &'static str {
    match rc {
        3 => "the server's time limit for the search was reached; raise it for the service account",
        4 => {
            "the server's size limit is lower than the directory, so the result is incomplete; raise the size limit for the service account (OpenLDAP `limits`, AD `MaxPageSize` applies per page only)"
        }
        10 => {
            "the base DN is held by another server (a referral); point `url` at that server or change `base_dn`"
        }
        11 => "an administrative limit was exceeded; raise the service account's limits",
        12 => "the server does not support the paged results control, which the connector requires",
        32 => "the base DN does not exist; check `base_dn`",
        50 => "the service account may not read this part of the directory; grant it read access",
        51..=53 => "the server is busy or unavailable; the next sync will try again",
        _ => "see the server's log for the cause",
    }
}

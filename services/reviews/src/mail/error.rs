//! The errors of review mail: invalid settings, failed sends and failed passes.

use rollcall_store::StoreError;

use crate::error::ReviewError;

/// A `mail.*` setting that cannot work. Each message names the key and the fix.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    /// The host is empty or not a host name.
    #[error(
        "`mail.smtp.host` is `{value}`; write the SMTP server's host name, such as `smtp.office365.com`"
    )]
    Host {
        /// The value written.
        value: String,
    },
    /// The port belongs to the other TLS mode.
    #[error("`mail.smtp.port` {port} does not match `mail.smtp.tls: {tls}`: {fix}")]
    PortMismatch {
        /// The port.
        port: u16,
        /// The TLS mode written.
        tls: &'static str,
        /// The fix.
        fix: &'static str,
    },
    /// Plain text to a server that is not on loopback.
    #[error(
        "`mail.smtp.tls: none` is accepted only for a server on loopback, and `{host}` is not; set `tls: starttls_required` or `implicit_tls`"
    )]
    PlainNotLoopback {
        /// The host written.
        host: String,
    },
    /// Credentials over plain text.
    #[error(
        "`mail.smtp.tls: none` would send the password in clear text; remove `username` and `password`, or use TLS"
    )]
    PlainWithCredentials,
    /// A user name without a password or the other way round.
    #[error(
        "`mail.smtp.{missing}` is missing; SMTP AUTH needs both `username` and `password` (or `password_file`)"
    )]
    Credentials {
        /// The key that is missing.
        missing: &'static str,
    },
    /// The password file does not hold UTF-8 text.
    #[error("`mail.smtp.password` is not UTF-8 text; check the file that `password_file` names")]
    PasswordNotText,
    /// The timeout is out of range.
    #[error("`mail.smtp.timeout_seconds` is {value}; write 1 to 300")]
    Timeout {
        /// The value written.
        value: u64,
    },
    /// The sender is not a mail address.
    #[error(
        "`mail.from` is `{value}`, which is not a mail address ({reason}); write one such as `Rollcall reviews <reviews@msp.example>`"
    )]
    From {
        /// The value written.
        value: String,
        /// The parser's reason.
        reason: String,
    },
    /// The UI URL is not https (or http on loopback).
    #[error(
        "`mail.ui_base_url` is `{value}`; write the review UI's https URL, such as `https://reviews.msp.example` (http only for loopback)"
    )]
    BaseUrl {
        /// The value written.
        value: String,
    },
    /// The review path does not name the campaign.
    #[error(
        "`mail.review_path` is `{value}`; write a path that starts with `/` and contains `{{campaign}}`"
    )]
    ReviewPath {
        /// The value written.
        value: String,
    },
    /// The claim timeout is not well above the SMTP timeout, or longer than a day.
    #[error(
        "`mail.claim_timeout_seconds` is {claim}; write more than twice `mail.smtp.timeout_seconds` ({smtp}), so a send still running is not taken over and sent twice, and at most 86400 (a day), so a stopped sender's mail is not held longer"
    )]
    ClaimTimeout {
        /// The claim timeout written.
        claim: u64,
        /// The SMTP timeout.
        smtp: u64,
    },
    /// The certificate authority file cannot be read or contains no certificate.
    #[error("cannot use `mail.smtp.ca_file` `{path}`: {reason}")]
    CaFile {
        /// The path written.
        path: String,
        /// The reason.
        reason: String,
    },
    /// lettre rejected the TLS settings.
    #[error("cannot set up TLS for `{host}`: {reason}")]
    Tls {
        /// The host.
        host: String,
        /// lettre's reason.
        reason: String,
    },
}

/// The class of a failed send, by what an operator does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SendErrorClass {
    /// The server refused SMTP AUTH for the mailbox or tenant (Microsoft 365 `535 5.7.139`).
    AuthDisabledForTenant,
    /// The server rejected the user name or password (`535` otherwise).
    BadCredentials,
    /// The TLS handshake failed, such as implicit TLS against a STARTTLS port.
    Tls,
    /// The server does not offer STARTTLS, and the client does not go on in plain text.
    StarttlsUnavailable,
    /// The server did not reply within the timeout, such as STARTTLS against an
    /// implicit-TLS port.
    Timeout,
    /// A `4xx` reply, or a connection that failed or closed: retried later.
    Transient,
    /// Another `5xx` reply, such as a rejected recipient.
    Rejected,
}

impl SendErrorClass {
    /// Returns the label used in logs, metrics and the mail record.
    pub fn as_str(self) -> &'static str {
        match self {
            SendErrorClass::AuthDisabledForTenant => "smtp_auth_disabled_for_tenant",
            SendErrorClass::BadCredentials => "smtp_bad_credentials",
            SendErrorClass::Tls => "smtp_tls_mode_mismatch",
            SendErrorClass::StarttlsUnavailable => "smtp_starttls_unavailable",
            SendErrorClass::Timeout => "smtp_timeout",
            SendErrorClass::Transient => "smtp_transient",
            SendErrorClass::Rejected => "smtp_rejected",
        }
    }

    /// Reports whether the settings must change before any mail can go out, so the pass
    /// stops instead of failing every mail the same way.
    pub fn is_config_error(self) -> bool {
        matches!(
            self,
            SendErrorClass::AuthDisabledForTenant
                | SendErrorClass::BadCredentials
                | SendErrorClass::Tls
                | SendErrorClass::StarttlsUnavailable
        )
    }
}

/// A send that failed.
#[derive(Debug, thiserror::Error)]
#[error("sending mail through `{server}` failed ({class}): {detail}. {hint}", class = class.as_str())]
pub struct SendError {
    /// The class.
    pub class: SendErrorClass,
    /// `host:port` of the server.
    pub server: String,
    /// The client's or server's words.
    pub detail: String,
    /// The operator's next step.
    pub hint: &'static str,
}

/// A mail pass that could not run or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Reading or recording in the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tenant's configuration is missing or invalid.
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// The SMTP settings are wrong or refused: every further send would fail the same
    /// way, so the pass stopped.
    #[error("review mail stopped: {0}")]
    Config(SendError),
}

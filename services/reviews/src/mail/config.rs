//! `mail.*` of the engine configuration: the SMTP server, the sender address and the
//! links to the review pages. The engine reads it through `rollcall-runtime`, so the
//! password can come from `mail.smtp.password_file` and prints as `[redacted]`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use rollcall_runtime::Secret;
use serde::Deserialize;

use super::error::MailConfigError;

/// The SMTP port for implicit TLS (SMTPS, RFC 8314).
pub const SMTPS_PORT: u16 = 465;
/// The SMTP submission port, where the client upgrades with STARTTLS (RFC 6409).
pub const SUBMISSION_PORT: u16 = 587;
/// The SMTP relay port, used here only for a plain relay on loopback.
pub const RELAY_PORT: u16 = 25;
/// The maximum claim timeout: one day. A mail claimed by a sender that stopped waits this
/// long at most.
pub const MAX_CLAIM_TIMEOUT_SECONDS: u64 = 86_400;

/// `mail:`. Without this section the engine sends no mail.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// The SMTP server.
    pub smtp: SmtpConfig,
    /// The sender, such as `Rollcall reviews <reviews@msp.example>`.
    pub from: String,
    /// The base URL of the review UI, such as `https://reviews.msp.example`. Links in the
    /// mails are this URL followed by `review_path`.
    pub ui_base_url: String,
    /// The path of a reviewer's page of one campaign, with `{tenant}` and `{campaign}`
    /// (the campaign's id) replaced.
    #[serde(default = "default_review_path")]
    pub review_path: String,
    /// Seconds after which a claim of a sender that stopped mid-send is taken over by
    /// another sender. Longer than the SMTP timeout, so a slow send is not duplicated.
    #[serde(default = "default_claim_timeout_seconds")]
    pub claim_timeout_seconds: u64,
}

/// `mail.smtp:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The server's host name, which its certificate must name.
    pub host: String,
    /// The port: 465 for `implicit_tls`, 587 for `starttls_required` and 25 for `none`
    /// unless set.
    #[serde(default)]
    pub port: Option<u16>,
    /// The encryption of the connection. There is no default, because a wrong guess either
    /// fails with an obscure TLS error or hangs until the timeout.
    pub tls: TlsMode,
    /// The user name for SMTP AUTH.
    #[serde(default)]
    pub username: Option<String>,
    /// The password for SMTP AUTH; set `password_file` to read it from a file.
    #[serde(default)]
    pub password: Option<Secret>,
    /// A PEM file of certificate authorities to trust beside the Mozilla roots, for a
    /// relay with a private certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Seconds one send may take, from connecting to the server's reply to the message.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

/// The encryption of the SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// TLS from the first byte (SMTPS), normally on port 465.
    ImplicitTls,
    /// A plain connection upgraded with STARTTLS before anything else is sent, normally
    /// on port 587. A server that does not offer STARTTLS is an error; the client never
    /// goes on in plain text.
    StarttlsRequired,
    /// No encryption. Accepted only for a server on loopback, such as a relay in the
    /// same pod, and never with credentials.
    None,
}

impl TlsMode {
    /// Returns the name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::ImplicitTls => "implicit_tls",
            TlsMode::StarttlsRequired => "starttls_required",
            TlsMode::None => "none",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            TlsMode::ImplicitTls => SMTPS_PORT,
            TlsMode::StarttlsRequired => SUBMISSION_PORT,
            TlsMode::None => RELAY_PORT,
        }
    }
}

impl MailConfig {
    /// Checks the settings that serde cannot: port and TLS mode together, plain text
    /// only on loopback, credentials in pairs, the addresses and the URL.
    pub fn validate(&self) -> Result<(), MailConfigError> {
        self.smtp.validate()?;
        self.from.parse::<Mailbox>().map_err(|error| MailConfigError::From {
            value: self.from.clone(),
            reason: error.to_string(),
        })?;
        let base = self.ui_base_url.trim();
        let secure = base.starts_with("https://");
        let local_http = base
            .strip_prefix("http://")
            .map(|rest| is_loopback(host_of_authority(rest)))
            .unwrap_or(false);
        if !(secure || local_http) || base.len() <= "https://".len() {
            return Err(MailConfigError::BaseUrl { value: self.ui_base_url.clone() });
        }
        if !self.review_path.starts_with('/') || !self.review_path.contains("{campaign}") {
            return Err(MailConfigError::ReviewPath { value: self.review_path.clone() });
        }
        if self.claim_timeout_seconds <= self.smtp.timeout_seconds.saturating_mul(2)
            || self.claim_timeout_seconds > MAX_CLAIM_TIMEOUT_SECONDS
        {
            return Err(MailConfigError::ClaimTimeout {
                claim: self.claim_timeout_seconds,
                smtp: self.smtp.timeout_seconds,
            });
        }
        Ok(())
    }

    /// Returns the link to `tenant`'s campaign `campaign` for its reviewers.
    pub fn review_url(&self, tenant: &str, campaign: &str) -> String {
        let path = self.review_path.replace("{tenant}", tenant).replace("{campaign}", campaign);
        format!("{}{}", self.ui_base_url.trim().trim_end_matches('/'), path)
    }

    /// Returns the claim timeout as a duration.
    pub fn claim_timeout(&self) -> Duration {
        Duration::from_secs(self.claim_timeout_seconds)
    }
}

impl SmtpConfig {
    /// Returns the port, from the setting or the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or_else(|| self.tls.default_port())
    }

    /// Returns the SMTP timeout as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    fn validate(&self) -> Result<(), MailConfigError> {
        let host = self.host.trim();
        if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
            return Err(MailConfigError::Host { value: self.host.clone() });
        }
        let port = self.port();
        match (self.tls, port) {
            (TlsMode::StarttlsRequired, SMTPS_PORT) => {
                return Err(MailConfigError::PortMismatch {
                    port,
                    tls: self.tls.as_str(),
                    fix: "port 465 uses implicit TLS (SMTPS); set `tls: implicit_tls`, or use port 587 for STARTTLS",
                });
            }
            (TlsMode::ImplicitTls, SUBMISSION_PORT) => {
                return Err(MailConfigError::PortMismatch {
                    port,
                    tls: self.tls.as_str(),
                    fix: "port 587 expects STARTTLS; set `tls: starttls_required`, or use port 465 for implicit TLS",
                });
            }
            _ => {}
        }
        if self.tls == TlsMode::None {
            if !is_loopback(host) {
                return Err(MailConfigError::PlainNotLoopback { host: self.host.clone() });
            }
            if self.username.is_some() || self.password.is_some() {
                return Err(MailConfigError::PlainWithCredentials);
            }
        }
        match (&self.username, &self.password) {
            (Some(_), None) => return Err(MailConfigError::Credentials { missing: "password" }),
            (None, Some(_)) => return Err(MailConfigError::Credentials { missing: "username" }),
            _ => {}
        }
        if let Some(password) = &self.password
            && password.expose_str().is_none()
        {
            return Err(MailConfigError::PasswordNotText);
        }
        if !(1..=300).contains(&self.timeout_seconds) {
            return Err(MailConfigError::Timeout { value: self.timeout_seconds });
        }
        Ok(())
    }
}

/// Reports whether `host` names the loopback interface.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// Returns the host of `authority/path`, without user, port or path.
fn host_of_authority(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

fn default_review_path() -> String {
    "/tenants/{tenant}/campaigns/{campaign}".into()
}

/// Fifteen seconds: a server that accepts the connection but never replies, such as
/// STARTTLS attempted on an implicit-TLS port, fails a send within this time. A send of
/// one small digest takes a few round trips, far less than this.
fn default_timeout_seconds() -> u64 {
    15
}

/// Ten minutes: far above a send's worst case (a connect and a few commands, each
/// bounded by the SMTP timeout), so only a sender that stopped loses its claim.
fn default_claim_timeout_seconds() -> u64 {
    600
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(host: &str, port: Option<u16>, tls: TlsMode) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port,
            tls,
            username: None,
            password: None,
            ca_file: None,
            timeout_seconds: default_timeout_seconds(),
        }
    }

    fn config(smtp: SmtpConfig) -> MailConfig {
        MailConfig {
            smtp,
            from: "Rollcall reviews <reviews@msp.example>".into(),
            ui_base_url: "https://reviews.msp.example/".into(),
            review_path: default_review_path(),
            claim_timeout_seconds: default_claim_timeout_seconds(),
        }
    }

    #[test]
    fn ports_follow_the_mode() {
        assert_eq!(smtp("smtp.example", None, TlsMode::ImplicitTls).port(), 465);
        assert_eq!(smtp("smtp.example", None, TlsMode::StarttlsRequired).port(), 587);
        assert_eq!(smtp("127.0.0.1", None, TlsMode::None).port(), 25);
        assert_eq!(smtp("smtp.example", Some(2525), TlsMode::StarttlsRequired).port(), 2525);
    }

    #[test]
    fn mode_and_port_mismatch_is_rejected() {
        let error = config(smtp("mail.example", Some(465), TlsMode::StarttlsRequired))
            .validate()
            .unwrap_err();
        assert!(matches!(error, MailConfigError::PortMismatch { port: 465, .. }), "{error}");
        assert!(error.to_string().contains("implicit_tls"), "{error}");
        let error =
            config(smtp("smtp.example", Some(587), TlsMode::ImplicitTls)).validate().unwrap_err();
        assert!(matches!(error, MailConfigError::PortMismatch { port: 587, .. }), "{error}");
        assert!(error.to_string().contains("starttls_required"), "{error}");
        config(smtp("smtp.example", Some(587), TlsMode::StarttlsRequired)).validate().unwrap();
        config(smtp("smtp.example", None, TlsMode::ImplicitTls)).validate().unwrap();
    }

    #[test]
    fn plain_only_on_loopback_without_credentials() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            config(smtp(host, Some(2525), TlsMode::None)).validate().unwrap();
        }
        let error = config(smtp("relay.internal", Some(25), TlsMode::None)).validate().unwrap_err();
        assert!(matches!(error, MailConfigError::PlainNotLoopback { .. }), "{error}");
        let mut with_user = smtp("127.0.0.1", Some(25), TlsMode::None);
        with_user.username = Some("rollcall".into());
        with_user.password = Some(Secret::new("synthetic"));
        let error = config(with_user).validate().unwrap_err();
        assert!(matches!(error, MailConfigError::PlainWithCredentials), "{error}");
    }

    #[test]
    fn credentials_come_in_pairs() {
        let mut half = smtp("smtp.example", None, TlsMode::StarttlsRequired);
        half.username = Some("reviews@clinic.example".into());
        let error = config(half).validate().unwrap_err();
        assert!(matches!(error, MailConfigError::Credentials { missing: "password" }), "{error}");
    }

    #[test]
    fn addresses_and_links_are_checked() {
        let mut bad_from = config(smtp("smtp.example", None, TlsMode::ImplicitTls));
        bad_from.from = "not an address".into();
        assert!(matches!(bad_from.validate(), Err(MailConfigError::From { .. })));

        for base in ["reviews.msp.example", "http://reviews.msp.example", "https://"] {
            let mut bad = config(smtp("smtp.example", None, TlsMode::ImplicitTls));
            bad.ui_base_url = base.into();
            assert!(matches!(bad.validate(), Err(MailConfigError::BaseUrl { .. })), "{base}");
        }
        let mut local = config(smtp("smtp.example", None, TlsMode::ImplicitTls));
        local.ui_base_url = "http://127.0.0.1:8080".into();
        local.validate().unwrap();

        let mut no_campaign = config(smtp("smtp.example", None, TlsMode::ImplicitTls));
        no_campaign.review_path = "/reviews".into();
        assert!(matches!(no_campaign.validate(), Err(MailConfigError::ReviewPath { .. })));
    }

    #[test]
    fn claim_timeout_is_bounded() {
        for claim in [30, 86_401, u64::MAX] {
            let mut bad = config(smtp("smtp.example", None, TlsMode::ImplicitTls));
            bad.claim_timeout_seconds = claim;
            let error = bad.validate().unwrap_err();
            assert!(matches!(error, MailConfigError::ClaimTimeout { .. }), "{claim}: {error}");
        }
    }

    #[test]
    fn review_url_joins_base_and_path() {
        let config = config(smtp("smtp.example", None, TlsMode::ImplicitTls));
        assert_eq!(
            config.review_url("clinic-one", "7d3c"),
            "https://reviews.msp.example/tenants/clinic-one/campaigns/7d3c"
        );
    }

    #[test]
    fn password_is_redacted() {
        let mut with_password = smtp("smtp.example", None, TlsMode::StarttlsRequired);
        with_password.username = Some("reviews@clinic.example".into());
        with_password.password = Some(Secret::new("synthetic-password-1"));
        let printed = format!("{:?}", config(with_password));
        assert!(!printed.contains("synthetic-password-1"), "{printed}");
        assert!(printed.contains("[redacted]"), "{printed}");
    }
}

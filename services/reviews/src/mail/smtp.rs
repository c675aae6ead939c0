//! The SMTP client: lettre's tokio transport over rustls, built from [`SmtpConfig`], and
//! the classes of its failures.
//!
//! The TLS mode maps onto lettre one to one: `implicit_tls` is `Tls::Wrapper` (what
//! lettre's `relay()` builds), `starttls_required` is `Tls::Required` (what
//! `starttls_relay()` builds), and `none` is `Tls::None`. `Tls::Opportunistic` is never
//! used, because it goes on in plain text, AUTH included, when the server does not offer
//! STARTTLS. The port is set after the mode, so a port never changes the mode.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::config::{SmtpConfig, TlsMode};
use super::error::{MailConfigError, SendError, SendErrorClass};

/// An SMTP client for one server.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    server: String,
    /// The bound on one whole send or check. lettre 0.11's tokio transport applies its own
    /// timeout to the TCP connect only, and then waits for each reply without a limit.
    timeout: Duration,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("server", &self.server).finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Builds the client. Nothing connects yet; each send opens its own connection.
    pub fn new(config: &SmtpConfig) -> Result<SmtpMailer, MailConfigError> {
        let host = config.host.trim();
        let port = config.port();
        let tls = match config.tls {
            TlsMode::ImplicitTls => Tls::Wrapper(tls_parameters(host, config)?),
            TlsMode::StarttlsRequired => Tls::Required(tls_parameters(host, config)?),
            TlsMode::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .tls(tls)
            .port(port)
            .timeout(Some(config.timeout()));
        if let (Some(username), Some(password)) = (&config.username, &config.password) {
            let password = password.expose_str().ok_or(MailConfigError::PasswordNotText)?;
            builder = builder.credentials(Credentials::new(username.clone(), password.to_owned()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            server: format!("{host}:{port}"),
            timeout: config.timeout(),
        })
    }

    /// Returns `host:port` of the server.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Connects, upgrades to TLS, signs in when credentials are set, and sends `NOOP`,
    /// without sending mail: the settings check at start.
    pub async fn check(&self) -> Result<(), SendError> {
        let Ok(outcome) =
            tokio::time::timeout(self.timeout, self.transport.test_connection()).await
        else {
            return Err(self.timed_out());
        };
        match outcome {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError {
                class: SendErrorClass::Transient,
                server: self.server.clone(),
                detail: "the server did not accept `NOOP`".into(),
                hint: "check that the server is an SMTP server",
            }),
            Err(error) => Err(classify(&self.server, &error)),
        }
    }

    /// Sends `message` to the recipients of its envelope.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(classify(&self.server, &error)),
            Err(_) => Err(self.timed_out()),
        }
    }

    fn timed_out(&self) -> SendError {
        SendError {
            class: SendErrorClass::Timeout,
            server: self.server.clone(),
            detail: format!("no reply within {} seconds", self.timeout.as_secs()),
            hint: TIMEOUT_HINT,
        }
    }
}

/// The fix for a send that timed out.
const TIMEOUT_HINT: &str = "no reply within `mail.smtp.timeout_seconds`; STARTTLS against an implicit-TLS port (465) looks like this, so check `mail.smtp.tls` and the port";

/// Builds the TLS parameters: the Mozilla roots, plus the authorities of `ca_file`.
fn tls_parameters(host: &str, config: &SmtpConfig) -> Result<TlsParameters, MailConfigError> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(path) = &config.ca_file {
        let shown = path.display().to_string();
        let ca_error = |reason: String| MailConfigError::CaFile { path: shown.clone(), reason };
        let mut count = 0;
        for certificate in
            CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))?
        {
            let certificate = certificate.map_err(|e| ca_error(e.to_string()))?;
            let certificate =
                Certificate::from_der(certificate.to_vec()).map_err(|e| ca_error(e.to_string()))?;
            builder = builder.add_root_certificate(certificate);
            count += 1;
        }
        if count == 0 {
            return Err(ca_error("the file holds no PEM certificate".into()));
        }
    }
    builder
        .build_rustls()
        .map_err(|e| MailConfigError::Tls { host: host.to_owned(), reason: full_message(&e) })
}

/// Classifies a lettre error by what the operator does about it.
fn classify(server: &str, error: &lettre::transport::smtp::Error) -> SendError {
    let detail = full_message(error);
    let lower = detail.to_ascii_lowercase();
    let code = error.status().map(|code| code.to_string());
    let (class, hint) = if code.as_deref() == Some("535") && lower.contains("5.7.139") {
        (
            SendErrorClass::AuthDisabledForTenant,
            "the server refuses password sign-in (SMTP AUTH) for this mailbox or tenant; enable authenticated SMTP for the mailbox, or send through a relay that accepts it",
        )
    } else if code.as_deref() == Some("535") {
        (
            SendErrorClass::BadCredentials,
            "the server rejected the user name or password; check `mail.smtp.username` and the password file",
        )
    } else if lower.contains("starttls is not supported") {
        (
            SendErrorClass::StarttlsUnavailable,
            "the server does not offer STARTTLS, so nothing was sent; check the port, or set `tls: implicit_tls` if the server speaks TLS from the first byte",
        )
    } else if error.is_timeout() {
        (SendErrorClass::Timeout, TIMEOUT_HINT)
    } else if error.is_tls()
        || lower.contains("corrupt message")
        || lower.contains("invalidcontenttype")
    {
        (
            SendErrorClass::Tls,
            "the TLS handshake failed; implicit TLS against a STARTTLS port (587) looks like this, so check `mail.smtp.tls`, the port and the server's certificate",
        )
    } else if error.is_permanent() {
        (SendErrorClass::Rejected, "the server rejected the mail; its reply above gives the reason")
    } else {
        (SendErrorClass::Transient, "the mail is tried again at a later pass")
    };
    SendError { class, server: server.to_owned(), detail, hint }
}

/// Returns the error's message followed by the messages of its sources.
fn full_message(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_error_classes() {
        for class in [
            SendErrorClass::AuthDisabledForTenant,
            SendErrorClass::BadCredentials,
            SendErrorClass::Tls,
            SendErrorClass::StarttlsUnavailable,
        ] {
            assert!(class.is_config_error(), "{class:?}");
        }
        for class in [SendErrorClass::Transient, SendErrorClass::Timeout, SendErrorClass::Rejected]
        {
            assert!(!class.is_config_error(), "{class:?}");
        }
    }
}

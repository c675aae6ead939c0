//! The `nats` section that every service's configuration shares, and the connection
//! options it gives.
//!
//! TLS is required unless the server is on the loopback interface or `insecure` is set,
//! because the bus carries every practice's workforce data and the connection leaves the
//! pod. A `nats://` URL still gets TLS: the client upgrades the connection when the
//! server offers it and fails when it does not.

use std::net::IpAddr;
use std::path::PathBuf;

use async_nats::ConnectOptions;
use rollcall_runtime::Secret;
use serde::Deserialize;

/// `nats.*`: the server, its credentials and TLS, and the bus names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// Server URL, such as `tls://nats.nats.svc:4222`; several are separated by commas.
    pub url: String,
    /// Token for the server, when it requires one (`token_file` for a mounted secret).
    #[serde(default)]
    pub token: Option<Secret>,
    /// First token of every subject. Change the default `rollcall` only when several
    /// installations share one NATS account, or in tests.
    #[serde(default = "default_subject_prefix")]
    pub subject_prefix: String,
    /// First part of every stream name, `ROLLCALL` by default.
    #[serde(default = "default_stream_prefix")]
    pub stream_prefix: String,
    /// PEM file of the CA certificates that may sign the server's certificate. When set,
    /// only these are trusted; otherwise the system's roots are.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for servers that verify clients; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// Private key (PEM) of `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Allows a plain-text connection to a server that is not on loopback. Only for a lab:
    /// the service logs a warning at start.
    #[serde(default)]
    pub insecure: bool,
    /// Copies of each stream that a clustered JetStream keeps: 1 on a single server, 3 (or
    /// 5) on a cluster, so that losing one NATS node loses no accepted message. Every
    /// service that creates the streams sets this number at start, so all must agree.
    #[serde(default = "default_stream_replicas")]
    pub stream_replicas: usize,
}

fn default_stream_replicas() -> usize {
    1
}

fn default_subject_prefix() -> String {
    "rollcall".to_owned()
}

fn default_stream_prefix() -> String {
    "ROLLCALL".to_owned()
}

/// A `nats` section that cannot give a working connection.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NatsConfigError {
    /// The URL has no host or an unknown scheme.
    #[error(
        "nats.url `{url}` is not a NATS server URL; write it as tls://host:port or nats://host:port"
    )]
    Url {
        /// The URL part that failed.
        url: String,
    },
    /// A client certificate without its key, or a key without its certificate.
    #[error("nats.cert_file and nats.key_file go together; set both or neither")]
    ClientCertificate,
    /// TLS files given while TLS is switched off.
    #[error("nats.insecure is true but nats.{key} is set; remove one of them")]
    InsecureWithTls {
        /// The TLS key that is set.
        key: &'static str,
    },
    /// A replica count JetStream does not accept.
    #[error(
        "nats.stream_replicas is {replicas}; JetStream keeps 1 to 5 copies of a stream, use 1 on a single server and 3 on a cluster"
    )]
    StreamReplicas {
        /// The configured count.
        replicas: usize,
    },
    /// The token is not UTF-8 text.
    #[error("nats.token is not UTF-8 text; NATS tokens are text")]
    TokenNotText,
}

impl NatsConfig {
    /// Creates a configuration for `url` with the default names and no credentials.
    pub fn new(url: impl Into<String>) -> NatsConfig {
        NatsConfig {
            url: url.into(),
            token: None,
            subject_prefix: default_subject_prefix(),
            stream_prefix: default_stream_prefix(),
            ca_file: None,
            cert_file: None,
            key_file: None,
            insecure: false,
            stream_replicas: default_stream_replicas(),
        }
    }

    /// Returns the URL with the user and password of each server removed, for logs and
    /// messages.
    pub fn display_url(&self) -> String {
        self.url
            .split(',')
            .map(|server| match server.split_once("://") {
                Some((scheme, rest)) => {
                    format!("{scheme}://{}", rest.rsplit_once('@').map_or(rest, |(_, host)| host))
                }
                None => server.rsplit_once('@').map_or(server, |(_, host)| host).to_owned(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reports whether the connection may be plain text: every server is on loopback, or
    /// `insecure` is set.
    ///
    /// # Errors
    ///
    /// [`NatsConfigError::Url`] when a URL has no host.
    pub fn plain_text_allowed(&self) -> Result<bool, NatsConfigError> {
        if self.insecure {
            return Ok(true);
        }
        for url in self.url.split(',') {
            if !is_loopback(host_of(url)?) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Builds the connection options: the client name, the token, the CA and client
    /// certificate, and TLS required unless [`NatsConfig::plain_text_allowed`]. A
    /// `tls://` URL always requires TLS.
    ///
    /// # Errors
    ///
    /// A [`NatsConfigError`] naming the key to fix.
    pub fn connect_options(&self, client_name: &str) -> Result<ConnectOptions, NatsConfigError> {
        if !(1..=5).contains(&self.stream_replicas) {
            return Err(NatsConfigError::StreamReplicas { replicas: self.stream_replicas });
        }
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err(NatsConfigError::ClientCertificate);
        }
        if self.insecure {
            for (key, set) in
                [("ca_file", self.ca_file.is_some()), ("cert_file", self.cert_file.is_some())]
            {
                if set {
                    return Err(NatsConfigError::InsecureWithTls { key });
                }
            }
        }
        let mut options =
            ConnectOptions::new().name(client_name).require_tls(!self.plain_text_allowed()?);
        if let Some(token) = &self.token {
            let token = token.expose_str().ok_or(NatsConfigError::TokenNotText)?;
            options = options.token(token.to_owned());
        }
        if let Some(ca_file) = &self.ca_file {
            options = options.add_root_certificates(ca_file.clone());
        }
        if let (Some(cert), Some(key)) = (&self.cert_file, &self.key_file) {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        Ok(options)
    }
}

/// Extracts the host of one server URL: `tls://host:4222`, `nats://[::1]:4222` or `host:4222`.
fn host_of(url: &str) -> Result<&str, NatsConfigError> {
    let invalid = || NatsConfigError::Url { url: url.trim().to_owned() };
    let trimmed = url.trim();
    let rest = match trimmed.split_once("://") {
        Some(("nats" | "tls" | "ws" | "wss", rest)) => rest,
        Some(_) => return Err(invalid()),
        None => trimmed,
    };
    // Drop user information and the path, then the port.
    let authority = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let authority = authority.split('/').next().unwrap_or(authority);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or(bracketed)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    if host.is_empty() { Err(invalid()) } else { Ok(host) }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_url_drops_credentials() {
        let cases = [
            ("tls://nats.nats.svc:4222", "tls://nats.nats.svc:4222"),
            (
                "nats://user:secret@nats-0:4222,nats://user:secret@nats-1:4222",
                "nats://nats-0:4222,nats://nats-1:4222",
            ),
            ("token@127.0.0.1:4222", "127.0.0.1:4222"),
        ];
        for (url, expected) in cases {
            assert_eq!(NatsConfig::new(url).display_url(), expected, "{url}");
        }
    }

    #[test]
    fn loopback_servers_may_be_plain() {
        for url in ["nats://127.0.0.1:4222", "localhost:4222", "nats://[::1]:4222", "127.0.0.2"] {
            assert_eq!(NatsConfig::new(url).plain_text_allowed(), Ok(true), "{url}");
        }
    }

    #[test]
    fn remote_servers_need_tls() {
        for url in [
            "nats://nats.nats.svc:4222",
            "tls://10.0.0.5:4222",
            "nats://127.0.0.1:4222,nats://nats-1:4222",
            "nats://user:pass@nats.example:4222",
        ] {
            assert_eq!(NatsConfig::new(url).plain_text_allowed(), Ok(false), "{url}");
        }
    }

    #[test]
    fn insecure_allows_plain_text() {
        let mut config = NatsConfig::new("nats://nats.lab:4222");
        config.insecure = true;
        assert_eq!(config.plain_text_allowed(), Ok(true));
    }

    #[test]
    fn bad_urls_are_rejected() {
        for url in ["http://nats:4222", "nats://", "nats://:4222"] {
            assert!(
                matches!(
                    NatsConfig::new(url).plain_text_allowed(),
                    Err(NatsConfigError::Url { .. })
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn client_certificate_needs_its_key() {
        let mut config = NatsConfig::new("tls://nats:4222");
        config.cert_file = Some("client.pem".into());
        assert_eq!(config.connect_options("test").err(), Some(NatsConfigError::ClientCertificate));
    }

    #[test]
    fn insecure_conflicts_with_a_ca() {
        let mut config = NatsConfig::new("nats://nats.lab:4222");
        config.insecure = true;
        config.ca_file = Some("ca.pem".into());
        assert_eq!(
            config.connect_options("test").err(),
            Some(NatsConfigError::InsecureWithTls { key: "ca_file" })
        );
    }

    #[test]
    fn stream_replicas_outside_jetstreams_range_are_rejected() {
        for replicas in [0, 6] {
            let mut config = NatsConfig::new("nats://127.0.0.1:4222");
            config.stream_replicas = replicas;
            assert_eq!(
                config.connect_options("test").err(),
                Some(NatsConfigError::StreamReplicas { replicas })
            );
        }
        let mut config = NatsConfig::new("nats://127.0.0.1:4222");
        config.stream_replicas = 3;
        assert!(config.connect_options("test").is_ok());
    }
}

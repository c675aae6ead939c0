//! Tests the shared `nats` section against a `nats-server` that each test starts with TLS
//! on a free loopback port. The pinned CA is trusted and no other. A `tls://` URL rejects a
//! plain server, and a server that verifies clients accepts the configured certificate.
//!
//! Certificates come from rcgen at test time, so no key is checked in.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test stops at its first broken expectation"
)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rollcall_bus::NatsConfig;

/// A `nats-server` of the test's own, stopped by its pid when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("starting `nats-server` failed ({error}): install it, for example with `apt-get install nats-server`")
            });
        let started = Instant::now();
        while !TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            // A connection to an unused port of the ephemeral range can be the socket
            // connected to itself, which is not the server listening.
            .is_ok_and(|stream| stream.local_addr().ok() != stream.peer_addr().ok())
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nats-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The files of a test CA, a server certificate for `localhost` and 127.0.0.1, a client
/// certificate, and an unrelated CA.
struct Pki {
    ca: PathBuf,
    other_ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn write_pki(dir: &Path) -> Pki {
    let ca = new_ca("Rollcall bus test CA");
    let other = new_ca("Unrelated test CA");
    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server.signed_by(&server_key, &ca).unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.distinguished_name.push(DnType::CommonName, "rollcall-engine");
    let client_key = KeyPair::generate().unwrap();
    let client_cert = client.signed_by(&client_key, &ca).unwrap();

    let pki = Pki {
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
    };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.other_ca, other.pem()).unwrap();
    std::fs::write(&pki.server_cert, server_cert.pem()).unwrap();
    std::fs::write(&pki.server_key, server_key.serialize_pem()).unwrap();
    std::fs::write(&pki.client_cert, client_cert.pem()).unwrap();
    std::fs::write(&pki.client_key, client_key.serialize_pem()).unwrap();
    pki
}

fn tls_server(pki: &Pki, verify_clients: bool) -> Server {
    let cert = pki.server_cert.display().to_string();
    let key = pki.server_key.display().to_string();
    let ca = pki.ca.display().to_string();
    let mut args = vec!["--tls", "--tlscert", &cert, "--tlskey", &key];
    if verify_clients {
        args.extend(["--tlsverify", "--tlscacert", &ca]);
    }
    Server::start(&args)
}

async fn connect(config: &NatsConfig) -> Result<async_nats::Client, String> {
    let options = config
        .connect_options("rollcall-bus-tls-test")
        .map_err(|error| error.to_string())?
        .connection_timeout(Duration::from_secs(5));
    let client = options.connect(config.url.as_str()).await.map_err(|error| error.to_string())?;
    client.flush().await.map_err(|error| error.to_string())?;
    Ok(client)
}

#[tokio::test]
async fn pinned_ca_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let pki = write_pki(dir.path());
    let server = tls_server(&pki, false);
    let mut config = NatsConfig::new(format!("tls://localhost:{}", server.port));
    config.ca_file = Some(pki.ca.clone());
    let client = connect(&config).await.expect("the pinned CA signed the server's certificate");
    assert!(client.server_info().tls_required, "the server reports TLS");
}

#[tokio::test]
async fn unrelated_ca_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let pki = write_pki(dir.path());
    let server = tls_server(&pki, false);
    let mut config = NatsConfig::new(format!("tls://localhost:{}", server.port));
    config.ca_file = Some(pki.other_ca.clone());
    assert!(connect(&config).await.is_err(), "a certificate from another CA must not be trusted");
}

#[tokio::test]
async fn tls_url_rejects_plain_server() {
    let server = Server::start(&[]);
    let config = NatsConfig::new(format!("tls://127.0.0.1:{}", server.port));
    assert!(connect(&config).await.is_err(), "tls:// must not fall back to plain text");
}

#[tokio::test]
async fn loopback_plain_server_is_allowed() {
    let server = Server::start(&[]);
    let config = NatsConfig::new(format!("nats://127.0.0.1:{}", server.port));
    connect(&config).await.expect("plain text on loopback");
}

#[tokio::test]
async fn client_certificate_is_presented() {
    let dir = tempfile::tempdir().unwrap();
    let pki = write_pki(dir.path());
    let server = tls_server(&pki, true);
    let mut config = NatsConfig::new(format!("tls://localhost:{}", server.port));
    config.ca_file = Some(pki.ca.clone());
    assert!(connect(&config).await.is_err(), "the server verifies clients");
    config.cert_file = Some(pki.client_cert.clone());
    config.key_file = Some(pki.client_key.clone());
    connect(&config).await.expect("the client certificate is signed by the server's CA");
}

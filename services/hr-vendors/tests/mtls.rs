//! ADP's mutual TLS, against the vendor double served over TLS on a loopback port with a
//! client certificate required. The server accepts only client certificates signed by
//! the test CA and records each handshake, so a test can tell which certificate the
//! client presented and why the server rejected a connection.
//!
//! The CAs and certificates come from rcgen at test time, so no key is checked in. The
//! client trusts the test CA through `ClientOptions::extra_root_pem` and verifies the
//! server's certificate as in production. Each case runs over TLS 1.3 and TLS 1.2. With
//! TLS 1.3 the server checks the client certificate after the client has finished its
//! side of the handshake, so the rejection reaches the client only when it reads the
//! response.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rollcall_hr_vendors::double::{FixtureWorker, VendorDouble};
use rollcall_hr_vendors::vendors::VendorSettings;
use rollcall_hr_vendors::{
    ApiAuth, ClientOptions, EmploymentStatus, LookupError, Vendor, VendorClient, WorkerRecord,
    adapter,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

const WORKER_ID: &str = "G3K7";
const TERMINATION_DATE: &str = "2026-11-30";

/// The TLS versions every case runs over.
const VERSIONS: [&SupportedProtocolVersion; 2] = [&rustls::version::TLS13, &rustls::version::TLS12];

/// The test CA, the server's certificate and key, and two client identities: one signed
/// by the test CA and one signed by an unrelated CA.
struct Pki {
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key_pkcs8: Vec<u8>,
    client_cert: CertificateDer<'static>,
    /// The client certificate and key in one PEM file, the form ADP's identity file has.
    client_identity_pem: Vec<u8>,
    foreign_identity_pem: Vec<u8>,
}

fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// Issues a client certificate for `name` and returns it with its identity PEM.
fn new_client(
    issuer: &CertifiedIssuer<'static, KeyPair>,
    name: &str,
) -> (CertificateDer<'static>, Vec<u8>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    let identity = format!("{}{}", cert.pem(), key.serialize_pem());
    (cert.der().clone(), identity.into_bytes())
}

fn new_pki() -> Pki {
    let ca = new_ca("Rollcall HR vendors test CA");
    let foreign_ca = new_ca("Unrelated test CA");

    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server.signed_by(&server_key, &ca).unwrap();

    let (client_cert, client_identity_pem) = new_client(&ca, "rollcall-hr-webhook");
    let (_, foreign_identity_pem) = new_client(&foreign_ca, "rollcall-hr-webhook");

    Pki {
        ca_der: ca.der().clone(),
        ca_pem: ca.pem(),
        server_cert: server_cert.der().clone(),
        server_key_pkcs8: server_key.serialize_der(),
        client_cert,
        client_identity_pem,
        foreign_identity_pem,
    }
}

/// The outcome of one TLS handshake on the test server.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Handshake {
    /// The handshake completed with this client certificate (DER), the first of the chain.
    Accepted(Option<Vec<u8>>),
    /// The server ended the handshake with this error.
    Rejected(String),
}

type HandshakeLog = Arc<Mutex<Vec<Handshake>>>;

/// A loopback listener that completes the TLS handshake, which requires a client
/// certificate, before it hands a connection to the double.
struct MutualTlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: HandshakeLog,
}

impl axum::serve::Listener for MutualTlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    // One handshake at a time is enough, because each test runs one client.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, peer)) = self.tcp.accept().await else {
                continue;
            };
            match self.acceptor.accept(tcp).into_fallible().await {
                Ok(tls) => {
                    let presented = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .map(|cert| cert.to_vec());
                    self.handshakes.lock().unwrap().push(Handshake::Accepted(presented));
                    return (tls, peer);
                }
                Err((error, tcp)) => {
                    self.handshakes.lock().unwrap().push(Handshake::Rejected(error.to_string()));
                    tokio::spawn(close_after_alert(tcp));
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Closes a connection whose handshake failed, once the client has closed its side.
/// Closing it earlier makes the kernel reply to the client's next write with a reset, and
/// the client can then report the reset instead of the TLS alert.
async fn close_after_alert(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    let mut sink = [0_u8; 4096];
    while matches!(tcp.read(&mut sink).await, Ok(read) if read > 0) {}
}

/// Starts the double on a loopback port over `version` only, requiring a client
/// certificate signed by the test CA, with one terminated ADP worker.
async fn start_server(
    pki: &Pki,
    version: &'static SupportedProtocolVersion,
) -> (VendorDouble, HandshakeLog) {
    // rustls 0.23.48 deprecates its ring provider, which has no post-quantum key
    // exchange. The workspace builds rustls on ring only, as reqwest's client does.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key_pkcs8.clone()));
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server_cert.clone()], key)
        .unwrap();

    let handshakes = HandshakeLog::default();
    let listener = MutualTlsListener {
        tcp: TcpListener::bind(("127.0.0.1", 0)).await.unwrap(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
        handshakes: handshakes.clone(),
    };
    let double = VendorDouble::start_on(listener, "https").await.unwrap();
    double.set_worker(
        Vendor::AdpWorkforceNow,
        WORKER_ID,
        FixtureWorker::terminated(TERMINATION_DATE),
    );
    (double, handshakes)
}

/// Builds ADP client options for the double with OAuth client credentials, trusting the
/// test CA, with `identity` as the client certificate and key.
fn adp_options(double: &VendorDouble, pki: &Pki, identity: Option<Vec<u8>>) -> ClientOptions {
    let auth = ApiAuth::ClientCredentials {
        token_url: double.token_url(Vendor::AdpWorkforceNow),
        client_id: "rollcall-test-app".into(),
        client_secret: "test-client-secret".into(),
    };
    let mut options = ClientOptions::new(double.base_url(Vendor::AdpWorkforceNow), auth);
    options.extra_root_pem = Some(pki.ca_pem.clone().into_bytes());
    options.client_identity_pem = identity;
    options.first_backoff = Duration::from_millis(10);
    options.max_backoff = Duration::from_millis(50);
    options
}

async fn lookup(options: ClientOptions) -> Result<WorkerRecord, LookupError> {
    let client = VendorClient::new("adp-workforce-now", options).unwrap();
    let adapter =
        adapter(Vendor::AdpWorkforceNow, VendorSettings::new(chrono_tz::America::New_York));
    client.fetch_worker(adapter.as_ref(), WORKER_ID).await
}

/// Returns the message of a failed request, failing the test on any other error.
fn network_message(error: LookupError) -> String {
    match error {
        LookupError::Network { message, .. } => message,
        other => panic!("expected a failed request, got: {other}"),
    }
}

#[tokio::test]
async fn identity_presented_and_worker_read() {
    let pki = new_pki();
    for version in VERSIONS {
        let (double, handshakes) = start_server(&pki, version).await;
        let options = adp_options(&double, &pki, Some(pki.client_identity_pem.clone()));

        let record = lookup(options).await.unwrap_or_else(|error| panic!("{version:?}: {error}"));

        let expected_date = NaiveDate::parse_from_str(TERMINATION_DATE, "%Y-%m-%d").unwrap();
        assert_eq!(record.worker_id, WORKER_ID, "{version:?}");
        let EmploymentStatus::Terminated { date, .. } = record.status else {
            panic!("{version:?}: expected a terminated worker, got {:?}", record.status);
        };
        assert_eq!(date, expected_date, "{version:?}");
        let requests = double.requests();
        assert!(
            requests.contains(&"POST /adp-workforce-now/oauth/token".to_owned()),
            "{version:?}: {requests:?}"
        );
        assert!(
            requests.contains(&format!("GET /adp-workforce-now/hr/v2/workers/{WORKER_ID}")),
            "{version:?}: {requests:?}"
        );
        let handshakes = handshakes.lock().unwrap().clone();
        assert!(!handshakes.is_empty(), "{version:?}: no handshake recorded");
        for handshake in &handshakes {
            assert_eq!(
                handshake,
                &Handshake::Accepted(Some(pki.client_cert.to_vec())),
                "{version:?}: the server did not get the configured client certificate"
            );
        }
    }
}

#[tokio::test]
async fn missing_identity_names_fix() {
    let pki = new_pki();
    for version in VERSIONS {
        let (double, handshakes) = start_server(&pki, version).await;
        let options = adp_options(&double, &pki, None);

        let error = lookup(options).await.expect_err("the server requires a client certificate");

        let message = network_message(error);
        assert!(
            message.contains("requires a TLS client certificate and none is configured"),
            "{version:?}: {message}"
        );
        assert!(
            message.contains("so set the client certificate and key (PEM) that the vendor issued"),
            "{version:?}: {message}"
        );
        assert!(
            message.contains("received fatal alert: CertificateRequired"),
            "{version:?}: {message}"
        );
        assert!(double.requests().is_empty(), "{version:?}: a request reached the double");
        let handshakes = handshakes.lock().unwrap().clone();
        assert!(!handshakes.is_empty(), "{version:?}: no handshake recorded");
        for handshake in &handshakes {
            let Handshake::Rejected(reason) = handshake else {
                panic!("{version:?}: the server accepted a handshake: {handshake:?}");
            };
            assert!(reason.contains("peer sent no certificates"), "{version:?}: {reason}");
        }
    }
}

#[tokio::test]
async fn foreign_ca_identity_rejected() {
    let pki = new_pki();
    for version in VERSIONS {
        let (double, handshakes) = start_server(&pki, version).await;
        let options = adp_options(&double, &pki, Some(pki.foreign_identity_pem.clone()));

        let error = lookup(options).await.expect_err("the server trusts only the test CA");

        let message = network_message(error);
        assert!(
            message.contains("the server rejected the configured TLS client certificate"),
            "{version:?}: {message}"
        );
        assert!(
            message.contains(
                "check that the client certificate and key are the ones the vendor issued"
            ),
            "{version:?}: {message}"
        );
        assert!(message.contains("received fatal alert: UnknownCA"), "{version:?}: {message}");
        assert!(double.requests().is_empty(), "{version:?}: a request reached the double");
        let handshakes = handshakes.lock().unwrap().clone();
        assert!(!handshakes.is_empty(), "{version:?}: no handshake recorded");
        for handshake in &handshakes {
            let Handshake::Rejected(reason) = handshake else {
                panic!("{version:?}: the server accepted a handshake: {handshake:?}");
            };
            assert!(reason.contains("UnknownIssuer"), "{version:?}: {reason}");
        }
    }
}

#[tokio::test]
async fn server_untrusted_without_extra_root() {
    let pki = new_pki();
    let (double, _handshakes) = start_server(&pki, &rustls::version::TLS13).await;
    let mut options = adp_options(&double, &pki, Some(pki.client_identity_pem.clone()));
    options.extra_root_pem = None;

    let error = lookup(options).await.expect_err("only the extra root trusts the test CA");

    let message = network_message(error);
    assert!(message.contains("invalid peer certificate: UnknownIssuer"), "{message}");
    assert!(!message.contains("client certificate"), "{message}");
    assert!(double.requests().is_empty(), "a request reached the double");
}

#[test]
fn non_pem_identity_rejected() {
    let pki = new_pki();
    let certificate_only = {
        let text = String::from_utf8(pki.client_identity_pem.clone()).unwrap();
        let (certificate, _key) = text.split_once("-----BEGIN PRIVATE KEY-----").unwrap();
        certificate.as_bytes().to_vec()
    };
    let cases: [(&str, Vec<u8>); 3] = [
        ("DER certificate", pki.client_cert.to_vec()),
        ("text", b"client certificate goes here\n".to_vec()),
        ("certificate without key", certificate_only),
    ];
    for (name, identity) in cases {
        let mut options = ClientOptions::new("https://127.0.0.1:9/adp", ApiAuth::None);
        options.client_identity_pem = Some(identity);

        let error = VendorClient::new("adp-workforce-now", options).unwrap_err();

        let LookupError::Config(message) = error else {
            panic!("{name}: expected a settings error, got: {error}");
        };
        assert!(
            message.contains("the client certificate and key are not usable PEM"),
            "{name}: {message}"
        );
        assert!(message.contains("private key or certificate not found"), "{name}: {message}");
    }
}

#[test]
fn non_pem_extra_root_rejected() {
    let pki = new_pki();
    let mut options = ClientOptions::new("https://127.0.0.1:9/adp", ApiAuth::None);
    options.extra_root_pem = Some(pki.ca_der.to_vec());

    let error = VendorClient::new("adp-workforce-now", options).unwrap_err();

    let LookupError::Config(message) = error else {
        panic!("expected a settings error, got: {error}");
    };
    assert!(
        message.contains("the extra root certificates contain no PEM certificate"),
        "{message}"
    );
}

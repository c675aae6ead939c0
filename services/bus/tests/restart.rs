//! A NATS server restarted while a runner consumes. The client reconnects and the
//! publisher retries until the server acks. No message is lost or handled twice once it
//! was acked, whether by the stream to the publisher or by the runner to the stream.
//!
//! The test starts its own `nats-server` on a free loopback port with a temporary store
//! directory, so that it can stop the server without touching the shared one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_bus::{ConsumerSpec, Disposition, MessageKind, Outcome, StreamFamily};
use support::{Log, Scripted, TestBus, hire, stream_messages, wait_until};

const TENANT: &str = "oakridge-family-medicine";

/// A `nats-server` process of the test's own, stopped by its pid when dropped.
struct OwnServer {
    child: Child,
}

impl OwnServer {
    /// Starts `nats-server` with JetStream on `port`, storing in `store`, and waits until
    /// it accepts connections.
    fn start(port: u16, store: &Path) -> Self {
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("starting `nats-server` failed ({error}): install it, for example with `apt-get install nats-server`")
            });
        let server = Self { child };
        let started = Instant::now();
        while !TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            // A connection to an unused port of the ephemeral range can be the socket
            // connected to itself, which is not the server listening.
            .is_ok_and(|stream| stream.local_addr().ok() != stream.peer_addr().ok())
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nats-server did not listen on port {port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Stops the server with SIGTERM, which lets it flush its store, and waits for it.
    fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "sending SIGTERM to nats-server {pid} failed");
        let started = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if started.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.wait();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.terminate();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn restart_loses_nothing_acked() {
    let store = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = OwnServer::start(port, store.path());
    let url = format!("127.0.0.1:{port}");
    let client = support::try_connect(&url).await.unwrap();
    let bus = TestBus::on(&url, client).await;
    let log = Log::default();
    let handler = Scripted { log: log.clone(), work: Duration::ZERO, outcome: Outcome::Ack };
    let spec = ConsumerSpec::new("engine-hr-events", MessageKind::HrEvent)
        .with_ack_wait(Duration::from_secs(5));
    let runner = bus.spawn_runner(spec, handler, Duration::from_secs(5)).await;
    let publisher = bus.publisher();
    let acked = rollcall_bus::ConsumedLabels {
        consumer: "engine-hr-events".to_owned(),
        disposition: Disposition::Ack,
    };

    for n in 0..3 {
        publisher.publish(&hire(TENANT, &format!("E-{n}"))).await.unwrap();
    }
    wait_until("the first three acks", Duration::from_secs(30), || {
        bus.metrics.consumed.get_or_create(&acked).get() == 3
    })
    .await;
    server.stop();
    let server = OwnServer::start(port, store.path());
    for n in 3..6 {
        publisher.publish(&hire(TENANT, &format!("E-{n}"))).await.unwrap();
    }
    wait_until("all six acks after the restart", Duration::from_secs(60), || {
        bus.metrics.consumed.get_or_create(&acked).get() == 6
    })
    .await;
    let report = runner.stop().await;

    let sequences: Vec<u64> = log.seen().iter().map(|s| s.stream_sequence).collect();
    assert_eq!(sequences, [1, 2, 3, 4, 5, 6]);
    assert!(log.seen().iter().all(|s| s.delivered == 1), "{:?}", log.seen());
    assert_eq!(report.handled, 6);
    let hr = bus.namespace().stream_name(StreamFamily::Hr);
    assert_eq!(stream_messages(&bus.jetstream, &hr).await, 6);
    bus.delete().await;
    server.stop();
}

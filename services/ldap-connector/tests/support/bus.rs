//! Streams of one test on the shared NATS server, under a random namespace, and the
//! messages a sync left in them.

use std::time::Duration;

use prost::Message as _;
use rollcall_bus::async_nats::{self, jetstream};
use rollcall_bus::{BusMetrics, Namespace, Publisher, StreamFamily, Topology};
use rollcall_proto::v1;
use uuid::Uuid;

/// The shared server unless `ROLLCALL_TEST_NATS_URL` names another.
pub fn nats_url() -> String {
    std::env::var("ROLLCALL_TEST_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

/// One test's streams.
pub struct TestBus {
    pub jetstream: jetstream::Context,
    pub topology: Topology,
}

/// What a sync published.
#[derive(Default)]
pub struct Published {
    pub chunks: Vec<v1::SnapshotChunk>,
    pub reports: Vec<v1::SyncReport>,
}

impl TestBus {
    pub async fn new() -> TestBus {
        let url = nats_url();
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(3))
            .connect(&url)
            .await
            .unwrap_or_else(|error| {
                panic!("NATS is not reachable at `{url}` ({error}); start nats-server -js or set ROLLCALL_TEST_NATS_URL")
            });
        let short = Uuid::new_v4().simple().to_string();
        let short = short.get(..12).unwrap();
        let namespace =
            Namespace::new(&format!("t{short}"), &format!("T{}", short.to_uppercase())).unwrap();
        let jetstream = jetstream::new(client);
        let topology = Topology::new(namespace);
        // NATS 2.9 can fail a stream creation that races another test's deletion.
        for attempt in 1..=5 {
            match topology.ensure(&jetstream).await {
                Ok(_) => break,
                Err(error) if attempt < 5 && error.to_string().contains("error creating store") => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("creating the test streams failed: {error}"),
            }
        }
        TestBus { jetstream, topology }
    }

    pub fn publisher(&self) -> Publisher {
        Publisher::new(self.jetstream.clone(), self.topology.namespace().clone(), BusMetrics::new())
    }

    /// Every snapshot chunk and sync report in the source stream.
    pub async fn published(&self) -> Published {
        let name = self.topology.namespace().stream_name(StreamFamily::Source);
        let mut stream = self.jetstream.get_stream(&name).await.unwrap();
        let last = stream.info().await.unwrap().state.last_sequence;
        let mut published = Published::default();
        for sequence in 1..=last {
            let Ok(message) = stream.get_raw_message(sequence).await else { continue };
            let subject = message.subject.to_string();
            if subject.ends_with(".snapshot") {
                published.chunks.push(v1::SnapshotChunk::decode(message.payload).unwrap());
            } else if subject.ends_with(".sync") {
                published.reports.push(v1::SyncReport::decode(message.payload).unwrap());
            }
        }
        published
    }

    /// Deletes the streams.
    pub async fn delete(self) {
        for spec in self.topology.streams() {
            let _ = self.jetstream.delete_stream(&spec.name).await;
        }
    }
}

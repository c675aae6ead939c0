//! The bundled example practice, `examples/harborview`, read with the real readers: every
//! source snapshot and HR worker survives conversion, and every snapshot survives splitting
//! and assembly.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use prost::Message;
use rollcall_core::TenantData;
use rollcall_proto::{
    Assembler, ContentHash, SnapshotContent, source_snapshot_from_proto, source_snapshot_to_proto,
    split, v1, worker_from_proto, worker_to_proto,
};
use uuid::Uuid;

/// The instant the example data describes: 09:00 in Chicago on 1 December 2026.
const AS_OF: &str = "2026-12-01T15:00:00Z";

fn load() -> (rollcall_core::TenantId, TenantData) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview");
    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    let loaded = rollcall_ingest::layout::load_tenant(&dir, as_of).unwrap();
    (loaded.config.tenant.id.clone(), loaded.data)
}

#[test]
fn example_has_every_source() {
    let (tenant, data) = load();
    let sources: Vec<String> = data.sources.iter().map(|s| s.source.to_string()).collect();

    assert_eq!(tenant.as_str(), "harborview");
    assert_eq!(sources, ["entra", "ldap", "ehr:athenahealth"]);
    assert!(data.sources.iter().all(|s| !s.accounts.is_empty()));
    assert!(!data.hr.unwrap().workers.is_empty());
}

#[test]
fn example_snapshots_round_trip() {
    let (_, data) = load();

    for snapshot in data.sources {
        let bytes = source_snapshot_to_proto(&snapshot).encode_to_vec();
        let decoded = v1::SourceSnapshot::decode(bytes.as_slice()).unwrap();

        assert_eq!(source_snapshot_from_proto(decoded).unwrap(), snapshot, "{}", snapshot.source);
    }
}

#[test]
fn example_workers_round_trip() {
    let (_, data) = load();

    for worker in data.hr.unwrap().workers {
        assert_eq!(worker_from_proto(worker_to_proto(&worker)).unwrap(), worker);
    }
}

/// Each source goes out in chunks of at most 2 KiB, delivered last chunk first, and comes
/// back equal with the announced hash.
#[test]
fn example_snapshots_survive_chunking() {
    let (tenant, data) = load();
    let mut assembler = Assembler::new();
    let now = Instant::now();

    for (n, snapshot) in (1u128..).zip(&data.sources) {
        let chunks = split(snapshot, &tenant, Uuid::from_u128(n), 2048).unwrap();
        assert!(chunks.len() > 1, "{} fits in one chunk", snapshot.source);
        let mut done = Vec::new();
        for chunk in chunks.into_iter().rev() {
            done.extend(assembler.accept(chunk, now).unwrap());
        }

        assert_eq!(done.len(), 1, "{}", snapshot.source);
        assert_eq!(done[0].content, SnapshotContent::Source(snapshot.clone()));
        assert_eq!(done[0].content_hash, ContentHash::of(snapshot));
        assert_eq!(done[0].tenant, tenant);
    }
}

//! The assembler's handling of chunks that contradict each other, of several snapshots at
//! once, and of snapshots that wait too long.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::time::{Duration, Instant};

use rollcall_core::TenantId;
use rollcall_core::model::{Account, SourceId, SourceSnapshot};
use rollcall_proto::{AssembleError, Assembler, ConvertError, SnapshotContent, split, v1};
use uuid::Uuid;

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).unwrap()
}

fn snapshot(accounts: usize) -> SourceSnapshot {
    let mut snapshot = SourceSnapshot::new(SourceId::entra());
    snapshot.accounts = (0..accounts).map(|i| Account::new(format!("account-{i:04}"))).collect();
    snapshot
}

/// Splits a 60-account snapshot into chunks of at most 512 bytes, at least three of them.
fn chunks(tenant_name: &str, id: u128) -> Vec<v1::SnapshotChunk> {
    let chunks = split(&snapshot(60), &tenant(tenant_name), Uuid::from_u128(id), 512).unwrap();
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    chunks
}

#[test]
fn interleaved_snapshots_assemble() {
    let first = chunks("harborview", 1);
    let second = chunks("lakeside", 2);
    let mut assembler = Assembler::new();
    let now = Instant::now();

    let mut done = Vec::new();
    for (a, b) in first.into_iter().zip(second) {
        done.extend(assembler.accept(b, now).unwrap());
        done.extend(assembler.accept(a, now).unwrap());
    }

    assert_eq!(done.len(), 2);
    assert_eq!(done[0].tenant.as_str(), "lakeside");
    assert_eq!(done[1].tenant.as_str(), "harborview");
    assert_eq!(done[1].content, SnapshotContent::Source(snapshot(60)));
}

#[test]
fn same_id_other_tenant_kept_apart() {
    let mut first = chunks("harborview", 9);
    let second = chunks("lakeside", 9);
    let mut assembler = Assembler::new();
    let now = Instant::now();
    let last = first.pop().unwrap();

    for chunk in first {
        assert_eq!(assembler.accept(chunk, now), Ok(None));
    }
    for chunk in second {
        assembler.accept(chunk, now).unwrap();
    }
    let done = assembler.accept(last, now).unwrap().unwrap();

    assert_eq!(done.tenant.as_str(), "harborview");
    assert!(assembler.pending(now).is_empty());
}

#[test]
fn inconsistent_chunk_count_rejected() {
    let mut chunks = chunks("harborview", 3);
    let count = chunks[0].chunk_count;
    chunks[1].chunk_count = count + 1;
    let mut assembler = Assembler::new();
    let now = Instant::now();

    assembler.accept(chunks[0].clone(), now).unwrap();
    let error = assembler.accept(chunks[1].clone(), now).unwrap_err();

    let AssembleError::Inconsistent { chunk_index, field, ref expected, ref found, .. } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!(chunk_index, 1);
    assert_eq!(field, "chunk_count");
    assert_eq!(*expected, count.to_string());
    assert_eq!(*found, (count + 1).to_string());
    assert_eq!(assembler.pending(now)[0].chunks_received, 1);
}

#[test]
fn inconsistent_hash_rejected() {
    let mut chunks = chunks("harborview", 4);
    chunks[2].content_sha256 = "0".repeat(64);
    let mut assembler = Assembler::new();
    let now = Instant::now();

    assembler.accept(chunks[0].clone(), now).unwrap();
    let error = assembler.accept(chunks[2].clone(), now).unwrap_err();

    assert!(
        matches!(error, AssembleError::Inconsistent { field: "content_sha256", .. }),
        "{error:?}"
    );
}

#[test]
fn index_out_of_range_rejected() {
    let mut chunks = chunks("harborview", 5);
    let count = chunks[0].chunk_count;
    chunks[1].chunk_index = count;

    let error = Assembler::new().accept(chunks[1].clone(), Instant::now()).unwrap_err();

    assert_eq!(
        error,
        AssembleError::IndexOutOfRange {
            snapshot_id: Uuid::from_u128(5),
            chunk_index: count,
            chunk_count: count
        }
    );
}

#[test]
fn zero_chunk_count_rejected() {
    let mut chunks = chunks("harborview", 6);
    chunks[0].chunk_count = 0;

    let error = Assembler::new().accept(chunks[0].clone(), Instant::now()).unwrap_err();

    let AssembleError::InvalidChunk { source, .. } = error else { panic!("{error:?}") };
    assert_eq!(*source, ConvertError::Missing { field: "chunk_count".to_owned() });
}

#[test]
fn conflicting_duplicate_rejected() {
    let chunks = chunks("harborview", 7);
    let mut altered = chunks[1].clone();
    altered.accounts[0].id = "someone-else".to_owned();
    let mut assembler = Assembler::new();
    let now = Instant::now();

    assembler.accept(chunks[1].clone(), now).unwrap();
    let error = assembler.accept(altered, now).unwrap_err();

    assert_eq!(
        error,
        AssembleError::ConflictingDuplicate { snapshot_id: Uuid::from_u128(7), chunk_index: 1 }
    );
}

#[test]
fn settings_outside_first_chunk_rejected() {
    let mut chunks = chunks("harborview", 8);
    chunks[2].settings = chunks[0].settings.clone();

    let error = Assembler::new().accept(chunks[2].clone(), Instant::now()).unwrap_err();

    let AssembleError::InvalidChunk { chunk_index, source, .. } = error else {
        panic!("{error:?}")
    };
    assert_eq!(chunk_index, 2);
    assert_eq!(source.field(), "settings");
}

#[test]
fn first_chunk_without_settings_rejected() {
    let mut chunks = chunks("harborview", 10);
    chunks[0].settings = None;

    let error = Assembler::new().accept(chunks[0].clone(), Instant::now()).unwrap_err();

    let AssembleError::InvalidChunk { source, .. } = error else { panic!("{error:?}") };
    assert_eq!(*source, ConvertError::Missing { field: "settings".to_owned() });
}

#[test]
fn uppercase_snapshot_id_rejected() {
    let mut chunks = chunks("harborview", 0xabc);
    chunks[0].snapshot_id = chunks[0].snapshot_id.to_uppercase();

    let error = Assembler::new().accept(chunks[0].clone(), Instant::now()).unwrap_err();

    let AssembleError::InvalidChunk { ref source, .. } = error else { panic!("{error:?}") };
    assert!(matches!(**source, ConvertError::InvalidUuid { .. }), "{source:?}");
    assert_eq!(
        error.to_string(),
        "chunk `0` of snapshot `00000000-0000-0000-0000-000000000ABC` is invalid: `snapshot_id` has the invalid id `00000000-0000-0000-0000-000000000ABC`: use a UUID in lowercase hyphenated form, such as `0f8e2c1a-5b7d-4e39-9a61-2d4c8b0e7f13`"
    );
}

#[test]
fn invalid_account_names_chunk_and_field() {
    let mut chunks = chunks("harborview", 12);
    chunks[1].accounts[2].kind = 99;

    let error = Assembler::new().accept(chunks[1].clone(), Instant::now()).unwrap_err();

    let AssembleError::InvalidChunk { chunk_index, source, .. } = error else {
        panic!("{error:?}")
    };
    assert_eq!(chunk_index, 1);
    assert_eq!(
        *source,
        ConvertError::UnknownEnum { field: "accounts[2].kind".to_owned(), value: 99 }
    );
}

#[test]
fn invalid_bytes_rejected() {
    let error = Assembler::new().accept_bytes(&[0xff, 0xff, 0xff], Instant::now()).unwrap_err();

    assert!(matches!(error, AssembleError::Decode(_)), "{error:?}");
    assert!(error.to_string().starts_with("a snapshot chunk is not a valid protobuf message"));
}

#[test]
fn late_duplicate_after_completion_ignored() {
    let chunks = chunks("harborview", 13);
    let mut assembler = Assembler::new();
    let now = Instant::now();
    let mut done = 0;
    for chunk in chunks.clone() {
        done += usize::from(assembler.accept(chunk, now).unwrap().is_some());
    }

    let late = assembler.accept(chunks[1].clone(), now);

    assert_eq!(done, 1);
    assert_eq!(late, Ok(None));
    assert!(assembler.pending(now).is_empty());
}

#[test]
fn resent_after_mismatch_assembles() {
    let chunks = chunks("harborview", 14);
    let mut altered = chunks.clone();
    altered[0].accounts[0].display_name = Some("Altered".to_owned());
    let mut assembler = Assembler::new();
    let now = Instant::now();
    let results: Vec<_> = altered.into_iter().map(|chunk| assembler.accept(chunk, now)).collect();
    assert!(matches!(results.last(), Some(Err(AssembleError::HashMismatch { .. }))));

    let mut done = None;
    for chunk in chunks {
        done = done.or(assembler.accept(chunk, now).unwrap());
    }

    assert_eq!(done.unwrap().content, SnapshotContent::Source(snapshot(60)));
}

#[test]
fn pending_lists_age_oldest_first() {
    let older = chunks("harborview", 15);
    let newer = chunks("lakeside", 16);
    let mut assembler = Assembler::new();
    let start = Instant::now();
    assembler.accept(older[0].clone(), start).unwrap();
    assembler.accept(newer[0].clone(), start + Duration::from_secs(10)).unwrap();
    assembler.accept(older[1].clone(), start + Duration::from_secs(20)).unwrap();

    let pending = assembler.pending(start + Duration::from_secs(30));

    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].tenant.as_str(), "harborview");
    assert_eq!(pending[0].snapshot_id, Uuid::from_u128(15));
    assert_eq!(pending[0].source, "entra");
    assert_eq!(pending[0].chunks_received, 2);
    assert_eq!(pending[0].chunk_count, older[0].chunk_count);
    assert_eq!(pending[0].age, Duration::from_secs(30));
    assert_eq!(pending[1].tenant.as_str(), "lakeside");
    assert_eq!(pending[1].age, Duration::from_secs(20));
}

#[test]
fn expire_drops_old_snapshots() {
    let older = chunks("harborview", 17);
    let newer = chunks("lakeside", 18);
    let mut assembler = Assembler::new();
    let start = Instant::now();
    assembler.accept(older[0].clone(), start).unwrap();
    assembler.accept(newer[0].clone(), start + Duration::from_secs(50)).unwrap();

    let expired = assembler.expire(start + Duration::from_secs(100), Duration::from_secs(60));

    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].snapshot_id, Uuid::from_u128(17));
    let pending = assembler.pending(start + Duration::from_secs(100));
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].snapshot_id, Uuid::from_u128(18));
}

#[test]
fn discard_drops_one_snapshot() {
    let chunks = chunks("harborview", 19);
    let mut assembler = Assembler::new();
    let now = Instant::now();
    assembler.accept(chunks[0].clone(), now).unwrap();

    assert!(assembler.discard(&tenant("harborview"), Uuid::from_u128(19)));
    assert!(!assembler.discard(&tenant("harborview"), Uuid::from_u128(19)));
    assert!(assembler.pending(now).is_empty());
}

#[test]
fn forgotten_snapshot_assembles_again() {
    let parts = chunks("harborview", 7);
    let mut assembler = Assembler::new();
    let now = Instant::now();
    let mut done = Vec::new();
    for chunk in parts.clone() {
        done.extend(assembler.accept(chunk, now).unwrap());
    }
    assert_eq!(done.len(), 1);
    // A completed snapshot's chunks delivered again are ignored...
    for chunk in parts.clone() {
        assert!(assembler.accept(chunk, now).unwrap().is_none());
    }
    // ...until the consumer says storing it failed.
    assert!(assembler.forget_completed(&tenant("harborview"), Uuid::from_u128(7)));
    assert!(!assembler.forget_completed(&tenant("harborview"), Uuid::from_u128(7)));
    let mut again = Vec::new();
    for chunk in parts {
        again.extend(assembler.accept(chunk, now).unwrap());
    }
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].content, SnapshotContent::Source(snapshot(60)));
}

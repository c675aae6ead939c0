//! Splitting snapshots into chunks and assembling them again, with random snapshots, chunk
//! sizes, orders, duplicates, lost chunks and corrupted bytes; and the content hash.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

mod support;

use std::time::Instant;

use proptest::prelude::*;
use prost::Message;
use rollcall_core::TenantId;
use rollcall_core::model::{Account, AuthMethod, MethodKind, SourceId, SourceSnapshot};
use rollcall_proto::{
    AssembleError, Assembler, ContentHash, DEFAULT_MAX_CHUNK_BYTES, SnapshotContent, SplitError,
    canonical_encoding, source_snapshot_from_proto, split, v1,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn tenant() -> TenantId {
    TenantId::new("harborview").unwrap()
}

/// Shuffles `items` with a small xorshift generator seeded by `seed`, so a failing case
/// replays from proptest's recorded seed.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = usize::try_from(state % (i as u64 + 1)).unwrap();
        items.swap(i, j);
    }
}

/// Returns a copy of `snapshot` with every unordered list shuffled.
fn reordered(snapshot: &SourceSnapshot, seed: u64) -> SourceSnapshot {
    let mut copy = snapshot.clone();
    shuffle(&mut copy.accounts, seed);
    shuffle(&mut copy.entitlements, seed.rotate_left(8));
    shuffle(&mut copy.memberships, seed.rotate_left(16));
    for account in &mut copy.accounts {
        if let Some(methods) = account.auth_methods.as_mut() {
            shuffle(methods, seed.rotate_left(24));
        }
        shuffle(&mut account.markers, seed.rotate_left(32));
    }
    if let Some(names) = copy.settings.weak_methods_enabled.as_mut() {
        shuffle(names, seed.rotate_left(40));
    }
    copy
}

/// Returns the chunks to deliver: every chunk, some twice, in a shuffled order.
fn delivery(
    chunks: &[v1::SnapshotChunk],
    duplicates: &[prop::sample::Index],
    seed: u64,
) -> Vec<v1::SnapshotChunk> {
    let mut delivered = chunks.to_vec();
    delivered.extend(duplicates.iter().map(|index| index.get(chunks).clone()));
    shuffle(&mut delivered, seed);
    delivered
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Chunks delivered in any order, with duplicates, assemble into the same snapshot, and
    /// only the last new chunk completes it.
    #[test]
    fn split_assemble_round_trips(
        snapshot in support::snapshot(8),
        max_chunk_bytes in 1024usize..6000,
        duplicates in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        seed in any::<u64>(),
    ) {
        let id = Uuid::from_u128(u128::from(seed) << 1 | 1);
        let chunks = match split(&snapshot, &tenant(), id, max_chunk_bytes) {
            Err(SplitError::RecordTooLarge { .. }) => return Err(TestCaseError::reject("record above limit")),
            other => other.unwrap(),
        };
        let count = u32::try_from(chunks.len()).unwrap();
        for (index, chunk) in (0u32..).zip(&chunks) {
            prop_assert!(chunk.encoded_len() <= max_chunk_bytes);
            prop_assert_eq!(chunk.chunk_index, index);
            prop_assert_eq!(chunk.chunk_count, count);
        }

        let mut assembler = Assembler::new();
        let now = Instant::now();
        let mut assembled = Vec::new();
        for chunk in delivery(&chunks, &duplicates, seed) {
            if let Some(done) = assembler.accept(chunk, now).unwrap() {
                assembled.push(done);
            }
        }

        prop_assert_eq!(assembled.len(), 1);
        let done = assembled.pop().unwrap();
        prop_assert_eq!(&done.content, &SnapshotContent::Source(snapshot.clone()));
        prop_assert_eq!(done.snapshot_id, id);
        prop_assert_eq!(done.content_hash, ContentHash::of(&snapshot));
        prop_assert!(assembler.pending(now).is_empty());
    }

    /// A snapshot with one chunk lost never comes out, and stays listed as pending.
    #[test]
    fn missing_chunk_never_assembles(
        snapshot in support::snapshot(8),
        lost in any::<prop::sample::Index>(),
        duplicates in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        seed in any::<u64>(),
    ) {
        let chunks = split(&snapshot, &tenant(), Uuid::from_u128(7), 1024);
        prop_assume!(chunks.as_ref().is_ok_and(|chunks| chunks.len() >= 2));
        let mut chunks = chunks.unwrap();
        chunks.remove(lost.index(chunks.len()));

        let mut assembler = Assembler::new();
        let now = Instant::now();
        for chunk in delivery(&chunks, &duplicates, seed) {
            prop_assert_eq!(assembler.accept(chunk, now), Ok(None));
        }

        let pending = assembler.pending(now);
        prop_assert_eq!(pending.len(), 1);
        prop_assert_eq!(pending[0].chunks_received as usize, chunks.len());
    }

    /// One altered byte in one encoded chunk never yields a snapshot other than the one
    /// published: the chunk fails to decode or convert, contradicts its siblings, or the
    /// content hash no longer matches.
    #[test]
    fn corrupted_byte_never_yields_wrong_snapshot(
        snapshot in support::snapshot(6),
        target in any::<prop::sample::Index>(),
        position in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        seed in any::<u64>(),
    ) {
        let chunks = split(&snapshot, &tenant(), Uuid::from_u128(11), 2048);
        prop_assume!(chunks.is_ok());
        let mut encoded: Vec<Vec<u8>> = chunks.unwrap().iter().map(Message::encode_to_vec).collect();
        let chunk = target.get_mut(&mut encoded);
        let byte = position.get_mut(chunk);
        *byte ^= xor;
        shuffle(&mut encoded, seed);

        let mut assembler = Assembler::new();
        let now = Instant::now();
        for bytes in &encoded {
            if let Ok(Some(done)) = assembler.accept_bytes(bytes, now) {
                prop_assert_eq!(&done.content, &SnapshotContent::Source(snapshot.clone()));
                prop_assert_eq!(done.content_hash, done.content.content_hash());
            }
        }
    }

    /// The content hash does not depend on the order of records, methods, markers or
    /// weak method names.
    #[test]
    fn hash_ignores_list_order(snapshot in support::snapshot(8), seed in any::<u64>()) {
        let shuffled = reordered(&snapshot, seed);

        prop_assert_eq!(ContentHash::of(&shuffled), ContentHash::of(&snapshot));
        prop_assert_eq!(canonical_encoding(&shuffled), canonical_encoding(&snapshot));
    }

    /// The canonical encoding decodes as a `SourceSnapshot` message with the same records.
    #[test]
    fn canonical_encoding_is_a_snapshot(snapshot in support::snapshot(6)) {
        let decoded = v1::SourceSnapshot::decode(canonical_encoding(&snapshot).as_slice()).unwrap();
        let mut decoded = source_snapshot_from_proto(decoded).unwrap();
        let mut expected = snapshot.clone();
        let by_encoding = |snapshot: &mut SourceSnapshot| {
            snapshot.accounts.sort_by_key(|a| rollcall_proto::account_to_proto(a).encode_to_vec());
        };
        by_encoding(&mut decoded);
        by_encoding(&mut expected);

        prop_assert_eq!(decoded.accounts.len(), expected.accounts.len());
        prop_assert_eq!(decoded.entitlements.len(), expected.entitlements.len());
        prop_assert_eq!(decoded.memberships.len(), expected.memberships.len());
        prop_assert_eq!(decoded.source, expected.source);
        prop_assert_eq!(decoded.collected_at, expected.collected_at);
    }
}

#[test]
fn hash_is_sha256_of_canonical_encoding() {
    let mut snapshot = SourceSnapshot::new(SourceId::entra());
    snapshot.accounts.push(Account::new("7f3c"));

    let digest: [u8; 32] = Sha256::digest(canonical_encoding(&snapshot)).into();

    assert_eq!(ContentHash::of(&snapshot).as_bytes(), &digest);
}

/// Pins the hash of a small snapshot, so a change of the canonical encoding, which every
/// publisher and consumer must agree on, cannot pass unnoticed.
#[test]
fn hash_of_known_snapshot_is_stable() {
    let mut snapshot = SourceSnapshot::new(SourceId::ldap());
    let mut account = Account::new("cn=dana,ou=staff,dc=example,dc=org");
    account.auth_methods = Some(vec![AuthMethod::new(MethodKind::Fido2, "fido2")]);
    snapshot.accounts.push(account);

    let hash = ContentHash::of(&snapshot).to_string();

    assert_eq!(hash, "0fdeaf601c721c2db685c28cca25d28910f3998f228f46a44c4d82b5a2c0e2b6");
}

#[test]
fn hash_changes_with_content() {
    let snapshot = SourceSnapshot::new(SourceId::entra());
    let mut changed = snapshot.clone();
    changed.accounts.push(Account::new("7f3c"));

    assert_ne!(ContentHash::of(&changed), ContentHash::of(&snapshot));
}

#[test]
fn hash_parses_own_text() {
    let hash = ContentHash::of(&SourceSnapshot::new(SourceId::hr()));
    let text = hash.to_string();

    assert_eq!(text.len(), 64);
    assert_eq!(ContentHash::from_hex(&text), Some(hash));
    assert_eq!(ContentHash::from_hex(&text.to_uppercase()), None);
    assert_eq!(ContentHash::from_hex(&text[..63]), None);
}

#[test]
fn empty_snapshot_is_one_chunk() {
    let snapshot = SourceSnapshot::new(SourceId::entra());

    let chunks = split(&snapshot, &tenant(), Uuid::from_u128(1), DEFAULT_MAX_CHUNK_BYTES).unwrap();

    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].chunk_count, 1);
    assert!(chunks[0].settings.is_some());
    assert_eq!(chunks[0].tenant, "harborview");
    assert_eq!(chunks[0].source, "entra");
    assert_eq!(chunks[0].snapshot_id, "00000000-0000-0000-0000-000000000001");
}

#[test]
fn settings_only_in_first_chunk() {
    let mut snapshot = SourceSnapshot::new(SourceId::entra());
    snapshot.accounts = (0..200).map(|i| Account::new(format!("account-{i:04}"))).collect();

    let chunks = split(&snapshot, &tenant(), Uuid::from_u128(2), 1024).unwrap();

    assert!(chunks.len() > 2);
    assert!(chunks[0].settings.is_some());
    assert!(chunks[1..].iter().all(|chunk| chunk.settings.is_none()));
    let accounts: usize = chunks.iter().map(|chunk| chunk.accounts.len()).sum();
    assert_eq!(accounts, 200);
}

#[test]
fn large_snapshot_fits_default_limit() {
    let mut snapshot = SourceSnapshot::new(SourceId::ehr("epic").unwrap());
    snapshot.accounts = (0..20_000)
        .map(|i| {
            let mut account = Account::new(format!("U-{i:06}"));
            account.display_name = Some(format!("Example Person {i}"));
            account.attributes.insert("LinkedTemplate".to_owned(), "T-FRONTDESK-0001".to_owned());
            account
        })
        .collect();

    let chunks = split(&snapshot, &tenant(), Uuid::from_u128(3), DEFAULT_MAX_CHUNK_BYTES).unwrap();

    assert!(chunks.len() >= 2, "{} chunks", chunks.len());
    for chunk in &chunks {
        assert!(chunk.encoded_len() <= DEFAULT_MAX_CHUNK_BYTES, "{} bytes", chunk.encoded_len());
    }
}

#[test]
fn limit_below_header_rejected() {
    let snapshot = SourceSnapshot::new(SourceId::entra());

    let error = split(&snapshot, &tenant(), Uuid::from_u128(4), 64).unwrap_err();

    let SplitError::LimitTooSmall { max, needed } = error else { panic!("{error:?}") };
    assert_eq!(max, 64);
    assert!(needed > 64);
    assert!(error.to_string().starts_with("the chunk size limit of `64` bytes is below the `"));
}

#[test]
fn oversized_record_rejected() {
    let mut snapshot = SourceSnapshot::new(SourceId::entra());
    let mut account = Account::new("7f3c");
    account.attributes.insert("notes".to_owned(), "x".repeat(5000));
    snapshot.accounts.push(account);

    let error = split(&snapshot, &tenant(), Uuid::from_u128(5), 4096).unwrap_err();

    let SplitError::RecordTooLarge { ref record, bytes, max } = error else { panic!("{error:?}") };
    assert_eq!(record, "account `7f3c`");
    assert!(bytes > 5000);
    assert_eq!(max, 4096);
    assert!(error.to_string().starts_with("account `7f3c` encodes to `"));
}

#[test]
fn chunk_message_id_has_index() {
    let snapshot = SourceSnapshot::new(SourceId::entra());
    let id = Uuid::parse_str("0f8e2c1a-5b7d-4e39-9a61-2d4c8b0e7f13").unwrap();

    let chunks = split(&snapshot, &tenant(), id, DEFAULT_MAX_CHUNK_BYTES).unwrap();

    assert_eq!(chunks[0].nats_msg_id(), "0f8e2c1a-5b7d-4e39-9a61-2d4c8b0e7f13:0");
}

#[test]
fn altered_record_fails_hash() {
    let mut snapshot = SourceSnapshot::new(SourceId::entra());
    snapshot.accounts = (0..50).map(|i| Account::new(format!("account-{i:04}"))).collect();
    let mut chunks = split(&snapshot, &tenant(), Uuid::from_u128(6), 1024).unwrap();
    chunks[1].accounts[0].display_name = Some("Altered".to_owned());
    let expected = ContentHash::of(&snapshot);

    let mut assembler = Assembler::new();
    let now = Instant::now();
    let results: Vec<_> = chunks.into_iter().map(|chunk| assembler.accept(chunk, now)).collect();

    let Some(Err(AssembleError::HashMismatch { expected: announced, actual, .. })) = results.last()
    else {
        panic!("{results:?}")
    };
    assert_eq!(*announced, expected);
    assert_ne!(*actual, expected);
    assert!(assembler.pending(now).is_empty());
}

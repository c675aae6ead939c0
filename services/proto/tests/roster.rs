//! The HR roster as the snapshot of source `hr`: splitting, assembling, hashing and the
//! checks that keep workers and directory records apart.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

mod support;

use std::time::Instant;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use rollcall_core::TenantId;
use rollcall_core::model::{HrSnapshot, SourceId, SourceSnapshot};
use rollcall_proto::{
    AssembleError, Assembler, ContentHash, ConvertError, SnapshotContent, SplitError,
    hr_roster_from_proto, hr_roster_to_proto, source_snapshot_to_proto, split, split_roster, v1,
    worker_to_proto,
};
use uuid::Uuid;

fn tenant() -> TenantId {
    TenantId::new("harborview").unwrap()
}

prop_compose! {
    fn roster(max_workers: usize)(
        collected_at in support::optional_instant(),
        workers in vec(support::worker(), 0..=max_workers),
    ) -> HrSnapshot {
        HrSnapshot { collected_at, workers }
    }
}

proptest! {
    #[test]
    fn roster_round_trips_through_chunks(
        roster in roster(40),
        max in 600usize..4000,
        id in any::<u128>(),
    ) {
        let chunks = split_roster(&roster, &tenant(), Uuid::from_u128(id), max).unwrap();
        for chunk in &chunks {
            prop_assert_eq!(chunk.source.as_str(), "hr");
            prop_assert!(chunk.accounts.is_empty());
        }
        let mut assembler = Assembler::new();
        let mut done = None;
        for chunk in chunks.into_iter().rev() {
            done = assembler.accept(chunk, Instant::now()).unwrap();
        }
        let done = done.unwrap();
        prop_assert_eq!(done.content_hash, ContentHash::of_roster(&roster));
        prop_assert_eq!(done.content, SnapshotContent::Roster(roster));
    }

    #[test]
    fn roster_hash_ignores_worker_order(roster in roster(12)) {
        let mut reversed = roster.clone();
        reversed.workers.reverse();
        prop_assert_eq!(ContentHash::of_roster(&reversed), ContentHash::of_roster(&roster));
    }

    #[test]
    fn roster_message_round_trips(roster in roster(12)) {
        let back = hr_roster_from_proto(hr_roster_to_proto(&roster)).unwrap();
        prop_assert_eq!(back, roster);
    }
}

fn one_worker_roster(employee_id: &str) -> HrSnapshot {
    let mut roster = HrSnapshot { collected_at: None, workers: Vec::new() };
    let strategy = support::worker();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut worker = strategy.new_tree(&mut runner).unwrap().current();
    worker.employee_id = employee_id.to_owned();
    roster.workers.push(worker);
    roster
}

#[test]
fn changed_worker_changes_the_hash() {
    let first = one_worker_roster("E100");
    let second = one_worker_roster("E101");
    assert_ne!(ContentHash::of_roster(&first), ContentHash::of_roster(&second));
}

#[test]
fn directory_split_refuses_the_hr_source() {
    let snapshot = SourceSnapshot::new(SourceId::hr());
    let error = split(&snapshot, &tenant(), Uuid::from_u128(1), 4096).unwrap_err();
    assert!(matches!(error, SplitError::HrSource { .. }), "{error:?}");
    assert!(error.to_string().contains("split_roster"), "{error}");
}

#[test]
fn hr_chunk_with_accounts_is_rejected() {
    let roster = one_worker_roster("E100");
    let mut chunks = split_roster(&roster, &tenant(), Uuid::from_u128(2), 4096).unwrap();
    let entra = SourceSnapshot::new(SourceId::entra());
    let directory = split(&entra, &tenant(), Uuid::from_u128(3), 4096).unwrap();
    // Give the roster chunk a directory record: the assembler must not read it as a worker.
    let mut with_account = directory[0].clone();
    with_account.accounts.push(v1::Account { id: "a1".to_owned(), ..v1::Account::default() });
    chunks[0].accounts = with_account.accounts;
    let error = Assembler::new().accept(chunks.remove(0), Instant::now()).unwrap_err();
    let AssembleError::InvalidChunk { source, .. } = error else { panic!("{error:?}") };
    assert_eq!(source.field(), "accounts");
}

#[test]
fn directory_chunk_with_workers_is_rejected() {
    let entra = SourceSnapshot::new(SourceId::entra());
    let mut chunks = split(&entra, &tenant(), Uuid::from_u128(4), 4096).unwrap();
    let roster = one_worker_roster("E100");
    chunks[0].workers = roster.workers.iter().map(worker_to_proto).collect();
    let error = Assembler::new().accept(chunks.remove(0), Instant::now()).unwrap_err();
    let AssembleError::InvalidChunk { source, .. } = error else { panic!("{error:?}") };
    assert_eq!(source.field(), "workers");
}

#[test]
fn roster_conversion_refuses_a_directory_snapshot() {
    let message = source_snapshot_to_proto(&SourceSnapshot::new(SourceId::entra()));
    let error = hr_roster_from_proto(message).unwrap_err();
    assert!(matches!(&error, ConvertError::NotHrRoster { value, .. } if value == "entra"));
}

#[test]
fn oversized_worker_is_named() {
    let mut roster = one_worker_roster("E-LONG");
    roster.workers[0].department = Some("x".repeat(5000));
    let error = split_roster(&roster, &tenant(), Uuid::from_u128(5), 2048).unwrap_err();
    assert!(error.to_string().contains("worker `E-LONG`"), "{error}");
}

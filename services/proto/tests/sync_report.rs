//! Sync reports: conversion both ways and the checks on what a report may claim.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use chrono::{DateTime, TimeZone, Utc};
use rollcall_core::TenantId;
use rollcall_core::model::{SourceId, SourceSnapshot};
use rollcall_proto::{
    ContentHash, ConvertError, InputProblem, SyncOutcome, SyncReport, sync_report_from_proto,
    sync_report_to_proto, v1,
};
use uuid::Uuid;

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, second).unwrap()
}

fn problem(input: &str, fatal: bool) -> InputProblem {
    InputProblem {
        input: input.to_owned(),
        location: Some("line 7".to_owned()),
        message: "the column `Status` is missing: export the report with every column".to_owned(),
        fatal,
    }
}

fn ok_report() -> SyncReport {
    SyncReport {
        report_id: Uuid::from_u128(0x51),
        tenant: TenantId::new("harborview").unwrap(),
        source: "ehr:athenahealth".parse::<SourceId>().unwrap(),
        started_at: at(0),
        finished_at: at(4),
        outcome: SyncOutcome::Ok,
        snapshot_id: Some(Uuid::from_u128(0x52)),
        content_hash: Some(ContentHash::of(&SourceSnapshot::new(SourceId::entra()))),
        problems: vec![problem("athena/users.csv", false)],
        connector: "file-connector".to_owned(),
    }
}

fn failed_report() -> SyncReport {
    SyncReport {
        outcome: SyncOutcome::Failed,
        snapshot_id: None,
        content_hash: None,
        problems: vec![problem("athena/users.csv", false), problem("athena/access.csv", true)],
        ..ok_report()
    }
}

#[test]
fn ok_report_round_trips() {
    let report = ok_report();
    let message = sync_report_to_proto(&report);
    assert_eq!(message.nats_msg_id(), "00000000-0000-0000-0000-000000000051");
    assert_eq!(sync_report_from_proto(message).unwrap(), report);
}

#[test]
fn failed_report_lists_fatal_problems_first() {
    let message = sync_report_to_proto(&failed_report());
    let inputs: Vec<&str> = message.problems.iter().map(|p| p.input.as_str()).collect();
    assert_eq!(inputs, ["athena/access.csv", "athena/users.csv"]);
    let back = sync_report_from_proto(message).unwrap();
    assert_eq!(back.outcome, SyncOutcome::Failed);
    assert!(back.problems[0].fatal);
}

fn rejected(edit: impl FnOnce(&mut v1::SyncReport), report: &SyncReport) -> ConvertError {
    let mut message = sync_report_to_proto(report);
    edit(&mut message);
    sync_report_from_proto(message).unwrap_err()
}

#[test]
fn failed_report_without_fatal_problem_is_rejected() {
    let error = rejected(|m| m.problems.iter_mut().for_each(|p| p.fatal = false), &failed_report());
    assert_eq!(error.field(), "problems");
}

#[test]
fn failed_report_with_snapshot_is_rejected() {
    let error =
        rejected(|m| m.snapshot_id = Some(Uuid::from_u128(9).to_string()), &failed_report());
    assert_eq!(error.field(), "snapshot_id");
}

#[test]
fn ok_report_with_fatal_problem_is_rejected() {
    let error = rejected(|m| m.problems[0].fatal = true, &ok_report());
    assert_eq!(error.field(), "problems.fatal");
}

#[test]
fn ok_report_needs_its_hash() {
    let error = rejected(|m| m.content_sha256 = None, &ok_report());
    assert_eq!(error.field(), "content_sha256");
}

#[test]
fn end_before_start_is_rejected() {
    let error = rejected(|m| std::mem::swap(&mut m.started_at, &mut m.finished_at), &ok_report());
    assert!(matches!(error, ConvertError::Before { .. }), "{error:?}");
    assert!(error.to_string().contains("must not be earlier"), "{error}");
}

#[test]
fn unspecified_outcome_and_empty_texts_are_rejected() {
    assert_eq!(rejected(|m| m.outcome = 0, &ok_report()).field(), "outcome");
    assert_eq!(rejected(|m| m.connector.clear(), &ok_report()).field(), "connector");
    assert_eq!(
        rejected(|m| m.problems[0].input.clear(), &ok_report()).field(),
        "problems[0].input"
    );
    assert_eq!(
        rejected(|m| m.problems[0].message.clear(), &ok_report()).field(),
        "problems[0].message"
    );
    assert_eq!(rejected(|m| m.tenant = "Bad Tenant".to_owned(), &ok_report()).field(), "tenant");
}

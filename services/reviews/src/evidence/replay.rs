//! Replaying the campaign's audit entries and comparing the result with `campaign.json`:
//! each item's decision, decider, instant and justification, the reviewer after a
//! delegation, the sign-offs, the status and the closing instant.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::files::{AuditLine, CAMPAIGN_FILE, CampaignFile, RemovalRecord, SignoffRecord};
use super::verify::Problem;

/// An item's state after the entries so far.
#[derive(Debug, Default, Clone)]
struct ItemState {
    decision: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<String>,
    justification: Option<String>,
    /// Known only after a delegation or reassignment; the launch entry lists no reviewers
    /// per item.
    reviewer: Option<String>,
    /// The entry that last changed the item.
    last_seq: Option<u64>,
    /// The removal after a revoke decision, once the campaign closed.
    removal: Option<RemovalRecord>,
    /// The entry that last changed the removal.
    removal_seq: Option<u64>,
}

/// One entry about the campaign with its parsed detail.
pub(crate) struct CampaignEntry<'a> {
    pub line: &'a AuditLine,
    pub detail: Value,
}

fn text(detail: &Value, key: &str) -> Option<String> {
    detail.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn same_instant(left: &str, right: &str) -> bool {
    let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok().map(|d| d.with_timezone(&Utc));
    matches!((parse(left), parse(right)), (Some(l), Some(r)) if l == r)
}

fn same_optional_instant(left: Option<&String>, right: Option<&String>) -> bool {
    match (left, right) {
        (Some(left), Some(right)) => same_instant(left, right),
        (None, None) => true,
        _ => false,
    }
}

/// Applies an entry about a requested removal to the item states.
fn replay_removal(
    action: &str,
    detail: &Value,
    seq: u64,
    at: &str,
    states: &mut BTreeMap<i32, ItemState>,
) {
    if action == "review.revocations_requested" {
        let ids = detail.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        for id in ids.iter().filter_map(Value::as_i64) {
            let Some(state) = i32::try_from(id).ok().and_then(|id| states.get_mut(&id)) else {
                continue;
            };
            state.removal = Some(RemovalRecord {
                state: "open".into(),
                requested_at: at.to_owned(),
                verified_at: None,
                returned_at: None,
                overdue_at: None,
            });
            state.removal_seq = Some(seq);
        }
        return;
    }
    let id = detail.get("item").and_then(Value::as_i64).and_then(|id| i32::try_from(id).ok());
    let Some(state) = id.and_then(|id| states.get_mut(&id)) else { return };
    let Some(removal) = state.removal.as_mut() else { return };
    let synced = text(detail, "synced_at");
    match action {
        "review.revocation_verified" => {
            removal.state = "verified".into();
            removal.verified_at = synced;
        }
        "review.revocation_overdue" => removal.overdue_at = Some(at.to_owned()),
        "review.revoked_grant_returned" => {
            removal.state = "returned".into();
            removal.returned_at = synced;
        }
        _ => return,
    }
    state.removal_seq = Some(seq);
}

/// Replays `entries` (in chain order, every one about the campaign) and appends a problem
/// for each record of `file` that disagrees with them.
pub(crate) fn check_against_chain(
    file: &CampaignFile,
    entries: &[CampaignEntry<'_>],
    problems: &mut Vec<Problem>,
) {
    let campaign = &file.header.campaign;
    let mut states: BTreeMap<i32, ItemState> =
        file.items.iter().map(|item| (item.item_id, ItemState::default())).collect();
    let mut signoffs = BTreeSet::new();
    let mut status: Option<String> = None;
    let mut closed_at: Option<String> = None;
    let mut launched = false;
    let problem =
        |record: String, message: String| Problem::new(CAMPAIGN_FILE, Some(record), message);

    for entry in entries {
        let line = entry.line;
        let detail = &entry.detail;
        let seq = line.seq;
        let at = line.recorded_at.clone().unwrap_or_default();
        let actor = line.actor.clone().unwrap_or_default();
        match line.action.as_deref().unwrap_or_default() {
            "review.launched" => {
                if launched {
                    problems.push(problem(
                        "the campaign".into(),
                        format!("audit entry `{seq}` launches the campaign a second time"),
                    ));
                }
                launched = true;
                let count = detail.get("items").and_then(Value::as_u64);
                if count != Some(file.items.len() as u64) {
                    problems.push(problem(
                        "the item list".into(),
                        format!(
                            "the file has {} items, but audit entry `{seq}` launched {}",
                            file.items.len(),
                            count.map_or_else(|| "an unknown number".to_owned(), |c| c.to_string())
                        ),
                    ));
                }
                for (key, expected) in
                    [("definition_id", &campaign.definition_id), ("period", &campaign.period)]
                {
                    if text(detail, key).as_ref() != Some(expected) {
                        problems.push(problem(
                            "the campaign".into(),
                            format!(
                                "`{key}` is `{expected}`, but audit entry `{seq}` records {:?}",
                                text(detail, key)
                            ),
                        ));
                    }
                }
                let deadline = text(detail, "deadline").unwrap_or_default();
                if !same_instant(&deadline, &campaign.deadline) {
                    problems.push(problem(
                        "the campaign".into(),
                        format!(
                            "`deadline` is `{}`, but audit entry `{seq}` records `{deadline}`",
                            campaign.deadline
                        ),
                    ));
                }
                if !same_instant(&at, &campaign.launched_at) {
                    problems.push(problem(
                        "the campaign".into(),
                        format!(
                            "`launched_at` is `{}`, but audit entry `{seq}` was recorded at `{at}`",
                            campaign.launched_at
                        ),
                    ));
                }
                if file.items.is_empty() {
                    status = Some("closed".into());
                    closed_at = Some(at.clone());
                } else {
                    status = Some("open".into());
                }
            }
            "review.decided" => {
                let decision = text(detail, "decision").unwrap_or_default();
                let ids =
                    detail.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
                for id in ids {
                    let Some(id) = id.as_i64().and_then(|id| i32::try_from(id).ok()) else {
                        continue;
                    };
                    let Some(state) = states.get_mut(&id) else {
                        problems.push(problem(
                            format!("item {id}"),
                            format!("audit entry `{seq}` decides item {id}, which the file does not contain"),
                        ));
                        continue;
                    };
                    state.last_seq = Some(seq);
                    match decision.as_str() {
                        "approve" | "revoke" => {
                            state.decision = Some(decision.clone());
                            state.decided_by = Some(actor.clone());
                            state.decided_at = Some(at.clone());
                            state.justification = text(detail, "justification");
                        }
                        _ => {
                            state.reviewer = text(detail, "to");
                            state.decision = None;
                            state.decided_by = None;
                            state.decided_at = None;
                            state.justification = None;
                        }
                    }
                }
            }
            "review.signed_off" => {
                let stage = detail.get("stage").and_then(Value::as_i64).unwrap_or_default();
                signoffs.insert(SignoffRecord {
                    stage: i16::try_from(stage).unwrap_or_default(),
                    reviewer: actor.clone(),
                    signed_at: at.clone(),
                });
                status = text(detail, "status");
                if status.as_deref() == Some("closed") {
                    closed_at = Some(at.clone());
                }
            }
            "review.expired" => {
                let decision = text(detail, "decision").unwrap_or_default();
                let mut decided = 0u64;
                for state in states.values_mut().filter(|state| state.decision.is_none()) {
                    state.decision = Some(decision.clone());
                    state.decided_by = Some(actor.clone());
                    state.decided_at = Some(at.clone());
                    state.justification = Some("the default action at the deadline".into());
                    state.last_seq = Some(seq);
                    decided += 1;
                }
                let recorded = detail.get("items").and_then(Value::as_u64);
                if recorded != Some(decided) {
                    problems.push(problem(
                        "the item list".into(),
                        format!("audit entry `{seq}` decided {recorded:?} items at the deadline, but the file leaves {decided} undecided before it"),
                    ));
                }
                status = Some("closed".into());
                closed_at = Some(at.clone());
            }
            "review.revocations_requested"
            | "review.revocation_verified"
            | "review.revocation_overdue"
            | "review.revoked_grant_returned" => {
                let action = line.action.as_deref().unwrap_or_default();
                replay_removal(action, detail, seq, &at, &mut states);
            }
            // Exports change no record.
            _ => {}
        }
    }

    if !launched {
        problems.push(Problem::new(
            super::files::AUDIT_FILE,
            None,
            "the pack has no `review.launched` entry for the campaign, so its records cannot be checked".into(),
        ));
        return;
    }
    for item in &file.items {
        let Some(state) = states.get(&item.item_id) else { continue };
        let entry = state
            .last_seq
            .map_or_else(|| "no audit entry".to_owned(), |seq| format!("audit entry `{seq}`"));
        let fields = [
            ("decision", &item.decision, &state.decision),
            ("decided_by", &item.decided_by, &state.decided_by),
            ("justification", &item.justification, &state.justification),
        ];
        for (name, recorded, replayed) in fields {
            if recorded != replayed {
                problems.push(problem(
                    format!("item {}", item.item_id),
                    format!("`{name}` is {recorded:?}, but {entry} gives {replayed:?}"),
                ));
            }
        }
        let instants_agree = match (&item.decided_at, &state.decided_at) {
            (Some(recorded), Some(replayed)) => same_instant(recorded, replayed),
            (None, None) => true,
            _ => false,
        };
        if !instants_agree {
            problems.push(problem(
                format!("item {}", item.item_id),
                format!(
                    "`decided_at` is {:?}, but {entry} gives {:?}",
                    item.decided_at, state.decided_at
                ),
            ));
        }
        check_removal(item.item_id, item.removal.as_ref(), state, problems);
        if let Some(reviewer) = &state.reviewer
            && reviewer != &item.reviewer
        {
            problems.push(problem(
                format!("item {}", item.item_id),
                format!("`reviewer` is `{}`, but {entry} gives `{reviewer}`", item.reviewer),
            ));
        }
    }

    let recorded: BTreeSet<(i16, &str, &str)> = file
        .signoffs
        .iter()
        .map(|s| (s.stage, s.reviewer.as_str(), s.signed_at.as_str()))
        .collect();
    let replayed: BTreeSet<(i16, &str, &str)> =
        signoffs.iter().map(|s| (s.stage, s.reviewer.as_str(), s.signed_at.as_str())).collect();
    for (stage, reviewer, at) in recorded.difference(&replayed) {
        problems.push(problem(
            "the sign-offs".into(),
            format!("the stage {stage} sign-off of `{reviewer}` at `{at}` has no audit entry"),
        ));
    }
    for (stage, reviewer, at) in replayed.difference(&recorded) {
        problems.push(problem(
            "the sign-offs".into(),
            format!("the audit chain records a stage {stage} sign-off of `{reviewer}` at `{at}` that the file lacks"),
        ));
    }

    if status.as_deref() != Some(campaign.status.as_str()) {
        problems.push(problem(
            "the campaign".into(),
            format!("`status` is `{}`, but the audit chain gives {status:?}", campaign.status),
        ));
    }
    let closed_agree = match (&campaign.closed_at, &closed_at) {
        (Some(recorded), Some(replayed)) => same_instant(recorded, replayed),
        (None, None) => true,
        _ => false,
    };
    if !closed_agree {
        problems.push(problem(
            "the campaign".into(),
            format!(
                "`closed_at` is {:?}, but the audit chain gives {closed_at:?}",
                campaign.closed_at
            ),
        ));
    }
}

/// Compares an item's recorded removal with the replayed one.
fn check_removal(
    item_id: i32,
    recorded: Option<&RemovalRecord>,
    state: &ItemState,
    problems: &mut Vec<Problem>,
) {
    let entry = state
        .removal_seq
        .map_or_else(|| "no audit entry".to_owned(), |seq| format!("audit entry `{seq}`"));
    let agree = match (recorded, state.removal.as_ref()) {
        (Some(recorded), Some(replayed)) => {
            recorded.state == replayed.state
                && same_instant(&recorded.requested_at, &replayed.requested_at)
                && same_optional_instant(
                    recorded.verified_at.as_ref(),
                    replayed.verified_at.as_ref(),
                )
                && same_optional_instant(
                    recorded.returned_at.as_ref(),
                    replayed.returned_at.as_ref(),
                )
                && same_optional_instant(recorded.overdue_at.as_ref(), replayed.overdue_at.as_ref())
        }
        (None, None) => true,
        _ => false,
    };
    if !agree {
        problems.push(Problem::new(
            CAMPAIGN_FILE,
            Some(format!("item {item_id}")),
            format!("`removal` is {recorded:?}, but {entry} gives {:?}", state.removal),
        ));
    }
}

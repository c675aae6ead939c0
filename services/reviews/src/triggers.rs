//! Event-triggered reviews: a small campaign for one person, opened as soon as an
//! evaluation finds a new privileged grant or a change of someone's job roles in HR,
//! instead of at the next scheduled campaign.
//!
//! Each check compares the tenant's data with what the previous check saw
//! (`review_trigger_state`). The first check only records what it finds, and so does a
//! check for a source that synced for the first time. Each trigger has
//! a key made of what changed and the id of the snapshot that showed it. The campaign's
//! definition id is derived from that key and its period start is fixed, so the unique
//! constraint on (tenant, definition, period) opens one campaign per trigger, also when a
//! snapshot is redelivered or two replicas check at once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use rollcall_core::context::Context;
use rollcall_core::{Tenant, TenantData};
use rollcall_ingest::tenant_file::{Campaign, ScopeSpec};
use rollcall_store::{
    NewReviewCampaign, NewReviewItem, ReviewLaunch, TenantScope, TriggerBaseline,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::ReviewError;
use crate::items::{ReviewItem, build_items};
use crate::launch::{LAUNCH_ACTOR, row_of};

/// The period label of every event-triggered campaign.
pub const EVENT_PERIOD: &str = "event";

/// The cause of an event-triggered review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A privileged grant that the previous check did not see.
    PrivilegedGrant {
        /// The person's identity key.
        reviewee: String,
        /// The grant's key.
        item_key: String,
        /// The snapshot of the grant's source that showed it.
        snapshot_id: String,
    },
    /// A change of an HR worker's job roles.
    JobRoleChange {
        /// The person's identity key.
        reviewee: String,
        /// The HR employee id.
        employee_id: String,
        /// The roles before.
        before: BTreeSet<String>,
        /// The roles after.
        after: BTreeSet<String>,
        /// The HR snapshot that showed the change.
        snapshot_id: String,
    },
}

impl Trigger {
    /// Returns the trigger's unique key: what changed and the snapshot that showed it.
    pub fn key(&self) -> String {
        match self {
            Trigger::PrivilegedGrant { item_key, snapshot_id, .. } => {
                format!("privileged_grant:{item_key}@{snapshot_id}")
            }
            Trigger::JobRoleChange { employee_id, after, snapshot_id, .. } => {
                let roles: Vec<&str> = after.iter().map(String::as_str).collect();
                format!("job_role:{employee_id}:{}@{snapshot_id}", roles.join(","))
            }
        }
    }

    /// Returns the campaign definition id of the trigger's review: `event-` and the first
    /// 24 hex digits of the SHA-256 of [`Trigger::key`].
    pub fn definition_id(&self) -> String {
        let digest = Sha256::digest(self.key().as_bytes());
        let hex: String = digest.iter().take(12).map(|byte| format!("{byte:02x}")).collect();
        format!("event-{hex}")
    }

    fn reviewee(&self) -> &str {
        match self {
            Trigger::PrivilegedGrant { reviewee, .. } | Trigger::JobRoleChange { reviewee, .. } => {
                reviewee
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Trigger::PrivilegedGrant { .. } => "privileged_grant",
            Trigger::JobRoleChange { .. } => "job_role_change",
        }
    }
}

/// One event-triggered review and what its launch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventReview {
    /// The cause.
    pub trigger: Trigger,
    /// Launched, or already launched by an earlier check of the same trigger.
    pub outcome: ReviewLaunch,
}

/// Compares the tenant's data at `now` with the previous check and opens one small
/// campaign per trigger, with the reviewers, deadline and default action of `definition`.
/// A new privileged grant is reviewed alone; a job-role change reviews every grant of the
/// person. The first check only records what it finds. Returns the reviews of this check.
pub async fn open_event_reviews(
    scope: &TenantScope<'_>,
    tenant: &Tenant,
    definition: &Campaign,
    data: &TenantData,
    now: DateTime<Utc>,
) -> Result<Vec<EventReview>, ReviewError> {
    let previous = scope.review_trigger_baseline().await?;
    let snapshots: BTreeMap<String, String> = scope
        .source_states()
        .await?
        .into_iter()
        .map(|state| (state.source.to_string(), state.snapshot_id.to_string()))
        .collect();

    let everyone = Campaign { scope: ScopeSpec::Everyone, ..definition.clone() };
    let (items, current, triggers) = {
        let ctx = Context::new(tenant, data, now);
        let items = build_items(&ctx, &everyone, None);
        let current = baseline(&ctx, &items, &snapshots);
        let triggers = match &previous {
            Some(previous) => find_triggers(previous, &current, &items, &ctx, &snapshots),
            None => Vec::new(),
        };
        (items, current, triggers)
    };

    let mut reviews = Vec::with_capacity(triggers.len());
    for trigger in triggers {
        let chosen: Vec<&ReviewItem> = items
            .iter()
            .filter(|item| item.reviewee == trigger.reviewee())
            .filter(|item| match &trigger {
                Trigger::PrivilegedGrant { item_key, .. } => &item.key == item_key,
                Trigger::JobRoleChange { .. } => true,
            })
            .collect();
        if chosen.is_empty() {
            continue;
        }
        let outcome = launch_event(scope, definition, &trigger, &chosen, now).await?;
        reviews.push(EventReview { trigger, outcome });
    }
    scope.store_review_trigger_baseline(&current, now).await?;
    Ok(reviews)
}

/// Records the synced sources, the privileged grants and the job roles of every HR
/// worker who has not left.
fn baseline(
    ctx: &Context<'_>,
    items: &[ReviewItem],
    snapshots: &BTreeMap<String, String>,
) -> TriggerBaseline {
    let privileged_grants =
        items.iter().filter(|item| item.privileged).map(|item| item.key.clone()).collect();
    let mut job_roles = BTreeMap::new();
    for identity in ctx.identities().iter().filter(|view| !view.has_left) {
        let Some(worker) = identity.worker else { continue };
        let roles = identity.roles.iter().map(|role| role.name.clone()).collect();
        job_roles.insert(worker.employee_id.clone(), roles);
    }
    let sources = snapshots.keys().cloned().collect();
    TriggerBaseline { sources, privileged_grants, job_roles }
}

fn find_triggers(
    previous: &TriggerBaseline,
    current: &TriggerBaseline,
    items: &[ReviewItem],
    ctx: &Context<'_>,
    snapshots: &BTreeMap<String, String>,
) -> Vec<Trigger> {
    let mut triggers = Vec::new();
    // A source synced for the first time can make grants of the other sources privileged
    // (its accounts link to the same people), so a check that sees a new source records
    // the privileged grants and opens nothing for them.
    let new_source = current.sources.difference(&previous.sources).next().is_some();
    for key in current.privileged_grants.difference(&previous.privileged_grants) {
        if new_source {
            break;
        }
        let Some(item) = items.iter().find(|item| &item.key == key) else { continue };
        // Every grant of a source synced for the first time is new to the check, not to
        // the practice, so it waits for the scheduled campaigns.
        if !previous.sources.contains(&item.source) {
            continue;
        }
        triggers.push(Trigger::PrivilegedGrant {
            reviewee: item.reviewee.clone(),
            item_key: key.clone(),
            snapshot_id: snapshots.get(&item.source).cloned().unwrap_or_default(),
        });
    }
    let hr_snapshot = snapshots.get("hr").cloned().unwrap_or_default();
    if !previous.sources.contains("hr") {
        return triggers;
    }
    for (employee_id, after) in &current.job_roles {
        // A worker new to HR has no roles to change from; their grants are new grants.
        let Some(before) = previous.job_roles.get(employee_id) else { continue };
        if before == after {
            continue;
        }
        let identities = ctx.identities();
        let reviewee = identities
            .iter()
            .find(|view| view.worker.is_some_and(|w| &w.employee_id == employee_id))
            .map(|view| view.identity.key.clone());
        let Some(reviewee) = reviewee else { continue };
        triggers.push(Trigger::JobRoleChange {
            reviewee,
            employee_id: employee_id.clone(),
            before: before.clone(),
            after: after.clone(),
            snapshot_id: hr_snapshot.clone(),
        });
    }
    triggers
}

async fn launch_event(
    scope: &TenantScope<'_>,
    definition: &Campaign,
    trigger: &Trigger,
    items: &[&ReviewItem],
    now: DateTime<Utc>,
) -> Result<ReviewLaunch, ReviewError> {
    let rows: Vec<NewReviewItem> = items
        .iter()
        .enumerate()
        .map(|(index, item)| row_of(item, index))
        .collect::<Result<_, _>>()?;
    let person = items.first().map(|item| item.person.name.as_str()).unwrap_or_default();
    let name = match trigger {
        Trigger::PrivilegedGrant { .. } => {
            let access = items.first().map(|item| item.entitlement.text.as_str());
            format!("New privileged access of {person}: {}", access.unwrap_or_default())
        }
        Trigger::JobRoleChange { before, after, .. } => {
            let list = |roles: &BTreeSet<String>| {
                if roles.is_empty() {
                    "no role".to_owned()
                } else {
                    roles.iter().cloned().collect::<Vec<_>>().join(", ")
                }
            };
            format!("Job role change of {person}: {} to {}", list(before), list(after))
        }
    };
    let new = NewReviewCampaign {
        definition_id: trigger.definition_id(),
        period_start: DateTime::UNIX_EPOCH,
        period_label: EVENT_PERIOD.to_owned(),
        name,
        definition: json!({
            "trigger": trigger.kind(),
            "trigger_key": trigger.key(),
            "reviewee": trigger.reviewee(),
            "based_on": definition.id,
        }),
        launched_at: now,
        deadline: now + TimeDelta::days(i64::from(definition.deadline_days)),
        at_expiry: definition.at_expiry.as_str().to_owned(),
        fallback_reviewer: format!("hr:{}", definition.fallback_reviewer),
        second_stage_reviewer: definition
            .second_stage_reviewer
            .as_ref()
            .map(|id| format!("hr:{id}")),
        grant_keys: None,
    };
    let outcome = scope.launch_review_campaign(&new, &rows, LAUNCH_ACTOR).await?;
    tracing::info!(
        tenant = %scope.tenant_id(),
        trigger = trigger.kind(),
        definition_id = %new.definition_id,
        items = rows.len(),
        launched = matches!(outcome, ReviewLaunch::Launched { .. }),
        "event-triggered review"
    );
    Ok(outcome)
}

//! Launching campaigns: the freshness check, freezing the items, and the scheduler.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::task::Poll;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::Stream;
use rollcall_core::Tenant;
use rollcall_core::context::Context;
use rollcall_ingest::tenant_file::{Campaign, Schedule, ScopeSpec, parse_stored};
use rollcall_store::{
    NewReviewCampaign, NewReviewItem, ReviewFacts, ReviewLaunch, StoreError, TenantScope,
};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::error::ReviewError;
use crate::items::{Action, Baseline, ReviewItem, UnavailableOwner, all_grant_keys, for_each_item};
use crate::period::{Period, current_period};

/// The actor of launches and expiries in the audit chain.
pub const LAUNCH_ACTOR: &str = "rollcall-reviews";

/// Checks that every source of the tenant synced within the campaign's `max_source_age`
/// before `now`. A source's last sync is the collection instant of its latest applied
/// snapshot. The error names the oldest source that is too old.
///
/// NOTE: every source with a stored snapshot counts, also one the tenant no longer uses,
/// which blocks launches until its snapshot is removed.
pub async fn check_freshness(
    scope: &TenantScope<'_>,
    campaign: &Campaign,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let states = scope.source_states().await?;
    if states.is_empty() {
        return Err(ReviewError::NoSources { campaign: campaign.id.clone() });
    }
    let oldest = states.iter().min_by_key(|state| state.collected_at);
    if let Some(state) = oldest.filter(|state| now - state.collected_at > campaign.max_source_age) {
        return Err(ReviewError::stale(
            &campaign.id,
            &state.source.to_string(),
            state.collected_at,
            campaign.max_source_age,
            now,
        ));
    }
    Ok(())
}

/// Launches `campaign` for `period` at `now`: checks freshness, builds the items from the
/// stored snapshots and stores them frozen. Returns [`ReviewLaunch::AlreadyLaunched`] when
/// the period was launched before, also by a concurrent launch.
pub async fn launch(
    scope: &TenantScope<'_>,
    tenant: &Tenant,
    campaign: &Campaign,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<ReviewLaunch, ReviewError> {
    check_freshness(scope, campaign, now).await?;
    let data = scope.load_tenant_data().await?;
    let previous: Option<BTreeSet<String>> = match campaign.scope {
        ScopeSpec::AddedSinceLast => scope.last_review_grant_keys(&campaign.id).await?,
        _ => None,
    };

    // The items are built on a blocking thread and handed over in batches, so the store
    // sends one batch while the next is built, and a campaign of millions of items never
    // sits in memory whole. The grant keys come first, because the campaign's row stores
    // them.
    let (keys_tx, keys_rx) = oneshot::channel();
    let (batches_tx, mut batches_rx) = mpsc::channel(BATCHES_IN_FLIGHT);
    let builder = {
        let (tenant, campaign) = (tenant.clone(), campaign.clone());
        tokio::task::spawn_blocking(move || {
            let ctx = Context::new(&tenant, &data, now);
            build_batches(&ctx, &campaign, previous.as_ref(), keys_tx, &batches_tx)
        })
    };
    let Ok(grant_keys) = keys_rx.await else {
        return Err(builder_failed(builder.await.err(), campaign));
    };

    let new = NewReviewCampaign {
        definition_id: campaign.id.clone(),
        period_start: period.start,
        period_label: period.label.clone(),
        name: campaign.name.clone(),
        definition: definition_json(campaign),
        launched_at: now,
        deadline: now + TimeDelta::days(i64::from(campaign.deadline_days)),
        at_expiry: campaign.at_expiry.as_str().to_owned(),
        fallback_reviewer: format!("hr:{}", campaign.fallback_reviewer),
        second_stage_reviewer: campaign.second_stage_reviewer.as_ref().map(|id| format!("hr:{id}")),
        grant_keys,
    };
    let batches = handover_batches(&mut batches_rx, &campaign.id);
    let stored = scope.launch_review_campaign_from(&new, batches, LAUNCH_ACTOR).await;
    // The store has stopped reading, so the builder's next send fails and it ends.
    drop(batches_rx);
    let unavailable_owners = match builder.await {
        Ok(owners) => owners,
        Err(error) => return Err(builder_failed(Some(error), campaign)),
    };
    let outcome = stored?;
    match outcome {
        ReviewLaunch::Launched { campaign_id, items } => {
            warn_unavailable_owners(scope, campaign, &unavailable_owners);
            tracing::info!(
                tenant = %scope.tenant_id(),
                campaign = %campaign.id,
                period = %period.label,
                %campaign_id,
                items,
                "launched review campaign"
            );
        }
        ReviewLaunch::AlreadyLaunched => tracing::info!(
            tenant = %scope.tenant_id(),
            campaign = %campaign.id,
            period = %period.label,
            "review campaign already launched for the period"
        ),
    }
    Ok(outcome)
}

/// Items per batch handed from the item builder to the store: about a megabyte of JSON.
const BATCH_ITEMS: usize = 1_000;

/// Batches built ahead of the store. With the one being sent, this bounds the items in
/// memory to a few thousand.
const BATCHES_IN_FLIGHT: usize = 4;

/// A message from the item builder to the store.
enum Handover {
    /// The next rows.
    Rows(Vec<NewReviewItem>),
    /// An item that cannot be stored, which ends the launch.
    Failed(StoreError),
    /// Every item was sent.
    Done,
}

/// Builds the items of `campaign` and sends them to `batches` as rows, after sending the
/// grant keys to `keys` (`None` unless the scope is `added_since_last`), and ends with
/// `Done`. Stops when the receiving side is gone, and after sending an item that cannot
/// be stored as `Failed`. Returns the unavailable entitlement owners.
fn build_batches(
    ctx: &Context<'_>,
    campaign: &Campaign,
    previous: Option<&BTreeSet<String>>,
    keys: oneshot::Sender<Option<Vec<String>>>,
    batches: &mpsc::Sender<Handover>,
) -> Vec<UnavailableOwner> {
    let grant_keys = (campaign.scope == ScopeSpec::AddedSinceLast)
        .then(|| all_grant_keys(ctx).into_iter().collect());
    if keys.send(grant_keys).is_err() {
        return Vec::new();
    }
    let mut batch = Vec::with_capacity(BATCH_ITEMS);
    let mut index = 0;
    let mut stopped = false;
    let owners = for_each_item(ctx, campaign, previous, |item| {
        let row = match row_of(&item, index) {
            Ok(row) => row,
            Err(error) => {
                stopped = true;
                // Ignored: a closed channel means the store has its own error already.
                let _ = batches.blocking_send(Handover::Failed(error));
                return ControlFlow::Break(());
            }
        };
        index += 1;
        batch.push(row);
        if batch.len() == BATCH_ITEMS {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ITEMS));
            if batches.blocking_send(Handover::Rows(full)).is_err() {
                stopped = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    if !stopped {
        // Ignored for the same reason: the store reports why it stopped reading.
        let _ = batches.blocking_send(Handover::Rows(batch));
        let _ = batches.blocking_send(Handover::Done);
    }
    owners
}

/// Reads the builder's messages from `receiver` as the store's stream of batches. The
/// stream ends without an error after `Done` only. A channel closed without it means the
/// builder died, so the stream ends with an error and the store does not commit the items
/// it has. After an error the stream ends.
fn handover_batches<'r>(
    receiver: &'r mut mpsc::Receiver<Handover>,
    definition_id: &'r str,
) -> impl Stream<Item = Result<Vec<NewReviewItem>, StoreError>> + 'r {
    let mut done = false;
    futures_util::stream::poll_fn(move |cx| {
        if done {
            return Poll::Ready(None);
        }
        receiver.poll_recv(cx).map(|message| match message {
            Some(Handover::Rows(rows)) => Some(Ok(rows)),
            Some(Handover::Failed(error)) => {
                done = true;
                Some(Err(error))
            }
            Some(Handover::Done) => {
                done = true;
                None
            }
            None => {
                done = true;
                Some(Err(StoreError::LaunchItemsEnded {
                    definition_id: definition_id.to_owned(),
                    reason: "the item builder stopped before its last item".into(),
                }))
            }
        })
    })
}

/// Converts `item`, the campaign's `index`-th counted from 0, into its stored row.
pub(crate) fn row_of(item: &ReviewItem, index: usize) -> Result<NewReviewItem, StoreError> {
    Ok(NewReviewItem {
        item_key: item.key.clone(),
        reviewee: item.reviewee.clone(),
        reviewer: item.reviewer.clone(),
        reviewer_reason: item.reviewer_reason,
        privileged: item.privileged,
        outside_baseline: item.baseline != Baseline::Inside,
        recommend_revoke: item.recommendation.action == Action::Revoke,
        facts: ReviewFacts::new(item, &format!("items[{index}].facts"))?,
    })
}

/// Builds the error of a launch whose item builder ended without a result, because it
/// panicked or the runtime shut down under it.
fn builder_failed(error: Option<tokio::task::JoinError>, campaign: &Campaign) -> ReviewError {
    let reason = error.map_or_else(|| "it ended early".to_owned(), |error| error.to_string());
    ReviewError::ItemBuilder { campaign: campaign.id.clone(), reason }
}

/// Logs one warning per entitlement owner whose items went to another reviewer, so that
/// the catalogue or the roster can be fixed before the next launch.
fn warn_unavailable_owners(
    scope: &TenantScope<'_>,
    campaign: &Campaign,
    owners: &[UnavailableOwner],
) {
    for owner in owners {
        let cause = if owner.has_left {
            "the owner has left according to HR"
        } else {
            "no person resolved from the tenant's sources has this employee id"
        };
        tracing::warn!(
            tenant = %scope.tenant_id(),
            campaign = %campaign.id,
            employee_id = %owner.employee_id,
            items = owner.items,
            "entitlement owner cannot review, so the items went to the manager or fallback \
             reviewer: {cause}; fix the `reviewer` of the policy's entitlement_catalogue entry \
             or the HR roster"
        );
    }
}

/// Builds the definition as stored with the launch.
fn definition_json(campaign: &Campaign) -> Value {
    let schedule = match &campaign.schedule {
        Schedule::Quarterly => "quarterly",
        Schedule::Cron(_) => "cron",
    };
    json!({
        "id": campaign.id,
        "name": campaign.name,
        "schedule": schedule,
        "schedule_text": campaign.schedule_text,
        "scope": campaign.scope,
        "manager": campaign.manager,
        "fallback": campaign.fallback_reviewer,
        "second_stage": campaign.second_stage_reviewer,
        "entitlement_owner": campaign.entitlement_owner,
        "deadline_days": campaign.deadline_days,
        "at_expiry": campaign.at_expiry,
        "max_source_age_hours": campaign.max_source_age.num_hours(),
        "reminders": campaign.reminders.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "escalation": {
            "after": campaign.escalation.after.to_string(),
            "to": campaign.escalation.to,
        },
    })
}

/// The scheduler's outcome for one definition.
#[derive(Debug)]
pub struct ScheduledLaunch {
    /// The definition's id.
    pub definition_id: String,
    /// The current period, `None` when the schedule has none.
    pub period: Option<Period>,
    /// The launch, or why it did not happen.
    pub outcome: Result<ReviewLaunch, ReviewError>,
}

/// Launches every campaign definition of the tenant whose current period has no campaign
/// yet, and returns one entry per definition that was due. The tenant and its definitions
/// come from the stored `tenant.yaml`. A definition that cannot launch (a stale source) is
/// reported in its entry and logged, and the others still launch. Safe to run from several
/// replicas at once: a period is launched once, by whichever launch commits first.
pub async fn launch_due(
    scope: &TenantScope<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<ScheduledLaunch>, ReviewError> {
    let tenant_id = scope.tenant_id().to_string();
    let stored = scope
        .tenant_config()
        .await?
        .ok_or_else(|| ReviewError::NoConfig { tenant: tenant_id.clone() })?;
    let config = parse_stored(&stored.text.tenant_yaml, stored.text.policy_yaml.as_deref())
        .map_err(|source| ReviewError::Config { tenant: tenant_id.clone(), source })?;

    let mut launches = Vec::new();
    for campaign in &config.campaigns {
        let Some(period) = current_period(&campaign.schedule, config.tenant.time_zone, now) else {
            launches.push(ScheduledLaunch {
                definition_id: campaign.id.clone(),
                period: None,
                outcome: Err(ReviewError::NoPeriod { campaign: campaign.id.clone() }),
            });
            continue;
        };
        // A cheap check first, so a period already launched costs no item building. The
        // unique constraint still decides between replicas that both pass it.
        if scope.review_campaign_for_period(&campaign.id, period.start).await?.is_some() {
            continue;
        }
        let outcome = launch(scope, &config.tenant, campaign, &period, now).await;
        if let Err(error) = &outcome {
            tracing::warn!(
                tenant = %tenant_id,
                campaign = %campaign.id,
                period = %period.label,
                %error,
                "review campaign did not launch"
            );
        }
        launches.push(ScheduledLaunch {
            definition_id: campaign.id.clone(),
            period: Some(period),
            outcome,
        });
    }
    Ok(launches)
}

/// Applies the default action of the tenant's campaigns past their deadline and closes
/// them (see `TenantScope::expire_review_campaigns`). Returns the closed campaigns with
/// the number of items decided in each.
pub async fn expire_overdue(
    scope: &TenantScope<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<(uuid::Uuid, usize)>, ReviewError> {
    let expired = scope.expire_review_campaigns(now, LAUNCH_ACTOR).await?;
    for (campaign_id, items) in &expired {
        tracing::info!(
            tenant = %scope.tenant_id(),
            %campaign_id,
            items,
            "applied the default action of an expired review campaign"
        );
    }
    Ok(expired)
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use rollcall_store::ReviewerReason;

    use super::*;

    fn rows(keys: &[&str]) -> Vec<NewReviewItem> {
        keys.iter()
            .map(|key| NewReviewItem {
                item_key: (*key).to_owned(),
                reviewee: "hr:E1004".into(),
                reviewer: "hr:E1002".into(),
                reviewer_reason: ReviewerReason::Manager,
                privileged: false,
                outside_baseline: false,
                recommend_revoke: false,
                facts: ReviewFacts::new(&json!({}), "facts").unwrap(),
            })
            .collect()
    }

    /// Collects the stream: the keys of each batch, or the error's text.
    async fn read(receiver: &mut mpsc::Receiver<Handover>) -> Vec<Result<Vec<String>, String>> {
        handover_batches(receiver, "quarterly")
            .map(|batch| match batch {
                Ok(rows) => Ok(rows.into_iter().map(|row| row.item_key).collect()),
                Err(error) => Err(error.to_string()),
            })
            .collect()
            .await
    }

    #[tokio::test]
    async fn handover_ends_only_after_done() {
        let (sender, mut receiver) = mpsc::channel(8);
        sender.send(Handover::Rows(rows(&["a", "b"]))).await.unwrap();
        sender.send(Handover::Rows(rows(&["c"]))).await.unwrap();
        sender.send(Handover::Done).await.unwrap();
        // Anything after `Done` is not read.
        sender.send(Handover::Rows(rows(&["late"]))).await.unwrap();
        drop(sender);

        let read = read(&mut receiver).await;
        assert_eq!(read, [Ok(vec!["a".to_owned(), "b".to_owned()]), Ok(vec!["c".to_owned()])]);
    }

    #[tokio::test]
    async fn handover_closed_without_done_fails() {
        let (sender, mut receiver) = mpsc::channel(8);
        sender.send(Handover::Rows(rows(&["a"]))).await.unwrap();
        drop(sender);

        let read = read(&mut receiver).await;
        assert_eq!(read.len(), 2, "{read:?}");
        assert_eq!(read[0], Ok(vec!["a".to_owned()]));
        let error = read[1].as_ref().unwrap_err();
        assert!(error.contains("quarterly"), "{error}");
        assert!(error.contains("stopped before its last item"), "{error}");
    }

    #[tokio::test]
    async fn handover_passes_a_failed_item_on() {
        let (sender, mut receiver) = mpsc::channel(8);
        let failed = StoreError::NulCharacter { path: "items[7].facts.person.name".into() };
        sender.send(Handover::Failed(failed)).await.unwrap();
        sender.send(Handover::Done).await.unwrap();

        let read = read(&mut receiver).await;
        assert_eq!(read.len(), 1, "{read:?}");
        let error = read[0].as_ref().unwrap_err();
        assert!(error.contains("items[7].facts.person.name"), "{error}");
    }
}

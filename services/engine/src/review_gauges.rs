//! The gauges of the campaigns in review: items by state, deadlines and the overdue
//! count, set after each campaign pass. They feed the campaign progress and burndown
//! panels and the alert on a campaign past its deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rollcall_store::ReviewProgress;

use crate::metrics::{CampaignLabels, EngineMetrics, ReviewItemLabels, tenant as tenant_labels};

/// The item states a campaign's `review_items` series are set for.
const STATES: [&str; 3] = ["undecided", "approved", "revoked"];

/// Per tenant, the campaign labels whose series were set at the last pass, so the series
/// of a campaign that closed since are removed instead of staying at their last value.
#[derive(Debug, Default)]
pub(crate) struct ReviewGaugeMemory(Mutex<BTreeMap<String, BTreeSet<String>>>);

impl ReviewGaugeMemory {
    /// Sets the tenant's campaign gauges from `progress` at `now`. Returns the number of
    /// campaigns past their deadline.
    pub(crate) fn update(
        &self,
        metrics: &EngineMetrics,
        tenant: &str,
        progress: &[ReviewProgress],
        now: DateTime<Utc>,
    ) -> usize {
        let current: BTreeSet<String> = progress.iter().map(ReviewProgress::label).collect();
        let mut memory = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = memory.insert(tenant.to_owned(), current.clone()).unwrap_or_default();
        for closed in previous.difference(&current) {
            for state in STATES {
                metrics.review_items.remove(&item_labels(tenant, closed, state));
            }
            metrics
                .review_deadline
                .remove(&CampaignLabels { tenant: tenant.to_owned(), campaign: closed.clone() });
        }
        for campaign in progress {
            let label = campaign.label();
            for (state, count) in [
                ("undecided", campaign.undecided),
                ("approved", campaign.approved),
                ("revoked", campaign.revoked),
            ] {
                metrics.review_items.get_or_create(&item_labels(tenant, &label, state)).set(count);
            }
            metrics
                .review_deadline
                .get_or_create(&CampaignLabels { tenant: tenant.to_owned(), campaign: label })
                .set(campaign.deadline.timestamp() as f64);
        }
        let overdue = progress.iter().filter(|c| c.overdue(now)).count();
        metrics
            .review_campaigns_overdue
            .get_or_create(&tenant_labels(tenant))
            .set(i64::try_from(overdue).unwrap_or(i64::MAX));
        overdue
    }
}

fn item_labels(tenant: &str, campaign: &str, state: &str) -> ReviewItemLabels {
    ReviewItemLabels {
        tenant: tenant.to_owned(),
        campaign: campaign.to_owned(),
        state: state.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use prometheus_client::encoding::text::encode;
    use prometheus_client::registry::Registry;
    use rollcall_store::CampaignStatus;
    use uuid::Uuid;

    use super::*;

    fn progress(definition: &str, deadline_day: u32, undecided: i64) -> ReviewProgress {
        ReviewProgress {
            campaign_id: Uuid::new_v4(),
            definition_id: definition.to_owned(),
            period_label: "2026-Q4".to_owned(),
            deadline: Utc.with_ymd_and_hms(2026, 10, deadline_day, 5, 0, 0).unwrap(),
            status: CampaignStatus::Open,
            undecided,
            approved: 3,
            revoked: 1,
        }
    }

    fn exposition(metrics: &EngineMetrics) -> String {
        let mut registry = Registry::with_prefix("rollcall_engine");
        metrics.register(&mut registry);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn gauges_drop_closed_campaigns() {
        let metrics = EngineMetrics::new();
        let memory = ReviewGaugeMemory::default();
        let now = Utc.with_ymd_and_hms(2026, 10, 10, 0, 0, 0).unwrap();
        let overdue = memory.update(
            &metrics,
            "harborview",
            &[progress("quarterly-all", 5, 7), progress("privileged", 20, 2)],
            now,
        );
        assert_eq!(overdue, 1);
        let text = exposition(&metrics);
        assert!(text.contains(
            "rollcall_engine_review_items{tenant=\"harborview\",campaign=\"quarterly-all/2026-Q4\",state=\"undecided\"} 7"
        ), "{text}");
        assert!(text.contains(
            "rollcall_engine_review_items{tenant=\"harborview\",campaign=\"privileged/2026-Q4\",state=\"revoked\"} 1"
        ), "{text}");
        assert!(text.contains("rollcall_engine_review_campaigns_overdue{tenant=\"harborview\"} 1"));

        // The quarterly campaign closed: its series go, the other one stays.
        memory.update(&metrics, "harborview", &[progress("privileged", 20, 0)], now);
        let text = exposition(&metrics);
        assert!(!text.contains("quarterly-all/2026-Q4"), "{text}");
        assert!(text.contains(
            "rollcall_engine_review_items{tenant=\"harborview\",campaign=\"privileged/2026-Q4\",state=\"undecided\"} 0"
        ), "{text}");
        assert!(text.contains("rollcall_engine_review_campaigns_overdue{tenant=\"harborview\"} 0"));
    }
}

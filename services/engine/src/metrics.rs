//! The engine's metrics, registered under the `rollcall_engine` prefix.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `tenant`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabels {
    /// The tenant id.
    pub tenant: String,
}

/// `tenant`, `kind`, `severity`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    /// The tenant id.
    pub tenant: String,
    /// The finding kind.
    pub kind: String,
    /// The severity.
    pub severity: String,
}

/// `tenant`, `strength`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StrengthLabels {
    /// The tenant id.
    pub tenant: String,
    /// The strongest registered second factor: `none`, `weak`, `strong`,
    /// `phishing_resistant`, or `unknown` when the source has no MFA data.
    pub strength: String,
}

/// `tenant`, `source`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    /// The tenant id.
    pub tenant: String,
    /// The source id.
    pub source: String,
}

/// `tenant`, `campaign`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CampaignLabels {
    /// The tenant id.
    pub tenant: String,
    /// `<definition>/<period>`, such as `quarterly-all/2026-Q4`.
    pub campaign: String,
}

/// `tenant`, `campaign`, `state`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReviewItemLabels {
    /// The tenant id.
    pub tenant: String,
    /// `<definition>/<period>`.
    pub campaign: String,
    /// `undecided`, `approved` or `revoked`.
    pub state: String,
}

/// `tenant`, `source`, `outcome`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SyncLabels {
    /// The tenant id.
    pub tenant: String,
    /// The source id.
    pub source: String,
    /// `ok` or `failed`.
    pub outcome: String,
}

/// `tenant`, `kind`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeadLetterLabels {
    /// The tenant id, or `unknown` when the subject names none.
    pub tenant: String,
    /// The dead-lettered message kind: `snapshot`, `delta`, `hr`, `finding`.
    pub kind: String,
}

/// `tenant`, `result`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EvaluationLabels {
    /// The tenant id.
    pub tenant: String,
    /// `recorded`, `busy` (another evaluation held the lock), `stale`, `no_config`,
    /// `invalid_config` or `failed`.
    pub result: String,
}

/// `tenant`, `outcome`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReviewMailLabels {
    /// The tenant id.
    pub tenant: String,
    /// The outcome: `sent`, `failed` (retried later), `no_address`, `no_manager` or
    /// `config_error`. `no_address` counts once per mail whose recipient has no usable
    /// address. `no_manager` counts late reviewers without a manager to escalate to, at
    /// each pass until the campaign's manager escalations are done. `config_error` means
    /// the SMTP server refused the settings and mail stopped.
    pub outcome: String,
}

/// `consumer`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLagLabels {
    /// The durable consumer name.
    pub consumer: String,
}

/// Every metric of the engine. Clones share the same values.
#[derive(Clone)]
pub struct EngineMetrics {
    /// Open findings after the tenant's last evaluation.
    pub findings: Family<FindingLabels, Gauge>,
    /// Accounts by the strongest second factor they registered.
    pub mfa_strength: Family<StrengthLabels, Gauge>,
    /// Privileged people whose MFA is phishable or missing: subjects of
    /// `mfa_privileged_phone` or `mfa_privileged_not_phishing_resistant`.
    pub privileged_weak_mfa: Family<TenantLabels, Gauge>,
    /// Unix time at which the source's applied snapshot was collected.
    pub source_collected: Family<SourceLabels, Gauge<f64, AtomicU64>>,
    /// Seconds since the source's applied snapshot was collected, as of the last
    /// reconcile.
    pub source_age: Family<SourceLabels, Gauge<f64, AtomicU64>>,
    /// Sync reports received, by outcome.
    pub sync_reports: Family<SyncLabels, Counter>,
    /// Unix time the source's latest sync report of each outcome finished.
    pub last_sync: Family<SyncLabels, Gauge<f64, AtomicU64>>,
    /// Time to store one assembled snapshot or delta.
    pub snapshot_apply_seconds: Family<TenantLabels, Histogram>,
    /// Snapshots and deltas applied.
    pub snapshots_applied: Family<TenantLabels, Counter>,
    /// Partial snapshots dropped after waiting too long for their chunks.
    pub partial_snapshots_expired: Family<TenantLabels, Counter>,
    /// Deltas skipped because their base was not the applied snapshot.
    pub deltas_skipped: Family<TenantLabels, Counter>,
    /// Messages of the tenant found on the dead-letter stream.
    pub dead_letters: Family<DeadLetterLabels, Counter>,
    /// Evaluations by result.
    pub evaluations: Family<EvaluationLabels, Counter>,
    /// Time of one evaluation, from loading to recording.
    pub evaluation_seconds: Histogram,
    /// Finding events published from the outbox.
    pub finding_events_published: Family<TenantLabels, Counter>,
    /// Messages the consumer has yet to deliver, as of the last reconcile.
    pub consumer_lag: Family<ConsumerLagLabels, Gauge>,
    /// 1 while Redis does not respond and locks use PostgreSQL.
    pub redis_degraded: Gauge,
    /// Lock attempts that used PostgreSQL because Redis did not respond.
    pub redis_fallbacks: Counter,
    /// Open leavers after the tenant's last evaluation.
    pub leavers_open: Family<TenantLabels, Gauge>,
    /// Open leavers past their deadline with an account still enabled in the source,
    /// after the tenant's last evaluation.
    pub leavers_overdue: Family<SourceLabels, Gauge>,
    /// Seconds from a termination's effective instant to its last account disabled,
    /// observed when the leaver closes.
    pub time_to_deprovision_seconds: Histogram,
    /// Items of each campaign in review (open or in its second stage) by state, as of the
    /// last campaign pass. A closed campaign's series are removed.
    pub review_items: Family<ReviewItemLabels, Gauge>,
    /// Unix time of the deadline of each campaign in review.
    pub review_deadline: Family<CampaignLabels, Gauge<f64, AtomicU64>>,
    /// Campaigns in review whose deadline has passed, as of the last campaign pass.
    pub review_campaigns_overdue: Family<TenantLabels, Gauge>,
    /// Review reminder and escalation mails, by outcome.
    pub review_mail: Family<ReviewMailLabels, Counter>,
    /// Remediation actions, by tenant, source, kind and outcome.
    pub remediation_actions: Family<RemediationLabels, Counter>,
}

/// `tenant`, `source`, `kind`, `outcome`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RemediationLabels {
    /// The tenant id.
    pub tenant: String,
    /// The source id.
    pub source: String,
    /// The task kind, such as `disable_entra_user` or `remove_group_member`.
    pub kind: String,
    /// `skipped`, `dry_run`, `done`, `opened`, `awaiting_approval`, `already_carried_out`
    /// or `failed`.
    pub outcome: String,
}

impl Default for EngineMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineMetrics {
    /// Creates the metrics, all at zero.
    pub fn new() -> Self {
        Self {
            findings: Family::default(),
            mfa_strength: Family::default(),
            privileged_weak_mfa: Family::default(),
            source_collected: Family::default(),
            source_age: Family::default(),
            // 1 ms to about 65 s.
            sync_reports: Family::default(),
            last_sync: Family::default(),
            snapshot_apply_seconds: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 17))
            }),
            snapshots_applied: Family::default(),
            partial_snapshots_expired: Family::default(),
            deltas_skipped: Family::default(),
            dead_letters: Family::default(),
            evaluations: Family::default(),
            evaluation_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 17)),
            finding_events_published: Family::default(),
            consumer_lag: Family::default(),
            redis_degraded: Gauge::default(),
            redis_fallbacks: Counter::default(),
            leavers_open: Family::default(),
            leavers_overdue: Family::default(),
            // 15 minutes to about 43 days: SLAs range from 1 hour to a few days.
            time_to_deprovision_seconds: Histogram::new(exponential_buckets(900.0, 2.0, 13)),
            review_items: Family::default(),
            review_deadline: Family::default(),
            review_campaigns_overdue: Family::default(),
            review_mail: Family::default(),
            remediation_actions: Family::default(),
        }
    }

    /// Registers every metric in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "findings",
            "Open findings after the last evaluation",
            self.findings.clone(),
        );
        registry.register(
            "mfa_strength_accounts",
            "Accounts by the strongest registered second factor",
            self.mfa_strength.clone(),
        );
        registry.register(
            "privileged_weak_mfa",
            "Privileged people with phishable or no MFA",
            self.privileged_weak_mfa.clone(),
        );
        registry.register(
            "source_collected_timestamp_seconds",
            "Unix time the applied snapshot of the source was collected",
            self.source_collected.clone(),
        );
        registry.register(
            "source_sync_age_seconds",
            "Seconds since the applied snapshot of the source was collected",
            self.source_age.clone(),
        );
        registry.register(
            "sync_reports",
            "Sync reports received by outcome",
            self.sync_reports.clone(),
        );
        registry.register(
            "last_sync_timestamp_seconds",
            "Unix time the latest sync report of each outcome finished",
            self.last_sync.clone(),
        );
        registry.register(
            "snapshot_apply_seconds",
            "Time to store one assembled snapshot or delta",
            self.snapshot_apply_seconds.clone(),
        );
        registry.register(
            "snapshots_applied",
            "Snapshots and deltas applied",
            self.snapshots_applied.clone(),
        );
        registry.register(
            "partial_snapshots_expired",
            "Partial snapshots dropped after waiting too long for chunks",
            self.partial_snapshots_expired.clone(),
        );
        registry.register(
            "deltas_skipped",
            "Deltas whose base was not the applied snapshot",
            self.deltas_skipped.clone(),
        );
        registry.register(
            "dead_letters",
            "Messages found on the dead-letter stream",
            self.dead_letters.clone(),
        );
        registry.register("evaluations", "Evaluations by result", self.evaluations.clone());
        registry.register(
            "evaluation_seconds",
            "Time of one evaluation, loading to recording",
            self.evaluation_seconds.clone(),
        );
        registry.register(
            "finding_events_published",
            "Finding events published from the outbox",
            self.finding_events_published.clone(),
        );
        registry.register(
            "consumer_lag_messages",
            "Messages the consumer has yet to deliver",
            self.consumer_lag.clone(),
        );
        registry.register(
            "redis_degraded",
            "1 while Redis does not answer",
            self.redis_degraded.clone(),
        );
        registry.register(
            "redis_fallbacks",
            "Lock attempts that fell back to PostgreSQL",
            self.redis_fallbacks.clone(),
        );
        registry.register("leavers_open", "Open leavers", self.leavers_open.clone());
        registry.register(
            "leavers_overdue",
            "Open leavers past the deadline with an account still enabled in the source",
            self.leavers_overdue.clone(),
        );
        registry.register(
            "leaver_time_to_deprovision_seconds",
            "Seconds from termination to the last account disabled, per closed leaver",
            self.time_to_deprovision_seconds.clone(),
        );
        registry.register(
            "review_items",
            "Items of each campaign in review by state",
            self.review_items.clone(),
        );
        registry.register(
            "review_deadline_timestamp_seconds",
            "Unix time of the deadline of each campaign in review",
            self.review_deadline.clone(),
        );
        registry.register(
            "review_campaigns_overdue",
            "Campaigns in review past their deadline",
            self.review_campaigns_overdue.clone(),
        );
        registry.register(
            "review_mail",
            "Review reminder and escalation mails by outcome",
            self.review_mail.clone(),
        );
        registry.register(
            "remediation_actions",
            "Remediation actions by tenant, source, kind and outcome",
            self.remediation_actions.clone(),
        );
    }

    /// Counts an evaluation result.
    pub fn count_evaluation(&self, tenant: &str, result: &str) {
        self.evaluations
            .get_or_create(&EvaluationLabels {
                tenant: tenant.to_owned(),
                result: result.to_owned(),
            })
            .inc();
    }
}

impl EngineMetrics {
    /// Adds `count` review mails of `outcome` for `tenant`.
    pub fn count_review_mail(&self, tenant: &str, outcome: &str, count: usize) {
        if count == 0 {
            return;
        }
        self.review_mail
            .get_or_create(&ReviewMailLabels {
                tenant: tenant.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }
}

/// Returns `labels` as an `Arc` key, for maps of label sets that were set before.
pub(crate) fn tenant(tenant: &str) -> TenantLabels {
    TenantLabels { tenant: tenant.to_owned() }
}

/// The label sets a tenant's gauges were set with, so the next evaluation can zero the
/// ones that disappeared.
#[derive(Debug, Default)]
pub(crate) struct SetGauges {
    pub findings: Vec<FindingLabels>,
    pub strengths: Vec<StrengthLabels>,
}

/// Shared, per tenant.
pub(crate) type GaugeMemory = Arc<std::sync::Mutex<std::collections::BTreeMap<String, SetGauges>>>;

//! The errors of campaign launches.

use chrono::{DateTime, TimeDelta, Utc};
use rollcall_ingest::tenant_file::TenantFileError;
use rollcall_store::StoreError;

/// A launch that could not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// A store operation failed, or the store rejected a decision.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A source has not synced recently enough for its data to be reviewed.
    #[error(
        "campaign `{campaign}` cannot launch: source `{source_id}` last synced at {last_sync}, more than {max_age_hours} hours before {now}; fix the source's sync, or raise `max_source_age`"
    )]
    StaleSource {
        /// The campaign definition.
        campaign: String,
        /// The source.
        source_id: String,
        /// The collection instant of the source's latest snapshot.
        last_sync: DateTime<Utc>,
        /// The largest age allowed, in hours.
        max_age_hours: i64,
        /// The launch instant.
        now: DateTime<Utc>,
    },
    /// The tenant has no synced source at all.
    #[error("campaign `{campaign}` cannot launch: no source of the tenant has synced yet")]
    NoSources {
        /// The campaign definition.
        campaign: String,
    },
    /// The tenant has no stored configuration.
    #[error(
        "tenant `{tenant}` has no stored tenant.yaml; apply it with `rollcall-engine tenant apply` first"
    )]
    NoConfig {
        /// The tenant.
        tenant: String,
    },
    /// The stored configuration does not parse.
    #[error("the stored tenant.yaml of tenant `{tenant}` is invalid: {source}")]
    Config {
        /// The tenant.
        tenant: String,
        /// The parser's error.
        source: TenantFileError,
    },
    /// The thread that builds the items ended without finishing, so nothing was stored.
    #[error(
        "campaign `{campaign}` did not launch: building its items failed ({reason}); nothing was stored, and the next scheduler pass tries again"
    )]
    ItemBuilder {
        /// The campaign definition.
        campaign: String,
        /// The panic or shutdown that ended the builder.
        reason: String,
    },
    /// The definition's cron expression matched no minute in the last eight years.
    #[error(
        "campaign `{campaign}` has no schedule period: its cron expression matched no minute in the last eight years"
    )]
    NoPeriod {
        /// The campaign definition.
        campaign: String,
    },
}

impl ReviewError {
    /// Builds the error for a source that synced longer ago than `max_age`.
    pub(crate) fn stale(
        campaign: &str,
        source: &str,
        last_sync: DateTime<Utc>,
        max_age: TimeDelta,
        now: DateTime<Utc>,
    ) -> Self {
        ReviewError::StaleSource {
            campaign: campaign.to_owned(),
            source_id: source.to_owned(),
            last_sync,
            max_age_hours: max_age.num_hours(),
            now,
        }
    }
}

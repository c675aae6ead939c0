//! Access-review campaigns: the quarterly review in which managers approve or revoke each
//! grant of their staff, and whose record an auditor requests.
//!
//! Definitions are the `campaigns:` list of `tenant.yaml` ([`Campaign`]). A launch checks
//! that every source synced recently, freezes one [`ReviewItem`] per grant in scope in
//! PostgreSQL with a recommendation and a reviewer, and records it in the audit chain.
//! Decisions and sign-offs are methods of `rollcall_store::TenantScope`
//! (`decide_review_items`, `sign_off_review`), which enforce the rules in the transaction
//! that records them. [`launch_due`] is the scheduler: it launches each definition once
//! per schedule period, also with several replicas running, because a unique constraint
//! on (tenant, definition, period) lets only one launch commit.
//!
//! [`mail`] sends reminders before a campaign's deadline and escalations after it.
//!
//! `docs/services/reviews.md` documents definitions, items, recommendations, decisions
//! and the scheduler guarantee.

mod error;
pub mod evidence;
mod items;
mod launch;
pub mod mail;
mod period;
mod triggers;

pub use error::ReviewError;
pub use items::{
    AccountFacts, Action, Baseline, EntitlementFacts, GrantFacts, Person, Reason, Recommendation,
    ReviewItem, SignIn, UnavailableOwner, all_grant_keys, build_items,
    build_items_and_unavailable_owners, item_key,
};
pub use launch::{
    LAUNCH_ACTOR, ScheduledLaunch, check_freshness, expire_overdue, launch, launch_due,
};
pub use period::{Period, current_period};
pub use rollcall_ingest::tenant_file::{
    Campaign, ExpiryAction, ManagerSource, Schedule, ScopeSpec,
};
pub use rollcall_store::{
    CampaignStatus, ReviewAction, ReviewActionKind, ReviewLaunch, ReviewRejection, ReviewerReason,
    StoredReviewCampaign, StoredReviewItem,
};
pub use triggers::{EVENT_PERIOD, EventReview, Trigger, open_event_reviews};

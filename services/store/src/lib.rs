//! Rollcall's system of record in PostgreSQL: source snapshots with their cursors, findings
//! with first seen, last seen and resolved, a hash-chained audit log per tenant, HR events
//! and the ids of processed messages.
//!
//! Tenant isolation is enforced by the database. Every table has row-level security
//! enabled and forced, with a policy on the transaction setting `rollcall.tenant_id`. The
//! store connects as a runtime role that does not own the tables and refuses to start as
//! any role that row-level security does not restrict. In Rust, tenant rows are reachable
//! only through a [`TenantScope`], which sets the tenant at the start of each transaction.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use rollcall_core::TenantId;
//! use rollcall_store::{Store, StoreOptions};
//!
//! let url = "postgres://rollcall_app@127.0.0.1/rollcall";
//! let store = Store::connect(url, &StoreOptions::default()).await?;
//! let tenant = TenantId::new("harborview")?;
//! let data = store.tenant(&tenant).load_tenant_data().await?;
//! println!("{} sources", data.sources.len());
//! # Ok(())
//! # }
//! ```
//!
//! `docs/services/store.md` describes the schema, the roles and the audit hash format.

mod advisory;
mod audit;
mod config;
mod cursor;
mod drchrono_state;
mod entra_delta;
mod error;
mod events;
mod findings;
mod guard;
mod hr_vendors;
mod json;
mod leavers;
mod outbox;
mod problems;
mod remediation;
mod retention;
mod reviews;
mod scim;
mod scope;
mod snapshots;
mod store;
mod tenant_apply;
mod tenants;
mod time;
mod work;

pub use advisory::AdvisoryLock;
pub use audit::{AuditEntry, AuditRecord, BreakKind, ChainBreak, ChainVerification, STORE_ACTOR};
pub use config::{StoredTenantConfig, TenantConfigText};
pub use drchrono_state::DrChronoState;
pub use entra_delta::EntraDeltaState;
pub use error::StoreError;
pub use findings::{FindingDiff, FindingStatus, StoredFinding};
pub use guard::RoleError;
pub use hr_vendors::{VendorDelivery, VendorDeliverySender, VendorWorkerState};
pub use leavers::{
    ClosedLeaver, Leaver, LeaverAccount, LeaverChange, LeaverObservation, LeaverSla, LeaverState,
    ObservedAccount, ROSTER_EVENT_NAMESPACE, RecordedObservations, ReopenedLeaver,
    SourceDeprovision, roster_event_id, roster_events,
};
pub use outbox::{OutboxEvent, RecordedEvaluation, finding_event_id};
pub use problems::{PipelineProblem, ProblemKind};
pub use remediation::{
    ApprovalOutcome, NewRemediationTask, RemediationMode, RemediationSettings, RemediationTask,
    ReviewGrant, TaskKind, TaskState, TaskTransition,
};
pub use retention::RetentionReport;
pub use reviews::{
    CampaignEvidence, CampaignStatus, EvidenceItem, MailClaim, NewReviewCampaign, NewReviewItem,
    OpenReviewCampaign, REVOCATION_OVERDUE, REVOCATION_VERIFIED, REVOCATIONS_REQUESTED,
    REVOKED_GRANT_RETURNED, RecommendationOutcome, ReviewAction, ReviewActionKind, ReviewFacts,
    ReviewLaunch, ReviewMailKey, ReviewMailKind, ReviewParticipation, ReviewProgress,
    ReviewRejection, ReviewRevocation, ReviewSignoff, ReviewerProgress, ReviewerReason,
    RevocationState, SkippedItem, StoredReviewCampaign, StoredReviewItem, StoredReviewSignOff,
    TriggerBaseline,
};
pub use scim::{ScimFilter, ScimUser, ScimWrite};
pub use scope::TenantScope;
pub use snapshots::{ApplyOptions, ApplyOutcome, SnapshotMeta, SourceState};
pub use store::{MIGRATOR, Store, StoreOptions, migrate_as_owner};
pub use tenant_apply::{AppliedTenantConfig, TenantApplyError};
pub use tenants::TenantProfile;
pub use work::TenantWork;

//! Rollcall's optional leaver remediation.
//!
//! When a terminated workforce member still has enabled accounts, [`plan`] turns each
//! account ([`Target`]) into an [`Action`]. An Entra ID user is disabled and its sign-in
//! sessions revoked through Microsoft Graph, and an LDAP or Active Directory account is
//! disabled. An EHR account becomes a task for the EHR's administrators that the next EHR
//! export verifies ([`verify_ehr_tasks`]). An EHR account with EPCS prescribing rights gets a task that
//! two different people must approve before it opens.
//!
//! A grant revoked in a signed-off access review ([`Revoke`]) becomes, through
//! [`plan_revokes`], the removal of a direct group membership in Entra ID or LDAP when
//! the tenant enforces remediation, and otherwise a task for the source's administrators.
//!
//! [`Executor::run`] carries out actions in the tenant's [`Mode`]: `Off` (the default)
//! does nothing, `DryRun` records what would be done, `Enforce` acts. Tasks and their
//! state are kept in PostgreSQL through `rollcall-store`, so planning the same leaver
//! again creates no second task and a carried-out action is not repeated. Every step
//! (planned, dry run, done, failed, opened, approved, verified) is appended to the
//! tenant's audit chain in the same transaction as the task's change.
//!
//! Graph requests go through the Entra connector's [`GraphClient`], with its token
//! handling, retries and request budget. LDAP requests go through the LDAP connector's
//! [`Session`](rollcall_ldap_connector::client::Session), with its TLS and bind.
//! `docs/services/remediation.md` documents modes, actions, permissions and the audit
//! entries.

mod entra;
mod error;
mod executor;
mod ldap;
mod plan;
mod verify;

pub use error::RemediationError;
pub use executor::{EntraAccess, Executor, LdapAccess, Outcome, OutcomeKind};
pub use ldap::LdapDisable;
pub use plan::{Action, Revoke, Target, plan, plan_revokes};
pub use rollcall_entra_connector::GraphClient;
pub use rollcall_store::{
    ApprovalOutcome, RemediationMode as Mode, RemediationSettings as Settings, RemediationTask,
    ReviewGrant, TaskKind, TaskState,
};
pub use verify::verify_ehr_tasks;

/// The actor of the audit entries the executor and the verification write.
pub const ACTOR: &str = "rollcall-remediation";

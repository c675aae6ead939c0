//! A Microsoft Graph double for tests and benchmarks.
//!
//! It serves one or more synthetic Entra ID tenants over plain HTTP on loopback: the
//! client-credentials token endpoint (`POST /{tenant}/oauth2/v2.0/token`) and the Graph
//! v1.0 and beta reads a Rollcall sync makes, in the response shapes Graph documents
//! (`@odata.context`, `value`, `@odata.nextLink` paging with `$top` up to 999,
//! `@odata.deltaLink`, `@removed`, JSON `$batch`), and the writes remediation sends
//! (`PATCH /users/{id}` of `accountEnabled`, `POST /users/{id}/revokeSignInSessions`,
//! `DELETE /groups/{id}/members/{id}/$ref`).
//! A tenant is loaded from saved Graph
//! responses ([`Tenant::load_dir`]) or generated ([`Tenant::generate`]), and can be
//! written back as the files `rollcall scan` reads ([`Tenant::export_dir`]), so a test
//! can compare a sync with a scan of the same directory.
//!
//! Faults ([`Fault`], [`Faults`]) reproduce Graph's failures: throttling with or without
//! `Retry-After`, server errors, dropped connections, truncated pages, expired delta
//! tokens, access tokens that expire in the middle of a sync and the `403` a tenant
//! without Entra ID P1 gets for `signInActivity`.
//!
//! Each tenant has a set of granted application permissions ([`GraphDouble::grant`],
//! by default [`DEFAULT_GRANTED`]). A token carries the set granted when it was issued
//! as its `roles` claim, and each endpoint returns `403 Authorization_RequestDenied`
//! when the token lacks the permissions Graph accepts for it ([`Endpoint`]). The double
//! counts requests per endpoint ([`GraphDouble::endpoint_counts`]).

mod faults;
mod permissions;
mod server;
mod tenant;
mod writes;

pub use faults::{ExpiredDelta, Fault, Faults, ScriptedFault};
pub use permissions::{DEFAULT_GRANTED, DENIED_CODE, DENIED_MESSAGE, Endpoint, SIGN_IN_ACTIVITY};
pub use server::{GraphDouble, RequestRecord};
pub use tenant::{GLOBAL_ADMINISTRATOR, Removal, Tenant, TenantError};

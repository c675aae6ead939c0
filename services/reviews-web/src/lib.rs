//! The manager review web app: server-rendered pages that work without JavaScript,
//! sign-in with OpenID Connect against each tenant's identity provider, sessions in
//! Redis, and a JSON API under the same authorisation.
//!
//! Decisions and sign-offs go through `rollcall_store::TenantScope`, which checks the
//! campaign rules in the transaction that records them. This crate adds who the caller
//! is: the session names the tenant and the reviewer, and every store call runs in that
//! tenant's scope with that reviewer as the actor. `docs/services/reviews-web.md`
//! documents routes, configuration, the claims mapping and the session and CSRF design.

pub mod access;
pub mod api;
pub mod auth;
pub mod config;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod forms;
pub mod html;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod review;
pub mod routes;
pub mod service;
pub mod session;
pub mod state;

pub use config::ReviewsWebConfig;
pub use service::{Service, StartError};

//! Rollcall's Kubernetes operator: the `Tenant`, `AccessPolicy` and `ReviewCampaign`
//! custom resources, and the controller that stores each `Tenant` as the tenant
//! configuration the engine reads. docs/operations/operator.md describes both.

pub mod controller;
pub mod crd;
pub mod lease;
pub mod policy;
pub mod reconcile;
pub mod render;
pub mod resources;
pub mod status;

//! Rollcall's rules: the domain model, the tenant policy, identity resolution and every
//! finding, as pure functions of their inputs.
//!
//! This crate does no I/O and cannot panic on any input, so the `rollcall` CLI, the engine
//! service and the tests run the same code on the same data and get the same findings.

pub mod model;

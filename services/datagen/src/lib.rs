//! Synthetic tenants in the `rollcall scan` layout: the bundled example practice and
//! seeded data sets for benchmarks. Every name is made up.

pub mod example;
pub mod rng;
pub mod spec;
pub mod synthetic;
pub mod write;

//! The entry point: evaluate one tenant's data at one instant.

use chrono::{DateTime, Utc};

use crate::context::Context;
use crate::finding::Finding;
use crate::identity::Resolution;
use crate::input::TenantData;
use crate::rules::{self, Emitter};
use crate::tenant::Tenant;

/// The result of evaluating one tenant.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Every finding, most severe first.
    pub findings: Vec<Finding>,
    /// The identity resolution: which accounts belong to which person.
    pub resolution: Resolution,
    /// Counts for reports and dashboards.
    pub stats: Stats,
}

/// Counts over one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// People: HR workers and groups of accounts HR does not know.
    pub identities: usize,
    /// People privileged in at least one source who have not left.
    pub privileged_identities: usize,
}

/// Runs every rule on `data` with time-based rules evaluated at `as_of`. The same inputs
/// always give the same findings in the same order.
pub fn evaluate(tenant: &Tenant, data: &TenantData, as_of: DateTime<Utc>) -> Evaluation {
    let ctx = Context::new(tenant, data, as_of);
    let mut out = Emitter::new(tenant.id.as_str());
    let identities = ctx.identities();
    rules::check_all(&ctx, &identities, &mut out);
    let stats = Stats {
        identities: identities.len(),
        privileged_identities: identities
            .iter()
            .filter(|i| !i.privilege.is_empty() && !i.has_left)
            .count(),
    };
    drop(identities);
    let findings = out.finish();
    Evaluation { findings, resolution: ctx.resolution, stats }
}

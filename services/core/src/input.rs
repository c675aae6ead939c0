//! Everything the rules read about one tenant.

use crate::model::{HrSnapshot, SourceSnapshot};

/// One tenant's data: a snapshot per source and the HR roster, if there is one.
#[derive(Debug, Clone, Default)]
pub struct TenantData {
    /// One snapshot per source. Two snapshots of the same source are read as one source
    /// each; callers merge files of one source before.
    pub sources: Vec<SourceSnapshot>,
    /// The HR roster.
    pub hr: Option<HrSnapshot>,
}

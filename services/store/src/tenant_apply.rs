//! Checking and storing a tenant's configuration texts: the one path that both
//! `rollcall-engine tenant apply DIR` and the Kubernetes operator use, so that a folder
//! and a `Tenant` resource with the same content store the same configuration.

use rollcall_ingest::tenant_file::{self, TenantFileError};

use crate::config::TenantConfigText;
use crate::error::StoreError;
use crate::store::Store;
use crate::tenants::TenantProfile;

/// An error applying configuration texts.
#[derive(Debug, thiserror::Error)]
pub enum TenantApplyError {
    /// `tenant.yaml` or its policy is invalid; the message is the one `rollcall scan`
    /// prints for it.
    #[error(transparent)]
    Invalid(#[from] TenantFileError),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of applying one tenant's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedTenantConfig {
    /// The tenant id from `tenant.yaml`.
    pub tenant: String,
    /// Whether the stored texts changed.
    pub changed: bool,
}

impl Store {
    /// Parses `text` as the engine will read it back ([`tenant_file::parse_stored`]), then
    /// upserts the tenant's profile and stores the texts, recording `actor` in the audit
    /// log. Nothing is stored when the texts are invalid.
    pub async fn apply_tenant_texts(
        &self,
        text: &TenantConfigText,
        actor: &str,
    ) -> Result<AppliedTenantConfig, TenantApplyError> {
        let config = tenant_file::parse_stored(&text.tenant_yaml, text.policy_yaml.as_deref())?;
        let profile =
            TenantProfile { name: config.tenant.name.clone(), time_zone: config.tenant.time_zone };
        let changed =
            self.tenant(&config.tenant.id).apply_tenant_config(&profile, text, actor).await?;
        Ok(AppliedTenantConfig { tenant: config.tenant.id.to_string(), changed })
    }
}

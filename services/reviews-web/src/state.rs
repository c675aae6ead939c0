//! The state every handler shares.

use std::collections::BTreeMap;

use rollcall_core::TenantId;
use rollcall_ingest::tenant_file::issuer_problem;
use rollcall_store::Store;
use uuid::Uuid;

use crate::auth::oidc::OidcClient;
use crate::config::{ReviewsWebConfig, RoleNames, TenantSignInConfig};
use crate::metrics::ReviewsWebMetrics;
use crate::session::SessionStore;

/// A tenant whose people may sign in, with its directory parsed.
#[derive(Debug, Clone)]
pub struct TenantSignIn {
    /// The tenant.
    pub id: TenantId,
    /// The configuration.
    pub config: TenantSignInConfig,
    /// The Entra directory, when the tenant signs in with Entra ID.
    pub directory: Option<Uuid>,
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TenantConfigError {
    /// `directory_id` is not a GUID.
    #[error(
        "tenants.{tenant}.directory_id: `{value}` is not a directory GUID; use the GUID in the issuer of the directory's discovery document, not a domain name"
    )]
    DirectoryId {
        /// The tenant.
        tenant: String,
        /// The configured value.
        value: String,
    },
    /// The issuer cannot be one practice's issuer.
    #[error("tenants.{tenant}.issuer: `{issuer}`: {reason}")]
    Issuer {
        /// The tenant.
        tenant: String,
        /// The configured issuer.
        issuer: String,
        /// The problem and what to write instead.
        reason: &'static str,
    },
    /// A tenant id is invalid.
    #[error("tenants: {0}")]
    TenantId(#[from] rollcall_core::tenant::TenantIdError),
}

/// Everything the handlers need.
pub struct AppState {
    /// The system of record.
    pub store: Store,
    /// Sessions and sign-in state.
    pub sessions: SessionStore,
    /// The OpenID Connect client.
    pub oidc: OidcClient,
    /// The tenants that may sign in.
    pub tenants: BTreeMap<String, TenantSignIn>,
    /// Every onboarded Entra directory.
    pub directories: Vec<Uuid>,
    /// The role values of the `roles` claim.
    pub roles: RoleNames,
    /// The counters.
    pub metrics: ReviewsWebMetrics,
}

/// Reads and checks the `tenants` section.
pub fn sign_in_tenants(
    config: &ReviewsWebConfig,
) -> Result<BTreeMap<String, TenantSignIn>, TenantConfigError> {
    let mut tenants = BTreeMap::new();
    for (name, tenant) in &config.tenants {
        let id = TenantId::new(name)?;
        // The same check as the stored `sign_in.issuer` gets, so neither place accepts a
        // multi-tenant endpoint that would let any directory in.
        if let Some(issuer) = &tenant.issuer
            && let Some(reason) = issuer_problem(issuer)
        {
            return Err(TenantConfigError::Issuer {
                tenant: name.clone(),
                issuer: issuer.clone(),
                reason,
            });
        }
        let directory = match &tenant.directory_id {
            Some(value) => Some(Uuid::parse_str(value).map_err(|_| {
                TenantConfigError::DirectoryId { tenant: name.clone(), value: value.clone() }
            })?),
            None => None,
        };
        tenants.insert(name.clone(), TenantSignIn { id, config: tenant.clone(), directory });
    }
    Ok(tenants)
}

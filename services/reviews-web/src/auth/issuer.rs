//! The issuer that signs in a practice's people: the review app's `tenants.<id>.issuer`, the
//! `sign_in.issuer` of the tenant's stored `tenant.yaml` (which the operator renders from
//! a `Tenant` resource's `oidcIssuer`), or both when they agree.

use rollcall_core::TenantId;
use rollcall_ingest::tenant_file::{TenantFileError, parse_stored};
use rollcall_store::{Store, StoreError};

/// The reason a practice has no issuer to sign in with.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// Neither the app's settings nor the stored tenant configuration name an issuer.
    #[error(
        "tenant `{tenant}` has no sign-in issuer; set `tenants.{tenant}.issuer` in the review app's settings or `oidcIssuer` on its Tenant resource (`sign_in.issuer` in tenant.yaml)"
    )]
    Missing {
        /// The tenant.
        tenant: String,
    },
    /// The two places name different issuers, so which directory may sign in is unclear.
    #[error(
        "tenant `{tenant}` names two sign-in issuers: `{configured}` in `tenants.{tenant}.issuer` and `{stored}` in its stored `sign_in.issuer`; make them equal or remove the app's setting"
    )]
    Conflict {
        /// The tenant.
        tenant: String,
        /// The review app's setting.
        configured: String,
        /// The stored configuration's value.
        stored: String,
    },
    /// The stored configuration cannot be read.
    #[error("reading tenant `{tenant}`'s stored configuration failed: {source}")]
    Store {
        /// The tenant.
        tenant: String,
        /// The database error.
        source: StoreError,
    },
    /// The stored configuration does not parse, so its issuer cannot be trusted.
    #[error("tenant `{tenant}`'s stored tenant.yaml is invalid ({source}); apply a corrected one")]
    Invalid {
        /// The tenant.
        tenant: String,
        /// The parse error.
        source: TenantFileError,
    },
}

impl IssuerError {
    /// Returns the error code that the sign-in page and the outcome counter show.
    pub fn code(&self) -> &'static str {
        match self {
            IssuerError::Missing { .. } => "issuer_not_configured",
            IssuerError::Conflict { .. } => "issuer_conflict",
            IssuerError::Store { .. } => "store_unavailable",
            IssuerError::Invalid { .. } => "tenant_config_invalid",
        }
    }
}

/// Returns the issuer of `tenant`'s sign-in. `configured` is the app's own setting, which
/// passed the start-up check. The stored one is checked when it is parsed.
pub async fn resolve(
    store: &Store,
    tenant: &TenantId,
    configured: Option<&str>,
) -> Result<String, IssuerError> {
    let name = || tenant.as_str().to_owned();
    let stored = store
        .tenant(tenant)
        .tenant_config()
        .await
        .map_err(|source| IssuerError::Store { tenant: name(), source })?;
    let stored_issuer = match stored {
        Some(stored) => {
            parse_stored(&stored.text.tenant_yaml, stored.text.policy_yaml.as_deref())
                .map_err(|source| IssuerError::Invalid { tenant: name(), source })?
                .sign_in_issuer
        }
        None => None,
    };
    match (configured, stored_issuer) {
        (Some(configured), Some(stored)) if configured.trim() != stored => {
            Err(IssuerError::Conflict { tenant: name(), configured: configured.to_owned(), stored })
        }
        (Some(configured), _) => Ok(configured.trim().to_owned()),
        (None, Some(stored)) => Ok(stored),
        (None, None) => Err(IssuerError::Missing { tenant: name() }),
    }
}

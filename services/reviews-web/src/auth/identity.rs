//! The mapping from a signed-in account to the identity key reviews use.
//!
//! The claim named by `tenants.<id>.account_claim` (`oid` by default) is the account's
//! id in `account_source` (`entra`). The person is the identity that the tenant's stored
//! data resolves that account into, the same resolution that chose the reviewers at
//! launch, so a manager in the HR roster is `hr:<employee id>`. Names, e-mail addresses
//! and UPNs are never used to find a person: a guest from another directory can carry a
//! look-alike UPN.

use chrono::{DateTime, Utc};
use rollcall_core::context::Context;
use rollcall_ingest::tenant_file::parse_stored;
use rollcall_store::{StoreError, TenantScope};

/// A person found for a signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewer {
    /// The identity key, such as `hr:E1003`.
    pub identity: String,
    /// The person's name.
    pub name: String,
}

/// A failure to look the person up.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tenant has no stored configuration.
    #[error("tenant `{0}` has no stored configuration; apply its tenant.yaml first")]
    NoConfig(String),
    /// The stored configuration does not parse.
    #[error("tenant `{tenant}`: the stored configuration is invalid: {reason}")]
    Config {
        /// The tenant.
        tenant: String,
        /// The parser's message.
        reason: String,
    },
}

/// Finds the person whose account in `source` has the id `account_id`, in the tenant's
/// stored data as of `now`. Returns `None` when no identity has that account.
pub async fn find_reviewer(
    scope: &TenantScope<'_>,
    source: &str,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Reviewer>, LookupError> {
    let tenant = scope.tenant_id().to_string();
    let stored =
        scope.tenant_config().await?.ok_or_else(|| LookupError::NoConfig(tenant.clone()))?;
    let config = parse_stored(&stored.text.tenant_yaml, stored.text.policy_yaml.as_deref())
        .map_err(|error| LookupError::Config { tenant, reason: error.to_string() })?;
    let data = scope.load_tenant_data().await?;
    let ctx = Context::new(&config.tenant, &data, now);
    let found = ctx.identities().into_iter().find(|view| {
        view.identity.accounts.iter().any(|linked| {
            linked.account.id == account_id && linked.account.source.to_string() == source
        })
    });
    Ok(found.map(|view| Reviewer { identity: view.identity.key.clone(), name: view.name.clone() }))
}

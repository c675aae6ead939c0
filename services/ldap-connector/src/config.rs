//! The connector's configuration: one [`DirectoryConfig`] per tenant directory, checked into
//! a [`Directory`] before anything connects.

use std::path::PathBuf;
use std::time::Duration;

pub use rollcall_bus::NatsConfig;
use rollcall_core::TenantId;
use rollcall_core::model::{SourceId, SourceKind};
use rollcall_runtime::shutdown::ShutdownConfig;
use rollcall_runtime::{OpsConfig, Secret, TelemetryConfig};
use serde::Deserialize;

use crate::referral::{LdapUrl, ServerAddress};

/// The connector's configuration file (`rollcall-ldap-connector --config PATH`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// Logs and traces.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The ops server (`/metrics`, `/healthz`, `/readyz`).
    #[serde(default)]
    pub ops: OpsConfig,
    /// Grace period after SIGTERM.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// The NATS server.
    pub nats: NatsConfig,
    /// The directories to sync.
    pub directories: Vec<DirectoryConfig>,
}

/// Protection of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// TLS from the first byte, on an `ldaps://` URL (port 636 by default).
    Ldaps,
    /// The StartTLS extended operation on an `ldap://` URL, before the bind.
    Starttls,
    /// No TLS. The password and the directory travel in clear text, so the connector logs a
    /// warning at start. Only for a lab or a loopback test server.
    Insecure,
}

/// Server family of the directory, which chooses the default filter and attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavor {
    /// Active Directory or Samba AD.
    ActiveDirectory,
    /// OpenLDAP, 389 Directory Server and other LDAP v3 servers.
    #[default]
    Openldap,
}

/// One tenant's directory as written in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// Tenant id (1 to 63 lowercase letters, digits and `-`).
    pub tenant: String,
    /// Source id of the snapshot: `ldap`, or `ldap:<instance>` for a second directory.
    #[serde(default = "default_source")]
    pub source: String,
    /// Server URL, `ldaps://host:636` or `ldap://host:389`.
    pub url: String,
    /// `ldaps`, `starttls` or `insecure`. There is no default, so plain text is never chosen
    /// by omission.
    pub tls: TlsMode,
    /// PEM file with the CA certificates that may sign the server's certificate. Only these
    /// are trusted (no system roots). Required unless `tls` is `insecure`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Server family: `active_directory` or `openldap` (the default).
    #[serde(default)]
    pub flavor: Flavor,
    /// DN of the service account for the simple bind.
    pub bind_dn: String,
    /// The service account's password; give it as `password_file`.
    pub password: Secret,
    /// Search base, such as `DC=clinic,DC=example`.
    pub base_dn: String,
    /// Search filter; the flavor's default selects users and groups.
    #[serde(default)]
    pub filter: Option<String>,
    /// Attributes to request; the flavor's default is what the LDIF reader maps.
    #[serde(default)]
    pub attributes: Option<Vec<String>>,
    /// Entries per page of the paged results control (RFC 2696). AD's MaxPageSize is 1000.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Seconds allowed for the TCP connect, TLS handshake and StartTLS together.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_seconds: u64,
    /// Seconds allowed for each LDAP operation: the bind and each page of a search.
    #[serde(default = "default_operation_timeout")]
    pub operation_timeout_seconds: u64,
    /// Seconds between the starts of two syncs of this directory.
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
    /// Up to this many seconds are added at random to each wait, so that tenants with the
    /// same interval do not all sync at the same instant.
    #[serde(default = "default_jitter")]
    pub jitter_seconds: u64,
    /// Read groups that are members of a synced group but lie outside `base_dn`, one base
    /// search each, until no new group appears.
    #[serde(default = "default_true")]
    pub follow_groups_outside_base: bool,
    /// Values of `member` to request per read, as `member;range=0-<N-1>` and then the
    /// following ranges. Absent: the server decides whether and where to cut.
    #[serde(default)]
    pub member_range_size: Option<u32>,
    /// Handling of search result references: `report` (the default) or `follow`.
    #[serde(default)]
    pub referrals: ReferralPolicy,
    /// Servers that `referrals: follow` may search, as `ldaps://host[:port]` or
    /// `ldap://host[:port]` URLs with the scheme of `tls`.
    #[serde(default)]
    pub referral_servers: Vec<String>,
}

/// Handling of the search result references (RFC 4511 section 4.5.3) that a server
/// returns for subtrees it does not contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralPolicy {
    /// List them in a warning of the sync report and read nothing more.
    #[default]
    Report,
    /// Search the referred subtree when its server is in `referral_servers`, with the same
    /// TLS mode, CA file and bind credentials, and merge its entries into the snapshot.
    /// References to other servers, and those the referred server returns, are reported.
    Follow,
}

fn default_source() -> String {
    "ldap".to_owned()
}
fn default_page_size() -> u32 {
    500
}
fn default_connect_timeout() -> u64 {
    10
}
fn default_operation_timeout() -> u64 {
    60
}
fn default_interval() -> u64 {
    3600
}
fn default_jitter() -> u64 {
    300
}
fn default_true() -> bool {
    true
}

/// The filter for Active Directory: people (not computers, which are `objectCategory`
/// computer) and groups.
pub const AD_FILTER: &str = "(|(objectCategory=person)(objectClass=group))";

/// The filter for other LDAP servers: the user and group classes the mapping reads.
pub const OPENLDAP_FILTER: &str = "(|(objectClass=inetOrgPerson)(objectClass=posixAccount)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))";

/// The attributes Active Directory is asked for: those the LDIF reader maps. The constructed
/// `msDS-User-Account-Control-Computed` is returned only when it is named.
pub const AD_ATTRIBUTES: &[&str] = &[
    "objectClass",
    "objectGUID",
    "objectSid",
    "sAMAccountName",
    "userPrincipalName",
    "mail",
    "employeeID",
    "employeeNumber",
    "displayName",
    "cn",
    "givenName",
    "sn",
    "title",
    "department",
    "manager",
    "userAccountControl",
    "msDS-User-Account-Control-Computed",
    "lastLogonTimestamp",
    "pwdLastSet",
    "accountExpires",
    "whenCreated",
    "adminCount",
    "primaryGroupID",
    "memberOf",
    "member",
    "groupType",
    "description",
];

/// The attributes other LDAP servers are asked for: every user attribute, and the
/// operational ones the mapping reads, which a server returns only when named.
pub const OPENLDAP_ATTRIBUTES: &[&str] = &[
    "*",
    "entryUUID",
    "createTimestamp",
    "pwdAccountLockedTime",
    "authTimestamp",
    "memberOf",
    // 389 Directory Server and FreeIPA keep the lock of a disabled account in this
    // operational attribute; servers without it ignore the name.
    "nsAccountLock",
];

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The tenant id is not valid.
    #[error("directory `{url}`: tenant `{tenant}` is not a tenant id: {reason}")]
    Tenant {
        /// The URL of the directory, to find the entry.
        url: String,
        /// The value given.
        tenant: String,
        /// Reason it is invalid.
        reason: String,
    },
    /// The source id is not an LDAP source.
    #[error(
        "directory `{url}`: source `{source_id}` is not an LDAP source; use `ldap` or `ldap:<instance>`"
    )]
    Source {
        /// The URL of the directory.
        url: String,
        /// The value given.
        source_id: String,
    },
    /// The URL scheme does not match the TLS mode.
    #[error(
        "directory `{url}`: tls `{mode}` needs a URL starting with `{scheme}`; change the URL or the tls setting"
    )]
    Scheme {
        /// The URL given.
        url: String,
        /// The TLS mode.
        mode: &'static str,
        /// The scheme the mode needs.
        scheme: &'static str,
    },
    /// TLS without a CA file.
    #[error(
        "directory `{url}`: tls `{mode}` needs `ca_file`, the PEM file of the CA that signed the server's certificate"
    )]
    MissingCa {
        /// The URL given.
        url: String,
        /// The TLS mode.
        mode: &'static str,
    },
    /// A number that must be positive is zero.
    #[error("directory `{url}`: `{key}` must be at least 1")]
    Zero {
        /// The URL given.
        url: String,
        /// The key.
        key: &'static str,
    },
    /// The page size does not fit the control's 32-bit signed integer.
    #[error("directory `{url}`: `page_size` must be at most 2147483647")]
    PageSize {
        /// The URL given.
        url: String,
    },
    /// The filter is not an RFC 4515 filter.
    #[error(
        "directory `{url}`: `filter` is not an RFC 4515 search filter; check the parentheses and escape `*`, `(`, `)` and `\\` in values as `\\2a`, `\\28`, `\\29` and `\\5c`"
    )]
    Filter {
        /// The URL given.
        url: String,
    },
    /// `member_range_size` is zero.
    #[error(
        "directory `{url}`: `member_range_size` must be at least 1; remove it to let the server decide"
    )]
    RangeSize {
        /// The URL given.
        url: String,
    },
    /// An entry of `referral_servers` is not a server URL of the directory's TLS mode.
    #[error(
        "directory `{url}`: `referral_servers` entry `{server}` {reason}; write it as `{scheme}host[:port]`"
    )]
    ReferralServer {
        /// The URL of the directory.
        url: String,
        /// The entry given.
        server: String,
        /// Reason it is invalid.
        reason: String,
        /// The scheme of the directory's TLS mode.
        scheme: &'static str,
    },
    /// `referrals: follow` without servers to follow to.
    #[error(
        "directory `{url}`: `referrals: follow` needs `referral_servers`, the servers a referral may lead to"
    )]
    NoReferralServers {
        /// The URL of the directory.
        url: String,
    },
    /// `referral_servers` given while referrals are only reported.
    #[error(
        "directory `{url}`: `referral_servers` is set but `referrals` is `report`; set `referrals: follow` or remove `referral_servers`"
    )]
    ReferralServersUnused {
        /// The URL of the directory.
        url: String,
    },
    /// Two directories of one tenant publish the same source.
    #[error(
        "tenant `{tenant}` has two directories with source `{source_id}`; give the second one `source: ldap:<instance>`"
    )]
    Duplicate {
        /// The tenant.
        tenant: String,
        /// The source.
        source_id: String,
    },
}

/// A checked directory configuration.
#[derive(Debug, Clone)]
pub struct Directory {
    /// Tenant.
    pub tenant: TenantId,
    /// Source id of the snapshots.
    pub source: SourceId,
    /// Server URL.
    pub url: String,
    /// TLS mode.
    pub tls: TlsMode,
    /// Pinned CA file, set unless `tls` is insecure.
    pub ca_file: Option<PathBuf>,
    /// Server family.
    pub flavor: Flavor,
    /// Bind DN.
    pub bind_dn: String,
    /// Bind password.
    pub password: Secret,
    /// Search base.
    pub base_dn: String,
    /// Search filter.
    pub filter: String,
    /// Requested attributes.
    pub attributes: Vec<String>,
    /// Page size, at least 1.
    pub page_size: i32,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of each operation.
    pub operation_timeout: Duration,
    /// Sync interval.
    pub interval: Duration,
    /// Largest random addition to each wait.
    pub jitter: Duration,
    /// Whether groups outside the base are read.
    pub follow_groups_outside_base: bool,
    /// Values of `member` requested per read, when the configuration sets it.
    pub member_range_size: Option<u32>,
    /// Handling of search result references.
    pub referrals: ReferralPolicy,
    /// Servers that referrals may be followed to, with the configured URL text.
    pub referral_servers: Vec<(ServerAddress, String)>,
}

impl DirectoryConfig {
    /// Checks the values and fills in the flavor's defaults.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the directory and the key to fix.
    pub fn check(self) -> Result<Directory, ConfigError> {
        let url = self.url.trim().to_owned();
        let tenant = TenantId::new(&self.tenant).map_err(|error| ConfigError::Tenant {
            url: url.clone(),
            tenant: self.tenant.clone(),
            reason: error.to_string(),
        })?;
        let source = self
            .source
            .parse::<SourceId>()
            .ok()
            .filter(|source| source.kind() == SourceKind::Ldap)
            .ok_or_else(|| ConfigError::Source {
                url: url.clone(),
                source_id: self.source.clone(),
            })?;

        let lower = url.to_ascii_lowercase();
        let (mode, scheme) = match self.tls {
            TlsMode::Ldaps => ("ldaps", "ldaps://"),
            TlsMode::Starttls => ("starttls", "ldap://"),
            TlsMode::Insecure => ("insecure", "ldap://"),
        };
        if !lower.starts_with(scheme) {
            return Err(ConfigError::Scheme { url, mode, scheme });
        }

        if self.tls != TlsMode::Insecure && self.ca_file.is_none() {
            return Err(ConfigError::MissingCa { url, mode });
        }

        for (key, value) in [
            ("page_size", u64::from(self.page_size)),
            ("connect_timeout_seconds", self.connect_timeout_seconds),
            ("operation_timeout_seconds", self.operation_timeout_seconds),
            ("interval_seconds", self.interval_seconds),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { url, key });
            }
        }
        let page_size = i32::try_from(self.page_size)
            .map_err(|_| ConfigError::PageSize { url: url.clone() })?;

        let filter = self.filter.unwrap_or_else(|| {
            match self.flavor {
                Flavor::ActiveDirectory => AD_FILTER,
                Flavor::Openldap => OPENLDAP_FILTER,
            }
            .to_owned()
        });
        if ldap3::parse_filter(&filter).is_err() {
            return Err(ConfigError::Filter { url });
        }

        let mut attributes = self.attributes.unwrap_or_else(|| {
            let defaults = match self.flavor {
                Flavor::ActiveDirectory => AD_ATTRIBUTES,
                Flavor::Openldap => OPENLDAP_ATTRIBUTES,
            };
            defaults.iter().map(|name| (*name).to_owned()).collect()
        });
        if let Some(size) = self.member_range_size {
            if size == 0 {
                return Err(ConfigError::RangeSize { url });
            }
            request_member_range(&mut attributes, size);
        }

        let referral_servers = self
            .referral_servers
            .iter()
            .map(|server| {
                let invalid = |reason: String| ConfigError::ReferralServer {
                    url: url.clone(),
                    server: server.clone(),
                    reason,
                    scheme,
                };
                if !server.trim().to_ascii_lowercase().starts_with(scheme) {
                    return Err(invalid(format!(
                        "does not start with `{scheme}` as `tls: {mode}` needs"
                    )));
                }
                let parsed =
                    LdapUrl::parse(server.trim()).map_err(|error| invalid(error.to_string()))?;
                if parsed.dn.is_some() || parsed.scope.is_some() || parsed.filter.is_some() {
                    return Err(invalid(
                        "names a DN, scope or filter, which a server entry has no use for"
                            .to_owned(),
                    ));
                }
                Ok((parsed.server, server.trim().trim_end_matches('/').to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        match (self.referrals, referral_servers.is_empty()) {
            (ReferralPolicy::Follow, true) => return Err(ConfigError::NoReferralServers { url }),
            (ReferralPolicy::Report, false) => {
                return Err(ConfigError::ReferralServersUnused { url });
            }
            _ => {}
        }

        Ok(Directory {
            tenant,
            source,
            url,
            tls: self.tls,
            ca_file: if self.tls == TlsMode::Insecure { None } else { self.ca_file },
            flavor: self.flavor,
            bind_dn: self.bind_dn,
            password: self.password,
            base_dn: self.base_dn,
            filter,
            attributes,
            page_size,
            connect_timeout: Duration::from_secs(self.connect_timeout_seconds),
            operation_timeout: Duration::from_secs(self.operation_timeout_seconds),
            interval: Duration::from_secs(self.interval_seconds),
            jitter: Duration::from_secs(self.jitter_seconds),
            follow_groups_outside_base: self.follow_groups_outside_base,
            member_range_size: self.member_range_size,
            referrals: self.referrals,
            referral_servers,
        })
    }
}

/// Replaces a plain `member` in `attributes` with `member;range=0-<size-1>`, or adds that
/// description when `member` is not listed. With `*`, the server may return a plain
/// `member` too, and the import merges it with the ranged values.
fn request_member_range(attributes: &mut Vec<String>, size: u32) {
    let ranged = format!("member;range=0-{}", size - 1);
    attributes.retain(|name| !name.eq_ignore_ascii_case("member"));
    attributes.push(ranged);
}

/// Checks every directory and rejects two that would publish the same tenant and source.
///
/// # Errors
///
/// The first [`ConfigError`].
pub fn check_all(configs: Vec<DirectoryConfig>) -> Result<Vec<Directory>, ConfigError> {
    let mut checked: Vec<Directory> = Vec::with_capacity(configs.len());
    for config in configs {
        let directory = config.check()?;
        if checked
            .iter()
            .any(|other| other.tenant == directory.tenant && other.source == directory.source)
        {
            return Err(ConfigError::Duplicate {
                tenant: directory.tenant.to_string(),
                source_id: directory.source.to_string(),
            });
        }
        checked.push(directory);
    }
    Ok(checked)
}

#[cfg(test)]
mod tests;

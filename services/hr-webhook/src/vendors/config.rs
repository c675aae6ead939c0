//! `tenants.<tenant>.vendors.<vendor>.*`: one tenant's connection to one HR vendor.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use ipnet::IpNet;
use rollcall_hr_vendors::vendors::VendorSettings;
use rollcall_hr_vendors::{
    ApiAuth, ApiSecret, ClientOptions, Credentials, NamedSecret, StaticCredential, Vendor,
    VendorClient, adapter,
};
use rollcall_runtime::Secret;
use serde::Deserialize;

use super::VendorConnection;

/// `tenants.<tenant>.vendors.<vendor>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorConfig {
    /// The IANA zone in which the vendor's dates are read, such as `America/Chicago`.
    pub time_zone: String,
    /// The vendor's id of the company: required for Gusto, Paychex and Paylocity, whose
    /// worker lists are per company.
    #[serde(default)]
    pub company_id: Option<String>,
    /// HiBob only: the IANA zone of each site, by site name.
    #[serde(default)]
    pub site_time_zones: BTreeMap<String, String>,
    /// BambooHR only: how old a signed timestamp may be, in seconds (default 10800).
    #[serde(default)]
    pub timestamp_max_age_seconds: Option<i64>,
    /// HMAC keys, for BambooHR, HiBob and Gusto: each `secret` exactly as the vendor
    /// shows it (`secret_file`). Several may be active during a rotation.
    #[serde(default)]
    pub signing_keys: Vec<NamedSecretConfig>,
    /// HTTP Basic user names and passwords given to the vendor (Paychex, Paylocity).
    #[serde(default)]
    pub basic: Vec<BasicConfig>,
    /// Bearer tokens given to the vendor (Rippling, Paychex API key).
    #[serde(default)]
    pub bearer_tokens: Vec<NamedSecretConfig>,
    /// Tokens sent as the last segment of the receiver URL, for vendors that can send
    /// no header.
    #[serde(default)]
    pub url_tokens: Vec<NamedSecretConfig>,
    /// The networks deliveries may come from, in CIDR notation; empty means any.
    #[serde(default)]
    pub allowed_networks: Vec<String>,
    /// Gusto only: the webhook subscription whose handshake the service completes.
    #[serde(default)]
    pub gusto_subscription_uuid: Option<String>,
    /// The vendor's API, which every delivery is read back through.
    pub api: VendorApiConfig,
}

/// A named secret.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedSecretConfig {
    /// A name, logged with each delivery it verifies.
    pub id: String,
    /// The value (`secret_file`).
    pub secret: Secret,
}

/// A Basic credential given to the vendor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicConfig {
    /// A name, logged with each delivery it verifies.
    pub id: String,
    /// The user name.
    pub user: String,
    /// The password (`password_file`).
    pub password: Secret,
}

/// The kind of credential Rollcall sends to the vendor's API.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ApiAuthKind {
    /// `user` and `password` (BambooHR: the API key and `x`; HiBob: a service user).
    Basic,
    /// `token` (Gusto, Rippling).
    Bearer,
    /// OAuth 2.0 client credentials: `token_url`, `client_id`, `client_secret`.
    ClientCredentials,
}

/// `tenants.<tenant>.vendors.<vendor>.api`.
///
/// The password, token and client secret are each set inline or as a `*_file` path. A
/// file is read again for every request (for each token request with OAuth), so a
/// rotated Kubernetes Secret takes effect without a restart. The `*_file` keys are
/// fields of their own, not the configuration loader's secret files, because the loader
/// reads a file once at start and keeps no path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorApiConfig {
    /// The base URL, `https` (such as `https://api.hibob.com`).
    pub base_url: String,
    /// The kind of credential.
    pub auth: ApiAuthKind,
    /// The Basic user name.
    #[serde(default)]
    pub user: Option<String>,
    /// The Basic password, inline.
    #[serde(default)]
    pub password: Option<Secret>,
    /// The file with the Basic password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The bearer token, inline.
    #[serde(default)]
    pub token: Option<Secret>,
    /// The file with the bearer token.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The OAuth token endpoint.
    #[serde(default)]
    pub token_url: Option<String>,
    /// The OAuth client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The OAuth client secret, inline.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// The file with the OAuth client secret.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// ADP only: the PEM client certificate followed by its key, for mutual TLS
    /// (`client_identity_file`).
    #[serde(default)]
    pub client_identity: Option<Secret>,
    /// Seconds one request may take.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// The maximum pause after a 429, in seconds, that the call which got it waits out
    /// before it sends again. A longer pause makes the resolver postpone the delivery and
    /// move on. Every tenant's deliveries are read one after another, so a wait within a
    /// call also holds up the other tenants' reads.
    #[serde(default = "default_max_retry_after_seconds")]
    pub max_retry_after_seconds: u64,
    /// Allows `http` to a loopback address. For local test doubles only.
    #[serde(default)]
    pub allow_plain_http_loopback: bool,
}

fn default_timeout_seconds() -> u64 {
    15
}

fn default_max_retry_after_seconds() -> u64 {
    120
}

/// An invalid vendor section; the message names the key and the fix.
#[derive(Debug, thiserror::Error)]
#[error("tenants.{tenant}.vendors.{vendor}: {message}")]
pub struct VendorConfigError {
    /// The tenant.
    pub tenant: String,
    /// The vendor key as written.
    pub vendor: String,
    /// The problem and its fix.
    pub message: String,
}

impl VendorConfig {
    /// Builds the connection, checking every value.
    pub fn connect(&self, tenant: &str, name: &str) -> Result<VendorConnection, VendorConfigError> {
        let error = |message: String| VendorConfigError {
            tenant: tenant.to_owned(),
            vendor: name.to_owned(),
            message,
        };
        let names = Vendor::ALL.map(Vendor::as_str).join(", ");
        let vendor = Vendor::parse(name)
            .ok_or_else(|| error(format!("unknown vendor; the vendors are {names}")))?;
        let zone = parse_zone(&self.time_zone).map_err(|m| error(format!("time_zone: {m}")))?;

        let mut settings = VendorSettings::new(zone);
        settings.company_id = self.company_id.clone().filter(|id| !id.trim().is_empty());
        if settings.company_id.is_none()
            && matches!(vendor, Vendor::Gusto | Vendor::Paychex | Vendor::Paylocity)
        {
            return Err(error("company_id is required for this vendor's worker list".into()));
        }
        for (site, zone) in &self.site_time_zones {
            let zone =
                parse_zone(zone).map_err(|m| error(format!("site_time_zones.{site}: {m}")))?;
            settings.site_time_zones.insert(site.clone(), zone);
        }
        if let Some(seconds) = self.timestamp_max_age_seconds {
            if seconds < 60 {
                return Err(error("timestamp_max_age_seconds must be at least 60".into()));
            }
            settings.timestamp_max_age_seconds = seconds;
        }

        let credentials = self.credentials(vendor).map_err(error)?;
        let client = self.api.client(vendor).map_err(error)?;
        Ok(VendorConnection {
            vendor,
            adapter: adapter(vendor, settings),
            credentials,
            client,
            gusto_subscription: self.gusto_subscription_uuid.clone(),
        })
    }

    fn credentials(&self, vendor: Vendor) -> Result<Credentials, String> {
        let signs = matches!(vendor, Vendor::BambooHr | Vendor::HiBob | Vendor::Gusto);
        let statics = self.basic.len() + self.bearer_tokens.len() + self.url_tokens.len();
        match vendor {
            Vendor::AdpWorkforceNow if !self.signing_keys.is_empty() || statics > 0 => {
                return Err("ADP events are pulled from its queue; remove the delivery keys".into());
            }
            Vendor::AdpWorkforceNow => {}
            _ if signs && self.signing_keys.is_empty() => {
                return Err(
                    "signing_keys needs at least one key from the vendor's webhook settings".into(),
                );
            }
            _ if signs && statics > 0 => {
                return Err("this vendor signs its deliveries; use signing_keys only".into());
            }
            _ if !signs && !self.signing_keys.is_empty() => {
                return Err(
                    "this vendor signs nothing; use basic, bearer_tokens or url_tokens".into()
                );
            }
            _ if !signs && statics == 0 => {
                return Err("basic, bearer_tokens or url_tokens needs at least one credential, because this vendor signs nothing".into());
            }
            _ => {}
        }
        let mut credentials = Credentials::default();
        for key in &self.signing_keys {
            if key.secret.expose_bytes().is_empty() {
                return Err(format!("signing_keys `{}` is empty", key.id));
            }
            let secret = key.secret.expose_bytes().to_vec();
            credentials.keys.push(NamedSecret { id: key.id.clone(), secret });
        }
        for basic in &self.basic {
            let credential = StaticCredential::basic(&basic.user, basic.password.expose_bytes());
            credentials.statics.push((basic.id.clone(), credential));
        }
        for token in &self.bearer_tokens {
            let credential = StaticCredential::bearer(token.secret.expose_bytes());
            credentials.statics.push((token.id.clone(), credential));
        }
        for token in &self.url_tokens {
            // The token travels in the URL path, so it is limited to characters that need
            // no encoding there.
            let valid = token.secret.expose_str().is_some_and(|t| {
                t.len() >= 16
                    && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
            if !valid {
                return Err(format!(
                    "url_tokens `{}` must be at least 16 letters, digits, `-` or `_`",
                    token.id
                ));
            }
            let credential = StaticCredential::url_token(token.secret.expose_bytes());
            credentials.statics.push((token.id.clone(), credential));
        }
        for network in &self.allowed_networks {
            let parsed: IpNet = network.parse().map_err(|_| {
                format!(
                    "allowed_networks: `{network}` is not CIDR notation such as 198.245.157.0/24"
                )
            })?;
            credentials.allowed_networks.push(parsed);
        }
        Ok(credentials)
    }
}

impl VendorApiConfig {
    fn client(&self, vendor: Vendor) -> Result<VendorClient, String> {
        let missing = |key: &str| format!("api.{key} is required for auth `{:?}`", self.auth);
        let auth = match self.auth {
            ApiAuthKind::Basic => ApiAuth::Basic {
                user: self.user.clone().ok_or_else(|| missing("user"))?,
                password: self.secret("password", self.password.as_ref(), &self.password_file)?,
            },
            ApiAuthKind::Bearer => {
                ApiAuth::Bearer(self.secret("token", self.token.as_ref(), &self.token_file)?)
            }
            ApiAuthKind::ClientCredentials => ApiAuth::ClientCredentials {
                token_url: self.token_url.clone().ok_or_else(|| missing("token_url"))?,
                client_id: self.client_id.clone().ok_or_else(|| missing("client_id"))?,
                client_secret: self.secret(
                    "client_secret",
                    self.client_secret.as_ref(),
                    &self.client_secret_file,
                )?,
            },
        };
        let mut options = ClientOptions::new(self.base_url.clone(), auth);
        options.timeout = Duration::from_secs(self.timeout_seconds.max(1));
        options.max_retry_after = Duration::from_secs(self.max_retry_after_seconds);
        options.allow_plain_http_loopback = self.allow_plain_http_loopback;
        options.client_identity_pem =
            self.client_identity.as_ref().map(|identity| identity.expose_bytes().to_vec());
        VendorClient::new(vendor.as_str(), options).map_err(|error| format!("api: {error}"))
    }

    /// Builds the secret `key` from its inline value or its `*_file` path. The file is
    /// also read once here, so a missing or empty one stops the start with its path.
    fn secret(
        &self,
        key: &str,
        inline: Option<&Secret>,
        file: &Option<PathBuf>,
    ) -> Result<ApiSecret, String> {
        match (inline, file) {
            (Some(_), Some(_)) => {
                Err(format!("api.{key} and api.{key}_file are both set; keep only api.{key}_file"))
            }
            (None, Some(path)) => {
                let secret = ApiSecret::File(path.clone());
                secret.read().map_err(|error| format!("api.{key}_file: {error}"))?;
                Ok(secret)
            }
            (Some(value), None) => value
                .expose_str()
                .filter(|value| !value.is_empty())
                .map(|value| ApiSecret::Value(value.to_owned()))
                .ok_or_else(|| format!("api.{key} is empty or not UTF-8 text")),
            (None, None) => Err(format!("api.{key}_file is required for auth `{:?}`", self.auth)),
        }
    }
}

fn parse_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("`{name}` is not an IANA time zone name such as America/Chicago"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(id: &str, value: &str) -> NamedSecretConfig {
        NamedSecretConfig { id: id.into(), secret: Secret::new(value) }
    }

    fn hibob() -> VendorConfig {
        VendorConfig {
            time_zone: "America/Chicago".into(),
            company_id: None,
            site_time_zones: BTreeMap::new(),
            timestamp_max_age_seconds: None,
            signing_keys: vec![secret("k1", "made-up-signing-key")],
            basic: Vec::new(),
            bearer_tokens: Vec::new(),
            url_tokens: Vec::new(),
            allowed_networks: Vec::new(),
            gusto_subscription_uuid: None,
            api: VendorApiConfig {
                base_url: "https://api.hibob.com".into(),
                auth: ApiAuthKind::Basic,
                user: Some("service-user".into()),
                password: Some(Secret::new("made-up-password")),
                password_file: None,
                token: None,
                token_file: None,
                token_url: None,
                client_id: None,
                client_secret: None,
                client_secret_file: None,
                client_identity: None,
                timeout_seconds: 15,
                max_retry_after_seconds: 120,
                allow_plain_http_loopback: false,
            },
        }
    }

    fn message(config: &VendorConfig, name: &str) -> String {
        match config.connect("harborview", name) {
            Ok(_) => String::new(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn valid_section_connects() {
        assert_eq!(message(&hibob(), "hibob"), "");
    }

    #[test]
    fn unknown_vendor_lists_known_ones() {
        let text = message(&hibob(), "workday");
        assert!(text.starts_with("tenants.harborview.vendors.workday: unknown vendor"), "{text}");
        assert!(text.contains("bamboohr, hibob, gusto"), "{text}");
    }

    #[test]
    fn invalid_zone_named() {
        let mut config = hibob();
        config.time_zone = "Central".into();
        assert!(
            message(&config, "hibob").contains("time_zone: `Central` is not an IANA time zone")
        );
        let mut config = hibob();
        config.site_time_zones.insert("Lakeside".into(), "EST5".into());
        assert!(message(&config, "hibob").contains("site_time_zones.Lakeside"));
    }

    #[test]
    fn signing_vendor_needs_key() {
        let mut config = hibob();
        config.signing_keys.clear();
        assert!(message(&config, "hibob").contains("signing_keys needs at least one key"));
        let mut config = hibob();
        config.bearer_tokens.push(secret("b", "token"));
        assert!(message(&config, "hibob").contains("use signing_keys only"));
    }

    #[test]
    fn unsigned_vendor_needs_credential() {
        let mut config = hibob();
        config.api.auth = ApiAuthKind::Bearer;
        config.api.token = Some(Secret::new("api-token"));
        assert!(message(&config, "rippling").contains("signs nothing"));
        config.signing_keys.clear();
        assert!(message(&config, "rippling").contains("needs at least one credential"));
        config.url_tokens.push(secret("short", "abc"));
        assert!(message(&config, "rippling").contains("url_tokens `short` must be at least 16"));
        config.url_tokens = vec![secret("long", "k3Pq9vT2wLx8Rm4Z")];
        assert_eq!(message(&config, "rippling"), "");
    }

    #[test]
    fn company_id_required_for_lists() {
        let mut config = hibob();
        config.signing_keys = vec![secret("token", "verification-token")];
        assert!(message(&config, "gusto").contains("company_id is required"));
        config.company_id = Some("a4b8c2d6".into());
        config.api.auth = ApiAuthKind::Bearer;
        config.api.token = Some(Secret::new("api-token"));
        assert_eq!(message(&config, "gusto"), "");
    }

    #[test]
    fn plain_http_api_rejected() {
        let mut config = hibob();
        config.api.base_url = "http://api.hibob.com".into();
        assert!(message(&config, "hibob").contains("plain http"));
        config.api.base_url = "http://127.0.0.1:9".into();
        assert!(message(&config, "hibob").contains("plain http"));
        config.api.allow_plain_http_loopback = true;
        assert_eq!(message(&config, "hibob"), "");
    }

    #[test]
    fn missing_api_credential_named() {
        let mut config = hibob();
        config.api.password = None;
        assert!(message(&config, "hibob").contains("api.password_file is required"));
        config.api.auth = ApiAuthKind::ClientCredentials;
        assert!(message(&config, "hibob").contains("api.token_url is required"));
    }

    #[test]
    fn api_secret_file_checked_at_start() {
        let dir = std::env::temp_dir().join(format!("rollcall-api-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hibob-api");
        let mut config = hibob();
        config.api.password = None;
        config.api.password_file = Some(path.clone());

        let text = message(&config, "hibob");
        assert!(text.contains("api.password_file: cannot read"), "{text}");
        assert!(text.contains("hibob-api"), "{text}");
        std::fs::write(&path, "\n").unwrap();
        let text = message(&config, "hibob");
        assert!(text.contains("api.password_file:"), "{text}");
        assert!(text.contains("is empty"), "{text}");
        std::fs::write(&path, "service-user-token\n").unwrap();
        assert_eq!(message(&config, "hibob"), "");

        config.api.password = Some(Secret::new("inline"));
        let text = message(&config, "hibob");
        assert!(text.contains("api.password and api.password_file are both set"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn invalid_network_named() {
        let mut config = hibob();
        config.signing_keys.clear();
        config.basic.push(BasicConfig {
            id: "b".into(),
            user: "u".into(),
            password: Secret::new("p"),
        });
        config.allowed_networks.push("198.245.157.0/33".into());
        assert!(message(&config, "paylocity").contains("company_id is required"));
        config.company_id = Some("L7731".into());
        assert!(message(&config, "paylocity").contains("`198.245.157.0/33` is not CIDR"));
    }

    #[test]
    fn adp_rejects_delivery_keys() {
        let config = hibob();
        assert!(message(&config, "adp-workforce-now").contains("pulled from its queue"));
    }
}

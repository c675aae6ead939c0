//! Shared set-up: a scratch database with the tenant, the DrChrono double on loopback,
//! a refresh token file and an API client for one sync.

#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "each test file uses a different part; a test stops at its first broken expectation"
)]

use std::path::{Path, PathBuf};

use rollcall_core::TenantId;
use rollcall_drchrono_connector::{
    ApiClient, Limits, SyncError, SyncResult, TokenSource, full_sync, http_client,
};
use rollcall_runtime::Secret;
use rollcall_store::Store;
use serde_json::Value;

use crate::double::{CLIENT_ID, CLIENT_SECRET, DrChronoDouble, FIRST_REFRESH_TOKEN};
use crate::support::TestDb;
use crate::support::fixtures::add_tenant;

/// The tenant every test syncs.
pub const TENANT: &str = "harborlight";

/// The zone of naive times whose doctor has no `timezone`, as the test's tenant.yaml.
pub const ZONE: &str = "America/Los_Angeles";

/// Limits with short waits, so fault tests take milliseconds. Three records per page
/// split the example's five users over two pages.
pub fn fast_limits() -> Limits {
    Limits {
        max_attempts: 4,
        backoff_base_ms: 5,
        backoff_max_ms: 2_000,
        request_budget: 500,
        request_timeout_seconds: 10,
        page_size: 3,
        min_request_interval_ms: 0,
    }
}

/// Writes a tenant folder in the `rollcall scan` layout into `dir`: a `tenant.yaml` whose
/// only source is the DrChrono dump `ehr/drchrono.json`, with `policy` appended, and the
/// dump when one is given.
pub fn write_tenant_folder(dir: &Path, dump: Option<&Value>, policy: &str) {
    std::fs::create_dir_all(dir.join("ehr")).unwrap();
    if let Some(dump) = dump {
        let bytes = serde_json::to_vec_pretty(dump).unwrap();
        std::fs::write(dir.join("ehr/drchrono.json"), bytes).unwrap();
    }
    let tenant_yaml = format!(
        "tenant:\n  id: {TENANT}\n  name: Harbor Light Family Care\n  time_zone: {ZONE}\n\
         sources:\n  ehr:\n    - files: [ehr/drchrono.json]\n      format: drchrono\n      vendor: drchrono\n{policy}"
    );
    std::fs::write(dir.join("tenant.yaml"), tenant_yaml).unwrap();
}

/// One test's world.
pub struct Setup {
    /// The scratch database, unless the store belongs to the caller.
    pub db: Option<TestDb>,
    pub store: Store,
    pub tenant: TenantId,
    pub double: DrChronoDouble,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub token_file: PathBuf,
    pub secret: Secret,
    pub http: reqwest::Client,
}

impl Setup {
    /// Creates the database and tenant, serves `double` and writes its first refresh
    /// token to a file.
    pub async fn new(double: DrChronoDouble) -> Setup {
        let db = TestDb::create().await;
        let store = db.store().await;
        add_tenant(&store, TENANT).await;
        let mut setup = Self::on(store, double).await;
        setup.db = Some(db);
        setup
    }

    /// Serves `double` for a tenant that `store` already has.
    pub async fn on(store: Store, double: DrChronoDouble) -> Setup {
        let tenant = TenantId::new(TENANT).unwrap();
        let base = double.spawn().await;
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("refresh-token");
        std::fs::write(&token_file, format!("{FIRST_REFRESH_TOKEN}\n")).unwrap();
        let http = http_client(&fast_limits(), true).unwrap();
        Setup {
            db: None,
            store,
            tenant,
            double,
            base,
            dir,
            token_file,
            secret: Secret::new(CLIENT_SECRET),
            http,
        }
    }

    /// Returns an API client for one sync, with the limits given.
    pub fn client_with(&self, limits: Limits) -> ApiClient<'_> {
        let tokens = TokenSource {
            tenant: TENANT.to_owned(),
            token_url: format!("{}/o/token/", self.base),
            client_id: CLIENT_ID.to_owned(),
            client_secret: &self.secret,
            refresh_token_file: self.token_file.clone(),
            scope: self.store.tenant(&self.tenant),
        };
        ApiClient::new(&self.http, &self.base, tokens, limits)
    }

    /// Returns an API client for one sync with [`fast_limits`].
    pub fn client(&self) -> ApiClient<'_> {
        self.client_with(fast_limits())
    }

    /// Runs one full sync.
    pub async fn sync(&self) -> Result<SyncResult, SyncError> {
        let mut client = self.client();
        full_sync(&mut client, ZONE.parse().unwrap(), 90, fast_limits().page_size).await
    }

    /// Returns the refresh token the store holds for the tenant.
    pub async fn stored_refresh_token(&self) -> Option<String> {
        let state = self.store.tenant(&self.tenant).drchrono_state().await.unwrap();
        state.map(|state| state.refresh_token)
    }
}

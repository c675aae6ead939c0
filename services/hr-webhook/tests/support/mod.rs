//! What the HR webhook's tests share: a scratch PostgreSQL database, a NATS namespace of
//! their own, the service running in the test process from a configuration file with
//! secret files in a temporary folder, and a signing client.
//!
//! The servers are the local ones: PostgreSQL at `postgres://postgres@127.0.0.1:5432`
//! (`ROLLCALL_TEST_DATABASE_URL`) and NATS at `127.0.0.1:4222` (`ROLLCALL_TEST_NATS_URL`).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support: each test binary uses a part, and a test stops at its first broken expectation"
)]

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use prost::Message as _;
use rollcall_bus::{MessageKind, Namespace, StreamFamily, Topology};
use rollcall_core::TenantId;
use rollcall_hr_webhook::signature::sign;
use rollcall_hr_webhook::{HrWebhookConfig, Service};
use rollcall_proto::{HrEvent, v1};
use rollcall_runtime::{ConfigLoader, Shutdown, ShutdownReport};
use rollcall_store::{Store, TenantProfile};
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// A tenant in the configuration and the store, with two webhook keys for rotation.
pub const TENANT: &str = "harborview";
/// A second tenant in the configuration and the store, with a key of its own.
pub const OTHER: &str = "lakeside";
/// A tenant in the configuration but not in the store.
pub const UNSTORED: &str = "ghost";

/// The current key of [`TENANT`].
pub const KEY_A: &[u8] = b"harborview key a: 32 bytes long!";
/// The previous key of [`TENANT`], still accepted during the rotation.
pub const KEY_B: &[u8] = b"harborview key b: 32 bytes long!";
/// The key of [`OTHER`].
pub const OTHER_KEY: &[u8] = b"lakeside key: also 32 bytes long";
/// The SCIM bearer token of [`TENANT`].
pub const SCIM_TOKEN: &str = "scim-token-of-harborview-for-tests";
/// The SCIM bearer token of [`OTHER`].
pub const OTHER_SCIM_TOKEN: &str = "scim-token-of-lakeside-for-tests";

/// Generous limit for things to settle on a busy two-core machine.
pub const LIMIT: Duration = Duration::from_secs(60);

fn admin_options() -> PgConnectOptions {
    let url = std::env::var("ROLLCALL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    PgConnectOptions::from_str(&url).unwrap()
}

/// A scratch database with the schema migrated; dropped at the end.
pub struct TestDb {
    pub name: String,
    admin: PgConnectOptions,
}

impl TestDb {
    pub async fn create() -> Self {
        let admin = admin_options();
        let mut connection = tokio::time::timeout(
            Duration::from_secs(10),
            PgConnection::connect_with(&admin),
        )
        .await
        .expect("PostgreSQL did not answer within 10 s; start it or set ROLLCALL_TEST_DATABASE_URL")
        .expect("PostgreSQL refused the connection");
        for role in ["rollcall_migrator", "rollcall_app"] {
            let statement = format!(
                "DO $$ BEGIN CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            );
            sqlx::query(AssertSqlSafe(statement)).execute(&mut connection).await.unwrap();
        }
        let name = format!("rollcall_test_{}", Uuid::new_v4().simple());
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name} OWNER rollcall_migrator")))
            .execute(&mut connection)
            .await
            .unwrap();
        let _ = connection.close().await;
        let db = Self { name, admin };
        let owner = sqlx::PgPool::connect_with(
            db.admin.clone().database(&db.name).username("rollcall_migrator"),
        )
        .await
        .unwrap();
        rollcall_store::migrate_as_owner(&owner).await.unwrap();
        owner.close().await;
        db
    }

    pub fn host(&self) -> String {
        self.admin.get_host().to_owned()
    }

    pub fn port(&self) -> u16 {
        self.admin.get_port()
    }

    /// Returns the runtime role's URL, through `port` instead of the server's own when given.
    pub fn app_url(&self, port: Option<u16>) -> String {
        format!(
            "postgres://rollcall_app@{}:{}/{}",
            self.host(),
            port.unwrap_or(self.port()),
            self.name
        )
    }

    /// Returns the administrator's connection options for this database. Row-level
    /// security does not restrict them, so a test can read rows as they are stored.
    pub fn admin_options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.app_url(None), &rollcall_store::StoreOptions::default()).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
            else {
                return;
            };
            runtime.block_on(async {
                let Ok(Ok(mut connection)) = tokio::time::timeout(
                    Duration::from_secs(10),
                    PgConnection::connect_with(&admin),
                )
                .await
                else {
                    return;
                };
                let _ = sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut connection)
                .await;
            });
        });
        let _ = cleanup.join();
    }
}

pub fn nats_url() -> String {
    std::env::var("ROLLCALL_TEST_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

/// Returns a loopback port that nothing listens on, bound and then released.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A NATS namespace of the test's own, with its streams; deleted at the end.
pub struct TestBus {
    pub url: String,
    pub jetstream: jetstream::Context,
    pub namespace: Namespace,
}

impl TestBus {
    pub async fn new() -> Self {
        let url = nats_url();
        let client = tokio::time::timeout(Duration::from_secs(10), async_nats::connect(&url))
            .await
            .expect("NATS did not answer; start nats-server -js on 127.0.0.1:4222 or set ROLLCALL_TEST_NATS_URL")
            .expect("NATS refused the connection");
        let short = Uuid::new_v4().simple().to_string()[..12].to_owned();
        let namespace =
            Namespace::new(&format!("t{short}"), &format!("T{}", short.to_uppercase())).unwrap();
        let jetstream = jetstream::new(client);
        let topology = Topology::new(namespace.clone());
        // NATS 2.9 can fail a stream creation that races another test's deletion of the
        // account's last stream; try again.
        for attempt in 1..=10 {
            match topology.ensure(&jetstream).await {
                Ok(_) => break,
                Err(error) if attempt < 10 => {
                    eprintln!("stream creation failed ({error}), retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("{error}"),
            }
        }
        Self { url, jetstream, namespace }
    }

    /// Reads every HR event on the namespace's HR stream, in order, with its `Nats-Msg-Id`.
    pub async fn hr_messages(&self) -> Vec<(String, v1::HrEvent)> {
        let mut stream = self
            .jetstream
            .get_stream(self.namespace.stream_name(MessageKind::HrEvent.stream()))
            .await
            .unwrap();
        let info = stream.info().await.unwrap();
        let mut messages = Vec::new();
        if info.state.messages == 0 {
            return messages;
        }
        for sequence in info.state.first_sequence..=info.state.last_sequence {
            let message = stream.get_raw_message(sequence).await.unwrap();
            let id = message
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|value| value.as_str().to_owned())
                .unwrap_or_default();
            messages.push((id, v1::HrEvent::decode(message.payload.as_ref()).unwrap()));
        }
        messages
    }

    pub async fn delete(&self) {
        for family in StreamFamily::ALL {
            let _ = self.jetstream.delete_stream(self.namespace.stream_name(family)).await;
        }
    }
}

/// A loopback TCP forwarder to PostgreSQL that the test can cut, to make the database
/// unreachable for the service alone.
pub struct Cutter {
    pub port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Cutter {
    pub async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let held = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().unwrap().push(task);
            }
        });
        Self { port, tasks, accept }
    }

    /// Stops accepting and closes every forwarded connection.
    pub fn cut(&self) {
        self.accept.abort();
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// Settings a test changes.
#[derive(Debug, Clone)]
pub struct Options {
    pub nats_url: Option<String>,
    pub postgres_port: Option<u16>,
    pub max_body_bytes: usize,
    pub per_minute: u32,
    pub burst: u32,
    /// YAML lines added to [`TENANT`]'s section, indented by four spaces, such as its
    /// `vendors:` map.
    pub tenant_yaml: String,
    /// YAML lines added at the top level, such as a `vendor_sync:` section.
    pub extra_yaml: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            nats_url: None,
            postgres_port: None,
            max_body_bytes: 65_536,
            per_minute: 1_000_000,
            burst: 10_000,
            tenant_yaml: String::new(),
            extra_yaml: String::new(),
        }
    }
}

/// Writes the configuration file and the secret files into `dir` and returns the
/// configuration file's path.
pub fn write_config(
    dir: &Path,
    db: &TestDb,
    bus: &TestBus,
    options: &Options,
    http: &str,
    ops: &str,
) -> std::path::PathBuf {
    let secret = |bytes: &[u8]| format!("whsec_{}\n", STANDARD.encode(bytes));
    std::fs::write(dir.join("key-a"), secret(KEY_A)).unwrap();
    std::fs::write(dir.join("key-b"), secret(KEY_B)).unwrap();
    std::fs::write(dir.join("other-key"), secret(OTHER_KEY)).unwrap();
    std::fs::write(dir.join("scim-token"), format!("{SCIM_TOKEN}\n")).unwrap();
    std::fs::write(dir.join("other-scim-token"), OTHER_SCIM_TOKEN).unwrap();
    std::fs::write(dir.join("postgres-url"), db.app_url(options.postgres_port)).unwrap();
    let nats_url = options.nats_url.clone().unwrap_or_else(|| bus.url.clone());
    let d = dir.display();
    let yaml = format!(
        "http:\n  listen: \"{http}\"\n  max_body_bytes: {max_body}\n  publish_timeout_seconds: 1\n\
         ops:\n  listen: \"{ops}\"\n\
         shutdown:\n  grace_period_seconds: 10\n\
         nats:\n  url: \"{nats_url}\"\n  subject_prefix: {subject}\n  stream_prefix: {stream}\n\
         postgres:\n  url_file: {d}/postgres-url\n  acquire_timeout_seconds: 1\n\
         rate_limit:\n  per_minute: {per_minute}\n  burst: {burst}\n\
         tenants:\n\
         \x20 {TENANT}:\n\
         \x20   webhook_keys:\n\
         \x20     - id: key-a\n        secret_file: {d}/key-a\n\
         \x20     - id: key-b\n        secret_file: {d}/key-b\n\
         \x20   scim_token_file: {d}/scim-token\n\
         {tenant_yaml}\
         \x20 {OTHER}:\n\
         \x20   webhook_keys:\n\
         \x20     - id: lakeside\n        secret_file: {d}/other-key\n\
         \x20   scim_token_file: {d}/other-scim-token\n\
         \x20 {UNSTORED}:\n\
         \x20   webhook_keys:\n\
         \x20     - id: ghost\n        secret_file: {d}/key-a\n\
         {extra_yaml}",
        max_body = options.max_body_bytes,
        subject = bus.namespace.subject_prefix(),
        stream = bus.namespace.stream_prefix(),
        per_minute = options.per_minute,
        burst = options.burst,
        tenant_yaml = options.tenant_yaml,
        extra_yaml = options.extra_yaml,
    );
    let path = dir.join("hr-webhook.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Adds [`TENANT`] and [`OTHER`] to the store.
pub async fn add_tenants(store: &Store) {
    for tenant in [TENANT, OTHER] {
        let profile = TenantProfile {
            name: format!("{tenant} practice"),
            time_zone: chrono_tz::America::Chicago,
        };
        store.tenant(&TenantId::new(tenant).unwrap()).upsert_tenant(&profile).await.unwrap();
    }
}

/// The service running on a task of the test's runtime.
pub struct Harness {
    pub db: TestDb,
    pub bus: TestBus,
    pub store: Store,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub ops: String,
    pub client: reqwest::Client,
    shutdown: Shutdown,
    task: JoinHandle<ShutdownReport>,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let db = TestDb::create().await;
        Self::start_on(db, options).await
    }

    pub async fn start_on(db: TestDb, options: Options) -> Self {
        let bus = TestBus::new().await;
        let store = db.store().await;
        add_tenants(&store).await;
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), &db, &bus, &options, "127.0.0.1:0", "127.0.0.1:0");
        let loaded = ConfigLoader::new().file(&path).load::<HrWebhookConfig>().unwrap();
        let service = Service::start(loaded.config).await.unwrap();
        let base = format!("http://{}", service.http_addr().unwrap());
        let ops = format!("http://{}", service.ops_addr().unwrap());
        let shutdown = Shutdown::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move { service.run(&stop).await });
        let client = reqwest::Client::builder().timeout(LIMIT).build().unwrap();
        Self { db, bus, store, dir, base, ops, client, shutdown, task }
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let report = tokio::time::timeout(LIMIT, self.task).await.unwrap().unwrap();
        assert!(report.is_clean(), "{report:?}");
        self.bus.delete().await;
    }

    /// Posts `body` to the tenant's webhook endpoint with the given headers.
    pub async fn post_webhook(
        &self,
        tenant: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/v1/tenants/{tenant}/hr/events", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap()
    }

    /// Posts `body` signed with `key` now.
    pub async fn send_signed(
        &self,
        tenant: &str,
        key: &[u8],
        webhook_id: &str,
        body: &str,
    ) -> reqwest::Response {
        let now = Utc::now().timestamp();
        self.post_webhook(tenant, &signed_headers(key, webhook_id, now, body), body).await
    }

    /// Reads the HR events of `tenant` from the store.
    pub async fn stored_events(&self, tenant: &str) -> Vec<HrEvent> {
        let epoch = DateTime::<Utc>::from_timestamp(0, 0).unwrap();
        self.store.tenant(&TenantId::new(tenant).unwrap()).hr_events_since(epoch).await.unwrap()
    }

    /// Sends a SCIM request with the tenant's token and returns the status and JSON body
    /// (`Value::Null` when empty).
    pub async fn scim(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        self.scim_as(TENANT, SCIM_TOKEN, method, path, body).await
    }

    pub async fn scim_as(
        &self,
        tenant: &str,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/scim/v2/{tenant}/{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request =
                request.header("content-type", "application/scim+json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        (status, value)
    }

    /// Fetches the ops server's metrics text.
    pub async fn metrics(&self) -> String {
        self.client.get(format!("{}/metrics", self.ops)).send().await.unwrap().text().await.unwrap()
    }
}

/// Builds the three `webhook-*` headers of a request signed with `key` at `timestamp`.
pub fn signed_headers(
    key: &[u8],
    webhook_id: &str,
    timestamp: i64,
    body: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("webhook-id", webhook_id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", sign(key, webhook_id, timestamp, body.as_bytes())),
    ]
}

/// Builds a termination body for `employee_id`.
pub fn termination(employee_id: &str) -> String {
    serde_json::json!({
        "type": "termination",
        "employee_id": employee_id,
        "effective_at": "2026-12-04T17:00:00-06:00",
        "time_zone": "America/Chicago",
        "reason": "voluntary resignation",
        "manager_employee_id": "E0001",
    })
    .to_string()
}

/// Returns the value of the counter line that starts with `prefix`, or 0.
pub fn counter(metrics: &str, prefix: &str) -> u64 {
    metrics
        .lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

//! The test harness. Each [`App`] has:
//!
//! - a scratch database with the example practice and a launched campaign;
//! - the local Redis, under a key prefix of the test's own;
//! - a real OpenID provider (`tests/idp/idp.mjs`, oidc-provider on Node) on a free
//!   loopback port;
//! - the web app, served from the test process.
//!
//! A [`Browser`] signs in through the provider's login pages the way a person would.

#![allow(dead_code, reason = "each test binary uses a different part of the support module")]

#[path = "../../../store/tests/support/mod.rs"]
pub mod store_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use rollcall_reviews::{ReviewLaunch, launch_due};
use rollcall_reviews_web::ReviewsWebConfig;
use rollcall_reviews_web::routes::router;
use rollcall_reviews_web::service::{app_state, connect_redis};
use rollcall_reviews_web::state::AppState;
use rollcall_store::{SnapshotMeta, Store, TenantConfigText, TenantProfile};
use serde_json::{Value, json};
use store_support::TestDb;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// The Entra directory of the example practice, made up.
pub const HARBORVIEW_DIRECTORY: &str = "11111111-1111-4111-8111-111111111111";
/// The directory of the second practice, made up.
pub const LAKESIDE_DIRECTORY: &str = "22222222-2222-4222-8222-222222222222";
/// A directory no practice onboarded, made up.
pub const UNKNOWN_DIRECTORY: &str = "33333333-3333-4333-8333-333333333333";

/// Entra object ids of the example's people: the medical director (fallback and second
/// stage), two managers and a physician who reports to the office manager.
pub const DIRECTOR_E1001: &str = "6e7a1000-0000-4000-8000-0000000003e9";
pub const OFFICE_MANAGER_E1002: &str = "6e7a1000-0000-4000-8000-0000000003ea";
pub const PRACTICE_MANAGER_E1003: &str = "6e7a1000-0000-4000-8000-0000000003eb";
pub const PHYSICIAN_E1004: &str = "6e7a1000-0000-4000-8000-0000000003ec";

/// The campaign every test launches, appended to the example's tenant.yaml.
const CAMPAIGNS: &str = "
campaigns:
  - id: quarterly-all
    name: Quarterly access review
    reviewers:
      fallback: E1001
      second_stage: E1001
    deadline_days: 14
    max_source_age: 72h
";

/// Returns the instant the example describes.
pub fn example_now() -> DateTime<Utc> {
    store_support::fixtures::at(store_support::fixtures::EXAMPLE_AS_OF)
}

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview")
}

/// Stores the example practice under `tenant_id` with every source collected an hour
/// before the example's instant, launches its campaign and returns the campaign id.
/// Sets `sign_in.issuer` in the example practice's stored `tenant.yaml`.
pub async fn store_issuer(store: &Store, issuer: &str) {
    let scope = store.tenant(&rollcall_core::TenantId::new("harborview").unwrap());
    let stored = scope.tenant_config().await.unwrap().unwrap();
    // This function writes the section as the first two lines; drop an earlier one.
    let rest = match stored.text.tenant_yaml.strip_prefix("sign_in:\n") {
        Some(rest) => rest.split_once('\n').unwrap().1.to_owned(),
        None => stored.text.tenant_yaml,
    };
    let yaml = format!("sign_in:\n  issuer: \"{issuer}\"\n{rest}");
    let tenant = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap().tenant;
    let profile = TenantProfile { name: tenant.name.clone(), time_zone: tenant.time_zone };
    let text = TenantConfigText { tenant_yaml: yaml, policy_yaml: None };
    assert!(scope.apply_tenant_config(&profile, &text, "test").await.unwrap());
}

pub async fn launched_practice(store: &Store, tenant_id: &str) -> Uuid {
    let dir = example_dir();
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml"))
        .unwrap()
        .replace("id: harborview", &format!("id: {tenant_id}"))
        + CAMPAIGNS;
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None).unwrap();
    let tenant = config.tenant;
    let scope = store.tenant(&tenant.id);
    let profile = TenantProfile { name: tenant.name.clone(), time_zone: tenant.time_zone };
    let text = TenantConfigText { tenant_yaml: yaml, policy_yaml: None };
    scope.apply_tenant_config(&profile, &text, "test").await.unwrap();
    let loaded = rollcall_ingest::layout::load_tenant(&dir, example_now()).unwrap();
    let collected = example_now() - TimeDelta::hours(1);
    for (index, snapshot) in loaded.data.sources.iter().enumerate() {
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: collected,
            stream_sequence: index as u64 + 1,
        };
        scope.apply_source_snapshot(snapshot, &meta).await.unwrap();
    }
    let meta =
        SnapshotMeta { snapshot_id: Uuid::new_v4(), collected_at: collected, stream_sequence: 100 };
    scope.apply_hr_roster(loaded.data.hr.as_ref().unwrap(), &meta).await.unwrap();
    let launches = launch_due(&scope, example_now()).await.unwrap();
    match launches.first().map(|launch| &launch.outcome) {
        Some(Ok(ReviewLaunch::Launched { campaign_id, .. })) => *campaign_id,
        other => panic!("the campaign did not launch: {other:?}"),
    }
}

/// The OpenID provider, stopped when dropped.
pub struct Idp {
    /// The issuer it announces and puts in its tokens.
    pub issuer: String,
    /// Where it listens: the issuer, unless [`Idp::start_as`] gave another one.
    pub address: String,
    child: Child,
}

impl Idp {
    /// Starts `tests/idp/idp.mjs` with the app's redirect URI. The npm packages must be
    /// installed (`scripts/install-test-deps.sh` does).
    pub async fn start(redirect_uri: &str) -> Idp {
        Idp::start_as(redirect_uri, None).await
    }

    /// Starts the provider as [`Idp::start`] does, announcing `issuer` instead of its own
    /// address when given: a proxy at `issuer` that forwards to [`Idp::address`] with
    /// the Host header unchanged is then in front of every endpoint.
    pub async fn start_as(redirect_uri: &str, issuer: Option<&str>) -> Idp {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idp");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed in {}; run scripts/install-test-deps.sh",
            dir.display()
        );
        let mut command = Command::new("node");
        if let Some(issuer) = issuer {
            command.env("ISSUER", issuer);
        }
        let mut child = command
            .arg("idp.mjs")
            .current_dir(&dir)
            .env("CLIENT_ID", "rollcall-reviews")
            .env("CLIENT_SECRET", "test-secret")
            .env("REDIRECT_URI", redirect_uri)
            .env("DEFAULT_TID", HARBORVIEW_DIRECTORY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting node failed: {e}; install Node.js 20 or later"));
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let (issuer, address) = loop {
            let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
                .await
                .expect("the OpenID provider did not start within 30 seconds")
                .unwrap()
                .expect("the OpenID provider exited before listening");
            if let Some(rest) = line.strip_prefix("listening ") {
                break match rest.split_once(" at ") {
                    Some((issuer, address)) => (issuer.to_owned(), address.to_owned()),
                    None => (rest.to_owned(), rest.to_owned()),
                };
            }
        };
        // The provider writes more lines later; a closed pipe would make Node exit.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Idp { issuer, address, child }
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        // kill_on_drop also stops it; this makes it happen before the runtime ends.
        let _ = self.child.start_kill();
    }
}

/// Settings a test may change before the app starts.
#[derive(Default)]
pub struct Options {
    /// Builds the issuer configured for the example practice from the provider's; the
    /// provider's own by default.
    pub harborview_issuer: Option<fn(&str) -> String>,
    /// The issuer the provider announces instead of its own address (a proxy's).
    pub idp_issuer: Option<String>,
    /// Leaves `issuer` out of the example practice's entry in the app's settings.
    pub omit_configured_issuer: bool,
    /// Builds a `sign_in.issuer` for the example practice's stored `tenant.yaml`, as the
    /// operator renders it from a `Tenant` resource, from the provider's issuer.
    pub stored_issuer: Option<fn(&str) -> String>,
}

/// A running app with its database, provider and Redis prefix.
pub struct App {
    pub db: TestDb,
    pub store: Store,
    pub base: String,
    pub idp: Idp,
    pub campaign: Uuid,
    pub lakeside_campaign: Uuid,
    pub state: Arc<AppState>,
    pub redis: redis::aio::ConnectionManager,
    server: tokio::task::JoinHandle<()>,
}

impl App {
    /// Starts everything with the defaults.
    pub async fn start() -> App {
        App::start_with(Options::default()).await
    }

    /// Starts everything.
    pub async fn start_with(options: Options) -> App {
        let db = TestDb::create().await;
        let store = db.store().await;
        let campaign = launched_practice(&store, "harborview").await;
        let lakeside_campaign = launched_practice(&store, "lakeside").await;

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let idp =
            Idp::start_as(&format!("{base}/auth/callback"), options.idp_issuer.as_deref()).await;
        let harborview_issuer = match options.harborview_issuer {
            Some(issuer) => issuer(&idp.issuer),
            None => idp.issuer.clone(),
        };
        if let Some(stored) = options.stored_issuer {
            store_issuer(&store, &stored(&idp.issuer)).await;
        }
        let mut harborview =
            json!({ "issuer": harborview_issuer, "directory_id": HARBORVIEW_DIRECTORY });
        if options.omit_configured_issuer {
            harborview.as_object_mut().unwrap().remove("issuer");
        }
        let prefix = format!("rollcall:test:{}:", Uuid::new_v4().simple());
        let config: ReviewsWebConfig = serde_json::from_value(json!({
            "http": { "listen": "127.0.0.1:0", "public_url": base },
            "postgres": { "url": "postgres://unused@127.0.0.1/unused" },
            "redis": { "url": "redis://127.0.0.1:6379/0", "key_prefix": prefix },
            "oidc": { "client_id": "rollcall-reviews", "client_secret": "test-secret" },
            "tenants": {
                "harborview": harborview,
                "lakeside": { "issuer": idp.issuer, "directory_id": LAKESIDE_DIRECTORY }
            }
        }))
        .unwrap();
        let redis = connect_redis(&config.redis)
            .await
            .unwrap_or_else(|e| panic!("{e}; start the local Redis (scripts/services.sh does)"));
        let state = Arc::new(app_state(&config, store.clone(), redis.clone()).unwrap());
        let app = router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        App { db, store, base, idp, campaign, lakeside_campaign, state, redis, server }
    }

    /// Returns a browser without cookies.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// Signs in to `tenant` as the provider login `login` and returns the browser.
    pub async fn signed_in(&self, tenant: &str, login: &str) -> Browser {
        let mut browser = self.browser();
        let callback = browser.authorize(tenant, login).await;
        let response = browser.get(&callback).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        assert_eq!(response.location.as_deref(), Some("/campaigns"));
        assert!(browser.cookie("rc_session").is_some(), "no session cookie");
        browser
    }

    /// Returns the item ids of `campaign` reviewed by `reviewer`.
    pub async fn items_of(&self, tenant: &str, campaign: Uuid, reviewer: &str) -> Vec<i32> {
        let tenant = rollcall_core::TenantId::new(tenant).unwrap();
        let items = self.store.tenant(&tenant).review_items(campaign).await.unwrap();
        items.iter().filter(|item| item.reviewer == reviewer).map(|item| item.item_id).collect()
    }

    /// Returns the decision of one item.
    pub async fn decision_of(&self, campaign: Uuid, item: i32) -> Option<String> {
        let tenant = rollcall_core::TenantId::new("harborview").unwrap();
        let items = self.store.tenant(&tenant).review_items(campaign).await.unwrap();
        items.into_iter().find(|i| i.item_id == item).and_then(|i| i.decision)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Reply {
    /// Parses the body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A browser: the app's cookies are kept by hand, because they are `Secure` and the
/// test app is plain HTTP on loopback, which browsers accept and cookie jars may not.
/// The provider's cookies live in reqwest's jar.
pub struct Browser {
    base: String,
    app: reqwest::Client,
    idp: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new(base: &str) -> Browser {
        let app =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let idp = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        Browser { base: base.to_owned(), app, idp, cookies: HashMap::new() }
    }

    /// Returns an app cookie's value.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Sets an app cookie, as a planted or stale one would be.
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) }
    }

    async fn read(&mut self, response: reqwest::Response) -> Reply {
        let status = response.status();
        let location = response.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for cookie in &set_cookies {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.unwrap();
        Reply { status, location, set_cookies, body }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    /// Sends a GET to the app.
    pub async fn get(&mut self, path: &str) -> Reply {
        let response =
            self.app.get(self.url(path)).header(COOKIE, self.cookie_header()).send().await.unwrap();
        self.read(response).await
    }

    /// Posts a form to the app.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let response = self
            .app
            .post(self.url(path))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// Posts JSON to the app with an optional CSRF header.
    pub async fn post_json(&mut self, path: &str, csrf: Option<&str>, body: &Value) -> Reply {
        let mut request = self
            .app
            .post(self.url(path))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = csrf {
            request = request.header("x-csrf-token", token);
        }
        let response = request.send().await.unwrap();
        self.read(response).await
    }

    /// Returns the session's CSRF token from the API.
    pub async fn csrf(&mut self) -> String {
        let reply = self.get("/api/v1/session").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["csrf_token"].as_str().unwrap().to_owned()
    }

    /// Starts sign-in for `tenant`, signs in at the provider as `login` through its login
    /// and consent pages, and returns the callback URL the provider redirects to,
    /// without opening it.
    pub async fn authorize(&mut self, tenant: &str, login: &str) -> String {
        self.authorize_from(&format!("/auth/login?tenant={tenant}"), login).await
    }

    /// Signs in as [`Browser::authorize`] does, starting at `start_path`.
    pub async fn authorize_from(&mut self, start_path: &str, login: &str) -> String {
        self.authorize_rewritten(start_path, login, |url| url).await
    }

    /// Signs in as [`Browser::authorize_from`] does, with the authorization request's
    /// URL changed by `rewrite` on its way to the provider.
    pub async fn authorize_rewritten(
        &mut self,
        start_path: &str,
        login: &str,
        rewrite: fn(String) -> String,
    ) -> String {
        let start = self.get(start_path).await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
        self.follow_to_callback(rewrite(start.location.unwrap()), login).await
    }

    /// Opens the authorization request `url` at the provider, signs in as `login` where
    /// the provider requests it, and returns the callback URL it redirects to, without opening it.
    pub async fn follow_to_callback(&mut self, url: String, login: &str) -> String {
        let mut url = url;
        for _ in 0..12 {
            if url.starts_with(&self.base) {
                return url;
            }
            let response = self.idp.get(&url).send().await.unwrap();
            let origin = origin_of(&url);
            if let Some(next) = response.headers().get(LOCATION) {
                url = absolute(&origin, next.to_str().unwrap());
                continue;
            }
            let page = response.text().await.unwrap();
            let action = attribute(&page, "action=\"").expect("the provider page has no form");
            let prompt = page
                .split("name=\"prompt\" value=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or("consent")
                .to_owned();
            let fields: Vec<(&str, &str)> = if prompt == "login" {
                vec![("prompt", "login"), ("login", login), ("password", "any")]
            } else {
                vec![("prompt", prompt.as_str())]
            };
            let response =
                self.idp.post(absolute(&origin, &action)).form(&fields).send().await.unwrap();
            let next =
                response.headers().get(LOCATION).expect("the provider form did not redirect");
            url = absolute(&origin, next.to_str().unwrap());
        }
        panic!("the provider never redirected to the callback");
    }
}

fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    format!("{scheme}://{}", rest.split('/').next().unwrap())
}

fn absolute(origin: &str, location: &str) -> String {
    if location.starts_with("http") { location.to_owned() } else { format!("{origin}{location}") }
}

fn attribute(page: &str, prefix: &str) -> Option<String> {
    page.split(prefix)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|value| value.replace("&amp;", "&"))
}

/// A proxy in front of the OpenID provider on a loopback port of its own. It forwards
/// every request with the Host header unchanged, so a provider started with the proxy's
/// address as its issuer ([`Options::idp_issuer`]) names the proxy in its discovery
/// document, and the app reaches the token endpoint through it. [`TokenProxy::swap_next`]
/// replaces the `id_token` of the next successful token response.
pub struct TokenProxy {
    /// The proxy's address, to use as the issuer.
    pub url: String,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

struct ProxyState {
    client: reqwest::Client,
    upstream: std::sync::Mutex<Option<String>>,
    swap: std::sync::Mutex<Option<String>>,
    swapped: std::sync::atomic::AtomicUsize,
}

impl TokenProxy {
    /// Listens on a free loopback port; [`TokenProxy::forward_to`] sets the provider.
    pub async fn start() -> TokenProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let state = Arc::new(ProxyState {
            client,
            upstream: std::sync::Mutex::new(None),
            swap: std::sync::Mutex::new(None),
            swapped: std::sync::atomic::AtomicUsize::new(0),
        });
        let app = axum::Router::new().fallback(proxy_forward).with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TokenProxy { url, state, task }
    }

    /// Forwards to the provider listening at `address`.
    pub fn forward_to(&self, address: &str) {
        *self.state.upstream.lock().unwrap() = Some(address.to_owned());
    }

    /// Puts `id_token` into the next successful token response instead of the provider's.
    pub fn swap_next(&self, id_token: String) {
        *self.state.swap.lock().unwrap() = Some(id_token);
    }

    /// Returns how many token responses had their ID token replaced.
    pub fn swapped(&self) -> usize {
        self.state.swapped.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for TokenProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy_forward(
    axum::extract::State(state): axum::extract::State<Arc<ProxyState>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let upstream = state.upstream.lock().unwrap().clone().expect("the proxy has no upstream");

    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap();
    let mut forwarded = state.client.request(method, format!("{upstream}{path}"));
    // The Host header goes through as it came, so the provider builds its URLs with the
    // proxy's address.
    for (name, value) in &parts.headers {
        forwarded = forwarded.header(name.as_str(), value.as_bytes());
    }

    let response = forwarded.body(body).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let mut bytes = response.bytes().await.unwrap().to_vec();

    let swap = if parts.uri.path() == "/token" && status.is_success() {
        state.swap.lock().unwrap().take()
    } else {
        None
    };
    if let Some(token) = swap {
        let mut json: Value = serde_json::from_slice(&bytes).unwrap();
        json["id_token"] = Value::String(token);
        bytes = serde_json::to_vec(&json).unwrap();
        state.swapped.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    let mut reply = axum::response::Response::builder().status(status.as_u16());
    for (name, value) in &headers {
        if name.as_str() != "content-length" && name.as_str() != "transfer-encoding" {
            reply = reply.header(name.as_str(), value.as_bytes());
        }
    }
    reply.body(axum::body::Body::from(bytes)).unwrap()
}

/// Returns a query parameter of `url`, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Returns `url` with the query parameter `name` set to `value`.
pub fn with_query_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(key, old)| {
            let new = if key == name { value.to_owned() } else { old.into_owned() };
            (key.into_owned(), new)
        })
        .collect();
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{base}?{query}")
}

/// A PKCE verifier of the test's own and its S256 challenge, for authorization requests
/// the test completes itself.
pub fn test_pkce() -> (String, String) {
    let verifier = format!("test-verifier-{}-{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    use base64::Engine as _;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    (verifier, challenge)
}

/// Exchanges `code` at the token endpoint under `base` as `client` and returns the ID
/// token.
pub async fn exchange_for_id_token(
    base: &str,
    client: (&str, &str),
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(client.0, Some(client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    body["id_token"].as_str().unwrap().to_owned()
}

/// Decodes a compact JWT's payload without checking it.
pub fn jwt_payload(jwt: &str) -> Value {
    use base64::Engine as _;
    let encoded = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

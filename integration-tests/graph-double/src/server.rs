//! The HTTP side of the double: the token endpoint and the Graph endpoints a sync reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::faults::{ExpiredDelta, Fault, Faults, ScriptedFault};
use crate::permissions::{
    DEFAULT_GRANTED, DENIED_CODE, DENIED_MESSAGE, Endpoint, SIGN_IN_ACTIVITY, allows,
};
use crate::tenant::{BETA, Change, Tenant, V1, collection, object_id, project_user};

/// Graph's largest page for directory objects.
const MAX_TOP: usize = 999;
/// Graph's largest page of users when `signInActivity` is selected.
const MAX_TOP_SIGN_IN: usize = 500;
/// Graph's page size when the request has no `$top`.
const DEFAULT_TOP: usize = 100;
/// Graph accepts at most 20 requests in one JSON batch.
const MAX_BATCH: usize = 20;

/// Record of one request the double served, for assertions and request counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The tenant the access token belongs to, when it was valid.
    pub tenant: Option<String>,
    /// `GET`, `POST` or `PATCH`.
    pub method: String,
    /// The path after `/v1.0` or `/beta`, or the token endpoint's path.
    pub path: String,
    /// The full query string, undecoded.
    pub query: String,
    /// The status sent (200 for a dropped connection or a truncated page).
    pub status: u16,
}

struct TenantEntry {
    client_id: String,
    secret: String,
    premium: bool,
    /// The application permissions consented in this tenant. A token carries the set
    /// granted when it was issued, as Entra ID puts them in its `roles` claim.
    granted: BTreeSet<String>,
    directory: Tenant,
}

/// An access token the double issued.
struct IssuedToken {
    tenant: String,
    /// Graph requests made with the token.
    uses: u32,
    /// The `roles` claim: the permissions granted when the token was issued.
    roles: BTreeSet<String>,
}

#[derive(Default)]
struct Inner {
    tenants: BTreeMap<String, TenantEntry>,
    tokens: HashMap<String, IssuedToken>,
    issued: u64,
    faults: Faults,
    log: Vec<RequestRecord>,
    /// Requests per endpoint, the requests inside a `$batch` included.
    endpoint_counts: BTreeMap<Endpoint, u64>,
    base_url: String,
}

/// A Microsoft Graph double holding any number of tenants. Clones share one state, so a
/// test keeps a clone to change the directory or inject faults while a sync runs.
#[derive(Clone, Default)]
pub struct GraphDouble {
    inner: Arc<Mutex<Inner>>,
}

impl GraphDouble {
    /// Creates a double with no tenants.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held leaves plain data behind, still usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a tenant with Entra ID P1 (sign-in activity readable) and the permissions of
    /// [`DEFAULT_GRANTED`](crate::DEFAULT_GRANTED). `tenant_id` is the directory id in
    /// token URLs; `client_id` and `secret` are the app's credentials.
    pub fn add_tenant(&self, tenant_id: &str, client_id: &str, secret: &str, directory: Tenant) {
        self.lock().tenants.insert(
            tenant_id.to_owned(),
            TenantEntry {
                client_id: client_id.to_owned(),
                secret: secret.to_owned(),
                premium: true,
                granted: DEFAULT_GRANTED.iter().map(|p| (*p).to_owned()).collect(),
                directory,
            },
        );
    }

    /// Replaces the application permissions consented in a tenant, as an administrator
    /// who grants consent again does. Tokens issued before keep their old `roles`, so
    /// the change applies from the next token. Does nothing for an unknown tenant.
    pub fn grant<'a>(&self, tenant_id: &str, permissions: impl IntoIterator<Item = &'a str>) {
        if let Some(entry) = self.lock().tenants.get_mut(tenant_id) {
            entry.granted = permissions.into_iter().map(str::to_owned).collect();
        }
    }

    /// Returns the permissions consented in a tenant, or `None` for an unknown tenant.
    pub fn granted(&self, tenant_id: &str) -> Option<BTreeSet<String>> {
        self.lock().tenants.get(tenant_id).map(|entry| entry.granted.clone())
    }

    /// Returns the requests served per endpoint since the start or the last
    /// [`clear_requests`](Self::clear_requests). Requests inside a `$batch` count under
    /// their own endpoint as well, and denied requests count too.
    pub fn endpoint_counts(&self) -> BTreeMap<Endpoint, u64> {
        self.lock().endpoint_counts.clone()
    }

    /// Sets whether a tenant has Entra ID P1 or P2. Without it, selecting
    /// `signInActivity` and reading the registration report fail with `403`.
    pub fn set_premium(&self, tenant_id: &str, premium: bool) {
        if let Some(entry) = self.lock().tenants.get_mut(tenant_id) {
            entry.premium = premium;
        }
    }

    /// Runs `change` on a tenant's directory; does nothing for an unknown tenant.
    pub fn with_tenant<R>(
        &self,
        tenant_id: &str,
        change: impl FnOnce(&mut Tenant) -> R,
    ) -> Option<R> {
        self.lock().tenants.get_mut(tenant_id).map(|entry| change(&mut entry.directory))
    }

    /// Queues a one-shot fault for the next request whose path contains `path_contains`.
    pub fn push_fault(&self, path_contains: Option<&str>, fault: Fault) {
        self.lock()
            .faults
            .queue
            .push_back(ScriptedFault { path_contains: path_contains.map(str::to_owned), fault });
    }

    /// Changes the standing faults (expired delta tokens, token lifetime, latency).
    pub fn configure(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.lock().faults);
    }

    /// Returns every request served so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().log.clone()
    }

    /// Forgets the requests served so far, and their counts per endpoint.
    pub fn clear_requests(&self) {
        let mut inner = self.lock();
        inner.log.clear();
        inner.endpoint_counts.clear();
    }

    /// Binds `addr` (use port 0 for any free port) and serves until the task is dropped.
    /// Returns the address and the base URL, `http://<addr>`.
    pub async fn spawn(&self, addr: SocketAddr) -> std::io::Result<(SocketAddr, String)> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base = format!("http://{local}");
        self.lock().base_url = base.clone();
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .fallback(graph)
            .with_state(self.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "graph double stopped");
            }
        });
        Ok((local, base))
    }
}

/// A response before faults and serialisation.
pub(crate) struct Reply {
    status: u16,
    body: Value,
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Self {
        Self { status: 200, body }
    }

    /// `204 No Content`, sent without a body.
    pub(crate) fn no_content() -> Self {
        Self { status: 204, body: Value::Null }
    }

    pub(crate) fn error(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            body: json!({ "error": { "code": code, "message": message,
                "innerError": { "request-id": "00000000-0000-4000-8000-000000000000" } } }),
        }
    }
}

async fn token(
    State(double): State<GraphDouble>,
    Path(tenant_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = double.lock();
    let status;
    let body;
    let expected = inner.tenants.get(&tenant_id).map(|e| (e.client_id.clone(), e.secret.clone()));
    let granted = inner.tenants.get(&tenant_id).map(|e| e.granted.clone()).unwrap_or_default();
    let grant = form.get("grant_type").map(String::as_str);
    let client = form.get("client_id");
    let secret = form.get("client_secret");
    let assertion = form.get("client_assertion");
    match expected {
        None => {
            status = 400;
            body = json!({ "error": "invalid_request", "error_description": format!("AADSTS90002: Tenant '{tenant_id}' not found.") });
        }
        Some(_) if grant != Some("client_credentials") => {
            status = 400;
            body = json!({ "error": "unsupported_grant_type", "error_description": "AADSTS70003: only client_credentials is served" });
        }
        Some((client_id, expected_secret))
            if client == Some(&client_id)
                && (secret == Some(&expected_secret)
                    || assertion.is_some_and(|a| assertion_names_client(&form, a, &client_id))) =>
        {
            inner.issued += 1;
            let access = access_token(&tenant_id, inner.issued, &granted);
            inner.tokens.insert(
                access.clone(),
                IssuedToken { tenant: tenant_id.clone(), uses: 0, roles: granted },
            );
            status = 200;
            body = json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access });
        }
        Some(_) => {
            status = 401;
            body = json!({ "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided." });
        }
    }
    inner.log.push(RequestRecord {
        tenant: Some(tenant_id),
        method: "POST".into(),
        path: "/oauth2/v2.0/token".into(),
        query: String::new(),
        status,
    });
    json_response(status, &body, None)
}

/// Builds an access token shaped like Entra ID's: a JWT whose claims carry the tenant
/// (`tid`) and the granted application permissions (`roles`). It is not signed, and the
/// double looks a presented token up in the tokens it issued instead of decoding it.
fn access_token(tenant_id: &str, serial: u64, roles: &BTreeSet<String>) -> String {
    use base64::Engine as _;
    let encode = |value: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(value).unwrap_or_default())
    };
    let header = json!({ "typ": "JWT", "alg": "none" });
    let claims = json!({
        "aud": "https://graph.microsoft.com",
        "tid": tenant_id,
        "roles": roles,
        "uti": serial.to_string(),
    });
    format!("{}.{}.", encode(&header), encode(&claims))
}

/// Checks a client assertion's type, shape and `iss`/`sub` claims.
/// NOTE: the signature is not verified, so any well-formed assertion for the client passes.
fn assertion_names_client(
    form: &HashMap<String, String>,
    assertion: &str,
    client_id: &str,
) -> bool {
    use base64::Engine as _;
    let bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    if form.get("client_assertion_type").map(String::as_str) != Some(bearer) {
        return false;
    }
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return false;
    };
    let decode = |part: &str| -> Option<Value> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let (Some(header), Some(claims)) = (decode(header), decode(claims)) else {
        return false;
    };
    header.get("x5t#S256").is_some()
        && !signature.is_empty()
        && claims.get("iss").and_then(Value::as_str) == Some(client_id)
        && claims.get("sub").and_then(Value::as_str) == Some(client_id)
}

async fn graph(
    State(double): State<GraphDouble>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let latency = double.lock().faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let raw_query = uri.query().unwrap_or_default().to_owned();
    let full_path = uri.path();
    let (version, path) = if let Some(rest) = full_path.strip_prefix("/v1.0") {
        (V1, rest)
    } else if let Some(rest) = full_path.strip_prefix("/beta") {
        (BETA, rest)
    } else {
        (V1, full_path)
    };
    let path = path.to_owned();

    let mut inner = double.lock();
    let authorized = authorize(&mut inner, &headers);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let endpoint = Endpoint::classify(method.as_str(), &segments);
    if let (Ok(_), Some(endpoint)) = (&authorized, endpoint) {
        *inner.endpoint_counts.entry(endpoint).or_default() += 1;
    }
    let (tenant, roles) = match authorized {
        Ok((tenant, roles)) => (Ok(tenant), roles),
        Err(reply) => (Err(reply), BTreeSet::new()),
    };
    let denied = tenant.is_ok() && endpoint.is_some_and(|endpoint| !permitted(&roles, endpoint));
    let fault = match &tenant {
        Ok(_) if !denied => take_fault(&mut inner.faults, &path),
        _ => None,
    };
    let mut batched = Vec::new();
    let reply = match (&tenant, &fault) {
        (Err(reply), _) => Reply { status: reply.status, body: reply.body.clone() },
        (Ok(_), _) if denied => denied_reply(),
        (Ok(_), Some(Fault::Throttle { status, .. })) => {
            Reply::error(*status, "TooManyRequests", "Too many requests. Retry after the delay.")
        }
        (Ok(_), Some(Fault::ServerError(status))) => {
            Reply::error(*status, "serviceNotAvailable", "The service is temporarily unavailable.")
        }
        (Ok(tenant), _) => {
            let write = inner.tenants.get_mut(tenant).and_then(|entry| {
                crate::writes::route(
                    &mut entry.directory,
                    method.as_str(),
                    &segments,
                    version,
                    &body,
                )
            });
            if let Some(reply) = write {
                reply
            } else {
                let request = Request {
                    version,
                    path: &path,
                    query: &query,
                    raw_query: &raw_query,
                    method: &method,
                    body: &body,
                    roles: &roles,
                };
                route(&inner, tenant, &request, &mut batched)
            }
        }
    };
    for endpoint in batched {
        *inner.endpoint_counts.entry(endpoint).or_default() += 1;
    }
    inner.log.push(RequestRecord {
        tenant: tenant.as_ref().ok().cloned(),
        method: method.to_string(),
        path,
        query: raw_query,
        status: reply.status,
    });
    drop(inner);

    match fault {
        Some(Fault::Throttle { retry_after, .. }) => {
            json_response(reply.status, &reply.body, retry_after.as_deref())
        }
        Some(Fault::DropConnection) => dropped(&reply.body),
        Some(Fault::TruncatePage) => truncated(&reply.body),
        _ if reply.status == 204 => StatusCode::NO_CONTENT.into_response(),
        _ => json_response(reply.status, &reply.body, None),
    }
}

/// Returns whether a token with `roles` meets every requirement of `endpoint`.
fn permitted(roles: &BTreeSet<String>, endpoint: Endpoint) -> bool {
    allows(|permission| roles.contains(permission), endpoint.requirements().iter().copied())
}

/// Builds Graph's `403` response to a token that lacks the permissions of the request.
fn denied_reply() -> Reply {
    Reply::error(403, DENIED_CODE, DENIED_MESSAGE)
}

/// Returns whether the request selects `signInActivity`, which needs its own permission.
fn selects_sign_in(select: &[String]) -> bool {
    select.iter().any(|field| field.eq_ignore_ascii_case("signInActivity"))
}

fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
}

/// Checks the bearer token and returns its tenant and `roles`.
fn authorize(inner: &mut Inner, headers: &HeaderMap) -> Result<(String, BTreeSet<String>), Reply> {
    let lifetime = inner.faults.token_lifetime_requests;
    let token = bearer(headers);
    let Some(issued) = inner.tokens.get_mut(token) else {
        return Err(Reply::error(
            401,
            "InvalidAuthenticationToken",
            "Access token is empty or invalid.",
        ));
    };
    if lifetime.is_some_and(|max| issued.uses >= max) {
        return Err(Reply::error(
            401,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
        ));
    }
    issued.uses += 1;
    Ok((issued.tenant.clone(), issued.roles.clone()))
}

fn take_fault(faults: &mut Faults, path: &str) -> Option<Fault> {
    let position = faults.queue.iter().position(|scripted| {
        scripted.path_contains.as_deref().is_none_or(|part| path.contains(part))
    })?;
    faults.queue.remove(position).map(|scripted| scripted.fault)
}

struct Request<'a> {
    version: &'a str,
    path: &'a str,
    query: &'a HashMap<String, String>,
    raw_query: &'a str,
    method: &'a Method,
    body: &'a [u8],
    /// The `roles` of the request's access token.
    roles: &'a BTreeSet<String>,
}

impl Request<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// Serves a read. `batched` collects the endpoints of the requests inside a `$batch`.
fn route(
    inner: &Inner,
    tenant_id: &str,
    request: &Request<'_>,
    batched: &mut Vec<Endpoint>,
) -> Reply {
    let Some(entry) = inner.tenants.get(tenant_id) else {
        return Reply::error(401, "InvalidAuthenticationToken", "Unknown tenant.");
    };
    let tenant = &entry.directory;
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let list = |context: &str, items: &[Value]| page(inner, request, context, items, None);
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["users"]) => users(inner, entry, request, None),
        ("GET", ["users", "delta"]) => users(inner, entry, request, Some(tenant)),
        ("GET", ["users", id, "authentication", "methods"]) => methods(tenant, id),
        ("GET", ["groups"]) => list("groups", &tenant.groups),
        ("GET", ["groups", "delta"]) => groups_delta(inner, tenant, request),
        ("GET", ["groups", id, "transitiveMembers" | "members"]) => match tenant.members.get(*id) {
            Some(members) => list("directoryObjects", members),
            None => Reply::error(
                404,
                "Request_ResourceNotFound",
                &format!("Resource '{id}' does not exist."),
            ),
        },
        ("GET", ["roleManagement", "directory", "roleAssignments"]) => {
            list("roleManagement/directory/roleAssignments", &tenant.role_assignments)
        }
        ("GET", ["roleManagement", "directory", "roleEligibilitySchedules"]) => {
            list("roleManagement/directory/roleEligibilitySchedules", &tenant.role_eligibility)
        }
        ("GET", ["roleManagement", "directory", "roleDefinitions"]) => {
            list("roleManagement/directory/roleDefinitions", &tenant.role_definitions)
        }
        ("GET", ["reports", "authenticationMethods", "userRegistrationDetails"]) => {
            if !entry.premium {
                return no_premium();
            }
            list("reports/authenticationMethods/userRegistrationDetails", &tenant.registration)
        }
        ("GET", ["policies", "authenticationMethodsPolicy"]) => {
            let mut policy = tenant.methods_policy.clone();
            if let Some(fields) = policy.as_object_mut() {
                fields.insert(
                    "@odata.context".into(),
                    json!(format!("{}/$metadata#authenticationMethodsPolicy", request.version)),
                );
            }
            Reply::ok(policy)
        }
        ("POST", ["$batch"]) => batch(entry, request, batched),
        _ => Reply::error(
            400,
            "BadRequest",
            &format!("Resource not found for the segment '{}'.", request.path),
        ),
    }
}

fn no_premium() -> Reply {
    Reply::error(
        403,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Neither tenant is B2C or tenant doesn't have premium license",
    )
}

fn select_list(request: &Request<'_>) -> Vec<String> {
    request
        .param("$select")
        .map(|s| s.split(',').map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).collect())
        .unwrap_or_default()
}

/// `GET /users` and `GET /users/delta` (when `delta` is the tenant).
fn users(
    inner: &Inner,
    entry: &TenantEntry,
    request: &Request<'_>,
    delta: Option<&Tenant>,
) -> Reply {
    let select = select_list(request);
    if selects_sign_in(&select) && !allows(|p| request.roles.contains(p), [SIGN_IN_ACTIVITY]) {
        return denied_reply();
    }
    if !entry.premium && selects_sign_in(&select) {
        return no_premium();
    }
    let select_refs: Vec<&str> = select.iter().map(String::as_str).collect();
    let expand_manager = request.param("$expand").is_some_and(|e| e.starts_with("manager"));
    let project = |user: &Value| {
        if select_refs.is_empty() {
            user.clone()
        } else {
            project_user(user, &select_refs, expand_manager)
        }
    };
    let mut context =
        if select.is_empty() { "users".to_owned() } else { format!("users({})", select.join(",")) };
    if expand_manager {
        context = context.replace(')', ",manager())");
    }
    let tenant = &entry.directory;
    let Some(delta_tenant) = delta else {
        let items: Vec<Value> = tenant.users.iter().map(project).collect();
        return page(inner, request, &context, &items, None);
    };
    let items: Vec<Value> = match delta_items(inner, delta_tenant, request, true) {
        Ok(Some(changed)) => changed
            .into_iter()
            .map(|item| match item {
                DeltaItem::Present(id) => tenant
                    .users
                    .iter()
                    .find(|u| object_id(u).as_deref() == Some(&id))
                    .map(project)
                    .unwrap_or(json!({ "id": id })),
                DeltaItem::Removed(id, reason) => {
                    json!({ "id": id, "@removed": { "reason": reason } })
                }
            })
            .collect(),
        Ok(None) => tenant.users.iter().map(project).collect(),
        Err(reply) => return reply,
    };
    page(inner, request, &format!("{context}/$delta"), &items, Some(tenant.version()))
}

fn groups_delta(inner: &Inner, tenant: &Tenant, request: &Request<'_>) -> Reply {
    let items: Vec<Value> = match delta_items(inner, tenant, request, false) {
        Ok(Some(changed)) => changed
            .into_iter()
            .map(|item| match item {
                DeltaItem::Present(id) => tenant
                    .groups
                    .iter()
                    .find(|g| object_id(g).as_deref() == Some(&id))
                    .cloned()
                    .unwrap_or(json!({ "id": id })),
                DeltaItem::Removed(id, reason) => {
                    json!({ "id": id, "@removed": { "reason": reason } })
                }
            })
            .collect(),
        Ok(None) => tenant.groups.clone(),
        Err(reply) => return reply,
    };
    page(inner, request, "groups/$delta", &items, Some(tenant.version()))
}

enum DeltaItem {
    Present(String),
    Removed(String, String),
}

/// Returns the objects changed since the request's `$deltatoken`, `None` for a first
/// delta round (no token), or the error for an expired or unknown token.
fn delta_items(
    inner: &Inner,
    tenant: &Tenant,
    request: &Request<'_>,
    users: bool,
) -> Result<Option<Vec<DeltaItem>>, Reply> {
    let Some(token) = request.param("$deltatoken") else {
        return Ok(None);
    };
    if token == "latest" {
        // A round that starts now: no changes, only a delta link for the current version.
        return Ok(Some(Vec::new()));
    }
    match inner.faults.expired_delta {
        Some(ExpiredDelta::BadRequest) => return Err(sync_state_not_found()),
        Some(ExpiredDelta::Gone) => {
            return Err(Reply::error(
                410,
                "resyncRequired",
                "Resync required: the delta token is no longer valid.",
            ));
        }
        None => {}
    }
    let since: usize = match token.parse() {
        Ok(since) if since <= tenant.version() => since,
        _ => return Err(sync_state_not_found()),
    };
    let mut order: Vec<String> = Vec::new();
    let mut latest: HashMap<String, DeltaItem> = HashMap::new();
    for change in tenant.changes.iter().skip(since) {
        let (id, item) = match (change, users) {
            (Change::User(id), true) | (Change::Group(id), false) => {
                (id.clone(), DeltaItem::Present(id.clone()))
            }
            (Change::UserRemoved(r), true) | (Change::GroupRemoved(r), false) => {
                (r.id.clone(), DeltaItem::Removed(r.id.clone(), r.reason.clone()))
            }
            _ => continue,
        };
        order.retain(|seen| seen != &id);
        order.push(id.clone());
        latest.insert(id, item);
    }
    Ok(Some(order.into_iter().filter_map(|id| latest.remove(&id)).collect()))
}

fn sync_state_not_found() -> Reply {
    Reply::error(
        400,
        "syncStateNotFound",
        "The delta token is expired or unknown. Start a new delta round without a token.",
    )
}

fn methods(tenant: &Tenant, id: &str) -> Reply {
    if !tenant.users.iter().any(|u| object_id(u).as_deref() == Some(id)) {
        return Reply::error(
            404,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist."),
        );
    }
    let items = tenant.methods.get(id).cloned().unwrap_or_default();
    Reply::ok(collection(V1, &format!("users('{id}')/authentication/methods"), items))
}

/// `GET /users/{id}` inside a batch, with `$select` and `$expand=manager`.
fn one_user(entry: &TenantEntry, id: &str, query: &str, roles: &BTreeSet<String>) -> Reply {
    let mut select: Vec<String> = Vec::new();
    let mut expand_manager = false;
    for pair in query.split('&') {
        if let Some(list) = pair.strip_prefix("$select=") {
            select = list.split(',').map(str::to_owned).collect();
        } else if pair.starts_with("$expand=manager") {
            expand_manager = true;
        }
    }
    if selects_sign_in(&select) && !allows(|p| roles.contains(p), [SIGN_IN_ACTIVITY]) {
        return denied_reply();
    }
    if !entry.premium && selects_sign_in(&select) {
        return no_premium();
    }
    let refs: Vec<&str> = select.iter().map(String::as_str).collect();
    match entry.directory.users.iter().find(|u| object_id(u).as_deref() == Some(id)) {
        Some(user) => Reply::ok(project_user(user, &refs, expand_manager)),
        None => Reply::error(
            404,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist."),
        ),
    }
}

/// `POST /$batch`: serves each inner `GET` of a user or a user's methods, checking each
/// against the token's `roles` as Graph does. Adds each inner request's endpoint to
/// `batched`.
fn batch(entry: &TenantEntry, request: &Request<'_>, batched: &mut Vec<Endpoint>) -> Reply {
    let tenant = &entry.directory;
    let Ok(parsed) = serde_json::from_slice::<Value>(request.body) else {
        return Reply::error(400, "BadRequest", "Invalid batch payload: the body is not JSON.");
    };
    let Some(requests) = parsed.get("requests").and_then(Value::as_array) else {
        return Reply::error(400, "BadRequest", "Invalid batch payload: `requests` is missing.");
    };
    if requests.len() > MAX_BATCH {
        return Reply::error(
            400,
            "BadRequest",
            "Number of batch request steps exceeds the maximum of 20.",
        );
    }
    let mut responses = Vec::new();
    for inner_request in requests {
        let id = inner_request.get("id").cloned().unwrap_or(Value::Null);
        let url = inner_request.get("url").and_then(Value::as_str).unwrap_or_default();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let method = inner_request.get("method").and_then(Value::as_str).unwrap_or("GET");
        let endpoint = Endpoint::classify(method, &segments);
        if let Some(endpoint) = endpoint {
            batched.push(endpoint);
        }
        let reply = match (endpoint, segments.as_slice()) {
            (Some(endpoint), _) if !permitted(request.roles, endpoint) => denied_reply(),
            (_, ["users", user, "authentication", "methods"]) if method == "GET" => {
                methods(tenant, user)
            }
            (_, ["users", user]) if method == "GET" => one_user(entry, user, query, request.roles),
            _ => Reply::error(400, "BadRequest", &format!("The double does not batch '{url}'.")),
        };
        responses.push(json!({
            "id": id,
            "status": reply.status,
            "headers": { "Content-Type": "application/json" },
            "body": reply.body,
        }));
    }
    Reply::ok(json!({ "responses": responses }))
}

/// Cuts `items` into the page the request's `$skiptoken` names. The last page of a delta
/// round carries `@odata.deltaLink` with `version` as the token.
fn page(
    inner: &Inner,
    request: &Request<'_>,
    context: &str,
    items: &[Value],
    version: Option<usize>,
) -> Reply {
    let max = if context.contains("signInActivity") { MAX_TOP_SIGN_IN } else { MAX_TOP };
    let top = request
        .param("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(DEFAULT_TOP)
        .clamp(1, max);
    let skip = request.param("$skiptoken").and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
    let slice: Vec<Value> = items.iter().skip(skip).take(top).cloned().collect();
    let mut body = collection(request.version, context, slice);
    let base = format!("{}{}{}", inner.base_url, version_prefix(request.version), request.path);
    let kept: Vec<&str> = request
        .raw_query
        .split('&')
        .filter(|p| {
            !p.is_empty() && !p.starts_with("$skiptoken=") && !p.starts_with("%24skiptoken=")
        })
        .collect();
    if let Some(fields) = body.as_object_mut() {
        if skip + top < items.len() {
            let mut query = kept.clone();
            let next = format!("$skiptoken={}", skip + top);
            query.push(&next);
            fields.insert("@odata.nextLink".into(), json!(format!("{base}?{}", query.join("&"))));
        } else if let Some(version) = version {
            fields
                .insert("@odata.deltaLink".into(), json!(format!("{base}?$deltatoken={version}")));
        }
    }
    Reply::ok(body)
}

fn version_prefix(version: &str) -> &'static str {
    if version == BETA { "/beta" } else { "/v1.0" }
}

fn json_response(status: u16, body: &Value, retry_after: Option<&str>) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        bytes,
    )
        .into_response();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Builds a `200` whose body stream fails halfway, so the server closes the connection.
fn dropped(body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let half = Bytes::from(bytes.get(..bytes.len() / 2).unwrap_or_default().to_vec());
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "double dropped the connection",
        )),
    ];
    let mut response = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Builds a complete `200` response whose JSON body stops halfway.
fn truncated(body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let half = bytes.get(..bytes.len() / 2).unwrap_or_default().to_vec();
    ([(header::CONTENT_TYPE, "application/json")], half).into_response()
}

//! SCIM 2.0 Users (RFC 7643, RFC 7644) under `/scim/v2/{tenant}/Users`.
//!
//! Creating an active user emits a hire. Changing `active` from true to false, or
//! deleting an active user, emits a termination, and changing it from false to true emits
//! a rehire. The user and its event are committed in one transaction, then the event is
//! published. A change that leaves `active` as it was emits nothing, so a second
//! deactivation of an inactive user is silent.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use rollcall_core::model::{Worker, WorkerStatus};
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use rollcall_store::{ScimFilter, ScimUser, ScimWrite, StoreError};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::app::{AppState, ReadFailure, StoreFailure, TenantAuth, classify, json_response};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension (RFC 7643 section 4.3).
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCIM_JSON: &str = "application/scim+json";

/// The UUID v5 namespace of SCIM event ids: `UUIDv5(SCIM_EVENT_NAMESPACE,
/// "<tenant>/<user id>/<version>")`, where the version is the user's version after the
/// change. Each change of a user has its own version, so its own event id.
pub const SCIM_EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x2f4c_9e61_07d3_4b8a_b5e2_c81a_6d90_3f47);

/// Largest page of a list, and the page size when `count` is absent.
const MAX_PAGE: i64 = 200;

/// Writes attempted when another writer changes the same user in between.
const WRITE_ATTEMPTS: usize = 3;

/// Top-level attributes whose spelling is made canonical, because SCIM attribute names
/// are not case sensitive (RFC 7643 section 2.1) and senders differ.
const CANONICAL: [&str; 12] = [
    "schemas",
    "userName",
    "externalId",
    "active",
    "name",
    "displayName",
    "title",
    "emails",
    "phoneNumbers",
    "addresses",
    "userType",
    ENTERPRISE_SCHEMA,
];

/// A SCIM error response (RFC 7644 section 3.12).
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    retry_after: Option<u64>,
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into(), retry_after: None }
    }

    fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, None, "no user with that id")
    }

    fn store(error: &StoreError) -> Self {
        match classify(error) {
            StoreFailure::UnknownTenant => {
                Self::new(StatusCode::NOT_FOUND, None, "the tenant is not in the store")
            }
            StoreFailure::Unavailable => {
                tracing::warn!(error = %error, "the store is unavailable");
                Self {
                    retry_after: Some(30),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        None,
                        "the store is unavailable; nothing was changed, send the request again later",
                    )
                }
            }
            StoreFailure::Internal => {
                tracing::error!(error = %error, "a SCIM store operation failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "the request failed; nothing was changed",
                )
            }
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let (Some(scim_type), Value::Object(map)) = (self.scim_type, &mut body) {
            map.insert("scimType".to_owned(), json!(scim_type));
        }
        let mut response = json_response(self.status, SCIM_JSON, &body);
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

type ScimResult = Result<Response, ScimError>;

async fn finish(
    state: &AppState,
    tenant: &str,
    work: impl Future<Output = ScimResult>,
) -> Response {
    let span = rollcall_runtime::work_span("scim", Some(tenant), Some("scim"));
    let response = work.instrument(span.clone()).await.unwrap_or_else(IntoResponse::into_response);
    let status = response.status().as_u16();
    if status >= 400 {
        // The status only: the error detail may quote the sender's values.
        span.in_scope(|| tracing::info!(status, "SCIM request rejected"));
    }
    state.metrics.request("scim", status);
    response
}

/// `GET /scim/v2/{tenant}/ServiceProviderConfig` (RFC 7643 section 5): what this service
/// supports, for clients that check before provisioning. It needs no token, as RFC 7644
/// section 4 allows for discovery, but the tenant must be configured.
pub async fn service_provider_config(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
) -> Response {
    let response = if state.tenants.contains_key(&tenant) {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_PAGE},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": false},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "The tenant's SCIM token as `Authorization: Bearer <token>`",
                "primary": true,
            }],
        });
        json_response(StatusCode::OK, SCIM_JSON, &body)
    } else {
        ScimError::new(StatusCode::NOT_FOUND, None, "this service has no tenant with that id")
            .into_response()
    };
    state.metrics.request("scim", response.status().as_u16());
    response
}

/// `POST /scim/v2/{tenant}/Users`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    finish(&state, &tenant, create_user(&state, &tenant, &headers, body)).await
}

/// `GET /scim/v2/{tenant}/Users`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    finish(&state, &tenant, list_users(&state, &tenant, &headers, query.as_deref())).await
}

/// `GET /scim/v2/{tenant}/Users/{id}`.
pub async fn read(
    State(state): State<Arc<AppState>>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    finish(&state, &tenant, read_user(&state, &tenant, &headers, &id)).await
}

/// `PUT /scim/v2/{tenant}/Users/{id}`.
pub async fn replace(
    State(state): State<Arc<AppState>>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    finish(&state, &tenant, change_user(&state, &tenant, &headers, &id, body, Change::Replace))
        .await
}

/// `PATCH /scim/v2/{tenant}/Users/{id}`.
pub async fn patch(
    State(state): State<Arc<AppState>>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    finish(&state, &tenant, change_user(&state, &tenant, &headers, &id, body, Change::Patch)).await
}

/// `DELETE /scim/v2/{tenant}/Users/{id}`.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    finish(&state, &tenant, delete_user(&state, &tenant, &headers, &id)).await
}

/// Checks the tenant, its bearer token and its rate limit.
fn authorize<'a>(
    state: &'a AppState,
    tenant: &str,
    headers: &HeaderMap,
) -> Result<&'a TenantAuth, ScimError> {
    let auth = state.tenants.get(tenant).ok_or_else(|| {
        ScimError::new(StatusCode::NOT_FOUND, None, "this service has no tenant with that id")
    })?;
    let unauthorized = || {
        ScimError::new(
            StatusCode::UNAUTHORIZED,
            None,
            "send the tenant's SCIM token as `Authorization: Bearer <token>`",
        )
    };
    let expected = auth.scim_token_digest.ok_or_else(unauthorized)?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(unauthorized)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, given.as_bytes());
    if !bool::from(digest.as_ref().ct_eq(&expected)) {
        tracing::info!("SCIM bearer token rejected");
        return Err(unauthorized());
    }
    if let Err(seconds) = state.rate_limit(tenant) {
        return Err(ScimError {
            retry_after: Some(seconds),
            ..ScimError::new(
                StatusCode::TOO_MANY_REQUESTS,
                None,
                "the tenant's request rate is over its limit",
            )
        });
    }
    Ok(auth)
}

async fn read_json(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Value, ScimError> {
    let bytes = match state.read_body(headers, body).await {
        Ok(bytes) => bytes,
        Err(ReadFailure::TooLarge) => {
            return Err(ScimError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("the body is larger than {} bytes", state.max_body_bytes),
            ));
        }
        Err(ReadFailure::Broken) => {
            return Err(ScimError::invalid_value("the body could not be read"));
        }
    };
    serde_json::from_slice(&bytes).map_err(|error| {
        ScimError::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), error.to_string())
    })
}

fn parse_id(id: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(id).map_err(|_| ScimError::not_found())
}

async fn create_user(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: Body,
) -> ScimResult {
    let auth = authorize(state, tenant, headers)?;
    let value = read_json(state, headers, body).await?;
    let (resource, attributes) = prepare(value)?;
    let now = now();
    let user = attributes.into_user(Uuid::new_v4(), 1, resource, now, now);
    let event = user.active.then(|| scim_event(auth, &user, HrEventType::Hire, now));
    let scope = state.store.tenant(&auth.id);
    match scope.insert_scim_user(&user, event.as_ref()).await.map_err(|e| ScimError::store(&e))? {
        ScimWrite::Saved { event_new } => {
            after_commit(state, event.as_ref(), event_new).await;
            tracing::info!(user_id = %user.id, event = event_name(event.as_ref()), "SCIM user created");
            let mut response =
                json_response(StatusCode::CREATED, SCIM_JSON, &render(tenant, &user));
            if let Ok(location) = HeaderValue::from_str(&location(tenant, user.id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        ScimWrite::UserNameTaken => Err(user_name_taken()),
        ScimWrite::Changed => {
            Err(ScimError::new(StatusCode::CONFLICT, None, "the user was created concurrently"))
        }
    }
}

async fn read_user(state: &AppState, tenant: &str, headers: &HeaderMap, id: &str) -> ScimResult {
    let auth = authorize(state, tenant, headers)?;
    let id = parse_id(id)?;
    let user =
        state.store.tenant(&auth.id).scim_user(id).await.map_err(|e| ScimError::store(&e))?;
    let user = user.ok_or_else(ScimError::not_found)?;
    Ok(json_response(StatusCode::OK, SCIM_JSON, &render(tenant, &user)))
}

async fn list_users(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    query: Option<&str>,
) -> ScimResult {
    let auth = authorize(state, tenant, headers)?;
    let mut filter = None;
    let mut start_index: i64 = 1;
    let mut count: i64 = MAX_PAGE;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "filter" => filter = Some(parse_filter(&value)?),
            "startIndex" => {
                start_index = value
                    .parse()
                    .map_err(|_| ScimError::invalid_value("`startIndex` must be an integer"))?
            }
            "count" => {
                count = value
                    .parse()
                    .map_err(|_| ScimError::invalid_value("`count` must be an integer"))?
            }
            // Sorting and attribute selection are optional (RFC 7644 sections 3.4.2.3
            // and 3.9); whole resources in creation order are returned.
            _ => {}
        }
    }
    // RFC 7644 section 3.4.2.4: a startIndex below 1 is read as 1, a negative count as 0.
    let start_index = start_index.max(1);
    let count = count.clamp(0, MAX_PAGE);
    let scope = state.store.tenant(&auth.id);
    // NOTE: a tenant that is configured but not in the store gets an empty list here,
    // because reads do not check the tenants table. Its writes get 404.
    let (total, users) = scope
        .scim_users(filter.as_ref(), start_index - 1, count)
        .await
        .map_err(|e| ScimError::store(&e))?;
    let resources: Vec<Value> = users.iter().map(|user| render(tenant, user)).collect();
    let body = json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    Ok(json_response(StatusCode::OK, SCIM_JSON, &body))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Replace,
    Patch,
}

async fn change_user(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    id: &str,
    body: Body,
    change: Change,
) -> ScimResult {
    let auth = authorize(state, tenant, headers)?;
    let id = parse_id(id)?;
    let request = read_json(state, headers, body).await?;
    let scope = state.store.tenant(&auth.id);
    for _ in 0..WRITE_ATTEMPTS {
        let current = scope.scim_user(id).await.map_err(|e| ScimError::store(&e))?;
        let current = current.ok_or_else(ScimError::not_found)?;
        let next = match change {
            Change::Replace => request.clone(),
            Change::Patch => {
                let mut resource = match &current.resource {
                    Value::Object(map) => map.clone(),
                    _ => Map::new(),
                };
                apply_patch(&mut resource, &request)?;
                Value::Object(resource)
            }
        };
        let (resource, attributes) = prepare(next)?;
        if Value::Object(resource.clone()) == current.resource {
            // Nothing changes, such as a repeated deactivation: no write, no new version
            // and no event, so concurrent repeats do not conflict with each other.
            return Ok(json_response(StatusCode::OK, SCIM_JSON, &render(tenant, &current)));
        }
        let now = now();
        let user = attributes.into_user(id, current.version + 1, resource, current.created_at, now);
        let event = match (current.active, user.active) {
            (true, false) => Some(scim_event(auth, &user, HrEventType::Termination, now)),
            (false, true) => Some(scim_event(auth, &user, HrEventType::Rehire, now)),
            (true, true) if position(&current.resource) != position(&user.resource) => {
                Some(scim_event(auth, &user, HrEventType::Change, now))
            }
            _ => None,
        };
        match scope
            .update_scim_user(&user, current.version, event.as_ref())
            .await
            .map_err(|e| ScimError::store(&e))?
        {
            ScimWrite::Saved { event_new } => {
                after_commit(state, event.as_ref(), event_new).await;
                tracing::info!(user_id = %id, event = event_name(event.as_ref()), "SCIM user changed");
                return Ok(json_response(StatusCode::OK, SCIM_JSON, &render(tenant, &user)));
            }
            ScimWrite::UserNameTaken => return Err(user_name_taken()),
            // Another request changed the user in between; compute the change again on
            // top of it.
            ScimWrite::Changed => continue,
        }
    }
    Err(busy())
}

async fn delete_user(state: &AppState, tenant: &str, headers: &HeaderMap, id: &str) -> ScimResult {
    let auth = authorize(state, tenant, headers)?;
    let id = parse_id(id)?;
    let scope = state.store.tenant(&auth.id);
    for _ in 0..WRITE_ATTEMPTS {
        let current = scope.scim_user(id).await.map_err(|e| ScimError::store(&e))?;
        let mut user = current.ok_or_else(ScimError::not_found)?;
        let expected = user.version;
        let now = now();
        // The event describes the user as deleted: inactive, at the next version.
        user.version += 1;
        let event = if user.active {
            user.active = false;
            Some(scim_event(auth, &user, HrEventType::Termination, now))
        } else {
            None
        };
        match scope
            .delete_scim_user(id, expected, event.as_ref())
            .await
            .map_err(|e| ScimError::store(&e))?
        {
            ScimWrite::Saved { event_new } => {
                after_commit(state, event.as_ref(), event_new).await;
                tracing::info!(user_id = %id, event = event_name(event.as_ref()), "SCIM user deleted");
                return Ok(StatusCode::NO_CONTENT.into_response());
            }
            ScimWrite::UserNameTaken | ScimWrite::Changed => continue,
        }
    }
    Err(busy())
}

async fn after_commit(state: &AppState, event: Option<&HrEvent>, event_new: bool) {
    if let Some(event) = event
        && event_new
    {
        state.committed(event);
        state.publish(event).await;
    }
}

fn event_name(event: Option<&HrEvent>) -> &'static str {
    match event.map(|event| event.event_type) {
        None => "none",
        Some(HrEventType::Hire) => "hire",
        Some(HrEventType::Termination) => "termination",
        Some(HrEventType::Rehire) => "rehire",
        Some(HrEventType::Change) => "change",
        Some(HrEventType::Correction) => "correction",
    }
}

fn user_name_taken() -> ScimError {
    ScimError::new(
        StatusCode::CONFLICT,
        Some("uniqueness"),
        "another user of the tenant has this userName",
    )
}

fn busy() -> ScimError {
    ScimError::new(
        StatusCode::CONFLICT,
        None,
        "the user kept changing during the request; send it again",
    )
}

/// Now, to the microsecond the store keeps, so the response shows what a later read
/// returns.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

fn location(tenant: &str, id: Uuid) -> String {
    format!("/scim/v2/{tenant}/Users/{id}")
}

fn rfc3339(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Builds the User as returned: the stored resource with `id` and `meta`.
fn render(tenant: &str, user: &ScimUser) -> Value {
    let mut map = match &user.resource {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let mut schemas = vec![json!(USER_SCHEMA)];
    if map.contains_key(ENTERPRISE_SCHEMA) {
        schemas.push(json!(ENTERPRISE_SCHEMA));
    }
    map.insert("schemas".to_owned(), Value::Array(schemas));
    map.insert("id".to_owned(), json!(user.id.to_string()));
    map.insert(
        "meta".to_owned(),
        json!({
            "resourceType": "User",
            "created": rfc3339(user.created_at),
            "lastModified": rfc3339(user.updated_at),
            "location": location(tenant, user.id),
            "version": format!("W/\"{}\"", user.version),
        }),
    );
    Value::Object(map)
}

/// The attributes of a User that the service reads.
#[derive(Debug, Clone)]
struct Attributes {
    user_name: String,
    external_id: Option<String>,
    employee_number: Option<String>,
    work_email: Option<String>,
    employee_id: String,
    active: bool,
}

impl Attributes {
    fn into_user(
        self,
        id: Uuid,
        version: i64,
        resource: Map<String, Value>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> ScimUser {
        ScimUser {
            id,
            user_name: self.user_name,
            external_id: self.external_id,
            employee_number: self.employee_number,
            work_email: self.work_email,
            employee_id: self.employee_id,
            active: self.active,
            resource: Value::Object(resource),
            version,
            created_at,
            updated_at,
        }
    }
}

/// Checks a User from a request, makes its attribute names canonical and `active` a
/// boolean, and reads the attributes the service needs.
fn prepare(value: Value) -> Result<(Map<String, Value>, Attributes), ScimError> {
    let Value::Object(input) = value else {
        return Err(ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "the body must be a JSON object",
        ));
    };
    let mut resource = Map::new();
    for (key, value) in input {
        if key.eq_ignore_ascii_case("id") || key.eq_ignore_ascii_case("meta") {
            // Assigned by the service provider (RFC 7643 section 3.1).
            continue;
        }
        if key.len() > ENTERPRISE_SCHEMA.len()
            && key
                .get(..ENTERPRISE_SCHEMA.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(ENTERPRISE_SCHEMA))
            && key.as_bytes().get(ENTERPRISE_SCHEMA.len()) == Some(&b':')
        {
            // A URN-qualified extension attribute at the top level.
            let name = key.get(ENTERPRISE_SCHEMA.len() + 1..).unwrap_or_default().to_owned();
            let extension = object_at(&mut resource, ENTERPRISE_SCHEMA)?;
            extension.insert(name, value);
            continue;
        }
        let name = CANONICAL
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&key))
            .map_or(key, |c| (*c).to_owned());
        if name == ENTERPRISE_SCHEMA
            && let (Some(Value::Object(existing)), Value::Object(added)) =
                (resource.get_mut(&name), &value)
        {
            existing.extend(added.clone());
            continue;
        }
        resource.insert(name, value);
    }

    let active = match resource.get("active") {
        None | Some(Value::Null) => true,
        Some(value) => parse_active(value)?,
    };
    resource.insert("active".to_owned(), json!(active));

    let user_name = text(&resource, "userName")?.ok_or_else(|| {
        ScimError::invalid_value("`userName` is required (RFC 7643 section 4.1.1)")
    })?;
    let external_id = text(&resource, "externalId")?;
    let employee_number = match resource.get(ENTERPRISE_SCHEMA) {
        None | Some(Value::Null) => None,
        Some(Value::Object(extension)) => {
            let key = extension.keys().find(|k| k.eq_ignore_ascii_case("employeeNumber")).cloned();
            match key.and_then(|key| extension.get(&key)) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                Some(_) => {
                    return Err(ScimError::invalid_value(
                        "`employeeNumber` must be a non-empty string",
                    ));
                }
            }
        }
        Some(_) => {
            return Err(ScimError::invalid_value("the enterprise extension must be an object"));
        }
    };
    let work_email = work_email(&resource);
    let employee_id = employee_number.clone().or_else(|| external_id.clone()).ok_or_else(|| {
        ScimError::invalid_value(
            "the user needs an enterprise `employeeNumber` or an `externalId`: it is the HR employee id",
        )
    })?;
    Ok((
        resource,
        Attributes { user_name, external_id, employee_number, work_email, employee_id, active },
    ))
}

/// Reads `active` as a boolean or the strings `true` and `false` in any case, which some
/// senders send (`"False"`).
fn parse_active(value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(active) => Ok(*active),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value("`active` must be true or false")),
    }
}

fn text(resource: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match resource.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.contains('\0') => {
            Err(ScimError::invalid_value(format!("`{name}` contains a NUL character")))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ScimError::invalid_value(format!("`{name}` must be a string"))),
    }
}

/// Returns the `value` of the `emails` entry of type `work`, lowercased.
fn work_email(resource: &Map<String, Value>) -> Option<String> {
    let Some(Value::Array(emails)) = resource.get("emails") else { return None };
    emails.iter().find_map(|email| {
        let email = email.as_object()?;
        let kind = lookup(email, "type")?.as_str()?;
        if !kind.eq_ignore_ascii_case("work") {
            return None;
        }
        Some(lookup(email, "value")?.as_str()?.to_lowercase())
    })
}

/// Looks a member up regardless of case.
fn lookup<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

/// Returns the parts of a SCIM user that describe the position, whose change is an HR
/// `change` event: `title`, and the enterprise extension's `department` and
/// `manager.value`.
fn position(resource: &Value) -> [Option<&Value>; 3] {
    let map = resource.as_object();
    let get = |name: &str| map.and_then(|map| lookup(map, name));
    let extension = get(ENTERPRISE_SCHEMA).and_then(Value::as_object);
    let in_extension = |name: &str| extension.and_then(|map| lookup(map, name));
    let manager = in_extension("manager").and_then(Value::as_object);
    [get("title"), in_extension("department"), manager.and_then(|map| lookup(map, "value"))]
}

/// Returns the existing spelling of `name` in `map`, or `name`.
fn key_in(map: &Map<String, Value>, name: &str) -> String {
    map.keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

/// Returns the object at `name`, created (or replacing a non-object) when needed.
fn object_at<'a>(
    map: &'a mut Map<String, Value>,
    name: &str,
) -> Result<&'a mut Map<String, Value>, ScimError> {
    let key = key_in(map, name);
    let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().ok_or_else(|| ScimError::invalid_path(format!("`{name}` is not complex")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies a PatchOp request (RFC 7644 section 3.5.2) to a stored resource.
fn apply_patch(resource: &mut Map<String, Value>, request: &Value) -> Result<(), ScimError> {
    let Some(request) = request.as_object() else {
        return Err(ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "the body must be a PatchOp object",
        ));
    };
    let Some(Value::Array(operations)) = lookup(request, "Operations") else {
        return Err(ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "`Operations` must be an array",
        ));
    };
    for operation in operations {
        let Some(operation) = operation.as_object() else {
            return Err(ScimError::new(
                StatusCode::BAD_REQUEST,
                Some("invalidSyntax"),
                "each operation must be an object",
            ));
        };
        let op = match lookup(operation, "op").and_then(Value::as_str) {
            Some(op) if op.eq_ignore_ascii_case("add") => Op::Add,
            Some(op) if op.eq_ignore_ascii_case("replace") => Op::Replace,
            Some(op) if op.eq_ignore_ascii_case("remove") => Op::Remove,
            _ => return Err(ScimError::invalid_value("`op` must be add, replace or remove")),
        };
        let path = match lookup(operation, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) if path.trim().is_empty() => None,
            Some(Value::String(path)) => Some(path.trim()),
            Some(_) => return Err(ScimError::invalid_path("`path` must be a string")),
        };
        let value = lookup(operation, "value").cloned().unwrap_or(Value::Null);
        match (path, op) {
            (None, Op::Remove) => {
                return Err(ScimError::new(
                    StatusCode::BAD_REQUEST,
                    Some("noTarget"),
                    "remove needs a `path`",
                ));
            }
            // Without a path the value is an object of attributes to add or replace,
            // each named as a path would name it.
            (None, _) => {
                let Value::Object(attributes) = value else {
                    return Err(ScimError::invalid_value(
                        "without `path`, `value` must be an object of attributes",
                    ));
                };
                for (name, value) in attributes {
                    apply_path(resource, op, &name, value)?;
                }
            }
            (Some(path), _) => apply_path(resource, op, path, value)?,
        }
    }
    Ok(())
}

/// A parsed PATCH path: `[urn:]attribute[\[subattr eq "value"\]][.subattr]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PatchPath {
    extension: bool,
    attribute: String,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

fn parse_path(path: &str) -> Result<PatchPath, ScimError> {
    let invalid =
        || ScimError::invalid_path(format!("`{path}` is not a path this service understands"));
    let mut extension = false;
    let mut rest = path;
    for (schema, is_extension) in [(ENTERPRISE_SCHEMA, true), (USER_SCHEMA, false)] {
        let Some(prefix) = rest.get(..schema.len()) else { continue };
        if !prefix.eq_ignore_ascii_case(schema) {
            continue;
        }
        let after = rest.get(schema.len()..).unwrap_or_default();
        if after.is_empty() {
            // The whole extension as one complex attribute.
            if !is_extension {
                return Err(invalid());
            }
            return Ok(PatchPath {
                extension: false,
                attribute: ENTERPRISE_SCHEMA.to_owned(),
                filter: None,
                sub: None,
            });
        }
        rest = after.strip_prefix(':').ok_or_else(invalid)?;
        extension = is_extension;
        break;
    }
    let (attribute, filter, sub) = match rest.find('[') {
        Some(open) => {
            let close = rest.rfind(']').filter(|close| *close > open).ok_or_else(invalid)?;
            let attribute = rest.get(..open).ok_or_else(invalid)?;
            let inner = rest.get(open + 1..close).ok_or_else(invalid)?;
            let after = rest.get(close + 1..).unwrap_or_default();
            let sub = match after.strip_prefix('.') {
                Some(sub) if !sub.is_empty() => Some(sub.to_owned()),
                None if after.is_empty() => None,
                _ => return Err(invalid()),
            };
            let (name, value) = parse_eq(inner).ok_or_else(invalid)?;
            (attribute.to_owned(), Some((name, value)), sub)
        }
        None => match rest.split_once('.') {
            Some((attribute, sub)) => (attribute.to_owned(), None, Some(sub.to_owned())),
            None => (rest.to_owned(), None, None),
        },
    };
    if attribute.is_empty() || attribute.contains(char::is_whitespace) {
        return Err(invalid());
    }
    Ok(PatchPath { extension, attribute, filter, sub })
}

/// Parses `name eq "value"`.
fn parse_eq(text: &str) -> Option<(String, String)> {
    let text = text.trim();
    let (name, rest) = text.split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    if !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    let value: String = serde_json::from_str(value.trim()).ok()?;
    Some((name.to_owned(), value))
}

fn apply_path(
    resource: &mut Map<String, Value>,
    op: Op,
    path: &str,
    value: Value,
) -> Result<(), ScimError> {
    let path = parse_path(path)?;
    let target = if path.extension { object_at(resource, ENTERPRISE_SCHEMA)? } else { resource };
    let key = key_in(target, &path.attribute);
    match (path.filter, path.sub) {
        (None, None) => match op {
            Op::Remove => {
                target.remove(&key);
            }
            Op::Add | Op::Replace => {
                let slot = target.entry(key).or_insert(Value::Null);
                match (slot, value) {
                    // Sub-attributes not given are kept (RFC 7644 section 3.5.2.3).
                    (Value::Object(existing), Value::Object(added)) => existing.extend(added),
                    (Value::Array(existing), Value::Array(added)) if op == Op::Add => {
                        existing.extend(added)
                    }
                    (slot, value) => *slot = value,
                }
            }
        },
        (None, Some(sub)) => {
            let object = object_at(target, &key)?;
            let sub_key = key_in(object, &sub);
            match op {
                Op::Remove => {
                    object.remove(&sub_key);
                }
                Op::Add | Op::Replace => {
                    object.insert(sub_key, value);
                }
            }
        }
        (Some((filter_name, filter_value)), sub) => {
            let slot = target.entry(key).or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            let Value::Array(items) = slot else { return Ok(()) };
            let matches = |item: &Value| {
                item.as_object()
                    .and_then(|object| lookup(object, &filter_name))
                    .and_then(Value::as_str)
                    .is_some_and(|found| found.eq_ignore_ascii_case(&filter_value))
            };
            match (op, sub) {
                (Op::Remove, None) => items.retain(|item| !matches(item)),
                (Op::Remove, Some(sub)) => {
                    for item in items.iter_mut().filter(|item| matches(item)) {
                        if let Value::Object(object) = item {
                            let sub_key = key_in(object, &sub);
                            object.remove(&sub_key);
                        }
                    }
                }
                (Op::Add | Op::Replace, sub) => {
                    let mut found = false;
                    for item in items.iter_mut().filter(|item| matches(item)) {
                        found = true;
                        if let Value::Object(object) = item {
                            match (&sub, &value) {
                                (Some(sub), _) => {
                                    let sub_key = key_in(object, sub);
                                    object.insert(sub_key, value.clone());
                                }
                                (None, Value::Object(added)) => object.extend(added.clone()),
                                (None, _) => {
                                    return Err(ScimError::invalid_value(
                                        "a filtered path without a sub-attribute needs an object value",
                                    ));
                                }
                            }
                        }
                    }
                    if !found {
                        let mut item = Map::new();
                        item.insert(filter_name.clone(), json!(filter_value));
                        match (sub, value) {
                            (Some(sub), value) => {
                                item.insert(sub, value);
                            }
                            (None, Value::Object(added)) => item.extend(added),
                            (None, _) => {
                                return Err(ScimError::invalid_value(
                                    "a filtered path without a sub-attribute needs an object value",
                                ));
                            }
                        }
                        items.push(Value::Object(item));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Parses the `filter` of a list request: one `eq` comparison on `userName`,
/// `externalId`, `emails[type eq "work"].value` or the enterprise `employeeNumber`.
fn parse_filter(filter: &str) -> Result<ScimFilter, ScimError> {
    let invalid = || {
        ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidFilter"),
            "supported filters: userName, externalId, emails[type eq \"work\"].value and the enterprise employeeNumber, each with eq and a quoted string",
        )
    };
    let filter = filter.trim();
    // The attribute path ends at the first space outside brackets.
    let mut depth = 0_i32;
    let mut end = filter.len();
    for (index, c) in filter.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            c if c.is_whitespace() && depth == 0 => {
                end = index;
                break;
            }
            _ => {}
        }
    }
    let attribute = filter.get(..end).ok_or_else(invalid)?;
    let rest = filter.get(end..).unwrap_or_default().trim_start();
    let (op, value) = rest.split_once(char::is_whitespace).ok_or_else(invalid)?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(invalid());
    }
    let value: String = serde_json::from_str(value.trim()).map_err(|_| invalid())?;
    let compact: String =
        attribute.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    let user = format!("{}:", USER_SCHEMA.to_ascii_lowercase());
    let compact = compact.strip_prefix(&user).unwrap_or(&compact);
    let enterprise = format!("{}:", ENTERPRISE_SCHEMA.to_ascii_lowercase());
    match compact {
        "username" => Ok(ScimFilter::UserName(value)),
        "externalid" => Ok(ScimFilter::ExternalId(value)),
        "emails[typeeq\"work\"].value" => Ok(ScimFilter::WorkEmail(value)),
        other
            if other.strip_prefix(&enterprise) == Some("employeenumber")
                || other == "employeenumber" =>
        {
            Ok(ScimFilter::EmployeeNumber(value))
        }
        _ => Err(invalid()),
    }
}

/// Builds the HR event of a change of `user`, which is already in its new state.
fn scim_event(
    auth: &TenantAuth,
    user: &ScimUser,
    event_type: HrEventType,
    now: DateTime<Utc>,
) -> HrEvent {
    let name = format!("{}/{}/{}", auth.id, user.id, user.version);
    let resource = user.resource.as_object();
    let get = |name: &str| resource.and_then(|r| lookup(r, name));
    let display_name =
        get("displayName").and_then(Value::as_str).map(str::to_owned).or_else(|| {
            let name = get("name")?.as_object()?;
            if let Some(formatted) = lookup(name, "formatted").and_then(Value::as_str) {
                return Some(formatted.to_owned());
            }
            let parts: Vec<&str> = ["givenName", "familyName"]
                .iter()
                .filter_map(|part| lookup(name, part).and_then(Value::as_str))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
    let department = get(ENTERPRISE_SCHEMA)
        .and_then(Value::as_object)
        .and_then(|extension| lookup(extension, "department"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (status, status_raw) = if user.active {
        (WorkerStatus::Active, "active")
    } else {
        (WorkerStatus::Terminated, "inactive")
    };
    let worker = Worker {
        employee_id: user.employee_id.clone(),
        name: display_name,
        email: user.work_email.clone(),
        status,
        status_raw: status_raw.to_owned(),
        hired_at: None,
        terminated_at: (event_type == HrEventType::Termination).then_some(now),
        manager_employee_id: None,
        job_title: get("title").and_then(Value::as_str).map(str::to_owned),
        department,
        location: None,
    };
    HrEvent {
        event_id: Uuid::new_v5(&SCIM_EVENT_NAMESPACE, name.as_bytes()),
        tenant: auth.id.clone(),
        event_type,
        employee_id: user.employee_id.clone(),
        // SCIM carries no effective date: the change takes effect when it is received.
        // TODO: read a termination date when a sender puts one in a SCIM extension.
        effective_at: now,
        // The instant is not a local date of the HR system, so it is given in UTC.
        time_zone: chrono_tz::UTC,
        reason: None,
        manager_employee_id: None,
        received_at: now,
        sender: HrEventSender::Scim,
        worker: Some(worker),
        corrected_event_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Map<String, Value> {
        let value = json!({"userName": "ana@example.test", "externalId": "E1", "active": true});
        prepare(value).unwrap().0
    }

    fn active_after(patch: Value) -> bool {
        let mut resource = user();
        apply_patch(&mut resource, &patch).unwrap();
        prepare(Value::Object(resource)).unwrap().1.active
    }

    #[test]
    fn patch_deactivates_in_every_shape() {
        for (op, path, value) in [
            ("replace", Some("active"), json!(false)),
            ("Replace", Some("active"), json!("False")),
            ("replace", Some("active"), json!("false")),
            ("Replace", None, json!({"active": false})),
            ("replace", None, json!({"active": "False"})),
            ("add", Some("active"), json!(false)),
        ] {
            let mut operation = json!({"op": op, "value": value});
            if let Some(path) = path {
                operation["path"] = json!(path);
            }
            let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]});
            assert!(!active_after(patch.clone()), "{patch}");
        }
    }

    #[test]
    fn patch_paths_reach_nested_values() {
        let mut resource = user();
        let patch = json!({"Operations": [
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "Ana@Example.test"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "E100"},
            {"op": "replace", "path": "name.givenName", "value": "Ana"},
        ]});
        apply_patch(&mut resource, &patch).unwrap();
        let (_, attributes) = prepare(Value::Object(resource)).unwrap();
        assert_eq!(attributes.work_email.as_deref(), Some("ana@example.test"));
        assert_eq!(attributes.employee_id, "E100");
    }

    #[test]
    fn parse_filter_supported_forms() {
        assert_eq!(
            parse_filter("userName eq \"a@b\"").unwrap(),
            ScimFilter::UserName("a@b".into())
        );
        assert_eq!(
            parse_filter("emails[type eq \"work\"].value eq \"a@b\"").unwrap(),
            ScimFilter::WorkEmail("a@b".into())
        );
        assert_eq!(
            parse_filter(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"7\""
            )
            .unwrap(),
            ScimFilter::EmployeeNumber("7".into())
        );
        assert!(parse_filter("userName sw \"a\"").is_err());
        assert!(parse_filter("title eq \"a\"").is_err());
    }

    #[test]
    fn prepare_checks_employee_id_and_active() {
        assert!(prepare(json!({"userName": "a"})).is_err());
        assert!(prepare(json!({"userName": "a", "externalId": "E1", "active": "no"})).is_err());
        let (_, attributes) =
            prepare(json!({"UserName": "a", "externalId": "E1", "ACTIVE": "False"})).unwrap();
        assert!(!attributes.active);
        assert_eq!(attributes.user_name, "a");
    }
}

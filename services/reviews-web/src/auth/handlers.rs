//! The sign-in routes: start, callback and sign-out.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rollcall_core::TenantId;
use serde::Deserialize;
use serde_json::Value;

use rollcall_runtime::telemetry::work_span;
use tracing::Instrument as _;

use crate::access::viewer_of;
use crate::auth::entra::{Expected, check_tenant};
use crate::auth::identity::find_reviewer;
use crate::auth::issuer;
use crate::auth::oidc::{IdTokenCheck, OidcError, VerifiedClaims};
use crate::cookies;
use crate::csrf;
use crate::forms::FormFields;
use crate::html;
use crate::session::{LoginState, Role, SessionData};
use crate::state::AppState;

/// The query of `GET /auth/login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    /// The tenant id.
    pub tenant: Option<String>,
    /// The local path to open after sign-in.
    pub return_to: Option<String>,
}

/// The query of `GET /auth/callback`.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The outcome of a sign-in callback, carried in the response's extensions to the
/// counter.
#[derive(Debug, Clone)]
struct SignInOutcome(String);

/// Returns the error page of a failed sign-in, with its code, and clears the login cookie.
fn sign_in_failed(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<h1>Sign-in did not complete</h1>\n<p role=\"alert\">{}</p>\n<p>Error code: <code>{}</code></p>\n<p><a href=\"/signin\">Start sign-in again</a></p>\n",
        html::escape(message),
        html::escape(code)
    );
    let mut response = html::page_response(status, "Sign-in failed", None, &body);
    if let Ok(value) = HeaderValue::from_str(&cookies::clear_login()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response.extensions_mut().insert(SignInOutcome(code.to_owned()));
    response
}

/// Returns the error page of a tenant whose issuer cannot be decided. The reason goes to
/// the log, where the administrator who can fix it looks, and the page names whom to ask.
fn issuer_unavailable(tenant: &str, error: &issuer::IssuerError) -> Response {
    tracing::error!(tenant, code = error.code(), error = %error, "sign-in has no issuer");
    sign_in_failed(
        StatusCode::SERVICE_UNAVAILABLE,
        error.code(),
        "Sign-in is not set up correctly for your practice. Ask your IT provider to check the practice's sign-in issuer.",
    )
}

fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Returns `path` when it is a local path, so a crafted link cannot send a signed-in
/// person to another site.
fn local_path(path: Option<&str>) -> String {
    match path {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/campaigns".to_owned(),
    }
}

/// `GET /signin`: the sign-in form.
pub async fn sign_in_page(Query(query): Query<LoginQuery>) -> Response {
    html::page_response(
        StatusCode::OK,
        "Sign in",
        None,
        &html::sign_in_body(query.tenant.as_deref(), query.return_to.as_deref()),
    )
}

/// `GET /auth/login?tenant=`: starts the authorization code flow at the tenant's issuer.
pub async fn login(
    State(state): State<Arc<AppState>>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let Some(name) = query.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return html::page_response(
            StatusCode::BAD_REQUEST,
            "Sign in",
            None,
            &html::sign_in_body(None, None),
        );
    };
    let Some(tenant) = state.tenants.get(name) else {
        return sign_in_failed(
            StatusCode::NOT_FOUND,
            "tenant_unknown",
            &format!(
                "The practice id `{name}` is not set up for sign-in. Check the link in your review mail."
            ),
        );
    };
    let issuer =
        match issuer::resolve(&state.store, &tenant.id, tenant.config.issuer.as_deref()).await {
            Ok(issuer) => issuer,
            Err(error) => return issuer_unavailable(name, &error),
        };
    let start = match state.oidc.start(&issuer).await {
        Ok(start) => start,
        Err(error) => {
            tracing::error!(tenant = name, error = %error, "sign-in could not start");
            return sign_in_failed(
                StatusCode::BAD_GATEWAY,
                "provider_unavailable",
                "Your practice's sign-in service did not respond as expected. Try again in a few minutes.",
            );
        }
    };
    let login = LoginState {
        tenant: name.to_owned(),
        state: start.state,
        nonce: start.nonce,
        pkce_verifier: start.pkce_verifier,
        return_to: local_path(query.return_to.as_deref()),
    };
    let id = match state.sessions.save_login(&login).await {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(tenant = name, error = %error, "sign-in state could not be stored");
            return sign_in_failed(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Sign-in is unavailable; try again in a minute.",
            );
        }
    };
    see_other(&start.url, &[cookies::login(&id)])
}

/// `POST /auth/callback`: a `form_post` response, which this service never requests.
pub async fn callback_post() -> Response {
    sign_in_failed(
        StatusCode::BAD_REQUEST,
        "unsupported_response_mode",
        "The sign-in response arrived as a form post, which this service does not use. Start sign-in again.",
    )
}

/// `GET /auth/callback`: checks the state, exchanges the code, verifies the ID token and
/// the tenant, finds the reviewer and starts a session.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let response =
        check_callback(&state, &headers, &query).instrument(work_span("sign_in", None, None)).await;
    let outcome = response.extensions().get::<SignInOutcome>().map_or("ok", |o| o.0.as_str());
    state.metrics.sign_in(outcome);
    response
}

/// Checks the callback's sign-in state and parameters, then completes the sign-in.
async fn check_callback(state: &AppState, headers: &HeaderMap, query: &CallbackQuery) -> Response {
    // The sign-in state is consumed first, so it completes at most once, whatever follows.
    let login = match cookies::read(headers, cookies::LOGIN) {
        Some(id) => match state.sessions.take_login(&id).await {
            Ok(login) => login,
            Err(error) => {
                tracing::error!(error = %error, "sign-in state could not be read");
                return sign_in_failed(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Sign-in is unavailable; try again in a minute.",
                );
            }
        },
        None => None,
    };
    let Some(login) = login else {
        tracing::warn!("sign-in rejected: no sign-in state for the callback");
        return sign_in_failed(
            StatusCode::BAD_REQUEST,
            "login_state_missing",
            "This sign-in is unknown or took longer than ten minutes.",
        );
    };
    let tenant_name = login.tenant.clone();
    tracing::Span::current().record("tenant", tenant_name.as_str());
    if let Some(error) = &query.error {
        tracing::warn!(tenant = %tenant_name, provider_error = %error, "the identity provider returned an error");
        return sign_in_failed(
            StatusCode::BAD_REQUEST,
            "provider_error",
            "Sign-in was cancelled or failed at your practice's sign-in service.",
        );
    }
    if query.state.as_deref() != Some(login.state.as_str()) {
        tracing::warn!(tenant = %tenant_name, "sign-in rejected: the state does not match");
        return sign_in_failed(
            StatusCode::BAD_REQUEST,
            "state_mismatch",
            "The sign-in response does not belong to this sign-in.",
        );
    }
    let Some(code) = query.code.as_deref() else {
        tracing::warn!(tenant = %tenant_name, "sign-in rejected: the callback has no code");
        return sign_in_failed(
            StatusCode::BAD_REQUEST,
            "code_missing",
            "The sign-in response has no authorization code.",
        );
    };
    complete_sign_in(state, headers, &login, code).await
}

/// Exchanges the code, verifies the ID token and the tenant, and starts a session.
async fn complete_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    login: &LoginState,
    code: &str,
) -> Response {
    let tenant_name = login.tenant.clone();
    let Some(tenant) = state.tenants.get(&tenant_name) else {
        return sign_in_failed(
            StatusCode::NOT_FOUND,
            "tenant_unknown",
            "The practice is no longer set up for sign-in.",
        );
    };
    // Resolved again: a change of the stored issuer between the start and the callback
    // must not let a token of the old issuer in.
    let issuer =
        match issuer::resolve(&state.store, &tenant.id, tenant.config.issuer.as_deref()).await {
            Ok(issuer) => issuer,
            Err(error) => return issuer_unavailable(&tenant_name, &error),
        };
    let verified = match state.oidc.finish(&issuer, code, &login.pkce_verifier, &login.nonce).await
    {
        Ok(verified) => verified,
        Err(error) => {
            tracing::warn!(tenant = %tenant_name, error = %error, "sign-in rejected");
            // The issuer and audience checks get codes of their own: either means the
            // token was made for another provider or another app, which an administrator
            // fixes in the configuration, not by signing in again.
            let (code, message) = match &error {
                OidcError::IdToken { check: IdTokenCheck::Audience, .. } => (
                    IdTokenCheck::Audience.code(),
                    "The sign-in token was issued for another application (its audience is not this app's client id).",
                ),
                OidcError::IdToken { check: IdTokenCheck::Issuer, .. } => (
                    IdTokenCheck::Issuer.code(),
                    "The sign-in token was issued by another identity provider than the practice's (its issuer differs).",
                ),
                _ => ("token_rejected", "The sign-in could not be verified."),
            };
            return sign_in_failed(StatusCode::FORBIDDEN, code, message);
        }
    };
    let claims = &verified.claims;
    let tid = claims.get("tid").and_then(Value::as_str);
    let oid = claims.get("oid").and_then(Value::as_str);
    if let Some(directory) = tenant.directory {
        let expected = Expected { issuer: &issuer, directory, onboarded: &state.directories };
        if let Err(rejection) = check_tenant(tid, &verified.issuer, &expected) {
            tracing::warn!(tenant = %tenant_name, tid = ?tid, oid = ?oid, reason = rejection.code(), "sign-in rejected by the tenant check");
            return sign_in_failed(StatusCode::FORBIDDEN, rejection.code(), &rejection.to_string());
        }
    }
    start_session(state, headers, login, &verified).await
}

/// Finds the person of a verified sign-in and starts their session.
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    login: &LoginState,
    verified: &VerifiedClaims,
) -> Response {
    let tenant_name = login.tenant.clone();
    let Some(tenant) = state.tenants.get(&tenant_name) else {
        return sign_in_failed(
            StatusCode::NOT_FOUND,
            "tenant_unknown",
            "The practice is no longer set up for sign-in.",
        );
    };
    let claims = &verified.claims;
    let tid = claims.get("tid").and_then(Value::as_str);

    let claim = tenant.config.account_claim.as_str();
    let Some(account) = claims.get(claim).and_then(Value::as_str) else {
        tracing::warn!(tenant = %tenant_name, claim, "sign-in rejected: the account claim is missing");
        return sign_in_failed(
            StatusCode::FORBIDDEN,
            "account_claim_missing",
            "The sign-in did not name your account.",
        );
    };
    let Ok(tenant_id) = TenantId::new(&tenant_name) else {
        return sign_in_failed(
            StatusCode::NOT_FOUND,
            "tenant_unknown",
            "The practice is not set up for sign-in.",
        );
    };

    let scope = state.store.tenant(&tenant_id);
    let now = Utc::now();
    let reviewer = match find_reviewer(&scope, &tenant.config.account_source, account, now).await {
        Ok(Some(reviewer)) => reviewer,
        Ok(None) => {
            tracing::warn!(tenant = %tenant_name, account, "sign-in rejected: no person has this account");
            return sign_in_failed(
                StatusCode::FORBIDDEN,
                "person_unknown",
                "Your account is not among your practice's synced accounts. Ask your IT provider to check the directory sync.",
            );
        }
        Err(error) => {
            tracing::error!(tenant = %tenant_name, error = %error, "the reviewer lookup failed");
            return sign_in_failed(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Sign-in is unavailable; try again in a minute.",
            );
        }
    };

    let roles = roles_of(claims, state);
    let csrf_token = match state.sessions.random_token() {
        Ok(token) => token,
        Err(_) => {
            return sign_in_failed(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Sign-in is unavailable; try again in a minute.",
            );
        }
    };
    let session = SessionData {
        tenant: tenant_name.clone(),
        identity: reviewer.identity.clone(),
        name: reviewer.name,
        subject: format!("{}/{account}", tid.unwrap_or(verified.issuer.as_str())),
        roles,
        signed_in_at: now,
        csrf_token,
    };

    // A session id from before sign-in is never reused, so one planted in the browser
    // gains nothing.
    if let Some(old) = cookies::read(headers, cookies::SESSION) {
        let _ = state.sessions.delete(&old).await;
    }
    let id = match state.sessions.create(&session).await {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(tenant = %tenant_name, error = %error, "the session could not be stored");
            return sign_in_failed(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Sign-in is unavailable; try again in a minute.",
            );
        }
    };

    tracing::info!(tenant = %tenant_name, reviewer = %reviewer.identity, "signed in");
    let max_age = state.sessions.config().absolute().as_secs();
    see_other(&login.return_to, &[cookies::session(&id, max_age), cookies::clear_login()])
}

fn roles_of(claims: &Value, state: &AppState) -> Vec<Role> {
    let values: Vec<&str> = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|roles| roles.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut roles = Vec::new();
    if values.contains(&state.roles.security_officer.as_str()) {
        roles.push(Role::SecurityOfficer);
    }
    if values.contains(&state.roles.msp_staff.as_str()) {
        roles.push(Role::MspStaff);
    }
    roles
}

/// `POST /auth/logout`: ends the session. The form's CSRF token is required, so another
/// site cannot sign a reviewer out.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let viewer = viewer_of(&parts, &state).await;
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let form = FormFields::parse(&body);
    if let Ok(viewer) = viewer {
        if !csrf::matches(&viewer.session, form.get(csrf::FIELD)) {
            return crate::error::PageError(crate::error::Failure::Csrf).into_response();
        }
        if let Err(error) = state.sessions.delete(&viewer.session_id).await {
            tracing::error!(error = %error, "the session could not be deleted");
            return crate::error::PageError(crate::error::Failure::Unavailable).into_response();
        }
        tracing::info!(tenant = %viewer.session.tenant, reviewer = %viewer.session.identity, "signed out");
    }
    see_other("/signed-out", &[cookies::clear_session()])
}

/// `GET /signed-out`.
pub async fn signed_out() -> Response {
    html::page_response(
        StatusCode::OK,
        "Signed out",
        None,
        "<h1>You are signed out</h1>\n<p><a href=\"/signin\">Sign in again</a></p>\n",
    )
}

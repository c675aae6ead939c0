//! Sign-in against a real OpenID provider on loopback: the happy path, the login cookie,
//! the callback without state, `form_post`, and every way the flow must fail: state,
//! nonce, PKCE verifier, issuer, and the Entra tenant checks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use redis::AsyncCommands as _;
use reqwest::StatusCode;
use rollcall_reviews_web::metrics::SignInLabels;
use serde_json::Value;
use support::*;

#[tokio::test]
async fn sign_in_opens_campaigns() {
    let app = App::start().await;
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let page = browser.get("/campaigns").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Quarterly access review"), "{}", page.body);
    assert!(page.body.contains("Marguerite Okafor"), "the header names the person");
    let session = browser.get("/api/v1/session").await.json();
    assert_eq!(session["identity"], "hr:E1002");
    assert_eq!(session["tenant"], "harborview");
    assert_eq!(session["roles"], serde_json::json!([]));
    let counted =
        app.state.metrics.sign_ins.get_or_create(&SignInLabels { outcome: "ok".into() }).get();
    assert_eq!(counted, 1);
}

#[tokio::test]
async fn login_start_sets_lax_callback_cookie() {
    let app = App::start().await;
    let mut browser = app.browser();
    let start = browser.get("/auth/login?tenant=harborview").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let location = start.location.unwrap();
    assert!(location.starts_with(&app.idp.issuer), "{location}");
    for parameter in [
        "response_type=code",
        "response_mode=query",
        "code_challenge_method=S256",
        "state=",
        "nonce=",
    ] {
        assert!(location.contains(parameter), "{parameter} missing in {location}");
    }
    let cookie = start.set_cookies.iter().find(|c| c.starts_with("rc_login=")).unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/auth/callback", "Max-Age=600"] {
        assert!(
            cookie.split("; ").any(|part| part == attribute),
            "{attribute} missing in {cookie}"
        );
    }
}

#[tokio::test]
async fn callback_without_state_shows_error_page() {
    let app = App::start().await;
    let mut browser = app.browser();
    let reply = browser.get("/auth/callback?code=abc&state=st-4b91e0c2d7").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.location, None, "no automatic redirect back to the provider");
    assert!(reply.body.contains("login_state_missing"));
    assert!(reply.body.contains("href=\"/signin\""), "a link to start again");
}

#[tokio::test]
async fn form_post_callback_is_rejected() {
    let app = App::start().await;
    let mut browser = app.browser();
    let reply = browser.post_form("/auth/callback", &[("code", "abc"), ("state", "st-1")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("unsupported_response_mode"));
}

#[tokio::test]
async fn wrong_state_is_rejected_once() {
    let app = App::start().await;
    let mut browser = app.browser();
    let callback = browser.authorize("harborview", OFFICE_MANAGER_E1002).await;
    let forged = callback.replace("state=", "state=x");
    let reply = browser.get(&forged).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("state_mismatch"));
    assert!(browser.cookie("rc_session").is_none());
    // The sign-in state was consumed, so the genuine callback cannot complete it either.
    browser.set_cookie("rc_login", "gone");
    let retry = browser.get(&callback).await;
    assert_eq!(retry.status, StatusCode::BAD_REQUEST);
    assert!(retry.body.contains("login_state_missing"));
    assert!(browser.cookie("rc_session").is_none());
}

/// Replaces `field` of the stored sign-in state, as a tampered or mixed-up sign-in
/// would carry it.
async fn tamper_login(app: &App, browser: &Browser, field: &str, value: &str) {
    let key = app.state.sessions.login_key(browser.cookie("rc_login").unwrap());
    let mut redis = app.redis.clone();
    let text: String = redis.get(&key).await.unwrap();
    let mut login: Value = serde_json::from_str(&text).unwrap();
    login[field] = Value::String(value.to_owned());
    let _: () = redis.set_ex(&key, login.to_string(), 600).await.unwrap();
}

#[tokio::test]
async fn wrong_nonce_is_rejected() {
    let app = App::start().await;
    let mut browser = app.browser();
    let callback = browser.authorize("harborview", OFFICE_MANAGER_E1002).await;
    tamper_login(&app, &browser, "nonce", "another-nonce").await;
    let reply = browser.get(&callback).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("token_rejected"));
    assert!(browser.cookie("rc_session").is_none());
}

#[tokio::test]
async fn wrong_pkce_verifier_is_rejected() {
    let app = App::start().await;
    let mut browser = app.browser();
    let callback = browser.authorize("harborview", OFFICE_MANAGER_E1002).await;
    tamper_login(&app, &browser, "pkce_verifier", &"v".repeat(64)).await;
    let reply = browser.get(&callback).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("token_rejected"));
    assert!(browser.cookie("rc_session").is_none());
}

#[tokio::test]
async fn unreachable_issuer_fails_sign_in() {
    let app = App::start_with(Options {
        harborview_issuer: Some(|_| "http://127.0.0.1:1".into()),
        ..Options::default()
    })
    .await;
    let mut browser = app.browser();
    let reply = browser.get("/auth/login?tenant=harborview").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(reply.body.contains("provider_unavailable"));
    assert_eq!(reply.location, None);
}

#[tokio::test]
async fn issuer_differing_from_discovery_is_rejected() {
    // The same server under another issuer string: discovery is fetched, but its issuer
    // is not the configured one, so no sign-in starts.
    let app = App::start_with(Options {
        harborview_issuer: Some(|issuer| format!("{issuer}/")),
        ..Options::default()
    })
    .await;
    let mut browser = app.browser();
    let reply = browser.get("/auth/login?tenant=harborview").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    assert!(reply.body.contains("provider_unavailable"));
    assert_eq!(browser.cookie("rc_login"), None);
}

#[tokio::test]
async fn stored_issuer_is_used_without_setting() {
    // The Tenant resource's issuer, stored by the operator, is enough to sign in.
    let app = App::start_with(Options {
        omit_configured_issuer: true,
        stored_issuer: Some(|issuer| issuer.to_owned()),
        ..Options::default()
    })
    .await;
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    assert_eq!(browser.get("/api/v1/session").await.json()["identity"], "hr:E1002");

    // And it is the one asked: a stored issuer that the provider does not announce
    // starts no sign-in.
    let app = App::start_with(Options {
        omit_configured_issuer: true,
        stored_issuer: Some(|issuer| format!("{issuer}/")),
        ..Options::default()
    })
    .await;
    let reply = app.browser().get("/auth/login?tenant=harborview").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
}

#[tokio::test]
async fn conflicting_or_missing_issuer_starts_no_sign_in() {
    let conflict = App::start_with(Options {
        stored_issuer: Some(|issuer| format!("{issuer}/")),
        ..Options::default()
    })
    .await;
    let missing =
        App::start_with(Options { omit_configured_issuer: true, ..Options::default() }).await;
    for (app, code) in [(&conflict, "issuer_conflict"), (&missing, "issuer_not_configured")] {
        let mut browser = app.browser();
        let reply = browser.get("/auth/login?tenant=harborview").await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{code}: {}", reply.body);
        assert!(reply.body.contains(code), "{code}: {}", reply.body);
        assert_eq!(reply.location, None);
        assert_eq!(browser.cookie("rc_login"), None);
    }
    // The other practice keeps signing in.
    conflict
        .signed_in("lakeside", &format!("{OFFICE_MANAGER_E1002};tid={LAKESIDE_DIRECTORY}"))
        .await;
}

#[tokio::test]
async fn issuer_changed_during_sign_in_rejects_callback() {
    let app = App::start_with(Options {
        omit_configured_issuer: true,
        stored_issuer: Some(|issuer| issuer.to_owned()),
        ..Options::default()
    })
    .await;
    let mut browser = app.browser();
    let callback = browser.authorize("harborview", OFFICE_MANAGER_E1002).await;
    // The Tenant resource now names another issuer; the code from the old one must not
    // open a session.
    store_issuer(&app.store, &format!("{}/", app.idp.issuer)).await;
    let reply = browser.get(&callback).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(browser.cookie("rc_session").is_none());
}

#[tokio::test]
async fn tenant_checks_reject_other_directories() {
    let app = App::start().await;
    let cases = [
        (format!("{OFFICE_MANAGER_E1002};tid={LAKESIDE_DIRECTORY}"), "tenant_mismatch"),
        (format!("{OFFICE_MANAGER_E1002};tid={UNKNOWN_DIRECTORY}"), "tenant_not_onboarded"),
        (
            format!("{OFFICE_MANAGER_E1002};tid=9188040d-6c67-4c5b-b112-36a304b66dad"),
            "consumer_account",
        ),
    ];
    for (login, code) in cases {
        let mut browser = app.browser();
        let callback = browser.authorize("harborview", &login).await;
        let reply = browser.get(&callback).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{login}");
        assert!(reply.body.contains(code), "{code} for {login}: {}", reply.body);
        assert!(browser.cookie("rc_session").is_none(), "{login}");
        let counted =
            app.state.metrics.sign_ins.get_or_create(&SignInLabels { outcome: code.into() }).get();
        assert_eq!(counted, 1, "{code} is counted");
    }
}

#[tokio::test]
async fn unknown_account_gets_no_session() {
    let app = App::start().await;
    let mut browser = app.browser();
    let callback = browser.authorize("harborview", "00000000-0000-4000-8000-00000000ffff").await;
    let reply = browser.get(&callback).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("person_unknown"));
    assert!(browser.cookie("rc_session").is_none());
}

#[tokio::test]
async fn sign_in_replaces_planted_session() {
    let app = App::start().await;
    let mut browser = app.browser();
    browser.set_cookie("rc_session", "planted-by-someone-else");
    let callback = browser.authorize("harborview", OFFICE_MANAGER_E1002).await;
    let reply = browser.get(&callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let session = browser.cookie("rc_session").unwrap();
    assert_ne!(session, "planted-by-someone-else");
    assert_eq!(browser.cookie("rc_login"), None, "the login cookie is cleared");
}

#[tokio::test]
async fn logout_needs_csrf_and_ends_session() {
    let app = App::start().await;
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let refused = browser.post_form("/auth/logout", &[("csrf", "forged")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/campaigns").await.status, StatusCode::OK);

    let csrf = browser.csrf().await;
    let session = browser.cookie("rc_session").unwrap().to_owned();
    let reply = browser.post_form("/auth/logout", &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location.as_deref(), Some("/signed-out"));
    // The old id no longer opens anything, also when replayed.
    browser.set_cookie("rc_session", &session);
    assert_eq!(browser.get("/campaigns").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get("/api/v1/campaigns").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let app = App::start().await;
    let mut redis = app.redis.clone();

    // Idle: Redis expires the key when no request renewed it.
    let mut idle = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let key = app.state.sessions.session_key(idle.cookie("rc_session").unwrap());
    let ttl: i64 = redis.ttl(&key).await.unwrap();
    assert!(ttl > 0, "idle expiry is set: {ttl}");
    assert!(ttl <= 30 * 60, "idle expiry is the idle timeout: {ttl}");
    let _: () = redis.del(&key).await.unwrap();
    assert_eq!(idle.get("/campaigns").await.status, StatusCode::UNAUTHORIZED);

    // Absolute: a session signed in eleven hours ago ends although it was active.
    let mut old = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let key = app.state.sessions.session_key(old.cookie("rc_session").unwrap());
    let text: String = redis.get(&key).await.unwrap();
    let mut session: Value = serde_json::from_str(&text).unwrap();
    let signed_in = chrono::Utc::now() - chrono::TimeDelta::hours(11);
    session["signed_in_at"] = Value::String(signed_in.to_rfc3339());
    let _: () = redis.set_ex(&key, session.to_string(), 600).await.unwrap();
    assert_eq!(old.get("/campaigns").await.status, StatusCode::UNAUTHORIZED);
    let exists: bool = redis.exists(&key).await.unwrap();
    assert!(!exists, "an expired session is deleted");
}

#[tokio::test]
async fn responses_carry_strict_csp() {
    let app = App::start().await;
    let response = reqwest::get(format!("{}/signin", app.base)).await.unwrap();
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn sign_in_returns_to_review_link() {
    let app = App::start().await;
    let mut browser = app.browser();
    let link = format!("/campaigns/{}", app.campaign);
    let page = browser.get(&link).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let field = format!("name=\"return_to\" value=\"{link}\"");
    assert!(page.body.contains(&field), "{}", page.body);

    let start = format!("/auth/login?tenant=harborview&return_to={link}");
    let callback = browser.authorize_from(&start, OFFICE_MANAGER_E1002).await;
    let reply = browser.get(&callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location.as_deref(), Some(link.as_str()));

    // A path to another host is replaced by the campaign list.
    let mut other = app.browser();
    let start = "/auth/login?tenant=harborview&return_to=//elsewhere.example/x";
    let callback = other.authorize_from(start, OFFICE_MANAGER_E1002).await;
    let reply = other.get(&callback).await;
    assert_eq!(reply.location.as_deref(), Some("/campaigns"));
}

#[tokio::test]
async fn code_for_other_client_is_rejected() {
    // The authorization request is changed to name another client of the same provider,
    // so the code and its ID token are for another audience than the app.
    let app = App::start().await;
    let mut browser = app.browser();
    let callback = browser
        .authorize_rewritten("/auth/login?tenant=harborview", OFFICE_MANAGER_E1002, |url| {
            url.replace("client_id=rollcall-reviews", "client_id=other-client")
        })
        .await;
    let reply = browser.get(&callback).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("token_rejected"));
    assert!(browser.cookie("rc_session").is_none());
}

/// Starts the app with the provider behind a [`TokenProxy`], which the app's issuer names.
async fn app_behind_proxy() -> (App, TokenProxy) {
    let proxy = TokenProxy::start().await;
    let app =
        App::start_with(Options { idp_issuer: Some(proxy.url.clone()), ..Options::default() })
            .await;
    assert_eq!(app.idp.issuer, proxy.url);
    proxy.forward_to(&app.idp.address);
    (app, proxy)
}

#[tokio::test]
async fn foreign_audience_token_rejected() {
    // The provider rejects a code of another client at its token endpoint, so the app's
    // own audience check needs a token that arrives some other way. The test sends the
    // app's authorization request, nonce included, as the provider's other client and
    // redeems that code itself. Then the app redeems its own code through the proxy,
    // which replies with the other client's ID token. That token has the same issuer,
    // keys, subject and nonce, and another audience.
    let (app, proxy) = app_behind_proxy().await;
    let mut browser = app.browser();
    let start = browser.get("/auth/login?tenant=harborview").await;
    let app_request = start.location.unwrap();
    let nonce = query_param(&app_request, "nonce").unwrap();
    let redirect_uri = query_param(&app_request, "redirect_uri").unwrap();

    let (verifier, challenge) = test_pkce();
    let other_request = with_query_param(
        &with_query_param(&app_request, "client_id", "other-client"),
        "code_challenge",
        &challenge,
    );
    let other_callback = browser.follow_to_callback(other_request, OFFICE_MANAGER_E1002).await;
    let other_code = query_param(&other_callback, "code").unwrap();
    let other_token = exchange_for_id_token(
        &app.idp.issuer,
        ("other-client", "other-secret"),
        &other_code,
        &verifier,
        &redirect_uri,
    )
    .await;
    let claims = jwt_payload(&other_token);
    assert_eq!(claims["aud"], "other-client");
    assert_eq!(claims["iss"], app.idp.issuer.as_str());
    assert_eq!(claims["nonce"], nonce.as_str(), "only the audience differs");

    proxy.swap_next(other_token);
    let callback = browser.follow_to_callback(app_request, OFFICE_MANAGER_E1002).await;
    let reply = browser.get(&callback).await;
    assert_eq!(proxy.swapped(), 1, "the app's token response went through the proxy");
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.body.contains("token_audience_mismatch"), "{}", reply.body);
    assert!(reply.body.contains("audience"), "{}", reply.body);
    assert!(browser.cookie("rc_session").is_none());

    // The same path without the swap signs in, so the audience is what was rejected.
    let mut browser = app.browser();
    let callback = browser.authorize("harborview", OFFICE_MANAGER_E1002).await;
    let reply = browser.get(&callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(browser.cookie("rc_session").is_some());
}

#[tokio::test]
async fn foreign_issuer_token_rejected() {
    // A second provider with its own issuer serves the same clients. The app's
    // authorization request, nonce included, is sent to it and its code redeemed by the
    // test; then the proxy replies to the app's own token request with that ID token: same
    // audience, subject and nonce, another issuer.
    let (app, proxy) = app_behind_proxy().await;
    let mut browser = app.browser();
    let start = browser.get("/auth/login?tenant=harborview").await;
    let app_request = start.location.unwrap();
    let nonce = query_param(&app_request, "nonce").unwrap();
    let redirect_uri = query_param(&app_request, "redirect_uri").unwrap();

    let other = Idp::start(&redirect_uri).await;
    assert_ne!(other.issuer, app.idp.issuer);
    let (verifier, challenge) = test_pkce();
    let other_request = with_query_param(
        &app_request.replacen(&app.idp.issuer, &other.issuer, 1),
        "code_challenge",
        &challenge,
    );
    let other_callback = browser.follow_to_callback(other_request, OFFICE_MANAGER_E1002).await;
    let other_code = query_param(&other_callback, "code").unwrap();
    let other_token = exchange_for_id_token(
        &other.issuer,
        ("rollcall-reviews", "test-secret"),
        &other_code,
        &verifier,
        &redirect_uri,
    )
    .await;
    let claims = jwt_payload(&other_token);
    assert_eq!(claims["iss"], other.issuer.as_str());
    assert_eq!(claims["aud"], "rollcall-reviews");
    assert_eq!(claims["nonce"], nonce.as_str(), "only the issuer differs");

    proxy.swap_next(other_token);
    let callback = browser.follow_to_callback(app_request, OFFICE_MANAGER_E1002).await;
    let reply = browser.get(&callback).await;
    assert_eq!(proxy.swapped(), 1, "the app's token response went through the proxy");
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.body.contains("token_issuer_mismatch"), "{}", reply.body);
    assert!(reply.body.contains("issuer"), "{}", reply.body);
    assert!(browser.cookie("rc_session").is_none());
}

//! The two cookies and their attributes.
//!
//! Both are `HttpOnly` and `Secure` and carry only a random id. Browsers keep `Secure`
//! cookies from `http://127.0.0.1` and `http://localhost` too, so local runs need no
//! exception. Both are `SameSite=Lax`, stated explicitly: the identity provider returns
//! the browser with a cross-site top-level GET, which carries `Lax` cookies but not
//! `Strict` ones, and the review link in a mail is a cross-site GET as well. A cookie
//! without the attribute would behave differently per browser.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

use crate::session::LOGIN_TTL_SECONDS;

/// The session cookie.
pub const SESSION: &str = "rc_session";
/// The sign-in cookie, sent only to the callback.
pub const LOGIN: &str = "rc_login";
/// The only path the sign-in cookie is sent to.
pub const CALLBACK_PATH: &str = "/auth/callback";

/// Returns the value of cookie `name` from the request's `Cookie` headers.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// Returns the `Set-Cookie` value of a new session, living at most `max_age_seconds`.
pub fn session(id: &str, max_age_seconds: u64) -> String {
    format!("{SESSION}={id}; Path=/; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Lax")
}

/// Returns the `Set-Cookie` value that removes the session cookie.
pub fn clear_session() -> String {
    format!("{SESSION}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// Returns the `Set-Cookie` value of a started sign-in: sent only to the callback, for as
/// long as the sign-in state lives in Redis.
pub fn login(id: &str) -> String {
    format!(
        "{LOGIN}={id}; Path={CALLBACK_PATH}; Max-Age={LOGIN_TTL_SECONDS}; HttpOnly; Secure; SameSite=Lax"
    )
}

/// Returns the `Set-Cookie` value that removes the sign-in cookie.
pub fn clear_login() -> String {
    format!("{LOGIN}=; Path={CALLBACK_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn login_cookie_is_lax_secure_and_scoped() {
        // The attributes the form-post fixture requires, in its words.
        let cookie = login("abc");
        for attribute in
            ["HttpOnly", "Secure", "SameSite=Lax", "Path=/auth/callback", "Max-Age=600"]
        {
            assert!(cookie.split("; ").any(|part| part == attribute), "{attribute} in {cookie}");
        }
        assert!(!cookie.contains("Strict"));
        assert!(!cookie.contains("SameSite=None"));
    }

    #[test]
    fn session_cookie_is_lax_and_secure() {
        let cookie = session("abc", 3600);
        assert!(cookie.starts_with("rc_session=abc; Path=/;"));
        assert!(cookie.contains("HttpOnly; Secure; SameSite=Lax"));
    }

    #[test]
    fn read_finds_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; rc_session=xyz"));
        headers.append(COOKIE, HeaderValue::from_static("rc_login=l1"));
        assert_eq!(read(&headers, SESSION).as_deref(), Some("xyz"));
        assert_eq!(read(&headers, LOGIN).as_deref(), Some("l1"));
        assert_eq!(read(&headers, "missing"), None);
    }

    #[test]
    fn read_ignores_empty_value() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("rc_session="));
        assert_eq!(read(&headers, SESSION), None);
    }
}

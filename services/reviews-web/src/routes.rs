//! The router: pages, sign-in, the API and the stylesheet, with the security headers on
//! every response.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;
use crate::{api, auth, pages};

/// The content security policy: only this origin's stylesheet, no scripts at all, forms
/// posting only here, and no framing (which also stops clickjacking of the decision
/// buttons).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = include_str!("../static/style.css");

/// Builds the router.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/", get(pages::root))
        .route("/signin", get(auth::handlers::sign_in_page))
        .route("/signed-out", get(auth::handlers::signed_out))
        .route("/auth/login", get(auth::handlers::login))
        .route("/auth/callback", get(auth::handlers::callback).post(auth::handlers::callback_post))
        .route("/auth/logout", axum::routing::post(auth::handlers::logout))
        .route("/campaigns", get(pages::campaigns))
        .route("/campaigns/{id}", get(pages::review_page))
        .route("/campaigns/{id}/overview", get(pages::overview))
        .route("/campaigns/{id}/evidence.tar", get(pages::evidence::download))
        .route("/campaigns/{id}/decide", axum::routing::post(pages::decide))
        .route(
            "/campaigns/{id}/recommendations",
            axum::routing::post(pages::accept_recommendations),
        )
        .route("/campaigns/{id}/signoff", axum::routing::post(pages::sign_off))
        .route("/static/style.css", get(stylesheet));
    for route in api::routes() {
        router = router.route(route.path, route.handler);
    }
    router
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn stylesheet() -> Response {
    let mut response = STYLESHEET.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    response
}

async fn not_found() -> Response {
    crate::error::PageError(crate::error::Failure::NotFound).into_response()
}

/// Adds the security headers. Pages hold workforce data, so no response is cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let is_stylesheet = request.uri().path() == "/static/style.css";
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let cache = if is_stylesheet { "public, max-age=3600" } else { "no-store" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

    use super::STYLESHEET;

    /// Returns the value of the custom property `--name` in the stylesheet.
    fn color(name: &str) -> &'static str {
        let start = STYLESHEET.find(&format!("--{name}: ")).unwrap() + name.len() + 4;
        STYLESHEET[start..].split(';').next().unwrap()
    }

    /// Returns the WCAG 2.1 relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let channel = |index: usize| {
            let value =
                f64::from(u8::from_str_radix(&hex[1 + 2 * index..3 + 2 * index], 16).unwrap())
                    / 255.0;
            if value <= 0.039_28 { value / 12.92 } else { ((value + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (light, dark) = {
            let (x, y) = (luminance(a), luminance(b));
            if x > y { (x, y) } else { (y, x) }
        };
        (light + 0.05) / (dark + 0.05)
    }

    #[test]
    fn stylesheet_colors_meet_aa_contrast() {
        let white = "#ffffff";
        let pairs = [
            (color("ink"), white),
            (color("muted"), white),
            (color("accent"), white),
            (white, color("accent")),
            (color("warn-ink"), color("warn-bg")),
            (color("bad"), white),
            (color("ok"), white),
        ];
        for (text, background) in pairs {
            let ratio = contrast(text, background);
            assert!(ratio >= 4.5, "{text} on {background}: {ratio:.2}");
        }
    }
}

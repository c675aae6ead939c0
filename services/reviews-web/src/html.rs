//! HTML building: escaping and the page layout. Pages are plain HTML with one stylesheet
//! served by this binary, so they work without JavaScript and without any third-party
//! host, which the content security policy forbids anyway.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::csrf;
use crate::session::SessionData;

/// Escapes `text` for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Returns the hidden CSRF field of a form.
pub fn csrf_field(session: &SessionData) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        csrf::FIELD,
        escape(&session.csrf_token)
    )
}

/// Returns a complete page: a skip link, the header with the signed-in person and the
/// sign-out button, and `body` as the main content.
pub fn page(title: &str, session: Option<&SessionData>, body: &str) -> String {
    let account = match session {
        Some(session) => format!(
            "<div class=\"who\"><span>Signed in as {name}</span> <form method=\"post\" action=\"/auth/logout\" class=\"inline\">{csrf}<button type=\"submit\">Sign out</button></form></div>",
            name = escape(&session.name),
            csrf = csrf_field(session),
        ),
        None => String::new(),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title} · Rollcall access review</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to content</a>\n<header><p class=\"brand\"><a href=\"/campaigns\">Rollcall access review</a></p>{account}</header>\n<main id=\"main\">\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

/// Returns `page` as a response with `status`.
pub fn page_response(
    status: StatusCode,
    title: &str,
    session: Option<&SessionData>,
    body: &str,
) -> Response {
    let mut response = (status, page(title, session, body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

/// Returns the sign-in form: the practice id, which the review mail's link fills in,
/// and the local path to open after sign-in.
pub fn sign_in_body(tenant: Option<&str>, return_to: Option<&str>) -> String {
    let return_field = return_to.map_or(String::new(), |path| {
        format!("<input type=\"hidden\" name=\"return_to\" value=\"{}\">\n", escape(path))
    });
    format!(
        "<h1>Sign in</h1>\n<p>Sign in with your work account to review your team's access. The link in your review mail signs you in directly.</p>\n<form method=\"get\" action=\"/auth/login\">\n<label for=\"tenant\">Practice id</label>\n<input id=\"tenant\" name=\"tenant\" required autocomplete=\"organization\" value=\"{}\">\n{return_field}<button type=\"submit\">Continue to sign-in</button>\n</form>\n",
        escape(tenant.unwrap_or_default())
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_replaces_markup() {
        assert_eq!(
            escape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }
}

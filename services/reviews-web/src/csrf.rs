//! CSRF tokens: one random token per session, in a hidden field of every form and in
//! the `X-CSRF-Token` header of every state-changing API call. The session cookie is
//! `SameSite=Lax`, which already keeps it off cross-site POSTs in current browsers. The
//! token also covers older browsers and same-site attackers, such as another app on a
//! sibling host.

use subtle::ConstantTimeEq as _;

use crate::session::SessionData;

/// The form field.
pub const FIELD: &str = "csrf";
/// The API header.
pub const HEADER: &str = "x-csrf-token";

/// Returns whether `provided` is the session's token, compared in constant time.
pub fn matches(session: &SessionData, provided: Option<&str>) -> bool {
    let Some(provided) = provided else { return false };
    let expected = session.csrf_token.as_bytes();
    !expected.is_empty() && bool::from(expected.ct_eq(provided.as_bytes()))
}

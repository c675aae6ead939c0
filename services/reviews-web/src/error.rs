//! Request failures and their responses: an HTML page for browsers, a JSON body for the
//! API. Each failure has a stable code that tests and API clients match on.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rollcall_store::{ReviewRejection, StoreError};
use serde_json::json;

use crate::html;
use crate::session::SessionError;

/// The reason a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// No valid session: never signed in, signed out, or timed out.
    #[error("sign in to continue; your session ended or you are not signed in")]
    Unauthenticated,
    /// The CSRF token is missing or wrong.
    #[error("the form is out of date or was not sent by this site; reload the page and try again")]
    Csrf,
    /// Nothing of that id is visible to the caller.
    #[error("not found")]
    NotFound,
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The store rejected a decision or sign-off by the campaign's rules.
    #[error("{0}")]
    Rejected(ReviewRejection),
    /// The campaign is not closed yet.
    #[error("{0}")]
    NotClosed(String),
    /// The store or Redis failed.
    #[error("the service is unavailable; try again in a minute")]
    Unavailable,
}

impl Failure {
    /// Returns the status code.
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::Unauthenticated => StatusCode::UNAUTHORIZED,
            Failure::Csrf | Failure::Forbidden(_) => StatusCode::FORBIDDEN,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::BadRequest(_) => StatusCode::BAD_REQUEST,
            Failure::NotClosed(_) => StatusCode::CONFLICT,
            Failure::Rejected(rejection) => rejection_status(rejection),
            Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Returns the stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Unauthenticated => "unauthenticated",
            Failure::Csrf => "csrf_invalid",
            Failure::NotFound => "not_found",
            Failure::Forbidden(_) => "forbidden",
            Failure::BadRequest(_) => "bad_request",
            Failure::NotClosed(_) => "campaign_not_closed",
            Failure::Rejected(rejection) => rejection_code(rejection),
            Failure::Unavailable => "unavailable",
        }
    }
}

fn rejection_status(rejection: &ReviewRejection) -> StatusCode {
    match rejection {
        ReviewRejection::NotFound => StatusCode::NOT_FOUND,
        ReviewRejection::NotReviewer { .. }
        | ReviewRejection::NotOwner(_)
        | ReviewRejection::WrongStage { .. } => StatusCode::FORBIDDEN,
        ReviewRejection::NoItems
        | ReviewRejection::UnknownItems(_)
        | ReviewRejection::JustificationRequired(_)
        | ReviewRejection::SelfReview { .. }
        | ReviewRejection::EmptyReviewer => StatusCode::UNPROCESSABLE_ENTITY,
        ReviewRejection::Closed
        | ReviewRejection::SignedOff { .. }
        | ReviewRejection::TargetSignedOff(_)
        | ReviewRejection::Undecided { .. }
        | ReviewRejection::NothingToSignOff(_) => StatusCode::CONFLICT,
    }
}

fn rejection_code(rejection: &ReviewRejection) -> &'static str {
    match rejection {
        ReviewRejection::NotFound => "not_found",
        ReviewRejection::NoItems => "no_items",
        ReviewRejection::UnknownItems(_) => "unknown_items",
        ReviewRejection::Closed => "campaign_closed",
        ReviewRejection::NotReviewer { .. } => "not_reviewer",
        ReviewRejection::SignedOff { .. } => "signed_off",
        ReviewRejection::JustificationRequired(_) => "justification_required",
        ReviewRejection::SelfReview { .. } => "self_review",
        ReviewRejection::TargetSignedOff(_) => "target_signed_off",
        ReviewRejection::EmptyReviewer => "empty_reviewer",
        ReviewRejection::NotOwner(_) => "not_owner",
        ReviewRejection::Undecided { .. } => "undecided",
        ReviewRejection::NothingToSignOff(_) => "nothing_to_sign_off",
        ReviewRejection::WrongStage { .. } => "wrong_stage",
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ReviewRejected { reason, .. } => Failure::Rejected(reason),
            other => {
                tracing::error!(error = %other, "the store failed during a review request");
                Failure::Unavailable
            }
        }
    }
}

impl From<SessionError> for Failure {
    fn from(error: SessionError) -> Self {
        tracing::error!(error = %error, "the session store failed");
        Failure::Unavailable
    }
}

/// A failure shown as a page.
#[derive(Debug)]
pub struct PageError(pub Failure);

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        PageError(Failure::from(error))
    }
}

impl From<SessionError> for PageError {
    fn from(error: SessionError) -> Self {
        PageError(Failure::from(error))
    }
}

impl From<Failure> for PageError {
    fn from(failure: Failure) -> Self {
        PageError(failure)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let failure = self.0;
        if let Failure::Unauthenticated = failure {
            return html::page_response(
                StatusCode::UNAUTHORIZED,
                "Sign in",
                None,
                &html::sign_in_body(None, None),
            );
        }
        let body = format!(
            "<h1>Something went wrong</h1><p role=\"alert\">{}</p><p>Error code: <code>{}</code></p><p><a href=\"/campaigns\">Back to your campaigns</a></p>",
            html::escape(&failure.to_string()),
            failure.code()
        );
        html::page_response(failure.status(), "Error", None, &body)
    }
}

/// A failure returned as JSON: `{"error": code, "message": text}`.
#[derive(Debug)]
pub struct ApiError(pub Failure);

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError(Failure::from(error))
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        ApiError(Failure::from(error))
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        ApiError(failure)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.0.code(), "message": self.0.to_string() });
        (self.0.status(), Json(body)).into_response()
    }
}

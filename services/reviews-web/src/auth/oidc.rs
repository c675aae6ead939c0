//! The OpenID Connect client: discovery, the authorization request with PKCE, the code
//! exchange and the ID token check.
//!
//! Discovery runs at each sign-in start and callback: managers sign in a few times a
//! quarter, and the provider's keys then never go stale.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use serde_json::Value;

/// A failure of the exchange with the identity provider.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The HTTP client could not be built.
    #[error("the HTTP client for the identity provider could not be built: {0}")]
    Client(String),
    /// A configured URL is invalid.
    #[error("`{url}` is not a valid URL: {reason}; check the tenant's issuer and http.public_url")]
    Url {
        /// The URL.
        url: String,
        /// The parser's message.
        reason: String,
    },
    /// Discovery failed, including an issuer in the document that differs from the
    /// configured one.
    #[error("discovery at `{issuer}` failed: {reason}")]
    Discovery {
        /// The configured issuer.
        issuer: String,
        /// The cause.
        reason: String,
    },
    /// The code exchange failed, for example with a wrong PKCE verifier.
    #[error("the identity provider rejected the code exchange: {0}")]
    Exchange(String),
    /// The token response has no ID token.
    #[error("the token response has no ID token")]
    NoIdToken,
    /// The ID token failed verification: signature, issuer, audience, expiry or nonce.
    #[error("the ID token is invalid: {reason}")]
    IdToken {
        /// The check that failed first.
        check: IdTokenCheck,
        /// The verifier's message, which names the offending value.
        reason: String,
    },
}

/// The ID token check that failed. The `openidconnect` verifier checks `iss`, then
/// `aud`, then the signature, then expiry and `nonce`; the first failure is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenCheck {
    /// `iss` is not the tenant's configured issuer.
    Issuer,
    /// `aud` does not name this app's client id, or names others besides.
    Audience,
    /// Any other check: signature, expiry, `nonce`, or an unreadable payload.
    Other,
}

impl IdTokenCheck {
    /// Returns the error code shown on the sign-in error page and counted in the metrics.
    pub fn code(self) -> &'static str {
        match self {
            IdTokenCheck::Issuer => "token_issuer_mismatch",
            IdTokenCheck::Audience => "token_audience_mismatch",
            IdTokenCheck::Other => "token_rejected",
        }
    }
}

/// A verified ID token's claims, as JSON.
#[derive(Debug, Clone)]
pub struct VerifiedClaims {
    /// The `iss` claim.
    pub issuer: String,
    /// Every claim of the token's payload.
    pub claims: Value,
}

/// The start of an authorization request.
#[derive(Debug)]
pub struct AuthorizationStart {
    /// The authorization URL to send the browser to.
    pub url: String,
    /// The `state` parameter.
    pub state: String,
    /// The `nonce`.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
}

/// The client settings shared by every tenant.
#[derive(Clone)]
pub struct OidcClient {
    http: openidconnect::reqwest::Client,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
}

impl OidcClient {
    /// Builds the HTTP client. It follows no redirects, because a redirect from the token
    /// endpoint could send the code and client secret to another host.
    pub fn new(
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        timeout: Duration,
    ) -> Result<Self, OidcError> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map_err(|error| OidcError::Client(error.to_string()))?;
        RedirectUrl::new(redirect_uri.to_owned()).map_err(|error| OidcError::Url {
            url: redirect_uri.to_owned(),
            reason: error.to_string(),
        })?;
        Ok(Self {
            http,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        })
    }

    async fn discover(
        &self,
        issuer: &str,
    ) -> Result<
        openidconnect::core::CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OidcError,
    > {
        let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|error| OidcError::Url {
            url: issuer.to_owned(),
            reason: error.to_string(),
        })?;
        // The crate requires the document's issuer to equal the configured one exactly.
        let metadata = CoreProviderMetadata::discover_async(issuer_url, &self.http).await.map_err(
            |error| OidcError::Discovery { issuer: issuer.to_owned(), reason: error_chain(&error) },
        )?;
        let redirect = RedirectUrl::new(self.redirect_uri.clone()).map_err(|error| {
            OidcError::Url { url: self.redirect_uri.clone(), reason: error.to_string() }
        })?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Discovers `issuer` and builds an authorization request with PKCE (S256), a random
    /// state and nonce, and `response_mode=query`: with `form_post` the callback would be
    /// a cross-site POST that carries no `SameSite=Lax` login cookie.
    pub async fn start(&self, issuer: &str) -> Result<AuthorizationStart, OidcError> {
        let client = self.discover(issuer).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_extra_param("response_mode", "query")
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` with the PKCE verifier and verifies the ID token: signature
    /// against the provider's keys, `iss` equal to `issuer`, `aud` the client id, expiry
    /// and `nonce`.
    pub async fn finish(
        &self,
        issuer: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<VerifiedClaims, OidcError> {
        let client = self.discover(issuer).await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|error| OidcError::Exchange(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|error| OidcError::Exchange(error_chain(&error)))?;
        let id_token = response.id_token().ok_or(OidcError::NoIdToken)?;
        let verified = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
            .map_err(|error| {
                let check = match &error {
                    ClaimsVerificationError::InvalidIssuer(_) => IdTokenCheck::Issuer,
                    ClaimsVerificationError::InvalidAudience(_) => IdTokenCheck::Audience,
                    _ => IdTokenCheck::Other,
                };
                OidcError::IdToken { check, reason: error_chain(&error) }
            })?;
        let issuer = verified.issuer().to_string();
        // The signature is verified, so the payload can be read as it is. The payload is
        // read because the core claims type drops the Entra claims (`tid`, `oid`, `roles`).
        let claims = payload(&id_token.to_string()).ok_or_else(|| OidcError::IdToken {
            check: IdTokenCheck::Other,
            reason: "the payload is not JSON".into(),
        })?;
        Ok(VerifiedClaims { issuer, claims })
    }
}

/// Decodes the payload of a compact JWT.
fn payload(jwt: &str) -> Option<Value> {
    let encoded = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Formats an error with its sources, which the crate's errors keep apart.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

//! The tenant checks on a verified ID token from a multi-tenant Entra ID app.
//!
//! One app registration is consented in every practice's directory, so a token that
//! passed the signature, audience, expiry and nonce checks can still come from any
//! directory in the world. These checks tie it to the practice the sign-in started for,
//! in a fixed order so that each rejection has one reason.

use uuid::Uuid;

/// The `tid` of personal Microsoft accounts (Outlook.com, Xbox), which are not workforce
/// accounts of any practice.
pub const CONSUMER_DIRECTORY: Uuid = Uuid::from_u128(0x9188040d_6c67_4c5b_b112_36a304b66dad);

/// The reason a token was rejected, named as the sign-in log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TenantRejection {
    /// The token has no `tid` claim, or one that is not a GUID.
    #[error("the ID token has no directory (`tid`) claim")]
    MissingTid,
    /// A personal Microsoft account.
    #[error("personal Microsoft accounts cannot sign in; use your work account")]
    ConsumerAccount,
    /// The directory is not one of an onboarded practice.
    #[error("the account's directory is not onboarded in Rollcall")]
    TenantNotOnboarded,
    /// The directory GUID in `iss` differs from `tid`.
    #[error("the issuer names another directory than the token's `tid`")]
    IssuerTidMismatch,
    /// The directory belongs to another practice than the one the sign-in started for.
    #[error("the account belongs to another practice than the sign-in was started for")]
    TenantMismatch,
    /// `iss` is not exactly the practice's configured issuer.
    #[error("the token's issuer is not the practice's issuer")]
    IssuerMismatch,
}

impl TenantRejection {
    /// Returns the code logged and shown on the error page.
    pub fn code(self) -> &'static str {
        match self {
            TenantRejection::MissingTid => "tid_missing",
            TenantRejection::ConsumerAccount => "consumer_account",
            TenantRejection::TenantNotOnboarded => "tenant_not_onboarded",
            TenantRejection::IssuerTidMismatch => "issuer_tid_mismatch",
            TenantRejection::TenantMismatch => "tenant_mismatch",
            TenantRejection::IssuerMismatch => "issuer_mismatch",
        }
    }
}

/// The values the check compares the token with: the practice the sign-in started for, as kept
/// in the server-side sign-in state, and the directories of every onboarded practice.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The practice's configured issuer.
    pub issuer: &'a str,
    /// The practice's directory.
    pub directory: Uuid,
    /// The directories of all onboarded practices.
    pub onboarded: &'a [Uuid],
}

/// Checks `tid` and `iss` of a token whose signature, audience, expiry and nonce were
/// verified, in this order: consumer account, onboarded directory, the directory in
/// `iss` against `tid`, the practice the sign-in started for, and finally `iss` exactly.
pub fn check_tenant(
    tid: Option<&str>,
    iss: &str,
    expected: &Expected<'_>,
) -> Result<Uuid, TenantRejection> {
    let tid = tid.and_then(|text| Uuid::parse_str(text).ok()).ok_or(TenantRejection::MissingTid)?;
    if tid == CONSUMER_DIRECTORY {
        return Err(TenantRejection::ConsumerAccount);
    }
    if !expected.onboarded.contains(&tid) {
        return Err(TenantRejection::TenantNotOnboarded);
    }
    if issuer_directory(iss).is_some_and(|directory| directory != tid) {
        return Err(TenantRejection::IssuerTidMismatch);
    }
    if tid != expected.directory {
        return Err(TenantRejection::TenantMismatch);
    }
    if iss != expected.issuer {
        return Err(TenantRejection::IssuerMismatch);
    }
    Ok(tid)
}

/// Returns the first path segment of `iss` that is a GUID: the directory of an Entra
/// issuer, in the v2.0 form `https://login.microsoftonline.com/<GUID>/v2.0` and the v1.0
/// form `https://sts.windows.net/<GUID>/`. An issuer without one gives `None`.
pub fn issuer_directory(iss: &str) -> Option<Uuid> {
    let path = iss.split_once("://").map_or(iss, |(_, rest)| rest);
    path.split('/').skip(1).find_map(|segment| Uuid::parse_str(segment).ok())
}

#[cfg(test)]
#[path = "entra_tests.rs"]
mod tests;

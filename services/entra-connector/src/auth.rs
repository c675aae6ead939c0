//! Client credentials and access tokens (OAuth 2.0 client credentials grant against the
//! Microsoft identity platform v2.0 endpoint).

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use crate::config::AppConfig;

/// An app's credential, read from a file.
pub enum Credential {
    /// A client secret.
    Secret(Zeroizing<String>),
    /// A certificate: its RSA private key, which signs client assertions, and the
    /// base64url SHA-256 thumbprint of the certificate, which names it to Entra ID.
    Certificate {
        /// The private key, boxed because it is much larger than a secret.
        key: Box<ring::rsa::KeyPair>,
        /// The `x5t#S256` header value.
        thumbprint: String,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Credential::Secret(<redacted>)"),
            Self::Certificate { thumbprint, .. } => {
                write!(f, "Credential::Certificate {{ thumbprint: {thumbprint} }}")
            }
        }
    }
}

/// Errors while reading a credential.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The secret file could not be read.
    #[error("cannot read the client secret file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The secret file is empty.
    #[error("the client secret file {0} is empty; write the secret value into it")]
    Empty(String),
    /// The certificate file could not be read.
    #[error("cannot read the certificate file {path}: {source}")]
    ReadCertificate {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The certificate file lacks a part or contains an unusable key.
    #[error(
        "invalid certificate file {path}: {reason}; it must hold the PKCS#8 RSA private key (BEGIN PRIVATE KEY) and the certificate (BEGIN CERTIFICATE) in PEM"
    )]
    InvalidCertificate {
        /// The file.
        path: String,
        /// The reason.
        reason: String,
    },
    /// Signing a client assertion failed.
    #[error("signing the client assertion failed")]
    Sign,
}

impl Credential {
    /// Reads the credential an app entry names.
    pub fn load(name: &str, app: &AppConfig) -> Result<Self, CredentialError> {
        match (&app.client_secret_file, &app.certificate_file) {
            (Some(path), _) => read_secret(path),
            (None, Some(path)) => read_certificate(path),
            (None, None) => Err(CredentialError::InvalidCertificate {
                path: format!("(app `{name}`)"),
                reason: "the app has neither client_secret_file nor certificate_file".into(),
            }),
        }
    }

    /// Returns the form fields that authenticate `client_id` at `token_url`. A certificate
    /// gives a fresh client assertion: a JWT signed with PS256 that names the certificate
    /// by its SHA-256 thumbprint and is valid for ten minutes.
    pub(crate) fn form_fields(
        &self,
        client_id: &str,
        token_url: &str,
    ) -> Result<Vec<(&'static str, String)>, CredentialError> {
        match self {
            Self::Secret(secret) => Ok(vec![("client_secret", secret.as_str().to_owned())]),
            Self::Certificate { key, thumbprint } => {
                let assertion = client_assertion(key, thumbprint, client_id, token_url)?;
                Ok(vec![
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                    ),
                    ("client_assertion", assertion),
                ])
            }
        }
    }
}

fn read_secret(path: &Path) -> Result<Credential, CredentialError> {
    let text =
        Zeroizing::new(std::fs::read_to_string(path).map_err(|source| CredentialError::Read {
            path: path.display().to_string(),
            source,
        })?);
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(CredentialError::Empty(path.display().to_string()));
    }
    Ok(Credential::Secret(Zeroizing::new(secret.to_owned())))
}

fn read_certificate(path: &Path) -> Result<Credential, CredentialError> {
    let shown = path.display().to_string();
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|source| CredentialError::ReadCertificate { path: shown.clone(), source })?,
    );
    let invalid = |reason: &str| CredentialError::InvalidCertificate {
        path: shown.clone(),
        reason: reason.to_owned(),
    };
    let key_der = Zeroizing::new(
        pem_block(&text, "PRIVATE KEY").ok_or_else(|| invalid("no BEGIN PRIVATE KEY block"))?,
    );
    let certificate =
        pem_block(&text, "CERTIFICATE").ok_or_else(|| invalid("no BEGIN CERTIFICATE block"))?;
    let key = ring::rsa::KeyPair::from_pkcs8(&key_der)
        .map_err(|error| invalid(&format!("the private key is not a usable RSA key ({error})")))?;
    use sha2::Digest as _;
    let thumbprint = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&certificate));
    Ok(Credential::Certificate { key: Box::new(key), thumbprint })
}

/// Decodes the first PEM block labelled `label`.
fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text.get(start..)?.find(&end)?;
    let body: String = text.get(start..stop)?.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(body).ok()
}

/// Builds and signs a client assertion for the client credentials grant.
fn client_assertion(
    key: &ring::rsa::KeyPair,
    thumbprint: &str,
    client_id: &str,
    token_url: &str,
) -> Result<String, CredentialError> {
    let now = chrono::Utc::now().timestamp();
    let header = serde_json::json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": thumbprint });
    let mut nonce = [0_u8; 16];
    let rng = ring::rand::SystemRandom::new();
    ring::rand::SecureRandom::fill(&rng, &mut nonce).map_err(|_| CredentialError::Sign)?;
    let claims = serde_json::json!({
        "aud": token_url,
        "iss": client_id,
        "sub": client_id,
        "jti": URL_SAFE_NO_PAD.encode(nonce),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0_u8; key.public().modulus_len()];
    key.sign(&ring::signature::RSA_PSS_SHA256, &rng, signing_input.as_bytes(), &mut signature)
        .map_err(|_| CredentialError::Sign)?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// An access token and when to stop using it.
pub(crate) struct CachedToken {
    pub(crate) value: Zeroizing<String>,
    pub(crate) refresh_at: Instant,
}

impl CachedToken {
    /// Builds a token that is refreshed five minutes before `expires_in` seconds pass, so
    /// a request never leaves with a token about to expire.
    pub(crate) fn new(value: String, expires_in: u64) -> Self {
        let margin = Duration::from_secs(300);
        let lifetime = Duration::from_secs(expires_in).saturating_sub(margin);
        Self { value: Zeroizing::new(value), refresh_at: Instant::now() + lifetime }
    }

    pub(crate) fn is_fresh(&self) -> bool {
        Instant::now() < self.refresh_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_certificate() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/credentials/app-certificate.pem")
    }

    #[test]
    fn assertion_is_signed_and_verifiable() {
        let Credential::Certificate { key, thumbprint } =
            read_certificate(&test_certificate()).unwrap()
        else {
            panic!("not a certificate credential");
        };
        assert_eq!(thumbprint.len(), 43, "base64url of 32 bytes");
        let url = "https://login.microsoftonline.com/tenant/oauth2/v2.0/token";
        let assertion = client_assertion(&key, &thumbprint, "client-1", url).unwrap();
        let parts: Vec<&str> = assertion.split('.').collect();
        assert_eq!(parts.len(), 3);

        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["x5t#S256"], thumbprint.as_str());
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], url);
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");

        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PSS_2048_8192_SHA256,
            key.public().as_ref(),
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert!(public.verify(signed.as_bytes(), &signature).is_ok());
        assert!(public.verify(b"tampered", &signature).is_err());
    }

    #[test]
    fn certificate_without_key_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert-only.pem");
        let text = std::fs::read_to_string(test_certificate()).unwrap();
        let start = text.find("-----BEGIN CERTIFICATE-----").unwrap();
        std::fs::write(&path, &text[start..]).unwrap();
        let error = read_certificate(&path).unwrap_err();
        assert!(error.to_string().contains("no BEGIN PRIVATE KEY block"), "{error}");
    }
}

//! Delivery authenticity: HMAC signatures, static credentials and the sender's networks.
//!
//! Every comparison of a secret value takes constant time. HMAC tags are compared with
//! `subtle`. Static credentials are compared as SHA-256 digests, so the time taken
//! depends neither on where the first differing byte is nor on the credential's length.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ipnet::IpNet;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use ring::{digest, hmac};
use subtle::ConstantTimeEq as _;

use crate::error::Rejection;

/// One delivery as the receiver got it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The body bytes exactly as sent.
    pub body: &'a [u8],
    /// The address of the TCP peer, when known. Forwarding headers are not read, because
    /// any sender can set them.
    pub peer: Option<IpAddr>,
    /// The last path segment of a receiver URL with a per-tenant token, when used.
    pub url_token: Option<&'a str>,
}

/// A named secret, such as one HMAC key of a rotation.
pub struct NamedSecret {
    /// A name for the key, logged with each delivery it verifies.
    pub id: String,
    /// The key bytes exactly as the vendor shows them (BambooHR's private key, Gusto's
    /// verification token, HiBob's webhook secret).
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for NamedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedSecret").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

/// A static credential of a vendor that signs nothing, kept as a SHA-256 digest.
#[derive(Clone, PartialEq, Eq)]
pub enum StaticCredential {
    /// `Authorization: Basic base64(user:password)`.
    Basic([u8; 32]),
    /// `Authorization: Bearer <token>`.
    Bearer([u8; 32]),
    /// A token as the last segment of the receiver URL.
    UrlToken([u8; 32]),
}

impl std::fmt::Debug for StaticCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            StaticCredential::Basic(_) => "Basic",
            StaticCredential::Bearer(_) => "Bearer",
            StaticCredential::UrlToken(_) => "UrlToken",
        };
        write!(f, "StaticCredential::{kind}(<redacted>)")
    }
}

impl StaticCredential {
    /// Builds a Basic credential from the user name and password given to the vendor.
    pub fn basic(user: &str, password: &[u8]) -> Self {
        let mut pair = user.as_bytes().to_vec();
        pair.push(b':');
        pair.extend_from_slice(password);
        StaticCredential::Basic(sha256(&pair))
    }

    /// Builds a bearer credential from the token given to the vendor.
    pub fn bearer(token: &[u8]) -> Self {
        StaticCredential::Bearer(sha256(token))
    }

    /// Builds a URL token credential.
    pub fn url_token(token: &[u8]) -> Self {
        StaticCredential::UrlToken(sha256(token))
    }
}

/// The keys and credentials that one tenant's connection to one vendor accepts. Several
/// entries may be configured at once, so a new key can be added before the vendor
/// switches to it and the old one removed after.
#[derive(Debug, Default)]
pub struct Credentials {
    /// HMAC keys, for the vendors that sign.
    pub keys: Vec<NamedSecret>,
    /// Static credentials with their names, for the vendors that do not sign.
    pub statics: Vec<(String, StaticCredential)>,
    /// The networks deliveries may come from. Empty means any address.
    pub allowed_networks: Vec<IpNet>,
}

/// A delivery that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The name of the key or credential that matched.
    pub key_id: String,
}

/// The HMAC digest a vendor uses.
#[derive(Debug, Clone, Copy)]
pub enum HmacAlgorithm {
    /// HMAC-SHA256, 32-byte tags.
    Sha256,
    /// HMAC-SHA512, 64-byte tags.
    Sha512,
}

impl HmacAlgorithm {
    fn ring(self) -> hmac::Algorithm {
        match self {
            HmacAlgorithm::Sha256 => hmac::HMAC_SHA256,
            HmacAlgorithm::Sha512 => hmac::HMAC_SHA512,
        }
    }

    /// Returns the tag length in bytes.
    pub fn tag_len(self) -> usize {
        match self {
            HmacAlgorithm::Sha256 => 32,
            HmacAlgorithm::Sha512 => 64,
        }
    }
}

/// The encoding of a vendor's tag in its header.
#[derive(Debug, Clone, Copy)]
pub enum TagEncoding {
    /// Hexadecimal, either case.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// Reads a header as visible ASCII, or rejects the delivery as missing it.
pub fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, Rejection> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or(Rejection::MissingHeader { header: name })
}

/// Decodes the tag in header `name` and checks it against the HMAC of `message` under
/// every configured key. Returns the id of the matching key.
pub fn verify_hmac(
    credentials: &Credentials,
    algorithm: HmacAlgorithm,
    encoding: TagEncoding,
    name: &'static str,
    sent: &str,
    message: &[&[u8]],
) -> Result<Verified, Rejection> {
    if credentials.keys.is_empty() {
        return Err(Rejection::NotConfigured);
    }
    let (decoded, expected) = match encoding {
        TagEncoding::Hex => (hex::decode(sent).ok(), "lowercase hex of the HMAC"),
        TagEncoding::Base64 => (STANDARD.decode(sent).ok(), "the base64 of the HMAC"),
    };
    let tag = decoded
        .filter(|tag| tag.len() == algorithm.tag_len())
        .ok_or(Rejection::MalformedSignature { header: name, expected })?;

    // Every key is tried, so the time taken does not show which key matched.
    let mut matched: Option<&str> = None;
    for key in &credentials.keys {
        let mut context = hmac::Context::with_key(&hmac::Key::new(algorithm.ring(), &key.secret));
        for part in message {
            context.update(part);
        }
        let computed = context.sign();
        if bool::from(computed.as_ref().ct_eq(&tag)) && matched.is_none() {
            matched = Some(&key.id);
        }
    }
    matched.map(|id| Verified { key_id: id.to_owned() }).ok_or(Rejection::SignatureMismatch)
}

/// Checks the sender's address against the allowed networks, then the `Authorization`
/// header or the URL token against the static credentials.
pub fn verify_static(
    credentials: &Credentials,
    delivery: &Delivery<'_>,
) -> Result<Verified, Rejection> {
    check_network(credentials, delivery.peer)?;
    if credentials.statics.is_empty() {
        return Err(Rejection::NotConfigured);
    }
    let authorization =
        delivery.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok()).map(str::trim);
    let sent_basic = authorization
        .and_then(|value| scheme_value(value, "basic"))
        .and_then(|value| STANDARD.decode(value).ok().map(|pair| sha256(&pair)));
    let sent_bearer = authorization
        .and_then(|value| scheme_value(value, "bearer"))
        .map(|token| sha256(token.as_bytes()));
    let sent_token = delivery.url_token.map(|token| sha256(token.as_bytes()));
    if sent_basic.is_none() && sent_bearer.is_none() && sent_token.is_none() {
        return Err(Rejection::MissingCredential);
    }

    let mut matched: Option<&str> = None;
    for (id, credential) in &credentials.statics {
        let (sent, configured) = match credential {
            StaticCredential::Basic(digest) => (sent_basic.as_ref(), digest),
            StaticCredential::Bearer(digest) => (sent_bearer.as_ref(), digest),
            StaticCredential::UrlToken(digest) => (sent_token.as_ref(), digest),
        };
        let equal = sent.is_some_and(|sent| bool::from(sent.ct_eq(configured)));
        if equal && matched.is_none() {
            matched = Some(id);
        }
    }
    matched.map(|id| Verified { key_id: id.to_owned() }).ok_or(Rejection::CredentialMismatch)
}

/// Rejects a peer outside the allowed networks; an unknown peer is rejected when a list
/// is configured.
pub fn check_network(credentials: &Credentials, peer: Option<IpAddr>) -> Result<(), Rejection> {
    if credentials.allowed_networks.is_empty() {
        return Ok(());
    }
    let allowed = peer.is_some_and(|peer| {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        credentials.allowed_networks.iter().any(|network| network.contains(&peer))
    });
    if allowed { Ok(()) } else { Err(Rejection::SourceNotAllowed) }
}

/// Returns the value after an authorization scheme, which RFC 9110 makes case-insensitive.
fn scheme_value<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (sent_scheme, value) = header.split_once(' ')?;
    sent_scheme.eq_ignore_ascii_case(scheme).then(|| value.trim()).filter(|v| !v.is_empty())
}

/// Returns the SHA-256 digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0_u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn credentials() -> Credentials {
        Credentials {
            keys: Vec::new(),
            statics: vec![
                ("basic".into(), StaticCredential::basic("user", b"pass")),
                ("bearer".into(), StaticCredential::bearer(b"token-1")),
            ],
            allowed_networks: vec!["192.0.2.0/24".parse().unwrap_or_else(|_| IpNet::default())],
        }
    }

    fn delivery<'a>(headers: &'a HeaderMap, peer: &str) -> Delivery<'a> {
        Delivery { headers, body: b"", peer: peer.parse().ok(), url_token: None }
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer token-1"));
        let verified = verify_static(&credentials(), &delivery(&headers, "192.0.2.7"));
        assert_eq!(verified.map(|v| v.key_id), Ok("bearer".to_owned()));
    }

    #[test]
    fn mapped_ipv6_peer_matches_ipv4_network() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer token-1"));
        let verified = verify_static(&credentials(), &delivery(&headers, "::ffff:192.0.2.7"));
        assert!(verified.is_ok());
    }

    #[test]
    fn peer_outside_networks_rejected() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer token-1"));
        let rejected = verify_static(&credentials(), &delivery(&headers, "198.51.100.1"));
        assert_eq!(rejected, Err(Rejection::SourceNotAllowed));
        let unknown = verify_static(&credentials(), &delivery(&headers, "not an address"));
        assert_eq!(unknown, Err(Rejection::SourceNotAllowed));
    }

    #[test]
    fn basic_with_wrong_password_rejected() {
        let mut headers = HeaderMap::new();
        let wrong = format!("Basic {}", STANDARD.encode("user:pasS"));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&wrong).unwrap_or(HeaderValue::from_static("x")),
        );
        let rejected = verify_static(&credentials(), &delivery(&headers, "192.0.2.7"));
        assert_eq!(rejected, Err(Rejection::CredentialMismatch));
    }

    #[test]
    fn missing_authorization_rejected() {
        let headers = HeaderMap::new();
        let rejected = verify_static(&credentials(), &delivery(&headers, "192.0.2.7"));
        assert_eq!(rejected, Err(Rejection::MissingCredential));
    }
}
